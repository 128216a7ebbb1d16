#include "tools/log_format.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include "tests/lib/scoped_tz.h"

namespace ferry {
namespace {

// 2026-11-21 10:00:01.123456789 UTC.
constexpr int64_t kTime = 1795255201'123456789;

using testing::HaveZone;
using testing::ScopedTz;

Event MakeEvent(EventKind kind, std::string path, bool is_dir = false, std::string old_path = "") {
  Event e;
  e.seq = 42;
  e.time_ns = kTime;
  e.destination = 3;
  e.kind = kind;
  e.is_dir = is_dir;
  e.path = std::move(path);
  e.old_path = std::move(old_path);
  return e;
}

const EventContext kCtx{"www", {"backup"}, {"mirror", "offsite"}};

class LogFormatTest : public ::testing::Test {
 protected:
  ScopedTz tz_{"UTC"};
};

TEST(OutputModeTest, ParsesEveryNameAndListsThemOnError) {
  for (OutputMode m : {OutputMode::kShort, OutputMode::kShortIso, OutputMode::kJson,
                       OutputMode::kJsonPretty, OutputMode::kCat, OutputMode::kVerbose}) {
    Result<OutputMode> r = ParseOutputMode(OutputModeName(m));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(*r, m);
  }
  Result<OutputMode> bad = ParseOutputMode("jsonx");
  ASSERT_FALSE(bad.has_value());
  EXPECT_TRUE(bad.error().IsInvalidArgument());
  EXPECT_EQ(bad.error().message(),
            "unknown output mode \"jsonx\"; allowed: short, short-iso, json, json-pretty, cat, "
            "verbose");
}

TEST_F(LogFormatTest, TimesInUtc) {
  EXPECT_EQ(FormatTimeShort(kTime), "Nov 21 10:00:01.123456");
  EXPECT_EQ(FormatTimeIso(kTime), "2026-11-21T10:00:01.123456+00:00");
  EXPECT_EQ(FormatTimeShort(1793491200'000000000), "Nov 01 00:00:00.000000");
  EXPECT_EQ(FormatTimeShort(-1), "Dec 31 23:59:59.999999");
  EXPECT_EQ(FormatTimeIso(-1), "1969-12-31T23:59:59.999999+00:00");
}

TEST(LogFormatTzTest, TimesInBerlinAndNewYork) {
  if (!HaveZone("Europe/Berlin") || !HaveZone("America/New_York")) GTEST_SKIP() << "no tzdata";
  {
    ScopedTz tz("Europe/Berlin");
    EXPECT_EQ(FormatTimeShort(kTime), "Nov 21 11:00:01.123456");
    EXPECT_EQ(FormatTimeIso(kTime), "2026-11-21T11:00:01.123456+01:00");
    EXPECT_EQ(FormatTimeIso(1782900000'000000000), "2026-07-01T12:00:00.000000+02:00");
  }
  ScopedTz tz("America/New_York");
  EXPECT_EQ(FormatTimeIso(kTime), "2026-11-21T05:00:01.123456-05:00");
}

TEST_F(LogFormatTest, Short) {
  EXPECT_EQ(FormatEvent(MakeEvent(EventKind::kCreate, "a/b.txt"), kCtx, OutputMode::kShort),
            "Nov 21 10:00:01.123456 #42 www create a/b.txt\n");
  EXPECT_EQ(FormatEvent(MakeEvent(EventKind::kCreate, "a/dir", true), kCtx, OutputMode::kShort),
            "Nov 21 10:00:01.123456 #42 www create a/dir/\n");
  EXPECT_EQ(FormatEvent(MakeEvent(EventKind::kMove, "new", true, "old"), kCtx, OutputMode::kShort),
            "Nov 21 10:00:01.123456 #42 www move old/ -> new/\n");
  EXPECT_EQ(
      FormatEvent(MakeEvent(EventKind::kMove, "b\n", false, "a\xff"), kCtx, OutputMode::kShort),
      "Nov 21 10:00:01.123456 #42 www move a\\xff -> b\\n\n");
  EXPECT_EQ(FormatEvent(MakeEvent(EventKind::kRescan, "", true), kCtx, OutputMode::kShort),
            "Nov 21 10:00:01.123456 #42 www rescan .\n");
  EXPECT_EQ(FormatEvent(MakeEvent(EventKind::kDelete, "x"), EventContext{}, OutputMode::kShort),
            "Nov 21 10:00:01.123456 #42 dest#3 delete x\n");
}

TEST_F(LogFormatTest, ShortEscapesOddBytes) {
  Event e = MakeEvent(EventKind::kModify, "caf\xc3\xa9/x\ny\tz\xff\\w");
  EXPECT_EQ(FormatEvent(e, kCtx, OutputMode::kShort),
            "Nov 21 10:00:01.123456 #42 www modify caf\xc3\xa9/x\\ny\\tz\\xff\\\\w\n");
}

TEST_F(LogFormatTest, ShortIso) {
  EXPECT_EQ(FormatEvent(MakeEvent(EventKind::kAttrib, "d", true), kCtx, OutputMode::kShortIso),
            "2026-11-21T10:00:01.123456+00:00 #42 www attrib d/\n");
}

TEST_F(LogFormatTest, JsonUtf8PathIsRaw) {
  Event e = MakeEvent(EventKind::kCreate, "caf\xc3\xa9/a b\n\t\\\"");
  EXPECT_EQ(FormatEvent(e, kCtx, OutputMode::kJson),
            "{\"seq\":42,\"time\":\"2026-11-21T10:00:01.123456+00:00\","
            "\"time_ns\":1795255201123456789,\"destination\":\"www\",\"destination_id\":3,"
            "\"kind\":\"create\",\"is_dir\":false,\"path\":\"caf\xc3\xa9/a b\\n\\t\\\\\\\"\","
            "\"delivered_to\":[\"backup\"],\"pending_for\":[\"mirror\",\"offsite\"]}\n");
}

TEST_F(LogFormatTest, JsonNonUtf8PathAddsBase64) {
  Event e = MakeEvent(EventKind::kMove, "bad\xff", true, "old\xfe\xff/x");
  EXPECT_EQ(FormatEvent(e, EventContext{"www", {}, {}}, OutputMode::kJson),
            "{\"seq\":42,\"time\":\"2026-11-21T10:00:01.123456+00:00\","
            "\"time_ns\":1795255201123456789,\"destination\":\"www\",\"destination_id\":3,"
            "\"kind\":\"move\",\"is_dir\":true,\"path\":\"bad\\\\xff\",\"path_b64\":\"YmFk/w==\","
            "\"old_path\":\"old\\\\xfe\\\\xff/x\",\"old_path_b64\":\"b2xk/v8veA==\","
            "\"delivered_to\":[],\"pending_for\":[]}\n");
}

TEST_F(LogFormatTest, JsonPretty) {
  Event e = MakeEvent(EventKind::kDelete, "gone");
  EXPECT_EQ(FormatEvent(e, kCtx, OutputMode::kJsonPretty),
            "{\n"
            "  \"seq\": 42,\n"
            "  \"time\": \"2026-11-21T10:00:01.123456+00:00\",\n"
            "  \"time_ns\": 1795255201123456789,\n"
            "  \"destination\": \"www\",\n"
            "  \"destination_id\": 3,\n"
            "  \"kind\": \"delete\",\n"
            "  \"is_dir\": false,\n"
            "  \"path\": \"gone\",\n"
            "  \"delivered_to\": [\n"
            "    \"backup\"\n"
            "  ],\n"
            "  \"pending_for\": [\n"
            "    \"mirror\",\n"
            "    \"offsite\"\n"
            "  ]\n"
            "}\n");
}

TEST_F(LogFormatTest, Cat) {
  Event e = MakeEvent(EventKind::kMove, "caf\xc3\xa9\n\xff\\", true, "old");
  EXPECT_EQ(FormatEvent(e, kCtx, OutputMode::kCat), "caf\xc3\xa9\\n\\xff\\\\\n");
  EXPECT_EQ(FormatEvent(e, kCtx, OutputMode::kCat, /*nul_terminated=*/true),
            std::string("caf\xc3\xa9\n\xff\\\0", 9));
  Event root = MakeEvent(EventKind::kFullSync, "", true);
  EXPECT_EQ(FormatEvent(root, kCtx, OutputMode::kCat), ".\n");
  EXPECT_EQ(FormatEvent(root, kCtx, OutputMode::kCat, true), std::string(".\0", 2));
}

TEST_F(LogFormatTest, Verbose) {
  Event e = MakeEvent(EventKind::kMove, "new\tname", true, "old\xff");
  EXPECT_EQ(FormatEvent(e, kCtx, OutputMode::kVerbose),
            "2026-11-21T10:00:01.123456+00:00 #42\n"
            "    seq=42\n"
            "    time=2026-11-21T10:00:01.123456+00:00\n"
            "    time_ns=1795255201123456789\n"
            "    destination=www\n"
            "    destination_id=3\n"
            "    kind=move\n"
            "    is_dir=true\n"
            "    path=new\\tname\n"
            "    old_path=old\\xff\n"
            "    delivered_to=backup\n"
            "    pending_for=mirror,offsite\n");
  EXPECT_EQ(FormatEvent(MakeEvent(EventKind::kModify, "f"), EventContext{}, OutputMode::kVerbose),
            "2026-11-21T10:00:01.123456+00:00 #42\n"
            "    seq=42\n"
            "    time=2026-11-21T10:00:01.123456+00:00\n"
            "    time_ns=1795255201123456789\n"
            "    destination=dest#3\n"
            "    destination_id=3\n"
            "    kind=modify\n"
            "    is_dir=false\n"
            "    path=f\n"
            "    old_path=\n"
            "    delivered_to=\n"
            "    pending_for=\n");
}

TEST(PathGlobTest, RsyncPatternsAndAncestors) {
  Result<PathGlob> g = PathGlob::Create({"*.log", "src/", "/top"});
  ASSERT_TRUE(g.has_value()) << g.error().ToString();
  EXPECT_TRUE(g->Matches("a/b/x.log", false));
  EXPECT_TRUE(g->Matches("x.log", false));
  EXPECT_FALSE(g->Matches("x.logs", false));
  EXPECT_TRUE(g->Matches("src", true));
  EXPECT_FALSE(g->Matches("src", false));  // "src/" is for directories
  EXPECT_TRUE(g->Matches("lib/src/deep/file.c", false));
  EXPECT_TRUE(g->Matches("top/inner", false));
  EXPECT_FALSE(g->Matches("a/top", false));
  EXPECT_TRUE(g->Matches(MakeEvent(EventKind::kMove, "elsewhere", false, "old.log")));
  EXPECT_FALSE(g->Matches(MakeEvent(EventKind::kCreate, "elsewhere")));
  Result<PathGlob> bytes = PathGlob::Create({"*\xff*"});
  ASSERT_TRUE(bytes.has_value());
  EXPECT_TRUE(
      bytes->Matches("dir/a\xff"
                     "b",
                     false));
}

TEST(PathGlobTest, BadPatternIsInvalidArgument) {
  Result<PathGlob> g = PathGlob::Create({"[abc"});
  ASSERT_FALSE(g.has_value());
  EXPECT_TRUE(g.error().IsInvalidArgument());
  EXPECT_NE(g.error().message().find("--path"), std::string::npos) << g.error().message();
  EXPECT_NE(g.error().message().find("[abc"), std::string::npos) << g.error().message();
}

}  // namespace
}  // namespace ferry
