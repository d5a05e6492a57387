#include "http/body_framer.h"

#include <algorithm>

namespace xgress::http {

void BodyFramer::start(BodyKind kind, std::uint64_t content_length) {
    kind_ = kind;
    remaining_ = 0;
    size_digits_ = 0;
    switch (kind) {
        case BodyKind::None: state_ = State::Done; break;
        case BodyKind::ContentLength:
            remaining_ = content_length;
            state_ = content_length == 0 ? State::Done : State::Length;
            break;
        case BodyKind::Chunked: state_ = State::ChunkSize; break;
        case BodyKind::UntilClose: state_ = State::UntilClose; break;
    }
}

namespace {
int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
}  // namespace

std::expected<std::size_t, std::string_view> BodyFramer::consume(std::string_view data) {
    std::size_t i = 0;
    const std::size_t n = data.size();
    while (i < n && state_ != State::Done) {
        const char c = data[i];
        switch (state_) {
            case State::Done: break;
            case State::UntilClose: return n;
            case State::Length: {
                std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, n - i));
                remaining_ -= take;
                i += take;
                if (remaining_ == 0) state_ = State::Done;
                break;
            }
            case State::ChunkSize: {
                int h = hex_value(c);
                if (h >= 0) {
                    if (++size_digits_ > 15) return std::unexpected("chunk size too large");
                    remaining_ = remaining_ * 16 + static_cast<unsigned>(h);
                } else if (size_digits_ == 0) {
                    return std::unexpected("bad chunk size");
                } else if (c == ';' || c == ' ' || c == '\t') {
                    state_ = State::ChunkExt;
                } else if (c == '\r') {
                    state_ = State::ChunkSizeLf;
                } else {
                    return std::unexpected("bad chunk size");
                }
                ++i;
                break;
            }
            case State::ChunkExt:
                if (c == '\r') state_ = State::ChunkSizeLf;
                else if (c == '\n' || (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
                    return std::unexpected("bad chunk extension");
                ++i;
                break;
            case State::ChunkSizeLf:
                if (c != '\n') return std::unexpected("bare CR in chunk size line");
                ++i;
                size_digits_ = 0;
                state_ = remaining_ == 0 ? State::TrailerStart : State::ChunkData;
                break;
            case State::ChunkData: {
                std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, n - i));
                remaining_ -= take;
                i += take;
                if (remaining_ == 0) state_ = State::ChunkDataCr;
                break;
            }
            case State::ChunkDataCr:
                if (c != '\r') return std::unexpected("missing CRLF after chunk");
                ++i;
                state_ = State::ChunkDataLf;
                break;
            case State::ChunkDataLf:
                if (c != '\n') return std::unexpected("missing CRLF after chunk");
                ++i;
                state_ = State::ChunkSize;
                break;
            case State::TrailerStart:
                ++i;
                if (c == '\r') state_ = State::FinalLf;
                else if (c == '\n') return std::unexpected("bare LF in trailer");
                else state_ = State::TrailerLine;
                break;
            case State::TrailerLine:
                if (c == '\r') state_ = State::TrailerLineLf;
                else if (c == '\n') return std::unexpected("bare LF in trailer");
                ++i;
                break;
            case State::TrailerLineLf:
                if (c != '\n') return std::unexpected("bare CR in trailer");
                ++i;
                state_ = State::TrailerStart;
                break;
            case State::FinalLf:
                if (c != '\n') return std::unexpected("bare CR after last chunk");
                ++i;
                state_ = State::Done;
                break;
        }
    }
    return i;
}

}  // namespace xgress::http
