#include "base/clock.h"

#include <ctime>

namespace ferry {
namespace {

int64_t ReadClock(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

SystemClock* SystemClock::Default() {
  static SystemClock clock;
  return &clock;
}

int64_t SystemClock::WallNanos() { return ReadClock(CLOCK_REALTIME); }
int64_t SystemClock::MonotonicNanos() { return ReadClock(CLOCK_MONOTONIC); }

}  // namespace ferry
