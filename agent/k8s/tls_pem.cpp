#include "k8s/tls_pem.h"

#include <memory>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace xgress::agent::k8s {
namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const { Free(p); }
};
void free_bio(BIO* bio) { BIO_free(bio); }
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, free_bio>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;

std::string openssl_error() {
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) return "no PEM data found";
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    return text;
}

BioPtr memory_bio(const std::string& text) {
    return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::vector<std::string> dns_names_of(X509* certificate) {
    std::vector<std::string> names;
    auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
    if (sans) {
        for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
            const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
            if (name->type != GEN_DNS) continue;
            const ASN1_STRING* s = name->d.dNSName;
            names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                               static_cast<std::size_t>(ASN1_STRING_length(s)));
        }
        GENERAL_NAMES_free(sans);
    }
    if (names.empty()) {
        char cn[256];
        if (X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), NID_commonName, cn, sizeof cn) > 0)
            names.emplace_back(cn);
    }
    return names;
}

std::string time_text(const ASN1_TIME* time) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    ASN1_TIME_print(bio.get(), time);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

}  // namespace

std::expected<std::string, std::string> decode_base64(std::string_view text) {
    std::string compact;
    compact.reserve(text.size());
    for (char c : text) {
        if (c != '\n' && c != '\r' && c != ' ' && c != '\t') compact.push_back(c);
    }
    if (compact.size() % 4 != 0) return std::unexpected("not valid base64 (length)");
    std::string out(compact.size() / 4 * 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(compact.data()),
                                  static_cast<int>(compact.size()));
    if (n < 0) return std::unexpected("not valid base64");
    // EVP_DecodeBlock counts padding as data bytes.
    std::size_t size = static_cast<std::size_t>(n);
    if (!compact.empty() && compact.back() == '=') --size;
    if (compact.size() > 1 && compact[compact.size() - 2] == '=') --size;
    out.resize(size);
    return out;
}

std::expected<void, std::string> validate_ca_bundle(const std::string& pem) {
    ERR_clear_error();
    BioPtr bio = memory_bio(pem);
    int count = 0;
    for (;;) {
        X509Ptr next(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
        if (next) {
            ++count;
            continue;
        }
        const unsigned long code = ERR_peek_last_error();
        if (ERR_GET_REASON(code) == PEM_R_NO_START_LINE && count > 0) {
            ERR_clear_error();
            return {};
        }
        return std::unexpected(openssl_error());
    }
}

std::expected<TlsPairInfo, std::string> validate_tls_pair(const std::string& certificate_pem,
                                                          const std::string& private_key_pem) {
    ERR_clear_error();
    BioPtr cert_bio = memory_bio(certificate_pem);
    X509Ptr leaf(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
    if (!leaf) return std::unexpected("tls.crt: " + openssl_error());
    // The rest of the chain must parse too; a truncated intermediate would
    // only fail at handshake time otherwise.
    for (;;) {
        X509Ptr next(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
        if (next) continue;
        const unsigned long code = ERR_peek_last_error();
        if (ERR_GET_REASON(code) == PEM_R_NO_START_LINE) {
            ERR_clear_error();
            break;
        }
        return std::unexpected("tls.crt: chain: " + openssl_error());
    }
    BioPtr key_bio = memory_bio(private_key_pem);
    KeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
    if (!key) return std::unexpected("tls.key: " + openssl_error());
    if (X509_check_private_key(leaf.get(), key.get()) != 1) {
        ERR_clear_error();
        return std::unexpected("tls.key: does not match the certificate in tls.crt");
    }
    return TlsPairInfo{dns_names_of(leaf.get()), time_text(X509_get0_notAfter(leaf.get()))};
}

}  // namespace xgress::agent::k8s
