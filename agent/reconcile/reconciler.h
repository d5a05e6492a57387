// Turns each load of the manifests into the smallest change to the node:
// keeps the cache (with last-good objects), recomputes the desired state,
// applies frontends to the datapath only when they changed, and publishes a
// new snapshot version only when the routing changed. Problems are logged
// once when they appear, not on every pass (a 1,000-change burst must not
// flood the log with the same warning).
//
// Endpoint fast path: when a load changed nothing but EndpointSlices, only
// the backends of the Services those slices belong to (before and after the
// change) are recomputed, from an index Service -> slices kept across
// passes, and the result goes out as an EndpointsPatch (publish_patch).
// When a Local-policy backend gains its first or loses its last endpoint
// here, only its BPF frontends appear or go: that Service's frontends are
// recomputed (model::service_frontends) and spliced into the applied list
// (the proxy keeps its frontend and empty backend either way). The whole
// model runs only when something else changed. Both paths give the same
// state; the tests compare them.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "k8s/manifests_source.h"
#include "model/desired_state.h"

namespace xgress::agent::reconcile {

// Where a reconcile pass writes: the BPF datapath and the control channel.
class ApplyTarget {
public:
    virtual ~ApplyTarget() = default;
    virtual std::expected<void, std::string> apply_frontends(const std::vector<dataplane::FrontendSpec>& frontends) = 0;
    // `payload` is the whole snapshot of `version`; `reencode` produces it
    // again while `version` is current, so the channel may drop the encoded
    // copy once every proxy ACKed it (5 MB at 100,000 endpoints) and encode
    // again only for a proxy that connects later.
    virtual void publish(std::uint64_t version, std::string payload, std::function<std::string()> reencode) = 0;
    // `version` = `base_version` + an EndpointsPatch (JSON); `full_payload`
    // encodes the whole snapshot of `version` when needed (see
    // ControlServer::publish_patch). Default: publish the whole snapshot.
    virtual void publish_patch(std::uint64_t version, std::uint64_t base_version, std::string patch_payload,
                               std::function<std::string()> full_payload) {
        (void)base_version;
        (void)patch_payload;
        std::string payload = full_payload();
        publish(version, std::move(payload), std::move(full_payload));
    }
    // The class parameters' NodePort range policy (nullopt: none set one).
    // Called on the first pass, before the first apply_frontends, and
    // whenever it changes; a failure is retried on the next pass.
    virtual std::expected<void, std::string> apply_node_port_policy(const std::optional<model::NodePortPolicy>&) {
        return {};
    }
};

struct PassResult {
    bool frontends_applied = false;
    bool snapshot_published = false;
    bool patch = false;                 // published as an EndpointsPatch (the endpoint fast path)
    std::uint64_t version = 0;          // the snapshot version now current
    std::vector<std::string> new_problems;  // problems not reported by the previous pass
};

class Reconciler {
public:
    // `first_version` is the version the first snapshot gets; later ones count up.
    Reconciler(model::Settings settings, ApplyTarget& target, std::uint64_t first_version);

    // `loaded` is a full load of the directory or a partial one (only the
    // files that changed); either way the model sees every object.
    PassResult reconcile(const k8s::LoadedManifests& loaded);

    const model::DesiredState& state() const { return state_; }
    const k8s::ObjectCache& objects() const { return last_good_.cache(); }

private:
    using ServiceKey = std::pair<std::string, std::string>;  // (namespace, name)
    // Keeps service_slices_ in step with the touched keys;
    // returns the Services whose slices changed (before and after).
    std::set<ServiceKey> index_touched_slices();
    // The endpoint fast path; false when the whole model must run.
    bool endpoints_pass(const std::set<ServiceKey>& services, PassResult& result);
    // A Local-policy backend that gained its first or lost its last endpoint here.
    struct LocalFlip {
        const k8s::Service* service;
        std::string backend;
        bool has_endpoints;
    };
    // state_.frontends with the flipped backends' BPF frontends added or removed.
    std::vector<dataplane::FrontendSpec> splice_local_frontends(const std::vector<LocalFlip>& flips) const;
    void report(const std::vector<std::string>& messages, const std::vector<std::string>& problems,
                PassResult& result);

    model::Settings settings_;
    ApplyTarget& target_;
    k8s::LastGoodObjects last_good_;
    model::DesiredState state_;
    std::uint64_t next_version_;
    bool first_ = true;
    bool policy_applied_ = false;
    bool retry_pending_ = false;  // a datapath write failed: the next pass runs the whole model
    std::optional<model::NodePortPolicy> applied_policy_;
    std::set<std::string> reported_;
    // Every slice that names a Service, ordered by (namespace, Service,
    // slice name), shared with the cache: ~48 bytes per slice where a map of
    // Service -> slice keys cost ~270 bytes per Service.
    struct SliceOrder {
        using is_transparent = void;
        using Shared = std::shared_ptr<const k8s::Object>;
        struct Parts {
            std::string_view namespace_, service, name;
            auto operator<=>(const Parts&) const = default;
        };
        static Parts parts(const Shared& slice);
        bool operator()(const Shared& a, const Shared& b) const { return parts(a) < parts(b); }
        // Heterogeneous lookups by Service only: all of its slices compare equal.
        bool operator()(const Shared& a, const ServiceKey& b) const;
        bool operator()(const ServiceKey& a, const Shared& b) const;
    };
    std::set<std::shared_ptr<const k8s::Object>, SliceOrder> service_slices_;
};

}  // namespace xgress::agent::reconcile
