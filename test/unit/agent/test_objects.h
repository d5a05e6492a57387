// Builds an ObjectCache from inline YAML, so model tests read like manifests.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "k8s/manifests_source.h"

namespace xgress::agent::test {

inline k8s::ObjectCache objects_from_yaml(const std::string& yaml) {
    k8s::LoadedManifests loaded;
    k8s::load_manifest_text(yaml, "inline.yaml", loaded);
    for (const auto& error : loaded.errors) ADD_FAILURE() << "test manifest error: " << error;
    std::vector<std::string> messages;
    return k8s::build_cache(loaded, messages);
}

inline bool contains_message(const std::vector<std::string>& messages, const std::string& needle) {
    for (const auto& m : messages) {
        if (m.find(needle) != std::string::npos) return true;
    }
    return false;
}

}  // namespace xgress::agent::test
