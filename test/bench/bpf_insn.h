// One BPF instruction for the benches' hand-assembled programs (the
// calibration programs, the paced sender, the accept-and-close helper): no
// clang object is needed for programs of a few instructions.
#pragma once

#include <linux/bpf.h>

#include <cstdint>

namespace xgress::bench {

inline bpf_insn insn(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off, std::int32_t imm) {
    bpf_insn i{};
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
}

}  // namespace xgress::bench
