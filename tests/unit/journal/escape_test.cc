#include "journal/escape.h"

#include <gtest/gtest.h>

#include <set>

namespace ferry {
namespace {

TEST(EscapePathTest, PlainAndUtf8PassThrough) {
  EXPECT_EQ(EscapePath("www/index.html"), "www/index.html");
  EXPECT_EQ(EscapePath("中文目录/文件.txt"), "中文目录/文件.txt");
  EXPECT_EQ(EscapePath("$(touch x);#-rf"), "$(touch x);#-rf");
}

TEST(EscapePathTest, ControlsAndInvalidBytesAreVisible) {
  EXPECT_EQ(EscapePath("a\nb"), "a\\nb");
  EXPECT_EQ(EscapePath("a\tb\r"), "a\\tb\\r");
  EXPECT_EQ(EscapePath("bad\xff\xfe"), "bad\\xff\\xfe");
  EXPECT_EQ(EscapePath(std::string("\x01\x7f", 2)), "\\x01\\x7f");
  EXPECT_EQ(EscapePath("\xe4\xb8"), "\\xe4\\xb8");           // truncated UTF-8
  EXPECT_EQ(EscapePath("\xc0\xaf"), "\\xc0\\xaf");           // overlong '/'
  EXPECT_EQ(EscapePath("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // surrogate
  EXPECT_EQ(EscapePath("\xc2\x85"), "\\xc2\\x85");           // C1 control NEL
}

TEST(EscapePathTest, IsInjective) {
  // A literal backslash sequence must not print like the byte it spells.
  EXPECT_EQ(EscapePath("\\n"), "\\\\n");
  EXPECT_NE(EscapePath("\\xff"), EscapePath("\xff"));
  std::set<std::string> seen;
  for (int a = 0; a < 256; ++a) {
    for (int b : {0x00, 0x5c, 0x6e, 0x78, 0x80, 0xbf, 0xff}) {
      std::string s{static_cast<char>(a), static_cast<char>(b)};
      EXPECT_TRUE(seen.insert(EscapePath(s)).second) << "collision for " << a << "," << b;
    }
  }
}

}  // namespace
}  // namespace ferry
