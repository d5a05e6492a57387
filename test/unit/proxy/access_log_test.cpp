// The access log: JSON escaping of everything a client controls, the line
// format, the bounded hand-off (drop and count when the writer is behind) and
// lines reaching the file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "log/access_log.h"

namespace xgress::log {
namespace {

std::string json(std::string_view s) {
    std::string out;
    append_json_string(out, s);
    return out;
}

TEST(AccessLogJson, PlainTextIsQuoted) { EXPECT_EQ(json("GET /a?b=c"), "\"GET /a?b=c\""); }

TEST(AccessLogJson, QuoteAndBackslashAreEscaped) {
    EXPECT_EQ(json(R"(a"b\c)"), R"("a\"b\\c")");
    // A client cannot close the string and add a field.
    EXPECT_EQ(json(R"(x","status":200,"y":")"), R"("x\",\"status\":200,\"y\":\"")");
}

TEST(AccessLogJson, ControlCharactersAndDelAreEscaped) {
    EXPECT_EQ(json(std::string("a\nb\rc\td\0e\x1f\x7f", 11)), R"("a\u000ab\u000dc\u0009d\u0000e\u001f\u007f")");
}

TEST(AccessLogJson, ValidUtf8PassesInvalidBytesAreEscaped) {
    EXPECT_EQ(json("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    EXPECT_EQ(json("\xff\xfe"), R"("\u00ff\u00fe")");
    EXPECT_EQ(json("\xc3"), R"("\u00c3")") << "truncated sequence";
    EXPECT_EQ(json("\xc0\xaf"), R"("\u00c0\u00af")") << "overlong";
    EXPECT_EQ(json("\xed\xa0\x80"), R"("\u00ed\u00a0\u0080")") << "surrogate";
    EXPECT_EQ(json("\xf4\x90\x80\x80"), R"("\u00f4\u0090\u0080\u0080")") << "above U+10FFFF";
}

TEST(AccessLogLine, BeginAndEndMakeOneJsonLine) {
    std::string line = "stale";
    format_access_begin(line, AccessRequest{.unix_ms = 1795326864123,  // 2026-11-22T05:54:24.123Z
                                            .client = "198.18.0.2",
                                            .method = "GET",
                                            .host = "shop.example.com",
                                            .target = "/a?q=\"1\"",
                                            .request_id = "abc",
                                            .route = "shop.example.com /"});
    format_access_end(line, 200, 1234, "10.244.1.11:8080", 1502);
    EXPECT_EQ(line,
              "{\"time\":\"2026-11-22T05:54:24.123Z\",\"client\":\"198.18.0.2\",\"method\":\"GET\","
              "\"host\":\"shop.example.com\",\"path\":\"/a?q=\\\"1\\\"\",\"request_id\":\"abc\","
              "\"route\":\"shop.example.com /\",\"status\":200,\"bytes\":1234,\"upstream\":\"10.244.1.11:8080\","
              "\"upstream_latency_ms\":1.502}\n");
}

TEST(AccessLogLine, LocalAnswerHasNulls) {
    std::string line;
    format_access_begin(line, AccessRequest{.unix_ms = 1000, .client = "::1"});
    format_access_end(line, 408, 0, {}, -1);
    EXPECT_EQ(line,
              "{\"time\":\"1970-01-01T00:00:01.000Z\",\"client\":\"::1\",\"method\":\"\",\"host\":\"\",\"path\":\"\","
              "\"request_id\":\"\",\"route\":null,\"status\":408,\"bytes\":0,\"upstream\":null,"
              "\"upstream_latency_ms\":null}\n");
}

TEST(AccessLogBuffer, BatchThatDoesNotFitIsDroppedAndCounted) {
    AccessLogBuffer b;  // no writer: nothing drains the slot
    const std::string big(AccessLogBuffer::kMaxPendingBytes / 2 + 1, 'x');
    b.add(big);
    b.publish();
    EXPECT_EQ(b.written_lines(), 1u);
    EXPECT_EQ(b.dropped(), 0u);
    b.add(big);
    b.add("{}\n");
    b.publish();
    EXPECT_EQ(b.written_lines(), 1u);
    EXPECT_EQ(b.dropped(), 2u) << "the whole batch goes, counted per line";
    b.publish();
    EXPECT_EQ(b.dropped(), 2u) << "an empty batch is not a drop";
}

TEST(AccessLogFile, PublishedLinesReachTheFile) {
    char path[] = "/tmp/xgress-access-log-XXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    {
        auto log = AccessLog::open(path, 2);
        ASSERT_TRUE(log) << log.error();
        (*log)->buffer(0).add("{\"a\":1}\n");
        (*log)->buffer(1).add("{\"b\":2}\n");
        (*log)->buffer(0).publish();
        (*log)->buffer(1).publish();
        EXPECT_EQ((*log)->lines(), 2u);
        (*log)->buffer(1).add("{\"c\":3}\n");
        (*log)->buffer(1).publish();
    }  // the destructor writes what is left
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    unlink(path);
    EXPECT_EQ(text.str(), "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n");
}

TEST(AccessLogFile, UnwritablePathIsAnError) {
    auto log = AccessLog::open("/nonexistent-dir/x.log", 1);
    ASSERT_FALSE(log);
    EXPECT_NE(log.error().find("/nonexistent-dir/x.log"), std::string::npos);
}

}  // namespace
}  // namespace xgress::log
