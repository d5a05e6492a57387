// Turns each load of the manifests into the smallest change to the node:
// keeps the cache (with last-good objects), recomputes the desired state,
// applies frontends to the datapath only when they changed, and publishes a
// new snapshot version only when the routing changed. Problems are logged
// once when they appear, not on every pass (a 1,000-change burst must not
// flood the log with the same warning).
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "k8s/manifests_source.h"
#include "model/desired_state.h"

namespace xgress::agent::reconcile {

// Where a reconcile pass writes: the BPF datapath and the control channel.
class ApplyTarget {
public:
    virtual ~ApplyTarget() = default;
    virtual std::expected<void, std::string> apply_frontends(const std::vector<dataplane::FrontendSpec>& frontends) = 0;
    virtual void publish(std::uint64_t version, std::string payload) = 0;
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
    model::Settings settings_;
    ApplyTarget& target_;
    k8s::LastGoodObjects last_good_;
    model::DesiredState state_;
    std::uint64_t next_version_;
    bool first_ = true;
    bool policy_applied_ = false;
    std::optional<model::NodePortPolicy> applied_policy_;
    std::set<std::string> reported_;
};

}  // namespace xgress::agent::reconcile
