// Moving aside the pinned maps of another ABI version (bpf_abi.h
// XGRESS_ABI_VERSION), so that a new agent can create maps of its own layout
// while the old programs, still attached, keep serving from the old maps
// (they hold references; the pins are only names). The caller then loads
// fresh maps, swaps the programs over and removes the moved-aside pins.
//
// What is lost: counters and the frontend ids (the frontends themselves are
// repopulated from the desired state right after open()).
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>

#include "dataplane.h"
#include "pin_layout.h"

namespace xgress::agent::dataplane {

// The ABI version the pinned abi_info map records; nullopt when nothing is
// pinned (first start) or the entry is still zero.
std::optional<std::uint32_t> pinned_abi_version(const PinLayout& layout);

// Renames every pinned map under layout.root into layout.root/old-abi-<v>/
// (same bpffs, so a rename). Returns that directory.
std::expected<std::string, Error> move_pins_aside(const PinLayout& layout, std::uint32_t old_version);

// Unlinks every pin in an old-abi-* directory and the directory itself;
// returns what it could not remove (empty = all gone).
std::string remove_moved_pins(const std::string& directory);

// Every old-abi-* directory under the pin root (cleanup removes them too).
std::vector<std::string> moved_pin_directories(const PinLayout& layout);

}  // namespace xgress::agent::dataplane
