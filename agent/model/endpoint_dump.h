// `xgress-agent --dump-endpoints`: one line per (endpoint address, port) of
// every EndpointSlice, "address<TAB>namespace<TAB>pod<TAB>service<TAB>port",
// so the lab can start an echo backend per pod without parsing manifests.
#pragma once

#include <string>

#include "k8s/object_cache.h"

namespace xgress::agent::model {

std::string format_endpoint_dump(const k8s::ObjectCache& objects);

}  // namespace xgress::agent::model
