#include "tools/time_spec.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include "tests/lib/scoped_tz.h"

namespace ferry {
namespace {

constexpr int64_t kSec = 1'000'000'000;
// 2026-11-21 10:00:00 UTC (11:00 CET), a Saturday.
constexpr int64_t kNow = 1795255200 * kSec;

using testing::HaveZone;
using testing::ScopedTz;

int64_t Parse(std::string_view spec, int64_t now = kNow) {
  Result<int64_t> r = ParseTimeSpec(spec, now);
  EXPECT_TRUE(r.has_value()) << spec << ": " << r.error().ToString();
  return r.has_value() ? *r : -1;
}

TEST(TimeSpecTest, AbsoluteUtc) {
  ScopedTz tz("UTC");
  EXPECT_EQ(Parse("2026-11-21 10:00:00"), 1795255200 * kSec);
  EXPECT_EQ(Parse("2026-11-21T10:00:00"), 1795255200 * kSec);
  EXPECT_EQ(Parse("2026-11-21 10:00"), 1795255200 * kSec);
  EXPECT_EQ(Parse("  2026-11-21 10:00:00  "), 1795255200 * kSec);
  EXPECT_EQ(Parse("2026-11-21"), 1795219200 * kSec);
  EXPECT_EQ(Parse("2026-11-21 10:00:00.25"), 1795255200 * kSec + 250'000'000);
  EXPECT_EQ(Parse("2026-11-21 10:00:00.123456789"), 1795255200 * kSec + 123456789);
  EXPECT_EQ(Parse("2028-02-29"), 1835395200 * kSec);  // leap day
  EXPECT_EQ(Parse("1970-01-01"), 0);
}

TEST(TimeSpecTest, ExplicitOffsets) {
  ScopedTz tz("UTC");
  EXPECT_EQ(Parse("2026-11-21T10:00:00Z"), 1795255200 * kSec);
  EXPECT_EQ(Parse("2026-11-21 10:00:00 UTC"), 1795255200 * kSec);
  EXPECT_EQ(Parse("2026-11-21T10:00:00+01:00"), 1795251600 * kSec);
  EXPECT_EQ(Parse("2026-11-21 10:00:00 +01:00"), 1795251600 * kSec);
  EXPECT_EQ(Parse("2026-11-21T10:00:00-0500"), 1795273200 * kSec);
  EXPECT_EQ(Parse("2026-11-21t10:00z"), 1795255200 * kSec);
}

TEST(TimeSpecTest, TimeOfDayIsToday) {
  ScopedTz tz("UTC");
  const int64_t now = 1795264496 * kSec + 789;  // 12:34:56 UTC
  EXPECT_EQ(Parse("10:00", now), 1795255200 * kSec);
  EXPECT_EQ(Parse("10:00:30", now), 1795255230 * kSec);
  EXPECT_EQ(Parse("9:00Z", now), 1795251600 * kSec);
  EXPECT_EQ(Parse("23:00+01:00", now), (1795219200 + 22 * 3600) * kSec);
}

TEST(TimeSpecTest, Keywords) {
  ScopedTz tz("UTC");
  const int64_t now = kNow + 123456789;
  EXPECT_EQ(Parse("now", now), now);
  EXPECT_EQ(Parse("NOW", now), now);
  EXPECT_EQ(Parse("today", now), 1795219200 * kSec);
  EXPECT_EQ(Parse("yesterday", now), 1795132800 * kSec);
  EXPECT_EQ(Parse("Tomorrow", now), 1795305600 * kSec);
}

TEST(TimeSpecTest, Relative) {
  ScopedTz tz("UTC");
  EXPECT_EQ(Parse("-1h"), kNow - 3600 * kSec);
  EXPECT_EQ(Parse("+30m"), kNow + 1800 * kSec);
  EXPECT_EQ(Parse("-90s"), kNow - 90 * kSec);
  EXPECT_EQ(Parse("-1h30m"), kNow - 5400 * kSec);
  EXPECT_EQ(Parse("-1h 30min"), kNow - 5400 * kSec);
  EXPECT_EQ(Parse("-2d"), kNow - 2 * 86400 * kSec);
  EXPECT_EQ(Parse("+1w"), kNow + 7 * 86400 * kSec);
  EXPECT_EQ(Parse("10 min ago"), kNow - 600 * kSec);
  EXPECT_EQ(Parse("2 hours ago"), kNow - 7200 * kSec);
  EXPECT_EQ(Parse("1h ago"), kNow - 3600 * kSec);
  EXPECT_EQ(Parse("1 HOUR AGO"), kNow - 3600 * kSec);
  EXPECT_EQ(Parse("1 second ago"), kNow - kSec);
  EXPECT_EQ(Parse("3 secs ago"), kNow - 3 * kSec);
  EXPECT_EQ(Parse("1 minute ago"), kNow - 60 * kSec);
  EXPECT_EQ(Parse("3 days ago"), kNow - 3 * 86400 * kSec);
  EXPECT_EQ(Parse("1 week ago"), kNow - 7 * 86400 * kSec);
  EXPECT_EQ(Parse("2 weeks ago"), kNow - 14 * 86400 * kSec);
  EXPECT_EQ(Parse("1 day 2 hours ago"), kNow - 26 * 3600 * kSec);
  EXPECT_EQ(Parse("5 sec left"), kNow + 5 * kSec);
}

TEST(TimeSpecTest, UnixSeconds) {
  EXPECT_EQ(Parse("@1700000000"), 1700000000 * kSec);
  EXPECT_EQ(Parse("@1700000000.5"), 1700000000 * kSec + 500'000'000);
  EXPECT_EQ(Parse("@0"), 0);
}

TEST(TimeSpecTest, BadInputNamesTextAndForms) {
  ScopedTz tz("UTC");
  for (const char* bad : {"",
                          "   ",
                          "garbage",
                          "1h",
                          "10 min",
                          "2026-02-30",
                          "2026-13-01",
                          "2026-00-10",
                          "25:00",
                          "10:60",
                          "10:00:61",
                          "-1 fortnight",
                          "@abc",
                          "@",
                          "@12x",
                          "2026-11-21 10:00:00 +25:00",
                          "2026-11-21 10",
                          "2026/11/21",
                          "10:00 CET",
                          "ago",
                          "-",
                          "+h",
                          "2026-11-21 10:00:00.1234567890",
                          "99999999999 weeks ago",
                          "@99999999999999"}) {
    Result<int64_t> r = ParseTimeSpec(bad, kNow);
    ASSERT_FALSE(r.has_value()) << "accepted \"" << bad << "\" as " << *r;
    EXPECT_TRUE(r.error().IsInvalidArgument()) << bad;
    EXPECT_NE(r.error().message().find(std::string("\"") + bad + "\""), std::string::npos)
        << r.error().message();
    EXPECT_NE(r.error().message().find("accepted: "), std::string::npos) << bad;
    EXPECT_NE(r.error().message().find("ago"), std::string::npos) << bad;
  }
}

TEST(TimeSpecTest, BareSpanSuggestsSign) {
  Result<int64_t> r = ParseTimeSpec("1h", kNow);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("needs a sign"), std::string::npos) << r.error().message();
}

TEST(TimeSpecTest, LocalTimeHonoursTz) {
  if (!HaveZone("Europe/Berlin")) GTEST_SKIP() << "no tzdata for Europe/Berlin";
  ScopedTz tz("Europe/Berlin");
  // November: CET, UTC+1.
  EXPECT_EQ(Parse("2026-11-21 10:00:00"), 1795251600 * kSec);
  EXPECT_EQ(Parse("10:00"), 1795251600 * kSec);
  EXPECT_EQ(Parse("today"), 1795215600 * kSec);
  // An explicit offset ignores TZ.
  EXPECT_EQ(Parse("2026-11-21 10:00:00Z"), 1795255200 * kSec);
  EXPECT_EQ(Parse("@1700000000"), 1700000000 * kSec);
  // July: CEST, UTC+2.
  EXPECT_EQ(Parse("2026-07-01 12:00"), 1782900000 * kSec);
  // 23:30 UTC on the 20th is already the 21st in Berlin.
  EXPECT_EQ(Parse("today", 1795215600 * kSec + 1800 * kSec), 1795215600 * kSec);
  // Yesterday across the spring-forward night (2026-03-29 02:00 CET).
  EXPECT_EQ(Parse("yesterday", 1774872000 * kSec), 1774738800 * kSec);
}

}  // namespace
}  // namespace ferry
