// Lane logic with a fake executor and clock, on a real journal.
#include "replay/lane.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/lib/lane_fixture.h"

namespace ferry {
namespace {

using testing::HasArg;
using testing::kMs;
using testing::kSec;
using testing::LaneTest;

TEST_F(LaneTest, NewTargetGetsAFullSyncThenItsCursor) {
  Files({"a", "b"});
  MakeLane();
  lane_->Start();
  exec_.RunDue();
  ASSERT_TRUE(exec_.has_child());
  EXPECT_TRUE(HasArg(exec_.child(), "--delete"));
  EXPECT_FALSE(HasArg(exec_.child(), "--files-from=-"));
  EXPECT_EQ(lane_->status().state, TargetState::kFullSync);
  exec_.Finish(0, "", "Total bytes sent: 4,096\n");
  EXPECT_EQ(Cursor(), 2u);
  EXPECT_EQ(journal_->GetStats("backup")->bytes, 4096u);
  EXPECT_FALSE(exec_.has_child());
  EXPECT_EQ(lane_->status().state, TargetState::kOk);
}

TEST_F(LaneTest, BatchWaitsForItsWindowThenRunsOneTransferPerKind) {
  MakeSyncedLane();
  Files({"new1", "new2"});
  ASSERT_TRUE(
      journal_->Append({Event{.destination = dest_, .kind = EventKind::kDelete, .path = "old"}}));
  ASSERT_TRUE(journal_->Append(
      {Event{.destination = dest_, .kind = EventKind::kAttrib, .path = "chmodded"}}));
  lane_->Notify();
  exec_.RunDue();
  EXPECT_FALSE(exec_.has_child()) << "the batch window has not passed";
  clock_.Advance(20 * kMs);
  exec_.RunDue();
  ASSERT_TRUE(exec_.has_child());
  // The delete rides on the first send, which removes what the source lacks.
  SpawnRequest content = exec_.Finish(0);
  EXPECT_TRUE(HasArg(content, "--ignore-times"));
  EXPECT_TRUE(HasArg(content, "--delete-missing-args"));
  EXPECT_EQ(content.input, std::string("./new1\0./new2\0./old\0", 20));
  ASSERT_TRUE(exec_.has_child());
  SpawnRequest metadata = exec_.Finish(0);
  EXPECT_FALSE(HasArg(metadata, "--ignore-times"));
  EXPECT_FALSE(exec_.has_child());
  EXPECT_EQ(Cursor(), 4u);
  EXPECT_EQ(journal_->GetStats("backup")->events, 4u);
}

// During a live burst the next batch waits as long after the last one as
// that one ran (rsync runs at most about half the time, and batches grow);
// a backlog, read in full batches, goes back to back.
TEST_F(LaneTest, ALiveBurstIsPacedAQuietSourceAndABacklogAreNot) {
  batch_max_events_ = 2;
  MakeSyncedLane();
  StartBatch({"a"});
  ASSERT_TRUE(exec_.has_child());
  clock_.Advance(300 * kMs);  // the transfer runs 300 ms; meanwhile b changes
  Files({"b"});
  exec_.Finish(0);
  // The source stays busy (a change journaled every 10 ms): the next batch
  // waits until 300 ms after the last one's end.
  for (int i = 0; i < 29; ++i) {
    lane_->Notify();
    clock_.Advance(10 * kMs);
    exec_.RunDue();
    ASSERT_FALSE(exec_.has_child()) << "paced, " << (i + 1) * 10 << " ms after the end";
  }
  lane_->Notify();
  clock_.Advance(10 * kMs);
  exec_.RunDue();
  ASSERT_TRUE(exec_.has_child());
  Files({"c"});
  lane_->Notify();
  exec_.RunDue();
  clock_.Advance(300 * kMs);
  exec_.Finish(0);
  EXPECT_EQ(Cursor(), 2u);
  // c came at the start of that 300 ms run, and nothing since: the source
  // is quiet, so c goes at once.
  exec_.RunDue();
  ASSERT_TRUE(exec_.has_child()) << "a quiet source is not paced";
  exec_.Finish(0);
  EXPECT_EQ(Cursor(), 3u);
  // A backlog of 5: full batches of 2 follow each other at once, however
  // long each ran, while the source is busy.
  Files({"d", "e", "f", "g", "h"});
  clock_.Advance(1 * kSec);  // past any pacing
  lane_->Notify();
  exec_.RunDue();
  for (uint64_t cursor : {5u, 7u}) {
    ASSERT_TRUE(exec_.has_child()) << cursor;
    clock_.Advance(500 * kMs);
    lane_->Notify();
    exec_.Finish(0);
    EXPECT_EQ(Cursor(), cursor);
    exec_.RunDue();
  }
  ASSERT_TRUE(exec_.has_child()) << "the batch after a full one is not paced";
  exec_.Finish(0);
  EXPECT_EQ(Cursor(), 8u);
}

// The source unmounted leaves an empty mount point on another device: a
// send from it would delete the target's copies. Nothing is sent, loudly,
// until the source is back.
TEST_F(LaneTest, NothingIsSentFromASourceOnAnotherDevice) {
  source_ = tmp_.Sub("src");
  ASSERT_EQ(mkdir(source_.c_str(), 0755), 0);
  struct stat st;
  ASSERT_EQ(stat(source_.c_str(), &st), 0);
  source_device_ = st.st_dev + 1;  // as if the source's filesystem had gone
  MakeSyncedLane();
  StartBatch({"f"});
  EXPECT_FALSE(exec_.has_child());
  EXPECT_EQ(lane_->status().state, TargetState::kRetrying);
  EXPECT_NE(lane_->status().last_error.find("unmounted?"), std::string::npos)
      << lane_->status().last_error;
  // A full sync asked for by the operator waits too: it would mirror an empty tree.
  lane_->Resync();
  clock_.Advance(120 * kSec);
  exec_.RunDue();
  EXPECT_FALSE(exec_.has_child());
  // Back on its device: the batch goes.
  source_device_ = st.st_dev;
  MakeLane();
  lane_->Start();
  clock_.Advance(20 * kMs);
  exec_.RunDue();
  ASSERT_TRUE(exec_.has_child());
}

TEST_F(LaneTest, OtherDestinationsEventsOnlyMoveTheCursor) {
  MakeSyncedLane();
  const uint32_t other = *journal_->DestinationId("logs");
  ASSERT_TRUE(journal_->Append({Event{.destination = other, .path = "x"}}));
  lane_->Notify();
  exec_.RunDue();
  EXPECT_FALSE(exec_.has_child());
  EXPECT_EQ(Cursor(), 1u);
}

TEST_F(LaneTest, TransientFailuresBackOffExponentiallyWithJitterUpToTheCap) {
  MakeSyncedLane();
  StartBatch({"f"});
  std::vector<int64_t> delays;
  for (int i = 0; i < 9; ++i) {
    ASSERT_TRUE(exec_.has_child()) << i;
    exec_.Finish(10, "rsync: connection unexpectedly closed\n");
    EXPECT_EQ(lane_->status().state, TargetState::kRetrying);
    delays.push_back(lane_->status().next_attempt_ns - clock_.MonotonicNanos());
    clock_.Advance(delays.back());
    exec_.RunDue();
  }
  EXPECT_NEAR(delays[0], 1 * kSec, kSec / 4 + 1);
  EXPECT_NEAR(delays[1], 2 * kSec, 2 * kSec / 4 + 1);
  EXPECT_NEAR(delays[2], 4 * kSec, 4 * kSec / 4 + 1);
  EXPECT_LE(delays[8], 60 * kSec + 60 * kSec / 4);
  EXPECT_GE(delays[8], 60 * kSec - 60 * kSec / 4);
  EXPECT_EQ(Cursor(), 0u);
  EXPECT_NE(journal_->GetStats("backup")->last_error.find("connection unexpectedly closed"),
            std::string::npos);
  exec_.Finish(0);  // the target is back
  EXPECT_EQ(Cursor(), 1u);
  EXPECT_EQ(lane_->status().state, TargetState::kOk);
}

TEST_F(LaneTest, FullSyncThatKeepsFailingForOneEntryEndsAndDeadLettersIt) {
  Files({"a", "b"});
  MakeLane();  // no cursor: a full sync
  lane_->Start();
  exec_.RunDue();
  const std::string secret_failed =
      "rsync: [sender] send_files failed to open \"/src/se\\#303\\#251cret\": Permission denied "
      "(13)\nrsync error: some files/attrs were not transferred (code 23)\n";
  ASSERT_TRUE(exec_.has_child());
  ASSERT_TRUE(HasArg(exec_.child(), "--delete"));
  exec_.Finish(23, secret_failed);  // first failure: plain retry
  clock_.Advance(lane_->status().next_attempt_ns - clock_.MonotonicNanos());
  exec_.RunDue();
  ASSERT_TRUE(exec_.has_child());
  ASSERT_TRUE(HasArg(exec_.child(), "--delete")) << "the full sync again";
  exec_.Finish(23, secret_failed);
  EXPECT_EQ(Cursor(), 2u) << "the full sync is done, but for the entry it names";
  auto story = journal_->NewReader({.from_seq = 3});
  ASSERT_TRUE(story->Valid());
  EXPECT_EQ(story->event().path,
            "se\xc3\xa9"
            "cret");  // rsync's \#ooo escapes undone
  EXPECT_EQ(story->event().kind, EventKind::kModify);

  // The entry goes on its own, fails again and again, and is dead-lettered.
  clock_.Advance(20 * kMs);
  exec_.RunDue();
  for (int runs = 0; exec_.has_child() && runs < 10; ++runs) {
    EXPECT_EQ(exec_.child().input, std::string("./se\xc3\xa9"
                                               "cret\0",
                                               11));
    exec_.Finish(23, secret_failed);
    clock_.Advance(lane_->status().next_attempt_ns > clock_.MonotonicNanos()
                       ? lane_->status().next_attempt_ns - clock_.MonotonicNanos()
                       : 0);
    exec_.RunDue();
  }
  auto dead = journal_->ListDeadLetters("backup");
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].event.path,
            "se\xc3\xa9"
            "cret");
  EXPECT_EQ(Cursor(), 3u);
}

TEST_F(LaneTest, FullSyncFailingOnTheReceiverSideIsRetriedNotHandedOver) {
  MakeLane();
  lane_->Start();
  exec_.RunDue();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(exec_.has_child());
    exec_.Finish(
        23, "rsync: [receiver] mkstemp \"/dst/.a.XXXXXX\" failed: Read-only file system (30)\n");
    clock_.Advance(lane_->status().next_attempt_ns - clock_.MonotonicNanos());
    exec_.RunDue();
  }
  EXPECT_FALSE(journal_->GetCursor("backup")->has_value()) << "not known which entries failed";
  EXPECT_EQ(lane_->status().state, TargetState::kFullSync);
}

TEST_F(LaneTest, AuthFailureBlocksAndNeverDeadLetters) {
  MakeSyncedLane();
  StartBatch({"a", "b"});
  for (int i = 0; i < 3; ++i) {
    exec_.Finish(5,
                 "@ERROR: auth failed on module data\nrsync error: error starting "
                 "client-server protocol (code 5)\n");
    EXPECT_EQ(lane_->status().state, TargetState::kBlocked);
    // At the longest backoff at once.
    EXPECT_EQ(lane_->status().next_attempt_ns - clock_.MonotonicNanos(), 60 * kSec);
    clock_.Advance(60 * kSec);
    exec_.RunDue();
  }
  EXPECT_EQ(lane_->status().last_error,
            "error starting client-server protocol (auth failed, unknown module?): "
            "@ERROR: auth failed on module data");
  EXPECT_TRUE(journal_->ListDeadLetters("backup")->empty());
  EXPECT_EQ(Cursor(), 0u);
}

TEST_F(LaneTest, PartialBatchIsBisectedToExactlyThePoisonedEntries) {
  MakeSyncedLane();
  StartBatch({"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7"});
  const std::string poisoned = "./p5";
  auto finish = [&] {
    const std::string& input = exec_.child().input;
    bool bad = input.find(poisoned) != std::string::npos;
    exec_.Finish(bad ? 23 : 0,
                 bad ? "rsync: [sender] send_files failed to open \"/src/p5\": Permission "
                       "denied (13)\nrsync error: some files/attrs were not transferred (code 23)\n"
                     : "");
  };
  finish();  // first failure: plain retry
  EXPECT_EQ(lane_->status().state, TargetState::kRetrying);
  clock_.Advance(lane_->status().next_attempt_ns - clock_.MonotonicNanos());
  exec_.RunDue();
  int runs = 0;
  while (exec_.has_child() && runs < 20) {
    finish();
    ++runs;
  }
  EXPECT_LE(runs, 8);  // 1 + 2 halves + log2(8) levels
  auto dead = journal_->ListDeadLetters("backup");
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].event.path, "p5");
  EXPECT_EQ((*dead)[0].event.seq, 6u);
  EXPECT_EQ((*dead)[0].error,
            "partial transfer due to error: rsync: [sender] send_files failed to open "
            "\"/src/p5\": Permission denied (13)");
  EXPECT_EQ(Cursor(), 8u);
  EXPECT_EQ(lane_->status().dead_lettered, 1u);

  // An hour later the dead letter is retried; fixed meanwhile, it goes away.
  clock_.Advance(3600 * kSec);
  exec_.RunDue();
  ASSERT_TRUE(exec_.has_child());
  EXPECT_EQ(exec_.child().input, std::string("./p5\0", 5));
  exec_.Finish(0);
  EXPECT_TRUE(journal_->ListDeadLetters("backup")->empty());
}

TEST_F(LaneTest, ParallelShardsRunAtOnceAndKeepEachPathInOneShard) {
  std::vector<std::string> paths = StartParallelLaneWith40Files();
  Files({"f3"});  // a second event for f3: still one shard, one send
  clock_.Advance(20 * kMs);
  lane_->Notify();
  exec_.RunDue();
  std::vector<SpawnRequest> wave;
  while (exec_.has_child()) wave.push_back(exec_.Finish(0));
  ASSERT_GE(wave.size(), 2u);
  ASSERT_LE(wave.size(), 4u);
  std::string all;
  for (const SpawnRequest& r : wave) all += r.input;
  for (const std::string& p : paths) {
    const std::string entry = "./" + p + std::string(1, '\0');
    size_t first = all.find(entry);
    ASSERT_NE(first, std::string::npos) << p;
    EXPECT_EQ(all.find(entry, first + 1), std::string::npos) << p << " sent twice";
  }
  EXPECT_EQ(Cursor(), 41u);
}

TEST_F(LaneTest, ParallelPartialIsolatesOnlyTheFailingShard) {
  std::vector<std::string> paths = StartParallelLaneWith40Files();
  clock_.Advance(20 * kMs);
  lane_->Notify();
  exec_.RunDue();
  auto run_all = [&] {
    int runs = 0;
    while (exec_.has_child()) {
      bool bad = exec_.child().input.find("./f17" + std::string(1, '\0')) != std::string::npos;
      exec_.Finish(bad ? 23 : 0, bad ? "rsync: send_files failed to open \"f17\"\n" : "");
      ++runs;
    }
    return runs;
  };
  run_all();  // first failure: the whole batch is retried later
  EXPECT_EQ(Cursor(), 0u);
  clock_.Advance(lane_->status().next_attempt_ns - clock_.MonotonicNanos());
  exec_.RunDue();
  run_all();
  auto dead = journal_->ListDeadLetters("backup");
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].event.path, "f17");
  EXPECT_EQ(Cursor(), 40u);
}

TEST_F(LaneTest, ExpiredCursorGetsAFullSync) {
  Files({"a"});
  ASSERT_TRUE(journal_->SetCursor("backup", dest_, 0).ok());
  ASSERT_TRUE(journal_->SetCursor("fast", dest_, 1).ok());
  clock_.Advance(24 * 3600 * kSec);
  // Over a tiny budget: the lagging cursor expires.
  auto r = journal_->Trim({.keep_delivered_ns = 0, .max_bytes = 1});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->expired_targets, std::vector<std::string>{"backup"});
  MakeLane();
  lane_->Start();
  exec_.RunDue();
  ASSERT_TRUE(exec_.has_child());
  EXPECT_EQ(lane_->status().state, TargetState::kFullSync);
  exec_.Finish(0);
  ferry::Cursor c = **journal_->GetCursor("backup");
  EXPECT_FALSE(c.expired);
  EXPECT_EQ(c.seq, 1u);
}

TEST_F(LaneTest, MissingRsyncBlocksWithAHint) {
  MakeSyncedLane();
  StartBatch({"a"});
  ChildExit e;
  e.spawn_error = Status::NotFound("spawn rsync: No such file or directory (ENOENT)");
  exec_.FinishWith(e);
  EXPECT_EQ(lane_->status().state, TargetState::kBlocked);
  EXPECT_NE(lane_->status().last_error.find("is rsync installed?"), std::string::npos);
}

}  // namespace
}  // namespace ferry
