// A read-only follower (Journal::OpenSecondary) of a journal that another
// process, journal_writer_child, has open as primary and is writing: the
// follower catches up while the writer runs, never sees a gap, sees the
// writer's cursor, refuses every write; a second primary is refused.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "journal/journal.h"
#include "tests/lib/expected_event.h"
#include "tests/lib/temp_dir.h"
#include "tests/lib/writer_child.h"

namespace ferry {
namespace {

using Clock = std::chrono::steady_clock;
using ferry::testing::Describe;
using ferry::testing::ExpectedEvent;
using ferry::testing::WriterChild;
using std::chrono::milliseconds;

// How long any wait on the writer or the follower may take before the test fails.
constexpr milliseconds kTimeout{20'000};

// Whether a writer's waitpid `status` says it exited with code 0.
::testing::AssertionResult ExitedCleanly(int status) {
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "writer status " << status;
}

// What a scan of the events [from, journal.LastSeq()] found.
struct Scan {
  uint64_t last = 0;    // the end of the good run from `from`; from - 1 if none
  std::string problem;  // the first gap, changed event or read error; "" if none
};

Scan ScanEvents(Journal& journal, uint64_t from, uint32_t destination) {
  ReadOptions options;
  options.from_seq = from;
  auto reader = journal.NewReader(std::move(options));
  Scan scan{from - 1, ""};
  for (; reader->Valid() && scan.last < journal.LastSeq(); reader->Next()) {
    const Event& got = reader->event();
    if (got.seq != scan.last + 1) {
      scan.problem = "a hole: seq " + std::to_string(got.seq) + " follows " +
                     std::to_string(scan.last) + ", LastSeq() is " +
                     std::to_string(journal.LastSeq());
      return scan;
    }
    Event want = ExpectedEvent(got.seq, destination);
    if (got != want) {
      scan.problem = "got " + Describe(got) + "\nwant " + Describe(want);
      return scan;
    }
    scan.last = got.seq;
  }
  if (!reader->status().ok()) {
    scan.problem = reader->status().ToString();
  } else if (reader->corrupt_records() != 0) {
    scan.problem = std::to_string(reader->corrupt_records()) + " corrupt records";
  } else if (scan.last != journal.LastSeq()) {
    scan.problem = "events end at " + std::to_string(scan.last) + ", LastSeq() is " +
                   std::to_string(journal.LastSeq());
  }
  return scan;
}

// Checks that the events [1, journal.LastSeq()] are each there once, in
// order, intact; returns the last good seq.
uint64_t CheckEvents(Journal& journal, uint32_t destination) {
  Scan scan = ScanEvents(journal, 1, destination);
  EXPECT_EQ(scan.problem, "");
  return scan.last;
}

class JournalSecondaryTest : public ::testing::Test {
 protected:
  // Starts a writer of `count` events that sets cursor "t" and then holds the
  // journal open, plus `extra` arguments.
  std::unique_ptr<WriterChild> StartHolder(uint64_t count, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {dir_, "--dest", "--cursor=t", "--hold",
                                     "--count=" + std::to_string(count)};
    args.insert(args.end(), extra.begin(), extra.end());
    return WriterChild::Start(args);
  }

  // Follows a live writer of `count` events until it has seen them all. With
  // `check_each_view`, every view after a CatchUp must hold all events up to
  // its LastSeq(); else only the last one.
  void FollowLiveWriter(uint64_t count, std::vector<std::string> extra, bool check_each_view) {
    extra.push_back("--pause-at=1");
    auto child = StartHolder(count, std::move(extra));
    ASSERT_NE(child, nullptr);
    // The writer waits after its first Append, before any flush, until the
    // follower is open (FollowerOpensWhileThePrimaryFlushes tests the open
    // during flushes).
    const auto deadline = Clock::now() + kTimeout;
    std::optional<std::string> line;
    while ((line = child->ReadLine(deadline)) && !line->starts_with("paused ")) {
    }
    ASSERT_TRUE(line) << "the writer did not pause";
    auto opened = Journal::OpenSecondary(dir_, tmp_.Sub("follower"));
    ASSERT_TRUE(opened) << opened.error().ToString();
    child->Resume();
    Journal& follower = **opened;
    EXPECT_TRUE(follower.read_only());
    auto dests = follower.Destinations();
    ASSERT_TRUE(dests) << dests.error().ToString();
    ASSERT_EQ(dests->size(), 1u);
    const uint32_t destination = (*dests)[0].second;

    // Catch up after every ack until the follower has all events; check each
    // new stretch as it appears.
    int views = 1;
    int bad_views = 0;
    std::string first_problem;
    uint64_t checked = 0;
    auto check_view = [&] {
      Scan scan = ScanEvents(follower, checked + 1, destination);
      checked = scan.last;
      if (!scan.problem.empty() && ++bad_views == 1) {
        first_problem = "view " + std::to_string(views) + ": " + scan.problem;
      }
    };
    check_view();
    bool done = false;
    while (follower.LastSeq() < count) {
      ASSERT_LT(Clock::now(), deadline) << "the follower is stuck at " << follower.LastSeq();
      line.reset();
      if (!done) line = child->ReadLine(std::min(deadline, Clock::now() + milliseconds(200)));
      done = done || (line && line->starts_with("done "));
      ASSERT_FALSE(child->eof()) << "the writer quit early";
      const uint64_t before = follower.LastSeq();
      Status caught_up = follower.CatchUp();
      ASSERT_TRUE(caught_up.ok()) << caught_up.ToString();
      ASSERT_GE(follower.LastSeq(), before) << "the follower went backwards";
      ASSERT_LE(follower.LastSeq(), count);
      if (follower.LastSeq() > before) {
        ++views;
        check_view();
      }
    }
    std::cout << "the follower saw " << views << " heads on the way to " << count << ", "
              << bad_views << " of them wrong\n";
    if (check_each_view) {
      EXPECT_EQ(bad_views, 0) << "first: " << first_problem;
    }
    if (!done) {
      ASSERT_TRUE(child->WaitDone(Clock::now() + kTimeout));
    }
    Status caught_up = follower.CatchUp();
    ASSERT_TRUE(caught_up.ok()) << caught_up.ToString();
    EXPECT_EQ(follower.LastSeq(), count);
    EXPECT_EQ(CheckEvents(follower, destination), count);
    auto oldest = follower.OldestSeq();
    ASSERT_TRUE(oldest);
    EXPECT_EQ(*oldest, 1u);

    // The writer set cursor "t" before "done": the follower sees it.
    auto cursor = follower.GetCursor("t");
    ASSERT_TRUE(cursor) << cursor.error().ToString();
    ASSERT_TRUE(cursor->has_value());
    EXPECT_EQ((*cursor)->seq, count);
    EXPECT_EQ((*cursor)->destination, destination);
    EXPECT_EQ((*cursor)->journal_id, follower.id());
    EXPECT_TRUE(follower.CheckCursor(**cursor).ok());

    EXPECT_TRUE(ExitedCleanly(child->Release()));
    opened->reset();
    auto primary = Journal::Open({.dir = dir_});
    ASSERT_TRUE(primary) << primary.error().ToString();
    EXPECT_EQ((*primary)->LastSeq(), count);
  }

  ferry::testing::TempDir tmp_;
  std::string dir_ = tmp_.Sub("journal");
};

TEST_F(JournalSecondaryTest, FollowerCatchesUpWithLiveWriter) {
  FollowLiveWriter(5000, {"--max-batch=50"}, /*check_each_view=*/true);
}

TEST_F(JournalSecondaryTest, FollowerCatchesUpAcrossFlushes) {
  // Flushes move events into SST files and switch WAL files under the follower.
  FollowLiveWriter(5000, {"--max-batch=50", "--flush-every=20"}, /*check_each_view=*/false);
}

// Regression test for the follower hole: RocksDB's TryCatchUpWithPrimary()
// reads the MANIFEST, then lists the WAL files. When the primary finishes a
// flush in between (new SST in the MANIFEST, old WAL deleted), the follower
// neither knows the SST nor reads the rest of the old WAL, so its view shows
// the new WAL's events after a hole. journal/follower.cc catches up again
// until the view is whole and never publishes a head beyond a hole.
TEST_F(JournalSecondaryTest, FollowerSeesNoGapWhileThePrimaryFlushes) {
  FollowLiveWriter(5000, {"--max-batch=50", "--flush-every=5"}, /*check_each_view=*/true);
}

// Regression test for the same race at open: a follower opened while the
// primary flushes could show a hole, or miss the WAL that held the journal's
// identity and report "holds no ferry journal (no journal_id)".
TEST_F(JournalSecondaryTest, FollowerOpensWhileThePrimaryFlushes) {
  auto child = StartHolder(10'000, {"--max-batch=50", "--flush-every=2"});
  ASSERT_NE(child, nullptr);
  const auto deadline = Clock::now() + kTimeout;
  ASSERT_TRUE(child->ReadLine(deadline)) << "no ack from the writer";
  int opens = 0;
  int failed = 0;
  int wrong = 0;
  std::string first_failure;
  std::string first_problem;
  bool done = false;
  while (!done && opens < 100) {
    ASSERT_LT(Clock::now(), deadline) << "the writer did not finish";
    auto opened = Journal::OpenSecondary(dir_, tmp_.Sub("follower" + std::to_string(opens)));
    ++opens;
    if (!opened) {
      if (++failed == 1) first_failure = opened.error().ToString();
    } else {
      Scan scan = ScanEvents(**opened, 1, 1);
      if (!scan.problem.empty() && ++wrong == 1) first_problem = scan.problem;
    }
    // Take the acks that came meanwhile, without waiting.
    while (std::optional<std::string> line = child->ReadLine(Clock::now())) {
      done = done || line->starts_with("done ");
    }
    ASSERT_FALSE(child->eof()) << "the writer quit early";
  }
  std::cout << opens << " opens during flushes: " << failed << " failed, " << wrong
            << " showed wrong events\n";
  EXPECT_EQ(failed, 0) << "first: " << first_failure;
  EXPECT_EQ(wrong, 0) << "first: " << first_problem;
}

TEST_F(JournalSecondaryTest, FollowerOpenedAfterTheWritesSeesThemAll) {
  auto child = StartHolder(300, {"--max-batch=7", "--sync=off"});
  ASSERT_NE(child, nullptr);
  ASSERT_EQ(child->WaitDone(Clock::now() + kTimeout), 300u);
  auto follower = Journal::OpenSecondary(dir_, tmp_.Sub("follower"));
  ASSERT_TRUE(follower) << follower.error().ToString();
  EXPECT_EQ((*follower)->LastSeq(), 300u);
  EXPECT_EQ(CheckEvents(**follower, 1), 300u);
}

TEST_F(JournalSecondaryTest, SecondPrimaryIsRefusedWhileTheWriterHoldsTheJournal) {
  auto child = StartHolder(10);
  ASSERT_NE(child, nullptr);
  ASSERT_EQ(child->WaitDone(Clock::now() + kTimeout), 10u);

  auto second = Journal::Open({.dir = dir_});
  ASSERT_FALSE(second) << "two primaries on one journal";
  EXPECT_TRUE(second.error().IsIOError()) << second.error().ToString();
  EXPECT_NE(second.error().message().find("another process has this journal open"),
            std::string::npos)
      << second.error().ToString();
  EXPECT_NE(second.error().message().find(dir_), std::string::npos)
      << "the message should name the directory: " << second.error().ToString();

  // Once the writer is gone the journal opens, with the writer's events.
  EXPECT_TRUE(ExitedCleanly(child->Release()));
  auto reopened = Journal::Open({.dir = dir_});
  ASSERT_TRUE(reopened) << reopened.error().ToString();
  EXPECT_EQ((*reopened)->LastSeq(), 10u);
}

TEST_F(JournalSecondaryTest, FollowerRefusesEveryWrite) {
  auto child = StartHolder(10);
  ASSERT_NE(child, nullptr);
  ASSERT_EQ(child->WaitDone(Clock::now() + kTimeout), 10u);
  auto opened = Journal::OpenSecondary(dir_, tmp_.Sub("follower"));
  ASSERT_TRUE(opened) << opened.error().ToString();
  Journal& follower = **opened;
  ASSERT_EQ(follower.LastSeq(), 10u);
  auto dest = follower.DestinationId("d");
  ASSERT_TRUE(dest) << dest.error().ToString();

  // Valid arguments throughout, so only the follower's being read-only refuses them.
  auto appended = follower.Append({ExpectedEvent(11, *dest)});
  ASSERT_FALSE(appended);
  EXPECT_TRUE(appended.error().IsInvalidArgument()) << appended.error().ToString();
  auto expect_refused = [](const Status& s, const char* what) {
    EXPECT_TRUE(s.IsInvalidArgument()) << what << ": " << s.ToString();
  };
  expect_refused(follower.SetCursor("t", *dest, 5), "SetCursor");
  expect_refused(follower.SetCursor("new", *dest, 5), "SetCursor of a new target");
  expect_refused(follower.AdvanceCursor("t", 10, 1, 1), "AdvanceCursor");
  expect_refused(follower.RecordFailure("t", "boom"), "RecordFailure");
  expect_refused(follower.DeleteTarget("t"), "DeleteTarget");
  DeadLetter letter{.target = "t", .event = ExpectedEvent(3, *dest), .error = "boom"};
  expect_refused(follower.PutDeadLetter(letter), "PutDeadLetter");
  expect_refused(follower.Flush(), "Flush");
  auto trimmed = follower.Trim(RetentionPolicy{.keep_delivered_ns = 0, .max_bytes = 1});
  EXPECT_TRUE(trimmed.error().IsInvalidArgument()) << "Trim: " << trimmed.error().ToString();
  EXPECT_FALSE(follower.DestinationId("new")) << "the follower registered a destination";

  // Nothing changed, as the writer sees it after the follower's attempts.
  EXPECT_TRUE(ExitedCleanly(child->Release()));
  opened->reset();
  auto primary = Journal::Open({.dir = dir_});
  ASSERT_TRUE(primary) << primary.error().ToString();
  Journal& journal = **primary;
  EXPECT_EQ(journal.LastSeq(), 10u);
  auto cursor = journal.GetCursor("t");
  ASSERT_TRUE(cursor && cursor->has_value());
  EXPECT_EQ((*cursor)->seq, 10u);
  EXPECT_FALSE((*cursor)->expired);
  auto missing = journal.GetCursor("new");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  auto letters = journal.ListDeadLetters("");
  ASSERT_TRUE(letters);
  EXPECT_TRUE(letters->empty());
  auto dests = journal.Destinations();
  ASSERT_TRUE(dests);
  EXPECT_EQ(dests->size(), 1u);
  EXPECT_EQ(CheckEvents(journal, *dest), 10u);
}

TEST_F(JournalSecondaryTest, FollowerOfNoJournalIsNotFound) {
  auto opened = Journal::OpenSecondary(tmp_.Sub("nothing"), tmp_.Sub("follower"));
  ASSERT_FALSE(opened);
  EXPECT_TRUE(opened.error().IsNotFound()) << opened.error().ToString();
}

}  // namespace
}  // namespace ferry
