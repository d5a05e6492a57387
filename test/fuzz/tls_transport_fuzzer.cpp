// libFuzzer target: the TLS transport (tls::TlsSession) as the worker drives
// it, fed attacker bytes. Input: byte 0 = chunk size for receive() (low 7
// bits, 0 = all at once); with the high bit set a real handshake is done
// first and the rest arrives as post-handshake records. Checks, beyond "no
// crash, no leak": no plaintext before the handshake, a failed session stays
// failed, passthrough only for the configured host with every byte kept.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>

#include "tls/tls_session.h"
#include "tls/tls_state.h"

using namespace xgress;
using Status = tls::TlsSession::Status;

namespace {

struct Fixture {
    std::unique_ptr<tls::TlsStateBuilder> builder;
    std::shared_ptr<const tls::TlsState> state;
    std::shared_ptr<const tls::PassthroughHosts> passthrough;
    SSL_CTX* client_ctx = nullptr;
    Fixture() {
        builder = std::make_unique<tls::TlsStateBuilder>(std::make_shared<tls::TicketKeyRing>());
        snapshot::Snapshot snap;
        snap.virtual_hosts.push_back({"pass.example.com", {}, "default/raw:443"});
        state = *builder->build(snap, std::time(nullptr));
        passthrough = std::shared_ptr<const tls::PassthroughHosts>(state, &state->passthrough);
        client_ctx = SSL_CTX_new(TLS_client_method());
    }
};

Fixture& fixture() {
    static Fixture f;
    return f;
}

// Completes a handshake with an in-memory client; false if it did not.
bool handshake(tls::TlsSession& s, SSL_CTX* ctx) {
    SSL* c = SSL_new(ctx);
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(in, -1);
    SSL_set_bio(c, in, out);
    SSL_set_connect_state(c);
    std::string plain;
    for (int i = 0; i < 10 && !s.handshake_done(); ++i) {
        SSL_do_handshake(c);
        char buf[16384];
        int n;
        std::string bytes;
        while ((n = BIO_read(out, buf, sizeof buf)) > 0) bytes.append(buf, static_cast<std::size_t>(n));
        if (s.receive(bytes, plain) != Status::Ok) break;
        BIO_write(in, s.outbound().data(), static_cast<int>(s.outbound().size()));
        s.outbound().clear();
    }
    SSL_free(c);
    ERR_clear_error();
    return s.handshake_done();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    Fixture& f = fixture();
    const std::size_t chunk = data[0] & 0x7f;
    const bool after_handshake = data[0] & 0x80;
    std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

    tls::TlsSession s;
    if (!s.start(f.state->server, f.passthrough)) std::abort();
    if (after_handshake && !handshake(s, f.client_ctx)) std::abort();
    std::string plain;
    Status st = Status::Ok;
    std::size_t fed = 0;
    while (fed < input.size() && st == Status::Ok) {
        std::size_t n = chunk ? std::min(chunk, input.size() - fed) : input.size() - fed;
        st = s.receive(input.substr(fed, n), plain);
        fed += n;
        if (!s.handshake_done() && !plain.empty()) std::abort();  // plaintext before the handshake
    }
    if (st == Status::Error && s.receive("x", plain) != Status::Error) std::abort();  // failed stays failed
    if (st == Status::Passthrough) {
        if (after_handshake || s.passthrough_backend() != "default/raw:443") std::abort();
        if (std::string_view(s.raw_input()) != input.substr(0, fed)) std::abort();  // every byte kept
    }
    if (s.handshake_done() && st == Status::Ok) s.send("HTTP/1.1 200 OK\r\n\r\n");
    ERR_clear_error();
    return 0;
}
