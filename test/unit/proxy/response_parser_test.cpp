#include <gtest/gtest.h>

#include "http/response_parser.h"

using namespace xgress::http;

namespace {
ResponseHead parsed(std::string_view text, bool head_request = false) {
    ResponseParser p;
    ResponseHead h;
    ParseResult r = p.parse(text, head_request, h);
    EXPECT_EQ(r.status, ParseStatus::Complete) << r.reason;
    return h;
}
}  // namespace

TEST(ResponseParser, ContentLength) {
    ResponseHead h = parsed("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n");
    EXPECT_EQ(h.status, 200);
    EXPECT_EQ(h.body, BodyKind::ContentLength);
    EXPECT_EQ(h.content_length, 12u);
    EXPECT_TRUE(h.keep_alive);
    EXPECT_EQ(h.status_line, "HTTP/1.1 200 OK");
}

TEST(ResponseParser, Chunked) {
    ResponseHead h = parsed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    EXPECT_EQ(h.body, BodyKind::Chunked);
    EXPECT_TRUE(h.keep_alive);
}

TEST(ResponseParser, CloseDelimited) {
    ResponseHead h = parsed("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n");
    EXPECT_EQ(h.body, BodyKind::UntilClose);
    EXPECT_FALSE(h.keep_alive);
    h = parsed("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
    EXPECT_EQ(h.body, BodyKind::UntilClose);
}

TEST(ResponseParser, NoBodyCases) {
    EXPECT_EQ(parsed("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", true).body, BodyKind::None);
    EXPECT_EQ(parsed("HTTP/1.1 204 No Content\r\n\r\n").body, BodyKind::None);
    EXPECT_EQ(parsed("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n").body, BodyKind::None);
    EXPECT_EQ(parsed("HTTP/1.1 100 Continue\r\n\r\n").body, BodyKind::None);
    EXPECT_TRUE(parsed("HTTP/1.1 204 No Content\r\n\r\n").keep_alive);
}

TEST(ResponseParser, ConnectionSemantics) {
    EXPECT_FALSE(parsed("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").keep_alive);
    EXPECT_FALSE(parsed("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive);
    EXPECT_TRUE(parsed("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n").keep_alive);
}

TEST(ResponseParser, StatusWithoutReason) {
    EXPECT_EQ(parsed("HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n").status, 404);
}

TEST(ResponseParser, Rejections) {
    for (std::string bad : {"HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                            "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", "HTTP/1.1 200 OK\rX\r\n\r\n", "garbage\r\n\r\n"}) {
        ResponseParser p;
        ResponseHead h;
        ParseResult r = p.parse(bad, false, h);
        EXPECT_EQ(r.status, ParseStatus::Error) << bad;
    }
}

TEST(ResponseParser, Incremental) {
    std::string text = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
    ResponseParser p;
    ResponseHead h;
    std::string buf;
    for (std::size_t i = 0; i < text.size(); ++i) {
        buf.push_back(text[i]);
        ParseResult r = p.parse(buf, false, h);
        EXPECT_EQ(r.status, i + 1 == text.size() ? ParseStatus::Complete : ParseStatus::Incomplete);
    }
}
