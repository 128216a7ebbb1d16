#include "tools/time_spec.h"

#include <cerrno>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>

#include "journal/escape.h"

namespace ferry {
namespace {

constexpr std::string_view kAcceptedForms =
    "accepted: \"2026-11-21 10:00:00\" (also with 'T', \".123\", \"Z\", \"+01:00\" or \" UTC\"), "
    "\"2026-11-21\", \"10:00[:00]\", \"now\", \"today\", \"yesterday\", \"tomorrow\", "
    "\"-1h\", \"+30m\", \"-1h30m\", \"10 min ago\", \"1h ago\", \"@1700000000\"; "
    "units s, sec, second(s), m, min, minute(s), h, hour(s), d, day(s), w, week(s)";

Status Invalid(std::string_view spec, std::string_view why) {
  std::string msg = "time \"" + EscapePath(spec) + "\": " + std::string(why);
  return Status::InvalidArgument(msg + "; " + std::string(kAcceptedForms));
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads a run of at most `max` digits (at least `min`) from s[*i].
std::optional<int64_t> Digits(std::string_view s, size_t* i, size_t min, size_t max) {
  size_t n = 0;
  int64_t v = 0;
  while (*i < s.size() && n < max && IsDigit(s[*i])) {
    v = v * 10 + (s[(*i)++] - '0');
    ++n;
  }
  if (n < min) return std::nullopt;
  return v;
}

std::optional<int64_t> UnitNs(std::string_view u) {
  if (u == "s" || u == "sec" || u == "secs" || u == "second" || u == "seconds") return kNsPerSec;
  if (u == "m" || u == "min" || u == "mins" || u == "minute" || u == "minutes") {
    return 60 * kNsPerSec;
  }
  if (u == "h" || u == "hr" || u == "hour" || u == "hours") return 3600 * kNsPerSec;
  if (u == "d" || u == "day" || u == "days") return 86400 * kNsPerSec;
  if (u == "w" || u == "week" || u == "weeks") return 7 * 86400 * kNsPerSec;
  return std::nullopt;
}

// "1h30m", "10 min", "2 hours 5 min": the span in ns. nullopt when `s` is not
// a span; `overflow` set when it is one but too long.
std::optional<int64_t> ParseSpan(std::string_view s, bool* overflow) {
  int64_t total = 0;
  size_t i = 0;
  bool any = false;
  while (true) {
    while (i < s.size() && s[i] == ' ') ++i;
    if (i == s.size()) break;
    size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == start || i - start > 18) return std::nullopt;
    int64_t n = std::stoll(std::string(s.substr(start, i - start)));
    while (i < s.size() && s[i] == ' ') ++i;
    size_t ustart = i;
    while (i < s.size() && s[i] >= 'a' && s[i] <= 'z') ++i;
    std::optional<int64_t> unit = UnitNs(s.substr(ustart, i - ustart));
    if (!unit) return std::nullopt;
    int64_t term;
    if (__builtin_mul_overflow(n, *unit, &term) || __builtin_add_overflow(total, term, &total)) {
      *overflow = true;
    }
    any = true;
  }
  if (!any) return std::nullopt;
  return total;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t y, int64_t m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

struct Civil {
  int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, frac_ns = 0;
};

// Seconds + fraction to ns; nullopt on overflow.
std::optional<int64_t> ToNs(int64_t seconds, int64_t frac_ns) {
  int64_t ns;
  if (__builtin_mul_overflow(seconds, kNsPerSec, &ns) || __builtin_add_overflow(ns, frac_ns, &ns)) {
    return std::nullopt;
  }
  return ns;
}

// Local wall time to epoch seconds, as mktime does (TZ honoured).
std::optional<int64_t> LocalToEpoch(const Civil& c) {
  struct tm tm = {};
  tm.tm_year = static_cast<int>(c.year - 1900);
  tm.tm_mon = static_cast<int>(c.month - 1);
  tm.tm_mday = static_cast<int>(c.day);
  tm.tm_hour = static_cast<int>(c.hour);
  tm.tm_min = static_cast<int>(c.minute);
  tm.tm_sec = static_cast<int>(c.second);
  tm.tm_isdst = -1;
  errno = 0;
  time_t t = mktime(&tm);
  if (t == static_cast<time_t>(-1) && errno != 0) return std::nullopt;
  return static_cast<int64_t>(t);
}

Civil LocalDate(int64_t epoch_s) {
  time_t t = static_cast<time_t>(epoch_s);
  struct tm tm = {};
  localtime_r(&t, &tm);
  return Civil{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
}

Civil UtcDate(int64_t epoch_s) {
  time_t t = static_cast<time_t>(epoch_s);
  struct tm tm = {};
  gmtime_r(&t, &tm);
  return Civil{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
}

// Parses "HH:MM[:SS[.frac]]" at s[*i].
bool ParseClock(std::string_view s, size_t* i, Civil* c) {
  auto h = Digits(s, i, 1, 2);
  if (!h || *i >= s.size() || s[*i] != ':') return false;
  ++*i;
  auto m = Digits(s, i, 2, 2);
  if (!m) return false;
  c->hour = *h;
  c->minute = *m;
  if (*i < s.size() && s[*i] == ':') {
    ++*i;
    auto sec = Digits(s, i, 2, 2);
    if (!sec) return false;
    c->second = *sec;
    if (*i < s.size() && s[*i] == '.') {
      ++*i;
      size_t start = *i;
      auto frac = Digits(s, i, 1, 9);
      if (!frac) return false;
      c->frac_ns = *frac;
      for (size_t n = *i - start; n < 9; ++n) c->frac_ns *= 10;
    }
  }
  return true;
}

// Parses an optional UTC offset ("z", "utc", "+01:00", "-0500") ending `s`.
// Returns false on junk; sets *offset_s when an offset is present.
bool ParseZone(std::string_view s, size_t* i, std::optional<int64_t>* offset_s) {
  while (*i < s.size() && s[*i] == ' ') ++*i;
  std::string_view rest = s.substr(*i);
  if (rest.empty()) return true;
  if (rest == "z" || rest == "utc") {
    *offset_s = 0;
    *i = s.size();
    return true;
  }
  if (rest[0] != '+' && rest[0] != '-') return false;
  const int64_t sign = rest[0] == '-' ? -1 : 1;
  ++*i;
  auto hh = Digits(s, i, 2, 2);
  if (!hh) return false;
  if (*i < s.size() && s[*i] == ':') ++*i;
  auto mm = Digits(s, i, 2, 2);
  if (!mm || *hh > 23 || *mm > 59 || *i != s.size()) return false;
  *offset_s = sign * (*hh * 3600 + *mm * 60);
  return true;
}

Result<int64_t> ParseAbsolute(std::string_view spec, std::string_view s, int64_t now_ns) {
  Civil c;
  size_t i = 0;
  bool has_date = false;
  if (s.size() >= 10 && s[4] == '-' && s[7] == '-') {
    auto y = Digits(s, &i, 4, 4);
    ++i;
    auto mo = Digits(s, &i, 2, 2);
    ++i;
    auto d = Digits(s, &i, 2, 2);
    if (!y || !mo || !d || i != 10) return Invalid(spec, "not understood");
    c.year = *y, c.month = *mo, c.day = *d;
    has_date = true;
    if (c.month < 1 || c.month > 12 || c.day < 1 || c.day > DaysInMonth(c.year, c.month)) {
      return Invalid(spec, "no such date");
    }
    if (i < s.size() && (s[i] == ' ' || s[i] == 't')) {
      ++i;
      while (i < s.size() && s[i] == ' ') ++i;
      if (!ParseClock(s, &i, &c)) return Invalid(spec, "not understood");
    }
  } else if (!ParseClock(s, &i, &c)) {
    return Invalid(spec, "not understood");
  }
  if (c.hour > 23 || c.minute > 59 || c.second > 59) return Invalid(spec, "no such time of day");
  std::optional<int64_t> offset;
  if (!ParseZone(s, &i, &offset)) return Invalid(spec, "not understood");

  const int64_t now_s = FloorDiv(now_ns, kNsPerSec);
  if (!has_date) {
    Civil today = offset ? UtcDate(now_s + *offset) : LocalDate(now_s);
    c.year = today.year, c.month = today.month, c.day = today.day;
  }
  std::optional<int64_t> epoch_s;
  if (offset) {
    epoch_s = DaysFromCivil(c.year, c.month, c.day) * 86400 + c.hour * 3600 + c.minute * 60 +
              c.second - *offset;
  } else {
    epoch_s = LocalToEpoch(c);
  }
  std::optional<int64_t> ns = epoch_s ? ToNs(*epoch_s, c.frac_ns) : std::nullopt;
  if (!ns) return Invalid(spec, "out of range");
  return *ns;
}

Result<int64_t> LocalMidnight(std::string_view spec, int64_t now_ns, int day_delta) {
  Civil c = LocalDate(FloorDiv(now_ns, kNsPerSec));
  c.day += day_delta;  // mktime normalizes day 0 and day 32
  std::optional<int64_t> epoch_s = LocalToEpoch(c);
  std::optional<int64_t> ns = epoch_s ? ToNs(*epoch_s, 0) : std::nullopt;
  if (!ns) return Invalid(spec, "out of range");
  return *ns;
}

Result<int64_t> Relative(std::string_view spec, std::string_view span, int64_t now_ns, int sign) {
  bool overflow = false;
  std::optional<int64_t> ns = ParseSpan(span, &overflow);
  if (!ns) return Invalid(spec, "not a time span");
  int64_t out;
  if (overflow || __builtin_add_overflow(now_ns, sign * *ns, &out)) {
    return Invalid(spec, "out of range");
  }
  return out;
}

Result<int64_t> UnixSeconds(std::string_view spec, std::string_view s) {
  size_t i = 0;
  const bool negative = !s.empty() && s[0] == '-';
  if (negative) ++i;
  auto secs = Digits(s, &i, 1, 18);
  if (!secs) return Invalid(spec, "expected unix seconds after '@'");
  int64_t frac = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t start = i;
    auto f = Digits(s, &i, 1, 9);
    if (!f) return Invalid(spec, "expected unix seconds after '@'");
    frac = *f;
    for (size_t n = i - start; n < 9; ++n) frac *= 10;
  }
  if (i != s.size()) return Invalid(spec, "expected unix seconds after '@'");
  std::optional<int64_t> ns = ToNs(*secs, frac);
  if (!ns) return Invalid(spec, "out of range");
  return negative ? -*ns : *ns;
}

}  // namespace

Result<int64_t> ParseTimeSpec(std::string_view spec, int64_t now_ns) {
  const std::string lower = Lower(Trim(spec));
  const std::string_view s = lower;
  if (s.empty()) return Invalid(spec, "empty");
  if (s == "now") return now_ns;
  if (s == "today") return LocalMidnight(spec, now_ns, 0);
  if (s == "yesterday") return LocalMidnight(spec, now_ns, -1);
  if (s == "tomorrow") return LocalMidnight(spec, now_ns, 1);
  if (s[0] == '@') return UnixSeconds(spec, s.substr(1));
  if (s.ends_with("ago") || s.ends_with("left")) {
    const bool ago = s.ends_with("ago");
    std::string_view span = s.substr(0, s.size() - (ago ? 3 : 4));
    return Relative(spec, span, now_ns, ago ? -1 : 1);
  }
  if (s[0] == '-' || s[0] == '+') return Relative(spec, s.substr(1), now_ns, s[0] == '-' ? -1 : 1);
  if (bool overflow = false; ParseSpan(s, &overflow)) {
    return Invalid(spec, "a span needs a sign or \"ago\" (\"-1h\", \"+1h\", \"1h ago\")");
  }
  return ParseAbsolute(spec, s, now_ns);
}

}  // namespace ferry
