// Time specifications as `ferryctl log --since/--until` accept them, modelled
// on journalctl's (systemd.time(7)). Pure: the caller passes "now".
//
// Accepted forms (keywords and units are case-insensitive; surrounding
// whitespace is ignored):
//   2026-11-21 10:00:00        date and time; 'T' may replace the space
//   2026-11-21 10:00           seconds default to 0
//   2026-11-21 10:00:00.25     a fraction of a second, up to 9 digits
//   2026-11-21                 midnight at the start of that day
//   10:00, 10:00:30            that time today (the date of now_ns)
//   ...Z, ...+01:00, ...-0500, ... UTC
//                              an explicit UTC offset; without one the time
//                              is local, in the zone TZ names (tzset rules)
//   now, today, yesterday, tomorrow
//                              now_ns; local midnight today, -1 day, +1 day
//   -1h, +30m, -90s, -1h30m    relative to now_ns ('-' past, '+' future)
//   10 min ago, 1h ago         now_ns minus the span; "<span> left" adds it
//   @1700000000, @1700000000.5 unix seconds (UTC by definition)
// A span is one or more "<number>[ ]<unit>" terms; units are s, sec,
// second(s), m, min, minute(s), h, hour(s), d, day(s), w, week(s). A bare
// span ("1h") is refused: it is ambiguous without a sign or "ago".
//
// Local times are converted like mktime with tm_isdst = -1: in a DST gap or
// overlap the C library picks the offset. Calendar fields are range-checked
// (2026-02-30 and 24:00 are errors).
//
// Not thread-safe against concurrent setenv("TZ") (localtime_r reads the
// process-wide zone).
#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.h"

namespace ferry {

inline constexpr int64_t kNsPerSec = 1'000'000'000;

// Wall-clock nanoseconds since the Unix epoch for `spec`, evaluated at
// `now_ns` (also nanoseconds since the epoch). InvalidArgument naming the text
// and listing the accepted forms when `spec` is none of them, or when the
// result does not fit in int64 nanoseconds.
Result<int64_t> ParseTimeSpec(std::string_view spec, int64_t now_ns);

}  // namespace ferry
