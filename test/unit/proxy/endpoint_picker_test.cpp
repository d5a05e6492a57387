// Round robin with passive health: ejection, backoff growth, fail-open,
// recovery, and epochs guarding against reports for an old table.
#include <gtest/gtest.h>

#include "router/route_table.h"
#include "upstream/endpoint_picker.h"

using namespace xgress;
using upstream::EndpointPicker;
using upstream::kNoEndpoint;

namespace {

std::shared_ptr<const router::RouteTable> table(std::size_t endpoints) {
    snapshot::Snapshot s;
    s.version = 1;
    snapshot::Backend b{"b", {}};
    for (std::size_t i = 0; i < endpoints; ++i) b.endpoints.push_back({"10.0.0." + std::to_string(i + 1), 80});
    s.backends = {b, {"empty", {}}};
    s.default_backend = "b";
    auto t = router::RouteTable::build(s);
    EXPECT_TRUE(t) << t.error();
    return *t;
}

}  // namespace

TEST(EndpointPicker, RoundRobinsAndAnswersNoneForEmptyBackend) {
    EndpointPicker p;
    p.set_balance(upstream::Balance::RoundRobin);
    p.reset(*table(3), 0);
    EXPECT_EQ(p.pick(0, 0), 0u);
    EXPECT_EQ(p.pick(0, 0), 1u);
    EXPECT_EQ(p.pick(0, 0), 2u);
    EXPECT_EQ(p.pick(0, 0), 0u);
    EXPECT_EQ(p.pick(1, 0), kNoEndpoint);
}

TEST(EndpointPicker, EjectedEndpointIsSkippedUntilBackoffEnds) {
    EndpointPicker p;
    p.set_balance(upstream::Balance::RoundRobin);
    p.reset(*table(2), 0);
    EXPECT_TRUE(p.report_failure(p.token(0), 0, 1, 1000));
    for (int i = 0; i < 6; ++i) EXPECT_EQ(p.pick(0, 1500), 0u);
    EXPECT_EQ(p.pick(0, 2000), 1u);  // round robin resumes once the 1 s backoff ends
    EXPECT_EQ(p.pick(0, 2000), 0u);
}

// With one of three endpoints ejected, the two live ones share evenly. A
// cursor that advanced by one per pick gave the ejected endpoint's turn to
// its successor: 2 of every 3 requests went to endpoint 2.
TEST(EndpointPicker, RoundRobinSharesEvenlyOverTheLiveEndpoints) {
    for (std::uint32_t dead = 0; dead < 3; ++dead) {
        EndpointPicker p;
        p.set_balance(upstream::Balance::RoundRobin);
        p.reset(*table(3), 0);
        ASSERT_TRUE(p.report_failure(p.token(0), 0, dead, 0));
        unsigned count[3] = {};
        for (int i = 0; i < 300; ++i) ++count[p.pick(0, 10)];
        EXPECT_EQ(count[dead], 0u) << "dead " << dead;
        for (std::uint32_t e = 0; e < 3; ++e) {
            if (e != dead) {
                EXPECT_EQ(count[e], 150u) << "endpoint " << e << " with " << dead << " ejected";
            }
        }
    }
}

// A retry that avoids an endpoint does not distort the rotation either.
TEST(EndpointPicker, RoundRobinAvoidKeepsTheRotation) {
    EndpointPicker p;
    p.set_balance(upstream::Balance::RoundRobin);
    p.reset(*table(3), 0);
    EXPECT_EQ(p.pick(0, 0), 0u);
    EXPECT_EQ(p.pick(0, 0, 1), 2u);  // 1's turn, but avoided
    EXPECT_EQ(p.pick(0, 0), 0u);
    EXPECT_EQ(p.pick(0, 0), 1u);
}

TEST(EndpointPicker, BackoffDoublesAndSuccessResetsIt) {
    EndpointPicker p;
    p.set_balance(upstream::Balance::RoundRobin);
    p.reset(*table(2), 0);
    EXPECT_TRUE(p.report_failure(p.token(0), 0, 0, 0));       // out until 1000
    EXPECT_FALSE(p.report_failure(p.token(0), 0, 0, 500));    // already ejected: no extension
    EXPECT_TRUE(p.report_failure(p.token(0), 0, 0, 1000));    // out until 3000
    EXPECT_TRUE(p.ejected(0, 0, 2999));
    EXPECT_FALSE(p.ejected(0, 0, 3000));
    p.report_success(p.token(0), 0, 0);
    EXPECT_TRUE(p.report_failure(p.token(0), 0, 0, 5000));    // back to 1 s
    EXPECT_FALSE(p.ejected(0, 0, 6000));
}

TEST(EndpointPicker, BackoffIsCapped) {
    EndpointPicker p;
    p.set_balance(upstream::Balance::RoundRobin);
    p.reset(*table(1), 0);
    std::uint64_t now = 0;
    for (int i = 0; i < 20; ++i) {
        ASSERT_TRUE(p.report_failure(p.token(0), 0, 0, now));
        now += EndpointPicker::kMaxBackoffMs;
        EXPECT_FALSE(p.ejected(0, 0, now));
    }
}

TEST(EndpointPicker, FailsOpenWhenEverythingIsEjected) {
    EndpointPicker p;
    p.set_balance(upstream::Balance::RoundRobin);
    p.reset(*table(2), 0);
    p.report_failure(p.token(0), 0, 0, 0);
    p.report_failure(p.token(0), 0, 1, 0);
    EXPECT_NE(p.pick(0, 10), kNoEndpoint);
}

TEST(EndpointPicker, AvoidSkipsTheFailedEndpointWhenThereIsAnother) {
    EndpointPicker p;
    p.set_balance(upstream::Balance::RoundRobin);
    p.reset(*table(2), 0);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(p.pick(0, 0, 0), 1u);
    EndpointPicker single;
    single.reset(*table(1), 0);
    EXPECT_EQ(single.pick(0, 0, 0), 0u) << "the only endpoint is still tried";
}

TEST(EndpointPicker, ReportsForAnOldTableAreIgnored) {
    EndpointPicker p;
    p.set_balance(upstream::Balance::RoundRobin);
    p.reset(*table(2), 0);
    const std::uint64_t old = p.token(0);
    p.reset(*table(2), 0);
    EXPECT_FALSE(p.report_failure(old, 0, 0, 0));
    EXPECT_FALSE(p.ejected(0, 0, 1));
    EXPECT_FALSE(p.report_failure(p.token(0), 7, 0, 0)) << "out of range backend";
}
