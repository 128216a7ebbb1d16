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

TEST(Base64Test, Rfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("\xff\xfe\xfd"), "//79");
}

TEST(Utf8Test, Strict) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80"));
  EXPECT_TRUE(IsValidUtf8("\xc2\x85"));  // C1 control: valid, JSON escapes it
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));
}

}  // namespace
}  // namespace ferry
