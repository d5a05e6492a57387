#include "tls/string_bio.h"

#include <openssl/err.h>

namespace xgress::tls {
namespace {

int out_write(BIO* b, const char* data, int len) {
    static_cast<std::string*>(BIO_get_data(b))->append(data, static_cast<std::size_t>(len));
    return len;
}

long out_ctrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }

BIO_METHOD* out_method() {
    static BIO_METHOD* method = [] {
        BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "xgress-out");
        BIO_meth_set_write(m, out_write);
        BIO_meth_set_ctrl(m, out_ctrl);
        return m;
    }();
    return method;
}

}  // namespace

BIO* new_string_bio(std::string* sink) {
    BIO* b = BIO_new(out_method());
    if (b == nullptr) return nullptr;
    BIO_set_data(b, sink);
    BIO_set_init(b, 1);
    return b;
}

BIO* attach_transport_bios(SSL* ssl, std::string* out) {
    BIO* rbio = BIO_new(BIO_s_mem());
    BIO* wbio = new_string_bio(out);
    if (!rbio || !wbio) {
        BIO_free(rbio);
        BIO_free(wbio);
        return nullptr;
    }
    BIO_set_mem_eof_return(rbio, -1);
    SSL_set_bio(ssl, rbio, wbio);
    return rbio;
}

PlainRead read_available_plain(SSL* ssl, std::string& plain) {
    constexpr std::size_t kChunk = 16 * 1024;  // one full TLS record
    for (;;) {
        int rc = 0;
        std::size_t got = 0;
        const std::size_t old = plain.size();
        plain.resize_and_overwrite(old + kChunk, [&](char* p, std::size_t) {
            rc = SSL_read_ex(ssl, p + old, kChunk, &got);
            return old + (rc == 1 ? got : 0);
        });
        if (rc == 1) continue;
        switch (SSL_get_error(ssl, rc)) {
            case SSL_ERROR_WANT_READ:
            case SSL_ERROR_WANT_WRITE: return PlainRead::More;
            case SSL_ERROR_ZERO_RETURN: return PlainRead::Closed;
            default: return PlainRead::Error;
        }
    }
}

bool write_plain(SSL* ssl, std::string_view plain) {
    std::size_t written = 0;
    return SSL_write_ex(ssl, plain.data(), plain.size(), &written) == 1 && written == plain.size();
}

void take_openssl_error(std::string& message) {
    if (unsigned long code = ERR_peek_last_error(); code != 0) {
        char buf[256];
        ERR_error_string_n(code, buf, sizeof buf);
        message += ": ";
        message += buf;
    }
    ERR_clear_error();
}

}  // namespace xgress::tls
