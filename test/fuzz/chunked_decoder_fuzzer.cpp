// libFuzzer target: the chunked body decoder (BodyFramer). The proxy feeds it
// whatever bytes each receive brings, so the answer must not depend on where
// the input is split: the same input fed whole and fed in pieces (cut points
// taken from the first bytes) must end at the same byte with the same
// verdict, and never claim more bytes than it was given.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/body_framer.h"

using namespace xgress::http;

namespace {

struct Outcome {
    bool error = false;
    bool done = false;
    std::size_t consumed = 0;
};

Outcome run(std::string_view body, const std::uint8_t* cuts, std::size_t ncuts) {
    BodyFramer f;
    f.start(BodyKind::Chunked, 0);
    Outcome o;
    std::size_t pos = 0;
    std::size_t k = 0;
    while (pos < body.size() && !f.done()) {
        std::size_t piece = body.size() - pos;
        if (k < ncuts) piece = std::min<std::size_t>(piece, 1 + cuts[k++] % 16);
        auto n = f.consume(body.substr(pos, piece));
        if (!n) {
            o.error = true;
            return o;
        }
        if (*n > piece) std::abort();
        pos += *n;
        if (*n < piece && !f.done()) std::abort();  // stopping early is only allowed at the end
    }
    o.done = f.done();
    o.consumed = pos;
    return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::size_t ncuts = std::min<std::size_t>(data[0] % 8, size - 1);
    const std::uint8_t* cuts = data + 1;
    std::string_view body(reinterpret_cast<const char*>(data + 1 + ncuts), size - 1 - ncuts);
    Outcome whole = run(body, nullptr, 0);
    Outcome split = run(body, cuts, ncuts);
    if (whole.error != split.error) std::abort();
    if (!whole.error && (whole.done != split.done || whole.consumed != split.consumed)) std::abort();
    return 0;
}
