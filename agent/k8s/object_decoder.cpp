#include "k8s/object_decoder.h"

#include <cctype>
#include <charconv>
#include <optional>
#include <utility>

#include "k8s/json_node.h"
#include "k8s/tls_pem.h"
#include "k8s/units.h"

namespace xgress::agent::k8s {

namespace yaml_decoder {
using Node = YAML::Node;
inline Node undefined_node() { return Node(YAML::NodeType::Undefined); }
inline bool decode_bool(const Node& node, bool& value) { return YAML::convert<bool>::decode(node, value); }
#include "k8s/object_decoder_impl.inc"
}  // namespace yaml_decoder

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

bool is_list_document(simdjson::dom::element document) { return json_decoder::is_list_document(JsonNode(document)); }

std::expected<Decoded, DecodeError> decode_object(simdjson::dom::element document) {
    return json_decoder::decode_object(JsonNode(document));
}

}  // namespace xgress::agent::k8s
