// The fanotify group of the fanotify backend (issue 17), and whether it can
// watch a source: root (CAP_SYS_ADMIN), a kernel with FAN_REPORT_DFID_NAME
// (5.9) and FAN_RENAME (5.17), a filesystem that gives file handles and a
// non-zero fsid, and no other filesystem mounted below the source (a
// filesystem mark sees only its own filesystem; inotify's watches see what
// is mounted below).
#pragma once

#include <sys/fanotify.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace ferry {

// The group the backend makes (fanotify_init) and what its filesystem mark
// asks for (fanotify_mark with FAN_MARK_FILESYSTEM). The queue is unlimited:
// the reader bounds it (kernel_reader.h says why).
inline constexpr unsigned kFanotifyGroupFlags = FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME |
                                                FAN_CLOEXEC | FAN_NONBLOCK | FAN_UNLIMITED_QUEUE;
inline constexpr uint64_t kFanotifyMarkMask =
    FAN_CREATE | FAN_DELETE | FAN_RENAME | FAN_CLOSE_WRITE | FAN_ATTRIB | FAN_ONDIR;

// A group with a mark on the filesystem of `source` (FAN_MODIFY too if
// `modify`): the fd, or why not in one line that names the cause and the
// fix (for the `watcher = auto` choice's log line and the refusal of
// `watcher = fanotify`).
Result<int> OpenFanotifyGroup(const std::string& source, bool modify = false);

// Ok if OpenFanotifyGroup would work and nothing is mounted below `source`.
Status FanotifyUsable(const std::string& source);

// The mount points strictly below `source` (from /proc/self/mountinfo).
std::vector<std::string> MountsBelow(const std::string& source);

}  // namespace ferry
