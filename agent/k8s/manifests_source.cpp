#include "k8s/manifests_source.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <fstream>
#include <optional>
#include <sstream>
#include <system_error>
#include <type_traits>

#include <simdjson.h>
#include <yaml-cpp/yaml.h>

#include "k8s/object_decoder.h"
#include "k8s/yaml_to_json.h"

namespace xgress::agent::k8s {
namespace {

bool has_manifest_name(const std::filesystem::path& path) {
    const std::string name = path.filename().string();
    if (name.empty() || name.front() == '.') return false;
    const std::string ext = path.extension().string();
    return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

bool is_manifest_file(const std::filesystem::directory_entry& entry) {
    std::error_code ec;
    return has_manifest_name(entry.path()) && entry.is_regular_file(ec);
}

void add_error(LoadedManifests& out, const std::string& source, std::string line) {
    out.errors.push_back(std::move(line));
    out.error_sources.push_back(source);
    out.files_with_errors.insert(source);
}

template <class Document>
void load_document(const Document& document, const std::string& source, const std::string& where,
                   LoadedManifests& out, bool from_yaml = false) {
    auto decoded = [&] {
        if constexpr (std::is_same_v<Document, simdjson::dom::element>) {
            if (from_yaml) return decode_yaml_object(document);
        }
        return decode_object(document);
    }();
    if (!decoded) {
        add_error(out, source, where + ": " + decoded.error().to_string());
        return;
    }
    if (auto* unknown = std::get_if<UnknownKind>(&*decoded)) {
        out.skipped.push_back(where + ": skipping unsupported kind " + unknown->kind +
                              (unknown->api_version.empty() ? "" : " (" + unknown->api_version + ")") +
                              (unknown->name.empty() ? "" : " " + unknown->name));
        return;
    }
    out.objects.push_back(std::make_shared<const Object>(std::get<Object>(std::move(*decoded))));
    // Objects arrive file by file, so comparing with the last name suffices.
    if (out.source_names.empty() || out.source_names.back() != source) out.source_names.push_back(source);
    out.object_sources.push_back(static_cast<std::uint32_t>(out.source_names.size() - 1));
}

// JSON (a file ending in .json, or text whose first non-blank character is
// '{' or '['): one object, a `kind: List`, or an array of objects, parsed
// with simdjson. yaml-cpp reads JSON too but ~10x slower, which dominated a
// full sync of 100,000 endpoints.
bool looks_like_json(std::string_view text, const std::string& source) {
    if (source.ends_with(".json")) return true;
    const auto first = text.find_first_not_of(" \t\r\n");
    return first != std::string_view::npos && (text[first] == '{' || text[first] == '[');
}

// One parser per thread, reused for small texts (its buffers grow to the
// largest once). A large text gets a parser of its own, freed on return:
// the parser's buffers are a few times the text's size (~22 MB kept after a
// 100,000-endpoint List otherwise, 220 bytes per endpoint).
simdjson::dom::parser& parser_for(std::size_t size, std::optional<simdjson::dom::parser>& own) {
    constexpr std::size_t kReusedParserMax = 1 << 20;
    thread_local simdjson::dom::parser reused;
    return size <= kReusedParserMax ? reused : own.emplace();
}

void load_json_text(std::string_view text, const std::string& source, LoadedManifests& out) {
    std::optional<simdjson::dom::parser> own;
    simdjson::dom::parser& parser = parser_for(text.size(), own);
    simdjson::padded_string padded(text);
    simdjson::dom::element root;
    if (auto error = parser.parse(padded).get(root)) {
        add_error(out, source, source + ": invalid JSON: " + simdjson::error_message(error) + " (file skipped)");
        return;
    }
    const std::string where = source + ": document 1";
    auto load_items = [&](simdjson::dom::array items) {
        std::size_t i = 0;
        for (simdjson::dom::element item : items) {
            load_document(item, source, where + " items[" + std::to_string(i++) + "]", out);
        }
    };
    simdjson::dom::array array;
    if (!root.get_array().get(array)) {
        load_items(array);
    } else if (is_list_document(root)) {
        simdjson::dom::element items;
        if (root["items"].get(items) || items.is_null()) return;  // an empty List
        if (items.get_array().get(array)) {
            add_error(out, source, where + ": List: items: expected a list");
            return;
        }
        load_items(array);
    } else {
        load_document(root, source, where, out);
    }
}

// YAML read by yaml-cpp's event parser and written as JSON (yaml_to_json.h),
// decoded here by simdjson: no YAML::Node trees. The caller has checked
// `converted.unsupported` (those files go to load_yaml_with_nodes).
void load_converted_yaml(YamlAsJson& converted, const std::string& source, LoadedManifests& out) {
    if (converted.error) {
        const YamlSyntaxError& e = *converted.error;
        add_error(out, source,
                  source + ": line " + std::to_string(e.line) + ", column " + std::to_string(e.column) +
                      " (document " + std::to_string(e.document) + "): " + e.message + " (file skipped)");
        return;
    }
    std::optional<simdjson::dom::parser> own;
    simdjson::dom::parser& parser = parser_for(converted.text.size(), own);
    converted.text.reserve(converted.text.size() + simdjson::SIMDJSON_PADDING);  // parsed in place
    for (std::size_t d = 0; d < converted.documents.size(); ++d) {
        const auto [start, length] = converted.documents[d];
        const std::string where = source + ": document " + std::to_string(d + 1);
        simdjson::dom::element document;
        if (auto error = parser.parse(converted.text.data() + start, length, false).get(document)) {
            // The writer checks what simdjson refuses (UTF-8, depth); this is a safety net.
            add_error(out, source, where + ": cannot read the converted document: " + simdjson::error_message(error));
            continue;
        }
        if (document.is_null()) continue;  // "---" with nothing after it
        if (is_list_document(document)) {
            simdjson::dom::element items;
            if (document["items"].get(items) || items.is_null()) continue;  // an empty List
            simdjson::dom::array array;
            if (items.get_array().get(array)) {
                add_error(out, source, where + ": List: items: expected a list");
                continue;
            }
            std::size_t i = 0;
            for (simdjson::dom::element item : array) {
                load_document(item, source, where + " items[" + std::to_string(i++) + "]", out, true);
            }
        } else {
            load_document(document, source, where, out, true);
        }
    }
}

// One file, read and (YAML) converted to JSON, ready to decode. Prepared on
// worker threads during a load of many files: yaml-cpp's scanner is most of
// a YAML load's time, and the text, yaml-cpp's tokens and the JSON are then
// allocated in the workers' malloc arenas, not between the objects the
// loading thread decodes and keeps (the holes they left cost ~30 bytes of
// RSS per endpoint).
struct PreparedFile {
    std::string source;
    bool readable = false;
    bool json = false;
    std::string text;                // JSON, or YAML the converter could not stand for
    std::optional<YamlAsJson> yaml;  // converted YAML (text then dropped)
};

void prepare_text(PreparedFile& file) {
    file.json = looks_like_json(file.text, file.source);
    if (file.json) return;
    file.yaml = yaml_to_json(file.text);
    if (file.yaml->unsupported.empty() || file.yaml->error) std::string().swap(file.text);
}

PreparedFile prepare_file(const std::filesystem::path& path) {
    PreparedFile file;
    file.source = path.string();
    std::ifstream stream(path, std::ios::binary);
    std::ostringstream text;
    text << stream.rdbuf();
    if (!stream) return file;
    file.readable = true;
    file.text = std::move(text).str();
    prepare_text(file);
    return file;
}

void decode_prepared(PreparedFile& file, LoadedManifests& out) {
    if (file.json) {
        load_json_text(file.text, file.source, out);
    } else if (!file.yaml->error && !file.yaml->unsupported.empty()) {
        out.yaml_node_fallbacks.push_back(file.source + ": " + file.yaml->unsupported + "; read with yaml-cpp nodes");
        load_yaml_with_nodes(file.text, file.source, out);
    } else {
        load_converted_yaml(*file.yaml, file.source, out);
    }
}

void load_prepared(PreparedFile& file, LoadedManifests& out) {
    if (!file.readable) {
        add_error(out, file.source, file.source + ": cannot read file");
        return;
    }
    out.files.push_back(file.source);
    decode_prepared(file, out);
}

// Reads `paths` in order into `out`. With many files, worker threads read
// and convert up to kAhead files ahead while this thread decodes in order.
void load_files(const std::vector<std::filesystem::path>& paths, LoadedManifests& out) {
    constexpr std::size_t kMinFilesForWorkers = 16, kAhead = 64;
    const std::size_t n = paths.size();
    const unsigned workers = n < kMinFilesForWorkers ? 0 : std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
    if (workers == 0) {
        for (const auto& path : paths) {
            PreparedFile file = prepare_file(path);
            load_prepared(file, out);
        }
        return;
    }
    std::vector<std::optional<PreparedFile>> slots(n);
    std::mutex mutex;
    std::condition_variable ready, space;
    std::size_t next = 0, consumed = 0;
    auto work = [&] {
        for (;;) {
            std::size_t i;
            {
                std::unique_lock lock(mutex);
                space.wait(lock, [&] { return next >= n || next < consumed + kAhead; });
                if (next >= n) return;
                i = next++;
            }
            PreparedFile file = prepare_file(paths[i]);
            {
                std::lock_guard lock(mutex);
                slots[i].emplace(std::move(file));
            }
            ready.notify_all();
        }
    };
    std::vector<std::jthread> threads;
    for (unsigned w = 0; w < workers; ++w) threads.emplace_back(work);
    for (std::size_t i = 0; i < n; ++i) {
        PreparedFile file;
        {
            std::unique_lock lock(mutex);
            ready.wait(lock, [&] { return slots[i].has_value(); });
            file = std::move(*slots[i]);
            slots[i].reset();
            consumed = i + 1;
        }
        space.notify_all();
        load_prepared(file, out);
    }
}

}  // namespace

void load_manifest_text(std::string_view text, const std::string& source, LoadedManifests& out) {
    if (looks_like_json(text, source)) {
        load_json_text(text, source, out);
        return;
    }
    PreparedFile file{source, true, false, std::string(text), std::nullopt};
    prepare_text(file);
    decode_prepared(file, out);
}

void load_yaml_with_nodes(std::string_view text, const std::string& source, LoadedManifests& out) {
    std::vector<YAML::Node> documents;
    try {
        documents = YAML::LoadAll(std::string(text));
    } catch (const YAML::Exception& e) {
        // yaml-cpp counts from 0; editors count from 1.
        add_error(out, source,
                  source + ": line " + std::to_string(e.mark.line + 1) + ", column " +
                      std::to_string(e.mark.column + 1) + ": " + e.msg + " (file skipped)");
        return;
    }
    for (std::size_t d = 0; d < documents.size(); ++d) {
        const YAML::Node& document = documents[d];
        if (!document.IsDefined() || document.IsNull()) continue;  // "---" with nothing after it
        const std::string where = source + ": document " + std::to_string(d + 1);
        try {
            if (is_list_document(document)) {
                const YAML::Node items = document["items"];
                if (!items.IsDefined() || items.IsNull()) continue;  // an empty List
                if (!items.IsSequence()) {
                    add_error(out, source, where + ": List: items: expected a list");
                    continue;
                }
                for (std::size_t i = 0; i < items.size(); ++i) {
                    load_document(items[i], source, where + " items[" + std::to_string(i) + "]", out);
                }
            } else {
                load_document(document, source, where, out);
            }
        } catch (const YAML::Exception& e) {
            // The decoder avoids throwing accessors; this is a safety net.
            add_error(out, source, where + ": " + e.what());
        }
    }
}

std::expected<LoadedManifests, std::string> load_manifests_directory(const std::filesystem::path& directory) {
    std::error_code ec;
    std::filesystem::directory_iterator it(directory, ec);
    if (ec) return std::unexpected("cannot read manifests directory " + directory.string() + ": " + ec.message());

    std::vector<std::filesystem::path> paths;
    for (const auto& entry : it) {
        if (is_manifest_file(entry)) paths.push_back(entry.path());
    }
    std::sort(paths.begin(), paths.end());

    LoadedManifests out;
    load_files(paths, out);
    return out;
}

LoadedManifests load_manifest_files(const std::filesystem::path& directory, const std::set<std::string>& names) {
    LoadedManifests out;
    out.partial = true;
    std::vector<std::filesystem::path> present;
    for (const std::string& name : names) {
        if (name.empty() || name.find('/') != std::string::npos) continue;
        const std::filesystem::path path = directory / name;
        if (!has_manifest_name(path)) continue;  // editor temp files, hidden files, other extensions
        std::error_code ec;
        if (std::filesystem::is_regular_file(path, ec)) present.push_back(path);
        else out.removed.push_back(path.string());
    }
    load_files(present, out);
    return out;
}

ObjectCache build_cache(const LoadedManifests& manifests, std::vector<std::string>& messages) {
    ObjectCache cache;
    for (const std::shared_ptr<const Object>& object : manifests.objects) {
        if (cache.upsert(object)) {
            messages.push_back("duplicate " + describe(key_of(*object)) + ": the later definition wins");
        }
    }
    return cache;
}

}  // namespace xgress::agent::k8s

namespace xgress::agent::k8s {

const std::string& LoadedManifests::object_source(std::size_t i) const {
    static const std::string none;
    return i < object_sources.size() && object_sources[i] < source_names.size() ? source_names[object_sources[i]] : none;
}

const ObjectCache& LastGoodObjects::update(const LoadedManifests& loaded, std::vector<std::string>& messages) {
    touched_.clear();
    touched_pool_->release();
    previous_.clear();
    // The files this load speaks for, and what each now holds.
    std::map<std::string, std::map<ObjectKey, Shared>> next;
    for (const std::string& file : loaded.files) next[file];
    for (const std::string& file : loaded.files_with_errors) next[file];
    for (std::size_t i = 0; i < loaded.objects.size(); ++i) {
        const std::string& file = loaded.object_source(i);
        next[file].insert_or_assign(key_of(*loaded.objects[i]), loaded.objects[i]);  // shared, not copied
    }
    // Files not in this load: a full load means they are gone; a partial one names the removed ones.
    std::vector<std::string> gone;
    if (loaded.partial) {
        for (const std::string& file : loaded.removed)
            if (!next.contains(file)) gone.push_back(file);
    } else {
        for (const auto& [file, objects] : by_file_)
            if (!next.contains(file)) gone.push_back(file);
    }
    for (const std::string& file : gone) {
        errors_.erase(file);
        kept_.erase(file);
        replace_file(file, {});
        by_file_.erase(file);
    }

    std::map<std::string, std::vector<std::string>> errors_now;
    for (std::size_t i = 0; i < loaded.errors.size(); ++i) {
        const std::string& file = i < loaded.error_sources.size() ? loaded.error_sources[i] : std::string();
        errors_now[file].push_back(loaded.errors[i]);
    }
    for (auto& [file, objects] : next) {
        std::vector<std::string> kept;
        if (loaded.files_with_errors.contains(file)) {
            if (auto previous = by_file_.find(file); previous != by_file_.end()) {
                for (const Shared& object : previous->second) {
                    ObjectKey key = key_of(*object);
                    if (objects.contains(key)) continue;
                    kept.push_back(file + ": " + describe(key) + " did not load; keeping its last good version");
                    objects.emplace(std::move(key), object);
                }
            }
        }
        if (kept.empty()) kept_.erase(file);
        else kept_[file] = std::move(kept);
        if (auto e = errors_now.find(file); e != errors_now.end()) errors_[file] = std::move(e->second);
        else errors_.erase(file);
        replace_file(file, std::move(objects));
    }

    for (const auto& [file, lines] : kept_) messages.insert(messages.end(), lines.begin(), lines.end());
    for (const auto& [key, line] : duplicates_) messages.push_back(line);
    return cache_;
}

namespace {

const std::shared_ptr<const Object>* find_object(const std::vector<std::shared_ptr<const Object>>& objects,
                                                 const ObjectKey& key) {
    auto it = std::lower_bound(objects.begin(), objects.end(), key,
                               [](const auto& object, const ObjectKey& k) { return compare_key(*object, k) < 0; });
    return it != objects.end() && compare_key(**it, key) == 0 ? &*it : nullptr;
}

// The file whose path sorts last wins.
const std::string* last_file(const std::vector<const std::string*>& files) {
    return *std::max_element(files.begin(), files.end(), [](const auto* a, const auto* b) { return *a < *b; });
}

}  // namespace

void LastGoodObjects::replace_file(const std::string& file, std::map<ObjectKey, Shared> objects) {
    const auto slot = by_file_.try_emplace(file).first;
    const std::string* self = &slot->first;  // stable while the file is known: owner lists point here
    FileObjects& held = slot->second;
    std::vector<std::pair<ObjectKey, const std::string*>> changed;  // key, the file serving it now (null: none)

    for (const Shared& object : held) {  // objects this file no longer defines
        ObjectKey key = key_of(*object);
        if (objects.contains(key)) continue;
        const std::string* winner = nullptr;
        if (auto shared = shared_owners_.find(key); shared != shared_owners_.end()) {
            std::erase(shared->second, self);
            winner = last_file(shared->second);
            if (shared->second.size() < 2) shared_owners_.erase(shared);
        }
        changed.emplace_back(std::move(key), winner);
    }
    FileObjects now;
    now.reserve(objects.size());
    for (auto& [key, object] : objects) {  // in key order, so `now` is sorted
        const Shared* previous = find_object(held, key);
        if (previous && (*previous == object || **previous == *object)) {
            now.push_back(*previous);  // unchanged: keep the one copy the cache shares, nothing to redo
            continue;
        }
        now.push_back(object);
        auto shared = shared_owners_.find(key);
        if (!previous) {  // newly defined here: another file may define it too (rare: a duplicate)
            if (shared != shared_owners_.end()) {
                shared->second.push_back(self);
            } else if (cache_.find(key)) {
                for (const auto& [other, other_objects] : by_file_) {
                    if (&other != self && find_object(other_objects, key)) {
                        shared = shared_owners_.emplace(key, std::vector<const std::string*>{&other, self}).first;
                        break;
                    }
                }
            }
        }
        changed.emplace_back(key, shared != shared_owners_.end() ? last_file(shared->second) : self);
    }
    held = std::move(now);
    for (auto& [key, winner] : changed) {
        if (!touched_.contains(key)) {
            // Only keys that had an entry: on a full sync into an empty cache
            // every key is new, and 25,000 null entries cost ~3 MB.
            if (auto before = cache_.shared(key)) previous_.emplace(key, std::move(before));
        }
        if (winner) cache_.upsert(*find_object(by_file_.at(*winner), key));  // shared, not copied
        else cache_.erase(key);
        if (winner && shared_owners_.contains(key))
            duplicates_[key] = "duplicate " + describe(key) + " (again in " + *winner + "): the later file wins";
        else duplicates_.erase(key);
        touched_.insert(std::move(key));
    }
}

void LastGoodObjects::forget_last_update() {
    touched_.clear();
    touched_pool_->release();
    std::map<ObjectKey, Shared>().swap(previous_);
}

std::shared_ptr<const Object> LastGoodObjects::previous(const ObjectKey& key) const {
    auto it = previous_.find(key);
    return it == previous_.end() ? nullptr : it->second;
}

std::vector<std::string> LastGoodObjects::errors() const {
    std::vector<std::string> all;
    for (const auto& [file, lines] : errors_) all.insert(all.end(), lines.begin(), lines.end());
    return all;
}

}  // namespace xgress::agent::k8s
