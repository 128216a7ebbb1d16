// Waiting in tests: never a bare sleep, always a condition polled until a
// deadline. Every wait for another process, thread or the kernel goes
// through PollUntil.
#pragma once

#include <chrono>
#include <thread>

namespace ferry::testing {

// Calls `done` until it returns true, or until `timeout` has passed (then
// false). Sleeps `every` between calls; 0 for a `done` that blocks by itself
// (a harness step that waits for records).
template <typename F>
bool PollUntil(F&& done, std::chrono::milliseconds timeout,
               std::chrono::milliseconds every = std::chrono::milliseconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    if (every.count() > 0) std::this_thread::sleep_for(every);
  }
  return true;
}

// The same in whole seconds, as most tests say it.
template <typename F>
bool Eventually(F&& done, int seconds = 30) {
  return PollUntil(done, std::chrono::seconds(seconds));
}

}  // namespace ferry::testing
