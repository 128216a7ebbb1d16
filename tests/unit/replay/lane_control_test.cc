// The operator's controls on a lane: pause/resume, rewind, resync, dead
// letters retried on demand, stop.
#include <gtest/gtest.h>

#include "replay/lane.h"
#include "tests/lib/lane_fixture.h"

namespace ferry {
namespace {

using testing::HasArg;
using testing::kMs;
using testing::kSec;
using testing::LaneTest;

TEST_F(LaneTest, PausedLaneStartsNothingUntilResumed) {
  MakeSyncedLane();
  lane_->Pause();
  StartBatch({"a"});
  EXPECT_FALSE(exec_.has_child());
  EXPECT_EQ(lane_->status().state, TargetState::kPaused);
  lane_->Resume();
  exec_.RunDue();
  ASSERT_TRUE(exec_.has_child());
  exec_.Finish(0);
  EXPECT_EQ(Cursor(), 1u);
  EXPECT_EQ(lane_->status().state, TargetState::kOk);
}

TEST_F(LaneTest, PauseLetsTheRunningBatchFinishAndRecordIt) {
  MakeSyncedLane();
  StartBatch({"a"});
  ASSERT_TRUE(exec_.has_child());
  lane_->Pause();
  exec_.Finish(0);
  EXPECT_EQ(Cursor(), 1u);
  StartBatch({"b"});
  EXPECT_FALSE(exec_.has_child());
}

TEST_F(LaneTest, RewindDeliversTheEventsAgainAfterTheRunningBatch) {
  Files({"a", "b", "c"});
  MakeSyncedLane();
  EXPECT_EQ(Cursor(), 3u);
  StartBatch({"d"});
  ASSERT_TRUE(exec_.has_child());
  lane_->Rewind(2);  // while seq 4 is in flight
  exec_.RunDue();
  exec_.Finish(0);  // the in-flight batch's advance must not undo the rewind
  exec_.RunDue();
  ASSERT_TRUE(exec_.has_child());
  SpawnRequest again = exec_.Finish(0);
  EXPECT_EQ(again.input, std::string("./b\0./c\0./d\0", 12));
  EXPECT_EQ(Cursor(), 4u);
}

TEST_F(LaneTest, RewindEndsABackoff) {
  MakeSyncedLane();
  StartBatch({"a"});
  exec_.Finish(10, "rsync: connection unexpectedly closed\n");
  ASSERT_EQ(lane_->status().state, TargetState::kRetrying);
  lane_->Rewind(1);
  exec_.RunDue();
  EXPECT_TRUE(exec_.has_child()) << "no waiting for the backoff";
}

TEST_F(LaneTest, StartDelayHoldsBackNotifiedEventsToo) {
  ASSERT_TRUE(journal_->SetCursor("backup", dest_, 0).ok());
  start_delay_ns_ = 3 * kSec;
  MakeLane();
  lane_->Start();
  Files({"a"});
  lane_->Notify();
  exec_.RunDue();
  clock_.Advance(2 * kSec);
  lane_->Notify();
  exec_.RunDue();
  EXPECT_FALSE(exec_.has_child()) << "a batch before the start delay ended";
  clock_.Advance(1 * kSec);
  exec_.RunDue();
  ASSERT_TRUE(exec_.has_child());
  exec_.Finish(0);
  EXPECT_EQ(Cursor(), 1u);
}

TEST_F(LaneTest, ResyncRunsAFullSyncThenFollowsTheHead) {
  Files({"a"});
  MakeSyncedLane();
  lane_->Resync();
  exec_.RunDue();
  ASSERT_TRUE(exec_.has_child());
  EXPECT_EQ(lane_->status().state, TargetState::kFullSync);
  SpawnRequest full = exec_.Finish(0);
  EXPECT_TRUE(HasArg(full, "--delete"));
  EXPECT_FALSE(HasArg(full, "--files-from=-"));
  EXPECT_EQ(Cursor(), 1u);
  EXPECT_EQ(lane_->status().state, TargetState::kOk);
}

// The dead letter of path "p", seq 7, as an isolated batch leaves it.
void PutDeadLetterFor(Journal* journal, uint32_t dest) {
  ASSERT_TRUE(journal
                  ->PutDeadLetter({.target = "backup",
                                   .event = Event{.seq = 7, .destination = dest, .path = "p"},
                                   .error = "Permission denied"})
                  .ok());
}

TEST_F(LaneTest, DeadLettersRetryOnDemandAndLeaveWhenDelivered) {
  MakeSyncedLane();
  ASSERT_NO_FATAL_FAILURE(PutDeadLetterFor(journal_.get(), dest_));
  lane_->RetryDeadLettersNow();
  exec_.RunDue();
  ASSERT_TRUE(exec_.has_child());
  EXPECT_EQ(exec_.Finish(0).input, std::string("./p\0", 4));
  EXPECT_TRUE(journal_->ListDeadLetters("backup")->empty());
}

TEST_F(LaneTest, DeadLetterRetryAskedForDuringABatchRunsAfterIt) {
  MakeSyncedLane();
  ASSERT_NO_FATAL_FAILURE(PutDeadLetterFor(journal_.get(), dest_));
  StartBatch({"a"});
  ASSERT_TRUE(exec_.has_child());
  lane_->RetryDeadLettersNow();  // found by ferryctl's tests: was dropped
  exec_.RunDue();
  exec_.Finish(0);  // the batch
  exec_.RunDue();
  ASSERT_TRUE(exec_.has_child()) << "the retry runs once the batch has ended";
  EXPECT_EQ(exec_.Finish(0).input, std::string("./p\0", 4));
  EXPECT_TRUE(journal_->ListDeadLetters("backup")->empty());
}

TEST_F(LaneTest, StopLetsTheRunningBatchFinishThenStartsNothing) {
  MakeSyncedLane();
  StartBatch({"a"});
  ASSERT_TRUE(exec_.has_child());
  lane_->Stop();
  exec_.RunDue();
  EXPECT_TRUE(lane_->status().busy);
  EXPECT_FALSE(lane_->status().stopped);
  exec_.Finish(0);
  EXPECT_EQ(Cursor(), 1u);
  EXPECT_TRUE(lane_->status().stopped);
  Files({"b"});
  lane_->Notify();
  clock_.Advance(kSec);
  exec_.RunDue();
  EXPECT_FALSE(exec_.has_child());
}

TEST_F(LaneTest, ForgetDuringAFullSyncLeavesNoCursorWhenItEnds) {
  Files({"a", "b"});
  MakeLane();  // no cursor: a full sync
  lane_->Start();
  exec_.RunDue();
  ASSERT_TRUE(exec_.has_child());
  ASSERT_EQ(lane_->status().state, TargetState::kFullSync);
  lane_->Forget();
  EXPECT_FALSE(journal_->GetCursor("backup")->has_value());
  exec_.Finish(0, "", "Total bytes sent: 4,096\n");  // the full sync succeeds after all
  EXPECT_FALSE(journal_->GetCursor("backup")->has_value()) << "the cursor came back";
  EXPECT_TRUE(lane_->status().stopped);
  exec_.RunDue();
  EXPECT_FALSE(exec_.has_child());
}

}  // namespace
}  // namespace ferry
