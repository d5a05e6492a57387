// Turns one parsed document into a typed object: a YAML document (yaml-cpp
// node) or a JSON one (simdjson DOM element; same rules, same messages).
// Shared by every source that hands us Kubernetes objects as documents.
//
// Errors are values naming the object and the field, e.g.
//   object "Service demo/web", field "spec.ports[0].port", message "required field missing".
// Kinds we do not use are reported as UnknownKind so the caller can log and skip them.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <variant>

#include <simdjson.h>
#include <yaml-cpp/yaml.h>

#include "k8s/objects.h"

namespace xgress::agent::k8s {

struct DecodeError {
    std::string object;   // "Service demo/web"; "document" when kind or name are unknown
    std::string field;    // dotted path, "" for the document itself
    std::string message;
    std::string to_string() const;
};

struct UnknownKind {
    std::string api_version;
    std::string kind;
    std::string name;
};

using Decoded = std::variant<Object, UnknownKind>;

// A `kind: List` document is not an object: callers expand its `items` first
// (see is_list_document).
std::expected<Decoded, DecodeError> decode_object(const YAML::Node& document);

bool is_list_document(const YAML::Node& document);

std::expected<Decoded, DecodeError> decode_object(simdjson::dom::element document);
bool is_list_document(simdjson::dom::element document);

// A YAML document converted to JSON by yaml_to_json (every scalar a string
// as written, nulls as null): the same decoder, with booleans read the way
// yaml-cpp reads them from a node (parse_yaml_bool), so a YAML manifest
// decodes exactly as its YAML::Node would.
std::expected<Decoded, DecodeError> decode_yaml_object(simdjson::dom::element document);

// YAML::convert<bool>'s rule: y/yes/true/on and n/no/false/off, each all
// lower case, all upper case or capitalised.
bool parse_yaml_bool(std::string_view text, bool& value);

}  // namespace xgress::agent::k8s
