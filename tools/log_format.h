// How `ferryctl log` prints journal events and selects them by path. Pure
// functions over values; times are shown in the local zone (TZ honoured,
// read through localtime_r, so not safe against a concurrent setenv("TZ")).
//
// Output modes, one event per call, each result ending in its terminator:
//   short       Nov 21 10:00:01.123456 #42 www create dir/name/
//               local time (journalctl's short-precise), seq, destination,
//               kind, path; a move shows "old -> new"; directories end in '/'.
//   short-iso   2026-11-21T10:00:01.123456+01:00 #42 www create dir/name/
//   json        one compact object per line (keys below)
//   json-pretty the same object indented by 2, then a newline
//   cat         the path only; with nul_terminated ("-o cat -0") the raw
//               bytes followed by NUL (for xargs -0 / rsync --from0),
//               otherwise the escaped path followed by '\n'
//   verbose     a header "<iso time> #<seq>" and then every field as an
//               indented key=value line, keys as in JSON; target lists are
//               comma-separated
//
// Human modes (short, short-iso, cat without -0, verbose) pass paths and
// names through EscapePath (journal/escape.h): odd bytes become visible, one
// event is one line. The root of a tree (empty path) shows as ".". In short
// modes a path containing " -> " makes a move ambiguous; use json for
// machines. A destination the caller could not name (empty
// EventContext::destination) shows as "dest#<id>".
//
// JSON keys, in this order: seq, time (as short-iso), time_ns (integer
// nanoseconds since the epoch: exact in 64-bit-integer parsers, but above
// 2^53, so JavaScript-like readers should use "time"), destination,
// destination_id, kind, is_dir, path, [path_b64], [old_path, [old_path_b64]]
// (moves only), delivered_to, pending_for (arrays of target names).
//
// Non-UTF-8 paths in JSON: JSON strings are Unicode, paths are raw bytes.
// When the bytes are valid UTF-8, "path" holds them exactly (JSON escapes
// controls such as \n itself) and there is no "path_b64". Otherwise "path"
// holds EscapePath's form, for humans and grep, and "path_b64" holds the raw
// bytes in standard base64 (RFC 4648, padded). Lossless rule for readers: if
// "path_b64" is present, decode it; else take "path". The same applies to
// "old_path" / "old_path_b64".
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "journal/event.h"

namespace ferry {

class Filter;

enum class OutputMode { kShort, kShortIso, kJson, kJsonPretty, kCat, kVerbose };

// "short", "short-iso", "json", "json-pretty", "cat", "verbose".
std::string_view OutputModeName(OutputMode mode);
// Inverse of OutputModeName; InvalidArgument naming the text and listing the
// allowed modes.
Result<OutputMode> ParseOutputMode(std::string_view name);

// What the journal knows about an event besides the event itself, looked up
// by the caller: the destination's name and which targets have it.
struct EventContext {
  std::string destination;                // name of event.destination
  std::vector<std::string> delivered_to;  // targets whose cursor is >= event.seq
  std::vector<std::string> pending_for;   // targets still to receive it
};

// One event in `mode`, terminator included. `nul_terminated` matters for
// kCat only.
std::string FormatEvent(const Event& event, const EventContext& context, OutputMode mode,
                        bool nul_terminated = false);

// "Nov 21 10:00:01.123456": local time, English month, microseconds.
std::string FormatTimeShort(int64_t ns);
// "2026-11-21T10:00:01.123456+01:00": local time with its UTC offset.
std::string FormatTimeIso(int64_t ns);

// `ferryctl log --path GLOB`: selects events by rsync-style patterns, the
// syntax of `exclude` in ferry.conf (journal/filter.h, which it reuses: *, ?,
// **, [a-z], leading '/' anchors, trailing '/' for directories only,
// "dir/***"). An event matches when its path, or one of its ancestor
// directories, matches any pattern, so `--path src/` selects everything in
// any directory named src; a move also matches by its old_path.
// Immutable; safe to share between threads.
class PathGlob {
 public:
  // InvalidArgument naming the bad pattern.
  static Result<PathGlob> Create(const std::vector<std::string>& patterns);

  bool Matches(std::string_view path, bool is_dir) const;
  bool Matches(const Event& event) const;

 private:
  explicit PathGlob(std::shared_ptr<const Filter> filter) : filter_(std::move(filter)) {}
  std::shared_ptr<const Filter> filter_;
};

}  // namespace ferry
