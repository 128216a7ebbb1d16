// FanotifyChanges: what a filesystem mark's events (fanotify_parse.h) mean
// below one destination's source, as ChangeRecords for the Watcher
// (change_record.h): the fanotify backend's translation (issue 17).
//
// - An event names its entry by the parent directory's key and the entry's
//   name. The parent's path comes from DirectoryPaths (a bounded cache, the
//   kernel on a miss). A parent outside the source, gone, or excluded (it or
//   one of its parents matches the filter as a directory) drops the event.
//   Such keys are remembered in a bounded set, so that an event elsewhere
//   on a busy filesystem costs one hash lookup, not a kernel call. The set
//   is forgotten whenever a directory comes into the source (a rename from
//   outside, or from an excluded name), because the keys of what it holds
//   turn from elsewhere into ours.
// - The kernel merges events on one entry that follow each other, and the
//   merged mask loses their order. Bits are handed on as create,
//   close_write (or modify), attrib, delete; a delete merged with others is
//   handed on first when the entry exists now (deleted, then made again).
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

#include <cstdint>
#include <memory>
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

  uint64_t dropped() const { return dropped_; }  // events elsewhere, so far
  const DirectoryPaths& paths() const { return paths_; }

 private:
  FanotifyChanges(DirectoryPaths paths, std::string abs_root, std::shared_ptr<const Filter> filter,
                  size_t capacity, std::optional<std::string> root_parent_key, std::string root_name)
      : paths_(std::move(paths)),
        root_(std::move(abs_root)),
        filter_(std::move(filter)),
        capacity_(capacity),
        root_parent_key_(std::move(root_parent_key)),
        root_name_(std::move(root_name)) {}

  // The path of the directory `key` names, or nullopt if its events are
  // not ours.
  std::optional<std::string> DirPath(const std::string& key);
  // The path of `entry`, or nullopt; `*self` says the entry is its own
  // directory (".").
  std::optional<std::string> EntryPath(const FanotifyEntry& entry, bool* self);
  bool Excluded(const std::string& dir) const;
  bool IsSource(const FanotifyEntry& entry) const {
    return root_parent_key_ && entry.dir == *root_parent_key_ && entry.name == root_name_;
  }
  void Rename(const FanotifyRecord& r, uint32_t dir_bit, std::vector<ChangeRecord>* out);
  void Entry(const FanotifyRecord& r, uint32_t dir_bit, std::vector<ChangeRecord>* out);

  DirectoryPaths paths_;
  std::string root_;
  std::shared_ptr<const Filter> filter_;
  size_t capacity_;
  std::unordered_set<std::string> elsewhere_;  // keys whose events are not ours
  std::optional<std::string> root_parent_key_;  // the source's parent, to see it removed
  std::string root_name_;
  uint32_t next_cookie_ = 1;
  uint64_t dropped_ = 0;
};

}  // namespace ferry
