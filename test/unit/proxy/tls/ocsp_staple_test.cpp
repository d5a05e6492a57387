// OCSP stapling: a response for the certificate is stapled to clients that
// ask (status_request) and only then; a response for another certificate,
// an expired one or garbage is reported naming the certificate and the
// certificate is served without a staple. Responses are signed here with the
// OpenSSL API (the lab test uses `openssl ocsp` and `s_client -status`).
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <ctime>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "test_certificates.h"
#include "tls/ocsp_staple.h"
#include "tls/tls_session.h"
#include "tls/tls_state.h"

namespace xgress::tls {
namespace {

X509* read_cert(const std::string& pem) {
    BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    X509* x = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
    BIO_free(b);
    return x;
}
EVP_PKEY* read_key(const std::string& pem) {
    BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    EVP_PKEY* k = PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr);
    BIO_free(b);
    return k;
}

// A "good" response for a self-signed certificate, signed by itself, valid [now-1h, now+valid_for].
std::string ocsp_response(const test::PemPair& pem, long valid_for = 86400) {
    X509* cert = read_cert(pem.cert);
    EVP_PKEY* key = read_key(pem.key);
    OCSP_CERTID* id = OCSP_cert_to_id(EVP_sha1(), cert, cert);
    OCSP_BASICRESP* basic = OCSP_BASICRESP_new();
    ASN1_TIME* this_update = X509_gmtime_adj(nullptr, -3600);
    ASN1_TIME* next_update = X509_gmtime_adj(nullptr, valid_for);
    OCSP_basic_add1_status(basic, id, V_OCSP_CERTSTATUS_GOOD, 0, nullptr, this_update, next_update);
    OCSP_basic_sign(basic, cert, key, EVP_sha256(), nullptr, 0);
    OCSP_RESPONSE* resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic);
    unsigned char* der = nullptr;
    const int len = i2d_OCSP_RESPONSE(resp, &der);
    std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    OCSP_RESPONSE_free(resp);
    OCSP_BASICRESP_free(basic);
    OCSP_CERTID_free(id);
    ASN1_TIME_free(this_update);
    ASN1_TIME_free(next_update);
    EVP_PKEY_free(key);
    X509_free(cert);
    return out;
}

std::string base64(const std::string& bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

// Handshake with an in-memory client; returns the stapled response it saw ("" = none).
std::string staple_seen(const TlsState& state, bool ask) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL* ssl = SSL_new(ctx);
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(in, -1);
    SSL_set_bio(ssl, in, out);
    SSL_set_connect_state(ssl);
    SSL_set_tlsext_host_name(ssl, "shop.example.com");
    if (ask) SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp);
    auto server_ctx = state.server;
    TlsSession server;
    EXPECT_TRUE(server.start(server_ctx, nullptr));
    std::string plain;
    for (int i = 0; i < 10 && !SSL_is_init_finished(ssl); ++i) {
        SSL_do_handshake(ssl);
        char buf[16384];
        int n;
        std::string bytes;
        while ((n = BIO_read(out, buf, sizeof buf)) > 0) bytes.append(buf, static_cast<std::size_t>(n));
        if (!bytes.empty()) server.receive(bytes, plain);
        std::string back;
        back.swap(server.outbound());
        if (!back.empty()) BIO_write(in, back.data(), static_cast<int>(back.size()));
    }
    EXPECT_TRUE(SSL_is_init_finished(ssl));
    const unsigned char* resp = nullptr;
    const long len = SSL_get_tlsext_status_ocsp_resp(ssl, &resp);
    std::string seen = len > 0 && resp ? std::string(reinterpret_cast<const char*>(resp), static_cast<std::size_t>(len)) : "";
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return seen;
}

std::shared_ptr<const TlsState> build(const test::PemPair& pem, const std::string& staple) {
    snapshot::Snapshot snap;
    snap.certificates.push_back({"demo/shop", {"shop.example.com"}, pem.cert, pem.key, staple});
    TlsStateBuilder builder(std::make_shared<TicketKeyRing>());
    auto built = builder.build(snap, std::time(nullptr));
    EXPECT_TRUE(built) << (built ? "" : built.error());
    return built ? *built : nullptr;
}

TEST(OcspStaple, MatchingResponseIsStapledWhenAskedFor) {
    auto pem = test::make_certificate("shop.example.com", "DNS:shop.example.com");
    const std::string der = ocsp_response(pem);
    auto state = build(pem, base64(der));
    ASSERT_TRUE(state);
    EXPECT_TRUE(state->problems.empty()) << state->problems.front();
    EXPECT_EQ(staple_seen(*state, true), der);
    EXPECT_EQ(staple_seen(*state, false), "");  // not asked: not sent
}

TEST(OcspStaple, ResponseForAnotherCertificateIsNotStapledAndReported) {
    auto pem = test::make_certificate("shop.example.com", "DNS:shop.example.com");
    auto other = test::make_certificate("shop.example.com", "DNS:shop.example.com");
    auto state = build(pem, base64(ocsp_response(other)));
    ASSERT_TRUE(state);
    ASSERT_EQ(state->problems.size(), 1u);
    EXPECT_NE(state->problems[0].find("certificate demo/shop: ocsp_staple: OCSP response is not for this certificate"),
              std::string::npos)
        << state->problems[0];
    EXPECT_EQ(staple_seen(*state, true), "");
}

TEST(OcspStaple, ExpiredAndGarbageResponsesAreReported) {
    auto pem = test::make_certificate("shop.example.com", "DNS:shop.example.com");
    auto expired = build(pem, base64(ocsp_response(pem, -1800)));
    ASSERT_TRUE(expired);
    ASSERT_EQ(expired->problems.size(), 1u);
    EXPECT_NE(expired->problems[0].find("expired"), std::string::npos) << expired->problems[0];
    auto garbage = build(pem, base64("not an OCSP response"));
    ASSERT_TRUE(garbage);
    ASSERT_EQ(garbage->problems.size(), 1u);
    EXPECT_NE(garbage->problems[0].find("not a DER OCSP response"), std::string::npos) << garbage->problems[0];
    auto not_base64 = build(pem, "%%%");
    ASSERT_TRUE(not_base64);
    ASSERT_EQ(not_base64->problems.size(), 1u);
    EXPECT_NE(not_base64->problems[0].find("not valid base64"), std::string::npos);
}

// The builder reuses its server context while nothing it is made from
// changed: a staple added to, or dropped from, an unchanged certificate must
// still reach (or leave) the handshakes.
TEST(OcspStaple, StapleChangesOnAnUnchangedCertificateAreServed) {
    auto pem = test::make_certificate("shop.example.com", "DNS:shop.example.com");
    const std::string der = ocsp_response(pem);
    TlsStateBuilder builder(std::make_shared<TicketKeyRing>());
    snapshot::Snapshot snap;
    snap.certificates.push_back({"demo/shop", {"shop.example.com"}, pem.cert, pem.key, ""});
    auto plain = builder.build(snap, std::time(nullptr));
    ASSERT_TRUE(plain);
    EXPECT_EQ(staple_seen(**plain, true), "");
    snap.certificates[0].ocsp_staple = base64(der);
    auto stapled = builder.build(snap, std::time(nullptr));
    ASSERT_TRUE(stapled);
    EXPECT_EQ(staple_seen(**stapled, true), der);
    auto again = builder.build(snap, std::time(nullptr));
    ASSERT_TRUE(again);
    EXPECT_EQ((*again)->server.get(), (*stapled)->server.get());  // same staple: reused
    EXPECT_EQ(staple_seen(**again, true), der);
    snap.certificates[0].ocsp_staple.clear();
    auto dropped = builder.build(snap, std::time(nullptr));
    ASSERT_TRUE(dropped);
    EXPECT_EQ(staple_seen(**dropped, true), "");
}

TEST(OcspStaple, Base64RoundTrips) {
    for (std::string s : {std::string("a"), std::string("ab"), std::string("abc"), std::string("abcd")}) {
        auto back = decode_base64_text(base64(s));
        ASSERT_TRUE(back);
        EXPECT_EQ(*back, s);
    }
}

}  // namespace
}  // namespace xgress::tls
