// Writes one YAML document's events as JSON text, whichever parser produced
// the events: libfyaml (the fast path, yaml_to_json_libfyaml.cpp) or
// yaml-cpp's event parser (the reference and fallback, yaml_to_json.cpp).
// Both drive this one writer, so both give byte-identical JSON for the same
// events; the rules (nulls, scalars as written, aliases replayed, what is
// unsupported) are described in yaml_to_json.h.
//
// Anchors are numbered by the caller as yaml-cpp numbers them: 1, 2, ... per
// document in the order nodes start (0 = no anchor), so an alias names the
// node the last anchor of that name *started* before it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xgress::agent::k8s {

// Aliases are replayed as text; a few kinds of reuse are fine, an
// exponential fan-out ("billion laughs") is not (yaml-cpp's nodes share it).
inline std::size_t alias_expansion_limit(std::size_t text_size) {
    return std::max<std::size_t>(std::size_t{1} << 20, text_size * 16);
}

class YamlJsonWriter {
public:
    // Appends to `out`; aliases may not grow the text past `limit` bytes.
    YamlJsonWriter(std::string& out, std::size_t limit) : out_(out), limit_(limit) {}

    // Empty while the events can be written as JSON; afterwards why not.
    const std::string& unsupported() const { return unsupported_; }

    void start_document();
    void null(std::size_t anchor);
    void scalar(std::string_view value, std::size_t anchor);
    void alias(std::size_t anchor);  // an anchor id the writer has not seen is unsupported
    void open(bool map, std::size_t anchor);
    void close();

private:
    struct Level {
        bool map = false;
        bool at_key = true;  // maps: the next node is a key
        bool first = true;
        std::size_t anchor = 0;
        std::size_t start = 0;
    };

    bool begin_node(bool is_string);
    void end_node(std::size_t anchor, std::size_t start);
    void write_string(std::string_view value);

    std::string& out_;
    const std::size_t limit_;
    std::vector<Level> stack_;
    std::vector<std::pair<std::size_t, std::size_t>> anchors_;  // by anchor id: offset, length (0: still open)
    std::string unsupported_;
};

}  // namespace xgress::agent::k8s
