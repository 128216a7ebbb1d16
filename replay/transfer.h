// Turning a plan into the child processes that carry it out: rsync argv
// vectors (never a shell string) with their NUL-separated file lists, or the
// batch records a command target reads. Pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "replay/plan.h"
#include "settings/transport.h"

namespace ferry {

struct Transfer {
  enum class Kind { kCopyMove, kDelete, kTree, kContent, kMetadata, kFullSync, kCommand };
  Kind kind;
  std::vector<std::string> argv;
  std::vector<std::string> paths;  // what the run carries, for bisection and dead letters
  std::string input;               // written to the child's stdin
};

std::string_view TransferKindName(Transfer::Kind kind);

// Remote targets fill at most this many renamed directories of a batch from
// their old copy (BuildCopyMove); the others are sent as trees.
inline constexpr int kMaxCopyMovesPerBatch = 2;
inline constexpr size_t kMaxRulesPerDirectory = 64;

// The runs that deliver `plan` to the target, in the order they must run:
// copy-moves (remote targets), deletes, recursive trees, content, metadata. Every listed
// path is prefixed with "./" (rsync skips --files-from entries starting
// with '#' or ';' as comments, even with --from0).
//
// Without --delete-missing-args (target.features), deletes and trees are one
// run of filter rules (FilterRules) with --recursive --delete: the parents of
// each listed path are included as directories, the path and all below it
// are included, everything else is excluded, and so protected from the
// delete. The path is then sent if the source has it, and removed otherwise.
//
// Tree sends (and copy-moves) walk a directory themselves, so they carry the
// destination's exclude patterns (target.tree_excludes): an excluded
// name is not sent, and the target's own copy of one is kept (rsync protects
// excluded names from --delete). Deletes never do: a deleted directory goes
// whole, so they ride on a tree send only when there are no excludes.
//
// `worth_a_copy_move` is asked, in plan order, about the renamed directories
// that could get a copy-move (remote target, excludes sayable there), until
// kMaxCopyMovesPerBatch said yes; the lane asks the source how much each
// holds (source_size.h). The default says yes to every one.
using CopyMoveFilter = std::function<bool(const PlannedMove&)>;
std::vector<Transfer> BuildTransfers(const Plan& plan, const TargetSettings& target,
                                     const CopyMoveFilter& worth_a_copy_move = {});
// The same runs as waves of at most `parallel` concurrent runs: each run's
// paths are split by a hash of the path into `parallel` shards before any
// argv is built, and each shard is one run of the wave. Copy-moves, full
// syncs and command targets are never split. A wave ends before the next.
std::vector<std::vector<Transfer>> BuildWaves(const Plan& plan, const TargetSettings& target,
                                              int parallel,
                                              const CopyMoveFilter& worth_a_copy_move = {});
// ssh and rsync daemon targets: a renamed directory is first made on the
// receiver from hard links to the old one (--link-dest; a file whose
// attributes differ is copied from it there), so its data is not sent
// again. The run is a whole tree send of the new path (--recursive
// --delete, the destination's excludes rewritten for its root by
// ExcludesUnder): once it is delivered, the batch's tree send leaves that
// path out (WithoutTrees). The delete of the old path follows as usual;
// until then the two names share their files, which the receiver never
// writes in place (rsync writes a new file and renames it over the old).
// `excludes` is ExcludesUnder(target.tree_excludes, move.to).
Transfer BuildCopyMove(const PlannedMove& move, const TargetSettings& target,
                       const std::vector<std::string>& excludes);
// The destination's exclude patterns (ferry's rsync-style ones,
// journal/filter.h) rewritten for a transfer rooted at `dir` instead of
// the source's root, or nullopt when one of them cannot be said exactly
// there (an anchored pattern with a wildcard in a component that `dir`
// takes up, or an unanchored one spanning directories): such a rename is
// then sent as a tree. A pattern that can match nothing under `dir` is
// left out.
std::optional<std::vector<std::string>> ExcludesUnder(const std::vector<std::string>& excludes,
                                                      std::string_view dir);
// `run` (a tree send) without the paths in `delivered` (copy-moves that were
// delivered), rebuilt; nullopt when nothing is left of it.
std::optional<Transfer> WithoutTrees(const Transfer& run, const std::vector<std::string>& delivered,
                                     const TargetSettings& target);
// One run of `kind` for `paths` (bisection re-runs halves of a failed run).
Transfer BuildTransfer(Transfer::Kind kind, std::vector<std::string> paths,
                       const TargetSettings& target);

// The NUL-separated include rules of such a run: "/a/", "/a/b/" for the
// parents, "/a/b/c" and "/a/b/c/***" for the path; a directory with more
// than kMaxRulesPerDirectory listed names gets "/a/b/***" instead. Anchored ("/..."), so a
// name never matches elsewhere; names holding "*", "?" or "[" have those and
// "\\" escaped, so every byte of a name is matched as itself.
std::string FilterRules(const std::vector<std::string>& paths);

// The bytes rsync reports as sent ("Total bytes sent: 1,234" from --stats),
// or 0 when absent.
uint64_t ParseBytesSent(std::string_view rsync_stdout);

// The kind of run that delivers one event alone (a dead letter's retry).
Transfer::Kind KindForEvent(const Event& event);

}  // namespace ferry
