// Session-ticket keys shared by every worker (and every certificate), so a
// client resumes on whichever worker its next connection lands. Keys rotate:
// the newest encrypts new tickets, the previous ones still decrypt, so
// rotation never forces a full handshake on a client holding a fresh ticket.
//
// rotate() is called off the data path (a timer on the control thread); the
// handshake path takes a snapshot of the current ring with one atomic load.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace xgress::tls {

struct TicketKey {
    std::array<unsigned char, 16> name{};
    std::array<unsigned char, 32> aes_key{};
    std::array<unsigned char, 32> hmac_key{};
};

class TicketKeyRing {
public:
    // Starts with one random key; keeps at most `keep` keys (newest first).
    explicit TicketKeyRing(std::size_t keep = 3);

    // Adds a new random key in front and drops the oldest beyond `keep`.
    bool rotate();

    // The key that encrypts new tickets; none only if the system RNG failed
    // (then no tickets are issued and clients do full handshakes).
    std::optional<TicketKey> current() const;

    // The key a ticket named `name` was encrypted with, if still kept;
    // `is_current` says whether the client should get a re-issued ticket.
    std::optional<TicketKey> find(const unsigned char* name, bool* is_current) const;

private:
    using Keys = std::vector<TicketKey>;
    std::size_t keep_;
    std::atomic<std::shared_ptr<const Keys>> keys_;
};

}  // namespace xgress::tls
