// Checks a kubernetes.io/tls Secret's payload with OpenSSL before anything
// uses it: base64 decoding of the data fields, the PEM certificate chain, the
// PEM private key, and that the key belongs to the leaf certificate. A Secret
// that fails is rejected with the reason, so the previous good version stays.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace xgress::agent::k8s {

struct TlsPairInfo {
    std::vector<std::string> dns_names;  // subjectAltName DNS entries, else the CN
    std::string not_after;
};

// Standard base64 (Secret .data); whitespace ignored.
std::expected<std::string, std::string> decode_base64(std::string_view text);

// Error text names which half is wrong: "tls.crt: ...", "tls.key: ...".
std::expected<TlsPairInfo, std::string> validate_tls_pair(const std::string& certificate_pem,
                                                          const std::string& private_key_pem);

// A CA bundle (a Secret's ca.crt: one or more PEM certificates) parses.
std::expected<void, std::string> validate_ca_bundle(const std::string& pem);

}  // namespace xgress::agent::k8s
