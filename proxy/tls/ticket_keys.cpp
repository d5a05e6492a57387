#include "tls/ticket_keys.h"

#include <openssl/rand.h>

#include <cstring>

namespace xgress::tls {
namespace {

std::optional<TicketKey> random_key() {
    TicketKey key;
    if (RAND_bytes(key.name.data(), key.name.size()) != 1 || RAND_bytes(key.aes_key.data(), key.aes_key.size()) != 1 ||
        RAND_bytes(key.hmac_key.data(), key.hmac_key.size()) != 1) {
        return std::nullopt;
    }
    return key;
}

}  // namespace

TicketKeyRing::TicketKeyRing(std::size_t keep) : keep_(keep == 0 ? 1 : keep) {
    auto keys = std::make_shared<Keys>();
    if (auto key = random_key()) keys->push_back(*key);
    keys_.store(std::move(keys));
}

bool TicketKeyRing::rotate() {
    auto key = random_key();
    if (!key) return false;  // keep the old keys: tickets still work, just not rotated
    auto old = keys_.load();
    auto keys = std::make_shared<Keys>();
    keys->push_back(*key);
    for (const TicketKey& k : *old) {
        if (keys->size() == keep_) break;
        keys->push_back(k);
    }
    keys_.store(std::move(keys));
    return true;
}

std::optional<TicketKey> TicketKeyRing::current() const {
    auto keys = keys_.load();
    if (keys->empty()) return std::nullopt;
    return keys->front();
}

std::optional<TicketKey> TicketKeyRing::find(const unsigned char* name, bool* is_current) const {
    auto keys = keys_.load();
    for (std::size_t i = 0; i < keys->size(); ++i) {
        if (std::memcmp((*keys)[i].name.data(), name, 16) == 0) {
            if (is_current != nullptr) *is_current = i == 0;
            return (*keys)[i];
        }
    }
    return std::nullopt;
}

}  // namespace xgress::tls
