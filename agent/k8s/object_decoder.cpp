#include "k8s/object_decoder.h"

#include <cctype>
#include <charconv>
#include <optional>
#include <utility>

#include "k8s/json_node.h"
#include "k8s/tls_pem.h"
#include "k8s/units.h"

namespace xgress::agent::k8s {

bool parse_yaml_bool(std::string_view text, bool& value) {
    // Flexible case, as yaml-cpp: "true", "TRUE", "True"; not "tRUE".
    if (text.empty() || text.size() > 5) return false;
    char lower[5];
    const bool first_upper = std::isupper(static_cast<unsigned char>(text[0])) != 0;
    bool rest_upper = true, rest_lower = true;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (i > 0) {
            rest_upper = rest_upper && !std::islower(c);
            rest_lower = rest_lower && !std::isupper(c);
        }
        lower[i] = static_cast<char>(std::tolower(c));
    }
    if (!(rest_lower || (first_upper && rest_upper))) return false;
    static constexpr std::pair<std::string_view, std::string_view> kNames[] = {
        {"y", "n"}, {"yes", "no"}, {"true", "false"}, {"on", "off"}};
    const std::string_view word(lower, text.size());
    for (const auto& [yes, no] : kNames) {
        if (word == yes) return value = true, true;
        if (word == no) return value = false, true;
    }
    return false;
}

namespace yaml_decoder {
using Node = YAML::Node;
inline Node undefined_node() { return Node(YAML::NodeType::Undefined); }
inline bool decode_bool(const Node& node, bool& value) { return YAML::convert<bool>::decode(node, value); }
#include "k8s/object_decoder_impl.inc"
}  // namespace yaml_decoder

// YAML converted to JSON text (yaml_to_json.h): JSON nodes, YAML's booleans.
namespace yaml_text_decoder {
using Node = JsonNode;
inline Node undefined_node() { return Node(); }
inline bool decode_bool(const Node& node, bool& value) { return parse_yaml_bool(node.Scalar(), value); }
#include "k8s/object_decoder_impl.inc"
}  // namespace yaml_text_decoder

namespace json_decoder {
using Node = JsonNode;
inline Node undefined_node() { return Node(); }
inline bool decode_bool(const Node& node, bool& value) { return node.as_bool(value); }
#include "k8s/object_decoder_impl.inc"
}  // namespace json_decoder

std::string DecodeError::to_string() const {
    std::string text = object;
    if (!field.empty()) text += ": " + field;
    text += ": " + message;
    return text;
}

bool is_list_document(const YAML::Node& document) { return yaml_decoder::is_list_document(document); }

std::expected<Decoded, DecodeError> decode_object(const YAML::Node& document) {
    return yaml_decoder::decode_object(document);
}

std::expected<Decoded, DecodeError> decode_yaml_object(simdjson::dom::element document) {
    return yaml_text_decoder::decode_object(JsonNode(document));
}

bool is_list_document(simdjson::dom::element document) { return json_decoder::is_list_document(JsonNode(document)); }

std::expected<Decoded, DecodeError> decode_object(simdjson::dom::element document) {
    return json_decoder::decode_object(JsonNode(document));
}

}  // namespace xgress::agent::k8s
