// Ferryd's control verbs: what `ferryctl` asks through the control socket.
// Requests and replies are JSON objects; every reply has "ok", and "error"
// when ok is false. Target names are checked; a bad field is an error that
// names it.
#include <spdlog/spdlog.h>

#include "daemon/ferryd.h"
#include "journal/escape.h"
#include "journal/pending.h"
#include "journal/status_json.h"

namespace ferry {
namespace {

using nlohmann::json;

uint64_t UInt(const json& r, const char* key) {
  if (!r.contains(key) || !r[key].is_number_unsigned()) {
    throw std::invalid_argument(std::string("\"") + key + "\" must be a non-negative integer");
  }
  return r[key].get<uint64_t>();
}

}  // namespace

json Ferryd::HandleControl(const json& request, const ControlPeer& peer) {
  const std::string verb = request.value("verb", "");
  if (verb == "reload") {  // like SIGHUP (main.cc)
    auto r = Reload();
    return r ? *r : ControlError(r.error().message());
  }
  if (verb == "status") return StatusJson();
  std::lock_guard lock(mu_);
  if (verb == "settings") {  // what ferryctl verify needs of a target that no file holds
    return {{"ok", true},
            {"config", DescribeConfig(config_)},
            {"path", config_.path},
            {"password_from_env", config_.password_from_env}};
  }
  if (verb == "dlq_list" || verb == "dlq_drop" || verb == "dlq_retry") {
    return DeadLetters(request, verb);
  }
  const std::string name = request.value("target", "");
  Target* t = FindTarget(name);
  const bool known = verb == "pause" || verb == "resume" || verb == "rewind" || verb == "resync";
  if (!known) {
    return ControlError("unknown verb \"" + verb +
                 "\"; known: status, settings, pause, resume, rewind, resync, dlq_list, dlq_retry, "
                 "dlq_drop, reload");
  }
  if (!t) {
    std::string names;
    for (auto& x : targets_) names += (names.empty() ? "" : ", ") + x->config.name;
    return ControlError("no target \"" + name + "\"; configured: " + (names.empty() ? "none" : names));
  }
  if (verb == "pause" || verb == "resume") return PauseOrResume(t, verb == "pause", peer);
  if (verb == "resync") {
    t->lane->Resync();
    return {{"ok", true}, {"target", name}, {"verb", verb}};
  }
  return Rewind(t, request);
}

json Ferryd::PauseOrResume(Target* t, bool pause, const ControlPeer& peer) {
  const std::string& name = t->config.name;
  // The mark goes to the journal first, so that a pause the caller was told
  // about is never lost to a restart. An earlier pause keeps its time and uid.
  auto earlier = journal_->GetPause(name);
  Status recorded = earlier ? Status::Ok() : earlier.error();
  if (recorded.ok() && pause && !earlier->has_value()) {
    recorded = journal_->SetPause(
        name, PauseMark{.since_ns = SystemClock::Default()->WallNanos(),
                        .uid = peer.uid,
                        .pid = static_cast<int32_t>(peer.pid)});
  } else if (recorded.ok() && !pause && earlier->has_value()) {
    recorded = journal_->SetPause(name, std::nullopt);
  }
  if (pause) {
    t->lane->Pause();
    spdlog::info("target {}: paused by the operator (uid {}, pid {})", name, peer.uid, peer.pid);
  } else {
    t->lane->Resume();
    spdlog::info("target {}: resumed by the operator (uid {}, pid {})", name, peer.uid, peer.pid);
  }
  if (!recorded.ok()) {
    spdlog::error("target {}: the {} could not be recorded in the journal: {}", name,
                  pause ? "pause" : "resume", recorded.ToString());
    return ControlError(std::string(pause ? "paused" : "resumed") +
                 " until ferryd restarts only: recording it in the journal failed: " +
                 recorded.ToString());
  }
  return {{"ok", true}, {"target", name}, {"verb", pause ? "pause" : "resume"}};
}

json Ferryd::Rewind(Target* t, const json& request) {
  std::optional<int64_t> since;
  uint64_t seq = 0;
  if (request.contains("time_ns")) {
    if (!request["time_ns"].is_number_integer()) {
      throw std::invalid_argument("\"time_ns\" must be an integer");
    }
    since = request["time_ns"].get<int64_t>();
  } else {
    seq = UInt(request, "seq");
  }
  const bool execute = request.value("execute", false);
  auto plan = PlanReplay(journal_.get(), t->destination->id, since, seq);
  if (!plan) return ControlError(plan.error().message());
  if (plan->trimmed && !request.value("full_sync", false)) {
    return ControlError(TrimmedReplayError(*plan));
  }
  json reply = ReplayPlanJson(*plan, t->config.name);
  if (execute && plan->trimmed) {
    t->lane->Resync();
  } else if (execute) {
    t->lane->Rewind(plan->from_seq);
    spdlog::info("target {}: rewind to seq {} by the operator ({} events go again)", t->config.name,
                 plan->from_seq, plan->events);
  }
  reply["ok"] = true;
  reply["executed"] = execute;
  return reply;
}

json Ferryd::DeadLetters(const json& request, const std::string& verb) {
  const std::string name = request.value("target", "");
  if (!name.empty() && !FindTarget(name) && verb != "dlq_list" && verb != "dlq_drop") {
    return ControlError("no target \"" + name + "\"");
  }
  auto letters = journal_->ListDeadLetters(name);
  if (!letters) return ControlError(letters.error().message());
  const bool all = request.value("all", false);
  const bool by_seq = request.contains("seq");
  const uint64_t seq = by_seq ? UInt(request, "seq") : 0;
  if (verb != "dlq_list" && !all && !by_seq) {
    return ControlError(verb + " needs \"seq\" or \"all\": true");
  }
  json entries = json::array();
  for (const DeadLetter& d : *letters) {
    if (by_seq && d.event.seq != seq) continue;
    entries.push_back(DeadLetterJson(d));
    if (verb == "dlq_drop") {
      Status s = journal_->RemoveDeadLetter(d.target, d.event.seq);
      if (!s.ok()) return ControlError(s.message());
      spdlog::info("target {}: dropped dead letter seq {} ({}) by the operator", d.target,
                   d.event.seq, EscapePath(d.event.path));
    }
  }
  if (verb == "dlq_retry") {
    for (auto& t : targets_) {
      if (name.empty() || t->config.name == name) t->lane->RetryDeadLettersNow();
    }
  }
  if (by_seq && entries.empty()) {
    return ControlError("no dead letter with seq " + std::to_string(seq) +
                 (name.empty() ? "" : " for target " + name));
  }
  return {{"ok", true}, {"entries", entries}};
}

json Ferryd::TargetJson(const Target& t, uint64_t head) {
  const LaneStatus ls = t.lane->status();
  json j = {{"name", t.config.name},
            {"destination", t.config.destination},
            {"url", t.config.url.url},
            {"kind", TargetKindName(t.config.url.kind)},
            {"state", StateName(ls.state)},
            {"transfers_ok", ls.transfers_ok},
            {"transfers_failed", ls.transfers_failed},
            {"failures_in_a_row", ls.failures_in_a_row},
            {"events_per_s", ls.events_per_s}};
  j.update(TargetJournalJson(journal_.get(), t.config.name, t.destination->id, head,
                             SystemClock::Default()->WallNanos()));
  if (j["expired"] && ls.state != TargetState::kFullSync) j["state"] = StateName(TargetState::kExpired);
  if (!ls.last_error.empty()) j["last_error"] = ls.last_error;
  if (!ls.receiver.empty()) j["rsync"] = ls.receiver;
  const int64_t mono = SystemClock::Default()->MonotonicNanos();
  j["next_attempt_in_s"] = ls.next_attempt_ns > mono ? (ls.next_attempt_ns - mono) / 1e9 : 0.0;
  return j;
}

json Ferryd::StatusJson() {
  std::lock_guard lock(mu_);
  const uint64_t head = journal_->LastSeq();
  json journal = JournalJson(journal_.get(), config_.journal_dir);
  journal["budget"] = config_.max_size;
  // Whether it takes writes; "error" says why not (a full filesystem, say).
  const Status writable = journal_->write_status();
  journal["writable"] = writable.ok();
  if (!writable.ok()) journal["error"] = writable.message();
  json j = {{"ok", true},
            {"daemon", "running"},
            {"ready", ready_.load()},
            {"pid", getpid()},
            {"started", started_ns_ / 1'000'000'000},
            {"config", config_.path},
            {"head", head},
            {"journal", std::move(journal)}};
  json ds = json::array();
  for (auto& d : destinations_) {
    const WatcherStatus w = d->watch->status();
    json failure = nullptr;
    uint64_t failures = 0;
    {
      std::lock_guard lock(d->failure_mu);
      failures = d->failures;
      if (failures > 0) {
        failure = {{"error", d->last_failure}, {"time", d->last_failure_ns / 1'000'000'000}};
      }
    }
    ds.push_back({{"name", d->config.name},
                  {"source", d->config.source},
                  {"watches", w.watches},
                  {"watcher", w.backend},
                  {"watcher_reason", w.backend_reason},
                  {"state", StateName(w.state)},
                  {"overflows", w.overflows},
                  {"unwatched_dirs", w.unwatched_dirs},
                  {"unsettled", w.unsettled},
                  {"settled", w.settled},
                  {"failures", failures},
                  {"last_failure", std::move(failure)},
                  {"message", w.message}});
  }
  for (const DestinationConfig& d : starting_destinations_) {
    ds.push_back({{"name", d.name},
                  {"source", d.source},
                  {"watches", 0},
                  {"state", StateName(DestinationState::kStarting)},
                  {"failures", 0},
                  {"last_failure", nullptr},
                  {"message", "added by a reload: reconciling its tree with its catalog"}});
  }
  j["destinations"] = std::move(ds);
  json ts = json::array();
  for (auto& t : targets_) ts.push_back(TargetJson(*t, head));
  j["targets"] = std::move(ts);
  return j;
}

}  // namespace ferry
