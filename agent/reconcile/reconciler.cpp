#include "reconcile/reconciler.h"

#include <utility>

#include "xgress/snapshot.h"

namespace xgress::agent::reconcile {

Reconciler::Reconciler(model::Settings settings, ApplyTarget& target, std::uint64_t first_version)
    : settings_(std::move(settings)), target_(target), next_version_(first_version) {}

PassResult Reconciler::reconcile(const k8s::LoadedManifests& loaded) {
    PassResult result;
    std::vector<std::string> messages;
    const k8s::ObjectCache& objects = last_good_.update(loaded, messages);
    model::DesiredState next = model::compute_desired_state(objects, settings_);

    // Every file's errors, not only the ones this (maybe partial) load read.
    const std::vector<std::string> errors = last_good_.errors();
    std::set<std::string> now;
    for (const std::vector<std::string>* list : {&errors, &std::as_const(messages), &std::as_const(next.problems)}) {
        for (const std::string& line : *list) {
            if (!reported_.contains(line)) result.new_problems.push_back(line);
            now.insert(line);
        }
    }
    reported_ = std::move(now);

    if (!policy_applied_ || next.node_port_policy != applied_policy_) {
        if (auto applied = target_.apply_node_port_policy(next.node_port_policy); applied) {
            policy_applied_ = true;
            applied_policy_ = next.node_port_policy;
        } else {
            result.new_problems.push_back("dataplane: NodePort policy: " + applied.error());
        }
    }
    if (first_ || next.frontends != state_.frontends) {
        if (auto applied = target_.apply_frontends(next.frontends); applied) {
            result.frontends_applied = true;
        } else {
            // Keep what the kernel holds as our view, so the next pass retries.
            result.new_problems.push_back("dataplane: " + applied.error() + "; keeping the previous frontends");
            next.frontends = state_.frontends;
        }
    }
    next.snapshot.version = state_.snapshot.version;
    if (first_ || next.snapshot != state_.snapshot) {
        next.snapshot.version = next_version_++;
        target_.publish(next.snapshot.version, snapshot::encode(next.snapshot));
        result.snapshot_published = true;
    }
    first_ = false;
    state_ = std::move(next);
    result.version = state_.snapshot.version;
    return result;
}

}  // namespace xgress::agent::reconcile
