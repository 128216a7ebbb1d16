// Parsing the bytes read(2) returns from a fanotify fd made with
// FAN_REPORT_DFID_NAME (the fanotify backend, issue 17): a pure function,
// tested with hand-built buffers (tests/unit/watch/fanotify_parse_test.cc)
// and with a real filesystem mark (tests/integration/fanotify_test.cc).
//
// With FAN_REPORT_DFID_NAME each event names its entry by the parent
// directory's file handle and the entry's name; an event on a directory
// itself (its attrib, say) names the directory's own handle and ".".
// FAN_RENAME carries both ends: the old parent and name, the new parent and
// name.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace ferry {

// A directory entry as fanotify names it: `dir` is the parent's key, its
// fsid (kDirKeyFsidBytes) then its struct file_handle (handle_bytes,
// handle_type, the bytes), comparable, so it can key a cache of resolved
// paths (DirectoryPaths); `name` is raw bytes.
inline constexpr size_t kDirKeyFsidBytes = 8;  // __kernel_fsid_t
struct FanotifyEntry {
  std::string dir;
  std::string name;
  friend bool operator==(const FanotifyEntry&, const FanotifyEntry&) = default;
};

struct FanotifyRecord {
  uint64_t mask = 0;  // FAN_CREATE, FAN_ONDIR, FAN_Q_OVERFLOW, ...
  int32_t pid = 0;
  FanotifyEntry entry;  // the entry; for FAN_RENAME its new name
  FanotifyEntry from;   // FAN_RENAME only: the old name
  friend bool operator==(const FanotifyRecord&, const FanotifyRecord&) = default;
};

// Appends every whole event in `buffer` to `out` and returns the bytes it
// consumed. The kernel only returns whole events, so a truncated event, an
// info record running past its event, or a version other than the one this
// was built for means the buffer is damaged: Corruption, naming the offset,
// with the events before the damage already in `out`. Info records of
// types this does not use (a pidfd, say) are skipped.
Result<size_t> ParseFanotifyBuffer(std::span<const uint8_t> buffer,
                                   std::vector<FanotifyRecord>* out);

// "FAN_CREATE|FAN_ONDIR", for logs and test failure messages.
std::string FanotifyMaskName(uint64_t mask);

}  // namespace ferry
