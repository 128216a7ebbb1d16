// The parts of the status JSON (README, "ferryctl status -o json") that come
// from the journal alone, so ferryd and ferryctl (reading a stopped daemon's
// journal) fill them the same way. Reads through `journal`; any thread.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "journal/journal.h"

namespace ferry {

// {"dir", "id", "bytes", "oldest_seq", "newest_seq"}.
nlohmann::json JournalJson(Journal* journal, const std::string& dir);

// A target's journal-side fields: "cursor", "expired", "lag_events",
// "lag_exact", "lag_seconds", "dead_letters", "events_delivered",
// "bytes_sent", "last_success" and "last_error_time" (unix seconds or
// null), "last_error". `destination` is the target's destination id.
nlohmann::json TargetJournalJson(Journal* journal, const std::string& target, uint32_t destination,
                                 uint64_t head, int64_t now_ns);

}  // namespace ferry
