// Failpoints: named places where a test can make ferryd fail on purpose, as
// etcd's gofail and TiKV's fail-rs do, to check that a failure there is
// logged, shown and recovered from.
//
// Armed only through the environment, read once at the first check:
//   FERRY_FAILPOINTS="inotify-read=2,watch-loop-throw=1"
// arms each name for that many hits (default 1). Unset, a check costs a
// static's guard and a null test. Names in use:
//   inotify-read      InotifyReader's read(2) fails with EIO
//   fanotify-read     FanotifyReader's read(2) fails with EIO
//   watch-loop-throw  a destination's watch loop throws std::runtime_error
//   replay-worker-throw  the replay worker's loop throws, with work posted
#pragma once

#include <string_view>

namespace ferry {

// Whether the failpoint `name` fires now (using up one of its hits).
bool FailpointHit(std::string_view name);

}  // namespace ferry
