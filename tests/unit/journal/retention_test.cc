#include <gtest/gtest.h>

#include "journal/journal.h"
#include "tests/lib/fake_clock.h"
#include "tests/lib/journal_fixture.h"
#include "tests/lib/temp_dir.h"

namespace ferry {
namespace {

using testing::FakeClock;
using testing::FileEvents;
using testing::OpenJournalOrDie;
using testing::ReadAllEvents;
using testing::TempDir;

constexpr int64_t kHour = 3600LL * 1'000'000'000;

RetentionPolicy KeepFor(int64_t ns, uint64_t max_bytes = 0) {
  return RetentionPolicy{.keep_delivered_ns = ns, .max_bytes = max_bytes};
}

TEST(RetentionTest, TrimsDeliveredEventsOlderThanTheLimitOnly) {
  TempDir tmp;
  FakeClock clock;
  auto j = OpenJournalOrDie(tmp.path(), &clock);
  ASSERT_TRUE(j->Append(FileEvents(1, 10, "old")));  // seq 1..10
  clock.Advance(2 * kHour);
  ASSERT_TRUE(j->Append(FileEvents(1, 10, "new")));  // seq 11..20
  ASSERT_TRUE(j->SetCursor("a", 1, 20).ok());
  ASSERT_TRUE(j->SetCursor("b", 1, 7).ok());  // has not received 8..20

  auto r = j->Trim(KeepFor(kHour));
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->trimmed.first, 1u);
  EXPECT_EQ(r->trimmed.last, 7u);  // old and delivered to both
  EXPECT_TRUE(r->expired_targets.empty());
  EXPECT_EQ(*j->OldestSeq(), 8u);
  EXPECT_EQ(ReadAllEvents(*j).size(), 13u);
  EXPECT_TRUE(j->CheckCursor(**j->GetCursor("b")).ok());

  ASSERT_TRUE(j->AdvanceCursor("b", 20, 13, 0).ok());
  r = j->Trim(KeepFor(kHour));
  EXPECT_EQ(r->trimmed.first, 8u);
  EXPECT_EQ(r->trimmed.last, 10u);  // 11..20 are delivered but younger than an hour
  EXPECT_EQ(*j->OldestSeq(), 11u);
}

TEST(RetentionTest, NothingCountsAsDeliveredWithoutTargets) {
  TempDir tmp;
  FakeClock clock;
  auto j = OpenJournalOrDie(tmp.path(), &clock);
  ASSERT_TRUE(j->Append(FileEvents(1, 10)));
  clock.Advance(100 * kHour);
  auto r = j->Trim(KeepFor(kHour));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->trimmed.empty());
  EXPECT_EQ(*j->OldestSeq(), 1u);
}

TEST(RetentionTest, HeadSurvivesTrimmingEverything) {
  TempDir tmp;
  FakeClock clock;
  {
    auto j = OpenJournalOrDie(tmp.path(), &clock);
    ASSERT_TRUE(j->Append(FileEvents(1, 10)));
    ASSERT_TRUE(j->SetCursor("a", 1, 10).ok());
    clock.Advance(2 * kHour);
    auto r = j->Trim(KeepFor(kHour));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->trimmed.last, 10u);
    EXPECT_EQ(*j->OldestSeq(), 11u);
  }
  auto j = OpenJournalOrDie(tmp.path(), &clock);
  EXPECT_EQ(j->LastSeq(), 10u);
  EXPECT_EQ(*j->OldestSeq(), 11u);
  EXPECT_EQ(j->Append(FileEvents(1, 1))->first, 11u);  // gap-free after a full trim
  EXPECT_TRUE(j->CheckCursor(**j->GetCursor("a")).ok());
}

// Fills the journal with `n` events of 1 KiB paths for destination `dest`.
void Fill(Journal& j, uint32_t dest, int n) {
  for (int i = 0; i < n; i += 100) {
    std::vector<Event> batch;
    for (int k = 0; k < 100; ++k) {
      batch.push_back(
          Event{.destination = dest, .path = std::to_string(i + k) + "/" + std::string(1024, 'p')});
    }
    ASSERT_TRUE(j.Append(std::move(batch)));
  }
  ASSERT_TRUE(j.Flush().ok());
}

TEST(RetentionTest, OverBudgetTrimsUndeliveredEventsAndExpiresTheLaggingCursor) {
  TempDir tmp;
  FakeClock clock;
  auto j = OpenJournalOrDie(tmp.path(), &clock);
  Fill(*j, 1, 4000);
  ASSERT_TRUE(j->SetCursor("fast", 1, 4000).ok());
  ASSERT_TRUE(j->SetCursor("slow", 1, 100).ok());
  auto before = j->EventBytes();
  ASSERT_TRUE(before);
  ASSERT_GT(*before, 100'000u) << "the test needs a journal well over the budget";

  const uint64_t budget = *before / 4;
  auto r = j->Trim(KeepFor(100 * kHour, budget));
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->trimmed.first, 1u);
  EXPECT_GT(r->trimmed.last, 100u);
  EXPECT_LT(r->trimmed.last, 4000u);
  EXPECT_EQ(r->expired_targets, std::vector<std::string>{"slow"});
  EXPECT_LE(r->bytes_after, budget) << "before " << r->bytes_before;

  Cursor slow = **j->GetCursor("slow");
  EXPECT_TRUE(slow.expired);
  Status s = j->CheckCursor(slow);
  EXPECT_TRUE(s.IsCursorExpired());
  EXPECT_NE(s.message().find("full sync"), std::string::npos) << s.ToString();
  EXPECT_TRUE(j->CheckCursor(**j->GetCursor("fast")).ok());
  // Nothing newer than the trimmed range went.
  EXPECT_EQ(*j->OldestSeq(), r->trimmed.last + 1);
  EXPECT_EQ(ReadAllEvents(*j).size(), 4000 - r->trimmed.last);

  // The lane later advances the expired cursor; it stays expired until a full sync.
  ASSERT_TRUE(j->AdvanceCursor("slow", 200, 100, 0).ok());
  EXPECT_TRUE((*j->GetCursor("slow"))->expired);
  ASSERT_TRUE(j->SetCursor("slow", 1, j->LastSeq()).ok());  // after the full sync
  EXPECT_TRUE(j->CheckCursor(**j->GetCursor("slow")).ok());
}

TEST(RetentionTest, LaggingCursorOfAnUntouchedDestinationDoesNotExpire) {
  TempDir tmp;
  FakeClock clock;
  auto j = OpenJournalOrDie(tmp.path(), &clock);
  ASSERT_TRUE(j->Append({Event{.destination = 2, .path = "quiet"}}));  // seq 1
  Fill(*j, 1, 3000);                                                   // seq 2..3001
  ASSERT_TRUE(j->SetCursor("busy", 1, 3001).ok());
  ASSERT_TRUE(j->SetCursor("quiet", 2, 1).ok());  // has all of destination 2

  auto r = j->Trim(KeepFor(100 * kHour, *j->EventBytes() / 3));
  ASSERT_TRUE(r);
  ASSERT_FALSE(r->trimmed.empty());
  EXPECT_TRUE(r->expired_targets.empty());
  Cursor quiet = **j->GetCursor("quiet");
  EXPECT_FALSE(quiet.expired);
  EXPECT_EQ(quiet.seq, r->trimmed.last);  // moved up: nothing of its was trimmed
  EXPECT_TRUE(j->CheckCursor(quiet).ok());
}

TEST(RetentionTest, UnderBudgetNothingUndeliveredIsTrimmed) {
  TempDir tmp;
  FakeClock clock;
  auto j = OpenJournalOrDie(tmp.path(), &clock);
  Fill(*j, 1, 1000);
  ASSERT_TRUE(j->SetCursor("slow", 1, 0).ok());
  clock.Advance(1000 * kHour);
  auto r = j->Trim(KeepFor(kHour, *j->EventBytes() * 2));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->trimmed.empty());
  EXPECT_EQ(ReadAllEvents(*j).size(), 1000u);
}

TEST(RetentionTest, SecondaryCannotTrim) {
  TempDir tmp;
  auto j = OpenJournalOrDie(tmp.path());
  auto follower = Journal::OpenSecondary(tmp.path(), tmp.Sub("follower"));
  ASSERT_TRUE(follower) << follower.error().ToString();
  EXPECT_TRUE((*follower)->Trim(KeepFor(kHour)).error().IsInvalidArgument());
}

}  // namespace
}  // namespace ferry
