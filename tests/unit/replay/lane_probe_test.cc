// The lane's receiver probe (rsync_probe.h) with a fake executor: what it
// runs, in which order, and what the batches then use.
#include <gtest/gtest.h>

#include "replay/lane.h"
#include "tests/lib/lane_fixture.h"

namespace ferry {
namespace {

using testing::HasArg;
using testing::kMs;
using testing::kSec;
using testing::LaneTest;

constexpr const char* kVersion35 = "rsync  version 3.5.0  protocol version 32\n";
constexpr const char* kNoDeleteMissingArgs =
    "rsync: on remote machine: --delete-missing-args: unknown option\n"
    "rsync error: syntax or usage error (code 1) at main.c(1435) [server=3.0.9]\n";
constexpr const char* kNoNanoseconds =
    "rsync: on remote machine: -@-1: unknown option\n"
    "rsync error: syntax or usage error (code 1) at main.c(1435) [server=3.0.9]\n";
constexpr const char* kProtocol30 = "(Client) Protocol versions: remote=30, negotiated=30\n";

class LaneProbeTest : public LaneTest {
 protected:
  LaneProbeTest() { probe_receiver_ = true; }

  // Answers the probe as an rsync 3.0.9 receiver does.
  void AnswerAs309() {
    ASSERT_TRUE(exec_.has_child());
    SpawnRequest dry = exec_.Finish(12, kNoDeleteMissingArgs);
    EXPECT_TRUE(HasArg(dry, "--dry-run"));
    EXPECT_TRUE(HasArg(dry, "--delete-missing-args"));
    ASSERT_TRUE(exec_.has_child());
    dry = exec_.Finish(12, kNoNanoseconds);
    EXPECT_FALSE(HasArg(dry, "--delete-missing-args"));
    EXPECT_TRUE(HasArg(dry, "--modify-window=-1"));
    ASSERT_TRUE(exec_.has_child());
    dry = exec_.Finish(0, "", kProtocol30);
    EXPECT_TRUE(HasArg(dry, "--dry-run"));
    EXPECT_FALSE(HasArg(dry, "--modify-window=-1"));
  }
};

TEST_F(LaneProbeTest, AnOldReceiverGetsFilterRuleDeletesAndNoNanosecondWindow) {
  ASSERT_TRUE(journal_->SetCursor("backup", dest_, 0).ok());
  ASSERT_TRUE(
      journal_->Append({Event{.destination = dest_, .kind = EventKind::kDelete, .path = "old"}}));
  MakeLane();
  lane_->Start();
  exec_.RunDue();
  ASSERT_TRUE(exec_.has_child());
  EXPECT_EQ(exec_.child().argv, (std::vector<std::string>{"rsync", "--version"}));
  EXPECT_TRUE(lane_->status().busy);
  exec_.Finish(0, "", kVersion35);
  AnswerAs309();
  ASSERT_TRUE(exec_.AdvanceToNextTimer());  // the batch window
  EXPECT_EQ(lane_->status().receiver,
            "local rsync 3.5.0 (protocol 32), receiver protocol 30; without "
            "--delete-missing-args --modify-window=-1");
  // The batch: the delete as filter rules.
  ASSERT_TRUE(exec_.has_child());
  SpawnRequest del = exec_.Finish(0);
  EXPECT_FALSE(HasArg(del, "--dry-run"));
  EXPECT_TRUE(HasArg(del, "--include-from=-"));
  EXPECT_TRUE(HasArg(del, "--delete"));
  EXPECT_FALSE(HasArg(del, "--delete-missing-args"));
  EXPECT_FALSE(HasArg(del, "--modify-window=-1"));
  EXPECT_EQ(del.input, std::string("/old\0/old/***\0", 14));
  EXPECT_FALSE(exec_.has_child());
  EXPECT_EQ(Cursor(), 1u);
  EXPECT_EQ(lane_->status().state, TargetState::kOk);
}

TEST_F(LaneProbeTest, ANewTargetsFullSyncWaitsForTheProbe) {
  MakeLane();  // no cursor: a full sync
  lane_->Start();
  exec_.RunDue();
  exec_.Finish(0, "", kVersion35);
  AnswerAs309();
  ASSERT_TRUE(exec_.has_child());
  EXPECT_EQ(lane_->status().state, TargetState::kFullSync);
  EXPECT_FALSE(HasArg(exec_.child(), "--modify-window=-1"));
  exec_.Finish(0);
  EXPECT_EQ(lane_->status().state, TargetState::kOk);
}

TEST_F(LaneProbeTest, AFailedTargetIsProbedAgainBeforeItsNextBatch) {
  MakeSyncedLane();
  exec_.Finish(0, "", kVersion35);
  exec_.Finish(0, "", "(Client) Protocol versions: remote=32, negotiated=32\n");
  EXPECT_FALSE(exec_.has_child());
  StartBatch({"f"});
  ASSERT_TRUE(exec_.has_child());
  EXPECT_TRUE(HasArg(exec_.child(), "--delete-missing-args"));
  // The target now runs an rsync 3.0.9 (a rebuilt backup server, say).
  exec_.Finish(12, kNoDeleteMissingArgs);
  LaneStatus s = lane_->status();
  EXPECT_EQ(s.state, TargetState::kRetrying);
  EXPECT_NE(s.last_error.find("probing it again"), std::string::npos) << s.last_error;
  EXPECT_FALSE(exec_.has_child());
  clock_.Advance(2 * kSec);  // past the backoff
  exec_.RunDue();
  // The local version is known: the dry runs come first, then the batch.
  AnswerAs309();
  ASSERT_TRUE(exec_.has_child());
  SpawnRequest content = exec_.Finish(0);
  EXPECT_TRUE(HasArg(content, "--ignore-missing-args"));
  EXPECT_TRUE(HasArg(content, "--ignore-times"));
  EXPECT_EQ(Cursor(), 1u);
}

TEST_F(LaneProbeTest, ProbeFailuresAreClassifiedLikeAnyRun) {
  MakeSyncedLane();
  exec_.Finish(0, "", kVersion35);
  exec_.Finish(5, "@ERROR: auth failed on module m\n");
  LaneStatus s = lane_->status();
  EXPECT_EQ(s.state, TargetState::kBlocked);
  EXPECT_NE(s.last_error.find("auth failed"), std::string::npos) << s.last_error;
  EXPECT_FALSE(s.busy);

  // An ancient receiver is refused with what to do.
  ASSERT_TRUE(exec_.AdvanceToNextTimer());
  exec_.Finish(0, "", "(Client) Protocol versions: remote=29, negotiated=29\n");
  s = lane_->status();
  EXPECT_EQ(s.state, TargetState::kBlocked);
  EXPECT_NE(s.last_error.find("needs rsync 3.0.9 or later"), std::string::npos) << s.last_error;
}

TEST_F(LaneProbeTest, SomethingThatIsNotRsyncBlocksWithTheSetting) {
  MakeSyncedLane();
  exec_.Finish(0, "", "busybox v1.36\n");
  LaneStatus s = lane_->status();
  EXPECT_EQ(s.state, TargetState::kBlocked);
  EXPECT_NE(s.last_error.find("printed no rsync version"), std::string::npos) << s.last_error;
}

TEST_F(LaneProbeTest, StopDuringTheProbeEndsWithItsChild) {
  MakeSyncedLane();
  exec_.Finish(0, "", kVersion35);
  ASSERT_TRUE(exec_.has_child());
  lane_->Stop();
  exec_.RunDue();
  EXPECT_FALSE(lane_->status().stopped);
  exec_.Finish(12, kNoDeleteMissingArgs);
  EXPECT_FALSE(exec_.has_child());
  EXPECT_TRUE(lane_->status().stopped);
}

TEST_F(LaneProbeTest, APausedLaneDoesNotProbe) {
  ASSERT_TRUE(journal_->SetCursor("backup", dest_, 0).ok());
  MakeLane();
  lane_->Pause();
  lane_->Start();
  exec_.RunDue();
  EXPECT_FALSE(exec_.has_child());
  lane_->Resume();
  exec_.RunDue();
  ASSERT_TRUE(exec_.has_child());
  EXPECT_TRUE(HasArg(exec_.child(), "--version"));
}

}  // namespace
}  // namespace ferry
