#include "journal/filter.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace ferry {
namespace {

std::shared_ptr<const Filter> Make(FilterSpec spec) {
  auto f = Filter::Create(spec);
  EXPECT_TRUE(f) << f.error().ToString();
  return f ? *f : nullptr;
}

bool Excluded(const Filter& f, std::string_view path, bool is_dir = false) {
  return f.Explain(path, is_dir).has_value();
}

TEST(FilterTest, UnanchoredNamePatternMatchesAtAnyDepth) {
  auto f = Make({.exclude = {"*.log"}, .ignore_temp_files = false});
  EXPECT_TRUE(Excluded(*f, "a.log"));
  EXPECT_TRUE(Excluded(*f, "x/y/a.log"));
  EXPECT_FALSE(Excluded(*f, "a.log.txt"));
  EXPECT_FALSE(Excluded(*f, "a.logx"));
  EXPECT_TRUE(Excluded(*f, "x.log/inside"));  // a directory named x.log excludes its contents
}

TEST(FilterTest, AnchoredPatternMatchesAtTheTopOnly) {
  auto f = Make({.exclude = {"/cache/"}, .ignore_temp_files = false});
  EXPECT_TRUE(Excluded(*f, "cache", /*is_dir=*/true));
  EXPECT_TRUE(Excluded(*f, "cache/a/b.html"));
  EXPECT_FALSE(Excluded(*f, "cache", /*is_dir=*/false));  // trailing '/': directories only
  EXPECT_FALSE(Excluded(*f, "sub/cache", /*is_dir=*/true));
  EXPECT_FALSE(Excluded(*f, "cachex", true));
}

TEST(FilterTest, DoubleStarCrossesDirectories) {
  auto f = Make({.exclude = {"**/node_modules/"}, .ignore_temp_files = false});
  EXPECT_TRUE(Excluded(*f, "node_modules", true));
  EXPECT_TRUE(Excluded(*f, "a/b/node_modules", true));
  EXPECT_TRUE(Excluded(*f, "a/node_modules/left-pad/index.js"));
  EXPECT_FALSE(Excluded(*f, "a/my_node_modules", true));
  auto mid = Make({.exclude = {"/src/**/gen/"}, .ignore_temp_files = false});
  EXPECT_TRUE(Excluded(*mid, "src/gen", true));
  EXPECT_TRUE(Excluded(*mid, "src/a/b/gen", true));
  EXPECT_FALSE(Excluded(*mid, "x/src/gen", true));
}

TEST(FilterTest, PatternWithSlashMatchesTrailingComponents) {
  auto f =
      Make({.exclude = {"logs/*.gz", "tmp/***", "/a?c", "[!a-c]x"}, .ignore_temp_files = false});
  EXPECT_TRUE(Excluded(*f, "logs/old.gz"));
  EXPECT_TRUE(Excluded(*f, "srv/logs/old.gz"));
  EXPECT_FALSE(Excluded(*f, "logs/sub/old.gz"));  // '*' does not cross '/'
  EXPECT_FALSE(Excluded(*f, "mylogs/old.gz"));
  EXPECT_TRUE(Excluded(*f, "tmp", true));
  EXPECT_TRUE(Excluded(*f, "w/tmp/deep/file"));
  EXPECT_TRUE(Excluded(*f, "abc"));
  EXPECT_FALSE(Excluded(*f, "a/c"));  // '?' does not match '/'
  EXPECT_TRUE(Excluded(*f, "dx"));
  EXPECT_FALSE(Excluded(*f, "bx"));
}

TEST(FilterTest, SpecialCharactersInPatternsAreLiteral) {
  auto f = Make({.exclude = {"a.b", "(x)+", "$(y)"}, .ignore_temp_files = false});
  EXPECT_TRUE(Excluded(*f, "a.b"));
  EXPECT_FALSE(Excluded(*f, "aXb"));
  EXPECT_TRUE(Excluded(*f, "(x)+"));
  EXPECT_TRUE(Excluded(*f, "$(y)"));
}

TEST(FilterTest, RegexIsSearchedAndDirectoriesGetATrailingSlash) {
  auto f = Make({.exclude_regex = {"^cache/", "\\.gz$"}, .ignore_temp_files = false});
  EXPECT_TRUE(Excluded(*f, "cache", true));
  EXPECT_TRUE(Excluded(*f, "cache/x"));
  EXPECT_FALSE(Excluded(*f, "cache"));  // a file named cache
  EXPECT_FALSE(Excluded(*f, "x/cache/y"));
  EXPECT_TRUE(Excluded(*f, "a/b.gz"));
  EXPECT_FALSE(Excluded(*f, "a/b.gz.txt"));
}

TEST(FilterTest, SersyncExpressionTranslatesOneToOne) {
  // sersync's <exclude expression="(.*)\.gz"> is a full match; the importer
  // writes it as ^(?:...)$.
  auto f = Make({.exclude_regex = {"^(?:(.*)\\.gz)$"}, .ignore_temp_files = false});
  EXPECT_TRUE(Excluded(*f, "a.gz"));
  EXPECT_TRUE(Excluded(*f, "dir/a.gz"));
  EXPECT_TRUE(Excluded(*f, "line\nbreak.gz"));  // '.' matches newline
  EXPECT_FALSE(Excluded(*f, "a.gz.bak"));
}

TEST(FilterTest, RegexMatchesNonUtf8Bytes) {
  auto f =
      Make({.exclude = {"*.tmp"}, .exclude_regex = {"^bad.\\.x$"}, .ignore_temp_files = false});
  EXPECT_TRUE(Excluded(*f, "caf\xe9.tmp"));
  EXPECT_TRUE(Excluded(*f, "bad\xff.x"));
  EXPECT_FALSE(Excluded(*f, "bad\xff\xfe.x"));  // one byte is one character
}

TEST(FilterTest, BadRulesAreRejectedWithTheRuleNamed) {
  auto bad_regex = Filter::Create({.exclude_regex = {"(unclosed"}});
  ASSERT_FALSE(bad_regex);
  EXPECT_TRUE(bad_regex.error().IsInvalidArgument());
  EXPECT_NE(bad_regex.error().message().find("(unclosed"), std::string::npos);
  auto bad_glob = Filter::Create({.exclude = {"[abc"}});
  ASSERT_FALSE(bad_glob);
  EXPECT_NE(bad_glob.error().message().find("'[' without ']'"), std::string::npos);
  EXPECT_FALSE(Filter::Create({.exclude = {""}}));
}

TEST(FilterTest, TempFilesOfEditorsAndRsyncAreSkipped) {
  auto f = Make({});
  for (const char* temp :
       {".index.html.swp", "dir/.a.swo", ".a.swx", "notes.txt~", "#draft.org#",
        ".#draft.org", ".~lock.report.odt#", ".data.csv.Xy3k9Q", "sub/.f.aB12cd"}) {
    auto m = f->Explain(temp, false);
    ASSERT_TRUE(m.has_value()) << temp;
    EXPECT_EQ(m->kind, FilterMatch::Kind::kTempFile) << temp;
  }
  for (const char* kept : {".htaccess", ".bashrc", "#x", ";x", "-x", "swap.swp", "4913", "49130",
                           ".profile.backup", "a.swp.txt", "~", "#", "a#", ".#"}) {
    EXPECT_FALSE(Excluded(*f, kept)) << kept;
  }
  EXPECT_FALSE(Excluded(*f, ".cache.swp", /*is_dir=*/true));  // directories are never temp files
  auto off = Make({.ignore_temp_files = false});
  EXPECT_FALSE(Excluded(*off, ".index.html.swp"));
}

TEST(FilterTest, RsyncExcludesCarryPatternsAndTempFamilies) {
  auto with_temp = RsyncExcludes({.exclude = {"*.log"}, .exclude_regex = {"^x"}});
  EXPECT_EQ(with_temp.front(), "*.log");
  EXPECT_NE(std::find(with_temp.begin(), with_temp.end(), ".*.sw[a-px]"), with_temp.end());
  EXPECT_EQ(RsyncExcludes({.exclude = {"*.log"}, .ignore_temp_files = false}),
            std::vector<std::string>{"*.log"});
}

TEST(FilterTest, ExplainNamesTheRuleAndTheAncestor) {
  auto f = Make({.exclude = {"/build/"}});
  auto m = f->Explain("build/out/a.o", false);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->path, "build");
  EXPECT_EQ(DescribeMatch(*m), "exclude = /build/");
  EXPECT_FALSE(f->Match("build/out/a.o", false).has_value());  // Match sees the last component only
}

}  // namespace
}  // namespace ferry
