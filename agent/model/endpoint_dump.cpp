#include "model/endpoint_dump.h"

namespace xgress::agent::model {

std::string format_endpoint_dump(const k8s::ObjectCache& objects) {
    std::string out;
    for (const k8s::EndpointSlice* slice : objects.list<k8s::EndpointSlice>()) {
        const std::string service = !slice->service_name.empty() ? slice->service_name : slice->metadata.name;
        for (const k8s::Endpoint& endpoint : slice->endpoints) {
            endpoint.for_each_address([&](std::string_view view) {
                const std::string address(view);
                const std::string pod = endpoint.target_ref_name().empty() ? service + "-" + address
                                                                           : std::string(endpoint.target_ref_name());
                for (const k8s::EndpointPort& port : slice->ports) {
                    if (port.port == 0) continue;
                    out += address + "\t" + slice->metadata.namespace_ + "\t" + pod + "\t" + service + "\t" +
                           std::to_string(port.port) + "\n";
                }
            });
        }
    }
    return out;
}

}  // namespace xgress::agent::model
