// libFuzzer target: YAML manifests. The event path (yaml-cpp events written
// as JSON, decoded by simdjson: load_manifest_text) must give exactly the
// objects, errors and skipped lines of the YAML::Node path
// (load_yaml_with_nodes), unless it handed the file to that path itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "k8s/manifests_source.h"

namespace {

// Only the event path can say which document a syntax error is in.
std::string without_document(std::string line) {
    const auto at = line.find(" (document ");
    if (at != std::string::npos) line.erase(at, line.find(')', at) + 1 - at);
    return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace xgress::agent::k8s;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos && (text[first] == '{' || text[first] == '[')) return 0;  // the JSON path
    LoadedManifests events;
    load_manifest_text(text, "f.yaml", events);
    if (!events.yaml_node_fallbacks.empty()) return 0;
    // yaml-cpp 0.7 repeats a document forever on some input (a file starting
    // with ','): the event path stops and reports it; LoadAll would never return.
    for (const auto& error : events.errors)
        if (error.find("made no progress") != std::string::npos) return 0;
    LoadedManifests nodes;
    load_yaml_with_nodes(text, "f.yaml", nodes);
    if (events.objects.size() != nodes.objects.size() || events.errors.size() != nodes.errors.size() ||
        events.skipped != nodes.skipped)
        std::abort();
    for (std::size_t i = 0; i < events.objects.size(); ++i)
        if (!(*events.objects[i] == *nodes.objects[i])) std::abort();
    for (std::size_t i = 0; i < events.errors.size(); ++i)
        if (without_document(events.errors[i]) != nodes.errors[i]) std::abort();
    return 0;
}
