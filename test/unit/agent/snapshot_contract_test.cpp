// The model's snapshot for the demo must survive the proxy's own codec:
// encode, then decode with the proxy's validation, and get the same thing.
#include <gtest/gtest.h>

#include "k8s/manifests_source.h"
#include "model/desired_state.h"
#include "xgress/snapshot.h"

namespace xgress::agent::model {
namespace {

TEST(SnapshotContract, ExamplesRoundTripThroughProxyCodec) {
    auto loaded = k8s::load_manifests_directory(XGRESS_EXAMPLES_DIR);
    ASSERT_TRUE(loaded.has_value());
    std::vector<std::string> messages;
    DesiredState state = compute_desired_state(k8s::build_cache(*loaded, messages), Settings{});
    state.snapshot.version = 42;
    auto decoded = snapshot::decode(snapshot::encode(state.snapshot));
    ASSERT_TRUE(decoded.has_value()) << decoded.error();
    EXPECT_EQ(*decoded, state.snapshot);
}

}  // namespace
}  // namespace xgress::agent::model
