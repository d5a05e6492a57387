#include "k8s/yaml_to_json.h"

#include <spanstream>

#include <simdjson.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

namespace xgress::agent::k8s {
namespace {

// simdjson refuses documents nested deeper than its parser's maximum (1024).
constexpr std::size_t kMaxDepth = 1000;

// Writes one document's events as JSON into `out` (appending).
class JsonWriter final : public YAML::EventHandler {
public:
    JsonWriter(std::string& out, std::size_t limit) : out_(out), limit_(limit) {}

    const std::string& unsupported() const { return unsupported_; }
    const YAML::Mark& document_start() const { return document_start_; }

    void OnDocumentStart(const YAML::Mark& mark) override {
        document_start_ = mark;
        anchors_.clear();
        stack_.clear();
    }
    void OnDocumentEnd() override {}

    void OnNull(const YAML::Mark&, YAML::anchor_t anchor) override {
        if (!begin_node(false)) return;
        const std::size_t start = out_.size();
        out_ += "null";
        end_node(anchor, start);
    }

    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t anchor, const std::string& value) override {
        if (!begin_node(true)) return;
        const std::size_t start = out_.size();
        write_string(value);
        end_node(anchor, start);
    }

    void OnAlias(const YAML::Mark&, YAML::anchor_t anchor) override {
        if (!unsupported_.empty()) return;
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

    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                         YAML::EmitterStyle::value) override {
        open(false, anchor);
    }
    void OnSequenceEnd() override { close(']'); }
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
        open(true, anchor);
    }
    void OnMapEnd() override { close('}'); }

private:
    struct Level {
        bool map = false;
        bool at_key = true;  // maps: the next node is a key
        bool first = true;
        YAML::anchor_t anchor = 0;
        std::size_t start = 0;
    };

    // Writes the separator before a node; false once the file is unsupported.
    bool begin_node(bool is_string) {
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
    void end_node(YAML::anchor_t anchor, std::size_t start) {
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

    void open(bool map, YAML::anchor_t anchor) {
        if (!begin_node(false)) return;
        if (stack_.size() >= kMaxDepth) {
            unsupported_ = "nested deeper than " + std::to_string(kMaxDepth) + " levels";
            return;
        }
        stack_.push_back(Level{map, true, true, anchor, out_.size()});
        out_ += map ? '{' : '[';
    }

    void close(char bracket) {
        if (!unsupported_.empty()) return;
        const Level level = stack_.back();
        stack_.pop_back();
        out_ += bracket;
        end_node(level.anchor, level.start);
    }

    void write_string(const std::string& value) {
        static constexpr char kHex[] = "0123456789abcdef";
        bool ascii = true;
        out_ += '"';
        for (const char c : value) {
            const auto byte = static_cast<unsigned char>(c);
            if (byte == '"' || byte == '\\') {
                out_ += '\\';
                out_ += c;
            } else if (byte < 0x20) {
                out_ += "\\u00";
                out_ += kHex[byte >> 4];
                out_ += kHex[byte & 15];
            } else {
                ascii = ascii && byte < 0x80;
                out_ += c;
            }
        }
        out_ += '"';
        // yaml-cpp passes bytes through (and encodes "\uD800" escapes as
        // they come); simdjson accepts only valid UTF-8.
        if (!ascii && !simdjson::validate_utf8(value.data(), value.size())) unsupported_ = "a scalar that is not UTF-8";
    }

    std::string& out_;
    const std::size_t limit_;
    std::vector<Level> stack_;
    std::vector<std::pair<std::size_t, std::size_t>> anchors_;  // by anchor id: offset, length (0: still open)
    std::string unsupported_;
    YAML::Mark document_start_ = YAML::Mark::null_mark();
};

}  // namespace

YamlAsJson yaml_to_json(std::string_view yaml) {
    YamlAsJson result;
    // Aliases are replayed as text; a few kinds of reuse are fine, an
    // exponential fan-out is not (yaml-cpp's nodes share it instead).
    const std::size_t limit = std::max<std::size_t>(std::size_t{1} << 20, yaml.size() * 16);
    result.text.reserve(yaml.size() + yaml.size() / 4 + 64);
    std::ispanstream stream(std::span<const char>(yaml.data(), yaml.size()));
    std::size_t document = 0;
    int previous_start = -1;
    std::string discarded;  // documents after an unsupported one: scanned, not kept
    try {
        YAML::Parser parser(stream);
        for (;;) {
            ++document;
            std::string& out = result.unsupported.empty() ? result.text : discarded;
            discarded.clear();
            JsonWriter writer(out, limit);
            const std::size_t start = out.size();
            if (!parser.HandleNextDocument(writer)) break;
            // yaml-cpp 0.7 can return the same document forever on some
            // malformed input (found by the fuzzer; YAML::LoadAll then grows
            // without bound): a document must start past the previous one.
            if (writer.document_start().pos <= previous_start) {
                const YAML::Mark& at = writer.document_start();
                result.error = YamlSyntaxError{document, static_cast<std::size_t>(at.line + 1),
                                               static_cast<std::size_t>(at.column + 1),
                                               "the YAML parser made no progress (malformed input)"};
                result.unsupported.clear();
                return result;
            }
            previous_start = writer.document_start().pos;
            if (!result.unsupported.empty()) continue;
            if (!writer.unsupported().empty()) {
                // The caller reads this file with yaml-cpp nodes; scanning
                // on to the end first proves that read ends (see above) and
                // finds syntax errors the same way.
                result.unsupported = "document " + std::to_string(document) + ": " + writer.unsupported();
                continue;
            }
            if (result.text.size() == start) result.text += "null";
            result.documents.emplace_back(start, result.text.size() - start);
        }
    } catch (const YAML::Exception& e) {
        // yaml-cpp counts from 0; editors count from 1.
        result.error = YamlSyntaxError{document, static_cast<std::size_t>(e.mark.line + 1),
                                       static_cast<std::size_t>(e.mark.column + 1), e.msg};
    }
    return result;
}

}  // namespace xgress::agent::k8s
