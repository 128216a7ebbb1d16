// The inotify watch limit (fs.inotify.max_user_watches) hit for real: needs
// root to lower the limit, and runs alone (ctest RUN_SERIAL) because the limit
// is shared by every process of the user.
#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

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
  EXPECT_EQ(st.state, WatchState::kWatchLimit);
  EXPECT_NE(st.message.find("fs.inotify.max_user_watches"), std::string::npos) << st.message;
  EXPECT_GE(st.unwatched_dirs, 30u);
  EXPECT_LE(st.watches, 5u);

  // A change in an unwatched directory is not reported by inotify, but the
  // rescan of the unwatched part (on SIGHUP or every interval) replicates it.
  const uint64_t base = h.journal().LastSeq();
  h.Write("d39/changed", "y");
  ASSERT_TRUE(h.watcher().Retry().ok());
  auto ev = h.Events(base);
  ASSERT_FALSE(ev.empty());
  for (const Event& e : ev) EXPECT_EQ(e.kind, EventKind::kRescan) << WatchHarness::Dump(ev);

  // The operator raises the limit and sends SIGHUP: everything is watched.
  ASSERT_TRUE(WriteLimit(saved_));
  const uint64_t before_retry = h.journal().LastSeq();
  ASSERT_TRUE(h.watcher().Retry().ok());
  st = h.watcher().status();
  EXPECT_EQ(st.state, WatchState::kWatching) << st.message;
  EXPECT_EQ(st.watches, 41u);
  EXPECT_GT(h.journal().LastSeq(), before_retry);  // rescans of what was unwatched
  const uint64_t after = h.journal().LastSeq();
  h.Write("d39/later", "z");
  ASSERT_TRUE(
      h.PumpUntil([](auto& ev) { return Has(ev, EventKind::kModify, "d39/later"); }, after));
}

}  // namespace
}  // namespace ferry
