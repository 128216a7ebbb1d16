// FanotifyChanges: what a filesystem mark's events (fanotify_parse.h) mean
// below one destination's source, as ChangeRecords for the Watcher
// (change_record.h): the fanotify backend's translation (issue 17).
//
// - An event names its entry by the parent directory's key and the entry's
//   name. The parent's path comes from DirectoryPaths (a bounded cache, the
//   kernel on a miss). A parent outside the source, gone, or excluded (it or
//   one of its parents matches the filter as a directory) drops the event.
//   Such keys are remembered in a bounded set (ElsewhereKeys), so that an
//   event elsewhere on a busy filesystem costs one hash lookup, not a kernel
//   call; the reader thread drops those events before they count against
//   its bound, so that a busy neighbour cannot overflow it. The set is
//   forgotten whenever a directory comes into the source (a rename from
//   outside, or from an excluded name), because the keys of what it holds
//   turn from elsewhere into ours; an event the reader dropped meanwhile
//   was read before the move-in was handled, so the listing of what moved
//   in covers it. A lookup that fails for want of descriptors or memory
//   says nothing: it is not remembered, and the tree is rescanned.
// - A parent's path comes from the kernel when the cache misses, and is
//   where the directory is now, maybe past a rename still queued: events
//   named by it come out under its new path before the rename does. When a
//   directory rename finds such directories at its new path, the new path
//   is handed on once more as moved in, so that the Watcher lists it and
//   catalogs what the rename's catalog move would otherwise have dropped.
// - The kernel merges an event into an earlier queued one on the same entry
//   (parent and name), even across other events, a rename included; the
//   merged mask loses their order. Bits are handed on as create,
//   close_write (or modify), attrib, delete; a delete merged with others is
//   handed on first when the entry exists now (deleted, then made again).
//   After a rename whose old name is in the source, that name is looked at:
//   something there again (its events merged into ones before the rename)
//   is handed on as moved in.
// - FAN_RENAME has both ends: in the source, a pair of IN_MOVED_FROM and
//   IN_MOVED_TO with a cookie of this object's own; only the old end in
//   the source (moved out, or to an excluded name), an IN_DELETE; only the
//   new end, an unpaired IN_MOVED_TO (moved in, listed by the Watcher).
//   The cache follows directory renames and deletes in event order.
// - An event on a directory itself (its attrib) names its own key and ".".
// - The source itself deleted or renamed away: IN_DELETE_SELF with path "".
// - FAN_Q_OVERFLOW: IN_Q_OVERFLOW, and nothing cached is trusted any more.
//
// Not thread-safe: the watcher's processing thread only.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/status.h"
#include "journal/filter.h"
#include "watch/change_record.h"
#include "watch/fanotify_parse.h"
#include "watch/fanotify_paths.h"

namespace ferry {

// The directory keys whose events are not a destination's: written by its
// FanotifyChanges, read by its reader thread too. Bounded: past `capacity`
// it starts over (refilled as keys are met again).
class ElsewhereKeys {
 public:
  ElsewhereKeys(size_t capacity, std::optional<std::string> source_parent, std::string source_name)
      : capacity_(capacity),
        source_parent_(std::move(source_parent)),
        source_name_(std::move(source_name)) {}
  bool Contains(const std::string& key) const;
  void Insert(const std::string& key);
  void Clear();
  // The reader thread: removes the records all of whose entries lie in
  // known-elsewhere directories (never an overflow, nor an event on the
  // source's own entry in its parent).
  void DropKnown(std::vector<FanotifyRecord>* records);
  uint64_t dropped() const { return dropped_.load(); }
  bool IsSource(const FanotifyEntry& entry) const {
    return source_parent_ && entry.dir == *source_parent_ && entry.name == source_name_;
  }

 private:
  mutable std::mutex mu_;
  std::unordered_set<std::string> keys_;
  size_t capacity_;
  std::optional<std::string> source_parent_;  // to see the source itself removed
  std::string source_name_;
  std::atomic<uint64_t> dropped_{0};
};

class FanotifyChanges {
 public:
  // `root` is the absolute source; `filter` may be null; `capacity` bounds
  // the cached directories and, as many again, the keys known elsewhere.
  static Result<FanotifyChanges> Open(const std::string& root,
                                      std::shared_ptr<const Filter> filter,
                                      size_t capacity = 100'000);

  // Appends what `records` mean below the source to `out`, in their order.
  void Translate(const std::vector<FanotifyRecord>& records, std::vector<ChangeRecord>* out);
  // Forgets every cached key (a new group: events may have been lost).
  void Clear();

  // Events elsewhere so far, dropped here or by the reader.
  uint64_t dropped() const { return dropped_ + elsewhere_->dropped(); }
  const DirectoryPaths& paths() const { return paths_; }
  // For the reader thread's DropKnown().
  std::shared_ptr<ElsewhereKeys> elsewhere() const { return elsewhere_; }

 private:
  FanotifyChanges(DirectoryPaths paths, std::string abs_root, std::shared_ptr<const Filter> filter,
                  std::shared_ptr<ElsewhereKeys> elsewhere)
      : paths_(std::move(paths)),
        root_(std::move(abs_root)),
        filter_(std::move(filter)),
        elsewhere_(std::move(elsewhere)) {}

  // The path of the directory `key` names, or nullopt if its events are
  // not ours.
  std::optional<std::string> DirPath(const std::string& key);
  // The path of `entry`, or nullopt; `*self` says the entry is its own
  // directory (".").
  std::optional<std::string> EntryPath(const FanotifyEntry& entry, bool* self);
  bool Excluded(const std::string& dir) const;
  bool IsSource(const FanotifyEntry& entry) const { return elsewhere_->IsSource(entry); }
  // `path` (relative) as moved in, if something is there now.
  void MovedInIfThere(const std::string& path, std::vector<ChangeRecord>* out);
  void Rename(const FanotifyRecord& r, uint32_t dir_bit, std::vector<ChangeRecord>* out);
  void Entry(const FanotifyRecord& r, uint32_t dir_bit, std::vector<ChangeRecord>* out);

  DirectoryPaths paths_;
  std::string root_;
  std::shared_ptr<const Filter> filter_;
  std::shared_ptr<ElsewhereKeys> elsewhere_;  // keys whose events are not ours
  uint32_t next_cookie_ = 1;
  uint64_t dropped_ = 0;
  bool unsure_ = false;  // a lookup could not tell: rescan
};

}  // namespace ferry
