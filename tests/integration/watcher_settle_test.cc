// Racy catalog rows settle once their tick has passed (racy_entries.h), on
// real inotify: a restart after live writes journals nothing, and a write
// in the same tick that the watcher has not processed yet is never settled.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>

#include "watch/reconcile.h"
#include "tests/lib/poll.h"
#include "tests/lib/watch_harness.h"

namespace ferry {
namespace {

using testing::Has;
using testing::WatchHarness;

int64_t WallNow() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

// Pumps until the watcher holds no racy row, or 20 s pass.
::testing::AssertionResult PumpUntilSettled(WatchHarness& h) {
  const bool settled = testing::PollUntil(
      [&] {
        h.Step();  // waits for records itself
        return h.watcher().status().unsettled == 0;
      },
      std::chrono::seconds(20), std::chrono::milliseconds(0));
  if (settled) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << h.watcher().status().unsettled << " rows unsettled";
}

std::optional<FileState> Row(WatchHarness& h, const std::string& path) {
  auto row = h.journal().GetCatalogEntry(h.dest(), path);
  return row ? *row : std::nullopt;
}

TEST(WatcherSettleTest, LiveWritesSettleAndTheNextStartFindsNothingChanged) {
  WatchHarness h;
  h.Start();
  h.Mkdir("d");
  for (int i = 0; i < 300; ++i) {
    const std::string name = (i % 3 == 0 ? "d/f" : "f") + std::to_string(i);
    if (i % 5 == 0) {  // written under a temporary name, then renamed (editors, rsync)
      h.Write(name + ".tmp", "content " + std::to_string(i));
      ASSERT_EQ(rename(h.Path(name + ".tmp").c_str(), h.Path(name).c_str()), 0);
    } else {
      h.Write(name, "content " + std::to_string(i));
    }
  }
  ASSERT_EQ(rename(h.Path("d").c_str(), h.Path("e").c_str()), 0);  // racy rows move with it
  ASSERT_TRUE(h.PumpUntil([](auto& ev) { return Has(ev, EventKind::kMove, "e"); }));
  ASSERT_TRUE(PumpUntilSettled(h));
  for (const std::string path : {"f1", "f5", "e/f3", "e/f0"}) {
    auto row = Row(h, path);
    ASSERT_TRUE(row) << path;
    EXPECT_FALSE(IsRacy(*row)) << path;
  }
  h.Stop();
  const uint64_t head = h.journal().LastSeq();
  ReconcileStats stats = h.Start();
  EXPECT_EQ(stats.created + stats.modified + stats.attrib + stats.deleted, 0u)
      << stats.created << " new, " << stats.modified << " changed, " << stats.deleted << " gone";
  EXPECT_EQ(h.journal().LastSeq(), head) << WatchHarness::Dump(h.Events(head));
}

// Writes `path` twice with the same size, the second time after the watcher
// has cataloged the first and within the same timestamp tick (retried with
// new names until the kernel's clock obliges). Returns the name, with the
// second write's record not processed yet.
//
// Since Linux 6.13 ext4, xfs, btrfs and tmpfs have multigrain timestamps:
// a change after a stat gets a fine-grained ctime, so this race cannot
// happen there. It does on older kernels (Debian 12 runs 6.1) and on other
// filesystems; the tests use ramfs, which keeps coarse timestamps.
std::string RewriteWithinTheTick(WatchHarness& h) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    const std::string name = "same" + std::to_string(attempt);
    h.Write(name, "one");
    testing::PollUntil(
        [&] {
          if (Row(h, name)) return true;
          h.Step();
          return false;
        },
        std::chrono::seconds(10), std::chrono::milliseconds(0));
    h.Write(name, "two");
    struct stat st;
    if (lstat(h.Path(name).c_str(), &st) != 0) continue;
    auto row = Row(h, name);
    const int64_t mtime = st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec;
    const int64_t ctime = st.st_ctim.tv_sec * 1'000'000'000LL + st.st_ctim.tv_nsec;
    if (row && row->mtime_ns == mtime && row->ctime_ns == ctime && row->size == 3) return name;
  }
  ADD_FAILURE() << "no rewrite within one tick in 200 attempts";
  return {};
}

// Waits, without processing anything, until `row`'s tick is over.
void WaitForTheTick(const FileState& row) {
  while (WallNow() < row.mtime_ns + kRacyWindowCoarseNs) {
    if (WallNow() >= row.mtime_ns + kRacyWindowNs + 5'000'000 &&
        row.mtime_ns % 1'000'000'000 != 0) {
      return;
    }
    usleep(1'000);  // time passing is the condition itself
  }
}

struct CrashOutcome {
  bool settled = false;             // the first write's row was rewritten as trusted
  bool modify_at_next_start = false;
};

// A rewrite within the tick (on a ramfs source), Settle() once the tick has
// passed with the record of the rewrite unread, then ferryd ends (kill -9:
// the record is lost) and starts again.
CrashOutcome SettleThenCrash(WatchHarness& h, const std::function<bool()>& caught_up) {
  // The first write must be cataloged within its tick: no batching delays.
  h.UseReaderOptions({.coalesce = std::chrono::microseconds(0),
                      .linger = std::chrono::microseconds(0)});
  h.Start();
  const std::string name = RewriteWithinTheTick(h);
  if (name.empty()) return {};
  const FileState first = *Row(h, name);
  EXPECT_TRUE(IsRacy(first));
  WaitForTheTick(first);
  EXPECT_TRUE(h.watcher().Settle(caught_up).ok());
  CrashOutcome out{.settled = *Row(h, name) != first};
  h.Stop();
  const uint64_t head = h.journal().LastSeq();
  h.Start();
  out.modify_at_next_start = Has(h.Events(head), EventKind::kModify, name);
  return out;
}

TEST(WatcherSettleTest, ARewriteWithinTheTickThatIsNotProcessedYetKeepsTheRowRacy) {
  WatchHarness h;
  if (std::string why = h.MountSource("ramfs"); !why.empty()) GTEST_SKIP() << why;
  // Its stat is as cataloged, but the record of the second write is queued.
  const CrashOutcome out = SettleThenCrash(h, [&] { return h.feed().CaughtUp(); });
  EXPECT_FALSE(out.settled) << "settled with a record unread";
  EXPECT_TRUE(out.modify_at_next_start);
}

// The record check is what catches it: a watcher that took the stat alone
// would settle the first write's row and lose the second at the next start.
TEST(WatcherSettleTest, WithoutTheRecordCheckTheSameRewriteWouldBeLost) {
  WatchHarness h;
  if (std::string why = h.MountSource("ramfs"); !why.empty()) GTEST_SKIP() << why;
  const CrashOutcome out = SettleThenCrash(h, [] { return true; });
  EXPECT_TRUE(out.settled);
  EXPECT_FALSE(out.modify_at_next_start);
}

TEST(WatcherSettleTest, AFileOpenForWritingStaysRacyUntilClosed) {
  WatchHarness h;
  h.Start();
  const uint64_t base = h.journal().LastSeq();
  int fd = open(h.Path("log").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "a", 1), 1);
  ASSERT_EQ(fchmod(fd, 0600), 0);  // IN_ATTRIB: cataloged while open
  ASSERT_TRUE(h.PumpUntil([](auto& ev) { return Has(ev, EventKind::kAttrib, "log"); }, base));
  const FileState open_row = *Row(h, "log");
  ASSERT_TRUE(IsRacy(open_row));
  WaitForTheTick(open_row);
  for (int i = 0; i < 20; ++i) h.Step();  // due, but a writer holds it
  EXPECT_EQ(*Row(h, "log"), open_row);
  EXPECT_EQ(h.watcher().status().unsettled, 1u);
  close(fd);  // IN_CLOSE_WRITE: recorded again, then settled
  ASSERT_TRUE(PumpUntilSettled(h));
  EXPECT_FALSE(IsRacy(*Row(h, "log")));
}

}  // namespace
}  // namespace ferry
