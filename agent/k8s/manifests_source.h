// Reads Kubernetes objects from a directory of manifests: every *.yaml, *.yml
// and *.json file directly inside it (hidden files skipped), in name order.
// A file may hold several YAML documents, JSON, or `kind: List` objects with
// `items`. A broken document or object is reported and skipped; everything
// else still loads, so one typo does not take the node's ingress down.
#pragma once

#include <expected>
#include <filesystem>
#include <map>
#include <memory>
#include <memory_resource>
#include <set>
#include <string>
#include <string_view>
#include <cstdint>
#include <vector>

#include "k8s/object_cache.h"
#include "k8s/objects.h"

namespace xgress::agent::k8s {

struct LoadedManifests {
    // In file, document, item order; each decoded once and then shared (by
    // LastGoodObjects and the cache), never copied.
    std::vector<std::shared_ptr<const Object>> objects;
    std::vector<std::string> errors;   // "FILE: document 2: Service demo/web: spec.ports[0].port: ..."
    std::vector<std::string> error_sources;    // parallel to errors: the file each is about
    std::vector<std::string> skipped;  // unknown kinds, one line each
    // YAML files read with yaml-cpp node trees rather than as JSON text
    // (yaml_to_json.h says which features need that), one line each.
    std::vector<std::string> yaml_node_fallbacks;
    std::vector<std::string> files;    // files read, in order
    // The file each object came from: an index into source_names per object
    // (4 bytes) rather than a path string each, whose 25,000+ small blocks
    // were left as holes between the kept objects once a load was freed.
    std::vector<std::uint32_t> object_sources;   // parallel to objects
    std::vector<std::string> source_names;       // distinct, in first-seen order
    const std::string& object_source(std::size_t i) const;
    std::set<std::string> files_with_errors;   // files where some document or object failed
    // A partial load (load_manifest_files) covers only the files it names in
    // files, files_with_errors and removed; every other file keeps what it had.
    bool partial = false;
    std::vector<std::string> removed;          // partial loads: files that are gone
};

// Fails only when the directory itself cannot be listed.
std::expected<LoadedManifests, std::string> load_manifests_directory(const std::filesystem::path& directory);

// Re-reads only the named files of `directory` (names as inotify reports
// them, no slashes): the ones that still are manifest files are loaded, the
// others are listed as removed. Names that are not manifests (editor temp
// files, hidden files) are ignored. The result is partial.
LoadedManifests load_manifest_files(const std::filesystem::path& directory, const std::set<std::string>& names);

// Parses one file's text; `source` names it in messages. Appends to `out`.
// YAML goes through yaml-cpp's event parser into JSON text decoded by
// simdjson (yaml_to_json.h); a file JSON cannot stand for falls back to
// load_yaml_with_nodes and is listed in `yaml_node_fallbacks`.
void load_manifest_text(std::string_view text, const std::string& source, LoadedManifests& out);

// The YAML::Node path (YAML::LoadAll, one tree per document): the fallback,
// and the reference the event path is tested against.
void load_yaml_with_nodes(std::string_view text, const std::string& source, LoadedManifests& out);

// Fills a fresh cache; a later object with the same kind/namespace/name
// replaces an earlier one, and that is reported in `messages`.
ObjectCache build_cache(const LoadedManifests& manifests, std::vector<std::string>& messages);

// Remembers, per file, the objects its last good load produced. An object
// whose file has errors in this load and that did not decode this time keeps
// its previous version ("last good"): a half-saved edit or a typo never takes
// a Service, route or certificate away. Files that load cleanly replace their
// objects exactly, and deleted files remove theirs.
//
// The cache to serve is kept up to date incrementally: a load touches only
// the cache entries of objects its files held before or hold now, so a
// partial load of one file costs that file's objects, not the cluster's.
// When two files define the same object, the file whose path sorts last wins.
class LastGoodObjects {
public:
    // Merges `loaded` (full: the directory's files, the rest are gone;
    // partial: only the files it names) and returns the cache to serve.
    // `messages` gets one line per object kept from an earlier load and per
    // object defined in more than one file, for every file (not only the
    // ones this load touched).
    const ObjectCache& update(const LoadedManifests& loaded, std::vector<std::string>& messages);

    const ObjectCache& cache() const { return cache_; }
    // The current load errors of every file, in file order.
    std::vector<std::string> errors() const;
    // Keys whose cache entry changed in the last update (added, replaced or removed).
    const std::pmr::set<ObjectKey>& last_touched() const { return touched_; }

    // The cache entry `key` had before the last update (null when it had
    // none). The reconciler reads the Service a changed slice belonged to.
    std::shared_ptr<const Object> previous(const ObjectKey& key) const;
    // Drops last_touched() and previous() once the caller has read them: after
    // a full sync they name every object (~6 MB at 100,000 endpoints) and
    // would otherwise stay until the next update.
    void forget_last_update();

private:
    using Shared = std::shared_ptr<const Object>;  // one copy, shared by by_file_ and cache_
    // A file's objects, sorted by key: the key is read from the object, not
    // held again (a map node per object cost ~128 bytes at cluster scale).
    using FileObjects = std::vector<Shared>;
    void replace_file(const std::string& file, std::map<ObjectKey, Shared> objects);

    std::map<std::string, FileObjects> by_file_;
    // Which files define each object, kept only for objects defined in more
    // than one file; an object with one owner needs no entry: replace_file
    // knows the file it works on. Pointers are by_file_'s keys.
    std::map<ObjectKey, std::vector<const std::string*>> shared_owners_;
    std::map<std::string, std::vector<std::string>> errors_;  // per file: this load's errors
    std::map<std::string, std::vector<std::string>> kept_;    // per file: "kept last good" lines
    std::map<ObjectKey, std::string> duplicates_;             // objects defined in several files
    // touched_'s nodes come from this pool, not from malloc one by one: after
    // a full sync 25,000 of them (112 bytes each) sat between the blocks of
    // cache_ and by_file_ allocated in the same loop, and once freed left
    // holes malloc_trim cannot return (~28 bytes of RSS per endpoint at the
    // scale bench). On the heap, not a member, so LastGoodObjects stays movable.
    std::unique_ptr<std::pmr::monotonic_buffer_resource> touched_pool_ =
        std::make_unique<std::pmr::monotonic_buffer_resource>();
    std::pmr::set<ObjectKey> touched_{touched_pool_.get()};
    std::map<ObjectKey, Shared> previous_;                    // touched_ keys' cache entries before
    ObjectCache cache_;
};

}  // namespace xgress::agent::k8s
