// libFuzzer target: YAML manifests. The event path (yaml-cpp events written
// as JSON, decoded by simdjson: load_manifest_text) must give exactly the
// objects, errors and skipped lines of the YAML::Node path
// (load_yaml_with_nodes), unless it handed the file to that path itself.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "k8s/manifests_source.h"

namespace {

// Only the event path can say which document a syntax error is in: its
// " (document N)". The same words can stand in the input itself (a value
// quoted by an error), so only a marker with a number is taken out.
std::string without_document(std::string line) {
    static constexpr std::string_view marker = " (document ";
    for (auto at = line.find(marker); at != std::string::npos; at = line.find(marker, at + 1)) {
        auto end = at + marker.size();
        const auto digits = end;
        while (end < line.size() && line[end] >= '0' && line[end] <= '9') ++end;
        if (end > digits && end < line.size() && line[end] == ')') {
            line.erase(at, end + 1 - at);
            break;
        }
    }
    return line;
}

// Says what differed (a bare abort leaves the reader to rerun both paths).
[[noreturn]] void mismatch(const char* what, const std::string& events, const std::string& nodes) {
    std::fprintf(stderr, "manifest_yaml_fuzzer: %s differ\n  event path: %s\n  node path:  %s\n", what,
                 events.c_str(), nodes.c_str());
    std::abort();
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
    auto joined = [](const std::vector<std::string>& lines) {
        std::string all;
        for (const auto& line : lines) all += line + " | ";
        return all;
    };
    if (events.errors.size() != nodes.errors.size()) mismatch("error counts", joined(events.errors), joined(nodes.errors));
    if (events.objects.size() != nodes.objects.size() || events.skipped != nodes.skipped)
        mismatch("object or skipped counts", std::to_string(events.objects.size()), std::to_string(nodes.objects.size()));
    for (std::size_t i = 0; i < events.objects.size(); ++i)
        if (!(*events.objects[i] == *nodes.objects[i])) mismatch("objects", std::to_string(i), std::to_string(i));
    for (std::size_t i = 0; i < events.errors.size(); ++i)
        if (without_document(events.errors[i]) != nodes.errors[i]) mismatch("errors", events.errors[i], nodes.errors[i]);
    return 0;
}
