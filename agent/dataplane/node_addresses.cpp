// local_node_addresses(): the addresses NodePort frontends match on.
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "dataplane.h"

namespace xgress::agent::dataplane {

std::expected<std::vector<IpAddress>, Error> local_node_addresses() {
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return std::unexpected(Error{fmt::format("getifaddrs: {}", std::strerror(errno))});
    std::vector<IpAddress> out;
    for (ifaddrs* it = list; it; it = it->ifa_next) {
        if (!it->ifa_addr || (it->ifa_flags & IFF_LOOPBACK)) continue;
        IpAddress address;
        if (it->ifa_addr->sa_family == AF_INET) {
            const auto* sin = reinterpret_cast<const sockaddr_in*>(it->ifa_addr);
            std::memcpy(address.bytes.data(), &sin->sin_addr, 4);
        } else if (it->ifa_addr->sa_family == AF_INET6) {
            const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(it->ifa_addr);
            if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr)) continue;  // never a NodePort destination
            address.v6 = true;
            std::memcpy(address.bytes.data(), &sin6->sin6_addr, 16);
        } else {
            continue;
        }
        out.push_back(address);
    }
    freeifaddrs(list);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

}  // namespace xgress::agent::dataplane
