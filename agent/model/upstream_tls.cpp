#include "model/upstream_tls.h"

namespace xgress::agent::model {

void apply_upstream_tls(snapshot::Route& route, const RouteOptions& o, const std::string& namespace_,
                        const std::string& service_name, const k8s::ObjectCache& objects, const std::string& owner,
                        std::vector<std::string>& problems) {
    if (o.backend_protocol != BackendProtocol::Https) return;
    route.upstream_server_name =
        !o.proxy_ssl_name.empty() ? o.proxy_ssl_name : service_name + "." + namespace_ + ".svc";
    if (!o.proxy_ssl_verify) return;
    route.upstream_verify = true;
    if (o.proxy_ssl_secret.empty()) {
        problems.push_back("Ingress " + owner +
                           ": proxy-ssl-verify is on without proxy-ssl-secret; every endpoint certificate is refused");
        return;
    }
    const auto slash = o.proxy_ssl_secret.find('/');
    const k8s::TlsSecret* secret =
        objects.find<k8s::TlsSecret>(o.proxy_ssl_secret.substr(0, slash), o.proxy_ssl_secret.substr(slash + 1));
    if (!secret) {
        problems.push_back("Ingress " + owner + ": proxy-ssl-secret: Secret " + o.proxy_ssl_secret +
                           " not found or not a valid kubernetes.io/tls Secret; every endpoint certificate is refused");
        return;
    }
    if (secret->ca_pem.empty()) {
        problems.push_back("Ingress " + owner + ": proxy-ssl-secret: Secret " + o.proxy_ssl_secret +
                           " has no ca.crt; every endpoint certificate is refused");
        return;
    }
    route.upstream_ca_pem = secret->ca_pem;
}

}  // namespace xgress::agent::model
