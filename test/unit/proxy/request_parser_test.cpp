#include <gtest/gtest.h>

#include <string>

#include "http/body_framer.h"
#include "http/request_parser.h"

using namespace xgress::http;

namespace {

ParseResult parse(std::string_view text, RequestHead& head, Limits limits = {}) {
    RequestParser p(limits);
    return p.parse(text, head);
}

int rejected(std::string_view text, Limits limits = {}) {
    RequestHead head;
    ParseResult r = parse(text, head, limits);
    return r.status == ParseStatus::Error ? r.http_status : 0;
}

}  // namespace

TEST(RequestParser, SimpleGet) {
    RequestHead h;
    std::string req = "GET /a/b?x=1 HTTP/1.1\r\nHost: Example.COM:8080\r\nUser-Agent: t\r\n\r\n";
    ASSERT_EQ(parse(req, h).status, ParseStatus::Complete);
    EXPECT_EQ(h.method, "GET");
    EXPECT_EQ(h.target, "/a/b?x=1");
    EXPECT_EQ(h.path, "/a/b");
    EXPECT_EQ(h.host, "Example.COM:8080");
    EXPECT_EQ(h.version, Version::Http11);
    EXPECT_TRUE(h.keep_alive);
    EXPECT_EQ(h.body, BodyKind::None);
    EXPECT_EQ(h.head_length, req.size());
    ASSERT_EQ(h.header_count, 2u);
    EXPECT_EQ(h.headers[1].name, "User-Agent");
    EXPECT_EQ(h.headers[1].value, "t");
}

TEST(RequestParser, KeepAliveRules) {
    RequestHead h;
    ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", h).status, ParseStatus::Complete);
    EXPECT_FALSE(h.keep_alive);
    ASSERT_EQ(parse("GET / HTTP/1.0\r\n\r\n", h).status, ParseStatus::Complete);
    EXPECT_FALSE(h.keep_alive);
    EXPECT_EQ(h.version, Version::Http10);
    ASSERT_EQ(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", h).status, ParseStatus::Complete);
    EXPECT_TRUE(h.keep_alive);
    ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n", h).status, ParseStatus::Complete);
    EXPECT_FALSE(h.keep_alive);
}

TEST(RequestParser, ContentLengthAndChunked) {
    RequestHead h;
    ASSERT_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", h).status, ParseStatus::Complete);
    EXPECT_EQ(h.body, BodyKind::ContentLength);
    EXPECT_EQ(h.content_length, 5u);
    ASSERT_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n", h).status,
              ParseStatus::Complete);
    ASSERT_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", h).status, ParseStatus::Complete);
    EXPECT_EQ(h.body, BodyKind::Chunked);
}

TEST(RequestParser, IncompleteUntilBlankLine) {
    RequestHead h;
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\n", h).status, ParseStatus::Incomplete);
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\n\r", h).status, ParseStatus::Incomplete);
}

TEST(RequestParser, ByteAtATime) {
    std::string req = "\r\nPOST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n";
    RequestParser p;
    RequestHead h;
    std::string buf;
    for (std::size_t i = 0; i < req.size(); ++i) {
        buf.push_back(req[i]);
        ParseResult r = p.parse(buf, h);
        if (i + 1 < req.size()) {
            ASSERT_EQ(r.status, ParseStatus::Incomplete) << "at byte " << i;
        } else {
            ASSERT_EQ(r.status, ParseStatus::Complete);
        }
    }
    EXPECT_EQ(h.path, "/up");
    EXPECT_EQ(h.head_length, req.size());
    EXPECT_EQ(h.content_length, 3u);
}

TEST(RequestParser, Pipelining) {
    std::string two = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhiGET /3 HTTP/1.1\r\nHost: a\r\n\r\n";
    RequestParser p;
    RequestHead h;
    std::string_view rest = two;
    ASSERT_EQ(p.parse(rest, h).status, ParseStatus::Complete);
    EXPECT_EQ(h.path, "/1");
    rest.remove_prefix(h.head_length);
    p.reset();
    ASSERT_EQ(p.parse(rest, h).status, ParseStatus::Complete);
    EXPECT_EQ(h.path, "/2");
    rest.remove_prefix(h.head_length);
    BodyFramer body;
    body.start(h.body, h.content_length);
    auto n = body.consume(rest);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 2u);
    EXPECT_TRUE(body.done());
    rest.remove_prefix(*n);
    p.reset();
    ASSERT_EQ(p.parse(rest, h).status, ParseStatus::Complete);
    EXPECT_EQ(h.path, "/3");
}

TEST(RequestParser, AbsoluteFormTakesHostFromTarget) {
    RequestHead h;
    ASSERT_EQ(parse("GET http://shop.test/cart?x HTTP/1.1\r\nHost: other\r\n\r\n", h).status, ParseStatus::Complete);
    EXPECT_EQ(h.host, "shop.test");
    EXPECT_EQ(h.path, "/cart");
}

TEST(RequestParser, Rejections) {
    EXPECT_EQ(rejected("GET / HTTP/1.1\r\n\r\n"), 400) << "missing Host on 1.1";
    EXPECT_EQ(rejected("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400) << "duplicate Host";
    EXPECT_EQ(rejected("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"), 400)
        << "CL + TE";
    EXPECT_EQ(rejected("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"), 400)
        << "differing CL";
    EXPECT_EQ(rejected("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"), 400);
    EXPECT_EQ(rejected("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n"), 400);
    EXPECT_EQ(rejected("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n"), 400);
    EXPECT_EQ(rejected("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"), 501);
    EXPECT_EQ(rejected("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
    EXPECT_EQ(rejected("GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n"), 400) << "bare CR";
    EXPECT_EQ(rejected("GET / HTTP/1.1\nHost: a\r\n\r\n"), 400) << "bare LF";
    EXPECT_EQ(rejected("G(T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400) << "bad method token";
    EXPECT_EQ(rejected("GET / HTTP/1.1\r\nBad Name: a\r\nHost: a\r\n\r\n"), 400) << "space in header name";
    EXPECT_EQ(rejected("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 400) << "space before colon";
    EXPECT_EQ(rejected("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n"), 400) << "obs-fold";
    EXPECT_EQ(rejected(std::string("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 38)), 400) << "NUL in value";
    EXPECT_EQ(rejected("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    EXPECT_EQ(rejected("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
    EXPECT_EQ(rejected("GET / HTTZ/1.1\r\nHost: a\r\n\r\n"), 400);
    EXPECT_EQ(rejected("GET foo HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    EXPECT_EQ(rejected("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), 400) << "bad Host";
}

TEST(RequestParser, HeaderLimits) {
    Limits small{.max_head_bytes = 64, .max_headers = 3};
    EXPECT_EQ(rejected("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", small), 431);
    EXPECT_EQ(rejected("GET / HTTP/1.1\r\nHost: a\r\nA: " + std::string(80, 'x') + "\r\n\r\n", small), 431);
    // Too large even before the head is complete.
    EXPECT_EQ(rejected("GET / HTTP/1.1\r\nHost: a\r\nA: " + std::string(80, 'x'), small), 431);
    std::string many = "GET / HTTP/1.1\r\nHost: a\r\n";
    for (int i = 0; i < 101; ++i) many += "X" + std::to_string(i) + ": v\r\n";
    EXPECT_EQ(rejected(many + "\r\n"), 431);
}

TEST(BodyFramer, ChunkedAcrossPieces) {
    std::string body = "4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nTrailer: x\r\n\r\nNEXT";
    for (std::size_t step : {1u, 2u, 3u, 7u, 100u}) {
        BodyFramer f;
        f.start(BodyKind::Chunked, 0);
        std::size_t used = 0;
        while (!f.done() && used < body.size()) {
            std::string_view piece = std::string_view(body).substr(used, step);
            auto n = f.consume(piece);
            ASSERT_TRUE(n) << n.error();
            used += *n;
            if (*n < piece.size()) break;
        }
        EXPECT_TRUE(f.done()) << "step " << step;
        EXPECT_EQ(used, body.size() - 4) << "step " << step;
    }
}

TEST(BodyFramer, ChunkedErrors) {
    for (std::string bad : {"x\r\n", "4\nWiki\r\n", "4\r\nWikiX\r\n", "4\rX", "11111111111111111\r\n", "0\r\nT: x\n"}) {
        BodyFramer f;
        f.start(BodyKind::Chunked, 0);
        EXPECT_FALSE(f.consume(bad)) << bad;
    }
}

TEST(BodyFramer, ContentLengthStopsAtBoundary) {
    BodyFramer f;
    f.start(BodyKind::ContentLength, 3);
    auto n = f.consume("ab");
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 2u);
    EXPECT_FALSE(f.done());
    n = f.consume("cdef");
    EXPECT_EQ(*n, 1u);
    EXPECT_TRUE(f.done());
}

TEST(HeaderId, RecognisedInAnyCaseOnlyWhole) {
    EXPECT_EQ(header_id("Host"), HeaderId::Host);
    EXPECT_EQ(header_id("CONTENT-LENGTH"), HeaderId::ContentLength);
    EXPECT_EQ(header_id("Transfer-Encoding"), HeaderId::TransferEncoding);
    EXPECT_EQ(header_id("connection"), HeaderId::Connection);
    EXPECT_EQ(header_id("Keep-Alive"), HeaderId::KeepAlive);
    EXPECT_EQ(header_id("Proxy-Connection"), HeaderId::ProxyConnection);
    EXPECT_EQ(header_id("TE"), HeaderId::Te);
    EXPECT_EQ(header_id("Trailer"), HeaderId::Trailer);
    EXPECT_EQ(header_id("Upgrade"), HeaderId::Upgrade);
    EXPECT_EQ(header_id("X-Forwarded-For"), HeaderId::XForwardedFor);
    EXPECT_EQ(header_id("x-forwarded-proto"), HeaderId::XForwardedProto);
    EXPECT_EQ(header_id("X-Forwarded-Host"), HeaderId::XForwardedHost);
    EXPECT_EQ(header_id("X-Forwarded-Port"), HeaderId::XForwardedPort);
    EXPECT_EQ(header_id("X-Real-IP"), HeaderId::XRealIp);
    EXPECT_EQ(header_id("X-Request-Id"), HeaderId::XRequestId);
    for (std::string_view near : {"", "Hos", "Hostt", "Ho_t", "Content-Lengtj", "Connectiom", "Keep_Alive", "X-Forwarded-Fo",
                                  "User-Agent", "Accept", "Trailers", "T"})
        EXPECT_EQ(header_id(near), HeaderId::Other) << near;
}

// Header values are checked 8 bytes at a time: a forbidden byte must be
// found at every offset, and allowed ones (HTAB, obs-text) must pass.
TEST(RequestParser, ValueBytesCheckedAtEveryOffset) {
    for (std::size_t at = 0; at < 24; ++at) {
        for (char bad : {'\0', '\x01', '\x1f', '\x7f', '\r', '\n'}) {
            std::string value(24, 'v');
            value[at] = bad;
            RequestParser p;
            RequestHead h;
            auto r = p.parse("GET / HTTP/1.1\r\nHost: a\r\nX-V: " + value + "\r\n\r\n", h);
            EXPECT_EQ(r.status, ParseStatus::Error) << "offset " << at << " byte " << int(bad);
        }
        std::string value(24, 'v');
        value[at] = '\t';
        value[(at + 5) % 24] = '\xe9';
        RequestParser p;
        RequestHead h;
        auto r = p.parse("GET / HTTP/1.1\r\nHost: a\r\nX-V: " + value + "\r\nX-W:\tz\t \r\n\r\n", h);
        ASSERT_EQ(r.status, ParseStatus::Complete) << "offset " << at << ": " << r.reason;
        ASSERT_EQ(h.header_count, 3u);
        EXPECT_EQ(h.headers[1].value, value.substr(at == 0 ? 1 : 0, at == 23 ? 23 : 24)) << "OWS trimmed only at the ends";
        EXPECT_EQ(h.headers[2].value, "z");
        EXPECT_EQ(h.headers[1].id, HeaderId::Other);
        EXPECT_EQ(h.headers[0].id, HeaderId::Host);
    }
}

// Header names are scanned 8 bytes at a time while they hold letters, digits
// and '-': every byte value at every offset of names of every length up to 20
// must be judged as RFC 9110's token rule says, whatever bytes precede it.
TEST(RequestParser, NameBytesCheckedAtEveryOffset) {
    auto is_token = [](unsigned char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    };
    const std::string base = "X-Fo-rwarded-Proto-9Z";  // '-' before many offsets: a ',' after one is no dash
    for (std::size_t len = 1; len <= 20; ++len) {
        for (std::size_t at = 0; at < len; ++at) {
            for (int b = 0; b < 256; ++b) {
                if (b == ':') continue;  // ends the name early: another test's business
                std::string name = base.substr(0, len);
                name[at] = static_cast<char>(b);
                RequestParser p;
                RequestHead h;
                auto r = p.parse("GET / HTTP/1.1\r\nHost: a\r\n" + name + ": v\r\n\r\n", h);
                if (is_token(static_cast<unsigned char>(b))) {
                    ASSERT_EQ(r.status, ParseStatus::Complete) << "len " << len << " at " << at << " byte " << b;
                    ASSERT_EQ(h.header_count, 2u);
                    EXPECT_EQ(h.headers[1].name, name);
                    EXPECT_EQ(h.headers[1].value, "v");
                } else {
                    ASSERT_EQ(r.status, ParseStatus::Error) << "len " << len << " at " << at << " byte " << b;
                    EXPECT_EQ(r.http_status, 400);
                }
            }
        }
    }
}
