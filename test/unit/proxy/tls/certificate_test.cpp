#include "tls/certificate.h"

#include <gtest/gtest.h>

#include "test_certificates.h"

namespace xgress::tls {
namespace {

using test::make_certificate;

TEST(LoadCertificate, ReadsSanNamesLowerCased) {
    auto pem = make_certificate("shop", "DNS:Shop.Example.com,DNS:*.api.example.com,IP:10.0.0.1");
    auto cert = load_certificate("demo/shop-tls", pem.cert, pem.key, std::time(nullptr));
    ASSERT_TRUE(cert) << cert.error();
    EXPECT_EQ((*cert)->name, "demo/shop-tls");
    EXPECT_EQ((*cert)->dns_names, (std::vector<std::string>{"shop.example.com", "*.api.example.com"}));
    EXPECT_GT((*cert)->not_after, std::time(nullptr));
}

TEST(LoadCertificate, FallsBackToCommonNameWithoutSans) {
    auto pem = make_certificate("Legacy.Example.com", "");
    auto cert = load_certificate("demo/legacy", pem.cert, pem.key, std::time(nullptr));
    ASSERT_TRUE(cert) << cert.error();
    EXPECT_EQ((*cert)->dns_names, (std::vector<std::string>{"legacy.example.com"}));
}

TEST(LoadCertificate, KeepsIntermediatesInOrder) {
    auto leaf = make_certificate("leaf", "DNS:leaf.example.com");
    auto mid1 = make_certificate("mid1", "");
    auto mid2 = make_certificate("mid2", "", -3600, 86400, "RSA");
    auto cert = load_certificate("demo/chain", leaf.cert + mid1.cert + mid2.cert, leaf.key, std::time(nullptr));
    ASSERT_TRUE(cert) << cert.error();
    ASSERT_EQ((*cert)->chain.size(), 2u);
}

struct BadInput {
    const char* what;
    std::string cert;
    std::string key;
    const char* expected_error;
};

TEST(LoadCertificate, RejectsBadSecretsNamingThem) {
    auto good = make_certificate("a", "DNS:a.example.com");
    auto other = make_certificate("b", "DNS:b.example.com");
    auto expired = make_certificate("old", "DNS:old.example.com", -7200, -3600);
    auto future = make_certificate("new", "DNS:new.example.com", 3600, 7200);
    std::string truncated = good.cert.substr(0, good.cert.size() / 2);
    std::vector<BadInput> cases = {
        {"empty certificate", "", good.key, "tls.crt holds no PEM certificate"},
        {"garbage certificate", "not a certificate", good.key, "tls.crt holds no PEM certificate"},
        {"truncated certificate", truncated, good.key, "tls.crt holds no PEM certificate"},
        {"damaged chain", good.cert + truncated, good.key, "certificate 2 in the chain is malformed"},
        {"empty key", good.cert, "", "tls.key holds no PEM private key"},
        {"foreign key", good.cert, other.key, "tls.key does not match"},
        {"expired", expired.cert, expired.key, "expired"},
        {"not yet valid", future.cert, future.key, "not valid yet"},
    };
    for (const auto& c : cases) {
        auto cert = load_certificate("demo/bad", c.cert, c.key, std::time(nullptr));
        ASSERT_FALSE(cert) << c.what;
        EXPECT_NE(cert.error().find("certificate demo/bad: "), std::string::npos) << c.what << ": " << cert.error();
        EXPECT_NE(cert.error().find(c.expected_error), std::string::npos) << c.what << ": " << cert.error();
    }
}

TEST(GenerateSelfSigned, ProducesAUsableCertificate) {
    auto now = std::time(nullptr);
    auto cert = generate_self_signed("xgress default", now);
    ASSERT_TRUE(cert) << cert.error();
    EXPECT_NEAR(static_cast<double>((*cert)->not_after - now), 365.0 * 86400, 5);
    // Round trip through PEM: what we generate must pass our own validation.
    auto reloaded = load_certificate("default", leaf_pem(**cert), key_pem(**cert), now);
    ASSERT_TRUE(reloaded) << reloaded.error();
    EXPECT_EQ((*reloaded)->dns_names, (std::vector<std::string>{"xgress default"}));
}

}  // namespace
}  // namespace xgress::tls
