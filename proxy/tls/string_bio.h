// The byte-driven TLS transport pieces shared by the server (TlsSession) and
// client (TlsClientSession) sides. Outbound: a BIO whose every write is
// appended to a std::string, so ciphertext lands where the worker sends from
// with one copy (a memory BIO would need a second copy to get it out).
// Inbound: a BIO reading the received bytes where they lie (the worker's
// receive buffer), not a memory BIO they would first be copied into; only
// what OpenSSL leaves unread when a call returns is copied, to be read first
// next time (rare: every call reads until it needs more input).
#pragma once

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace xgress::tls {

// A new BIO appending to `*sink` (which must outlive it); null on allocation failure.
BIO* new_string_bio(std::string* sink);

// Received ciphertext as the input BIO sees it: `unread` are the bytes
// OpenSSL has not read yet (the caller's buffer during a call, else `spill`).
// An empty `unread` reads as "wait for more", not EOF.
struct CiphertextInput {
    std::string_view unread;
    std::string spill;

    // Before handing control to OpenSSL: these bytes come after any leftover.
    void feed(std::string_view bytes);
    // After: the caller's buffer is about to be reused, so copy what is left.
    void keep_rest();
    void clear() {
        unread = {};
        spill.clear();
    }
};

// One call's worth of input: feeds `bytes` and, when it goes out of scope,
// keeps what OpenSSL left unread (the caller reuses its buffer afterwards).
class FedCiphertext {
public:
    FedCiphertext(CiphertextInput& in, std::string_view bytes) : in_(in) { in_.feed(bytes); }
    ~FedCiphertext() { in_.keep_rest(); }
    FedCiphertext(const FedCiphertext&) = delete;
    FedCiphertext& operator=(const FedCiphertext&) = delete;

private:
    CiphertextInput& in_;
};

// Gives `ssl` its two BIOs: one reading `*in` (both must outlive `ssl`'s use
// of them) and a string BIO appending to `*out`. False on allocation
// failure, `ssl` left without BIOs.
bool attach_transport_bios(SSL* ssl, CiphertextInput* in, std::string* out);

// Decrypts everything available into `plain` (appended). Stops once `in` is
// drained and OpenSSL holds no buffered record, without the extra SSL_read
// that would only report "want read" (~1.5k instructions per request).
enum class PlainRead : std::uint8_t { More, Closed, Error };
PlainRead read_available_plain(SSL* ssl, const CiphertextInput& in, std::string& plain);

// Encrypts all of `plain` into the outbound BIO; false on failure.
bool write_plain(SSL* ssl, std::string_view plain);

// Appends ": <OpenSSL's last error>" when there is one and clears the
// thread's error queue (so it does not leak into the next connection).
void take_openssl_error(std::string& message);

}  // namespace xgress::tls
