// A restart sends only what changed while ferryd was stopped: the real
// ferryd, files written while it watched, a stop (SIGTERM or SIGKILL), a
// start. The catalog rows recorded within a timestamp tick of a file's
// mtime are settled while it watches (racy_entries.h), so nothing is
// journaled or sent again; changes made around the stop still are.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>

#include "tests/lib/ferryd_fixture.h"
#include "tests/lib/poll.h"

namespace ferry {
namespace {

namespace fs = std::filesystem;

// Each regular file's inode below `dir`: rsync writes a file it sends to a
// temporary name and renames it, so a file sent again has a new inode.
std::map<std::string, ino_t> Inodes(const std::string& dir) {
  std::map<std::string, ino_t> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    struct stat st;
    if (e.is_regular_file() && lstat(e.path().c_str(), &st) == 0) {
      out[fs::relative(e.path(), dir).string()] = st.st_ino;
    }
  }
  return out;
}

size_t Resent(const std::map<std::string, ino_t>& before, const std::map<std::string, ino_t>& after,
              std::string* example) {
  size_t n = 0;
  for (const auto& [path, ino] : after) {
    auto it = before.find(path);
    if (it == before.end() || it->second != ino) {
      if (n++ == 0) *example = path;
    }
  }
  return n;
}

class FerrydRestartTest : public testing::FerrydTest {
 protected:
  // Polls status until no catalog row waits to be settled.
  ::testing::AssertionResult Settled(int seconds = 60) {
    nlohmann::json r;
    if (testing::Eventually(
            [&] {
              r = Control({{"verb", "status"}});
              return r.value("ok", false) && r["destinations"][0].value("unsettled", -1) == 0;
            },
            seconds)) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "still unsettled: " << r.dump();
  }
  uint64_t Head() { return Control({{"verb", "status"}}).value("head", uint64_t{0}); }

  // 3,000 files written while ferryd watches (a quarter of them under a
  // temporary name, then renamed), delivered and settled; then ferryd is
  // stopped with `sig` and started again, and must journal and send nothing.
  void QuietRestart(int sig) {
    WriteConfig();
    StartFerryd();
    ASSERT_TRUE(Converged());
    for (int i = 0; i < 3000; ++i) {
      const std::string name = "d" + std::to_string(i % 30) + "/f" + std::to_string(i);
      if (i % 4 == 0) {
        Write(name + ".part", "content of " + name);
        fs::rename(src() + "/" + name + ".part", src() + "/" + name);
      } else {
        Write(name, "content of " + name);
      }
    }
    ASSERT_TRUE(Converged());
    ASSERT_TRUE(Settled());
    const uint64_t head = Head();
    const auto local_before = Inodes(local()), module_before = Inodes(module());
    ASSERT_EQ(local_before.size(), 3000u);
    StopFerryd(sig);
    StartFerryd();
    EXPECT_EQ(Head(), head) << "events journaled at the start:\n" << Log();
    EXPECT_NE(Log().find(": 0 new, 0 changed, 0 gone"), std::string::npos) << Log();
    ASSERT_TRUE(Converged());
    std::string example;
    EXPECT_EQ(Resent(local_before, Inodes(local()), &example), 0u) << "e.g. " << example;
    EXPECT_EQ(Resent(module_before, Inodes(module()), &example), 0u) << "e.g. " << example;
  }
};

TEST_F(FerrydRestartTest, AfterLiveWritesACleanRestartSendsNothing) { QuietRestart(SIGTERM); }

TEST_F(FerrydRestartTest, AfterLiveWritesARestartAfterKillNineSendsNothing) {
  QuietRestart(SIGKILL);
}

TEST_F(FerrydRestartTest, ASameSizeRewriteWhileStoppedWithItsMtimePutBackIsDelivered) {
  Write("f", "version one");
  WriteConfig();
  StartFerryd();
  Write("live", "written live");
  ASSERT_TRUE(Converged());
  ASSERT_TRUE(Settled());
  StopFerryd(SIGTERM);
  struct stat st;
  ASSERT_EQ(lstat((src() + "/live").c_str(), &st), 0);
  Write("live", "WRITTEN LIVE");  // the same size
  const timespec times[2] = {st.st_atim, st.st_mtim};  // touch -r
  ASSERT_EQ(utimensat(AT_FDCWD, (src() + "/live").c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
  StartFerryd();
  ASSERT_TRUE(Converged());  // byte-exact: the new content reached both targets
}

// Rewritten with the same size within one timestamp tick of the first write,
// while ferryd watched, and ferryd stopped at once. The source is a ramfs:
// since Linux 6.13, ext4, xfs, btrfs and tmpfs give a change made after a
// stat a fine-grained ctime, which makes such a rewrite visible anyway.
// ramfs keeps coarse timestamps, as every filesystem did before 6.13.
TEST_F(FerrydRestartTest, ASameSizeRewriteWithinTheTickJustBeforeTheStopIsDelivered) {
  if (mount("none", src().c_str(), "ramfs", 0, nullptr) != 0) {
    GTEST_SKIP() << "mount -t ramfs: " << std::strerror(errno) << " (needs root)";
  }
  struct Unmount {
    std::string dir;
    ~Unmount() { umount2(dir.c_str(), MNT_DETACH); }
  } unmount{src()};
  WriteConfig();
  StartFerryd();
  ASSERT_TRUE(Converged());
  int same_tick = 0;
  for (int i = 0; i < 50; ++i) {
    const std::string name = src() + "/same" + std::to_string(i);
    Write("same" + std::to_string(i), "one");
    struct stat first, second;
    ASSERT_EQ(lstat(name.c_str(), &first), 0);
    Write("same" + std::to_string(i), "two");
    ASSERT_EQ(lstat(name.c_str(), &second), 0);
    same_tick += first.st_ctim.tv_nsec == second.st_ctim.tv_nsec &&
                 first.st_ctim.tv_sec == second.st_ctim.tv_sec;
  }
  StopFerryd(SIGTERM);
  EXPECT_GT(same_tick, 0) << "no rewrite landed in its first write's tick";
  StartFerryd();
  ASSERT_TRUE(Converged());
  StopFerryd(SIGTERM);
}

}  // namespace
}  // namespace ferry
