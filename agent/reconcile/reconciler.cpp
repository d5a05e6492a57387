#include "reconcile/reconciler.h"

#include <utility>

#include "xgress/snapshot.h"

namespace xgress::agent::reconcile {

Reconciler::Reconciler(model::Settings settings, ApplyTarget& target, std::uint64_t first_version)
    : settings_(std::move(settings)), target_(target), next_version_(first_version) {}

PassResult Reconciler::reconcile(const k8s::LoadedManifests& loaded) {
    PassResult result;
    std::vector<std::string> messages;
    objects_ = last_good_.update(loaded, messages);
    model::DesiredState next = model::compute_desired_state(objects_, settings_);

    std::set<std::string> now;
    for (const std::vector<std::string>* list : {&loaded.errors, &std::as_const(messages), &std::as_const(next.problems)}) {
        for (const std::string& line : *list) {
            if (!reported_.contains(line)) result.new_problems.push_back(line);
            now.insert(line);
        }
    }
    reported_ = std::move(now);

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
