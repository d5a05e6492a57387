#include "local_routes.h"

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace xgress::agent::dataplane {
namespace {

std::unexpected<Error> fail(std::string message) { return std::unexpected(Error{std::move(message)}); }

std::string text(const IpAddress& address) {
    char out[INET6_ADDRSTRLEN] = {};
    inet_ntop(address.v6 ? AF_INET6 : AF_INET, address.bytes.data(), out, sizeof(out));
    return out;
}

// One rtnetlink socket per operation; closed on scope exit.
class RouteSocket {
public:
    static std::expected<RouteSocket, Error> open() {
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0) return fail(fmt::format("rtnetlink socket: {}", std::strerror(errno)));
        return RouteSocket(fd);
    }
    RouteSocket(RouteSocket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    ~RouteSocket() {
        if (fd_ >= 0) close(fd_);
    }

    // Sends one request and reads replies until the ACK (or DONE for a dump),
    // handing every RTM_NEWROUTE message to `on_route`.
    template <typename OnRoute>
    std::expected<void, Error> transact(nlmsghdr* request, OnRoute&& on_route) {
        request->nlmsg_seq = ++seq_;
        if (send(fd_, request, request->nlmsg_len, 0) < 0)
            return fail(fmt::format("rtnetlink send: {}", std::strerror(errno)));
        std::array<char, 32768> buffer{};
        for (;;) {
            const ssize_t n = recv(fd_, buffer.data(), buffer.size(), 0);
            if (n < 0) {
                if (errno == EINTR) continue;
                return fail(fmt::format("rtnetlink recv: {}", std::strerror(errno)));
            }
            int remaining = static_cast<int>(n);
            for (auto* msg = reinterpret_cast<nlmsghdr*>(buffer.data()); NLMSG_OK(msg, remaining);
                 msg = NLMSG_NEXT(msg, remaining)) {
                if (msg->nlmsg_seq != seq_) continue;
                if (msg->nlmsg_type == NLMSG_DONE) return {};
                if (msg->nlmsg_type == NLMSG_ERROR) {
                    const auto* err = static_cast<const nlmsgerr*>(NLMSG_DATA(msg));
                    if (err->error == 0) return {};
                    errno = -err->error;
                    return fail(std::strerror(-err->error));
                }
                if (msg->nlmsg_type == RTM_NEWROUTE) on_route(msg);
            }
        }
    }

private:
    explicit RouteSocket(int fd) : fd_(fd) {}
    int fd_;
    std::uint32_t seq_ = 0;
};

struct RouteRequest {
    nlmsghdr header;
    rtmsg route;
    char attributes[128];
};

void add_attribute(RouteRequest& request, unsigned short type, const void* data, std::size_t length) {
    auto* attr = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&request) + NLMSG_ALIGN(request.header.nlmsg_len));
    attr->rta_type = type;
    attr->rta_len = static_cast<unsigned short>(RTA_LENGTH(length));
    std::memcpy(RTA_DATA(attr), data, length);
    request.header.nlmsg_len = NLMSG_ALIGN(request.header.nlmsg_len) + RTA_ALIGN(attr->rta_len);
}

RouteRequest local_route_request(std::uint16_t type, std::uint16_t flags, const IpAddress& address) {
    RouteRequest request{};
    request.header.nlmsg_len = NLMSG_LENGTH(sizeof(rtmsg));
    request.header.nlmsg_type = type;
    request.header.nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
    request.route.rtm_family = address.v6 ? AF_INET6 : AF_INET;
    request.route.rtm_dst_len = address.v6 ? 128 : 32;
    request.route.rtm_table = RT_TABLE_LOCAL;
    request.route.rtm_protocol = kXgressRouteProtocol;
    request.route.rtm_scope = RT_SCOPE_HOST;
    request.route.rtm_type = RTN_LOCAL;
    add_attribute(request, RTA_DST, address.bytes.data(), address.v6 ? 16 : 4);
    const std::uint32_t lo = if_nametoindex("lo");
    add_attribute(request, RTA_OIF, &lo, sizeof(lo));
    return request;
}

}  // namespace

std::expected<std::vector<IpAddress>, Error> xgress_local_routes() {
    auto sock = RouteSocket::open();
    if (!sock) return std::unexpected(sock.error());
    std::vector<IpAddress> found;
    for (const int family : {AF_INET, AF_INET6}) {
        RouteRequest request{};
        request.header.nlmsg_len = NLMSG_LENGTH(sizeof(rtmsg));
        request.header.nlmsg_type = RTM_GETROUTE;
        request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        request.route.rtm_family = static_cast<unsigned char>(family);
        auto dumped = sock->transact(&request.header, [&](nlmsghdr* msg) {
            const auto* route = static_cast<const rtmsg*>(NLMSG_DATA(msg));
            if (route->rtm_protocol != kXgressRouteProtocol || route->rtm_type != RTN_LOCAL) return;
            std::uint32_t table = route->rtm_table;
            IpAddress address;
            address.v6 = route->rtm_family == AF_INET6;
            bool has_dst = false;
            int length = static_cast<int>(RTM_PAYLOAD(msg));
            for (auto* attr = RTM_RTA(route); RTA_OK(attr, length); attr = RTA_NEXT(attr, length)) {
                if (attr->rta_type == RTA_TABLE) std::memcpy(&table, RTA_DATA(attr), sizeof(table));
                if (attr->rta_type == RTA_DST && RTA_PAYLOAD(attr) == (address.v6 ? 16u : 4u)) {
                    std::memcpy(address.bytes.data(), RTA_DATA(attr), RTA_PAYLOAD(attr));
                    has_dst = true;
                }
            }
            if (table == RT_TABLE_LOCAL && has_dst) found.push_back(address);
        });
        if (!dumped) return fail(fmt::format("dump routes: {}", dumped.error().message));
    }
    return found;
}

std::expected<void, Error> sync_local_routes(const std::vector<IpAddress>& addresses,
                                             std::optional<std::set<IpAddress>>& owned) {
    // Unknown (or possibly half-changed: a failure returns with it unset): ask the kernel.
    if (!owned) {
        auto current = xgress_local_routes();
        if (!current) return std::unexpected(current.error());
        owned.emplace(current->begin(), current->end());
    }
    std::set<IpAddress> want(addresses.begin(), addresses.end());
    if (want == *owned) return {};
    std::vector<IpAddress> add, remove;
    for (const auto& address : want)
        if (!owned->contains(address)) add.push_back(address);
    for (const auto& address : *owned)
        if (!want.contains(address)) remove.push_back(address);
    return change_local_routes(add, remove, owned);
}

std::expected<void, Error> change_local_routes(const std::vector<IpAddress>& add,
                                               const std::vector<IpAddress>& remove,
                                               std::optional<std::set<IpAddress>>& owned) {
    std::optional<std::set<IpAddress>> have = std::exchange(owned, std::nullopt);
    if (!have) return fail("local routes: nothing known to change from");
    std::optional<RouteSocket> sock;
    auto open_socket = [&]() -> std::expected<void, Error> {
        if (sock) return {};
        auto opened = RouteSocket::open();
        if (!opened) return std::unexpected(opened.error());
        sock.emplace(std::move(*opened));
        return {};
    };
    for (const auto& address : add) {
        if (have->contains(address)) continue;
        if (auto ok = open_socket(); !ok) return ok;
        auto request = local_route_request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, address);
        auto added = sock->transact(&request.header, [](nlmsghdr*) {});
        if (!added && errno != EEXIST)
            return fail(fmt::format("add local route {}: {}", text(address), added.error().message));
        have->insert(address);
        spdlog::info("local route for VIP {} added", text(address));
    }
    for (const auto& address : remove) {
        if (!have->contains(address)) continue;
        if (auto ok = open_socket(); !ok) return ok;
        auto request = local_route_request(RTM_DELROUTE, 0, address);
        auto removed = sock->transact(&request.header, [](nlmsghdr*) {});
        if (!removed && errno != ESRCH)
            return fail(fmt::format("remove local route {}: {}", text(address), removed.error().message));
        have->erase(address);
        spdlog::info("local route for VIP {} removed", text(address));
    }
    owned = std::move(have);
    return {};
}

std::expected<void, Error> sync_local_routes(const std::vector<IpAddress>& addresses) {
    std::optional<std::set<IpAddress>> unknown;
    return sync_local_routes(addresses, unknown);
}

std::expected<void, Error> remove_local_routes() { return sync_local_routes({}); }

}  // namespace xgress::agent::dataplane
