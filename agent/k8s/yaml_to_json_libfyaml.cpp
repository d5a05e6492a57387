// The fast YAML reader: libfyaml's event parser (fy_parser_parse) into the
// writer yaml-cpp's events also drive. It only ever answers for a text it
// reads completely and that JSON can stand for; for anything else (a syntax
// error, a non-string key, an unknown or recursive alias, too large an
// expansion, non-UTF-8) it declines and yaml_to_json asks yaml-cpp, whose
// messages and fallback reasons are the reference.
#include <libfyaml.h>

#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

#include <simdjson.h>

#include "k8s/yaml_json_writer.h"
#include "k8s/yaml_to_json.h"

namespace xgress::agent::k8s {
namespace {

struct DiagDeleter {
    void operator()(fy_diag* diag) const { fy_diag_destroy(diag); }
};

struct ParserDeleter {
    void operator()(fy_parser* parser) const { fy_parser_destroy(parser); }
};

struct EventDeleter {
    fy_parser* parser;
    void operator()(fy_event* event) const { fy_parser_event_free(parser, event); }
};

std::string_view text_of(fy_token* token) {
    std::size_t length = 0;
    const char* text = fy_token_get_text(token, &length);
    return text ? std::string_view(text, length) : std::string_view();
}

// yaml-cpp's null (YAML::IsNullString), which it applies only to plain
// scalars without a tag.
bool is_null_text(std::string_view text) {
    return text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL";
}

// yaml-cpp's anchor numbering: per document, 1, 2, ... as nodes with an
// anchor start; a name defined again points at the newer node from then on.
class AnchorIds {
public:
    void clear() {
        ids_.clear();
        next_ = 0;
    }
    std::size_t define(fy_token* anchor) {
        if (anchor == nullptr) return 0;
        const std::string_view name = text_of(anchor);
        if (name.empty()) return 0;
        const std::size_t id = ++next_;
        ids_.insert_or_assign(std::string(name), id);
        return id;
    }
    std::size_t find(fy_token* anchor) const {
        const auto it = ids_.find(std::string(text_of(anchor)));
        return it == ids_.end() ? 0 : it->second;
    }

private:
    std::unordered_map<std::string, std::size_t> ids_;
    std::size_t next_ = 0;
};

// Where each mapping's current key starts, for two readings of text that
// is not quite YAML, which the parsers accept differently (fuzzer):
//   - a plain scalar on a line after `key:` at the key's column or left of
//     it: libfyaml reads `a:\nb` as {a: b}, yaml-cpp as {a: null, b: null};
//   - a plain key spanning lines in a flow mapping (`{k\n  m: P}`): libfyaml
//     reads the key "k m", yaml-cpp stops ("end of map flow not found").
// Such text is yaml-cpp's. Values more indented, quoted, aliases and
// collections, and multi-line plain values, read alike.
class KeyPositions {
public:
    // Before a node; false when it is one of the above.
    bool node_starts(fy_event* event, bool plain_text) {
        if (frames_.empty() || !frames_.back().map) return true;
        const fy_mark* start = fy_event_start_mark(event);
        if (start == nullptr) return true;
        Frame& frame = frames_.back();
        if (frame.at_key) {
            const fy_mark* end = fy_event_end_mark(event);
            if (plain_text && end != nullptr && end->line > start->line) return false;
            frame.key_line = start->line;
            frame.key_column = start->column;
            return true;
        }
        return !(frame.block && plain_text && start->line > frame.key_line && start->column <= frame.key_column);
    }
    void node_ends() {
        if (!frames_.empty() && frames_.back().map) frames_.back().at_key = !frames_.back().at_key;
    }
    void open(bool map, bool block) {
        frames_.push_back(Frame{map, block});
        flow_depth_ += block ? 0 : 1;
    }
    void close() {
        if (!frames_.empty()) {
            flow_depth_ -= frames_.back().block ? 0 : 1;
            frames_.pop_back();
        }
        node_ends();
    }
    bool in_flow() const { return flow_depth_ > 0; }
    void clear() {
        frames_.clear();
        flow_depth_ = 0;
    }
    bool at_root() const { return frames_.empty(); }

private:
    struct Frame {
        bool map = false;
        bool block = false;
        bool at_key = true;
        int key_line = 0;
        int key_column = 0;
    };
    std::vector<Frame> frames_;
    std::size_t flow_depth_ = 0;
};

}  // namespace

std::optional<YamlAsJson> yaml_to_json_with_libfyaml(std::string_view yaml) {
    // libfyaml drops bytes that are not UTF-8 from a scalar without a word
    // (`a: \xff\xfe` read as `a:`, a null), and yaml-cpp reads UTF-16/32
    // (told by NUL bytes) itself: such text is yaml-cpp's.
    if (std::memchr(yaml.data(), 0, yaml.size()) != nullptr || !simdjson::validate_utf8(yaml.data(), yaml.size()))
        return std::nullopt;
    // A CR not followed by LF ends a line for libfyaml (YAML 1.2) but not
    // for yaml-cpp, which reads such a file as something else or not at all
    // (fuzzer): yaml-cpp's. CRLF reads alike.
    for (auto cr = yaml.find('\r'); cr != std::string_view::npos; cr = yaml.find('\r', cr + 1))
        if (cr + 1 == yaml.size() || yaml[cr + 1] != '\n') return std::nullopt;
    // FYPCF_QUIET alone still prints syntax errors to stderr: a sink that drops them.
    fy_diag_cfg diag_config;
    fy_diag_cfg_default(&diag_config);
    diag_config.fp = nullptr;
    diag_config.output_fn = [](fy_diag*, void*, const char*, std::size_t) {};
    const std::unique_ptr<fy_diag, DiagDeleter> diag(fy_diag_create(&diag_config));
    if (!diag) return std::nullopt;
    fy_parse_cfg config{};
    config.diag = diag.get();
    // Quiet: a syntax error is not reported here but by yaml-cpp, which
    // reads the file again. Duplicate keys are yaml-cpp's business too (the
    // first one wins, in the node path and in simdjson alike).
    config.flags = static_cast<fy_parse_cfg_flags>(FYPCF_QUIET | FYPCF_JSON_NONE | FYPCF_ALLOW_DUPLICATE_KEYS);
    const std::unique_ptr<fy_parser, ParserDeleter> parser(fy_parser_create(&config));
    if (!parser || fy_parser_set_string(parser.get(), yaml.data(), yaml.size()) != 0) return std::nullopt;

    YamlAsJson result;
    result.text.reserve(yaml.size() + yaml.size() / 4 + 64);
    YamlJsonWriter writer(result.text, alias_expansion_limit(yaml.size()));
    AnchorIds anchors;
    KeyPositions keys;
    std::size_t document_start = 0;
    for (;;) {
        const std::unique_ptr<fy_event, EventDeleter> event(fy_parser_parse(parser.get()), EventDeleter{parser.get()});
        if (!event) break;
        switch (event->type) {
            case FYET_DOCUMENT_START:
                writer.start_document();
                anchors.clear();
                keys.clear();
                document_start = result.text.size();
                break;
            case FYET_DOCUMENT_END:
                if (result.text.size() == document_start) result.text += "null";
                result.documents.emplace_back(document_start, result.text.size() - document_start);
                break;
            case FYET_MAPPING_START:
                keys.node_starts(event.get(), false);
                keys.open(true, fy_event_get_node_style(event.get()) == FYNS_BLOCK);
                writer.open(true, anchors.define(event->mapping_start.anchor));
                break;
            case FYET_SEQUENCE_START:
                keys.node_starts(event.get(), false);
                keys.open(false, fy_event_get_node_style(event.get()) == FYNS_BLOCK);
                writer.open(false, anchors.define(event->sequence_start.anchor));
                break;
            case FYET_MAPPING_END:
            case FYET_SEQUENCE_END:
                keys.close();
                writer.close();
                break;
            case FYET_SCALAR: {
                const std::size_t anchor = anchors.define(event->scalar.anchor);
                const std::string_view text = text_of(event->scalar.value);
                const bool plain = fy_token_scalar_style(event->scalar.value) == FYSS_PLAIN;
                if (!keys.node_starts(event.get(), plain && !text.empty())) return std::nullopt;
                // yaml-cpp reads a tag with nothing after it at the end of
                // the stream as null, elsewhere as "" (fuzzer: a file "!"):
                // a document that is only that is yaml-cpp's.
                if (keys.at_root() && event->scalar.tag != nullptr && plain && text.empty()) return std::nullopt;
                // YAML allows '?' inside a plain scalar; yaml-cpp does not in
                // flow context ("unknown token", fuzzer: `{name?s: x}`).
                if (plain && keys.in_flow() && text.find('?') != std::string_view::npos) return std::nullopt;
                keys.node_ends();
                if (event->scalar.tag == nullptr && plain && is_null_text(text)) {
                    writer.null(anchor);
                } else {
                    writer.scalar(text, anchor);
                }
                break;
            }
            case FYET_ALIAS: {
                const std::size_t anchor = anchors.find(event->alias.anchor);
                if (anchor == 0) return std::nullopt;  // yaml-cpp names the unknown anchor
                keys.node_starts(event.get(), false);
                keys.node_ends();
                writer.alias(anchor);
                break;
            }
            default:
                break;
        }
        if (!writer.unsupported().empty()) return std::nullopt;
    }
    if (fy_parser_get_stream_error(parser.get())) return std::nullopt;
    return result;
}

}  // namespace xgress::agent::k8s
