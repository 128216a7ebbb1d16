// Which kernel interface watches a destination's source (ferry.conf's
// `watcher`, quick mode's --watcher): inotify, one watch per directory; or
// fanotify, one mark for the source's whole filesystem (issue 17). `auto`
// picks fanotify where ferryd can use it, and says why not otherwise
// (watch/tree_watcher.h decides).
#pragma once

#include <string_view>

#include "base/status.h"

namespace ferry {

enum class WatcherBackend { kAuto, kInotify, kFanotify };

// "auto", "inotify" or "fanotify"; InvalidArgument naming the word and the
// allowed ones.
Result<WatcherBackend> ParseWatcherBackend(std::string_view word);
std::string_view WatcherBackendName(WatcherBackend backend);

}  // namespace ferry
