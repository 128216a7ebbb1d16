// Reconcile: what changed in a destination's tree while ferry was not
// watching it, found by comparing a walk of the tree with the catalog.
//
// Both are in the same order (tree_walk.h, format.h), so one merged pass
// finds every difference with one directory listing per depth in memory:
//   in the tree only      -> create (a new directory: one event for its top;
//                            everything below is in the catalog too)
//   in the catalog only   -> delete (a directory: one event for all of it)
//   type changed          -> delete + create
//   content changed       -> modify (inode, size or mtime differ, ctime differs
//                            with the mode unchanged, or the catalog entry is
//                            racy: recorded too close to the file's mtime)
//   mode changed          -> attrib (explains a changed ctime)
// With an empty catalog it journals one full_sync event instead (the first
// sync of a destination) and fills the catalog.
// With `subtrees` it compares only what is below those directories, in the
// same single pass over the catalog (the watcher's unwatched subtrees).
//
// Blocks on disk I/O; call it from the watcher's processing thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "settings/event_selection.h"
#include "journal/filter.h"
#include "journal/journal.h"

namespace ferry {

// A catalog entry recorded less than one timestamp tick after the file's
// mtime is "racy" (git's word): a second write within that tick, after the
// stat, would leave size and times unchanged. Ticks are the kernel's coarse
// clock on ext4/xfs/btrfs (at most 10 ms); a whole-second mtime suggests a
// filesystem with 1 or 2 s timestamps.
inline constexpr int64_t kRacyWindowNs = 20'000'000;
inline constexpr int64_t kRacyWindowCoarseNs = 2'000'000'000;
bool IsRacy(const FileState& recorded);

struct ReconcileOptions {
  uint32_t destination = 0;
  std::string root;  // absolute source directory
  std::shared_ptr<const Filter> filter;
  Clock* clock = SystemClock::Default();
  // False: only bring the catalog up to date, journal no event (after an
  // overflow, whose rescan event already covers the whole tree).
  bool journal_events = true;
  // The kinds the destination journals (watch_options.h): new files count as
  // create when any of create, close_write, modify is selected.
  uint32_t events = ~0u;
  size_t batch_size = 10'000;  // changes per journal write
  // Passed to the TreeWalker: watch each directory before it is listed.
  std::function<void(const std::string& dir)> before_listing;
  std::function<void(const std::string& dir, const Status& why)> on_error;
  std::function<void(const std::string& dir)> on_vanished;
  // Told of each catalog row written (the watcher's racy rows, racy_entries.h).
  std::function<void(const std::string& path, const FileState& state)> on_put;
  // Empty: the whole tree. Otherwise only what is below these directories
  // (any order; one below another counts once): no full_sync, and neither
  // the root's entry nor their own is touched (their parents' watches
  // report those). One that is no directory now (gone, or renamed, with its
  // record not handled yet) is skipped: its catalog entries are kept.
  std::vector<std::string> subtrees;
};

struct ReconcileStats {
  uint64_t entries = 0;  // walked
  uint64_t created = 0;
  uint64_t modified = 0;
  uint64_t attrib = 0;
  uint64_t deleted = 0;
  uint64_t events = 0;  // journaled
  bool first_sync = false;
};

Result<ReconcileStats> Reconcile(Journal* journal, const ReconcileOptions& options);

// Orders paths as the catalog does: byte order with '/' below every byte.
int ComparePaths(std::string_view a, std::string_view b);

}  // namespace ferry
