// The byte-driven TLS transport pieces shared by the server (TlsSession) and
// client (TlsClientSession) sides. Outbound: a BIO whose every write is
// appended to a std::string, so ciphertext lands where the worker sends from
// with one copy (a memory BIO would need a second copy to get it out).
// Inbound: a memory BIO the session writes received ciphertext into.
#pragma once

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace xgress::tls {

// A new BIO appending to `*sink` (which must outlive it); null on allocation failure.
BIO* new_string_bio(std::string* sink);

// Gives `ssl` its two BIOs: a memory BIO for received ciphertext (returned;
// owned by `ssl`, empty reads mean "wait for more", not EOF) and a string
// BIO appending to `*out`. Null on allocation failure, `ssl` left without BIOs.
BIO* attach_transport_bios(SSL* ssl, std::string* out);

// Decrypts everything available into `plain` (appended).
enum class PlainRead : std::uint8_t { More, Closed, Error };
PlainRead read_available_plain(SSL* ssl, std::string& plain);

// Encrypts all of `plain` into the outbound BIO; false on failure.
bool write_plain(SSL* ssl, std::string_view plain);

// Appends ": <OpenSSL's last error>" when there is one and clears the
// thread's error queue (so it does not leak into the next connection).
void take_openssl_error(std::string& message);

}  // namespace xgress::tls
