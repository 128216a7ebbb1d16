// ChangeFeed: a backend's kernel side, read on its own thread and handed to
// the Watcher on the processing thread. The inotify feed reads the
// Watcher's own inotify instance; the fanotify feed owns a group with a
// filesystem mark and translates its events to paths (FanotifyChanges).
// Both the daemon (tree_watcher.cc) and the watcher tests drive a Watcher
// through one, the same way.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "watch/kernel_reader.h"
#include "watch/watcher.h"

namespace ferry {

class ChangeFeed {
 public:
  virtual ~ChangeFeed() = default;

  // Makes the kernel source anew (after the feed stopped, or first): the
  // fanotify group and its mark. Called before the watcher's Start() or
  // Rebuild(), so that no change made during their reconcile is missed.
  virtual Status Open() = 0;
  // Whether the reader starts before the watcher's Start() and Rebuild()
  // (fanotify: its queue is unlimited and takes the whole filesystem's
  // events meanwhile) or after them (inotify: the watches come with them).
  virtual bool ReadsDuringStart() const = 0;
  virtual Status StartReader() = 0;
  // Hands `watcher` what was read, waiting up to `timeout_ms` for it, and
  // says how many kernel records that was.
  virtual Result<size_t> Feed(int timeout_ms) = 0;
  // Whether every record made before the call has been handed on
  // (KernelReader::CaughtUp).
  virtual bool CaughtUp() const = 0;
  // Non-ok once the reader stopped by itself.
  virtual Status error() const = 0;
  // Stops the reader and hands the watcher what it had read.
  virtual Status Drain() = 0;
  virtual const char* name() const = 0;
};

// The feed of `watcher`'s backend (WatcherOptions::backend); the watcher
// must outlive it. `options` default per backend when null.
Result<std::unique_ptr<ChangeFeed>> MakeChangeFeed(
    Watcher* watcher, const WatcherOptions& watcher_options,
    const KernelReaderOptions* options = nullptr);

}  // namespace ferry
