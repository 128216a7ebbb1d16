// FakeClock: time that moves only when a test says so.
#pragma once

#include <atomic>

#include "base/clock.h"

namespace ferry::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_ns = 1'700'000'000'000'000'000) : now_(start_ns) {}
  int64_t WallNanos() override { return now_.load(); }
  int64_t MonotonicNanos() override { return now_.load(); }
  void Advance(int64_t ns) { now_.fetch_add(ns); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace ferry::testing
