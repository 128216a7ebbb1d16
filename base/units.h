// Durations and sizes as operators write them in ferry.conf and on the
// command line: "20ms", "100s", "5m", "10h", "7d"; "512K", "8G".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ferry {

// Nanoseconds. "0" alone means zero; otherwise a number and a unit
// (ms, s, m, h, d). InvalidArgument naming the value and the accepted forms.
Result<int64_t> ParseDuration(std::string_view text);
// Bytes. A number with an optional unit K, M, G, T (powers of 1024).
Result<uint64_t> ParseSize(std::string_view text);
// "20ms", "5m", "7d": the largest unit that divides exactly.
std::string FormatDuration(int64_t ns);
std::string FormatSize(uint64_t bytes);
// "99 B", "1.5 KiB", "8.0 GiB": for people (FormatSize is exact, for configs).
std::string HumanSize(uint64_t bytes);

}  // namespace ferry
