// ferryctl status and metrics.
#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include "base/clock.h"
#include "base/units.h"
#include "journal/escape.h"
#include "journal/metrics.h"
#include "journal/states.h"
#include "journal/status_json.h"
#include "tools/control_client.h"
#include "tools/ctl.h"
#include "tools/log_format.h"
#include "tools/time_spec.h"

namespace ferry {
namespace {

namespace po = boost::program_options;
using nlohmann::json;

// The status from the running ferryd, or rebuilt from the journal when it is
// stopped ("daemon": "stopped", "ready": false; states from the cursors).
Result<json> GetStatus(const Ctl& ctl) {
  auto live = ControlCall(ctl.socket, {{"verb", "status"}});
  if (live) {
    if (!live->value("ok", false)) return Status::IOError(live->value("error", "ferryd refused"));
    return *live;
  }
  if (!live.error().IsNotFound()) return live.error();
  auto journal = ctl.OpenReader();
  if (!journal) return journal.error();
  Journal* j = journal->get();
  const uint64_t head = j->LastSeq();
  const int64_t now = SystemClock::Default()->WallNanos();
  json s = {
      {"ok", true},   {"daemon", "stopped"},       {"ready", false},
      {"head", head}, {"config", ctl.config_path}, {"journal", JournalJson(j, ctl.journal_dir)}};
  json ds = json::array();
  std::map<std::string, uint32_t> ids;
  if (auto names = j->Destinations()) {
    for (const auto& [name, id] : *names) ids[name] = id;
  }
  for (const auto& [name, id] : ids) {
    const DestinationConfig* d = ctl.FindDestination(name);
    ds.push_back({{"name", name}, {"source", d ? d->source : ""}, {"state", StateName(DestinationState::kStopped)}});
  }
  s["destinations"] = ds;
  json ts = json::array();
  auto cursors = j->ListCursors();
  if (!cursors) return cursors.error();
  for (const auto& [name, cursor] : *cursors) {
    std::string dest;
    for (const auto& [n, id] : ids) {
      if (id == cursor.destination) dest = n;
    }
    const TargetConfig* t = ctl.FindTarget(name);
    json tj = {{"name", name}, {"destination", dest}, {"url", t ? t->url.url : ""}};
    tj.update(TargetJournalJson(j, name, cursor.destination, head, now));
    tj["state"] = StateName(tj["expired"].get<bool>()   ? TargetState::kExpired
                            : tj.contains("paused_since") ? TargetState::kPaused
                            : tj["lag_events"] == 0       ? TargetState::kOk
                                                          : TargetState::kCatchingUp);
    ts.push_back(std::move(tj));
  }
  for (const TargetConfig& t : ctl.config.targets) {  // configured, never started: full sync at start
    bool known = false;
    for (const auto& x : ts) known = known || x["name"] == t.name;
    if (!known) {
      ts.push_back({{"name", t.name},
                    {"destination", t.destination},
                    {"url", t.url.url},
                    {"state", StateName(TargetState::kFullSync)},
                    {"cursor", 0},
                    {"lag_events", head},
                    {"lag_seconds", 0.0},
                    {"dead_letters", 0},
                    {"last_error", ""},
                    {"last_success", nullptr}});
    }
  }
  s["targets"] = ts;
  return s;
}

// Events per second delivered over the last minute ("-" without ferryd).
std::string Rate(const json& t) {
  if (!t.contains("events_per_s")) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", t["events_per_s"].get<double>());
  return buf;
}

// "Target states:\n  ok            has every event\n..." for --help.
template <size_t N>
std::string StateHelp(const char* title, const std::array<StateInfo, N>& table) {
  std::string out = std::string(title) + ":\n";
  for (const StateInfo& s : table) {
    out += "  " + std::string(s.name) + std::string(15 - s.name.size(), ' ') +
           std::string(s.meaning) + "\n";
  }
  return out + "\n";
}

bool NeedsCare(const json& t) {
  const std::string state = t.value("state", "");
  return state == StateName(TargetState::kBlocked) || state == StateName(TargetState::kExpired) ||
         t.value("dead_letters", 0) > 0;
}

std::string Ago(const json& unix_s) {
  if (!unix_s.is_number()) return "never";
  const int64_t ns = unix_s.get<int64_t>() * 1'000'000'000;
  const int64_t age = SystemClock::Default()->WallNanos() - ns;
  return FormatTimeShort(ns).substr(7, 8) + " (" +
         FormatDuration(std::max<int64_t>(0, age / 1'000'000'000 * 1'000'000'000)) + " ago)";
}

std::string Cell(std::string s, size_t width) {
  if (s.size() > width) s = s.substr(0, width - 1) + "~";
  s.resize(width, ' ');
  return s;
}

void PrintTable(const json& s) {
  const json& j = s["journal"];
  std::cout << "ferryd: "
            << (s["daemon"] == "running"
                    ? std::string("running, pid ") + s.value("pid", json(0)).dump() +
                          (s.value("ready", false) ? ", ready" : ", starting")
                    : std::string("stopped (reading the journal directly)"))
            << "\njournal: " << j.value("dir", "") << "  "
            << HumanSize(j.value("bytes", uint64_t{0}))
            << (j.contains("budget") ? " of " + HumanSize(j["budget"].get<uint64_t>()) : "")
            << "  seq " << j.value("oldest_seq", uint64_t{0}) << ".."
            << s.value("head", uint64_t{0}) << "\n\n";
  std::cout << Cell("DESTINATION", 14) << Cell("STATE", 12) << Cell("WATCHER", 16) << "SOURCE\n";
  for (const json& d : s["destinations"]) {
    // fanotify: one mark, no watches to count; inotify: its watches.
    const std::string watcher = d.value("watcher", "");
    std::string cell = watcher == "fanotify" ? watcher
                       : d.contains("watches") ? "inotify " + d["watches"].dump()
                                               : "-";
    std::cout << Cell(d.value("name", ""), 14) << Cell(d.value("state", ""), 12)
              << Cell(cell, 16) << d.value("source", "") << "\n";
    if (!d.value("message", "").empty())
      std::cout << "  ! " << d["message"].get<std::string>() << "\n";
    if (d.value("failures", 0) > 0 && d["last_failure"].is_object()) {
      const json& f = d["last_failure"];
      std::cout << "  watch failures: " << d["failures"].dump() << ", the last at "
                << Ago(f.value("time", json())) << ": "
                << EscapePath(f.value("error", std::string())) << "\n";
    }
  }
  std::cout << "\n"
            << Cell("TARGET", 14) << Cell("STATE", 12) << Cell("CURSOR", 10) << Cell("LAG", 9)
            << Cell("LAG_S", 8) << Cell("DEAD", 6) << Cell("EV/S", 8) << "LAST SUCCESS\n";
  for (const json& t : s["targets"]) {
    char lag_s[32];
    std::snprintf(lag_s, sizeof lag_s, "%.1f", t.value("lag_seconds", 0.0));
    std::cout << Cell(t.value("name", ""), 14) << Cell(t.value("state", ""), 12)
              << Cell(t["cursor"].dump(), 10)
              << Cell(t["lag_events"].dump() + (t.value("lag_exact", true) ? "" : "+"), 9)
              << Cell(lag_s, 8) << Cell(t["dead_letters"].dump(), 6) << Cell(Rate(t), 8)
              << Ago(t.value("last_success", json())) << "\n";
    std::cout << "  " << t.value("url", "") << " (destination " << t.value("destination", "")
              << ", " << t.value("events_delivered", uint64_t{0}) << " events, "
              << HumanSize(t.value("bytes_sent", uint64_t{0})) << " sent)\n";
    if (!t.value("rsync", "").empty()) {
      std::cout << "  rsync: " << t["rsync"].get<std::string>() << "\n";
    }
    if (t.contains("paused_since")) {
      std::cout << "  paused since " << Ago(t["paused_since"]) << " by uid "
                << t.value("paused_by_uid", json(0)).dump() << " (pid "
                << t.value("paused_by_pid", json(0)).dump()
                << "); it stays paused across restarts: ferryctl resume --target "
                << t["name"].get<std::string>() << "\n";
    }
    if (!t.value("last_error", "").empty()) {
      std::cout << "  last error: " << EscapePath(t["last_error"].get<std::string>()) << "\n";
    }
    if (t.value("dead_letters", 0) > 0) {
      std::cout << "  dead letters: ferryctl dlq list --target " << t["name"].get<std::string>()
                << "\n";
    }
  }
}

}  // namespace

int RunStatus(Ctl& ctl, const std::vector<std::string>& args) {
  std::string output = "short", timeout;
  po::options_description opts(
      "Usage: ferryctl status [-o short|json|json-pretty] [--wait-synced [--timeout T]]\n\n"
      "Each destination's watcher and each target's state, cursor, lag (events and\n"
      "seconds since the oldest undelivered change), dead letters and last error.\n\n" +
      StateHelp("Destination states", kDestinationStates) +
      StateHelp("Target states", kTargetStates) +
      "Exit status 0 when every target is ok or catching up; 1 when one is blocked,\n"
      "expired or has dead letters (so `ferryctl status >/dev/null` is a health check).\n\n"
      "Examples:\n"
      "  ferryctl status\n"
      "  ferryctl status -o json | jq '.targets[] | {name, lag_events}'\n"
      "  ferryctl status --wait-synced --timeout 5m   # block until every target has\n"
      "                                               # what was journaled now\n\nOptions");
  opts.add_options()("help,h", "show this help")("output,o", po::value(&output),
                                                 "short (default), json or json-pretty")(
      "wait-synced", "wait until every cursor reaches the head seen now")(
      "timeout", po::value(&timeout),
      "with --wait-synced: give up after T (e.g. 30s, 5m); default: never");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(opts).run(), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    return ctl.Fail(kExUsage, std::string(e.what()) + " (see ferryctl status --help)");
  }
  if (vm.count("help")) {
    std::cout << opts;
    return kExOk;
  }
  if (output != "short" && output != "json" && output != "json-pretty") {
    return ctl.Fail(kExUsage,
                    "-o " + output + " is not a status format; allowed: short, json, json-pretty");
  }
  auto status = GetStatus(ctl);
  if (!status) return ctl.Fail(kExUnavailable, status.error().message());
  if (vm.count("wait-synced")) {
    if ((*status)["daemon"] != "running") {
      return ctl.Fail(kExUnavailable,
                      "ferryd is not running, so no cursor will move; start it first");
    }
    int64_t limit = -1;
    if (!timeout.empty()) {
      auto d = ParseDuration(timeout);
      if (!d) return ctl.Fail(kExUsage, "--timeout: " + d.error().message());
      limit = *d;
    }
    const uint64_t goal = (*status)["head"];
    const auto start = std::chrono::steady_clock::now();
    while (true) {
      std::string behind;
      for (const json& t : (*status)["targets"]) {
        if (t["cursor"].get<uint64_t>() < goal)
          behind += (behind.empty() ? "" : ", ") + t["name"].get<std::string>() + " at " +
                    t["cursor"].dump();
      }
      if (behind.empty()) break;
      if (limit >= 0 &&
          std::chrono::steady_clock::now() - start > std::chrono::nanoseconds(limit)) {
        return ctl.Fail(kExFindings, "not synced within " + timeout + ": head " +
                                         std::to_string(goal) + "; " + behind);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the daemon's progress
      status = GetStatus(ctl);
      if (!status) return ctl.Fail(kExUnavailable, status.error().message());
    }
  }
  if (output == "short") {
    PrintTable(*status);
  } else {
    std::cout << status->dump(output == "json" ? -1 : 2, ' ', false, json::error_handler_t::replace)
              << "\n";
  }
  for (const json& t : (*status)["targets"]) {
    if (NeedsCare(t)) return kExFindings;
  }
  return kExOk;
}

int RunMetrics(Ctl& ctl, const std::vector<std::string>& args) {
  if (!args.empty()) {
    if (args[0] == "--help" || args[0] == "-h") {
      std::cout << "Usage: ferryctl metrics\n\n"
                   "Prints the status as Prometheus text (per-target lag in events and seconds,\n"
                   "state, dead letters, bytes and events sent, rsync runs by outcome; journal\n"
                   "size; watches; overflows). ferryd serves the same at /metrics when\n"
                   "[metrics] listen is set.\n\n"
                   "Example:\n  ferryctl metrics | grep ferry_target_lag\n";
      return kExOk;
    }
    return ctl.Fail(kExUsage, "takes no arguments (see ferryctl metrics --help)");
  }
  auto status = GetStatus(ctl);
  if (!status) return ctl.Fail(kExUnavailable, status.error().message());
  std::cout << MetricsText(*status);
  return kExOk;
}

}  // namespace ferry
