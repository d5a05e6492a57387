// libFuzzer target: the HTTP/1.1 request parser and body framer. Besides
// "does not crash", it checks that feeding the input in two pieces gives the
// same answer as feeding it whole (the parser is incremental).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/body_framer.h"
#include "http/request_parser.h"
#include "http/response_parser.h"

using namespace xgress::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);

    RequestParser whole;
    RequestHead head;
    ParseResult r = whole.parse(input, head);

    if (size > 1) {
        RequestParser split;
        RequestHead head2;
        std::size_t cut = data[0] % size;
        ParseResult first = split.parse(input.substr(0, cut), head2);
        ParseResult second = first.status == ParseStatus::Incomplete ? split.parse(input, head2) : first;
        // An error seen in a prefix must also be an error for the whole input,
        // and completion must agree on where the head ends.
        if (second.status != r.status && !(first.status == ParseStatus::Error && r.status == ParseStatus::Error)) {
            if (!(first.status == ParseStatus::Complete && r.status == ParseStatus::Complete)) std::abort();
        }
        if (r.status == ParseStatus::Complete && second.status == ParseStatus::Complete &&
            head.head_length != head2.head_length && first.status != ParseStatus::Complete)
            std::abort();
    }

    if (r.status == ParseStatus::Complete) {
        if (head.head_length > size) std::abort();
        BodyFramer body;
        body.start(head.body, head.content_length);
        auto n = body.consume(input.substr(head.head_length));
        if (n && *n > size - head.head_length) std::abort();
    }

    // The same bytes as an upstream response head.
    ResponseParser rp;
    ResponseHead resp;
    if (rp.parse(input, size > 0 && (data[0] & 1), resp).status == ParseStatus::Complete && resp.head_length > size)
        std::abort();
    return 0;
}
