#include "tls/string_bio.h"

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

}  // namespace xgress::tls
