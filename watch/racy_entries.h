// RacyEntries: catalog rows recorded "racy" (reconcile.h, IsRacy), waiting
// for their timestamp tick to pass so that they can be trusted.
//
// The watcher stats a file at its IN_CLOSE_WRITE, within a few milliseconds
// of its mtime: a second write in the same tick, after that stat, would leave
// size, mtime and ctime as recorded, so the start-up reconcile treats such a
// row as changed and sends the file again. Without this every file journaled
// live stayed racy for ever, and every restart re-sent all of them.
//
// Once the tick has passed, Due() hands out the rows to check. A row is
// trustworthy again when all of these hold, checked in this order:
//  1. a new lstat finds it as recorded (else a write came, whose record
//     re-records it; the row is dropped and stays racy meanwhile);
//  2. a regular file is open for writing nowhere (NotOpenForWriting: a
//     write still to come needs no new tick, and its IN_CLOSE_WRITE may be
//     lost to a crash);
//  3. every inotify record made before that lstat has been handled (the
//     caller's check, InotifyReader::CaughtUp), so a same-tick write that
//     was closed before it has re-recorded the row already.
// Then the row is written again with the new stat's time as its seen time,
// and is no longer racy. A row still open for writing is checked again
// later, with backoff. Nothing here writes; the watcher does.
//
// Not thread-safe: the watcher's processing thread only.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "journal/catalog.h"

namespace ferry {

class RacyEntries {
 public:
  // Rows held at most; past it, new racy rows stay racy (sent again at the
  // next start, as before). About 150 bytes a row.
  explicit RacyEntries(size_t max_entries = 1'000'000) : max_entries_(max_entries) {}

  // `path` was cataloged with `state` (recorded at wall time state.seen_ns,
  // monotonic time `now_ns`): remembered if racy, forgotten otherwise.
  void Recorded(const std::string& path, const FileState& state, int64_t now_ns);
  // `path` and everything below it have no row any more (deleted, moved).
  void Forget(const std::string& path);
  // `from` and everything below it now live at `to` (a directory renamed).
  void Rename(const std::string& from, const std::string& to);
  void Clear() {
    entries_.clear();
    queue_.clear();
  }

  struct Check {
    std::string path;
    FileState recorded;
    int64_t backoff_ns = 0;  // 0 until first put back by Later()
  };
  // The rows whose tick has passed by monotonic time `now_ns`, at most
  // `max` of them, taken out: give back the ones to check again with
  // Later() or Again(), drop the others.
  std::vector<Check> Due(int64_t now_ns, size_t max = SIZE_MAX);
  // `check` could not be settled yet (open for writing): checked again after
  // a delay that doubles up to a minute, unless its path was recorded again
  // meanwhile.
  void Later(Check check, int64_t now_ns);
  // The same at monotonic time `due_ns`, its backoff unchanged (records
  // still unread: nothing wrong with the row itself).
  void Again(Check check, int64_t due_ns);

  // When Due() next has something, in monotonic time; INT64_MAX if never.
  int64_t NextDueNs() const;
  size_t size() const { return entries_.size(); }
  uint64_t dropped() const { return dropped_; }  // not held: max_entries reached

 private:
  struct Entry {
    FileState recorded;
    int64_t due_ns = 0;
    int64_t backoff_ns = 0;
  };
  void Hold(const std::string& path, Entry entry);
  // Erases the entry and its queue item, so a wake-up is never for nothing.
  std::map<std::string, Entry>::iterator Erase(std::map<std::string, Entry>::iterator it);

  size_t max_entries_;
  std::map<std::string, Entry> entries_;  // by path: a directory's rows are one range
  // By due time: one item for each entry.
  std::multimap<int64_t, std::string> queue_;
  uint64_t dropped_ = 0;
};

// Whether no process has the regular file `path` open for writing: a read
// lease (fcntl F_SETLEASE F_RDLCK) is granted only then, and dropped at
// once. False also when it cannot tell (the filesystem has no leases, or the
// caller may not take one: a lease needs CAP_LEASE or owning the file); the
// row then stays racy. SIGIO, which a broken lease raises, is ignored in
// the process if nothing else handles it.
bool NotOpenForWriting(const std::string& path);

}  // namespace ferry
