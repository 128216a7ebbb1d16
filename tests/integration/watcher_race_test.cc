// A directory renamed while the watcher walks its parent (real inotify, and
// a real fanotify filesystem mark).
//
// The walk watches a directory, lists it, and only later comes to list each
// subdirectory. One renamed in between is journaled, but not what it holds,
// and no watch reports what comes into it: the files in it were lost for
// good (found by the "rsync daemon killed mid-transfer" soak, where a file
// renamed into such a directory never reached a target). The record of the
// rename must make the watcher list it where it went.
//
// The rename is made at an exact point of the walk by the watcher's clock,
// which the walk reads at known points; each case checks that the race was
// really hit (the walk journaled the old name but not what is in it).
// fanotify needs no watch, but a directory moved in is walked all the same
// (what it holds was never reported), so the race is the same one; its
// cases count the readings from the moment the directory is there.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "watch/tree_walk.h"
#include "tests/lib/watch_harness.h"

namespace ferry {
namespace {

using testing::Has;
using testing::WatchHarness;

// Whether inotify instance `fd` of this process watches the inode of `path`.
bool Watched(int fd, const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return false;
  std::ifstream fdinfo("/proc/self/fdinfo/" + std::to_string(fd));
  std::stringstream want;
  want << "ino:" << std::hex << st.st_ino << " ";
  for (std::string line; std::getline(fdinfo, line);) {
    if (line.starts_with("inotify ") && line.find(want.str()) != std::string::npos) return true;
  }
  return false;
}

// The system clock, with a hook run at each wall-clock reading.
class HookClock final : public Clock {
 public:
  int64_t WallNanos() override {
    if (hook_) hook_();
    return SystemClock::Default()->WallNanos();
  }
  int64_t MonotonicNanos() override { return SystemClock::Default()->MonotonicNanos(); }
  void set_hook(std::function<void()> hook) { hook_ = std::move(hook); }

 private:
  std::function<void()> hook_;
};

struct RaceCase {
  const char* name;
  // Once the watcher watches `armed_by` (relative to the source), the rename
  // of `from` to `to` is made at the `reading`-th clock reading (1 = the
  // first reading that sees the watch).
  const char* armed_by;
  int reading;
  const char* from;
  const char* to;
  const char* file_after;  // where the file ends up
  WatcherBackend backend = WatcherBackend::kInotify;
};

void PrintTo(const RaceCase& c, std::ostream* os) { *os << c.name; }

class WatcherRaceTest : public ::testing::TestWithParam<RaceCase> {
 protected:
  void SetUp() override {
    if (GetParam().backend != WatcherBackend::kFanotify) return;
    testing::TempDir probe;
    if (Status s = FanotifyUsable(probe.path()); !s.ok()) GTEST_SKIP() << s.message();
  }
};

TEST_P(WatcherRaceTest, RenameDuringTheWalkLosesNothing) {
  const RaceCase& c = GetParam();
  WatchHarness h(c.backend);
  HookClock clock;
  h.UseClock(&clock);
  // Made outside and moved in whole: the watcher walks it. Made before the
  // start, so that fanotify's queue holds no event of its making.
  const std::string outside = h.Outside("incoming");
  std::filesystem::create_directories(outside + "/sub/deep");
  std::ofstream(outside + "/sub/deep/file") << "data";
  h.Start();
  const uint64_t base = h.journal().LastSeq();
  int readings = 0;
  bool renamed = false;
  clock.set_hook([&] {
    if (renamed) return;
    if (c.backend == WatcherBackend::kInotify ? !Watched(h.watcher().fd(), h.Path(c.armed_by))
                                              : !std::filesystem::exists(h.Path(c.armed_by))) {
      return;
    }
    if (++readings < c.reading) return;
    ASSERT_EQ(rename(h.Path(c.from).c_str(), h.Path(c.to).c_str()), 0) << c.from;
    renamed = true;
  });
  ASSERT_EQ(rename(outside.c_str(), h.Path("incoming").c_str()), 0);
  ASSERT_TRUE(h.PumpUntil([&](auto& ev) { return Has(ev, EventKind::kMove, c.to); }, base));
  ASSERT_TRUE(renamed);
  // The race was hit: the walk journaled the old name, not what was in it.
  auto ev = h.Events(base);
  ASSERT_TRUE(Has(ev, EventKind::kCreate, c.from)) << WatchHarness::Dump(ev);
  ASSERT_FALSE(Has(ev, EventKind::kCreate, "incoming/sub/deep/file"))
      << "the rename came too late to race the walk\n"
      << WatchHarness::Dump(ev);
  // What it holds is journaled where it went, and cataloged.
  ASSERT_TRUE(
      h.PumpUntil([&](auto& ev) { return Has(ev, EventKind::kCreate, c.file_after); }, base));
  EXPECT_TRUE(h.journal().GetCatalogEntry(h.dest(), c.file_after)->has_value());
  // And it is watched there: a file written into it now is journaled too.
  const std::string later = std::filesystem::path(c.file_after).parent_path().string() + "/later";
  h.Write(later, "z");
  ASSERT_TRUE(h.PumpUntil([&](auto& ev) { return Has(ev, EventKind::kModify, later); }, base));
}

INSTANTIATE_TEST_SUITE_P(Walk, WatcherRaceTest,
                         ::testing::Values(
                             // The walk has listed incoming/ (reading 1 comes before the listing,
                             // reading 2 journals incoming/sub); sub is renamed before its watch.
                             RaceCase{"BeforeItsWatch", "incoming", 2, "incoming/sub",
                                      "incoming/moved", "incoming/moved/deep/file"},
                             // sub is watched (reading 1 comes just before its listing) and
                             // renamed before it is listed.
                             RaceCase{"AfterItsWatch", "incoming/sub", 1, "incoming/sub",
                                      "incoming/moved", "incoming/moved/deep/file"},
                             // sub is listed; its parent is renamed before deep is: the record
                             // is of a parent of what vanished.
                             RaceCase{"ParentRenamed", "incoming/sub", 2, "incoming", "renamed",
                                      "renamed/sub/deep/file"},
                             // fanotify: readings 1 and 2 stat and journal incoming/, 3 comes
                             // as it is listed, 4 journals sub, which is renamed before it is
                             // listed (at 5).
                             RaceCase{"FanotifySubRenamed", "incoming", 4, "incoming/sub",
                                      "incoming/moved", "incoming/moved/deep/file",
                                      WatcherBackend::kFanotify},
                             // fanotify: 5 lists sub, 6 journals deep; the parent is renamed
                             // before deep is listed.
                             RaceCase{"FanotifyParentRenamed", "incoming", 6, "incoming",
                                      "renamed", "renamed/sub/deep/file",
                                      WatcherBackend::kFanotify}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(TreeWalkerTest, ReportsADirectoryThatVanishedBeforeItWasListed) {
  testing::TempDir tmp;
  const std::string root = tmp.Sub("root");
  std::filesystem::create_directories(root + "/a/inner");
  std::filesystem::create_directories(root + "/b");
  std::vector<std::string> vanished;
  TreeWalker walker(
      {.root = root, .on_vanished = [&](const std::string& dir) { vanished.push_back(dir); }});
  auto first = walker.Next();
  ASSERT_TRUE(first);
  ASSERT_EQ(first->path, "a");
  std::filesystem::rename(root + "/a", root + "/z");  // before the walk enters it
  auto second = walker.Next();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->path, "b");
  EXPECT_FALSE(walker.Next());
  EXPECT_EQ(vanished, std::vector<std::string>{"a"});
}

}  // namespace
}  // namespace ferry
