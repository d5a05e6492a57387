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

// Every backend's endpoint state lives in one array: a patch that grows the
// first backend moves the others' ranges, and their state (ejection, in-flight
// counts) must move with them; the patched backend starts fresh.
TEST(EndpointPicker, StateOfUnchangedBackendsFollowsThemWhenAnotherGrows) {
    snapshot::Snapshot s;
    s.version = 1;
    s.backends = {{"a", {{"10.0.0.1", 80}}}, {"b", {{"10.0.1.1", 80}, {"10.0.1.2", 80}}}, {"c", {{"10.0.2.1", 80}}}};
    s.default_backend = "b";
    auto built = router::RouteTable::build(s);
    ASSERT_TRUE(built) << built.error();
    const auto& first = *built;
    EndpointPicker p;
    p.set_balance(upstream::Balance::RoundRobin);
    p.reset(*first, 0);
    ASSERT_TRUE(p.report_failure(p.token(1), 1, 1, 0));
    p.begin(2, 0);
    ASSERT_TRUE(p.report_failure(p.token(0), 0, 0, 0));

    snapshot::EndpointsPatch patch{1, 2, {{"a", {{"10.0.0.1", 80}, {"10.0.0.2", 80}, {"10.0.0.3", 80}}}}};
    auto patched = first->with_endpoints(patch);
    ASSERT_TRUE(patched) << patched.error();
    p.reset(**patched, 0, first.get());
    EXPECT_TRUE(p.ejected(1, 1, 1)) << "b's ejection survives the patch of a";
    EXPECT_FALSE(p.ejected(1, 0, 1));
    EXPECT_EQ(p.outstanding(2, 0), 1u) << "c's in-flight count survives";
    for (std::uint32_t e = 0; e < 3; ++e) EXPECT_FALSE(p.ejected(0, e, 1)) << "a is new: fresh state";
    EXPECT_EQ(p.outstanding(0, 2), 0u);

    // A copy has its own array: reports to it leave the original alone.
    EndpointPicker copy = p;
    ASSERT_TRUE(copy.report_failure(copy.token(2), 2, 0, 0));
    EXPECT_TRUE(copy.ejected(2, 0, 1));
    EXPECT_FALSE(p.ejected(2, 0, 1));
    for (int i = 0; i < 4; ++i) EXPECT_EQ(p.pick(1, 1), 0u) << "b's live endpoint only";

    // Same endpoint counts everywhere: the array is kept and only a's range starts over.
    ASSERT_TRUE(p.report_failure(p.token(0), 0, 2, 0));
    const std::uint64_t a_token = p.token(0), b_token = p.token(1);
    snapshot::EndpointsPatch again{2, 3, {{"a", {{"10.0.0.4", 80}, {"10.0.0.5", 80}, {"10.0.0.6", 80}}}}};
    auto repatched = (*patched)->with_endpoints(again);
    ASSERT_TRUE(repatched) << repatched.error();
    p.reset(**repatched, 0, patched->get());
    EXPECT_FALSE(p.ejected(0, 2, 1)) << "a was replaced";
    EXPECT_NE(p.token(0), a_token);
    EXPECT_EQ(p.token(1), b_token);
    EXPECT_TRUE(p.ejected(1, 1, 1));
    EXPECT_EQ(p.outstanding(2, 0), 1u);
}
