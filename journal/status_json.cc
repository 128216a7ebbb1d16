#include "journal/status_json.h"

#include <algorithm>

#include "journal/pending.h"

namespace ferry {
namespace {

nlohmann::json Seconds(int64_t ns) {
  return ns > 0 ? nlohmann::json(ns / 1'000'000'000) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json JournalJson(Journal* journal, const std::string& dir) {
  const uint64_t head = journal->LastSeq();
  auto oldest = journal->OldestSeq();
  auto bytes = journal->EventBytes();
  return {{"dir", dir},
          {"id", journal->id().Hex()},
          {"bytes", bytes ? *bytes : 0},
          {"oldest_seq", oldest ? *oldest : head + 1},
          {"newest_seq", head}};
}

nlohmann::json TargetJournalJson(Journal* journal, const std::string& target, uint32_t destination,
                                 uint64_t head, int64_t now_ns) {
  nlohmann::json j;
  auto cursor = journal->GetCursor(target);
  const bool has = cursor && cursor->has_value();
  const uint64_t at = has ? (*cursor)->seq : 0;
  j["cursor"] = at;
  j["expired"] = has && (*cursor)->expired;
  auto pending = CountPending(journal, destination, at, head);
  j["lag_events"] = pending ? pending->events : head - at;
  j["lag_exact"] = pending && pending->exact;
  j["lag_seconds"] =
      pending && pending->oldest_time_ns > 0
          ? std::max(0.0, static_cast<double>(now_ns - pending->oldest_time_ns) / 1e9)
          : 0.0;
  auto letters = journal->ListDeadLetters(target);
  j["dead_letters"] = letters ? letters->size() : 0;
  auto stats = journal->GetStats(target);
  const TargetStats s = stats ? *stats : TargetStats{};
  j["events_delivered"] = s.events;
  j["bytes_sent"] = s.bytes;
  j["last_success"] = Seconds(s.last_success_ns);
  j["last_error_time"] = Seconds(s.last_error_ns);
  j["last_error"] = s.last_error;
  auto pause = journal->GetPause(target);
  if (pause && pause->has_value()) {
    j["paused_since"] = Seconds((*pause)->since_ns);
    j["paused_by_uid"] = (*pause)->uid;
    j["paused_by_pid"] = (*pause)->pid;
  }
  return j;
}

nlohmann::json DeadLetterJson(const DeadLetter& d) {
  nlohmann::json e = {{"target", d.target},
                      {"seq", d.event.seq},
                      {"kind", KindName(d.event.kind)},
                      {"is_dir", d.event.is_dir}};
  PutPath(e, "path", d.event.path);
  e["error"] = d.error;
  e["attempts"] = d.attempts;
  e["first_failed"] = Seconds(d.first_failed_ns);
  e["last_failed"] = Seconds(d.last_failed_ns);
  return e;
}

nlohmann::json ReplayPlanJson(const ReplayPlan& plan, const std::string& target) {
  nlohmann::json j = {{"target", target},
                      {"from_seq", plan.from_seq},
                      {"to_seq", plan.to_seq},
                      {"oldest_seq", plan.oldest_seq}};
  if (plan.trimmed) {
    j["full_sync"] = true;
  } else {
    j["events"] = plan.events;
  }
  return j;
}

}  // namespace ferry
