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

json Error(const std::string& message) { return {{"ok", false}, {"error", message}}; }

// Paths are raw bytes; JSON strings are Unicode (see tools/log_format.h for
// the rule readers follow: "path_b64" when present, else "path").
void PutPath(json& j, const std::string& key, const std::string& path) {
  if (IsValidUtf8(path)) {
    j[key] = path;
  } else {
    j[key] = EscapePath(path);
    j[key + "_b64"] = Base64Encode(path);
  }
}

json Time(int64_t ns) { return ns > 0 ? json(ns / 1'000'000'000) : json(nullptr); }  // unix s

uint64_t UInt(const json& r, const char* key) {
  if (!r.contains(key) || !r[key].is_number_unsigned()) {
    throw std::invalid_argument(std::string("\"") + key + "\" must be a non-negative integer");
  }
  return r[key].get<uint64_t>();
}

}  // namespace

json Ferryd::HandleControl(const json& request) {
  const std::string verb = request.value("verb", "");
  if (verb == "reload") {
    auto r = Reload();
    return r ? *r : Error(r.error().message());
  }
  if (verb == "status") return StatusJson();
  std::lock_guard lock(mu_);
  if (verb == "dlq_list" || verb == "dlq_drop" || verb == "dlq_retry") {
    return DeadLetters(request, verb);
  }
  const std::string name = request.value("target", "");
  Target* t = FindTarget(name);
  const bool known = verb == "pause" || verb == "resume" || verb == "rewind" || verb == "resync";
  if (!known) {
    return Error("unknown verb \"" + verb +
                 "\"; known: status, pause, resume, rewind, resync, dlq_list, dlq_retry, "
                 "dlq_drop, reload");
  }
  if (!t) {
    std::string names;
    for (auto& x : targets_) names += (names.empty() ? "" : ", ") + x->config.name;
    return Error("no target \"" + name + "\"; configured: " + (names.empty() ? "none" : names));
  }
  if (verb == "pause") {
    t->lane->Pause();
    spdlog::info("target {}: paused by the operator", name);
  } else if (verb == "resume") {
    t->lane->Resume();
    spdlog::info("target {}: resumed by the operator", name);
  } else if (verb == "resync") {
    t->lane->Resync();
  } else {
    return Rewind(t, request);
  }
  return {{"ok", true}, {"target", name}, {"verb", verb}};
}

json Ferryd::Rewind(Target* t, const json& request) {
  const uint64_t head = journal_->LastSeq();
  const uint32_t dest = t->destination->id;
  uint64_t seq;
  if (request.contains("time_ns")) {
    if (!request["time_ns"].is_number_integer())
      throw std::invalid_argument("\"time_ns\" must be an integer");
    auto s = SeqAtTime(journal_.get(), dest, request["time_ns"].get<int64_t>(), head);
    if (!s) return Error(s.error().message());
    seq = *s;
  } else {
    seq = UInt(request, "seq");
  }
  const bool execute = request.value("execute", false);
  const bool full_sync = request.value("full_sync", false);
  auto oldest = journal_->OldestSeq();
  if (!oldest) return Error(oldest.error().message());
  // Seqs start at 1: anything below the oldest retained one was trimmed.
  const bool trimmed = seq<*oldest&& * oldest> 1;
  json reply = {{"ok", true},     {"target", t->config.name}, {"from_seq", seq},
                {"to_seq", head}, {"oldest_seq", *oldest},    {"executed", false}};
  if (trimmed && !full_sync) {
    return Error("seq " + std::to_string(seq) +
                 " is no longer in the journal; the oldest retained is " + std::to_string(*oldest) +
                 " (replay from there, or add --full-sync to resync the whole tree)");
  }
  if (trimmed) {
    reply["full_sync"] = true;
    if (execute) {
      t->lane->Resync();
      reply["executed"] = true;
    }
    return reply;
  }
  auto pending = CountPending(journal_.get(), dest, seq == 0 ? 0 : seq - 1, head, UINT64_MAX);
  if (!pending) return Error(pending.error().message());
  reply["events"] = pending->events;
  if (execute) {
    t->lane->Rewind(seq);
    reply["executed"] = true;
    spdlog::info("target {}: rewind to seq {} by the operator ({} events go again)", t->config.name,
                 seq, pending->events);
  }
  return reply;
}

json Ferryd::DeadLetters(const json& request, const std::string& verb) {
  const std::string name = request.value("target", "");
  if (!name.empty() && !FindTarget(name) && verb != "dlq_list" && verb != "dlq_drop") {
    return Error("no target \"" + name + "\"");
  }
  auto letters = journal_->ListDeadLetters(name);
  if (!letters) return Error(letters.error().message());
  const bool all = request.value("all", false);
  const bool by_seq = request.contains("seq");
  const uint64_t seq = by_seq ? UInt(request, "seq") : 0;
  if (verb != "dlq_list" && !all && !by_seq) {
    return Error(verb + " needs \"seq\" or \"all\": true");
  }
  json entries = json::array();
  for (const DeadLetter& d : *letters) {
    if (by_seq && d.event.seq != seq) continue;
    json e = {{"target", d.target},
              {"seq", d.event.seq},
              {"kind", KindName(d.event.kind)},
              {"is_dir", d.event.is_dir},
              {"error", d.error},
              {"attempts", d.attempts},
              {"first_failed", Time(d.first_failed_ns)},
              {"last_failed", Time(d.last_failed_ns)}};
    PutPath(e, "path", d.event.path);
    entries.push_back(std::move(e));
    if (verb == "dlq_drop") {
      Status s = journal_->RemoveDeadLetter(d.target, d.event.seq);
      if (!s.ok()) return Error(s.message());
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
    return Error("no dead letter with seq " + std::to_string(seq) +
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
            {"state", LaneStateName(ls.state)},
            {"transfers_ok", ls.transfers_ok},
            {"transfers_failed", ls.transfers_failed},
            {"failures_in_a_row", ls.failures_in_a_row},
            {"events_per_s", ls.events_per_s}};
  j.update(TargetJournalJson(journal_.get(), t.config.name, t.destination->id, head,
                             SystemClock::Default()->WallNanos()));
  if (j["expired"] && ls.state != LaneState::kFullSync) j["state"] = "expired";
  if (!ls.last_error.empty()) j["last_error"] = ls.last_error;
  const int64_t mono = SystemClock::Default()->MonotonicNanos();
  j["next_attempt_in_s"] = ls.next_attempt_ns > mono ? (ls.next_attempt_ns - mono) / 1e9 : 0.0;
  return j;
}

json Ferryd::StatusJson() {
  std::lock_guard lock(mu_);
  const uint64_t head = journal_->LastSeq();
  json journal = JournalJson(journal_.get(), config_.journal_dir);
  journal["budget"] = config_.max_size;
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
    const WatcherStatus w = d->watcher->status();
    ds.push_back({{"name", d->config.name},
                  {"source", d->config.source},
                  {"watches", w.watches},
                  {"state", WatchStateName(w.state)},
                  {"overflows", w.overflows},
                  {"unwatched_dirs", w.unwatched_dirs},
                  {"message", w.message}});
  }
  j["destinations"] = std::move(ds);
  json ts = json::array();
  for (auto& t : targets_) ts.push_back(TargetJson(*t, head));
  j["targets"] = std::move(ts);
  return j;
}

}  // namespace ferry
