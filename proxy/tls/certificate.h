// A server certificate ready for TLS handshakes: the leaf, its chain and the
// private key, parsed and checked once, off the data path, when a snapshot
// arrives. Everything that can be wrong with a kubernetes.io/tls Secret
// (malformed PEM, key not matching, expired, not yet valid) is found here and
// reported naming the Secret, so the proxy can keep the host's last good one.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <ctime>
#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace xgress::tls {

struct X509Free {
    void operator()(X509* x) const { X509_free(x); }
};
struct EvpPkeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;

struct Certificate {
    std::string name;                    // where it came from, e.g. "demo/shop-tls"
    X509Ptr leaf;
    std::vector<X509Ptr> chain;          // intermediates, in PEM order
    EvpPkeyPtr key;
    std::vector<std::string> dns_names;  // lower-case SAN DNS names (CN when no SAN)
    std::time_t not_after = 0;
};

// Parses `cert_pem` (leaf first, then intermediates) and `key_pem`, and checks
// that they belong together and that `now` lies in the validity period.
std::expected<std::shared_ptr<const Certificate>, std::string> load_certificate(
    std::string_view name, std::string_view cert_pem, std::string_view key_pem, std::time_t now);

// A self-signed ECDSA P-256 certificate for `common_name`, valid from one hour
// before `now` for `days`: the default certificate when none is configured
// (ingress-nginx does the same, so clients see a certificate, not a reset).
std::expected<std::shared_ptr<const Certificate>, std::string> generate_self_signed(
    std::string_view common_name, std::time_t now, int days = 365);

// PEM encodings of a certificate's leaf and key (tests and the /config dump).
std::string leaf_pem(const Certificate& cert);
std::string key_pem(const Certificate& cert);

}  // namespace xgress::tls
