// Where things live under the pin root, and which bpffs libxdp uses.
//
//   <pin_root>/<map name>          maps, pinned by name (bpf_abi.h XGRESS_MAP_*)
//   <pin_root>/tables              the programs' global data (.bss), pinned
//                                  by path (libbpf pins only .maps by name)
//   <pin_root>/links/sk_lookup     the sk_lookup netns link
//
// libxdp keeps its dispatcher state in $LIBXDP_BPFFS/xdp. When the variable is
// unset we choose: the parent of pin_root if that is a bpffs itself (the
// usual layout: /sys/fs/bpf/xgress -> /sys/fs/bpf, lab: .../bpffs/xgress ->
// .../bpffs, so other XDP tools on the node find the same dispatcher), else
// pin_root itself.
#pragma once

#include <expected>
#include <string>
#include <vector>

#include "dataplane.h"

struct bpf_map;

namespace xgress::agent::dataplane {

struct PinLayout {
    std::string root;
    std::string links_dir() const { return root + "/links"; }
    std::string sk_lookup_link() const { return links_dir() + "/sk_lookup"; }
    std::string map(const char* name) const { return root + "/" + name; }
};

// Every map name the agent pins (the files cleanup removes).
const std::vector<const char*>& pinned_map_names();

// Maps older ABI versions pinned and this one no longer has (e.g.
// nodeport_frontends, ABI 4-7): an ABI migration moves their pins aside with
// the rest; --cleanup removes them too, whichever agent version left them.
const std::vector<const char*>& retired_map_names();

bool is_bpffs(const std::string& path);

// Gives an opened object's .bss map (xgress_tables, ABI 9) its pin path, so
// loading reuses the pinned tables or creates and pins them. Returns 0 or a
// negative errno.
int pin_tables(bpf_map* bss, const PinLayout& layout);

// Creates pin_root (and parents) and checks it is on a bpffs.
std::expected<void, Error> prepare_pin_root(const std::string& pin_root);

// Sets LIBXDP_BPFFS as described above unless already set; returns its value.
std::string choose_libxdp_bpffs(const std::string& pin_root);

}  // namespace xgress::agent::dataplane
