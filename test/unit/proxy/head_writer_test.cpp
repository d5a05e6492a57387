#include <gtest/gtest.h>

#include "http/head_writer.h"

using namespace xgress::http;

TEST(HeadWriter, RequestStripsHopByHopAndAddsForwarding) {
    RequestParser p;
    RequestHead h;
    std::string in =
        "GET /x HTTP/1.1\r\nHost: shop.test\r\nConnection: keep-alive, X-Secret\r\nKeep-Alive: 5\r\nX-Secret: s\r\n"
        "Upgrade: websocket\r\nX-Forwarded-For: 6.6.6.6\r\nAccept: */*\r\n\r\n";
    ASSERT_EQ(p.parse(in, h).status, ParseStatus::Complete);
    std::string out;
    write_request_head(out, h, ForwardingInfo{"10.1.2.3", "http", "10.0.0.9:80"});
    EXPECT_EQ(out,
              "GET /x HTTP/1.1\r\nHost: shop.test\r\nAccept: */*\r\nX-Forwarded-For: 6.6.6.6, 10.1.2.3\r\n"
              "X-Real-IP: 10.1.2.3\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: shop.test\r\n\r\n")
        << "the client's X-Forwarded-For is kept and the client address appended";
}

TEST(HeadWriter, ForwardingHeadersRequestIdPortAndRewrite) {
    RequestParser p;
    RequestHead h;
    std::string in =
        "GET /api/x?q=1 HTTP/1.1\r\nHost: Shop.test:8443\r\nX-Forwarded-For: 1.1.1.1\r\nX-Forwarded-Proto: http\r\n"
        "X-Forwarded-Port: 1\r\nX-Real-IP: 6.6.6.6\r\nx-forwarded-for: 2.2.2.2\r\nX-Forwarded-Host: evil\r\n\r\n";
    ASSERT_EQ(p.parse(in, h).status, ParseStatus::Complete);
    std::string out;
    write_request_head(out, h,
                       ForwardingInfo{.client_ip = "10.1.2.3", .proto = "https", .fallback_host = "",
                                      .port = "8443", .request_id = "0123456789abcdef0123456789abcdef",
                                      .target = "/x?q=1"});
    EXPECT_EQ(out,
              "GET /x?q=1 HTTP/1.1\r\nHost: Shop.test:8443\r\nX-Forwarded-For: 1.1.1.1, 2.2.2.2, 10.1.2.3\r\n"
              "X-Real-IP: 10.1.2.3\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: Shop.test:8443\r\n"
              "X-Forwarded-Port: 8443\r\nX-Request-ID: 0123456789abcdef0123456789abcdef\r\n\r\n");

    // A client's own X-Request-ID passes through; none is added.
    p.reset();
    ASSERT_EQ(p.parse("GET / HTTP/1.1\r\nHost: a\r\nX-Request-Id: mine\r\n\r\n", h).status, ParseStatus::Complete);
    out.clear();
    write_request_head(out, h, ForwardingInfo{.client_ip = "::1", .request_id = "0123456789abcdef0123456789abcdef"});
    EXPECT_NE(out.find("X-Request-Id: mine\r\n"), std::string::npos);
    EXPECT_EQ(out.find("X-Request-ID:"), std::string::npos);
    EXPECT_NE(out.find("X-Forwarded-For: ::1\r\n"), std::string::npos);
}

TEST(HeadWriter, LocalResponseWithExtraHeaders) {
    std::string out;
    write_local_response(out, 308, true, "Location: https://a.test/x\r\n");
    EXPECT_EQ(out,
              "HTTP/1.1 308 Permanent Redirect\r\nServer: xgress\r\nContent-Type: text/plain\r\nContent-Length: 19\r\n"
              "Location: https://a.test/x\r\n\r\nPermanent Redirect\n");
}

TEST(HeadWriter, Http10RequestWithoutHost) {
    RequestParser p;
    RequestHead h;
    ASSERT_EQ(p.parse("GET / HTTP/1.0\r\n\r\n", h).status, ParseStatus::Complete);
    std::string out;
    write_request_head(out, h, ForwardingInfo{"1.2.3.4", "http", "10.0.0.9:80"});
    EXPECT_NE(out.find("GET / HTTP/1.0\r\n"), std::string::npos);
    EXPECT_NE(out.find("Host: 10.0.0.9:80\r\n"), std::string::npos);
    EXPECT_NE(out.find("Connection: keep-alive\r\n"), std::string::npos);
}

TEST(HeadWriter, ResponseConnectionHeader) {
    ResponseParser p;
    ResponseHead h;
    ASSERT_EQ(p.parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n", false, h).status,
              ParseStatus::Complete);
    std::string out;
    write_response_head(out, h, Version::Http11, false);
    EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n");
    out.clear();
    write_response_head(out, h, Version::Http10, true);
    EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n");
}

TEST(HeadWriter, LocalResponse) {
    std::string out;
    write_local_response(out, 404, true);
    EXPECT_EQ(out, "HTTP/1.1 404 Not Found\r\nServer: xgress\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nNot Found\n");
}

TEST(HeadWriter, UpgradeRequestKeepsUpgradeAndSaysConnectionUpgrade) {
    RequestParser p;
    RequestHead h;
    std::string in =
        "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n"
        "Sec-WebSocket-Key: k\r\n\r\n";
    ASSERT_EQ(p.parse(in, h).status, ParseStatus::Complete);
    EXPECT_EQ(h.upgrade, "websocket");
    std::string out;
    write_request_head(out, h, ForwardingInfo{"10.1.2.3", "http", ""});
    EXPECT_NE(out.find("Sec-WebSocket-Key: k\r\n"), std::string::npos);
    EXPECT_NE(out.find("Upgrade: websocket\r\nConnection: upgrade\r\n\r\n"), std::string::npos) << out;
    EXPECT_EQ(out.find("keep-alive"), std::string::npos);
}

TEST(HeadWriter, UpgradeOnlyForBodilessHttp11Get) {
    RequestParser p;
    RequestHead h;
    for (const char* in : {"POST /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
                           "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n"
                           "Content-Length: 3\r\n\r\n",
                           "GET /ws HTTP/1.0\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
                           "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n"}) {
        p.reset();
        ASSERT_EQ(p.parse(in, h).status, ParseStatus::Complete) << in;
        EXPECT_TRUE(h.upgrade.empty()) << in;
        std::string out;
        write_request_head(out, h, ForwardingInfo{"10.1.2.3", "http", ""});
        EXPECT_EQ(out.find("Upgrade"), std::string::npos) << out;
    }
}

TEST(HeadWriter, SwitchingProtocolsHead) {
    ResponseParser p;
    ResponseHead h;
    ASSERT_EQ(p.parse("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Keep-Alive: 1\r\nSec-WebSocket-Accept: x\r\n\r\n",
                      false, h)
                  .status,
              ParseStatus::Complete);
    std::string out;
    write_upgrade_response_head(out, h);
    EXPECT_EQ(out,
              "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: x\r\n"
              "Connection: upgrade\r\n\r\n");
}
