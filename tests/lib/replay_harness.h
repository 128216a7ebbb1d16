// ReplayHarness: the whole pipeline on real things: a watched source tree,
// the journal, and lanes on a real io_uring worker running real rsync to
// real targets. Tests change the source, then Converge() pumps the watcher
// until every lane's cursor is at the head and the target equals the source.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "replay/lane.h"
#include "replay/worker.h"
#include "tests/lib/poll.h"
#include "tests/lib/tree_compare.h"
#include "tests/lib/watch_harness.h"

namespace ferry::testing {

class ReplayHarness {
 public:
  ReplayHarness() { EXPECT_TRUE(worker_.Start().ok()); }
  ~ReplayHarness() {
    worker_.Stop();  // lanes must not run once they are gone
  }

  WatchHarness& watch() { return watch_; }
  Journal& journal() { return watch_.journal(); }
  std::string Scratch(const std::string& name) { return watch_.Outside(name); }
  // A new empty directory outside the source, for a local target.
  std::string TargetDir(const std::string& name) {
    std::string dir = Scratch(name);
    std::filesystem::create_directories(dir);
    return dir;
  }

  // Adds a lane to `settings.url` (source and destination filled in).
  Lane& AddLane(TargetSettings settings, int partial_attempts = 2, int parallel = 1) {
    settings.source = watch_.src();
    LaneOptions o{.target = std::move(settings), .destination = watch_.dest()};
    o.retry_min_ns = 100'000'000;  // tests should not wait minutes for a retry
    o.retry_max_ns = 1'000'000'000;
    o.idle_poll_ns = 50'000'000;
    o.partial_attempts = partial_attempts;
    o.parallel = parallel;
    lanes_.push_back(std::make_unique<Lane>(std::move(o), &journal(), &worker_));
    Lane* lane = lanes_.back().get();
    worker_.Post([lane] { lane->Start(); });
    return *lane;
  }

  static TargetSettings Local(const std::string& name, const std::string& dir) {
    return TargetSettings{
        .name = name, .url = *ParseTargetUrl(dir), .timeout_s = 30, .contimeout_s = 10};
  }

  // Pumps until every lane's cursor is at the head and each `dir` equals the
  // source, or `seconds` pass.
  ::testing::AssertionResult Converge(const std::vector<std::string>& dirs, int seconds = 60) {
    std::string diff;
    const bool converged = PollUntil(
        [&] {
          watch_.Step();  // waits for records itself
          for (auto& lane : lanes_) lane->Notify();
          if (!AllCursorsAtHead()) return false;
          for (const std::string& d : dirs) {
            diff = DiffTrees(watch_.src(), d);
            if (!diff.empty()) return false;
          }
          return true;
        },
        std::chrono::seconds(seconds), std::chrono::milliseconds(0));
    if (converged) return ::testing::AssertionSuccess();
    std::string states;
    for (auto& lane : lanes_) {
      auto c = journal().GetCursor(lane->name());
      states += lane->name() + ": " + std::string(StateName(lane->status().state)) +
                " cursor " + (c && c->has_value() ? std::to_string((*c)->seq) : "none") +
                " error '" + lane->status().last_error + "'; ";
    }
    return ::testing::AssertionFailure() << "not converged: head " << journal().LastSeq() << "; "
                                         << states << "first difference: " << diff;
  }

  bool AllCursorsAtHead() {
    for (auto& lane : lanes_) {
      auto c = journal().GetCursor(lane->name());
      if (!c || !c->has_value() || (*c)->seq < journal().LastSeq()) return false;
    }
    return true;
  }

 private:
  WatchHarness watch_;
  UringWorker worker_;
  std::vector<std::unique_ptr<Lane>> lanes_;
};

}  // namespace ferry::testing
