#include "tools/log_format.h"

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "journal/escape.h"
#include "journal/filter.h"
#include "journal/status_json.h"
#include "tools/time_spec.h"

namespace ferry {
namespace {

using Json = nlohmann::ordered_json;

struct Split {
  time_t seconds;
  int64_t micros;
};

// Floors toward the past, so -1 ns is 23:59:59.999999 of the day before.
Split SplitNs(int64_t ns) {
  int64_t s = ns / kNsPerSec;
  int64_t rem = ns % kNsPerSec;
  if (rem < 0) {
    rem += kNsPerSec;
    --s;
  }
  return Split{static_cast<time_t>(s), rem / 1000};
}

// The root of a tree has the empty path; show it as ".".
std::string HumanPath(std::string_view path, bool is_dir) {
  if (path.empty()) return ".";
  std::string out = EscapePath(path);
  if (is_dir) out += '/';
  return out;
}

std::string DestinationName(const Event& e, const EventContext& ctx) {
  if (ctx.destination.empty()) return "dest#" + std::to_string(e.destination);
  return EscapePath(ctx.destination);
}

std::string Joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) {
    if (!out.empty()) out += ',';
    out += EscapePath(n);
  }
  return out;
}

std::string ShortLine(const Event& e, const EventContext& ctx, const std::string& time) {
  std::string line = time + " #" + std::to_string(e.seq) + " " + DestinationName(e, ctx) + " " +
                     std::string(KindName(e.kind)) + " ";
  if (e.kind == EventKind::kMove) line += HumanPath(e.old_path, e.is_dir) + " -> ";
  line += HumanPath(e.path, e.is_dir);
  line += '\n';
  return line;
}

std::string Verbose(const Event& e, const EventContext& ctx) {
  const std::string iso = FormatTimeIso(e.time_ns);
  std::string out = iso + " #" + std::to_string(e.seq) + "\n";
  auto field = [&](std::string_view key, const std::string& value) {
    out += "    ";
    out += key;
    out += '=';
    out += value;
    out += '\n';
  };
  field("seq", std::to_string(e.seq));
  field("time", iso);
  field("time_ns", std::to_string(e.time_ns));
  field("destination", DestinationName(e, ctx));
  field("destination_id", std::to_string(e.destination));
  field("kind", std::string(KindName(e.kind)));
  field("is_dir", e.is_dir ? "true" : "false");
  field("path", EscapePath(e.path));
  field("old_path", EscapePath(e.old_path));
  field("delivered_to", Joined(ctx.delivered_to));
  field("pending_for", Joined(ctx.pending_for));
  return out;
}

// A name that should be UTF-8 (destination, target): escaped if it is not.
std::string JsonName(std::string_view name) {
  return IsValidUtf8(name) ? std::string(name) : EscapePath(name);
}

std::string JsonEvent(const Event& e, const EventContext& ctx, bool pretty) {
  Json obj;
  obj["seq"] = e.seq;
  obj["time"] = FormatTimeIso(e.time_ns);
  obj["time_ns"] = e.time_ns;
  obj["destination"] =
      ctx.destination.empty() ? DestinationName(e, ctx) : JsonName(ctx.destination);
  obj["destination_id"] = e.destination;
  obj["kind"] = std::string(KindName(e.kind));
  obj["is_dir"] = e.is_dir;
  PutPath(obj, "path", e.path);
  if (e.kind == EventKind::kMove || !e.old_path.empty()) PutPath(obj, "old_path", e.old_path);
  Json delivered = Json::array();
  for (const std::string& t : ctx.delivered_to) delivered.push_back(JsonName(t));
  Json pending = Json::array();
  for (const std::string& t : ctx.pending_for) pending.push_back(JsonName(t));
  obj["delivered_to"] = std::move(delivered);
  obj["pending_for"] = std::move(pending);
  // Every string is valid UTF-8 by now; `replace` only guards against a bug
  // turning into an exception.
  return obj.dump(pretty ? 2 : -1, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace

std::string_view OutputModeName(OutputMode mode) {
  switch (mode) {
    case OutputMode::kShort:
      return "short";
    case OutputMode::kShortIso:
      return "short-iso";
    case OutputMode::kJson:
      return "json";
    case OutputMode::kJsonPretty:
      return "json-pretty";
    case OutputMode::kCat:
      return "cat";
    case OutputMode::kVerbose:
      return "verbose";
  }
  return "?";
}

Result<OutputMode> ParseOutputMode(std::string_view name) {
  static constexpr OutputMode kAll[] = {OutputMode::kShort, OutputMode::kShortIso,
                                        OutputMode::kJson,  OutputMode::kJsonPretty,
                                        OutputMode::kCat,   OutputMode::kVerbose};
  std::string allowed;
  for (OutputMode m : kAll) {
    if (OutputModeName(m) == name) return m;
    if (!allowed.empty()) allowed += ", ";
    allowed += OutputModeName(m);
  }
  return Status::InvalidArgument("unknown output mode \"" + EscapePath(name) +
                                 "\"; allowed: " + allowed);
}

std::string FormatEvent(const Event& event, const EventContext& context, OutputMode mode,
                        bool nul_terminated) {
  switch (mode) {
    case OutputMode::kShort:
      return ShortLine(event, context, FormatTimeShort(event.time_ns));
    case OutputMode::kShortIso:
      return ShortLine(event, context, FormatTimeIso(event.time_ns));
    case OutputMode::kJson:
      return JsonEvent(event, context, /*pretty=*/false);
    case OutputMode::kJsonPretty:
      return JsonEvent(event, context, /*pretty=*/true);
    case OutputMode::kCat:
      if (nul_terminated) {
        std::string out = event.path.empty() ? std::string(".") : event.path;
        out.push_back('\0');
        return out;
      }
      return (event.path.empty() ? std::string(".") : EscapePath(event.path)) + "\n";
    case OutputMode::kVerbose:
      return Verbose(event, context);
  }
  return {};
}

std::string FormatTimeShort(int64_t ns) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  Split t = SplitNs(ns);
  struct tm tm = {};
  localtime_r(&t.seconds, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s %02d %02d:%02d:%02d.%06lld", kMonths[tm.tm_mon % 12],
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(t.micros));
  return buf;
}

std::string FormatTimeIso(int64_t ns) {
  Split t = SplitNs(ns);
  struct tm tm = {};
  localtime_r(&t.seconds, &tm);
  long offset = tm.tm_gmtoff;
  const char sign = offset < 0 ? '-' : '+';
  if (offset < 0) offset = -offset;
  char buf[80];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lld%c%02ld:%02ld",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(t.micros), sign, offset / 3600, (offset / 60) % 60);
  return buf;
}

Result<PathGlob> PathGlob::Create(const std::vector<std::string>& patterns) {
  FilterSpec spec;
  spec.exclude = patterns;
  spec.ignore_temp_files = false;
  auto filter = Filter::Create(spec);
  if (!filter) return filter.error().WithContext("--path");
  return PathGlob(std::move(*filter));
}

bool PathGlob::Matches(std::string_view path, bool is_dir) const {
  return filter_->Explain(path, is_dir).has_value();
}

bool PathGlob::Matches(const Event& event) const {
  if (Matches(event.path, event.is_dir)) return true;
  return event.kind == EventKind::kMove && Matches(event.old_path, event.is_dir);
}

}  // namespace ferry
