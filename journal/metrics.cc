#include "journal/metrics.h"

#include <sstream>

#include "journal/states.h"

namespace ferry {
namespace {

std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

class Writer {
 public:
  // Starts a metric family: HELP and TYPE once.
  void Family(const std::string& name, const std::string& type, const std::string& help) {
    out_ << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
  }
  void Sample(const std::string& name, const std::string& labels, const nlohmann::json& v) {
    if (v.is_null() || (!v.is_number() && !v.is_boolean())) return;
    out_ << name;
    if (!labels.empty()) out_ << "{" << labels << "}";
    out_ << " ";
    if (v.is_boolean()) {
      out_ << (v.get<bool>() ? 1 : 0);
    } else if (v.is_number_float()) {
      out_ << v.get<double>();
    } else {
      out_ << v.dump();
    }
    out_ << "\n";
  }
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

std::string Label(const char* key, const nlohmann::json& v) {
  return std::string(key) + "=\"" + Escape(v.is_string() ? v.get<std::string>() : v.dump()) + "\"";
}

}  // namespace

std::string MetricsText(const nlohmann::json& s) {
  Writer w;
  const nlohmann::json none;
  auto field = [&](const nlohmann::json& o, const char* k) -> const nlohmann::json& {
    return o.is_object() && o.contains(k) ? o[k] : none;
  };
  w.Family("ferry_up", "gauge", "1 when ferryd answered on its control socket");
  w.Sample("ferry_up", "", nlohmann::json(field(s, "daemon") == "running"));
  w.Family("ferry_ready", "gauge", "1 once ferryd watches every destination and replays");
  w.Sample("ferry_ready", "", field(s, "ready"));
  const nlohmann::json& j = field(s, "journal");
  w.Family("ferry_journal_head_seq", "gauge", "the newest journaled seq");
  w.Sample("ferry_journal_head_seq", "", field(s, "head"));
  w.Family("ferry_journal_oldest_seq", "gauge", "the oldest retained seq");
  w.Sample("ferry_journal_oldest_seq", "", field(j, "oldest_seq"));
  w.Family("ferry_journal_bytes", "gauge", "estimated bytes of retained events");
  w.Sample("ferry_journal_bytes", "", field(j, "bytes"));
  w.Family("ferry_journal_budget_bytes", "gauge", "[journal] max_size");
  w.Sample("ferry_journal_budget_bytes", "", field(j, "budget"));

  const nlohmann::json& ds = field(s, "destinations");
  auto per_destination = [&](const char* name, const char* type, const char* help,
                             const char* key) {
    w.Family(name, type, help);
    for (const auto& d : ds) w.Sample(name, Label("destination", d["name"]), field(d, key));
  };
  w.Family("ferry_destination_watcher", "gauge",
           "1 for the kernel interface watching the destination (inotify or fanotify)");
  for (const auto& d : ds) {
    if (!field(d, "watcher").is_string()) continue;
    w.Sample("ferry_destination_watcher",
             Label("destination", d["name"]) + "," + Label("backend", d["watcher"]),
             nlohmann::json(1));
  }
  per_destination("ferry_destination_watches", "gauge",
                  "inotify watches of a destination (0 with fanotify: one filesystem mark)",
                  "watches");
  per_destination("ferry_destination_overflows_total", "counter",
                  "inotify or fanotify queue overflows (each means a rescan)", "overflows");
  per_destination("ferry_destination_unwatched_dirs", "gauge",
                  "directories the watch limit left unwatched", "unwatched_dirs");
  per_destination("ferry_destination_unsettled_rows", "gauge",
                  "catalog rows written within a timestamp tick of their mtime, not yet "
                  "re-checked (a start now would send these files again)",
                  "unsettled");
  per_destination("ferry_destination_settled_rows_total", "counter",
                  "racy catalog rows re-checked and written again once their tick had passed",
                  "settled");
  per_destination("ferry_destination_failures_total", "counter",
                  "times the watch thread failed (its kernel reader, an exception) and "
                  "rebuilt its watches with a rescan",
                  "failures");
  w.Family("ferry_destination_state", "gauge", "1 for the destination's watch state");
  for (const auto& d : ds) {
    for (const StateInfo& state : kDestinationStates) {
      w.Sample("ferry_destination_state",
               Label("destination", d["name"]) + "," + Label("state", std::string(state.name)),
               nlohmann::json(field(d, "state") == std::string(state.name)));
    }
  }

  const nlohmann::json& ts = field(s, "targets");
  auto per_target = [&](const char* name, const char* type, const char* help, const char* key) {
    w.Family(name, type, help);
    for (const auto& t : ts) {
      w.Sample(name,
               Label("target", t["name"]) + "," + Label("destination", field(t, "destination")),
               field(t, key));
    }
  };
  per_target("ferry_target_cursor_seq", "gauge", "the last seq the target has", "cursor");
  per_target("ferry_target_lag_events", "gauge", "events the target has not received",
             "lag_events");
  per_target("ferry_target_lag_seconds", "gauge",
             "age of the oldest event the target has not received", "lag_seconds");
  per_target("ferry_target_dead_letters", "gauge", "entries the target refused, kept for retry",
             "dead_letters");
  per_target("ferry_target_events_delivered_total", "counter", "events delivered, all time",
             "events_delivered");
  per_target("ferry_target_bytes_sent_total", "counter", "bytes sent, as rsync reports them",
             "bytes_sent");
  per_target("ferry_target_events_per_second", "gauge", "events delivered per second, last minute",
             "events_per_s");
  per_target("ferry_target_last_success_timestamp_seconds", "gauge",
             "unix time of the last delivered batch", "last_success");
  w.Family("ferry_target_rsync_runs_total", "counter",
           "transfers run since ferryd started, by outcome");
  for (const auto& t : ts) {
    const std::string l = Label("target", t["name"]);
    w.Sample("ferry_target_rsync_runs_total", l + ",outcome=\"ok\"", field(t, "transfers_ok"));
    w.Sample("ferry_target_rsync_runs_total", l + ",outcome=\"failed\"",
             field(t, "transfers_failed"));
  }
  w.Family("ferry_target_state", "gauge", "1 for the target's state");
  for (const auto& t : ts) {
    for (const StateInfo& state : kTargetStates) {
      w.Sample("ferry_target_state",
               Label("target", t["name"]) + "," + Label("state", std::string(state.name)),
               nlohmann::json(field(t, "state") == std::string(state.name)));
    }
  }
  return w.str();
}

}  // namespace ferry
