// Turning a plan into the child processes that carry it out: rsync argv
// vectors (never a shell string) with their NUL-separated file lists, or the
// batch records a command target reads. Pure functions.
#pragma once

#include <cstdint>
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
// their old copy (--copy-dest); the others are sent as trees.
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
std::vector<Transfer> BuildTransfers(const Plan& plan, const TargetSettings& target);
// The same runs as waves of at most `parallel` concurrent runs: each run's
// paths are split by a hash of the path into `parallel` shards before any
// argv is built, and each shard is one run of the wave. Copy-moves, full
// syncs and command targets are never split. A wave ends before the next.
std::vector<std::vector<Transfer>> BuildWaves(const Plan& plan, const TargetSettings& target,
                                              int parallel);
// ssh and rsync daemon targets: a renamed directory is first filled from the
// old one on the receiver (--copy-dest), so its data is not sent again; the
// delete of the old path and the tree send of the new one follow as usual.
Transfer BuildCopyMove(const PlannedMove& move, const TargetSettings& target);
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
