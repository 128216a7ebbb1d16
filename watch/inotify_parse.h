// Parsing the bytes read(2) returns from an inotify fd: a pure function,
// tested with hand-built buffers (tests/unit/watch/inotify_parse_test.cc).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace ferry {

// One struct inotify_event, with its name as raw bytes (NUL padding removed).
struct InotifyRecord {
  int wd = 0;
  uint32_t mask = 0;
  uint32_t cookie = 0;
  std::string name;  // empty for events about the watched directory itself
  friend bool operator==(const InotifyRecord&, const InotifyRecord&) = default;
};

// Appends every whole record in `buffer` to `out` and returns how many bytes
// it consumed. The kernel only returns whole records, so leftover bytes or a
// record whose len runs past the end mean the buffer is damaged: Corruption,
// with the records before the damage already in `out`.
Result<size_t> ParseInotifyBuffer(std::span<const uint8_t> buffer, std::vector<InotifyRecord>* out);

// "IN_CREATE|IN_ISDIR", for logs and test failure messages.
std::string InotifyMaskName(uint32_t mask);

}  // namespace ferry
