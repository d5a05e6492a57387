// libFuzzer target: the proxy's table decoder (control/table_decoder.h)
// against the codec + RouteTable::build. For any input: both reject with
// the same error text, or both accept and build the same table (routes,
// backends, matches, frontends), also when a serving table is given to
// share unchanged backends with; the fast path never accepts what the
// general path rejects.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "control/table_decoder.h"
#include "../unit/proxy/route_table_compare.h"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
    std::fprintf(stderr, "snapshot_table_fuzzer: %s: %s\n", what, detail.c_str());
    std::abort();
}

void compare(std::string_view json, const xgress::router::RouteTable* previous) {
    using namespace xgress;
    auto fast = control::decode_table_fast(json, previous);
    auto both = control::decode_table(json, previous);
    auto snap = snapshot::decode(json);
    std::expected<std::shared_ptr<const router::RouteTable>, std::string> built =
        snap ? router::RouteTable::build(*snap, previous) : std::unexpected(snap.error());
    if (!built) {
        if (fast) fail("fast path accepted what the codec + build reject", built.error());
        if (both) fail("decode_table accepted what the codec + build reject", built.error());
        if (both.error() != built.error()) fail("different error", both.error() + " | " + built.error());
        return;
    }
    if (!both) fail("decode_table rejected what the codec + build accept", both.error());
    if (auto d = table_check::route_table_difference(**built, *both->table, *snap); !d.empty()) fail("tables differ", d);
    if (fast) {
        if (auto d = table_check::route_table_difference(**built, *fast->table, *snap); !d.empty()) fail("fast table differs", d);
        if (fast->rest.certificates != snap->certificates || fast->rest.default_certificate != snap->default_certificate ||
            fast->rest.version != snap->version)
            fail("fast path's certificates or version differ", "");
        for (std::uint32_t i = 0; previous && i < (*built)->backends().size(); ++i) {
            const std::uint32_t at = previous->find_backend((*built)->backends()[i].name);
            const auto* old = at == router::kNoBackend ? nullptr : previous->backend_identity(at);
            if (((*built)->backend_identity(i) == old) != (fast->table->backend_identity(i) == old))
                fail("backend sharing differs", (*built)->backends()[i].name);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view json(reinterpret_cast<const char*>(data), size);
    compare(json, nullptr);
    // Again against a serving table built from the same document: every
    // backend unchanged, so shared.
    if (auto first = xgress::control::decode_table(json, nullptr)) compare(json, first->table.get());
    return 0;
}
