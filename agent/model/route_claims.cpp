#include "model/route_claims.h"

#include <algorithm>
#include <cctype>

namespace xgress::agent::model {
namespace {

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

const char* match_name(snapshot::PathMatch match) {
    return match == snapshot::PathMatch::Exact ? "Exact" : "Prefix";
}

}  // namespace

std::string normalize_path(const std::string& path, snapshot::PathMatch match) {
    if (match == snapshot::PathMatch::Exact) return path;
    std::string result = path;
    while (result.size() > 1 && result.back() == '/') result.pop_back();
    return result;
}

void order_by_age(std::vector<const k8s::Ingress*>& ingresses) {
    std::sort(ingresses.begin(), ingresses.end(), [](const k8s::Ingress* a, const k8s::Ingress* b) {
        const auto& ma = a->metadata;
        const auto& mb = b->metadata;
        return std::tuple(ma.creation_timestamp.empty(), ma.creation_timestamp, ma.namespace_, ma.name) <
               std::tuple(mb.creation_timestamp.empty(), mb.creation_timestamp, mb.namespace_, mb.name);
    });
}

void RouteClaims::add(const k8s::Ingress& ingress, const std::string& table_class) {
    const std::string owner = ingress.metadata.namespace_ + "/" + ingress.metadata.name;
    created_[owner] = ingress.metadata.creation_timestamp;
    auto describe_owner = [&](const std::string& who) {
        const std::string& ts = created_[who];
        return "Ingress " + who + " (created " + (ts.empty() ? std::string("unknown") : ts) + ")";
    };

    if (ingress.default_backend && !table_class.empty()) {
        RouteClaim claim{ingress.metadata.namespace_, *ingress.default_backend, owner, "spec.defaultBackend"};
        auto [it, inserted] = class_default_backends_.try_emplace(table_class, claim);
        if (!inserted)
            problems_.push_back("conflict: default backend of class " + table_class + ": " +
                                describe_owner(it->second.owner) + " wins over " + describe_owner(owner));
    } else if (ingress.default_backend) {
        RouteClaim claim{ingress.metadata.namespace_, *ingress.default_backend, owner, "spec.defaultBackend"};
        if (!default_backend_) {
            default_backend_ = std::move(claim);
        } else {
            problems_.push_back("conflict: default backend: " + describe_owner(default_backend_->owner) +
                                " wins over " + describe_owner(owner));
        }
    }

    for (std::size_t r = 0; r < ingress.rules.size(); ++r) {
        const k8s::IngressRule& rule = ingress.rules[r];
        for (std::size_t p = 0; p < rule.paths.size(); ++p) {
            const k8s::IngressPath& path = rule.paths[p];
            const auto match = path.path_type == "Exact" ? snapshot::PathMatch::Exact
                                                         : snapshot::PathMatch::Prefix;  // ImplementationSpecific too
            RouteKey key{table_class, lower(rule.host), normalize_path(path.path, match), match};
            const std::string field =
                "spec.rules[" + std::to_string(r) + "].http.paths[" + std::to_string(p) + "]";
            auto [it, inserted] = routes_.try_emplace(key, RouteClaim{ingress.metadata.namespace_,
                                                                      path.backend, owner, field});
            if (inserted) continue;
            const std::string what = "host \"" + key.host + "\" " + match_name(match) + " path \"" +
                                     key.path + "\"" + (table_class.empty() ? "" : " in class " + table_class);
            if (it->second.owner == owner) {
                problems_.push_back("Ingress " + owner + ": " + field + ": duplicate of " + it->second.field +
                                    " (" + what + "), ignored");
            } else {
                problems_.push_back("conflict: " + what + ": " + describe_owner(it->second.owner) + " " +
                                    it->second.field + " wins over " + describe_owner(owner) + " " + field);
            }
        }
    }
}

}  // namespace xgress::agent::model
