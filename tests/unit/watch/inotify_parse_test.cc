#include "watch/inotify_parse.h"

#include <gtest/gtest.h>
#include <sys/inotify.h>

#include <cstring>

namespace ferry {
namespace {

// Appends one struct inotify_event with `name` padded to `len` bytes.
void PutRecord(std::vector<uint8_t>* buf, int wd, uint32_t mask, uint32_t cookie,
               const std::string& name, uint32_t len) {
  inotify_event e{};
  e.wd = wd;
  e.mask = mask;
  e.cookie = cookie;
  e.len = len;
  const auto* p = reinterpret_cast<const uint8_t*>(&e);
  buf->insert(buf->end(), p, p + sizeof e);
  std::vector<uint8_t> padded(len, 0);
  // len 0 leaves padded.data() null, which memcpy must not get (UBSan).
  if (len > 0) std::memcpy(padded.data(), name.data(), std::min<size_t>(name.size(), len));
  buf->insert(buf->end(), padded.begin(), padded.end());
}

TEST(InotifyParseTest, ParsesRecordsWithPaddedNames) {
  std::vector<uint8_t> buf;
  PutRecord(&buf, 1, IN_CREATE | IN_ISDIR, 0, "dir", 16);
  PutRecord(&buf, 2, IN_MOVED_FROM, 77, "a\nb", 16);
  PutRecord(&buf, 2, IN_MOVED_TO, 77, "bad\xff", 8);
  PutRecord(&buf, 1, IN_DELETE_SELF, 0, "", 0);
  std::vector<InotifyRecord> out;
  auto n = ParseInotifyBuffer(buf, &out);
  ASSERT_TRUE(n) << n.error().ToString();
  EXPECT_EQ(*n, buf.size());
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0], (InotifyRecord{1, IN_CREATE | IN_ISDIR, 0, "dir"}));
  EXPECT_EQ(out[1].name, "a\nb");
  EXPECT_EQ(out[1].cookie, 77u);
  EXPECT_EQ(out[2].name, "bad\xff");
  EXPECT_EQ(out[3].name, "");
}

TEST(InotifyParseTest, OverflowRecordHasNoWatch) {
  std::vector<uint8_t> buf;
  PutRecord(&buf, -1, IN_Q_OVERFLOW, 0, "", 0);
  std::vector<InotifyRecord> out;
  ASSERT_TRUE(ParseInotifyBuffer(buf, &out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].wd, -1);
  EXPECT_EQ(out[0].mask, static_cast<uint32_t>(IN_Q_OVERFLOW));
}

TEST(InotifyParseTest, NameFillingItsWholeLengthIsKept) {
  std::vector<uint8_t> buf;
  std::string name(255, 'n');  // NAME_MAX with no NUL inside len
  PutRecord(&buf, 3, IN_CLOSE_WRITE, 0, name, 255);
  std::vector<InotifyRecord> out;
  ASSERT_TRUE(ParseInotifyBuffer(buf, &out));
  EXPECT_EQ(out[0].name, name);
}

TEST(InotifyParseTest, EveryTruncationIsCorruptionAfterTheWholeRecords) {
  std::vector<uint8_t> buf;
  PutRecord(&buf, 1, IN_CREATE, 0, "first", 16);
  const size_t first = buf.size();
  PutRecord(&buf, 1, IN_DELETE, 0, "second", 16);
  for (size_t cut = first + 1; cut < buf.size(); ++cut) {
    std::vector<InotifyRecord> out;
    auto r = ParseInotifyBuffer(std::span(buf).first(cut), &out);
    ASSERT_FALSE(r) << cut;
    EXPECT_TRUE(r.error().IsCorruption());
    ASSERT_EQ(out.size(), 1u) << cut;
    EXPECT_EQ(out[0].name, "first");
  }
}

TEST(InotifyParseTest, HugeLengthDoesNotReadOutOfBounds) {
  std::vector<uint8_t> buf;
  PutRecord(&buf, 1, IN_CREATE, 0, "", 0);
  inotify_event e;
  std::memcpy(&e, buf.data(), sizeof e);
  e.len = 0xffffffff;
  std::memcpy(buf.data(), &e, sizeof e);
  std::vector<InotifyRecord> out;
  EXPECT_TRUE(ParseInotifyBuffer(buf, &out).error().IsCorruption());
  EXPECT_TRUE(out.empty());
}

TEST(InotifyParseTest, MaskNamesAreReadable) {
  EXPECT_EQ(InotifyMaskName(IN_CREATE | IN_ISDIR), "IN_CREATE|IN_ISDIR");
  EXPECT_EQ(InotifyMaskName(IN_Q_OVERFLOW), "IN_Q_OVERFLOW");
  EXPECT_EQ(InotifyMaskName(0), "0x0");
}

}  // namespace
}  // namespace ferry
