// What the workers need to terminate TLS, built from a routing snapshot off
// the data path (control thread) and then shared read-only: the ServerContext
// (certificates by SNI, policy, ticket keys) and the ssl-passthrough hosts.
//
// Certificate errors never reject a snapshot: one bad Secret must not stop
// every other route and endpoint update. Instead (issue 6: "the host keeps
// its last good certificate"):
//   - a certificate that fails to load but loaded under the same name before
//     keeps serving the previous good one;
//   - one that never loaded is left out (its hosts get the default certificate);
//   - a default_certificate that cannot be used falls back to the previous
//     default, else to the proxy's self-signed one.
// Each case is reported in TlsState::problems, naming the certificate.
#pragma once

#include <ctime>
#include <expected>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "tls/passthrough_hosts.h"
#include "tls/server_context.h"
#include "xgress/snapshot.h"

namespace xgress::tls {

struct TlsState {
    std::shared_ptr<const ServerContext> server;
    PassthroughHosts passthrough;
    std::vector<std::string> problems;  // "certificate demo/bad: ... (serving the previous one)"
};

class TlsStateBuilder {
public:
    explicit TlsStateBuilder(std::shared_ptr<TicketKeyRing> tickets, ServerPolicy policy = {});

    // Unchanged PEM text is not parsed again, and when no certificate, the
    // default or a staple changed, the previous ServerContext is reused (so
    // its address is stable too). Fails only when OpenSSL cannot
    // build a context at all (then the caller NACKs and keeps its state).
    std::expected<std::shared_ptr<const TlsState>, std::string> build(const snapshot::Snapshot& snap, std::time_t now);

    TicketKeyRing& tickets() { return *tickets_; }

private:
    struct Loaded {
        std::string cert_pem;
        std::string key_pem;
        std::shared_ptr<const Certificate> cert;  // last good; null if it never loaded
    };
    std::shared_ptr<TicketKeyRing> tickets_;
    ServerPolicy policy_;
    std::unordered_map<std::string, Loaded> by_name_;
    std::shared_ptr<const Certificate> self_signed_;
    std::shared_ptr<const Certificate> last_default_;
    // The last server context and what it was made from (reused while equal).
    std::shared_ptr<const ServerContext> last_server_;
    std::vector<std::shared_ptr<const Certificate>> last_certs_;
    std::shared_ptr<const Certificate> last_fallback_;
    std::unordered_map<const Certificate*, std::string> last_staples_;
};

}  // namespace xgress::tls
