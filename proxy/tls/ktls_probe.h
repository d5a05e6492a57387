// Whether the kernel can take over TLS record encryption (kTLS) on this host:
// setsockopt(TCP_ULP, "tls") on a connected loopback socket. Kernels without
// the tls module (CONFIG_TLS) answer ENOENT; then --ktls auto stays in user
// space and --ktls on is refused at start-up.
#pragma once

#include <string>

namespace xgress::tls {

struct KtlsProbe {
    bool available = false;
    int error = 0;          // errno of the failed setsockopt (ENOENT: no tls ULP)
    std::string detail;     // for the start-up log
};

// Opens a loopback connection, so it is called once at start-up, not per connection.
KtlsProbe probe_ktls();

}  // namespace xgress::tls
