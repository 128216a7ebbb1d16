#include "settings/watcher_backend.h"

#include <string>

namespace ferry {

Result<WatcherBackend> ParseWatcherBackend(std::string_view word) {
  for (WatcherBackend b : {WatcherBackend::kAuto, WatcherBackend::kInotify,
                           WatcherBackend::kFanotify}) {
    if (WatcherBackendName(b) == word) return b;
  }
  return Status::InvalidArgument("unknown watcher '" + std::string(word) +
                                 "': use auto, inotify or fanotify");
}

std::string_view WatcherBackendName(WatcherBackend backend) {
  switch (backend) {
    case WatcherBackend::kAuto:
      return "auto";
    case WatcherBackend::kInotify:
      return "inotify";
    case WatcherBackend::kFanotify:
      return "fanotify";
  }
  return "auto";
}

}  // namespace ferry
