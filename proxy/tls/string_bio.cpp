#include "tls/string_bio.h"

#include <openssl/err.h>

#include <cstring>

namespace xgress::tls {
namespace {

int out_write(BIO* b, const char* data, int len) {
    static_cast<std::string*>(BIO_get_data(b))->append(data, static_cast<std::size_t>(len));
    return len;
}

long out_ctrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }

int in_read(BIO* b, char* data, std::size_t len, std::size_t* got) {
    auto* in = static_cast<CiphertextInput*>(BIO_get_data(b));
    BIO_clear_retry_flags(b);
    if (in->unread.empty()) {
        BIO_set_retry_read(b);
        *got = 0;
        return 0;
    }
    const std::size_t n = len < in->unread.size() ? len : in->unread.size();
    std::memcpy(data, in->unread.data(), n);
    in->unread.remove_prefix(n);
    *got = n;
    return 1;
}

long in_ctrl(BIO* b, int cmd, long, void*) {
    switch (cmd) {
        case BIO_CTRL_PENDING: return static_cast<long>(static_cast<CiphertextInput*>(BIO_get_data(b))->unread.size());
        case BIO_CTRL_FLUSH: return 1;
        default: return 0;  // BIO_CTRL_EOF: never EOF, the socket says when
    }
}

BIO_METHOD* in_method() {
    static BIO_METHOD* method = [] {
        BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "xgress-in");
        BIO_meth_set_read_ex(m, in_read);
        BIO_meth_set_ctrl(m, in_ctrl);
        return m;
    }();
    return method;
}

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

void CiphertextInput::feed(std::string_view bytes) {
    if (spill.empty()) {
        unread = bytes;
        return;
    }
    spill.append(bytes);
    unread = spill;
}

void CiphertextInput::keep_rest() {
    if (unread.empty()) {
        spill.clear();
        unread = {};
        return;
    }
    if (!spill.empty() && unread.data() >= spill.data() && unread.data() < spill.data() + spill.size())
        spill.erase(0, static_cast<std::size_t>(unread.data() - spill.data()));
    else
        spill.assign(unread);
    unread = spill;
}

bool attach_transport_bios(SSL* ssl, CiphertextInput* in, std::string* out) {
    BIO* rbio = BIO_new(in_method());
    BIO* wbio = new_string_bio(out);
    if (!rbio || !wbio) {
        BIO_free(rbio);
        BIO_free(wbio);
        return false;
    }
    BIO_set_data(rbio, in);
    BIO_set_init(rbio, 1);
    SSL_set_bio(ssl, rbio, wbio);
    return true;
}

PlainRead read_available_plain(SSL* ssl, const CiphertextInput& in, std::string& plain) {
    constexpr std::size_t kChunk = 16 * 1024;  // one full TLS record
    for (;;) {
        int rc = 0;
        std::size_t got = 0;
        const std::size_t old = plain.size();
        plain.resize_and_overwrite(old + kChunk, [&](char* p, std::size_t) {
            rc = SSL_read_ex(ssl, p + old, kChunk, &got);
            return old + (rc == 1 ? got : 0);
        });
        if (rc == 1) {
            if (in.unread.empty() && SSL_has_pending(ssl) == 0) return PlainRead::More;
            continue;
        }
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
