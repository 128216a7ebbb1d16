// "A|B|0x40": the names of a mask's bits, then what is left in hex, for
// logs and test failure messages (inotify and fanotify masks).
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <utility>

namespace ferry {

inline std::string MaskName(uint64_t mask,
                            std::span<const std::pair<uint64_t, const char*>> bits) {
  std::string out;
  for (const auto& [bit, name] : bits) {
    if ((mask & bit) == 0) continue;
    if (!out.empty()) out += '|';
    out += name;
    mask &= ~bit;
  }
  if (mask != 0 || out.empty()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(mask));
    if (!out.empty()) out += '|';
    out += buf;
  }
  return out;
}

}  // namespace ferry
