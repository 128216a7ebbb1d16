// The inotify watch limit (fs.inotify.max_user_watches) hit for real: needs
// root to lower the limit, and runs alone (ctest RUN_SERIAL) because the limit
// is shared by every process of the user.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/lib/watch_harness.h"

namespace ferry {
namespace {

using testing::Has;
using testing::WatchHarness;

constexpr char kLimitFile[] = "/proc/sys/fs/inotify/max_user_watches";

uint64_t ReadLimit() {
  std::ifstream in(kLimitFile);
  uint64_t v = 0;
  in >> v;
  return v;
}

bool WriteLimit(uint64_t v) {
  std::ofstream out(kLimitFile);
  out << v << "\n";
  out.flush();
  return out.good();
}

// Inotify watches held right now by processes of this uid ("inotify wd:" lines).
uint64_t WatchesInUse() {
  uint64_t n = 0;
  DIR* proc = opendir("/proc");
  while (dirent* p = proc ? readdir(proc) : nullptr) {
    std::string pid = p->d_name;
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string dir = "/proc/" + pid + "/fdinfo";
    DIR* fds = opendir(dir.c_str());
    while (dirent* f = fds ? readdir(fds) : nullptr) {
      std::ifstream in(dir + "/" + f->d_name);
      for (std::string line; std::getline(in, line);) n += line.starts_with("inotify wd:");
    }
    if (fds) closedir(fds);
  }
  if (proc) closedir(proc);
  return n;
}

// The inodes watched by the inotify instance `fd` of this process.
std::set<ino_t> WatchedInodes(int fd) {
  std::set<ino_t> inodes;
  std::ifstream in("/proc/self/fdinfo/" + std::to_string(fd));
  for (std::string line; std::getline(in, line);) {
    const size_t at = line.find(" ino:");
    if (line.starts_with("inotify wd:") && at != std::string::npos) {
      inodes.insert(static_cast<ino_t>(std::stoull(line.substr(at + 5), nullptr, 16)));
    }
  }
  return inodes;
}

// Whether the watcher of `h` has a watch on `rel`.
bool Watched(WatchHarness& h, const std::string& rel) {
  struct stat st;
  return stat(h.Path(rel).c_str(), &st) == 0 && WatchedInodes(h.watcher().fd()).count(st.st_ino);
}

class WatchLimitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "lowering fs.inotify.max_user_watches needs root";
    saved_ = ReadLimit();
    if (saved_ == 0 || !WriteLimit(saved_)) GTEST_SKIP() << kLimitFile << " is not writable";
  }
  void TearDown() override {
    if (saved_ != 0) WriteLimit(saved_);
  }
  uint64_t saved_ = 0;
};

TEST_F(WatchLimitTest, LimitIsLoudStillReplicatesAndRecoversOnRetry) {
  WatchHarness h;
  for (int i = 0; i < 40; ++i) {
    h.Mkdir("d" + std::to_string(i));
    h.Write("d" + std::to_string(i) + "/f", "x");
  }
  ASSERT_TRUE(WriteLimit(WatchesInUse() + 5));
  h.Start();
  WatcherStatus st = h.watcher().status();
  EXPECT_EQ(st.state, DestinationState::kWatchLimit);
  EXPECT_NE(st.message.find("fs.inotify.max_user_watches"), std::string::npos) << st.message;
  EXPECT_GE(st.unwatched_dirs, 30u);
  EXPECT_LE(st.watches, 5u);

  // A change in an unwatched directory is not reported by inotify, but the
  // rescan of the unwatched part (on SIGHUP or every interval) journals it,
  // and catalogs it.
  const uint64_t base = h.journal().LastSeq();
  h.Write("d39/changed", "y");
  ASSERT_TRUE(h.watcher().Retry().ok());
  auto ev = h.Events(base);
  EXPECT_TRUE(Has(ev, EventKind::kCreate, "d39/changed")) << WatchHarness::Dump(ev);
  EXPECT_FALSE(Has(ev, EventKind::kRescan, "d39")) << WatchHarness::Dump(ev);
  EXPECT_TRUE(h.journal().GetCatalogEntry(h.dest(), "d39/changed")->has_value());
  EXPECT_EQ(h.watcher().status().state, DestinationState::kWatchLimit);

  // The operator raises the limit and sends SIGHUP: everything is watched.
  ASSERT_TRUE(WriteLimit(saved_));
  const uint64_t before_retry = h.journal().LastSeq();
  h.Write("d38/changed", "y");
  ASSERT_TRUE(h.watcher().Retry().ok());
  st = h.watcher().status();
  EXPECT_EQ(st.state, DestinationState::kWatching) << st.message;
  EXPECT_EQ(st.watches, 41u);
  EXPECT_EQ(st.unwatched_dirs, 0u);
  EXPECT_TRUE(Has(h.Events(before_retry), EventKind::kCreate, "d38/changed"));
  const uint64_t after = h.journal().LastSeq();
  h.Write("d39/later", "z");
  ASSERT_TRUE(
      h.PumpUntil([](auto& ev) { return Has(ev, EventKind::kModify, "d39/later"); }, after));
}

// Unwatched directories follow renames (their own and their parents'),
// and are forgotten when deleted or moved out: after the retry each one is
// watched under its name of the moment, and nothing is said to be unwatched
// that is not.
TEST_F(WatchLimitTest, UnwatchedDirectoriesFollowRenamesAndAreForgottenWhenGone) {
  WatchHarness h;
  h.Mkdir("a");  // first in the walk: the root, a, a/s0 are watched
  for (int i = 0; i < 4; ++i) {
    h.Mkdir("a/s" + std::to_string(i));
    h.Write("a/s" + std::to_string(i) + "/f", "x");
  }
  for (int i = 0; i < 6; ++i) {
    h.Mkdir("d" + std::to_string(i));
    h.Write("d" + std::to_string(i) + "/f", "x");
  }
  ASSERT_TRUE(WriteLimit(WatchesInUse() + 3));
  h.Start();
  ASSERT_TRUE(WriteLimit(saved_));  // what is unwatched stays so until a retry
  ASSERT_TRUE(Watched(h, "a"));
  ASSERT_TRUE(Watched(h, "a/s0"));
  for (const char* dir : {"a/s1", "a/s2", "a/s3", "d0", "d1", "d2", "d3"}) {
    ASSERT_FALSE(Watched(h, dir)) << dir;
  }
  WatcherStatus st = h.watcher().status();
  ASSERT_EQ(st.state, DestinationState::kWatchLimit);
  ASSERT_EQ(st.unwatched_dirs, 9u);  // a/s1..s3, d0..d5

  const uint64_t base = h.journal().LastSeq();
  ASSERT_EQ(rename(h.Path("d0").c_str(), h.Path("d0-renamed").c_str()), 0);  // itself
  ASSERT_EQ(rename(h.Path("a").c_str(), h.Path("b").c_str()), 0);            // its parent
  std::filesystem::remove_all(h.Path("d1"));                                 // deleted
  ASSERT_EQ(rename(h.Path("d2").c_str(), h.Outside("d2").c_str()), 0);       // moved out
  // Renamed over an (unwatched) empty directory, which is gone with it.
  ASSERT_EQ(unlink(h.Path("d3/f").c_str()), 0);
  ASSERT_EQ(rename(h.Path("d4").c_str(), h.Path("d3").c_str()), 0);
  ASSERT_TRUE(h.PumpUntil(
      [](auto& ev) {
        return Has(ev, EventKind::kMove, "d0-renamed") && Has(ev, EventKind::kMove, "b") &&
               Has(ev, EventKind::kDelete, "d1") && Has(ev, EventKind::kDelete, "d2") &&
               Has(ev, EventKind::kMove, "d3");
      },
      base));
  st = h.watcher().status();
  EXPECT_EQ(st.state, DestinationState::kWatchLimit);
  EXPECT_EQ(st.unwatched_dirs, 6u) << st.message;  // b/s1..s3, d0-renamed, d3, d5

  const uint64_t before_retry = h.journal().LastSeq();
  h.Write("b/s2/while-unwatched", "y");
  h.Write("d0-renamed/while-unwatched", "y");
  ASSERT_TRUE(h.watcher().Retry().ok());
  st = h.watcher().status();
  EXPECT_EQ(st.state, DestinationState::kWatching) << st.message;
  EXPECT_EQ(st.unwatched_dirs, 0u);
  EXPECT_EQ(st.watches, 9u);  // the root, b, b/s0..s3, d0-renamed, d3, d5
  for (const char* dir : {"b/s1", "b/s2", "b/s3", "d0-renamed", "d3", "d5"}) {
    EXPECT_TRUE(Watched(h, dir)) << dir;
  }
  auto ev = h.Events(before_retry);
  EXPECT_TRUE(Has(ev, EventKind::kCreate, "b/s2/while-unwatched")) << WatchHarness::Dump(ev);
  EXPECT_TRUE(Has(ev, EventKind::kCreate, "d0-renamed/while-unwatched")) << WatchHarness::Dump(ev);
  // Reported by their watches now.
  const uint64_t after = h.journal().LastSeq();
  h.Write("b/s3/later", "z");
  h.Write("d0-renamed/later", "z");
  ASSERT_TRUE(h.PumpUntil(
      [](auto& ev) {
        return Has(ev, EventKind::kModify, "b/s3/later") &&
               Has(ev, EventKind::kModify, "d0-renamed/later");
      },
      after));
}

// The last unwatched directory deleted: nothing is unwatched any more, and
// the status says so at once, without waiting for a retry.
TEST_F(WatchLimitTest, DeletingTheLastUnwatchedDirectoryEndsTheWatchLimit) {
  WatchHarness h;
  h.Mkdir("x");
  h.Mkdir("y");
  h.Write("y/f", "x");
  ASSERT_TRUE(WriteLimit(WatchesInUse() + 2));
  h.Start();
  ASSERT_TRUE(WriteLimit(saved_));
  ASSERT_EQ(h.watcher().status().state, DestinationState::kWatchLimit);
  ASSERT_EQ(h.watcher().status().unwatched_dirs, 1u);
  ASSERT_FALSE(Watched(h, "y"));
  const uint64_t base = h.journal().LastSeq();
  std::filesystem::remove_all(h.Path("y"));
  ASSERT_TRUE(h.PumpUntil([](auto& ev) { return Has(ev, EventKind::kDelete, "y"); }, base));
  const WatcherStatus st = h.watcher().status();
  EXPECT_EQ(st.state, DestinationState::kWatching) << st.message;
  EXPECT_EQ(st.unwatched_dirs, 0u);
  // No rescan is scheduled any more; once the racy rows settle, nothing is.
  ASSERT_TRUE(h.PumpUntil([&](auto&) { return h.watcher().status().unsettled == 0; }, base));
  EXPECT_EQ(h.watcher().NextTickNs(), INT64_MAX);
}

// What the retry finds in an unwatched directory is cataloged with the
// events that say so: a file made there and then deleted while the watcher
// is stopped is deleted at the next start; and a start after a retry that
// found nothing journals nothing for it.
TEST_F(WatchLimitTest, RetryCatalogsWhatItJournals) {
  WatchHarness h;
  // Written an hour ago, as far as mtimes go: no catalog entry is racy
  // (reconcile.h), so a retry journals exactly what changed.
  auto write_old = [&](const std::string& rel, const std::string& content) {
    h.Write(rel, content);
    const timespec hour_ago{.tv_sec = time(nullptr) - 3600, .tv_nsec = 0};
    const timespec times[2] = {hour_ago, hour_ago};
    ASSERT_EQ(utimensat(AT_FDCWD, h.Path(rel).c_str(), times, 0), 0) << rel;
  };
  for (int i = 0; i < 10; ++i) {
    h.Mkdir("d" + std::to_string(i));
    write_old("d" + std::to_string(i) + "/f", "x");
    write_old("d" + std::to_string(i) + "/g", "x");
  }
  ASSERT_TRUE(WriteLimit(WatchesInUse() + 2));  // the root and d0
  h.Start();
  ASSERT_TRUE(WriteLimit(WatchesInUse()));  // still at the limit at the retry
  ASSERT_FALSE(Watched(h, "d9"));
  const uint64_t base = h.journal().LastSeq();
  write_old("d9/new", "made while unwatched");
  h.Mkdir("d9/sub");
  write_old("d9/sub/deep", "deep");
  write_old("d8/f", "changed while unwatched");
  ASSERT_EQ(unlink(h.Path("d7/f").c_str()), 0);
  ASSERT_TRUE(h.watcher().Retry().ok());
  EXPECT_EQ(h.watcher().status().state, DestinationState::kWatchLimit);
  EXPECT_EQ(h.watcher().status().unwatched_dirs, 10u);  // d1..d9, d9/sub
  auto ev = h.Events(base);
  EXPECT_TRUE(Has(ev, EventKind::kCreate, "d9/new")) << WatchHarness::Dump(ev);
  EXPECT_TRUE(Has(ev, EventKind::kCreate, "d9/sub")) << WatchHarness::Dump(ev);
  EXPECT_TRUE(Has(ev, EventKind::kModify, "d8/f")) << WatchHarness::Dump(ev);
  EXPECT_TRUE(Has(ev, EventKind::kDelete, "d7/f")) << WatchHarness::Dump(ev);
  EXPECT_EQ(ev.size(), 4u) << WatchHarness::Dump(ev);  // d9/sub/deep: in d9/sub's create
  EXPECT_TRUE(h.journal().GetCatalogEntry(h.dest(), "d9/new")->has_value());
  EXPECT_TRUE(h.journal().GetCatalogEntry(h.dest(), "d9/sub/deep")->has_value());
  EXPECT_FALSE(h.journal().GetCatalogEntry(h.dest(), "d7/f")->has_value());
  auto state = h.journal().GetCatalogEntry(h.dest(), "d8/f");
  ASSERT_TRUE(state->has_value());
  EXPECT_EQ((*state)->size, 23u);

  // A second retry finds nothing new.
  const uint64_t quiet = h.journal().LastSeq();
  ASSERT_TRUE(h.watcher().Retry().ok());
  EXPECT_EQ(h.journal().LastSeq(), quiet) << WatchHarness::Dump(h.Events(quiet));

  h.Stop();
  ASSERT_TRUE(WriteLimit(saved_));
  ASSERT_EQ(unlink(h.Path("d9/new").c_str()), 0);
  std::filesystem::remove_all(h.Path("d9/sub"));
  const uint64_t stopped = h.journal().LastSeq();
  h.Start();
  ev = h.Events(stopped);
  EXPECT_TRUE(Has(ev, EventKind::kDelete, "d9/new")) << WatchHarness::Dump(ev);
  EXPECT_TRUE(Has(ev, EventKind::kDelete, "d9/sub")) << WatchHarness::Dump(ev);
  EXPECT_EQ(ev.size(), 2u) << WatchHarness::Dump(ev);
  EXPECT_EQ(h.watcher().status().state, DestinationState::kWatching);
}

}  // namespace
}  // namespace ferry
