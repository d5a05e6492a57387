// OCSP stapling from a response the Secret carries (key `tls.ocsp-staple`:
// the DER OCSP response, base64 in the Secret's data as every Secret value;
// the name kgateway/Gloo use, after cert-manager's proposal). The proxy does
// not fetch responses itself: whoever renews the certificate (cert-manager,
// a CronJob) refreshes the Secret, and rotation carries the new staple.
//
// A staple is only served when it is a successful OCSP response that has a
// single response for this certificate (CertID from the leaf and its issuer:
// the first chain certificate, or the leaf itself when self-issued) and is
// current (thisUpdate not in the future, nextUpdate not past, 5 minutes of
// clock skew allowed). Otherwise the certificate is served without a staple
// and the problem is reported naming the certificate.
#pragma once

#include <ctime>
#include <expected>
#include <string>
#include <string_view>

#include "tls/certificate.h"

namespace xgress::tls {

// Base64 text (whitespace ignored) to bytes.
std::expected<std::string, std::string> decode_base64_text(std::string_view text);

// The DER response when it may be stapled for `cert` at `now`; else why not.
std::expected<std::string, std::string> check_ocsp_staple(const Certificate& cert, std::string_view der,
                                                          std::time_t now);

}  // namespace xgress::tls
