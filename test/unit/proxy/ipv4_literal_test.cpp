// parse_ipv4_literal (xgress/ipv4_literal.h): the fast path the codec and the
// route table take before inet_pton. It must never accept what inet_pton
// rejects, nor read an address differently.
#include "xgress/ipv4_literal.h"

#include <arpa/inet.h>

#include <string>

#include <gtest/gtest.h>

namespace {

using xgress::parse_ipv4_literal;

TEST(Ipv4Literal, ParsesPlainDottedQuads) {
    in_addr a{};
    ASSERT_TRUE(parse_ipv4_literal("10.244.1.2", a));
    EXPECT_EQ(ntohl(a.s_addr), 0x0af40102u);
    ASSERT_TRUE(parse_ipv4_literal("255.255.255.255", a));
    EXPECT_EQ(a.s_addr, 0xffffffffu);
    ASSERT_TRUE(parse_ipv4_literal("0.0.0.0", a));
    EXPECT_EQ(a.s_addr, 0u);
}

TEST(Ipv4Literal, RejectsEverythingElse) {
    in_addr a{};
    for (const char* bad : {"", "1.2.3", "1.2.3.4.", ".1.2.3.4", "1..2.3", "256.0.0.1", "1.2.3.256", "01.2.3.4",
                            "1.2.3.04", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4:80", "1.2.3.1000", "a.b.c.d", "::1",
                            "::ffff:1.2.3.4", "1.2.3.-4", "0x1.2.3.4"})
        EXPECT_FALSE(parse_ipv4_literal(bad, a)) << bad;
}

// Every text it accepts, inet_pton accepts with the same bytes.
TEST(Ipv4Literal, AgreesWithInetPton) {
    for (const std::string text : {"1.2.3.4", "127.0.0.1", "192.168.100.200", "10.0.0.255", "0.1.10.100"}) {
        in_addr mine{}, libc{};
        ASSERT_TRUE(parse_ipv4_literal(text, mine)) << text;
        ASSERT_EQ(inet_pton(AF_INET, text.c_str(), &libc), 1) << text;
        EXPECT_EQ(mine.s_addr, libc.s_addr) << text;
    }
    for (unsigned v = 0; v < 300; v += 7) {  // every width of part, and out of range
        const std::string text = "9." + std::to_string(v) + ".0." + std::to_string(299 - v);
        in_addr mine{}, libc{};
        const bool ok = parse_ipv4_literal(text, mine);
        EXPECT_EQ(ok, inet_pton(AF_INET, text.c_str(), &libc) == 1) << text;
        if (ok) {
            EXPECT_EQ(mine.s_addr, libc.s_addr) << text;
        }
    }
}

}  // namespace
