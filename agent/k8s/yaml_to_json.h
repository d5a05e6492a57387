// Converts a YAML stream to JSON text, one JSON document per YAML document,
// by driving yaml-cpp's event parser (YAML::Parser::HandleNextDocument)
// instead of building YAML::Node trees. Building the trees was ~95% of a
// YAML full sync (10,000 Services: ~15 s) and left their freed blocks as
// holes between the objects the cache keeps; the JSON text is decoded by
// the same simdjson path as .json manifests.
//
// The JSON keeps exactly what the decoder reads from a yaml-cpp node:
//   - yaml-cpp's null (a plain `null`, `Null`, `NULL`, `~` or an empty value)
//     becomes JSON null (YAML::Node::IsNull);
//   - every other scalar, plain or quoted, becomes a JSON string holding its
//     text as written (YAML::Node::Scalar): `port: 0x50` stays "0x50", `name:
//     007` stays "007", so numbers, booleans (the decoder applies YAML's
//     spellings, see parse_yaml_bool) and strings resolve as before;
//   - maps and sequences keep their order; an alias is the anchored node's
//     JSON again (replayed), as yaml-cpp's shared node reads.
// What JSON cannot express is reported as `unsupported` and the caller reads
// that file with yaml-cpp nodes instead: non-string keys (null, map or
// sequence keys), an alias to a node still open (a recursive structure),
// aliases expanding past a size bound ("billion laughs"), non-UTF-8 text,
// nesting deeper than simdjson's limit.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xgress::agent::k8s {

struct YamlSyntaxError {
    std::size_t document = 0;  // 1-based, as the messages count
    std::size_t line = 0;      // 1-based
    std::size_t column = 0;    // 1-based
    std::string message;       // yaml-cpp's
};

struct YamlAsJson {
    // All documents' JSON back to back; document i is
    // text.substr(documents[i].first, documents[i].second). A document with
    // no node ("---" alone) is "null", as yaml-cpp reads it.
    std::string text;
    std::vector<std::pair<std::size_t, std::size_t>> documents;
    std::optional<YamlSyntaxError> error;  // malformed YAML: nothing else is meaningful
    std::string unsupported;               // non-empty: why JSON cannot stand for this file
};

YamlAsJson yaml_to_json(std::string_view yaml);

}  // namespace xgress::agent::k8s
