// Small helpers shared by the benchmark programs.
#pragma once

#include <chrono>
#include <cstdlib>
#include <cstring>

namespace ferry::bench {

using Clock = std::chrono::steady_clock;

inline double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// The number after `name` among argv[2..], or `fallback`.
inline long Flag(int argc, char** argv, const char* name, long fallback) {
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::atol(argv[i + 1]);
  }
  return fallback;
}

}  // namespace ferry::bench
