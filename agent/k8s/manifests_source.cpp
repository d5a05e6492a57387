#include "k8s/manifests_source.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <system_error>

#include <yaml-cpp/yaml.h>

#include "k8s/object_decoder.h"

namespace xgress::agent::k8s {
namespace {

bool is_manifest_file(const std::filesystem::directory_entry& entry) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.front() == '.') return false;
    std::error_code ec;
    if (!entry.is_regular_file(ec)) return false;
    const std::string ext = entry.path().extension().string();
    return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

void load_document(const YAML::Node& document, const std::string& source, const std::string& where,
                   LoadedManifests& out) {
    auto decoded = decode_object(document);
    if (!decoded) {
        out.errors.push_back(where + ": " + decoded.error().to_string());
        out.files_with_errors.insert(source);
        return;
    }
    if (auto* unknown = std::get_if<UnknownKind>(&*decoded)) {
        out.skipped.push_back(where + ": skipping unsupported kind " + unknown->kind +
                              (unknown->api_version.empty() ? "" : " (" + unknown->api_version + ")") +
                              (unknown->name.empty() ? "" : " " + unknown->name));
        return;
    }
    out.objects.push_back(std::get<Object>(std::move(*decoded)));
    out.object_sources.push_back(source);
}

}  // namespace

void load_manifest_text(std::string_view text, const std::string& source, LoadedManifests& out) {
    std::vector<YAML::Node> documents;
    try {
        documents = YAML::LoadAll(std::string(text));
    } catch (const YAML::Exception& e) {
        // yaml-cpp counts from 0; editors count from 1.
        out.errors.push_back(source + ": line " + std::to_string(e.mark.line + 1) + ", column " +
                             std::to_string(e.mark.column + 1) + ": " + e.msg +
                             " (file skipped)");
        out.files_with_errors.insert(source);
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
                    out.errors.push_back(where + ": List: items: expected a list");
                    out.files_with_errors.insert(source);
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
            out.errors.push_back(where + ": " + e.what());
            out.files_with_errors.insert(source);
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
    for (const auto& path : paths) {
        std::ifstream file(path, std::ios::binary);
        std::ostringstream text;
        text << file.rdbuf();
        if (!file) {
            out.errors.push_back(path.string() + ": cannot read file");
            out.files_with_errors.insert(path.string());
            continue;
        }
        out.files.push_back(path.string());
        load_manifest_text(text.str(), path.string(), out);
    }
    return out;
}

ObjectCache build_cache(const LoadedManifests& manifests, std::vector<std::string>& messages) {
    ObjectCache cache;
    for (const Object& object : manifests.objects) {
        if (cache.upsert(object)) {
            messages.push_back("duplicate " + describe(key_of(object)) + ": the later definition wins");
        }
    }
    return cache;
}

}  // namespace xgress::agent::k8s

namespace xgress::agent::k8s {

ObjectCache LastGoodObjects::update(const LoadedManifests& loaded, std::vector<std::string>& messages) {
    std::map<std::string, std::map<ObjectKey, Object>> next;
    for (const std::string& file : loaded.files) next[file];
    for (const std::string& file : loaded.files_with_errors) next[file];
    for (std::size_t i = 0; i < loaded.objects.size(); ++i) {
        const std::string& file = i < loaded.object_sources.size() ? loaded.object_sources[i] : std::string();
        next[file].insert_or_assign(key_of(loaded.objects[i]), loaded.objects[i]);
    }
    for (const std::string& file : loaded.files_with_errors) {
        auto previous = by_file_.find(file);
        if (previous == by_file_.end()) continue;
        auto& now = next[file];
        for (const auto& [key, object] : previous->second) {
            if (now.contains(key)) continue;
            messages.push_back(file + ": " + describe(key) + " did not load; keeping its last good version");
            now.emplace(key, object);
        }
    }
    by_file_ = std::move(next);

    ObjectCache cache;
    for (const auto& [file, objects] : by_file_) {
        for (const auto& [key, object] : objects) {
            if (cache.upsert(object)) {
                messages.push_back("duplicate " + describe(key) + " (again in " + file + "): the later file wins");
            }
        }
    }
    return cache;
}

}  // namespace xgress::agent::k8s
