// LaneTest: a Lane on a real journal with a fake executor and clock; shared
// by the lane's unit tests.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "replay/lane.h"
#include "tests/lib/fake_executor.h"
#include "tests/lib/journal_fixture.h"
#include "tests/lib/temp_dir.h"

namespace ferry::testing {

inline constexpr int64_t kMs = 1'000'000;
inline constexpr int64_t kSec = 1'000'000'000;

inline bool HasArg(const SpawnRequest& r, std::string_view arg) {
  return std::find(r.argv.begin(), r.argv.end(), arg) != r.argv.end();
}

class LaneTest : public ::testing::Test {
 protected:
  LaneTest() : exec_(&clock_) {
    journal_ = testing::OpenJournalOrDie(tmp_.Sub("j"), &clock_);
    dest_ = *journal_->DestinationId("www");
  }

  void MakeLane(uint32_t destination = 0, int parallel = 1) {
    LaneOptions o;
    o.parallel = parallel;
    o.target = {.name = "backup", .source = source_, .url = *ParseTargetUrl("/dst")};
    o.source_device = source_device_;
    o.destination = destination ? destination : dest_;
    o.batch_delay_ns = 20 * kMs;
    o.retry_min_ns = 1 * kSec;
    o.retry_max_ns = 60 * kSec;
    o.dead_letter_retry_ns = 3600 * kSec;
    o.start_delay_ns = start_delay_ns_;
    o.probe_receiver = probe_receiver_;
    o.batch_max_events = batch_max_events_;
    lane_ = std::make_unique<Lane>(o, journal_.get(), &exec_);
  }

  // A lane whose target already has everything up to the head.
  void MakeSyncedLane() {
    ASSERT_TRUE(journal_->SetCursor("backup", dest_, journal_->LastSeq()).ok());
    MakeLane();
    lane_->Start();
    exec_.RunDue();
  }

  void Files(std::vector<std::string> paths, EventKind kind = EventKind::kModify) {
    std::vector<Event> events;
    for (auto& p : paths) events.push_back(Event{.destination = dest_, .kind = kind, .path = p});
    ASSERT_TRUE(journal_->Append(std::move(events)));
  }

  // Journals `paths` as modified and lets the lane's batch window pass, so
  // the batch's first transfer is running.
  void StartBatch(std::vector<std::string> paths) {
    Files(std::move(paths));
    clock_.Advance(20 * kMs);
    lane_->Notify();
    exec_.RunDue();
  }

  uint64_t Cursor() { return (*journal_->GetCursor("backup"))->seq; }

  // A lane with 4 parallel transfers and 40 modified files f0..f39 journaled.
  std::vector<std::string> StartParallelLaneWith40Files() {
    EXPECT_TRUE(journal_->SetCursor("backup", dest_, 0).ok());
    MakeLane(0, /*parallel=*/4);
    lane_->Start();
    std::vector<std::string> paths;
    for (int i = 0; i < 40; ++i) paths.push_back("f" + std::to_string(i));
    Files(paths);
    return paths;
  }

  TempDir tmp_;
  FakeClock clock_;
  FakeExecutor exec_;
  std::unique_ptr<Journal> journal_;
  uint32_t dest_ = 0;
  std::unique_ptr<Lane> lane_;
  int64_t start_delay_ns_ = 0;   // MakeLane's LaneOptions::start_delay_ns
  size_t batch_max_events_ = 50'000;  // MakeLane's LaneOptions::batch_max_events
  std::string source_ = "/src";  // MakeLane's source (not checked unless source_device_)
  uint64_t source_device_ = 0;
  bool probe_receiver_ = false;  // the probe's own tests (lane_probe_test.cc) turn it on
};

}  // namespace ferry::testing
