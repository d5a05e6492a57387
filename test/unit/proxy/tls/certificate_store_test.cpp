#include "tls/certificate_store.h"

#include <gtest/gtest.h>

#include "test_certificates.h"

namespace xgress::tls {
namespace {

std::shared_ptr<const Certificate> load(const std::string& name, const std::string& sans) {
    auto pem = test::make_certificate(name, sans);
    auto cert = load_certificate(name, pem.cert, pem.key, std::time(nullptr));
    if (!cert) throw std::runtime_error(cert.error());
    return *cert;
}

class CertificateStoreTest : public ::testing::Test {
protected:
    std::shared_ptr<const Certificate> fallback = *generate_self_signed("default", std::time(nullptr));
    CertificateStore store{fallback};
};

TEST_F(CertificateStoreTest, SelectsByNameThenWildcardThenFallback) {
    auto shop = load("shop", "DNS:shop.example.com");
    auto wild = load("wild", "DNS:*.example.com");
    auto api = load("api", "DNS:api.example.com,DNS:*.api.example.com");
    store.add(shop);
    store.add(wild);
    store.add(api);

    struct Case {
        const char* sni;
        const Certificate* want;
    };
    for (auto [sni, want] : std::vector<Case>{
             {"shop.example.com", shop.get()},
             {"SHOP.Example.COM", shop.get()},          // case-insensitive
             {"shop.example.com.", shop.get()},         // trailing dot
             {"other.example.com", wild.get()},         // wildcard: one label
             {"api.example.com", api.get()},            // exact beats wildcard
             {"v1.api.example.com", api.get()},         // the more specific wildcard
             {"a.b.c.example.com", fallback.get()},     // two extra labels: no wildcard match
             {"example.com", fallback.get()},           // wildcard needs one label
             {".example.com", fallback.get()},          // empty label
             {"", fallback.get()},                      // no SNI
             {"unknown.test", fallback.get()},
         }) {
        EXPECT_EQ(store.select(sni), want) << "sni=" << sni;
    }
}

TEST_F(CertificateStoreTest, FirstCertificateAddedKeepsAContestedName) {
    auto older = load("older", "DNS:shop.example.com");
    auto newer = load("newer", "DNS:shop.example.com,DNS:extra.example.com");
    store.add(older);
    store.add(newer);
    EXPECT_EQ(store.select("shop.example.com"), older.get());
    EXPECT_EQ(store.select("extra.example.com"), newer.get());
    EXPECT_EQ(store.size(), 2u);
}

TEST_F(CertificateStoreTest, OverlongNameGetsFallback) {
    store.add(load("shop", "DNS:shop.example.com"));
    EXPECT_EQ(store.select(std::string(300, 'a')), fallback.get());
}

}  // namespace
}  // namespace xgress::tls
