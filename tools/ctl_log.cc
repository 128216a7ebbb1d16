// `ferryctl log`: journalctl for ferry's change journal.
//
// Reads through a read-only follower (Ctl::OpenReader), so it works while
// ferryd runs. Memory stays bounded on any journal size: a plain listing
// streams forward; -n N keeps the newest N matches, found by reading backwards
// in seq chunks of kChunk; -r reads the same chunks and prints each one
// newest first. -f polls CatchUp() every kFollowPollMs.
#include <unistd.h>

#include <algorithm>
#include <bitset>
#include <boost/program_options.hpp>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include "journal/escape.h"
#include "tools/ctl.h"
#include "tools/cursor_file.h"
#include "tools/log_format.h"

namespace ferry {

// tools/ctl_log_term.cc
namespace log_term {
void InstallSignals();
void RestoreSignals();
bool StopRequested();
bool Tick(int ms, int out_fd);
int StartPager(pid_t* pid);
void FinishPager(int fd, pid_t pid);
}  // namespace log_term

namespace {

namespace po = boost::program_options;

constexpr uint64_t kChunk = 10'000;
constexpr int kFollowPollMs = 50;
constexpr uint64_t kFollowDefaultLines = 10;

constexpr char kUsage[] = R"(Usage: ferryctl log [options]

Shows the changes ferryd journaled, oldest first, like journalctl: one line per
event with its time, seq, destination, kind and path. Options narrow the
selection (all of them must match) and change the output.

Examples:
  ferryctl log                          everything (through less when on a terminal)
  ferryctl log -n 20                    the last 20 events
  ferryctl log -f                       the last 10, then new ones as they come (Ctrl-C stops)
  ferryctl log -r -n 5 -o verbose       the newest 5, newest first, with the targets that have them
  ferryctl log --since "1h ago" --kind delete,move
  ferryctl log --since "2026-11-21 10:00" --until "2026-11-21 11:00" --destination www
  ferryctl log --path 'uploads/***' --path '*.php' -o json
  ferryctl log --pending mirror         what target mirror has not received yet
  ferryctl log --after-seq 1200 -o cat -0 | xargs -0 ls -ld --
  ferryctl log --cursor-file ~/.ferry-pos -o json    only what is new since the last run
  ferryctl log --show-cursor -n 1       the position of the newest event

)";

// Strict decimal: Boost would wrap "-1" around.
std::optional<uint64_t> ParseU64(const std::string& s) {
  uint64_t v = 0;
  if (s.empty() || s[0] < '0' || s[0] > '9') return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string JoinQuoted(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + EscapePath(n);
  return out.empty() ? "(none)" : out;
}

struct LogOptions {
  std::string lines;  // "", "10", "all", "+5"
  bool follow = false, reverse = false, show_cursor = false, no_pager = false, nul = false;
  bool utc = false;
  std::string output = "short", since, until, after_seq, from_seq, destination, pending;
  std::string cursor_file, after_cursor, cursor;
  std::vector<std::string> kinds, paths, extra;
};

// What -n asked for.
struct Lines {
  enum { kAll, kNewest, kOldest } which = kAll;
  uint64_t n = 0;
};

// Parses `args`; nullopt to go on, else the exit status (help, bad usage).
std::optional<int> ParseArgs(const Ctl& ctl, const std::vector<std::string>& args, LogOptions* o) {
  po::options_description opts("Options", 100, 40);
  auto flag = [](bool* b) { return po::bool_switch(b); };
  opts.add_options()                //
      ("help,h", "show this help")  //
      ("lines,n", po::value(&o->lines)->implicit_value("10")->value_name("N"),
       "the newest N matching events (-n alone: 10; \"all\"; +N: the oldest N)")  //
      ("follow,f", flag(&o->follow),
       "after the selection, print new events as they are journaled; with no -n or "
       "start option it begins with the last 10")       //
      ("reverse,r", flag(&o->reverse), "newest first")  //
      ("output,o", po::value(&o->output)->value_name("MODE"),
       "short (default), short-iso, json, json-pretty, cat, verbose")             //
      (",0", flag(&o->nul), "with -o cat: raw path bytes, each followed by NUL")  //
      ("utc", flag(&o->utc), "show and read times in UTC")                        //
      ("since,S", po::value(&o->since)->value_name("TIME"),
       "events at or after TIME: \"2026-11-21 10:00\", \"yesterday\", \"-1h\", \"10 min ago\", "
       "\"@1700000000\"")                                                                //
      ("until,U", po::value(&o->until)->value_name("TIME"), "events at or before TIME")  //
      ("after-seq", po::value(&o->after_seq)->value_name("N"), "events with seq > N")    //
      ("from-seq", po::value(&o->from_seq)->value_name("N"), "events with seq >= N")     //
      ("destination", po::value(&o->destination)->value_name("NAME"),
       "events of one destination")  //
      ("kind", po::value(&o->kinds)->value_name("KIND"),
       "create, modify, attrib, delete, move, rescan, full_sync; repeat or list with commas")  //
      ("path", po::value(&o->paths)->value_name("GLOB"),
       "events whose path (or a parent dir, or a move's old path) matches an rsync-style "
       "pattern as in exclude: *.log, src/, /top, 'dir/***'; repeatable")  //
      ("pending", po::value(&o->pending)->value_name("TARGET"),
       "the events TARGET has not received yet (its destination, after its cursor)")  //
      ("cursor-file", po::value(&o->cursor_file)->value_name("FILE"),
       "start after the position in FILE if it exists; at the end save the position of "
       "the last event shown there")  //
      ("after-cursor", po::value(&o->after_cursor)->value_name("CURSOR"),
       "start after a position printed by --show-cursor")  //
      ("cursor", po::value(&o->cursor)->value_name("CURSOR"),
       "start at a position printed by --show-cursor")  //
      ("show-cursor", flag(&o->show_cursor),
       "end with \"-- cursor: ...\", the position of the last event shown")  //
      ("no-pager", flag(&o->no_pager),
       "do not pipe into $PAGER (default less -FRSX) when stdout is a terminal");
  po::options_description hidden;
  hidden.add_options()("extra", po::value(&o->extra));
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description positional;
  positional.add("extra", -1);

  // journalctl takes "-n 20" as well as "-n20"; Boost's implicit values only
  // take the attached form.
  std::vector<std::string> argv;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if ((a == "-n" || a == "--lines") && i + 1 < args.size()) {
      const std::string& next = args[i + 1];
      const std::string digits = next.starts_with('+') ? next.substr(1) : next;
      if (next == "all" || ParseU64(digits)) {
        argv.push_back(a == "-n" ? "-n" + next : "--lines=" + next);
        ++i;
        continue;
      }
    }
    argv.push_back(a);
  }
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argv).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    return ctl.Fail(kExUsage, std::string(e.what()) + " (see ferryctl log --help)");
  }
  if (vm.count("help")) {
    std::cout << kUsage << opts << "\nExit status: 0 ok; 64 bad usage; 69 no journal.\n";
    return kExOk;
  }
  if (!o->extra.empty()) {
    return ctl.Fail(kExUsage, "unexpected argument \"" + EscapePath(o->extra[0]) +
                                  "\"; select with --path, --kind, --destination (see "
                                  "ferryctl log --help)");
  }
  return std::nullopt;
}

// Which events to show, besides the seq range.
struct Selection {
  std::optional<uint32_t> destination;
  bool nothing = false;  // e.g. a target whose destination was never journaled
  std::bitset<256> kinds;
  bool any_kind = true;
  std::optional<PathGlob> glob;
  int64_t since = INT64_MIN, until = INT64_MAX;

  bool Matches(const Event& e) const {
    if (nothing) return false;
    if (!any_kind && !kinds.test(static_cast<uint8_t>(e.kind))) return false;
    if (e.time_ns < since || e.time_ns > until) return false;
    return !glob || glob->Matches(e);
  }
};

// Buffered writes to a file descriptor. EPIPE (the reader left) ends the
// output quietly; other errors are kept for the caller to report.
class Output {
 public:
  explicit Output(int fd) : fd_(fd) {}
  int fd() const { return fd_; }
  bool broken() const { return broken_; }
  int error() const { return error_; }

  bool Write(std::string_view s) {
    if (broken_) return false;
    buf_.append(s);
    return buf_.size() < (64 << 10) || Flush();
  }
  bool Flush() {
    size_t done = 0;
    while (!broken_ && done < buf_.size()) {
      ssize_t n = ::write(fd_, buf_.data() + done, buf_.size() - done);
      if (n >= 0) {
        done += static_cast<size_t>(n);
      } else if (errno != EINTR) {
        if (errno != EPIPE) error_ = errno;
        broken_ = true;
      } else if (log_term::StopRequested()) {
        broken_ = true;  // a reader that stopped reading; the user wants out
      }
    }
    buf_.clear();
    return !broken_;
  }

 private:
  int fd_;
  std::string buf_;
  bool broken_ = false;
  int error_ = 0;
};

// Formats events with their context: the destination's name and, when the
// mode shows them, the targets that have or lack each event.
class Printer {
 public:
  Printer(Journal& j, OutputMode mode, bool nul, Output& out)
      : j_(j), mode_(mode), nul_(nul), out_(out) {}

  Status Load(const std::vector<std::pair<std::string, uint32_t>>& destinations) {
    for (const auto& [name, id] : destinations) names_[id] = name;
    return ReloadCursors();
  }
  Status ReloadCursors() {
    if (mode_ != OutputMode::kJson && mode_ != OutputMode::kJsonPretty &&
        mode_ != OutputMode::kVerbose) {
      return Status::Ok();
    }
    auto cursors = j_.ListCursors();
    if (!cursors) return cursors.error();
    cursors_ = std::move(*cursors);
    return Status::Ok();
  }

  bool Print(const Event& e) {
    if (log_term::StopRequested()) return false;
    EventContext ctx;
    auto name = names_.find(e.destination);
    if (name == names_.end() && tried_.insert(e.destination).second) {
      // Registered after we started (follow mode).
      if (auto all = j_.Destinations()) {
        for (const auto& [n, id] : *all) names_[id] = n;
      }
      name = names_.find(e.destination);
    }
    if (name != names_.end()) ctx.destination = name->second;
    for (const auto& [target, c] : cursors_) {
      if (c.destination != e.destination) continue;
      (!c.expired && c.seq >= e.seq ? ctx.delivered_to : ctx.pending_for).push_back(target);
    }
    last_shown_ = std::max(last_shown_, e.seq);
    return out_.Write(FormatEvent(e, ctx, mode_, nul_));
  }

  uint64_t last_shown() const { return last_shown_; }

 private:
  Journal& j_;
  OutputMode mode_;
  bool nul_;
  Output& out_;
  std::map<uint32_t, std::string> names_;
  std::set<uint32_t> tried_;
  std::vector<std::pair<std::string, Cursor>> cursors_;
  uint64_t last_shown_ = 0;
};

using Sink = std::function<bool(const Event&)>;  // false: stop

// Matching events with seq in [lo, hi], oldest first.
Status Forward(Journal& j, const Selection& sel, uint64_t lo, uint64_t hi, const Sink& sink) {
  if (sel.nothing || lo > hi) return Status::Ok();
  ReadOptions ro;
  ro.from_seq = lo;
  ro.to_seq = hi;
  ro.destination = sel.destination;
  ro.on_corruption = [](uint64_t seq, size_t bytes, const Status& why) {
    std::cerr << "ferryctl log: skipped an undecodable record at seq " << seq << " (" << bytes
              << " bytes): " << why.message() << "\n";
  };
  auto reader = j.NewReader(std::move(ro));
  for (; reader->Valid(); reader->Next()) {
    if (log_term::StopRequested()) return Status::Ok();
    if (sel.Matches(reader->event()) && !sink(reader->event())) return Status::Ok();
  }
  return reader->status();
}

// Matching events with seq in [lo, hi], newest first, kChunk seqs at a time.
Status Backward(Journal& j, const Selection& sel, uint64_t lo, uint64_t hi, const Sink& sink) {
  auto oldest = j.OldestSeq();
  if (!oldest) return oldest.error();
  lo = std::max(lo, *oldest);
  std::vector<Event> chunk;
  for (uint64_t top = hi; top >= lo && !sel.nothing;) {
    const uint64_t bottom = top - lo + 1 > kChunk ? top - kChunk + 1 : lo;
    chunk.clear();
    FERRY_RETURN_IF_ERROR(Forward(j, sel, bottom, top, [&](const Event& e) {
      chunk.push_back(e);
      return true;
    }));
    for (auto it = chunk.rbegin(); it != chunk.rend(); ++it) {
      if (log_term::StopRequested() || !sink(*it)) return Status::Ok();
    }
    if (bottom == lo) break;
    top = bottom - 1;
  }
  return Status::Ok();
}

// The selection's events up to `head`, as -n and -r ask.
Status ShowExisting(Journal& j, const Selection& sel, uint64_t from, uint64_t head, Lines lines,
                    bool reverse, Printer& p) {
  const Sink print = [&](const Event& e) { return p.Print(e); };
  if (lines.which == Lines::kAll) {
    return reverse ? Backward(j, sel, from, head, print) : Forward(j, sel, from, head, print);
  }
  if (lines.n == 0) return Status::Ok();
  std::deque<Event> window;  // in reading order
  const Sink keep = [&](const Event& e) {
    window.push_back(e);
    return window.size() < lines.n;
  };
  FERRY_RETURN_IF_ERROR(lines.which == Lines::kNewest ? Backward(j, sel, from, head, keep)
                                                      : Forward(j, sel, from, head, keep));
  // Newest-first when read backwards; print in the order asked.
  const bool newest_first = lines.which == Lines::kNewest;
  if (newest_first != reverse) std::reverse(window.begin(), window.end());
  for (const Event& e : window) {
    if (!p.Print(e)) break;
  }
  return Status::Ok();
}

Result<std::bitset<256>> ParseKinds(const std::vector<std::string>& specs) {
  std::bitset<256> kinds;
  for (const std::string& spec : specs) {
    std::istringstream in(spec);
    for (std::string name; std::getline(in, name, ',');) {
      if (name.empty()) continue;
      auto kind = ParseKind(name);
      if (!kind) {
        std::string known;
        for (uint8_t k = kMinEventKind; k <= kMaxEventKind; ++k) {
          known += (known.empty() ? "" : ", ") + std::string(KindName(static_cast<EventKind>(k)));
        }
        return Status::InvalidArgument("--kind: unknown kind \"" + EscapePath(name) +
                                       "\"; kinds: " + known);
      }
      kinds.set(static_cast<uint8_t>(*kind));
    }
  }
  return kinds;
}

// A --cursor or --after-cursor text, checked against this journal.
Result<uint64_t> CursorSeq(const std::string& option, const std::string& text, Journal& j) {
  auto pos = ParseCursor(text);
  if (!pos) return pos.error().WithContext(option);
  if (!(pos->journal_id == j.id())) {
    return Status::InvalidArgument(option + ": the cursor belongs to journal " +
                                   pos->journal_id.Hex() + ", not to this journal " + j.id().Hex());
  }
  return pos->seq;
}

}  // namespace

int RunLog(Ctl& ctl, const std::vector<std::string>& args) {
  LogOptions o;
  if (auto done = ParseArgs(ctl, args, &o)) return *done;
  auto usage = [&](const std::string& message) { return ctl.Fail(kExUsage, message); };

  if (o.utc) {
    setenv("TZ", "UTC", 1);
    tzset();
  }
  Result<OutputMode> mode = ParseOutputMode(o.output);
  if (!mode) return usage("-o: " + mode.error().message());
  if (o.nul && *mode != OutputMode::kCat) return usage("-0 goes with -o cat only");
  if (o.follow && o.reverse) return usage("--follow and --reverse do not go together");

  Lines lines;
  if (!o.lines.empty() && o.lines != "all") {
    const bool oldest = o.lines.starts_with('+');
    auto n = ParseU64(oldest ? o.lines.substr(1) : o.lines);
    if (!n) return usage("-n: \"" + EscapePath(o.lines) + "\" is not a number, +N or \"all\"");
    lines = {oldest ? Lines::kOldest : Lines::kNewest, *n};
  }
  if (lines.which == Lines::kOldest && o.follow) return usage("-n +N does not go with --follow");

  Selection sel;
  auto kinds = ParseKinds(o.kinds);
  if (!kinds) return usage(kinds.error().message());
  sel.kinds = *kinds;
  sel.any_kind = kinds->none();
  if (!o.paths.empty()) {
    auto glob = PathGlob::Create(o.paths);
    if (!glob) return usage(glob.error().message());
    sel.glob = std::move(*glob);
  }
  for (auto [text, name, out] :
       {std::tuple{&o.since, "--since", &sel.since}, std::tuple{&o.until, "--until", &sel.until}}) {
    if (text->empty()) continue;
    auto when = ParseWhen(*text);
    if (!when) return usage(std::string(name) + ": " + when.error().message());
    *out = *when;
  }

  uint64_t from = 1;
  bool explicit_start = !o.since.empty();
  for (auto [text, name, plus] :
       {std::tuple{&o.from_seq, "--from-seq", 0}, std::tuple{&o.after_seq, "--after-seq", 1}}) {
    if (text->empty()) continue;
    auto n = ParseU64(*text);
    if (!n) return usage(std::string(name) + ": \"" + EscapePath(*text) + "\" is not a seq");
    if (*n == UINT64_MAX && plus) sel.nothing = true;
    from = std::max(from, *n + plus);
    explicit_start = true;
  }

  auto opened = ctl.OpenReader();
  if (!opened) return ctl.Fail(kExUnavailable, opened.error().message());
  Journal& j = **opened;
  auto destinations = j.Destinations();
  if (!destinations) return ctl.Fail(kExUnavailable, destinations.error().message());
  auto destination_id = [&](const std::string& name) -> std::optional<uint32_t> {
    for (const auto& [n, id] : *destinations) {
      if (n == name) return id;
    }
    return std::nullopt;
  };

  if (!o.destination.empty()) {
    sel.destination = destination_id(o.destination);
    if (!sel.destination) {
      std::vector<std::string> known;
      for (const auto& d : *destinations) known.push_back(d.first);
      return usage("--destination: no destination \"" + EscapePath(o.destination) +
                   "\" in the journal; known: " + JoinQuoted(known));
    }
  }
  if (!o.pending.empty()) {
    auto cursors = j.ListCursors();
    if (!cursors) return ctl.Fail(kExUnavailable, cursors.error().message());
    std::optional<Cursor> cursor;
    std::set<std::string> known;
    for (const auto& [name, c] : *cursors) {
      known.insert(name);
      if (name == o.pending) cursor = c;
    }
    for (const TargetConfig& t : ctl.config.targets) known.insert(t.name);
    std::optional<uint32_t> dest;
    if (cursor) {
      dest = cursor->destination;
      from = std::max(from, cursor->seq + 1);
      if (cursor->expired) {
        std::cerr << "ferryctl log: note: target " << EscapePath(o.pending)
                  << "'s cursor expired; it gets a full sync before these events\n";
      }
    } else if (const TargetConfig* t = ctl.FindTarget(o.pending)) {
      // Configured but never started: everything of its destination.
      dest = destination_id(t->destination);
      if (!dest) sel.nothing = true;
    } else {
      return usage("--pending: no target \"" + EscapePath(o.pending) +
                   "\"; known: " + JoinQuoted({known.begin(), known.end()}));
    }
    if (sel.destination && dest && *sel.destination != *dest) {
      return usage("--pending " + EscapePath(o.pending) +
                   " belongs to another destination than "
                   "--destination " +
                   EscapePath(o.destination));
    }
    if (dest) sel.destination = dest;
    explicit_start = true;
  }
  for (auto [text, name, plus] :
       {std::tuple{&o.cursor, "--cursor", 0}, std::tuple{&o.after_cursor, "--after-cursor", 1}}) {
    if (text->empty()) continue;
    auto seq = CursorSeq(name, *text, j);
    if (!seq) return usage(seq.error().message());
    from = std::max(from, *seq + plus);
    explicit_start = true;
  }
  if (!o.cursor_file.empty()) {
    auto saved = ReadCursorFile(o.cursor_file, &j.id());
    if (!saved) {
      const Status& s = saved.error();
      return ctl.Fail(s.IsInvalidArgument() || s.IsCorruption() ? kExUsage : kExUnavailable,
                      s.message());
    }
    if (*saved) {
      from = std::max(from, (*saved)->seq + 1);
      explicit_start = true;
    }
  }
  if (o.follow && o.lines.empty() && !explicit_start) {
    lines = {Lines::kNewest, kFollowDefaultLines};
  }

  log_term::InstallSignals();
  pid_t pager = -1;
  int pager_fd = -1;
  if (!o.follow && !o.no_pager && isatty(STDOUT_FILENO)) pager_fd = log_term::StartPager(&pager);
  Output out(pager_fd >= 0 ? pager_fd : STDOUT_FILENO);
  Printer printer(j, *mode, o.nul, out);
  const uint64_t head = j.LastSeq();
  // Event times never go backwards along seqs: --since and --until are
  // seq bounds found by binary search, so the read costs what it shows.
  uint64_t upto = head;
  if (sel.since != INT64_MIN) {
    auto seq = j.FirstSeqAtTime(sel.since);
    if (!seq) return ctl.Fail(kExUnavailable, seq.error().message());
    from = std::max(from, *seq);
  }
  if (sel.until != INT64_MAX) {
    auto seq = j.FirstSeqAtTime(sel.until + 1);
    if (!seq) return ctl.Fail(kExUnavailable, seq.error().message());
    upto = std::min(upto, *seq - 1);
  }
  Status status = printer.Load(*destinations);
  if (status.ok()) status = ShowExisting(j, sel, from, upto, lines, o.reverse, printer);
  if (status.ok() && o.follow) {
    out.Flush();
    uint64_t next = std::max(from, head + 1);
    const Sink print = [&](const Event& e) { return printer.Print(e); };
    while (status.ok() && !out.broken() && log_term::Tick(kFollowPollMs, out.fd())) {
      status = j.CatchUp();
      if (!status.ok() || j.LastSeq() < next) continue;
      const uint64_t now = j.LastSeq();
      status = printer.ReloadCursors();
      if (status.ok()) status = Forward(j, sel, next, now, print);
      next = now + 1;
      out.Flush();
    }
  }
  CursorPosition position{j.id(), printer.last_shown()};
  if (status.ok() && o.show_cursor && position.seq > 0) {
    out.Write("-- cursor: " + FormatCursor(position) + "\n");
  }
  out.Flush();
  log_term::FinishPager(pager_fd, pager);
  log_term::RestoreSignals();

  if (!status.ok()) return ctl.Fail(kExUnavailable, status.message());
  if (out.error() != 0) {
    return ctl.Fail(kExSoftware, "writing the output: " + std::string(std::strerror(out.error())));
  }
  if (!o.cursor_file.empty() && position.seq > 0) {
    Status s = WriteCursorFile(o.cursor_file, position);
    if (!s.ok()) return ctl.Fail(kExSoftware, s.message());
  }
  return kExOk;
}

}  // namespace ferry
