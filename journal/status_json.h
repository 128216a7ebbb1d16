// The parts of the status JSON (README, "ferryctl status -o json") that come
// from the journal alone, so ferryd and ferryctl (reading a stopped daemon's
// journal) fill them the same way. Reads through `journal`; any thread.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "journal/escape.h"
#include "journal/journal.h"
#include "journal/pending.h"

namespace ferry {

// {"dir", "id", "bytes", "oldest_seq", "newest_seq"}.
nlohmann::json JournalJson(Journal* journal, const std::string& dir);

// A target's journal-side fields: "cursor", "expired", "lag_events",
// "lag_exact", "lag_seconds", "dead_letters", "events_delivered",
// "bytes_sent", "last_success" and "last_error_time" (unix seconds or
// null), "last_error". `destination` is the target's destination id.
nlohmann::json TargetJournalJson(Journal* journal, const std::string& target, uint32_t destination,
                                 uint64_t head, int64_t now_ns);

// Puts raw path bytes under `key`: as is when they are UTF-8, else escaped
// (EscapePath) with the bytes in base64 under key + "_b64". Readers take
// "_b64" when present. Works for nlohmann::json and ordered_json.
template <typename Json>
void PutPath(Json& j, const std::string& key, std::string_view bytes) {
  if (IsValidUtf8(bytes)) {
    j[key] = std::string(bytes);
  } else {
    j[key] = EscapePath(bytes);
    j[key + "_b64"] = Base64Encode(bytes);
  }
}

// {"target", "seq", "kind", "is_dir", "path"[, "path_b64"], "error",
// "attempts", "first_failed", "last_failed"} (times in unix seconds).
nlohmann::json DeadLetterJson(const DeadLetter& letter);

// {"target", "from_seq", "to_seq", "oldest_seq"} and "full_sync": true when
// the plan is trimmed, else "events".
nlohmann::json ReplayPlanJson(const ReplayPlan& plan, const std::string& target);

}  // namespace ferry
