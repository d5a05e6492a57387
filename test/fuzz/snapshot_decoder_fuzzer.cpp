// libFuzzer target: the snapshot decoder. Anything it accepts must survive
// an encode/decode round trip unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "xgress/snapshot.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto snap = xgress::snapshot::decode(std::string_view(reinterpret_cast<const char*>(data), size));
    if (!snap) return 0;
    auto again = xgress::snapshot::decode(xgress::snapshot::encode(*snap));
    if (!again || !(*again == *snap)) std::abort();
    return 0;
}
