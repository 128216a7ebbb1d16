// TreeWatcher: the watch stage of one destination, as the daemon sees it:
// it journals what changes below the source (events and catalog rows) and
// reports its state. How the kernel tells it (inotify or fanotify: a
// ChangeFeed, change_feed.h) stays behind this interface, as behind
// watchman's Watcher, and nothing in daemon/ knows which.
//
// The daemon's watch thread calls Start() once, then Turn() in a loop. When
// Turn() fails or FeedError() is set, the feed of kernel reports has
// stopped and some reports may be lost: the daemon calls Rebuild() (with
// its own backoff between tries) until it works. Stop() ends the feed and
// journals what was read. Everything but status() and RequestRetry() runs
// on that one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "journal/journal.h"
#include "watch/reconcile.h"
#include "watch/watcher.h"

namespace ferry {

class TreeWatcher {
 public:
  virtual ~TreeWatcher() = default;

  // Watches the whole tree, journals what changed since the catalog was
  // written (a full sync when it is empty), and starts the feed.
  virtual Result<ReconcileStats> Start() = 0;
  // Journals what the kernel reported (waiting up to about 100 ms for it),
  // runs the retries and the racy-row settling that are due. Whether it
  // journaled anything comes from the journal's head; errors are the
  // journal's or the backend's own and are logged by the caller.
  virtual Status Turn() = 0;
  // Non-ok once the feed has stopped by itself (its thread failed).
  virtual Status FeedError() const = 0;
  // Says in status that the feed stopped (`why`) until Rebuild() works.
  virtual void FeedStopped(std::string why) = 0;
  // Starts over after the feed stopped: what was read is journaled, every
  // directory is watched again and the tree is compared with the catalog,
  // journaling what changed, then a new feed starts.
  virtual Result<ReconcileStats> Rebuild() = 0;
  // Ends the feed and journals what it had read; the next start's
  // reconcile finds the rest.
  virtual Status Stop() = 0;
  // Any thread: at the next Turn(), try again what the watch limit left
  // unwatched and a journal that refused writes (SIGHUP).
  virtual void RequestRetry() = 0;
  virtual WatcherStatus status() const = 0;  // any thread
};

// Which backend watches a source, and why (for status and the start-up
// log). `watcher = auto` picks fanotify when ferryd can use it
// (FanotifyUsable), else inotify; `watcher = fanotify` that cannot work is
// an error naming the reason.
struct BackendChoice {
  WatcherBackend backend;
  std::string why;
};
Result<BackendChoice> ChooseBackend(WatcherBackend asked, const std::string& source);

// A Watcher and the feed of its backend (options.backend: inotify or
// fanotify, already chosen).
Result<std::unique_ptr<TreeWatcher>> CreateTreeWatcher(WatcherOptions options, Journal* journal,
                                                       Clock* clock = SystemClock::Default());

}  // namespace ferry
