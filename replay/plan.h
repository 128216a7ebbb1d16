// Planning a batch: which paths a target must receive, and how, after a run
// of journal events. A pure function; tests/unit/replay/plan_test.cc covers it.
//
// Per path the last state wins: create+modify+delete is one delete, fifty
// modifies are one send. A new, moved-in or rescanned directory is sent
// recursively (mirrored with --delete) and absorbs every event below it,
// before or after it in the batch: the replay sends the tree as it is then.
// A delete or move of a directory absorbs what came before it below that
// directory. A full_sync absorbs everything.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "journal/event.h"

namespace ferry {

struct PlannedMove {
  std::string from;
  std::string to;
  bool is_dir = false;
  friend bool operator==(const PlannedMove&, const PlannedMove&) = default;
};

struct Plan {
  bool full_sync = false;             // mirror the whole tree; the lists below are empty
  std::vector<std::string> deletes;   // gone from the source: remove (recursively) on the target
  std::vector<std::string> trees;     // send recursively, deleting what the source lacks
  std::vector<std::string> content;   // files whose content changed: send even when size
                                      // and mtime look the same
  std::vector<std::string> metadata;  // attributes only, or directories without recursion
  // Renames the target can apply to data it already has, before the sends
  // (an optimization: `to` is in `trees` or `content` and `from` in
  // `deletes` either way, so skipping a move never loses anything). Only
  // moves whose `from` had no earlier event in the batch, so the target's
  // copy of it is current.
  std::vector<PlannedMove> moves;
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  size_t events = 0;

  bool empty() const {
    return !full_sync && deletes.empty() && trees.empty() && content.empty() && metadata.empty();
  }
  // Every path the plan names (for bisection and dead letters).
  std::vector<std::string> Paths() const;
};

// `events` in seq order, all of one destination.
Plan PlanBatch(std::span<const Event> events);

}  // namespace ferry
