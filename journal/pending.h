// What a target has not received yet: the events of its destination after
// its cursor. Shared by ferryd's status and ferryctl (which may read a
// stopped daemon's journal directly).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/status.h"
#include "journal/journal.h"

namespace ferry {

struct Pending {
  uint64_t events = 0;         // the destination's events in (after_seq, head]
  int64_t oldest_time_ns = 0;  // wall time of the first of them; 0 when none
  uint64_t first_seq = 0;      // its seq; 0 when none
  bool exact = true;           // false: the walk stopped at max_walk; events
                               // is then head - after_seq (an upper bound)
};

// Walks at most `max_walk` events (so a status call stays cheap when a
// target is millions of events behind). Reads through `journal`; any thread.
Result<Pending> CountPending(Journal* journal, uint32_t destination, uint64_t after_seq,
                             uint64_t head, uint64_t max_walk = 200'000);

// The first event of `destination` journaled at or after `time_ns`, for
// "replay since TIME": its seq, or head + 1 when there is none.
Result<uint64_t> SeqAtTime(Journal* journal, uint32_t destination, int64_t time_ns, uint64_t head);

// What "deliver the events again from a seq, or from a time" means for one
// destination: ferryd's rewind and ferryctl's replay on a stopped ferryd.
struct ReplayPlan {
  uint64_t from_seq = 0;
  uint64_t to_seq = 0;      // the head when planned
  uint64_t oldest_seq = 0;  // the oldest retained event
  // from_seq is below the oldest retained event: those events are gone,
  // only a full sync can make up for them.
  bool trimmed = false;
  uint64_t events = 0;  // the destination's events in [from_seq, to_seq]; 0 when trimmed
};
// From `since_ns` when given (the first event at or after it), else from
// `from_seq`.
Result<ReplayPlan> PlanReplay(Journal* journal, uint32_t destination,
                              std::optional<int64_t> since_ns, uint64_t from_seq);
// Why a trimmed plan is refused, and what to do instead.
std::string TrimmedReplayError(const ReplayPlan& plan);

}  // namespace ferry
