// Watcher: one destination's tree, watched and journaled.
//
// It turns what the kernel reports (inotify records, read by an
// InotifyReader on its own thread; or, with the fanotify backend, changes
// whose paths FanotifyChanges resolved: change_record.h) into journal
// events and catalog changes, one Append per batch of records:
//  - a new directory is watched, then listed, and everything found in it is
//    journaled (files created before the watch existed are not missed).
//    With fanotify a directory needs no watch and every entry made in it is
//    reported: only a directory moved in from outside is listed;
//  - IN_MOVED_FROM/IN_MOVED_TO pairs (matched by cookie, not necessarily
//    adjacent) become one move event, also for a directory of any size; an
//    unpaired MOVED_FROM becomes a delete after `move_timeout`, an unpaired
//    MOVED_TO a create of the whole subtree;
//  - a directory that is renamed while a walk lists its parent can vanish
//    before the walk lists it: it is journaled, but not what it holds, and
//    no watch reports what comes into it. The walk reports it (unlisted_),
//    and the record of its rename (or of a parent's) makes the watcher list
//    it again where it went;
//  - IN_Q_OVERFLOW journals a rescan of the whole tree and rebuilds the
//    watches and the catalog; nothing is dropped, nothing restarts;
//  - inotify_add_watch failing with ENOSPC/ENOMEM puts the watcher in the
//    `watch-limit` state with a log line naming fs.inotify.max_user_watches
//    and the number needed. On Retry() (SIGHUP) and every
//    `unwatched_rescan_interval` it retries the watches and compares the
//    unwatched subtrees with the catalog (reconcile.h), journaling and
//    cataloging what changed there in the same writes. The unwatched
//    subtrees follow renames of them or of their parents, and are dropped
//    when deleted or moved out;
//  - a journal that refuses writes (its filesystem full, a failed fsync:
//    Journal::write_status()) puts the watcher in the `journal-error` state
//    with one error log line naming the journal directory and the cause.
//    Records are still handled (watches follow the tree) but their journal
//    batches are dropped; Tick() calls Journal::Recover() every
//    `journal_retry_interval` (Retry() at once), and once it succeeds
//    reconciles the tree with the catalog, which journals every change made
//    meanwhile: the catalog is written in the same atomic write as the
//    events, so it holds exactly what was journaled. Nothing is lost.
// On Start() it reconciles the tree with the catalog (reconcile.h).
// A row cataloged within a timestamp tick of its file's mtime is racy: the
// next start would take it as changed and send the file again. Settle()
// makes such rows trustworthy once their tick has passed (racy_entries.h),
// so that a restart after live writes sends nothing.
//
// Threading: all methods but status() run on one processing thread.
// Everything blocks on disk I/O and on the journal.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <sys/stat.h>

#include "base/clock.h"
#include "base/status.h"
#include "settings/watcher_backend.h"
#include "watch/change_record.h"
#include "watch/file_stat.h"
#include "watch/inotify_parse.h"
#include "watch/pending_catalog.h"
#include "watch/racy_entries.h"
#include "watch/reconcile.h"
#include "settings/event_selection.h"
#include "watch/watch_table.h"
#include "journal/filter.h"
#include "journal/journal.h"
#include "journal/states.h"

namespace ferry {

struct WatcherOptions {
  std::string name;  // the destination's name, for messages
  uint32_t destination = 0;
  std::string root;                      // absolute source directory
  std::shared_ptr<const Filter> filter;  // may be null: nothing excluded
  uint32_t events = kDefaultEvents;
  int64_t move_timeout_ns = 200'000'000;
  int64_t unwatched_rescan_interval_ns = 60'000'000'000;
  int64_t journal_retry_interval_ns = 1'000'000'000;
  // kInotify or kFanotify (tree_watcher.h resolves kAuto): with fanotify the
  // watcher makes no inotify instance and no watches.
  WatcherBackend backend = WatcherBackend::kInotify;
  std::string backend_reason;  // why (ChooseBackend), for status
};

struct WatcherStatus {
  DestinationState state = DestinationState::kStarting;
  size_t watches = 0;
  uint64_t overflows = 0;
  uint64_t unwatched_dirs = 0;  // directories that need a watch and have none
  uint64_t unsettled = 0;       // racy catalog rows still waiting for Settle()
  uint64_t settled = 0;         // rows Settle() rewrote: its catalog writes
  std::string message;          // what is wrong and how to fix it; empty when fine
  std::string backend;          // "inotify" or "fanotify"
  std::string backend_reason;   // why this one (watcher = auto), for status and the log
};

class Watcher {
 public:
  // Makes the inotify instance. The journal and clock must outlive the watcher.
  static Result<std::unique_ptr<Watcher>> Create(WatcherOptions options, Journal* journal,
                                                 Clock* clock = SystemClock::Default());
  ~Watcher();

  int fd() const { return fd_; }  // the inotify instance; -1 with fanotify

  // Watches the whole tree and journals what changed since the catalog was
  // written (a full_sync when the catalog is empty).
  Result<ReconcileStats> Start();
  // Starts over after the records stopped (the reader failed: some may be
  // lost): a new inotify instance, every directory watched again, and the
  // tree compared with the catalog, journaling what changed. fd() changes;
  // the caller reads the new one. Needs no reader running.
  Result<ReconcileStats> Rebuild();
  // Says in status that the records stopped (`why`) until Rebuild() runs.
  void RecordsStopped(std::string why) { SetState(DestinationState::kFailed, std::move(why)); }
  // Journals what `records` say, in one Append: inotify's records, or the
  // fanotify backend's resolved changes.
  Status Process(const std::vector<InotifyRecord>& records);
  Status Process(const std::vector<ChangeRecord>& changes);

  // Expires unpaired moves and runs the watch-limit and journal retries that
  // are due.
  Status Tick();
  // Tries again to watch what the watch limit left unwatched, and to write
  // to a journal that refused writes (SIGHUP).
  Status Retry();
  // Rewrites the racy catalog rows whose tick has passed and that nothing
  // changed since, with a new seen time, so that the next start trusts them.
  // `caught_up` says whether every inotify record made before the call has
  // been processed (InotifyReader::CaughtUp): a write in the same tick after
  // the row's stat left the stat as it was, and only its record tells.
  Status Settle(const std::function<bool()>& caught_up);
  // When Tick() or Settle() next has work, in the clock's monotonic time.
  int64_t NextTickNs() const;

  WatcherStatus status() const;  // thread-safe

 private:
  struct PendingMove {
    std::string path;
    bool is_dir;
    int64_t deadline_ns;
    uint64_t read_in;  // the Process() call that handled its IN_MOVED_FROM
  };
  // The top of a subtree without watches (its parent is watched).
  struct Unwatched {
    std::string dir;
    uint64_t dirs = 1;     // directories in it without a watch, as of the last walk
    bool missing = false;  // not found at the last retry
  };

  Watcher(WatcherOptions options, Journal* journal, Clock* clock, int fd);

  // --- watches (watcher_watches.cc) ---
  // Watches `dir`; on the watch limit records it as unwatched.
  void AddWatch(const std::string& dir);
  void RemoveWatches(const std::string& dir);
  // `dir` and what is below it are gone (deleted, moved out, replaced):
  // forgets the unwatched subtrees there.
  void ForgetUnwatched(const std::string& dir);
  // `from` and everything below it now live at `to`.
  void RenameUnwatched(const std::string& from, const std::string& to);
  bool IsUnwatched(const std::string& dir) const;
  uint64_t UnwatchedDirs() const;
  // A walk found `dir` gone when it came to list it (TreeWalker::on_vanished).
  void Vanished(const std::string& dir);
  // A record's `path` was gone when statted: deleted (its delete follows),
  // or renamed with a parent whose rename is still unread. Its parent is
  // listed again where that rename goes (as for Vanished), or the file
  // would never be cataloged there.
  void Unseen(const std::string& path);
  // Forgets the unlisted directories at or below `dir`; whether there were any.
  bool ForgetUnlisted(const std::string& dir);
  // Watches and lists a new or moved-in directory; journals everything in it.
  // With fanotify only a moved-in directory is listed (`list`): the entries
  // made in a new one are reported.
  void AddTree(const std::string& dir, bool list, AppendBatch* batch);
  Status HandleOverflow();
  // Walks the tree watching each directory before listing it, and compares
  // it with the catalog (journaling the differences if `journal_events`).
  // Forgets the unwatched subtrees first: the walk finds them again.
  Result<ReconcileStats> WatchAndReconcile(bool journal_events);
  // The reconcile both use: the whole tree, or only `subtrees`, each
  // directory watched before it is listed.
  Result<ReconcileStats> ReconcileWatching(bool journal_events,
                                           const std::vector<std::string>& subtrees);
  // Tries to watch the unwatched subtrees (when due, or `force`) and
  // journals and catalogs what changed in them.
  Status RetryUnwatched(bool force);
  // --- the journal refusing writes (watcher.cc) ---
  // Whether `s`, from a journal write, is a storage error (the journal
  // refusing writes); then enters the journal-error state (once).
  bool JournalRefused(const Status& s);
  void EnterJournalError(const Status& refused);
  std::string JournalErrorMessage(const Status& refused) const;
  // Tries Journal::Recover() when due (or `force`), then reconciles.
  Status RecoverJournal(bool force);
  // Sets the watching or watch-limit state from what is unwatched, and
  // logs (the watch limit only if `log_limit`).
  void ReportUnwatched(bool log_limit = true);
  void SetState(DestinationState state, std::string message);

  // --- records (watcher.cc) ---
  template <typename Record>
  Status ProcessRecords(const std::vector<Record>& records);
  // An inotify record: its watch and name resolved to a path, then HandleChange.
  void Handle(const InotifyRecord& r, AppendBatch* batch);
  void Handle(const ChangeRecord& c, AppendBatch* batch) {
    HandleChange(c.mask, c.cookie, c.path, batch);
  }
  // What happened to `path`, in inotify's bits (change_record.h).
  void HandleChange(uint32_t mask, uint32_t cookie, const std::string& path, AppendBatch* batch);
  void HandleMovedTo(uint32_t cookie, const std::string& path, bool is_dir, AppendBatch* batch);
  bool Fanotify() const { return options_.backend == WatcherBackend::kFanotify; }
  void HandleCreate(const std::string& path, bool is_dir, bool moved_in, AppendBatch* batch);
  void Gone(const std::string& path, bool is_dir, AppendBatch* batch);
  // A moved-from still waiting for its pair at `path` goes out as a delete
  // before anything else happens to that path.
  void SettlePendingAt(const std::string& path, AppendBatch* batch);
  void AddEvent(AppendBatch* batch, EventKind kind, const std::string& path, bool is_dir,
                std::string old_path = {});
  // lstat(2) of `path` (relative), at most once per Process() call: every
  // record of the call was made before its first stat, so a second stat
  // could tell nothing newer that a later record would not tell again (a
  // new file's IN_CREATE and IN_CLOSE_WRITE come together). nullptr: gone.
  struct StatOnce {
    bool found;
    struct stat st;
    int64_t seen_ns;  // wall time of the lstat
    FileState state() const { return ToFileState(st, seen_ns); }
  };
  const StatOnce* Lstat(const std::string& path);
  void PutState(AppendBatch* batch, const std::string& path, const FileState& state);
  // The status's watches and unsettled rows, after a Process() or Settle().
  void PublishCounts();
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
  std::vector<Unwatched> unwatched_;         // subtrees without watches
  std::vector<std::string> unlisted_;        // journaled directories a walk could not list
  uint64_t processes_ = 0;                   // Process() calls so far
  PendingCatalog pending_catalog_;           // what the batch being built does to the catalog
  std::unordered_map<std::string, StatOnce> stats_;  // this Process() call's lstats
  RacyEntries racy_;                         // racy rows, waiting for Settle()
  Status deferred_;                          // a commit error met inside a record
  int64_t next_unwatched_rescan_ns_ = 0;
  bool overflowed_ = false;
  bool journal_failed_ = false;        // batches are dropped; a reconcile is owed
  bool journal_error_logged_ = false;  // this outage was logged (until it ends)
  int64_t journal_failed_since_ns_ = 0;
  int64_t next_journal_retry_ns_ = 0;

  mutable std::mutex status_mu_;
  WatcherStatus status_;
};

}  // namespace ferry
