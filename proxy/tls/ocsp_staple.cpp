#include "tls/ocsp_staple.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>

#include <cctype>
#include <memory>

namespace xgress::tls {
namespace {

template <class T, void (*F)(T*)>
struct Free {
    void operator()(T* p) const { F(p); }
};
using ResponsePtr = std::unique_ptr<OCSP_RESPONSE, Free<OCSP_RESPONSE, OCSP_RESPONSE_free>>;
using BasicPtr = std::unique_ptr<OCSP_BASICRESP, Free<OCSP_BASICRESP, OCSP_BASICRESP_free>>;
using CertIdPtr = std::unique_ptr<OCSP_CERTID, Free<OCSP_CERTID, OCSP_CERTID_free>>;

}  // namespace

std::expected<std::string, std::string> decode_base64_text(std::string_view text) {
    std::string clean;
    clean.reserve(text.size());
    for (char c : text)
        if (!std::isspace(static_cast<unsigned char>(c))) clean.push_back(c);
    if (clean.empty() || clean.size() % 4 != 0) return std::unexpected("not valid base64");
    std::string out(clean.size() / 4 * 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(clean.data()), static_cast<int>(clean.size()));
    if (n < 0) return std::unexpected("not valid base64");
    std::size_t len = static_cast<std::size_t>(n);
    if (clean.ends_with("==")) len -= 2;  // EVP_DecodeBlock counts padding as zero bytes
    else if (clean.ends_with("=")) len -= 1;
    out.resize(len);
    return out;
}

std::expected<std::string, std::string> check_ocsp_staple(const Certificate& cert, std::string_view der,
                                                          std::time_t now) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    ResponsePtr resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
    ERR_clear_error();
    if (!resp) return std::unexpected("not a DER OCSP response");
    if (OCSP_response_status(resp.get()) != OCSP_RESPONSE_STATUS_SUCCESSFUL)
        return std::unexpected(std::string("OCSP response status is ") +
                               OCSP_response_status_str(OCSP_response_status(resp.get())));
    BasicPtr basic(OCSP_response_get1_basic(resp.get()));
    if (!basic) return std::unexpected("OCSP response has no basic response");
    X509* issuer = cert.chain.empty() ? cert.leaf.get() : cert.chain.front().get();
    CertIdPtr id(OCSP_cert_to_id(EVP_sha1(), cert.leaf.get(), issuer));
    if (!id) return std::unexpected("cannot compute the certificate's OCSP id");
    int status = -1, reason = -1;
    ASN1_GENERALIZEDTIME *revoked = nullptr, *this_update = nullptr, *next_update = nullptr;
    if (OCSP_resp_find_status(basic.get(), id.get(), &status, &reason, &revoked, &this_update, &next_update) != 1) {
        ERR_clear_error();
        return std::unexpected("OCSP response is not for this certificate (no matching CertID)");
    }
    // Not OCSP_check_validity: it reads the wall clock; `now` lets tests move it.
    constexpr long kSkew = 300;
    if (this_update && ASN1_TIME_cmp_time_t(this_update, now + kSkew) > 0)
        return std::unexpected("OCSP response thisUpdate is in the future");
    if (next_update && ASN1_TIME_cmp_time_t(next_update, now - kSkew) < 0)
        return std::unexpected("OCSP response expired (nextUpdate is in the past)");
    ERR_clear_error();
    (void)reason;
    (void)revoked;
    (void)status;  // a "revoked" answer is the truth about the certificate: stapled as is
    return std::string(der);
}

}  // namespace xgress::tls
