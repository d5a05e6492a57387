#include "reconcile/reconciler.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "model/backend_resolver.h"
#include "model/frontend_builder.h"
#include "model/ip_address.h"
#include "xgress/snapshot.h"

namespace xgress::agent::reconcile {

Reconciler::Reconciler(model::Settings settings, ApplyTarget& target, std::uint64_t first_version)
    : settings_(std::move(settings)), target_(target), next_version_(first_version) {}

Reconciler::SliceOrder::Parts Reconciler::SliceOrder::parts(const Shared& object) {
    const auto& slice = std::get<k8s::EndpointSlice>(*object);
    return Parts{slice.metadata.namespace_, slice.service_name, slice.metadata.name};
}

bool Reconciler::SliceOrder::operator()(const Shared& a, const ServiceKey& b) const {
    const Parts p = parts(a);
    return std::tie(p.namespace_, p.service) < std::tuple<std::string_view, std::string_view>(b.first, b.second);
}

bool Reconciler::SliceOrder::operator()(const ServiceKey& a, const Shared& b) const {
    const Parts p = parts(b);
    return std::tuple<std::string_view, std::string_view>(a.first, a.second) < std::tie(p.namespace_, p.service);
}

std::set<Reconciler::ServiceKey> Reconciler::index_touched_slices() {
    std::set<ServiceKey> affected;
    const k8s::ObjectCache& objects = last_good_.cache();
    for (const k8s::ObjectKey& key : last_good_.last_touched()) {
        if (key.kind != k8s::Kind::EndpointSlice) continue;
        // The Service the slice belonged to before this load (its old version
        // names it), so a slice moved to another Service leaves the old one's index.
        if (const auto before = last_good_.previous(key)) {
            const auto& old = std::get<k8s::EndpointSlice>(*before);
            if (!old.service_name.empty()) {
                service_slices_.erase(before);  // by (namespace, Service, name), whichever copy the index holds
                affected.insert(ServiceKey{key.namespace_, old.service_name});
            }
        }
        auto now = objects.shared(key);
        if (!now) continue;
        const auto& slice = std::get<k8s::EndpointSlice>(*now);
        if (slice.service_name.empty()) continue;
        affected.insert(ServiceKey{key.namespace_, slice.service_name});
        if (auto [it, inserted] = service_slices_.insert(now); !inserted)
            const_cast<std::shared_ptr<const k8s::Object>&>(*it) = std::move(now);  // same order key: in place
    }
    return affected;
}

namespace {

// Whether the proxy frontend `f` is the destination of the BPF frontend `spec`.
bool same_destination(const snapshot::Frontend& f, const dataplane::FrontendSpec& spec) {
    if (f.port != spec.port) return false;
    return spec.node_port ? f.address.empty() : !f.address.empty() && f.address == model::format_ip_address(spec.address);
}

}  // namespace

std::vector<dataplane::FrontendSpec> Reconciler::splice_local_frontends(const std::vector<LocalFlip>& flips) const {
    std::vector<dataplane::FrontendSpec> frontends = state_.frontends;
    model::FrontendInputs inputs;
    inputs.publish_namespace = settings_.publish_namespace;
    inputs.publish_name = settings_.publish_name;
    inputs.node_name = settings_.node_name;
    for (const LocalFlip& flip : flips) {
        const model::Frontends own = model::service_frontends(*flip.service, inputs);
        for (std::size_t i = 0; i < own.specs.size(); ++i) {
            if (own.for_proxy[i].backend != flip.backend) continue;
            const dataplane::FrontendSpec& spec = own.specs[i];
            // Only destinations this backend won in the whole model (the
            // proxy's frontends list every winner, withheld or not).
            const bool owned = std::any_of(state_.snapshot.frontends.begin(), state_.snapshot.frontends.end(),
                                           [&](const snapshot::Frontend& f) {
                                               return f.backend == flip.backend && same_destination(f, spec);
                                           });
            if (!owned) continue;
            auto at = std::lower_bound(frontends.begin(), frontends.end(), spec, model::frontend_order);
            const bool present = at != frontends.end() && !model::frontend_order(spec, *at);
            if (flip.has_endpoints && !present) frontends.insert(at, spec);
            if (!flip.has_endpoints && present) frontends.erase(at);
        }
    }
    return frontends;
}

bool Reconciler::endpoints_pass(const std::set<ServiceKey>& services, PassResult& result) {
    const k8s::ObjectCache& objects = last_good_.cache();
    std::vector<snapshot::Backend>& backends = state_.snapshot.backends;  // sorted by name
    struct Update {
        std::size_t index;
        snapshot::Backend backend;
    };
    std::vector<Update> updates;
    std::vector<LocalFlip> flips;        // Local backends whose BPF frontends appear or go
    std::vector<std::string> problems;   // of the recomputed backends
    std::set<std::string> recomputed;    // their names
    for (const auto& [namespace_, name] : services) {
        const std::string prefix = namespace_ + "/" + name + ":";
        auto it = std::lower_bound(backends.begin(), backends.end(), prefix,
                                   [](const snapshot::Backend& b, const std::string& p) { return b.name < p; });
        const k8s::Service* service = nullptr;
        std::vector<const k8s::EndpointSlice*> slices;
        bool looked_up = false;
        for (; it != backends.end() && it->name.starts_with(prefix); ++it) {
            const auto parsed = model::parse_backend_name(it->name);
            if (!parsed || parsed->service != name) continue;  // an unresolved reference: no endpoints to change
            if (!looked_up) {
                looked_up = true;
                service = objects.find<k8s::Service>(namespace_, name);
                const auto [first, last] = service_slices_.equal_range(ServiceKey{namespace_, name});
                for (auto slice = first; slice != last; ++slice)
                    slices.push_back(&std::get<k8s::EndpointSlice>(**slice));
            }
            if (!service) continue;
            const k8s::ServicePort* port = nullptr;
            for (const k8s::ServicePort& p : service->ports)
                if (p.port == parsed->port) port = &p;
            if (!port) continue;
            snapshot::Backend next =
                model::make_backend(*service, *port, slices, parsed->node_local ? settings_.node_name : "", problems);
            recomputed.insert(it->name);
            // A Local backend's BPF frontends exist only while it has endpoints here.
            if (parsed->node_local && next.endpoints.empty() != it->endpoints.empty())
                flips.push_back(LocalFlip{service, it->name, !next.endpoints.empty()});
            if (next != *it) updates.push_back(Update{static_cast<std::size_t>(it - backends.begin()), std::move(next)});
        }
    }

    // The recomputed backends' problems replace their previous ones.
    std::erase_if(state_.problems, [&](const std::string& line) {
        if (!line.starts_with("backend ")) return false;
        const auto colon = line.find(": ", 8);
        return colon != std::string::npos && recomputed.contains(line.substr(8, colon - 8));
    });
    state_.problems.insert(state_.problems.end(), problems.begin(), problems.end());

    // Like the whole pass: the datapath first, then the proxy.
    if (!flips.empty()) {
        std::vector<dataplane::FrontendSpec> next = splice_local_frontends(flips);
        if (next != state_.frontends) {
            if (auto applied = target_.apply_frontends(next); applied) {
                state_.frontends = std::move(next);
                result.frontends_applied = true;
            } else {
                // Keep what the kernel holds as our view; the next pass runs the whole model.
                result.new_problems.push_back("dataplane: " + applied.error() + "; keeping the previous frontends");
                retry_pending_ = true;
            }
        }
    }

    if (!updates.empty()) {
        snapshot::EndpointsPatch patch;
        patch.base_version = state_.snapshot.version;
        patch.version = next_version_++;
        for (Update& update : updates) {
            patch.backends.push_back(update.backend);
            backends[update.index] = std::move(update.backend);
        }
        state_.snapshot.version = patch.version;
        target_.publish_patch(patch.version, patch.base_version, snapshot::encode_patch(patch),
                              [this] { return snapshot::encode(state_.snapshot); });
        result.snapshot_published = true;
        result.patch = true;
    }
    return true;
}

void Reconciler::report(const std::vector<std::string>& messages, const std::vector<std::string>& problems,
                        PassResult& result) {
    // Every file's errors, not only the ones this (maybe partial) load read.
    const std::vector<std::string> errors = last_good_.errors();
    std::set<std::string> now;
    for (const std::vector<std::string>* list : {&errors, &messages, &problems}) {
        for (const std::string& line : *list) {
            if (!reported_.contains(line)) result.new_problems.push_back(line);
            now.insert(line);
        }
    }
    reported_ = std::move(now);
}

PassResult Reconciler::reconcile(const k8s::LoadedManifests& loaded) {
    PassResult result;
    std::vector<std::string> messages;
    const k8s::ObjectCache& objects = last_good_.update(loaded, messages);
    const std::set<ServiceKey> affected = index_touched_slices();

    const bool only_slices = std::all_of(last_good_.last_touched().begin(), last_good_.last_touched().end(),
                                         [](const k8s::ObjectKey& key) { return key.kind == k8s::Kind::EndpointSlice; });
    // A datapath write that failed is retried by the whole pass only.
    if (!first_ && only_slices && !retry_pending_ && endpoints_pass(affected, result)) {
        report(messages, state_.problems, result);
        result.version = state_.snapshot.version;
        last_good_.forget_last_update();
        return result;
    }
    retry_pending_ = false;

    model::DesiredState next = model::compute_desired_state(objects, settings_);
    report(messages, next.problems, result);

    if (!policy_applied_ || next.node_port_policy != applied_policy_) {
        if (auto applied = target_.apply_node_port_policy(next.node_port_policy); applied) {
            policy_applied_ = true;
            applied_policy_ = next.node_port_policy;
        } else {
            result.new_problems.push_back("dataplane: NodePort policy: " + applied.error());
            retry_pending_ = true;
        }
    }
    if (first_ || next.frontends != state_.frontends) {
        if (auto applied = target_.apply_frontends(next.frontends); applied) {
            result.frontends_applied = true;
        } else {
            // Keep what the kernel holds as our view, so the next pass retries.
            result.new_problems.push_back("dataplane: " + applied.error() + "; keeping the previous frontends");
            next.frontends = state_.frontends;
            retry_pending_ = true;
        }
    }
    next.snapshot.version = state_.snapshot.version;
    if (first_ || next.snapshot != state_.snapshot) {
        next.snapshot.version = next_version_++;
        target_.publish(next.snapshot.version, snapshot::encode(next.snapshot),
                        [this] { return snapshot::encode(state_.snapshot); });
        result.snapshot_published = true;
    }
    first_ = false;
    state_ = std::move(next);
    result.version = state_.snapshot.version;
    last_good_.forget_last_update();
    return result;
}

}  // namespace xgress::agent::reconcile
