#include "base/units.h"

#include <array>
#include <charconv>
#include <cstdio>
#include <utility>

namespace ferry {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr std::array<std::pair<std::string_view, int64_t>, 5> kDurationUnits{
    {{"d", 86'400'000 * kMs},
     {"h", 3'600'000 * kMs},
     {"m", 60'000 * kMs},
     {"s", 1000 * kMs},
     {"ms", kMs}}};
constexpr std::array<std::pair<std::string_view, uint64_t>, 5> kSizeUnits{
    {{"T", 1ull << 40}, {"G", 1ull << 30}, {"M", 1ull << 20}, {"K", 1ull << 10}, {"", 1}}};

// Splits "20ms" into 20 and "ms"; false without leading digits.
bool SplitNumber(std::string_view text, uint64_t* number, std::string_view* unit) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *number);
  if (ec != std::errc() || end == text.data()) return false;
  *unit = text.substr(static_cast<size_t>(end - text.data()));
  return true;
}

}  // namespace

Result<int64_t> ParseDuration(std::string_view text) {
  const Status bad = Status::InvalidArgument("'" + std::string(text) +
                                             "' is not a duration; write a number and a unit: "
                                             "20ms, 100s, 5m, 10h, 7d (or 0)");
  uint64_t n = 0;
  std::string_view unit;
  if (!SplitNumber(text, &n, &unit)) return bad;
  if (unit.empty()) return n == 0 ? Result<int64_t>(0) : Result<int64_t>(bad);
  for (const auto& [name, ns] : kDurationUnits) {
    if (unit == name) {
      if (n > static_cast<uint64_t>(INT64_MAX / ns)) return bad;
      return static_cast<int64_t>(n) * ns;
    }
  }
  return bad;
}

Result<uint64_t> ParseSize(std::string_view text) {
  const Status bad = Status::InvalidArgument("'" + std::string(text) +
                                             "' is not a size; write a number with an optional "
                                             "unit K, M, G or T: 512M, 8G");
  uint64_t n = 0;
  std::string_view unit;
  if (!SplitNumber(text, &n, &unit)) return bad;
  if (unit.size() == 2 && (unit[1] == 'B' || unit[1] == 'b')) unit.remove_suffix(1);  // "8GB"
  for (const auto& [name, bytes] : kSizeUnits) {
    if (unit == name) {
      if (n > UINT64_MAX / bytes) return bad;
      return n * bytes;
    }
  }
  return bad;
}

std::string FormatDuration(int64_t ns) {
  if (ns == 0) return "0";
  for (const auto& [name, unit] : kDurationUnits) {
    if (ns % unit == 0) return std::to_string(ns / unit) + std::string(name);
  }
  return std::to_string(ns) + "ns";
}

std::string FormatSize(uint64_t bytes) {
  for (const auto& [name, unit] : kSizeUnits) {
    if (bytes != 0 && bytes % unit == 0) return std::to_string(bytes / unit) + std::string(name);
  }
  return std::to_string(bytes);
}

std::string HumanSize(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

}  // namespace ferry
