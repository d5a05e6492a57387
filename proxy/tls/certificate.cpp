#include "tls/certificate.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <fmt/format.h>

namespace xgress::tls {
namespace {

struct BioFree {
    void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

// The most recent OpenSSL error as text, and the queue cleared, so one bad
// Secret never leaks its errors into the next handshake's error checks.
std::string openssl_error() {
    unsigned long code = ERR_peek_last_error();
    std::string text = "unknown error";
    if (code != 0) {
        char buf[256];
        ERR_error_string_n(code, buf, sizeof buf);
        text = buf;
    }
    ERR_clear_error();
    return text;
}

BioPtr memory_bio(std::string_view data) {
    return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::ranges::transform(out, out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

std::vector<std::string> dns_names_of(X509* leaf) {
    std::vector<std::string> names;
    auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr));
    if (sans != nullptr) {
        for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
            const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
            if (gn->type != GEN_DNS) continue;
            const ASN1_STRING* s = gn->d.dNSName;
            names.push_back(lower({reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                   static_cast<std::size_t>(ASN1_STRING_length(s))}));
        }
        GENERAL_NAMES_free(sans);
    }
    if (!names.empty()) return names;
    // Legacy certificates without SANs: browsers ignore the CN, but selecting
    // by it costs nothing and keeps old Secrets working for SNI routing.
    X509_NAME* subject = X509_get_subject_name(leaf);
    int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (idx >= 0) {
        const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
        names.push_back(lower({reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                               static_cast<std::size_t>(ASN1_STRING_length(s))}));
    }
    return names;
}

std::time_t to_time_t(const ASN1_TIME* t) {
    std::tm tm{};
    if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
    return timegm(&tm);
}

std::string pem_of(int (*write)(BIO*, void*), void* object) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || write(bio.get(), object) != 1) return {};
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace

std::expected<std::shared_ptr<const Certificate>, std::string> load_certificate(
    std::string_view name, std::string_view cert_pem, std::string_view key_pem, std::time_t now) {
    auto fail = [&](std::string why) {
        return std::unexpected(fmt::format("certificate {}: {}", name, why));
    };
    ERR_clear_error();
    auto cert = std::make_shared<Certificate>();
    cert->name = std::string(name);

    BioPtr cert_bio = memory_bio(cert_pem);
    cert->leaf.reset(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
    if (!cert->leaf) return fail("tls.crt holds no PEM certificate: " + openssl_error());
    while (X509* extra = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr)) {
        cert->chain.emplace_back(extra);
    }
    // Reading stops with "no start line" at the end of the data; anything else
    // means a damaged block after the leaf.
    if (unsigned long err = ERR_peek_last_error(); err != 0 && ERR_GET_REASON(err) != PEM_R_NO_START_LINE) {
        return fail(fmt::format("tls.crt: certificate {} in the chain is malformed: {}", cert->chain.size() + 2,
                                openssl_error()));
    }
    ERR_clear_error();

    BioPtr key_bio = memory_bio(key_pem);
    cert->key.reset(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
    if (!cert->key) return fail("tls.key holds no PEM private key: " + openssl_error());
    if (X509_check_private_key(cert->leaf.get(), cert->key.get()) != 1) {
        ERR_clear_error();
        return fail("tls.key does not match the certificate in tls.crt");
    }

    std::time_t at = now;
    if (X509_cmp_time(X509_get0_notBefore(cert->leaf.get()), &at) > 0) return fail("not valid yet (notBefore is in the future)");
    if (X509_cmp_time(X509_get0_notAfter(cert->leaf.get()), &at) < 0) return fail("expired (notAfter is in the past)");
    cert->not_after = to_time_t(X509_get0_notAfter(cert->leaf.get()));
    cert->dns_names = dns_names_of(cert->leaf.get());
    return cert;
}

std::expected<std::shared_ptr<const Certificate>, std::string> generate_self_signed(
    std::string_view common_name, std::time_t now, int days) {
    ERR_clear_error();
    auto cert = std::make_shared<Certificate>();
    cert->name = "self-signed default";
    cert->key.reset(EVP_EC_gen("P-256"));
    if (!cert->key) return std::unexpected("generating the default key: " + openssl_error());

    cert->leaf.reset(X509_new());
    X509* x = cert->leaf.get();
    std::uint64_t serial = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&serial), sizeof serial) != 1) {
        return std::unexpected("generating a serial number: " + openssl_error());
    }
    std::time_t at = now;
    bool ok = X509_set_version(x, 2) == 1 &&
              ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial >> 1) == 1 &&
              X509_time_adj_ex(X509_getm_notBefore(x), 0, -3600, &at) != nullptr &&
              X509_time_adj_ex(X509_getm_notAfter(x), days, 0, &at) != nullptr &&
              X509_set_pubkey(x, cert->key.get()) == 1 &&
              X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
                                         reinterpret_cast<const unsigned char*>(common_name.data()),
                                         static_cast<int>(common_name.size()), -1, 0) == 1 &&
              X509_set_issuer_name(x, X509_get_subject_name(x)) == 1 &&
              X509_sign(x, cert->key.get(), EVP_sha256()) > 0;
    if (!ok) return std::unexpected("building the default certificate: " + openssl_error());
    cert->not_after = to_time_t(X509_get0_notAfter(x));
    return cert;
}

std::string leaf_pem(const Certificate& cert) {
    return pem_of([](BIO* b, void* o) { return PEM_write_bio_X509(b, static_cast<X509*>(o)); }, cert.leaf.get());
}

std::string key_pem(const Certificate& cert) {
    return pem_of(
        [](BIO* b, void* o) {
            return PEM_write_bio_PrivateKey(b, static_cast<EVP_PKEY*>(o), nullptr, nullptr, 0, nullptr, nullptr);
        },
        cert.key.get());
}

}  // namespace xgress::tls
