// Tracks where a streamed message body ends, without buffering it: the proxy
// forwards body bytes as they arrive (chunked bodies verbatim) and asks the
// framer how many of them still belong to this message, so the bytes after it
// (a pipelined request, or nothing) are never mistaken for body.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <string_view>

#include "http/message.h"

namespace xgress::http {

class BodyFramer {
public:
    void start(BodyKind kind, std::uint64_t content_length);

    // Returns how many leading bytes of `data` belong to the body (possibly
    // all of them), or an error message for a malformed chunked encoding.
    std::expected<std::size_t, std::string_view> consume(std::string_view data);

    bool done() const { return state_ == State::Done; }
    BodyKind kind() const { return kind_; }

private:
    enum class State : std::uint8_t {
        Done, Length, UntilClose,
        ChunkSize, ChunkExt, ChunkSizeLf, ChunkData, ChunkDataCr, ChunkDataLf,
        TrailerStart, TrailerLine, TrailerLineLf, FinalLf,
    };
    State state_ = State::Done;
    BodyKind kind_ = BodyKind::None;
    std::uint64_t remaining_ = 0;
    unsigned size_digits_ = 0;
};

}  // namespace xgress::http
