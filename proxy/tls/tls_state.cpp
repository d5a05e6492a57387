#include "tls/tls_state.h"

#include <fmt/format.h>

#include "tls/ocsp_staple.h"

namespace xgress::tls {

TlsStateBuilder::TlsStateBuilder(std::shared_ptr<TicketKeyRing> tickets, ServerPolicy policy)
    : tickets_(std::move(tickets)), policy_(std::move(policy)) {}

std::expected<std::shared_ptr<const TlsState>, std::string> TlsStateBuilder::build(const snapshot::Snapshot& snap,
                                                                                    std::time_t now) {
    auto state = std::make_shared<TlsState>();
    std::unordered_map<std::string, Loaded> next;
    std::vector<std::shared_ptr<const Certificate>> certs;
    std::shared_ptr<const Certificate> wanted_default;
    std::unordered_map<const Certificate*, std::string> staples;
    for (const snapshot::Certificate& c : snap.certificates) {
        Loaded entry;
        auto previous = by_name_.find(c.name);
        if (previous != by_name_.end() && previous->second.cert_pem == c.cert_pem &&
            previous->second.key_pem == c.key_pem && previous->second.cert) {
            entry = previous->second;  // unchanged: no parsing
        } else {
            auto loaded = load_certificate(c.name, c.cert_pem, c.key_pem, now);
            entry.cert_pem = c.cert_pem;
            entry.key_pem = c.key_pem;
            if (loaded) {
                entry.cert = *loaded;
            } else if (previous != by_name_.end() && previous->second.cert) {
                entry.cert = previous->second.cert;
                state->problems.push_back(loaded.error() + " (serving the previous good certificate)");
            } else {
                state->problems.push_back(loaded.error() + " (not served; its hosts get the default certificate)");
            }
        }
        if (entry.cert && !c.ocsp_staple.empty()) {
            // Checked on every build: a staple ages out (nextUpdate) while the certificate does not.
            auto der = decode_base64_text(c.ocsp_staple);
            auto checked = der ? check_ocsp_staple(*entry.cert, *der, now) : std::unexpected(der.error());
            if (checked) staples.emplace(entry.cert.get(), std::move(*checked));
            else state->problems.push_back(fmt::format("certificate {}: ocsp_staple: {} (served without a staple)",
                                                       c.name, checked.error()));
        }
        if (entry.cert) {
            certs.push_back(entry.cert);
            if (c.name == snap.default_certificate) wanted_default = entry.cert;
        }
        next.emplace(c.name, std::move(entry));
    }
    by_name_ = std::move(next);

    std::shared_ptr<const Certificate> fallback = wanted_default;
    if (!fallback && !snap.default_certificate.empty()) {
        state->problems.push_back(fmt::format("default certificate {}: not loaded (serving the previous default)",
                                              snap.default_certificate));
        fallback = last_default_;
    }
    if (!fallback) {
        if (!self_signed_) {
            auto generated = generate_self_signed("xgress-default", now);
            if (!generated) return std::unexpected("self-signed default certificate: " + generated.error());
            self_signed_ = *generated;
        }
        fallback = self_signed_;
    }
    // The server context is a function of the certificates (by identity),
    // the fallback and the staples (the ticket ring and policy never change):
    // when none changed, the last one serves on. A 10,000-host routing swap
    // then skips an SSL_CTX per certificate (issue 5: swaps in <= 50 ms).
    if (last_server_ && certs == last_certs_ && fallback == last_fallback_ && staples == last_staples_) {
        state->server = last_server_;
    } else {
        auto store = std::make_shared<CertificateStore>(fallback);
        for (auto& cert : certs) store->add(cert);
        auto kept_staples = staples;
        auto server = ServerContext::create(std::move(store), tickets_, policy_, std::move(staples));
        if (!server) return std::unexpected(server.error());
        state->server = std::move(*server);
        last_server_ = state->server;
        last_certs_ = std::move(certs);
        last_fallback_ = fallback;
        last_staples_ = std::move(kept_staples);
    }
    if (wanted_default) last_default_ = wanted_default;

    for (const snapshot::VirtualHost& vh : snap.virtual_hosts)
        if (!vh.passthrough_backend.empty() && !vh.host.empty()) state->passthrough.add(vh.host, vh.passthrough_backend);
    return std::shared_ptr<const TlsState>(std::move(state));
}

}  // namespace xgress::tls
