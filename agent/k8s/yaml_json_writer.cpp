#include "k8s/yaml_json_writer.h"

#include <simdjson.h>

namespace xgress::agent::k8s {
namespace {

// simdjson refuses documents nested deeper than its parser's maximum (1024).
constexpr std::size_t kMaxDepth = 1000;

}  // namespace

void YamlJsonWriter::start_document() {
    anchors_.clear();
    stack_.clear();
}

void YamlJsonWriter::null(std::size_t anchor) {
    if (!begin_node(false)) return;
    const std::size_t start = out_.size();
    out_ += "null";
    end_node(anchor, start);
}

void YamlJsonWriter::scalar(std::string_view value, std::size_t anchor) {
    if (!begin_node(true)) return;
    const std::size_t start = out_.size();
    write_string(value);
    end_node(anchor, start);
}

void YamlJsonWriter::alias(std::size_t anchor) {
    if (!unsupported_.empty()) return;
    // Ids are unique per document, so one not yet ended is an open node.
    if (anchor >= anchors_.size() || anchors_[anchor].second == 0) {
        unsupported_ = "an alias to a node that contains it (recursive structure)";
        return;
    }
    const auto [start, length] = anchors_[anchor];
    if (!begin_node(out_[start] == '"')) return;
    if (out_.size() + length > limit_) {
        unsupported_ = "aliases expand beyond " + std::to_string(limit_) + " bytes";
        return;
    }
    const std::size_t at = out_.size();
    out_.reserve(at + length);
    out_.append(out_.data() + start, length);
    end_node(0, at);
}

void YamlJsonWriter::open(bool map, std::size_t anchor) {
    if (!begin_node(false)) return;
    if (stack_.size() >= kMaxDepth) {
        unsupported_ = "nested deeper than " + std::to_string(kMaxDepth) + " levels";
        return;
    }
    stack_.push_back(Level{map, true, true, anchor, out_.size()});
    out_ += map ? '{' : '[';
}

void YamlJsonWriter::close() {
    if (!unsupported_.empty()) return;
    const Level level = stack_.back();
    stack_.pop_back();
    out_ += level.map ? '}' : ']';
    end_node(level.anchor, level.start);
}

// Writes the separator before a node; false once the document is unsupported.
bool YamlJsonWriter::begin_node(bool is_string) {
    if (!unsupported_.empty()) return false;
    if (stack_.empty()) return true;
    Level& level = stack_.back();
    if (level.map && level.at_key && !is_string) {
        unsupported_ = "a map key that is not a string (null, map or sequence)";
        return false;
    }
    if (!level.map || level.at_key) {
        if (!level.first) out_ += ',';
        level.first = false;
    }
    return true;
}

// After a complete node: remembers its text for aliases, and writes ':' after a key.
void YamlJsonWriter::end_node(std::size_t anchor, std::size_t start) {
    if (anchor != 0) {
        if (anchors_.size() <= anchor) anchors_.resize(anchor + 1, {0, 0});
        anchors_[anchor] = {start, out_.size() - start};
    }
    if (out_.size() > limit_) unsupported_ = "aliases expand beyond " + std::to_string(limit_) + " bytes";
    if (stack_.empty()) return;
    Level& level = stack_.back();
    if (!level.map) return;
    if (level.at_key) out_ += ':';
    level.at_key = !level.at_key;
}

void YamlJsonWriter::write_string(std::string_view value) {
    static constexpr char kHex[] = "0123456789abcdef";
    bool ascii = true;
    out_ += '"';
    // Runs of bytes that need no escape are copied at once: most scalars are one run.
    std::size_t run = 0;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const auto byte = static_cast<unsigned char>(value[i]);
        if (byte >= 0x20 && byte != '"' && byte != '\\') {
            ascii = ascii && byte < 0x80;
            continue;
        }
        out_.append(value.data() + run, i - run);
        run = i + 1;
        if (byte == '"' || byte == '\\') {
            out_ += '\\';
            out_ += static_cast<char>(byte);
        } else {
            out_ += "\\u00";
            out_ += kHex[byte >> 4];
            out_ += kHex[byte & 15];
        }
    }
    out_.append(value.data() + run, value.size() - run);
    out_ += '"';
    // Parsers pass bytes through (yaml-cpp also encodes "\uD800" escapes as
    // they come); simdjson accepts only valid UTF-8.
    if (!ascii && !simdjson::validate_utf8(value.data(), value.size())) unsupported_ = "a scalar that is not UTF-8";
}

}  // namespace xgress::agent::k8s
