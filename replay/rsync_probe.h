// The receiver probe: what the rsync on both ends of a target can do
// (rsync_features.h), learned before the lane's first batch and again after
// any failure of the target, in at most four runs:
//   1. `rsync --version` of the local rsync: below 3.1.0 it has neither
//      --delete-missing-args nor --ignore-missing-args, below 3.1.3 no
//      nanosecond quick check;
//   2. a dry run (--dry-run) to the target, as a delete run is sent, with one
//      missing path: a receiver that refuses an option ("unknown option") or
//      the missing path's entry ("invalid file mode") fails it;
//   3. again without what failed, until the dry run passes.
// A dry run is one connection and changes nothing (docs/BENCHMARKS.md: its
// cost). It also reports the protocol the receiver speaks (--debug=PROTO).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "settings/rsync_features.h"
#include "replay/transfer.h"

namespace ferry {

struct RsyncVersion {
  int major = 0, minor = 0, patch = 0;
  int protocol = 0;
  bool AtLeast(int ma, int mi, int pa) const;
  std::string ToString() const;  // "3.5.0 (protocol 32)"
};

// The first line of `rsync --version`: "rsync  version 3.5.0  protocol
// version 32" (some builds write "v3.2.3"). nullopt when it is not that.
std::optional<RsyncVersion> ParseRsyncVersion(std::string_view version_output);

// What a local rsync of `version` can do with a receiver of its own version.
RsyncFeatures LocalFeatures(const RsyncVersion& version);

// The dry run that tries `target.features` (see above).
Transfer BuildProbe(const TargetSettings& target, const RsyncVersion& local);

struct ProbeVerdict {
  enum class Next {
    kDone,     // `features` work with this receiver
    kAgain,    // the receiver refused one of them: probe again with `features`
    kBlocked,  // the receiver is too old for ferry: `message` says why
    kFailed,   // the run failed for another reason: classify its exit
  };
  Next next = Next::kFailed;
  RsyncFeatures features;
  std::string message;  // kAgain: what was dropped and why; kBlocked: the error
  int protocol = 0;     // kDone: what the dry run negotiated; 0 when not reported
};

// Judges the dry run that tried `tried`.
ProbeVerdict JudgeProbe(const RsyncFeatures& tried, int exit_code, std::string_view stdout_tail,
                        std::string_view stderr_tail);

}  // namespace ferry
