#include "tls/ktls_probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#ifndef TCP_ULP
#define TCP_ULP 31
#endif

namespace xgress::tls {

KtlsProbe probe_ktls() {
    KtlsProbe probe;
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listener < 0 || client < 0 || bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listener, 1) != 0 || getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
        connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        probe.error = errno;
        probe.detail = fmt::format("kTLS probe could not open a loopback connection: {}", std::strerror(errno));
    } else if (setsockopt(client, IPPROTO_TCP, TCP_ULP, "tls", sizeof "tls") != 0) {
        probe.error = errno;
        probe.detail = fmt::format("kernel has no tls ULP: setsockopt(TCP_ULP, \"tls\") failed with {} ({})",
                                   std::strerror(errno), probe.error == ENOENT ? "ENOENT: CONFIG_TLS not built/loaded" : "");
    } else {
        probe.available = true;
        probe.detail = "kernel accepts the tls ULP";
    }
    if (client >= 0) close(client);
    if (listener >= 0) close(listener);
    return probe;
}

}  // namespace xgress::tls
