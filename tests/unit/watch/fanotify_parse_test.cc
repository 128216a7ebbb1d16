#include "watch/fanotify_parse.h"

#include <gtest/gtest.h>
#include <sys/fanotify.h>

#include <cstring>

namespace ferry {
namespace {

// The bytes of one DFID_NAME-style info record: header, fsid, a file
// handle of `handle` bytes, the name and its NUL.
std::vector<uint8_t> Info(uint8_t type, const std::string& handle, const std::string& name) {
  std::vector<uint8_t> body(sizeof(__kernel_fsid_t), 0x11);
  const uint32_t bytes = handle.size();
  const int32_t handle_type = 1;
  body.insert(body.end(), reinterpret_cast<const uint8_t*>(&bytes),
              reinterpret_cast<const uint8_t*>(&bytes) + 4);
  body.insert(body.end(), reinterpret_cast<const uint8_t*>(&handle_type),
              reinterpret_cast<const uint8_t*>(&handle_type) + 4);
  body.insert(body.end(), handle.begin(), handle.end());
  body.insert(body.end(), name.begin(), name.end());
  body.push_back(0);
  while ((body.size() + sizeof(fanotify_event_info_header)) % 4 != 0) body.push_back(0);
  fanotify_event_info_header h{.info_type = type, .pad = 0,
                               .len = static_cast<uint16_t>(body.size() + sizeof h)};
  std::vector<uint8_t> out(reinterpret_cast<const uint8_t*>(&h),
                           reinterpret_cast<const uint8_t*>(&h) + sizeof h);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

void PutEvent(std::vector<uint8_t>* buf, uint64_t mask, const std::vector<std::vector<uint8_t>>& infos) {
  fanotify_event_metadata m{};
  m.vers = FANOTIFY_METADATA_VERSION;
  m.metadata_len = sizeof m;
  m.mask = mask;
  m.fd = FAN_NOFD;
  m.pid = 42;
  size_t len = sizeof m;
  for (const auto& i : infos) len += i.size();
  m.event_len = len;
  buf->insert(buf->end(), reinterpret_cast<const uint8_t*>(&m),
              reinterpret_cast<const uint8_t*>(&m) + sizeof m);
  for (const auto& i : infos) buf->insert(buf->end(), i.begin(), i.end());
}

// The opaque directory key the parser makes: fsid, handle header, bytes.
std::string Key(const std::string& handle) {
  std::vector<uint8_t> info = Info(FAN_EVENT_INFO_TYPE_DFID_NAME, handle, "");
  const size_t at = sizeof(fanotify_event_info_header);
  return std::string(reinterpret_cast<const char*>(info.data() + at),
                     sizeof(__kernel_fsid_t) + 8 + handle.size());
}

TEST(FanotifyParseTest, ParsesEntriesAndBothEndsOfARename) {
  std::vector<uint8_t> buf;
  PutEvent(&buf, FAN_CREATE | FAN_ONDIR, {Info(FAN_EVENT_INFO_TYPE_DFID_NAME, "root-handle", "d")});
  PutEvent(&buf, FAN_RENAME,
           {Info(FAN_EVENT_INFO_TYPE_OLD_DFID_NAME, "dir-a", "line\nbreak"),
            Info(FAN_EVENT_INFO_TYPE_NEW_DFID_NAME, "dir-b", "bad-\xff")});
  PutEvent(&buf, FAN_Q_OVERFLOW, {});
  std::vector<FanotifyRecord> out;
  auto n = ParseFanotifyBuffer(buf, &out);
  ASSERT_TRUE(n) << n.error().ToString();
  EXPECT_EQ(*n, buf.size());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].mask, FAN_CREATE | FAN_ONDIR);
  EXPECT_EQ(out[0].pid, 42);
  EXPECT_EQ(out[0].entry, (FanotifyEntry{Key("root-handle"), "d"}));
  EXPECT_EQ(out[1].from, (FanotifyEntry{Key("dir-a"), "line\nbreak"}));
  EXPECT_EQ(out[1].entry, (FanotifyEntry{Key("dir-b"), "bad-\xff"}));
  EXPECT_NE(Key("dir-a"), Key("dir-b"));
  EXPECT_EQ(out[2].mask, FAN_Q_OVERFLOW);
  EXPECT_EQ(out[2].entry, FanotifyEntry{});
  EXPECT_EQ(FanotifyMaskName(out[0].mask), "FAN_CREATE|FAN_ONDIR");
}

TEST(FanotifyParseTest, DamageIsCorruptionAfterTheWholeEventsBeforeIt) {
  std::vector<uint8_t> good;
  PutEvent(&good, FAN_DELETE, {Info(FAN_EVENT_INFO_TYPE_DFID_NAME, "h", "gone")});
  const size_t one = good.size();

  std::vector<uint8_t> truncated = good;
  PutEvent(&truncated, FAN_CREATE, {Info(FAN_EVENT_INFO_TYPE_DFID_NAME, "h", "x")});
  truncated.resize(truncated.size() - 3);
  std::vector<FanotifyRecord> out;
  auto n = ParseFanotifyBuffer(truncated, &out);
  ASSERT_FALSE(n);
  EXPECT_TRUE(n.error().IsCorruption());
  EXPECT_NE(n.error().message().find("offset " + std::to_string(one)), std::string::npos)
      << n.error().message();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].entry.name, "gone");

  // A handle longer than its record, and a name without its NUL.
  std::vector<uint8_t> info = Info(FAN_EVENT_INFO_TYPE_DFID_NAME, "h", "n");
  const size_t bytes_at = sizeof(fanotify_event_info_header) + sizeof(__kernel_fsid_t);
  for (auto damage : {+[](std::vector<uint8_t>& i, size_t at) { i[at] = 0xff; },
                      +[](std::vector<uint8_t>& i, size_t) {
                        for (size_t k = i.size() - 4; k < i.size(); ++k) i[k] = 'z';
                      }}) {
    std::vector<uint8_t> bad_info = info;
    damage(bad_info, bytes_at);
    std::vector<uint8_t> buf;
    PutEvent(&buf, FAN_CREATE, {bad_info});
    out.clear();
    auto r = ParseFanotifyBuffer(buf, &out);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().IsCorruption()) << r.error().message();
    EXPECT_TRUE(out.empty());
  }

  std::vector<uint8_t> wrong_version = good;
  wrong_version[4] = FANOTIFY_METADATA_VERSION + 1;  // vers follows event_len
  out.clear();
  auto v = ParseFanotifyBuffer(wrong_version, &out);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message().find("version"), std::string::npos) << v.error().message();
}

}  // namespace
}  // namespace ferry
