// Reads Kubernetes objects from a directory of manifests: every *.yaml, *.yml
// and *.json file directly inside it (hidden files skipped), in name order.
// A file may hold several YAML documents, JSON, or `kind: List` objects with
// `items`. A broken document or object is reported and skipped; everything
// else still loads, so one typo does not take the node's ingress down.
#pragma once

#include <expected>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "k8s/object_cache.h"
#include "k8s/objects.h"

namespace xgress::agent::k8s {

struct LoadedManifests {
    std::vector<Object> objects;       // in file, document, item order
    std::vector<std::string> errors;   // "FILE: document 2: Service demo/web: spec.ports[0].port: ..."
    std::vector<std::string> skipped;  // unknown kinds, one line each
    std::vector<std::string> files;    // files read, in order
    std::vector<std::string> object_sources;   // parallel to objects: the file each came from
    std::set<std::string> files_with_errors;   // files where some document or object failed
};

// Fails only when the directory itself cannot be listed.
std::expected<LoadedManifests, std::string> load_manifests_directory(const std::filesystem::path& directory);

// Parses one file's text; `source` names it in messages. Appends to `out`.
void load_manifest_text(std::string_view text, const std::string& source, LoadedManifests& out);

// Fills a fresh cache; a later object with the same kind/namespace/name
// replaces an earlier one, and that is reported in `messages`.
ObjectCache build_cache(const LoadedManifests& manifests, std::vector<std::string>& messages);

// Remembers, per file, the objects its last good load produced. An object
// whose file has errors in this load and that did not decode this time keeps
// its previous version ("last good"): a half-saved edit or a typo never takes
// a Service, route or certificate away. Files that load cleanly replace their
// objects exactly, and deleted files remove theirs.
class LastGoodObjects {
public:
    // Merges `loaded` with what is remembered and returns the cache to serve.
    // `messages` gets one line per object kept from an earlier load.
    ObjectCache update(const LoadedManifests& loaded, std::vector<std::string>& messages);

private:
    std::map<std::string, std::map<ObjectKey, Object>> by_file_;
};

}  // namespace xgress::agent::k8s
