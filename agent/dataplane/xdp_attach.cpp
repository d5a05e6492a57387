#include "xdp_attach.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <set>

#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <xdp/libxdp.h>

#include "pin_layout.h"
#include "xgress/bpf_abi.h"
// After bpf_abi.h: the skeleton declares its .bss variable with our types.
#include "xdp_ingress.skel.h"

namespace xgress::agent::dataplane {
namespace {

std::string libxdp_error(int err) {
    char text[256] = {};
    libxdp_strerror(err, text, sizeof(text));
    return text;
}

const char* mode_name(enum xdp_attach_mode mode) {
    switch (mode) {
    case XDP_MODE_NATIVE: return "native";
    case XDP_MODE_SKB: return "skb (generic)";
    case XDP_MODE_HW: return "hw";
    default: return "unspecified";
    }
}

struct MultiprogCloser {
    xdp_multiprog* mp;
    ~MultiprogCloser() { xdp_multiprog__close(mp); }
};

bool is_ours(const xdp_program* prog) {
    return prog && std::strcmp(xdp_program__name(prog), XGRESS_PROG_XDP) == 0;
}

// The multiprog on an interface, or nullptr when it has no XDP program.
xdp_multiprog* multiprog_of(int ifindex) {
    xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(ifindex);
    if (libxdp_get_error(mp)) return nullptr;
    return mp;
}

}  // namespace

std::expected<std::vector<std::string>, Error> interfaces_with_addresses() {
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return std::unexpected(Error{fmt::format("getifaddrs: {}", std::strerror(errno))});
    std::set<std::string> names;
    for (ifaddrs* it = list; it; it = it->ifa_next) {
        if (!it->ifa_addr || (it->ifa_flags & IFF_LOOPBACK)) continue;
        if (it->ifa_addr->sa_family == AF_INET || it->ifa_addr->sa_family == AF_INET6) names.insert(it->ifa_name);
    }
    freeifaddrs(list);
    return std::vector<std::string>(names.begin(), names.end());
}

std::vector<std::string> all_non_loopback_interfaces() {
    std::vector<std::string> names;
    struct if_nameindex* list = if_nameindex();
    if (!list) return names;
    for (struct if_nameindex* it = list; it->if_index != 0; ++it)
        if (std::strcmp(it->if_name, "lo") != 0) names.emplace_back(it->if_name);
    if_freenameindex(list);
    return names;
}

bool xdp_attached(int ifindex) {
    xdp_multiprog* mp = multiprog_of(ifindex);
    if (!mp) return false;
    MultiprogCloser closer{mp};
    if (xdp_multiprog__is_legacy(mp)) return is_ours(xdp_multiprog__main_prog(mp));
    for (xdp_program* prog = xdp_multiprog__next_prog(nullptr, mp); prog; prog = xdp_multiprog__next_prog(prog, mp))
        if (is_ours(prog)) return true;
    return false;
}

std::expected<void, Error> attach_xdp(const std::string& interface, const std::string& pin_root, bool allow_generic) {
    const int ifindex = static_cast<int>(if_nametoindex(interface.c_str()));
    if (ifindex == 0) return std::unexpected(Error{fmt::format("interface {}: not found", interface)});
    if (xdp_attached(ifindex)) {
        spdlog::info("XDP: {} already runs {}, reusing it", interface, XGRESS_PROG_XDP);
        return {};
    }

    LIBBPF_OPTS(bpf_object_open_opts, open_opts, .pin_root_path = pin_root.c_str());
    xdp_ingress_bpf* skel = xdp_ingress_bpf__open_opts(&open_opts);
    if (!skel) return std::unexpected(Error{fmt::format("XDP object open: {}", std::strerror(errno))});
    static_assert(sizeof(*skel->bss) == sizeof(xgress_tables), "the programs' .bss holds only xgress_tables");
    if (int err = pin_tables(skel->maps.bss, PinLayout{pin_root}); err) {
        xdp_ingress_bpf__destroy(skel);
        return std::unexpected(Error{fmt::format("XDP object: pin path of {}: {}", XGRESS_MAP_TABLES, std::strerror(-err))});
    }
    // libxdp borrows the object: close the program before the object goes.
    xdp_program* prog = xdp_program__from_bpf_obj(skel->obj, "xdp");
    if (int err = libxdp_get_error(prog); err) {
        xdp_ingress_bpf__destroy(skel);
        return std::unexpected(Error{fmt::format("XDP program from object: {}", libxdp_error(err))});
    }

    enum xdp_attach_mode mode = XDP_MODE_NATIVE;
    int err = xdp_program__attach(prog, ifindex, mode, 0);
    if (err && allow_generic) {
        spdlog::warn("XDP: native attach on {} failed ({}); falling back to generic (SKB) mode, which is slower",
                     interface, libxdp_error(err));
        mode = XDP_MODE_SKB;
        err = xdp_program__attach(prog, ifindex, mode, 0);
    }
    xdp_program__close(prog);
    xdp_ingress_bpf__destroy(skel);
    if (err) return std::unexpected(Error{fmt::format("XDP attach on {}: {}", interface, libxdp_error(err))});
    spdlog::info("XDP: {} attached to {} in {} mode", XGRESS_PROG_XDP, interface, mode_name(mode));
    return {};
}

std::expected<void, Error> detach_xdp(const std::string& interface) {
    const int ifindex = static_cast<int>(if_nametoindex(interface.c_str()));
    if (ifindex == 0) return {};  // interface gone: its programs went with it
    xdp_multiprog* mp = multiprog_of(ifindex);
    if (!mp) return {};
    MultiprogCloser closer{mp};

    if (xdp_multiprog__is_legacy(mp)) {
        if (!is_ours(xdp_multiprog__main_prog(mp))) return {};
        if (int err = xdp_multiprog__detach(mp); err)
            return std::unexpected(Error{fmt::format("XDP detach on {}: {}", interface, libxdp_error(err))});
        spdlog::info("XDP: detached {} from {}", XGRESS_PROG_XDP, interface);
        return {};
    }
    const enum xdp_attach_mode mode = xdp_multiprog__attach_mode(mp);
    for (xdp_program* prog = xdp_multiprog__next_prog(nullptr, mp); prog; prog = xdp_multiprog__next_prog(prog, mp)) {
        if (!is_ours(prog)) continue;
        if (int err = xdp_program__detach(prog, ifindex, mode, 0); err)
            return std::unexpected(Error{fmt::format("XDP detach on {}: {}", interface, libxdp_error(err))});
        spdlog::info("XDP: detached {} from {}", XGRESS_PROG_XDP, interface);
        return {};
    }
    return {};
}

}  // namespace xgress::agent::dataplane
