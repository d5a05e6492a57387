#include <gtest/gtest.h>

#include "model/endpoint_dump.h"
#include "test_objects.h"

namespace xgress::agent::model {
namespace {

TEST(EndpointDump, OneLinePerAddressAndPort) {
    const auto objects = test::objects_from_yaml(R"(
kind: EndpointSlice
metadata: {name: web-abc, namespace: demo, labels: {kubernetes.io/service-name: web}}
ports: [{name: http, port: 8080}, {name: admin, port: 9000}]
endpoints:
  - {addresses: [10.0.0.1], targetRef: {kind: Pod, name: web-0}}
  - {addresses: [10.0.0.2], conditions: {ready: false}}
---
kind: EndpointSlice
metadata: {name: orphan, namespace: a}
ports: [{port: 81}]
endpoints: [{addresses: [10.0.0.9]}]
)");
    EXPECT_EQ(format_endpoint_dump(objects),
              "10.0.0.9\ta\torphan-10.0.0.9\torphan\t81\n"
              "10.0.0.1\tdemo\tweb-0\tweb\t8080\n"
              "10.0.0.1\tdemo\tweb-0\tweb\t9000\n"
              "10.0.0.2\tdemo\tweb-10.0.0.2\tweb\t8080\n"
              "10.0.0.2\tdemo\tweb-10.0.0.2\tweb\t9000\n");
}

}  // namespace
}  // namespace xgress::agent::model
