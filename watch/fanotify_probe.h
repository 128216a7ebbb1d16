// Whether the fanotify backend (issue 17) can watch a source: root
// (CAP_SYS_ADMIN), a kernel with FAN_REPORT_DFID_NAME (5.9) and FAN_RENAME
// (5.17), and a filesystem that gives file handles and a non-zero fsid. It
// makes a group and a filesystem mark, and closes them.
#pragma once

#include <sys/fanotify.h>

#include <cstdint>
#include <string>

#include "base/status.h"

namespace ferry {

// The group the backend makes (fanotify_init) and what its filesystem mark
// asks for (fanotify_mark with FAN_MARK_FILESYSTEM).
inline constexpr unsigned kFanotifyGroupFlags =
    FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME | FAN_CLOEXEC | FAN_NONBLOCK;
inline constexpr uint64_t kFanotifyMarkMask =
    FAN_CREATE | FAN_DELETE | FAN_RENAME | FAN_CLOSE_WRITE | FAN_ATTRIB | FAN_ONDIR;

// Ok, or why not, in one line that names the cause and the fix (for the
// `watcher = auto` choice's log line and the refusal of `watcher =
// fanotify`).
Status FanotifyUsable(const std::string& source);

}  // namespace ferry
