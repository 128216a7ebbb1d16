// Watcher: one destination's tree, watched with inotify and journaled.
//
// It turns inotify records (read by an InotifyReader on its own thread) into
// journal events and catalog changes, one Append per batch of records:
//  - a new directory is watched, then listed, and everything found in it is
//    journaled (files created before the watch existed are not missed);
//  - IN_MOVED_FROM/IN_MOVED_TO pairs (matched by cookie, not necessarily
//    adjacent) become one move event, also for a directory of any size; an
//    unpaired MOVED_FROM becomes a delete after `move_timeout`, an unpaired
//    MOVED_TO a create of the whole subtree;
//  - IN_Q_OVERFLOW journals a rescan of the whole tree and rebuilds the
//    watches and the catalog; nothing is dropped, nothing restarts;
//  - inotify_add_watch failing with ENOSPC/ENOMEM puts the watcher in the
//    `watch-limit` state with a log line naming fs.inotify.max_user_watches
//    and the number needed, journals a rescan of every unwatched subtree
//    (again every `unwatched_rescan_interval`), and retries the watches on
//    Retry() (SIGHUP) and on that interval.
// On Start() it reconciles the tree with the catalog (reconcile.h).
//
// Threading: all methods but status() run on one processing thread.
// Everything blocks on disk I/O and on the journal.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "daemon/inotify_parse.h"
#include "daemon/reconcile.h"
#include "daemon/watch_options.h"
#include "daemon/watch_table.h"
#include "journal/filter.h"
#include "journal/journal.h"

namespace ferry {

struct WatcherOptions {
  std::string name;  // the destination's name, for messages
  uint32_t destination = 0;
  std::string root;                      // absolute source directory
  std::shared_ptr<const Filter> filter;  // may be null: nothing excluded
  uint32_t events = kDefaultEvents;
  int64_t move_timeout_ns = 200'000'000;
  int64_t unwatched_rescan_interval_ns = 60'000'000'000;
};

enum class WatchState { kStarting, kWatching, kRescanning, kWatchLimit, kFailed };
std::string_view WatchStateName(WatchState state);  // "watching", "watch-limit", ...

struct WatcherStatus {
  WatchState state = WatchState::kStarting;
  size_t watches = 0;
  uint64_t overflows = 0;
  uint64_t unwatched_dirs = 0;  // directories that need a watch and have none
  std::string message;          // what is wrong and how to fix it; empty when fine
};

class Watcher {
 public:
  // Makes the inotify instance. The journal and clock must outlive the watcher.
  static Result<std::unique_ptr<Watcher>> Create(WatcherOptions options, Journal* journal,
                                                 Clock* clock = SystemClock::Default());
  ~Watcher();

  int fd() const { return fd_; }

  // Watches the whole tree and journals what changed since the catalog was
  // written (a full_sync when the catalog is empty).
  Result<ReconcileStats> Start();
  // Journals what `records` say, in one Append.
  Status Process(const std::vector<InotifyRecord>& records);
  // Expires unpaired moves and runs the watch-limit retries that are due.
  Status Tick();
  // Tries again to watch what the watch limit left unwatched (SIGHUP).
  Status Retry();
  // When Tick() next has work, in the clock's monotonic time.
  int64_t NextTickNs() const;

  WatcherStatus status() const;  // thread-safe

 private:
  struct PendingMove {
    std::string path;
    bool is_dir;
    int64_t deadline_ns;
  };

  Watcher(WatcherOptions options, Journal* journal, Clock* clock, int fd);

  // --- watches (watcher_watches.cc) ---
  // Watches `dir`; on the watch limit records it as unwatched.
  void AddWatch(const std::string& dir);
  void RemoveWatches(const std::string& dir);
  // Watches and lists a new or moved-in directory; journals everything in it.
  void AddTree(const std::string& dir, AppendBatch* batch);
  Status HandleOverflow();
  // Walks the tree watching each directory before listing it, and compares
  // it with the catalog (journaling the differences if `journal_events`).
  Result<ReconcileStats> WatchAndReconcile(bool journal_events);
  Status RetryUnwatched(bool force);
  // Sets the watching or watch-limit state from what is unwatched, and logs.
  void ReportUnwatched();
  void SetState(WatchState state, std::string message);

  // --- records (watcher.cc) ---
  void HandleRecord(const InotifyRecord& r, AppendBatch* batch);
  void HandleMovedTo(const InotifyRecord& r, const std::string& path, bool is_dir,
                     AppendBatch* batch);
  void HandleCreate(const std::string& path, bool is_dir, bool moved_in, AppendBatch* batch);
  void Gone(const std::string& path, bool is_dir, AppendBatch* batch);
  // A moved-from still waiting for its pair at `path` goes out as a delete
  // before anything else happens to that path.
  void SettlePendingAt(const std::string& path, AppendBatch* batch);
  void AddEvent(AppendBatch* batch, EventKind kind, const std::string& path, bool is_dir,
                std::string old_path = {});
  void PutState(AppendBatch* batch, const std::string& path, const FileState& state);
  bool Selected(uint32_t bit) const { return (options_.events & bit) != 0; }
  std::string Abs(const std::string& rel) const;
  Status Commit(AppendBatch* batch);

  WatcherOptions options_;
  Journal* journal_;
  Clock* clock_;
  int fd_;
  uint32_t mask_;
  WatchTable table_;
  std::map<uint32_t, PendingMove> pending_;  // by cookie
  std::vector<std::string> unwatched_;       // tops of subtrees without watches
  uint64_t unwatched_count_ = 0;             // directories without a watch, last walk
  Status deferred_;                          // a commit error met inside a record
  int64_t next_unwatched_rescan_ns_ = 0;
  bool overflowed_ = false;

  mutable std::mutex status_mu_;
  WatcherStatus status_;
};

}  // namespace ferry
