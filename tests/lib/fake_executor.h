// FakeExecutor: an Executor for unit tests of lanes. Children never run: the
// test looks at what was spawned and finishes it with the exit it wants.
// Timers fire when the test advances the FakeClock. Single-threaded.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <vector>

#include "replay/executor.h"
#include "tests/lib/fake_clock.h"

namespace ferry::testing {

class FakeExecutor final : public Executor {
 public:
  struct Spawned {
    SpawnRequest request;
    std::function<void(ChildExit)> done;
  };

  explicit FakeExecutor(FakeClock* clock) : clock_(clock) {}

  void Spawn(SpawnRequest request, std::function<void(ChildExit)> done) override {
    spawned_.push_back({std::move(request), std::move(done)});
  }
  void RunAfter(int64_t delay_ns, std::function<void()> fn) override {
    timers_.emplace(clock_->MonotonicNanos() + delay_ns, std::move(fn));
  }
  void Post(std::function<void()> fn) override { RunAfter(0, std::move(fn)); }
  Clock* clock() override { return clock_; }

  // Runs every timer due now (and those they add that are due too).
  void RunDue() {
    while (!timers_.empty() && timers_.begin()->first <= clock_->MonotonicNanos()) {
      auto fn = std::move(timers_.begin()->second);
      timers_.erase(timers_.begin());
      fn();
    }
  }
  // Moves the clock to the next timer (if any) and runs what is due.
  bool AdvanceToNextTimer() {
    if (timers_.empty()) return false;
    int64_t at = timers_.begin()->first;
    if (at > clock_->MonotonicNanos()) clock_->Advance(at - clock_->MonotonicNanos());
    RunDue();
    return true;
  }
  int64_t NextTimerIn() const {
    return timers_.empty() ? -1 : timers_.begin()->first - clock_->MonotonicNanos();
  }

  bool has_child() const { return !spawned_.empty(); }
  const SpawnRequest& child() const { return spawned_.front().request; }
  // Finishes the oldest running child with exit code `code` (and stderr), then
  // runs what became due.
  SpawnRequest Finish(int code, std::string stderr_tail = {}, std::string stdout_tail = {}) {
    Spawned s = std::move(spawned_.front());
    spawned_.pop_front();
    ChildExit e;
    e.exit_code = code;
    e.stderr_tail = std::move(stderr_tail);
    e.stdout_tail = std::move(stdout_tail);
    s.done(e);
    RunDue();
    return s.request;
  }
  void FinishWith(ChildExit e) {
    Spawned s = std::move(spawned_.front());
    spawned_.pop_front();
    s.done(std::move(e));
    RunDue();
  }

 private:
  FakeClock* clock_;
  std::deque<Spawned> spawned_;
  std::multimap<int64_t, std::function<void()>> timers_;
};

}  // namespace ferry::testing
