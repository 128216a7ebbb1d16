// The file work ferry does itself on a local target, next to rsync's: a
// renamed path is renamed on the target too, so that its data is not sent
// again (the send that follows checks the result; skipping a rename never
// loses anything, plan.h).
#pragma once

#include <string>
#include <vector>

#include "replay/plan.h"

namespace ferry {

// Renames each of `moves` inside the target directory `dst` where that is
// safe: its `from` is there with the same type, and a directory is never
// merged into an existing one. Others are left for the send.
void RenameOnLocalTarget(const std::string& dst, const std::vector<PlannedMove>& moves);

}  // namespace ferry
