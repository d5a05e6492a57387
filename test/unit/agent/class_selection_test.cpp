#include <gtest/gtest.h>

#include "model/desired_state.h"
#include "test_objects.h"

namespace xgress::agent::model {
namespace {

using test::objects_from_yaml;

const std::string kClasses = R"(
kind: IngressClass
metadata: {name: ours}
spec: {controller: xgress.io/ingress-controller}
---
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}
---
kind: Service
metadata: {name: web, namespace: demo}
spec: {ports: [{port: 80}]}
)";

const std::string kDefaultOurs = R"(
---
kind: IngressClass
metadata:
  name: ours-default
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec: {controller: xgress.io/ingress-controller}
)";

std::string ingress(const std::string& name, const std::string& class_line, const std::string& annotations = "") {
    return "\n---\nkind: Ingress\nmetadata:\n  name: " + name + "\n  namespace: demo\n" + annotations +
           "spec:\n" + class_line + "  rules: [{host: " + name +
           ".example.com, http: {paths: [{path: /, pathType: Prefix, "
           "backend: {service: {name: web, port: {number: 80}}}}]}}]\n";
}

std::vector<std::string> served_hosts(const std::string& yaml) {
    const DesiredState state = compute_desired_state(objects_from_yaml(yaml), Settings{});
    std::vector<std::string> hosts;
    for (const auto& vh : state.snapshot.virtual_hosts) hosts.push_back(vh.host);
    return hosts;
}

TEST(ClassSelection, ByIngressClassName) {
    EXPECT_EQ(served_hosts(kClasses + ingress("a", "  ingressClassName: ours\n") +
                           ingress("b", "  ingressClassName: nginx\n") +
                           ingress("c", "  ingressClassName: missing\n")),
              std::vector<std::string>{"a.example.com"});
}

TEST(ClassSelection, ByLegacyAnnotation) {
    EXPECT_EQ(served_hosts(kClasses + ingress("a", "", "  annotations: {kubernetes.io/ingress.class: ours}\n") +
                           ingress("b", "", "  annotations: {kubernetes.io/ingress.class: nginx}\n")),
              std::vector<std::string>{"a.example.com"});
}

TEST(ClassSelection, ClassNameBeatsAnnotation) {
    EXPECT_TRUE(served_hosts(kClasses + ingress("a", "  ingressClassName: nginx\n",
                                                "  annotations: {kubernetes.io/ingress.class: ours}\n"))
                    .empty());
}

TEST(ClassSelection, NoClassNeedsOurDefaultClass) {
    EXPECT_TRUE(served_hosts(kClasses + ingress("a", "")).empty());
    EXPECT_EQ(served_hosts(kClasses + kDefaultOurs + ingress("a", "") + ingress("b", "  ingressClassName: nginx\n")),
              std::vector<std::string>{"a.example.com"});
}

TEST(ClassSelection, ForeignDefaultClassDoesNotMakeItOurs) {
    const std::string foreign_default = R"(
---
kind: IngressClass
metadata:
  name: nginx-default
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec: {controller: k8s.io/ingress-nginx}
)";
    EXPECT_TRUE(served_hosts(kClasses + foreign_default + ingress("a", "")).empty());
}

TEST(ClassSelection, ControllerNameIsASetting) {
    Settings settings;
    settings.controller = "k8s.io/ingress-nginx";
    const DesiredState state =
        compute_desired_state(objects_from_yaml(kClasses + ingress("b", "  ingressClassName: nginx\n")), settings);
    ASSERT_EQ(state.snapshot.virtual_hosts.size(), 1u);
    EXPECT_EQ(state.snapshot.virtual_hosts[0].host, "b.example.com");
}

}  // namespace
}  // namespace xgress::agent::model
