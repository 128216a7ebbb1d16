// What changed while ferry was stopped: the catalog reconcile on real trees.
#include "watch/reconcile.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "tests/lib/watch_harness.h"

namespace ferry {
namespace {

using testing::Has;
using testing::WatchHarness;

// Sets a path's mtime (and atime) to `sec` seconds after the epoch, without
// following symlinks.
void SetMtime(const std::string& path, time_t sec, long nsec = 0) {
  timespec times[2] = {{sec, nsec}, {sec, nsec}};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << path;
}

constexpr time_t kLongAgo = 1'600'000'000;  // far outside the racy window

// A tree that the first start records in the catalog, with old mtimes.
void MakeTree(WatchHarness& h) {
  h.Write("keep", "same");
  h.Write("modify", "aaaa");
  h.Write("chmod", "c");
  h.Write("replace", "file");
  h.Mkdir("gone");
  h.Mkdir("gone/deep");
  h.Write("gone/deep/x", "x");
  h.Write("gone/y", "y");
  h.Mkdir("dir");
  h.Write("dir/z", "z");
  for (const char* p : {"keep", "modify", "chmod", "replace", "gone/deep/x", "gone/y", "dir/z"}) {
    SetMtime(h.Path(p), kLongAgo);
  }
}

TEST(ReconcileTest, ChangesWhileStoppedAreJournaledExactly) {
  WatchHarness h;
  MakeTree(h);
  h.Start();
  h.Stop();
  const uint64_t base = h.journal().LastSeq();

  // While ferry is stopped:
  h.Write("new", "n");
  h.Write("modify", "bbbb");             // same size...
  SetMtime(h.Path("modify"), kLongAgo);  // ...and the same mtime: only ctime tells
  ASSERT_EQ(chmod(h.Path("chmod").c_str(), 0600), 0);
  std::filesystem::remove_all(h.Path("gone"));  // a whole subtree
  ASSERT_EQ(unlink(h.Path("replace").c_str()), 0);
  h.Mkdir("replace");  // a file replaced by a directory
  h.Write("replace/inside", "i");
  // Written well before the start below, so their catalog entries are not
  // racy and the quiet restart at the end stays quiet.
  SetMtime(h.Path("new"), kLongAgo);
  SetMtime(h.Path("replace/inside"), kLongAgo);

  auto stats = h.Start();
  EXPECT_FALSE(stats.first_sync);
  auto ev = h.Events(base);
  std::string dump = WatchHarness::Dump(ev);
  EXPECT_TRUE(Has(ev, EventKind::kCreate, "new")) << dump;
  EXPECT_TRUE(Has(ev, EventKind::kModify, "modify")) << dump;
  EXPECT_TRUE(Has(ev, EventKind::kAttrib, "chmod")) << dump;
  EXPECT_TRUE(Has(ev, EventKind::kDelete, "gone")) << dump;
  EXPECT_TRUE(Has(ev, EventKind::kDelete, "replace")) << dump;
  EXPECT_TRUE(Has(ev, EventKind::kCreate, "replace")) << dump;
  // Exactly those: one delete for the subtree, one create for the new
  // directory with its content, nothing for what did not change.
  EXPECT_EQ(ev.size(), 6u) << dump;
  EXPECT_EQ(stats.deleted, 2u);
  EXPECT_FALSE(h.journal().GetCatalogEntry(h.dest(), "gone/deep/x")->has_value());
  EXPECT_TRUE(h.journal().GetCatalogEntry(h.dest(), "replace/inside")->has_value());

  // A second start with nothing changed journals nothing.
  h.Stop();
  const uint64_t again = h.journal().LastSeq();
  h.Start();
  EXPECT_EQ(h.journal().LastSeq(), again) << WatchHarness::Dump(h.Events(again));
}

TEST(ReconcileTest, RacyEntryIsTreatedAsModified) {
  WatchHarness h;
  h.Write("racy", "1234");
  SetMtime(h.Path("racy"), kLongAgo);
  h.Start();
  h.Stop();
  // Pretend the catalog saw the file within the same timestamp tick as its
  // last write: a second write in that tick would leave no trace.
  auto state = **h.journal().GetCatalogEntry(h.dest(), "racy");
  state.seen_ns = state.mtime_ns + 1'000'000;
  AppendBatch b;
  b.catalog.push_back(
      {.op = CatalogChange::Op::kPut, .destination = h.dest(), .path = "racy", .state = state});
  ASSERT_TRUE(h.journal().Append(std::move(b)));
  const uint64_t base = h.journal().LastSeq();
  h.Start();
  auto ev = h.Events(base);
  ASSERT_EQ(ev.size(), 1u) << WatchHarness::Dump(ev);
  EXPECT_EQ(ev[0].kind, EventKind::kModify);
  // Now recorded with a trustworthy seen time: the next start is quiet.
  h.Stop();
  const uint64_t again = h.journal().LastSeq();
  h.Start();
  EXPECT_EQ(h.journal().LastSeq(), again);
}

TEST(ReconcileTest, UnselectedKindsAreNotJournaled) {
  WatchHarness h(kSelectCloseWrite | kSelectCreate);  // no delete, no attrib (sersync default)
  h.Write("a", "a");
  h.Write("b", "b");
  SetMtime(h.Path("a"), kLongAgo);
  SetMtime(h.Path("b"), kLongAgo);
  h.Start();
  h.Stop();
  const uint64_t base = h.journal().LastSeq();
  ASSERT_EQ(unlink(h.Path("a").c_str()), 0);
  ASSERT_EQ(chmod(h.Path("b").c_str(), 0600), 0);
  h.Write("c", "c");
  SetMtime(h.Path("c"), kLongAgo);
  h.Start();
  auto ev = h.Events(base);
  ASSERT_EQ(ev.size(), 1u) << WatchHarness::Dump(ev);
  EXPECT_TRUE(Has(ev, EventKind::kCreate, "c"));
}

TEST(ReconcileTest, ComparePathsPutsTheSlashFirst) {
  EXPECT_LT(ComparePaths("a/x", "a-b"), 0);
  EXPECT_LT(ComparePaths("a", "a/x"), 0);
  EXPECT_GT(ComparePaths("a\xff", "a/"), 0);
  EXPECT_EQ(ComparePaths("same", "same"), 0);
}

}  // namespace
}  // namespace ferry
