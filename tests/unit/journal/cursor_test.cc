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
using testing::TempDir;

TEST(CursorTest, NewTargetHasNoCursor) {
  TempDir tmp;
  auto j = OpenJournalOrDie(tmp.path());
  auto c = j->GetCursor("backup1");
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->has_value());
  EXPECT_TRUE(j->AdvanceCursor("backup1", 1, 1, 1).IsNotFound());
}

TEST(CursorTest, AdvanceMovesCursorAndStatsTogetherAndPersists) {
  TempDir tmp;
  FakeClock clock;
  JournalId id;
  {
    auto j = OpenJournalOrDie(tmp.path(), &clock);
    id = j->id();
    ASSERT_TRUE(j->Append(FileEvents(1, 10)));
    ASSERT_TRUE(j->SetCursor("backup1", 1, 0).ok());
    ASSERT_TRUE(j->AdvanceCursor("backup1", 4, 4, 1000).ok());
    clock.Advance(1'000'000'000);
    ASSERT_TRUE(j->AdvanceCursor("backup1", 10, 6, 500).ok());
  }
  auto j = OpenJournalOrDie(tmp.path(), &clock);
  auto c = j->GetCursor("backup1");
  ASSERT_TRUE(c && c->has_value());
  EXPECT_EQ(**c, (Cursor{id, 10, 1, false}));
  auto s = j->GetStats("backup1");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->events, 10u);
  EXPECT_EQ(s->bytes, 1500u);
  EXPECT_EQ(s->last_success_ns, clock.WallNanos());
  EXPECT_TRUE(j->CheckCursor(**c).ok());
}

TEST(CursorTest, AdvanceNeverMovesBackwardNorPastTheHead) {
  TempDir tmp;
  auto j = OpenJournalOrDie(tmp.path());
  ASSERT_TRUE(j->Append(FileEvents(1, 10)));
  ASSERT_TRUE(j->SetCursor("t", 1, 8).ok());
  ASSERT_TRUE(j->AdvanceCursor("t", 5, 0, 0).ok());
  EXPECT_EQ((*j->GetCursor("t"))->seq, 8u);
  ASSERT_TRUE(j->AdvanceCursor("t", 99, 0, 0).ok());
  EXPECT_EQ((*j->GetCursor("t"))->seq, 10u);
}

TEST(CursorTest, SetCursorRewindsButNotBeyondTheHead) {
  TempDir tmp;
  auto j = OpenJournalOrDie(tmp.path());
  ASSERT_TRUE(j->Append(FileEvents(1, 10)));
  ASSERT_TRUE(j->SetCursor("t", 1, 10).ok());
  ASSERT_TRUE(j->SetCursor("t", 1, 3).ok());
  EXPECT_EQ((*j->GetCursor("t"))->seq, 3u);
  Status s = j->SetCursor("t", 1, 11);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("beyond the head 10"), std::string::npos) << s.ToString();
  EXPECT_TRUE(j->SetCursor("", 1, 0).IsInvalidArgument());
}

TEST(CursorTest, FailureIsRecordedWithoutMovingTheCursor) {
  TempDir tmp;
  FakeClock clock;
  auto j = OpenJournalOrDie(tmp.path(), &clock);
  ASSERT_TRUE(j->Append(FileEvents(1, 3)));
  ASSERT_TRUE(j->SetCursor("t", 1, 1).ok());
  ASSERT_TRUE(j->RecordFailure("t", "@ERROR: auth failed on module data").ok());
  EXPECT_EQ((*j->GetCursor("t"))->seq, 1u);
  auto s = j->GetStats("t");
  EXPECT_EQ(s->last_error, "@ERROR: auth failed on module data");
  EXPECT_EQ(s->last_error_ns, clock.WallNanos());
  EXPECT_EQ(s->last_success_ns, 0);
}

TEST(CursorTest, CursorOfAnotherJournalIsExpired) {
  TempDir a, b;
  auto ja = OpenJournalOrDie(a.path());
  auto jb = OpenJournalOrDie(b.path());
  ASSERT_TRUE(ja->Append(FileEvents(1, 1)));
  ASSERT_TRUE(ja->SetCursor("t", 1, 1).ok());
  Cursor foreign = **ja->GetCursor("t");
  Status s = jb->CheckCursor(foreign);
  EXPECT_TRUE(s.IsCursorExpired());
  EXPECT_NE(s.message().find(foreign.journal_id.Hex()), std::string::npos) << s.ToString();
}

TEST(CursorTest, ListCursorsShowsEveryTarget) {
  TempDir tmp;
  auto j = OpenJournalOrDie(tmp.path());
  ASSERT_TRUE(j->Append(FileEvents(1, 5)));
  ASSERT_TRUE(j->SetCursor("b", 1, 2).ok());
  ASSERT_TRUE(j->SetCursor("a", 2, 5).ok());
  ASSERT_TRUE(j->RecordFailure("c-stats-only", "x").ok());
  auto all = j->ListCursors();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].first, "a");
  EXPECT_EQ((*all)[0].second.destination, 2u);
  EXPECT_EQ((*all)[1].first, "b");
  EXPECT_EQ((*all)[1].second.seq, 2u);
}

DeadLetter Letter(const std::string& target, uint64_t seq, const std::string& path) {
  return DeadLetter{.target = target,
                    .event = Event{.seq = seq, .destination = 1, .path = path},
                    .error = "Permission denied (13)",
                    .attempts = 3,
                    .first_failed_ns = 1,
                    .last_failed_ns = 2};
}

TEST(DeadLetterTest, PutListRemove) {
  TempDir tmp;
  auto j = OpenJournalOrDie(tmp.path());
  ASSERT_TRUE(j->PutDeadLetter(Letter("b", 9, "x")).ok());
  ASSERT_TRUE(j->PutDeadLetter(Letter("a", 300, "secret\nfile")).ok());
  ASSERT_TRUE(j->PutDeadLetter(Letter("a", 7, "-rf")).ok());
  ASSERT_TRUE(j->PutDeadLetter(Letter("a-b", 1, "y")).ok());

  auto a = j->ListDeadLetters("a");
  ASSERT_TRUE(a);
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[0], Letter("a", 7, "-rf"));
  EXPECT_EQ((*a)[1].event.path, "secret\nfile");
  EXPECT_EQ(j->ListDeadLetters("")->size(), 4u);

  DeadLetter again = Letter("a", 7, "-rf");
  again.attempts = 4;
  ASSERT_TRUE(j->PutDeadLetter(again).ok());
  EXPECT_EQ((*j->ListDeadLetters("a"))[0].attempts, 4u);

  ASSERT_TRUE(j->RemoveDeadLetter("a", 7).ok());
  EXPECT_TRUE(j->RemoveDeadLetter("a", 7).IsNotFound());
  EXPECT_EQ(j->ListDeadLetters("a")->size(), 1u);
}

TEST(CursorTest, APausePersistsUntilClearedAndDeliveriesLeaveIt) {
  TempDir tmp;
  const PauseMark mark{.since_ns = 77'000'000'000, .uid = 1000, .pid = 12};
  {
    auto j = OpenJournalOrDie(tmp.path());
    EXPECT_FALSE(j->GetPause("t")->has_value());
    ASSERT_TRUE(j->Append(FileEvents(1, 3)));
    ASSERT_TRUE(j->SetCursor("t", 1, 0).ok());
    ASSERT_TRUE(j->SetPause("t", mark).ok());
    ASSERT_TRUE(j->AdvanceCursor("t", 3, 3, 10).ok());  // a batch that was in flight
    ASSERT_TRUE(j->RecordFailure("t", "boom").ok());
    EXPECT_TRUE(j->SetPause("", mark).IsInvalidArgument());
  }
  auto j = OpenJournalOrDie(tmp.path());
  auto p = j->GetPause("t");
  ASSERT_TRUE(p && p->has_value());
  EXPECT_EQ(**p, mark);
  EXPECT_FALSE(j->GetPause("other")->has_value());
  EXPECT_EQ(j->ListCursors()->size(), 1u) << "a pause is not a cursor";
  ASSERT_TRUE(j->SetPause("t", std::nullopt).ok());
  EXPECT_FALSE(j->GetPause("t")->has_value());
  ASSERT_TRUE(j->SetPause("t", mark).ok());
  ASSERT_TRUE(j->DeleteTarget("t").ok());
  EXPECT_FALSE(j->GetPause("t")->has_value()) << "a removed target forgets its pause";
}

TEST(DeadLetterTest, DeleteTargetForgetsCursorStatsAndDeadLettersOfThatTargetOnly) {
  TempDir tmp;
  auto j = OpenJournalOrDie(tmp.path());
  ASSERT_TRUE(j->Append(FileEvents(1, 3)));
  ASSERT_TRUE(j->SetCursor("a", 1, 1).ok());
  ASSERT_TRUE(j->SetCursor("a-b", 1, 2).ok());
  ASSERT_TRUE(j->RecordFailure("a", "boom").ok());
  ASSERT_TRUE(j->PutDeadLetter(Letter("a", 2, "p")).ok());
  ASSERT_TRUE(j->PutDeadLetter(Letter("a-b", 2, "p")).ok());
  ASSERT_TRUE(j->DeleteTarget("a").ok());
  EXPECT_FALSE(j->GetCursor("a")->has_value());
  EXPECT_EQ(j->GetStats("a")->last_error, "");
  EXPECT_TRUE(j->ListDeadLetters("a")->empty());
  EXPECT_TRUE(j->GetCursor("a-b")->has_value());
  EXPECT_EQ(j->ListDeadLetters("a-b")->size(), 1u);
}

}  // namespace
}  // namespace ferry
