// Incremental reload: the watcher names the files that changed, only those
// are re-read (load_manifest_files), and LastGoodObjects replaces exactly
// their objects. After every step the cache must equal what a full rescan of
// the directory gives; an inotify queue overflow asks for a rescan.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "k8s/directory_watcher.h"
#include "k8s/manifests_source.h"

namespace xgress::agent::k8s {
namespace {

class IncrementalReload : public testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() / ("xgh10-incr-" + std::to_string(::getpid()));
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        auto watched = DirectoryWatcher::watch(dir_.string());
        ASSERT_TRUE(watched) << watched.error();
        watcher_.emplace(std::move(*watched));
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }

    // Applies what the watcher saw, incrementally, and checks the result
    // against a fresh full load of the directory (unless a broken file keeps
    // last good objects, which a fresh load cannot know).
    const ObjectCache& sync(bool compare_with_rescan = true) {
        watcher_->drain();
        DirectoryWatcher::Changes changes = watcher_->take_changes();
        EXPECT_FALSE(changes.rescan);
        last_names_ = changes.names;
        LoadedManifests partial = load_manifest_files(dir_, changes.names);
        EXPECT_TRUE(partial.partial);
        std::vector<std::string> messages;
        const ObjectCache& cache = incremental_.update(partial, messages);

        if (!compare_with_rescan) return cache;
        auto full = load_manifests_directory(dir_);
        EXPECT_TRUE(full.has_value());
        LastGoodObjects fresh;
        std::vector<std::string> fresh_messages;
        EXPECT_TRUE(cache == fresh.update(*full, fresh_messages)) << "incremental cache differs from a rescan";
        EXPECT_EQ(incremental_.errors(), fresh.errors());
        return cache;
    }

    static std::string service(const std::string& name, int port) {
        return "kind: Service\nmetadata: {name: " + name + ", namespace: d}\nspec: {ports: [{port: " +
               std::to_string(port) + "}]}\n";
    }

    std::filesystem::path dir_;
    std::optional<DirectoryWatcher> watcher_;
    LastGoodObjects incremental_;
    std::set<std::string> last_names_;
};

TEST_F(IncrementalReload, AddModifyDeleteRename) {
    write("a.yaml", service("a", 80) + "---\n" + service("shared", 1));
    write("b.yaml", service("b", 81));
    const ObjectCache* cache = &sync();
    EXPECT_EQ(cache->size(), 3u);
    EXPECT_EQ(last_names_, (std::set<std::string>{"a.yaml", "b.yaml"}));

    // Modify: only a.yaml is re-read; b's object stays as it was.
    write("a.yaml", service("a", 90) + "---\n" + service("shared", 1));
    cache = &sync();
    EXPECT_EQ(last_names_, std::set<std::string>{"a.yaml"});
    EXPECT_EQ(cache->find<Service>("d", "a")->ports[0].port, 90);
    EXPECT_EQ(cache->find<Service>("d", "b")->ports[0].port, 81);
    EXPECT_EQ(incremental_.last_touched().size(), 1u);  // only Service d/a changed

    // A second file defines "shared": the later path wins; deleting it brings a.yaml's back.
    write("c.yaml", service("shared", 2));
    cache = &sync();
    EXPECT_EQ(cache->find<Service>("d", "shared")->ports[0].port, 2);
    std::filesystem::remove(dir_ / "c.yaml");
    cache = &sync();
    EXPECT_EQ(cache->find<Service>("d", "shared")->ports[0].port, 1);

    // Rename (an atomic save: temp file moved over): the objects follow the file.
    std::filesystem::rename(dir_ / "b.yaml", dir_ / "z.yaml");
    cache = &sync();
    EXPECT_EQ(last_names_, (std::set<std::string>{"b.yaml", "z.yaml"}));
    EXPECT_EQ(cache->find<Service>("d", "b")->ports[0].port, 81);
    write(".z.yaml.tmp", service("b", 82));
    std::filesystem::rename(dir_ / ".z.yaml.tmp", dir_ / "z.yaml");
    cache = &sync();
    EXPECT_EQ(cache->find<Service>("d", "b")->ports[0].port, 82);

    // Delete: its objects go.
    std::filesystem::remove(dir_ / "a.yaml");
    cache = &sync();
    EXPECT_EQ(cache->find<Service>("d", "a"), nullptr);
    EXPECT_EQ(cache->find<Service>("d", "shared"), nullptr);
    EXPECT_EQ(cache->size(), 1u);

    // Non-manifest names are ignored: nothing to re-read.
    write("notes.txt", "hello");
    watcher_->drain();
    EXPECT_TRUE(load_manifest_files(dir_, watcher_->take_changes().names).files.empty());
}

TEST_F(IncrementalReload, BrokenEditKeepsLastGoodAndErrorsStayReported) {
    write("a.yaml", service("a", 80));
    write("b.yaml", service("b", 81));
    sync();
    write("a.yaml", "kind: [unclosed\n");
    const ObjectCache* cache = &sync(false);
    EXPECT_EQ(cache->find<Service>("d", "a")->ports[0].port, 80);
    ASSERT_EQ(incremental_.errors().size(), 1u);
    // An unrelated file changes: a.yaml's error is still current.
    write("b.yaml", service("b", 82));
    cache = &sync(false);
    EXPECT_EQ(incremental_.errors().size(), 1u);
    EXPECT_EQ(cache->find<Service>("d", "a")->ports[0].port, 80);
    // Fixed: the error goes.
    write("a.yaml", service("a", 85));
    cache = &sync();
    EXPECT_TRUE(incremental_.errors().empty());
    EXPECT_EQ(cache->find<Service>("d", "a")->ports[0].port, 85);
}

TEST_F(IncrementalReload, QueueOverflowAsksForRescan) {
    // More events than the kernel queues (max_queued_events, 16384 by default).
    int limit = 16384;
    std::ifstream("/proc/sys/fs/inotify/max_queued_events") >> limit;
    if (limit > 200000) GTEST_SKIP() << "max_queued_events too high to overflow quickly";
    for (int i = 0; i <= limit / 2 + 10; ++i) {
        const auto path = dir_ / ("f" + std::to_string(i) + ".txt");
        { std::ofstream(path) << "x"; }   // IN_CREATE + IN_CLOSE_WRITE
        std::filesystem::remove(path);     // IN_DELETE
    }
    watcher_->drain();
    EXPECT_TRUE(watcher_->take_changes().rescan);
    EXPECT_FALSE(watcher_->take_changes().rescan);  // taken: the next burst starts clean
}

}  // namespace
}  // namespace xgress::agent::k8s
