// RacyEntries: which catalog rows wait for their tick, and when they are due.
#include "watch/racy_entries.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/lib/temp_dir.h"

namespace ferry {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kT = 1'700'000'000'123'000'000;  // a fine-grained mtime

// A regular file's row recorded `after` past its mtime.
FileState Row(int64_t after, int64_t mtime = kT) {
  return {.inode = 7, .size = 3, .mtime_ns = mtime, .ctime_ns = mtime, .mode = S_IFREG | 0644,
          .seen_ns = mtime + after};
}

std::vector<std::string> Paths(const std::vector<RacyEntries::Check>& checks) {
  std::vector<std::string> out;
  for (const auto& c : checks) out.push_back(c.path);
  return out;
}

TEST(RacyEntriesTest, HoldsOnlyRacyFileRows) {
  RacyEntries racy;
  racy.Recorded("racy", Row(1 * kMs), 0);
  racy.Recorded("old", Row(5'000 * kMs), 0);
  FileState dir = Row(1 * kMs);
  dir.mode = S_IFDIR | 0755;  // reconcile never takes a directory's times as content
  racy.Recorded("dir", dir, 0);
  EXPECT_EQ(racy.size(), 1u);
  // Recorded again, no longer racy: forgotten.
  racy.Recorded("racy", Row(30 * kMs), 0);
  EXPECT_EQ(racy.size(), 0u);
}

TEST(RacyEntriesTest, DueOnceTheTickHasPassed) {
  RacyEntries racy;
  racy.Recorded("a", Row(2 * kMs), /*now_ns=*/1'000 * kMs);
  // The window is 20 ms past the mtime; 2 ms of it had passed at the stat.
  EXPECT_EQ(racy.NextDueNs(), 1'000 * kMs + 18 * kMs + 1 * kMs);
  EXPECT_TRUE(racy.Due(1'018 * kMs).empty());
  EXPECT_EQ(racy.size(), 1u);
  EXPECT_EQ(Paths(racy.Due(1'019 * kMs)), std::vector<std::string>{"a"});
  EXPECT_EQ(racy.size(), 0u);  // taken out
  EXPECT_EQ(racy.NextDueNs(), INT64_MAX);
}

TEST(RacyEntriesTest, WholeSecondMtimesWaitForTheCoarseWindow) {
  RacyEntries racy;
  const int64_t whole = 1'700'000'000'000'000'000;
  racy.Recorded("fat", Row(500 * kMs, whole), 0);
  EXPECT_TRUE(racy.Due(1'400 * kMs).empty());
  EXPECT_EQ(racy.Due(1'501 * kMs).size(), 1u);
}

TEST(RacyEntriesTest, RecordedAgainReplacesTheRowAndItsDueTime) {
  RacyEntries racy;
  racy.Recorded("a", Row(1 * kMs), 0);
  racy.Recorded("a", Row(1 * kMs, kT + 10 * kMs), 10 * kMs);  // rewritten
  EXPECT_EQ(racy.size(), 1u);
  EXPECT_TRUE(racy.Due(25 * kMs).empty());  // the first due time is stale
  auto due = racy.Due(31 * kMs);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].recorded.mtime_ns, kT + 10 * kMs);
}

TEST(RacyEntriesTest, DueTakesAtMostMax) {
  RacyEntries racy;
  for (int i = 0; i < 5; ++i) racy.Recorded("f" + std::to_string(i), Row(1 * kMs), 0);
  EXPECT_EQ(racy.Due(100 * kMs, 3).size(), 3u);
  EXPECT_EQ(racy.Due(100 * kMs).size(), 2u);
}

TEST(RacyEntriesTest, ForgetTakesADirectoryWhole) {
  RacyEntries racy;
  for (const char* p : {"d", "d/a", "d/b/c", "d2", "e"}) racy.Recorded(p, Row(1 * kMs), 0);
  racy.Forget("d");
  EXPECT_EQ(Paths(racy.Due(100 * kMs)), (std::vector<std::string>{"d2", "e"}));
}

// A forgotten, replaced or renamed row leaves no wake-up behind: with
// nothing held, nothing is due, so the watch loop may sleep.
TEST(RacyEntriesTest, NothingHeldMeansNoWakeUp) {
  RacyEntries racy;
  EXPECT_EQ(racy.NextDueNs(), INT64_MAX);
  racy.Recorded("a", Row(1 * kMs), 0);
  racy.Recorded("a", Row(2 * kMs), 0);
  racy.Recorded("d/b", Row(1 * kMs), 0);
  racy.Rename("d", "n");
  EXPECT_LT(racy.NextDueNs(), INT64_MAX);
  racy.Forget("a");
  racy.Recorded("n/b", Row(5'000 * kMs), 0);  // no longer racy
  EXPECT_EQ(racy.size(), 0u);
  EXPECT_EQ(racy.NextDueNs(), INT64_MAX);
}

TEST(RacyEntriesTest, RenameMovesADirectorysRowsAndDropsWhatItReplaced) {
  RacyEntries racy;
  for (const char* p : {"d/a", "d/b/c", "dx", "n/old"}) racy.Recorded(p, Row(1 * kMs), 0);
  racy.Rename("d", "n");
  auto due = Paths(racy.Due(100 * kMs));
  std::sort(due.begin(), due.end());
  EXPECT_EQ(due, (std::vector<std::string>{"dx", "n/a", "n/b/c"}));
}

TEST(RacyEntriesTest, LaterBacksOffAndAgainKeepsTheBackoff) {
  RacyEntries racy;
  racy.Recorded("open", Row(1 * kMs), 0);
  auto due = racy.Due(100 * kMs);
  ASSERT_EQ(due.size(), 1u);
  racy.Later(due[0], 100 * kMs);  // 1 s
  EXPECT_EQ(racy.NextDueNs(), 1'100 * kMs);
  due = racy.Due(1'100 * kMs);
  ASSERT_EQ(due.size(), 1u);
  racy.Later(due[0], 1'100 * kMs);  // 2 s
  EXPECT_EQ(racy.NextDueNs(), 3'100 * kMs);
  due = racy.Due(3'100 * kMs);
  racy.Again(due[0], 3'150 * kMs);
  due = racy.Due(3'150 * kMs);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].backoff_ns, 2'000 * kMs);
  // Recorded meanwhile: the new row wins over the one given back.
  racy.Recorded("open", Row(2 * kMs), 3'200 * kMs);
  racy.Later(due[0], 3'200 * kMs);
  due = racy.Due(3'300 * kMs);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].backoff_ns, 0);
}

TEST(RacyEntriesTest, PastMaxEntriesNewRowsAreCountedNotHeld) {
  RacyEntries racy(/*max_entries=*/2);
  for (const char* p : {"a", "b", "c"}) racy.Recorded(p, Row(1 * kMs), 0);
  EXPECT_EQ(racy.size(), 2u);
  EXPECT_EQ(racy.dropped(), 1u);
  racy.Recorded("a", Row(2 * kMs), 0);  // one held already: replaced
  EXPECT_EQ(racy.dropped(), 1u);
}

TEST(NotOpenForWritingTest, SeesAWriterAndItsClose) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/f";
  int w = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(w, 0);
  EXPECT_FALSE(NotOpenForWriting(path));
  int r = open(path.c_str(), O_RDONLY | O_CLOEXEC);  // readers do not count
  close(w);
  EXPECT_TRUE(NotOpenForWriting(path));
  close(r);
  EXPECT_FALSE(NotOpenForWriting(dir.path() + "/missing"));
}

}  // namespace
}  // namespace ferry
