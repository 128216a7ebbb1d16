// Clock: the one way ferry code reads time, passed to constructors so tests
// can substitute a FakeClock (tests/lib/fake_clock.h).
//
// Thread-safe: every method may be called from any thread.
#pragma once

#include <cstdint>

namespace ferry {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, nanoseconds since the Unix epoch (CLOCK_REALTIME). May jump.
  virtual int64_t WallNanos() = 0;
  // Monotonic time in nanoseconds (CLOCK_MONOTONIC), for intervals and deadlines.
  virtual int64_t MonotonicNanos() = 0;
};

// The real clocks. SystemClock::Default() lives for the whole process.
class SystemClock final : public Clock {
 public:
  static SystemClock* Default();
  int64_t WallNanos() override;
  int64_t MonotonicNanos() override;
};

}  // namespace ferry
