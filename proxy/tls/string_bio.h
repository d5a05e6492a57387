// The outbound half of the byte-driven TLS transport, shared by the server
// (TlsSession) and client (TlsClientSession) sides: a BIO whose every write
// is appended to a std::string, so ciphertext lands where the worker sends
// from with one copy (a memory BIO would need a second copy to get it out).
#pragma once

#include <openssl/bio.h>

#include <string>

namespace xgress::tls {

// A new BIO appending to `*sink` (which must outlive it); null on allocation failure.
BIO* new_string_bio(std::string* sink);

}  // namespace xgress::tls
