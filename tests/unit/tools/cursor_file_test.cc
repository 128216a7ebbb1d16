#include "tools/cursor_file.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace ferry {
namespace {

JournalId MakeId(uint8_t first) {
  JournalId id;
  for (size_t i = 0; i < id.bytes.size(); ++i) id.bytes[i] = static_cast<uint8_t>(first + i * 17);
  return id;
}

class CursorFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/cursor_file_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/log.cursor";
  }
  void TearDown() override {
    for (const std::string& name : Entries()) unlink((dir_ + "/" + name).c_str());
    rmdir(dir_.c_str());
  }
  std::vector<std::string> Entries() const {
    std::vector<std::string> out;
    if (DIR* d = opendir(dir_.c_str())) {
      while (dirent* e = readdir(d)) {
        std::string name = e->d_name;
        if (name != "." && name != "..") out.push_back(name);
      }
      closedir(d);
    }
    return out;
  }
  std::string Slurp() const {
    std::ifstream in(path_, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  void Spit(const std::string& text) const {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out << text;
  }

  std::string dir_;
  std::string path_;
};

TEST(CursorTextTest, FormatAndParseRoundTrip) {
  CursorPosition pos{MakeId(0x01), 1234567};
  const std::string text = FormatCursor(pos);
  EXPECT_EQ(text, "ferry-cursor v1 journal=" + pos.journal_id.Hex() + " seq=1234567");
  EXPECT_EQ(pos.journal_id.Hex().size(), 32u);
  Result<CursorPosition> back = ParseCursor(text);
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(*back, pos);
  Result<CursorPosition> with_newline = ParseCursor(text + "\n");
  ASSERT_TRUE(with_newline.has_value());
  EXPECT_EQ(*with_newline, pos);
  Result<CursorPosition> max = ParseCursor(FormatCursor({pos.journal_id, UINT64_MAX}));
  ASSERT_TRUE(max.has_value());
  EXPECT_EQ(max->seq, UINT64_MAX);
}

TEST(CursorTextTest, RejectsMalformed) {
  const std::string hex(32, 'a');
  for (const std::string& bad :
       {std::string(""), std::string("garbage"), "ferry-cursor v2 journal=" + hex + " seq=1",
        "ferry-cursor v1 journal=" + hex.substr(2) + " seq=1",
        "ferry-cursor v1 journal=" + std::string(32, 'A') + " seq=1",
        "ferry-cursor v1 journal=" + std::string(31, 'a') + "g seq=1",
        "ferry-cursor v1 journal=" + hex + " seq=", "ferry-cursor v1 journal=" + hex + " seq=-1",
        "ferry-cursor v1 journal=" + hex + " seq=+1", "ferry-cursor v1 journal=" + hex + " seq=1x",
        "ferry-cursor v1 journal=" + hex + " seq=99999999999999999999",
        "ferry-cursor v1 journal=" + hex + "  seq=1"}) {
    Result<CursorPosition> r = ParseCursor(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_TRUE(r.error().IsInvalidArgument()) << bad;
    EXPECT_NE(r.error().message().find("ferry-cursor v1 journal=<32 hex digits> seq=<n>"),
              std::string::npos)
        << r.error().message();
  }
}

TEST_F(CursorFileTest, MissingFileIsNullopt) {
  Result<std::optional<CursorPosition>> r = ReadCursorFile(path_);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_FALSE(r->has_value());
}

TEST_F(CursorFileTest, WriteThenReadBack) {
  const JournalId id = MakeId(0x10);
  ASSERT_TRUE(WriteCursorFile(path_, {id, 7}).ok());
  EXPECT_EQ(Slurp(), "ferry-cursor v1 journal=" + id.Hex() + " seq=7\n");
  ASSERT_TRUE(WriteCursorFile(path_, {id, 8}).ok());  // replaces
  Result<std::optional<CursorPosition>> r = ReadCursorFile(path_, &id);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(**r, (CursorPosition{id, 8}));
  // No temp file is left behind.
  EXPECT_EQ(Entries(), std::vector<std::string>{"log.cursor"});
}

TEST_F(CursorFileTest, OtherJournalIsRefused) {
  const JournalId mine = MakeId(0x10);
  const JournalId theirs = MakeId(0x20);
  ASSERT_TRUE(WriteCursorFile(path_, {theirs, 5}).ok());
  Result<std::optional<CursorPosition>> r = ReadCursorFile(path_, &mine);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().IsInvalidArgument());
  const std::string& msg = r.error().message();
  EXPECT_NE(msg.find(path_), std::string::npos) << msg;
  EXPECT_NE(msg.find(theirs.Hex()), std::string::npos) << msg;
  EXPECT_NE(msg.find(mine.Hex()), std::string::npos) << msg;
  EXPECT_NE(msg.find("delete the file"), std::string::npos) << msg;
  // Without an expected journal the position is returned as is.
  Result<std::optional<CursorPosition>> any = ReadCursorFile(path_);
  ASSERT_TRUE(any.has_value());
  EXPECT_EQ(**any, (CursorPosition{theirs, 5}));
}

TEST_F(CursorFileTest, DamagedFileIsCorruption) {
  Spit("ferry-cursor v1 journal=zz seq=1\n");
  Result<std::optional<CursorPosition>> r = ReadCursorFile(path_);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().IsCorruption()) << r.error().ToString();
  EXPECT_NE(r.error().message().find(path_), std::string::npos);

  Spit(std::string(10000, 'x'));
  r = ReadCursorFile(path_);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().IsCorruption()) << r.error().ToString();
}

TEST_F(CursorFileTest, UnwritableDirectoryIsIOErrorAndKeepsOldFile) {
  const JournalId id = MakeId(0x10);
  ASSERT_TRUE(WriteCursorFile(path_, {id, 1}).ok());
  Status s = WriteCursorFile(dir_ + "/missing/sub/log.cursor", {id, 2});
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("missing/sub"), std::string::npos) << s.ToString();
  if (geteuid() != 0) {  // root ignores directory permissions
    ASSERT_EQ(chmod(dir_.c_str(), 0500), 0);
    s = WriteCursorFile(path_, {id, 2});
    chmod(dir_.c_str(), 0700);
    EXPECT_TRUE(s.IsIOError()) << s.ToString();
  }
  EXPECT_EQ(Slurp(), FormatCursor({id, 1}) + "\n");
}

TEST_F(CursorFileTest, UnreadablePathIsAnError) {
  // A directory where the file should be: open works, read fails (EISDIR).
  ASSERT_EQ(mkdir(path_.c_str(), 0700), 0);
  Result<std::optional<CursorPosition>> r = ReadCursorFile(path_);
  EXPECT_FALSE(r.has_value());
  rmdir(path_.c_str());
}

}  // namespace
}  // namespace ferry
