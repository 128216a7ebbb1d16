// How much a directory of the source holds, looked at only as far as a
// decision needs: whether a renamed directory is worth a copy-move on a
// remote receiver (transfer.h) or cheaper sent again.
#pragma once

#include <cstdint>
#include <string>

namespace ferry {

// A copy-move costs one more rsync connection (about 0.1 s to a loopback
// daemon, more over a network); a renamed directory holding less than this
// is sent again instead, in the batch's tree send (the peer benchmark's
// `mixed`: two copy-moves of a few files each cost 0.2 s of its 1.0 s).
inline constexpr uint64_t kCopyMoveMinBytes = 1 << 20;

// Whether the regular files under `dir` (not following symlinks) add up to
// at least `bytes`, or there are more than `max_entries` entries (sending
// that many costs more than a connection anyway). Stops walking as soon as
// it knows; false when `dir` cannot be read.
bool TreeHoldsAtLeast(const std::string& dir, uint64_t bytes, size_t max_entries = 10'000);

}  // namespace ferry
