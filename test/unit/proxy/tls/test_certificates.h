// Builds throwaway certificates in memory for the TLS tests: any SANs, any
// validity window, so every branch of loading and selection can be reached
// without checking key material into the repository.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <stdexcept>
#include <string>

namespace xgress::tls::test {

struct PemPair {
    std::string cert;
    std::string key;
};

inline std::string bio_text(BIO* bio) {
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(len));
    BIO_free(bio);
    return out;
}

// `sans` in OpenSSL config syntax ("DNS:a.example.com,DNS:*.b.example.com"),
// or empty for a certificate with only a CN. Validity is [now+from, now+to] seconds.
inline PemPair make_certificate(const std::string& cn, const std::string& sans, long from = -3600,
                                long to = 86400, const char* key_type = "EC") {
    EVP_PKEY* key = std::string(key_type) == "RSA" ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), from);
    X509_gmtime_adj(X509_getm_notAfter(x), to);
    X509_set_pubkey(x, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    if (!sans.empty()) {
        X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, sans.c_str());
        if (ext == nullptr) throw std::runtime_error("bad SAN spec " + sans);
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
    X509_sign(x, key, EVP_sha256());
    BIO* cb = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(cb, x);
    BIO* kb = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(kb, key, nullptr, nullptr, 0, nullptr, nullptr);
    X509_free(x);
    EVP_PKEY_free(key);
    return {bio_text(cb), bio_text(kb)};
}

}  // namespace xgress::tls::test
