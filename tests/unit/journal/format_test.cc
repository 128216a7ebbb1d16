#include "journal/format.h"

#include <gtest/gtest.h>

#include <random>

namespace ferry {
namespace {

std::vector<Event> SampleEvents() {
  std::string every_byte;
  for (int c = 1; c < 256; ++c) every_byte.push_back(static_cast<char>(c));
  return {
      Event{.seq = 1, .time_ns = 1, .destination = 0, .kind = EventKind::kCreate, .path = "a"},
      Event{.seq = 2,
            .time_ns = 1'700'000'000'123'456'789,
            .destination = 7,
            .kind = EventKind::kModify,
            .path = "dir/with\nnewline and\ttab"},
      Event{.seq = 3, .destination = 300, .kind = EventKind::kAttrib, .path = "bad-\xff\xfe-utf8"},
      Event{.seq = 4, .kind = EventKind::kDelete, .is_dir = true, .path = std::string(4096, 'x')},
      Event{.seq = 5, .kind = EventKind::kMove, .path = "#new;name", .old_path = "-old $(x)"},
      Event{.seq = 6, .kind = EventKind::kRescan, .is_dir = true, .path = ""},
      Event{.seq = 7, .time_ns = -5, .destination = UINT32_MAX, .kind = EventKind::kFullSync},
      Event{.seq = UINT64_MAX, .kind = EventKind::kCreate, .path = every_byte},
  };
}

TEST(FormatTest, EventKeysSortInSeqOrder) {
  std::vector<uint64_t> seqs = {0, 1, 255, 256, 65535, 1ull << 32, UINT64_MAX - 1, UINT64_MAX};
  for (size_t i = 1; i < seqs.size(); ++i) {
    EXPECT_LT(format::EventKey(seqs[i - 1]), format::EventKey(seqs[i])) << seqs[i];
  }
  for (uint64_t s : seqs) EXPECT_EQ(*format::DecodeEventKey(format::EventKey(s)), s);
  EXPECT_TRUE(format::DecodeEventKey("short").error().IsCorruption());
  EXPECT_TRUE(format::DecodeEventKey(std::string(9, 'x')).error().IsCorruption());
}

TEST(FormatTest, EventRoundTripsRawBytes) {
  for (const Event& e : SampleEvents()) {
    ASSERT_TRUE(format::ValidateEvent(e).ok()) << format::ValidateEvent(e).ToString();
    std::string value = format::EncodeEventValue(e);
    auto back = format::DecodeEventValue(e.seq, value);
    ASSERT_TRUE(back) << back.error().ToString();
    EXPECT_EQ(*back, e);
    auto header = format::DecodeEventHeader(value);
    ASSERT_TRUE(header);
    EXPECT_EQ(header->destination, e.destination);
    EXPECT_EQ(header->time_ns, e.time_ns);
    EXPECT_EQ(header->kind, e.kind);
  }
}

TEST(FormatTest, EveryTruncationIsCorruption) {
  for (const Event& e : SampleEvents()) {
    std::string value = format::EncodeEventValue(e);
    for (size_t n = 0; n < value.size(); ++n) {
      auto r = format::DecodeEventValue(e.seq, std::string_view(value).substr(0, n));
      ASSERT_FALSE(r) << "seq " << e.seq << " truncated to " << n << " bytes decoded";
      EXPECT_TRUE(r.error().IsCorruption()) << r.error().ToString();
    }
  }
}

TEST(FormatTest, TrailingBytesAreCorruption) {
  std::string value = format::EncodeEventValue(SampleEvents()[1]) + "z";
  auto r = format::DecodeEventValue(2, value);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("trailing"), std::string::npos) << r.error().ToString();
}

TEST(FormatTest, RandomByteFlipsDecodeToCorruptionOrAValidEvent) {
  std::mt19937 rng(20261121);
  for (const Event& e : SampleEvents()) {
    const std::string value = format::EncodeEventValue(e);
    for (int trial = 0; trial < 2000; ++trial) {
      std::string damaged = value;
      int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) {
        damaged[rng() % damaged.size()] ^= static_cast<char>(1 + rng() % 255);
      }
      auto r = format::DecodeEventValue(e.seq, damaged);
      if (r) {
        // Whatever decodes must be an event Append would have accepted.
        EXPECT_TRUE(format::ValidateEvent(*r).ok()) << format::ValidateEvent(*r).ToString();
      } else {
        EXPECT_TRUE(r.error().IsCorruption()) << r.error().ToString();
      }
    }
  }
}

TEST(FormatTest, UnknownVersionKindAndFlagsAreNamed) {
  std::string value = format::EncodeEventValue(SampleEvents()[0]);
  std::string v = value;
  v[0] = 9;
  EXPECT_NE(format::DecodeEventValue(1, v).error().message().find("version 9 is not supported"),
            std::string::npos);
  v = value;
  v[1] = 42;
  EXPECT_NE(format::DecodeEventValue(1, v).error().message().find("kind 42 is unknown"),
            std::string::npos);
  v = value;
  v[2] = static_cast<char>(0x80);
  EXPECT_NE(format::DecodeEventValue(1, v).error().message().find("unknown bits"),
            std::string::npos);
}

TEST(FormatTest, HugeLengthPrefixDoesNotReadOutOfBounds) {
  std::string value = format::EncodeEventValue(SampleEvents()[0]);
  // Replace the path length (1 byte, last but one) with a 5-byte varint of 2^32-1.
  value.resize(value.size() - 2);
  value += std::string("\xff\xff\xff\xff\x0f", 5);
  auto r = format::DecodeEventValue(1, value);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().IsCorruption());
}

TEST(FormatTest, ValidateRejectsWhatCannotBeStored) {
  Event nul{.path = std::string("a\0b", 3)};
  EXPECT_TRUE(format::ValidateEvent(nul).IsInvalidArgument());
  Event huge{.path = std::string(format::kMaxPathBytes + 1, 'x')};
  EXPECT_TRUE(format::ValidateEvent(huge).IsInvalidArgument());
  Event move_without_old{.kind = EventKind::kMove, .path = "b"};
  EXPECT_TRUE(format::ValidateEvent(move_without_old).IsInvalidArgument());
  Event old_on_create{.kind = EventKind::kCreate, .path = "b", .old_path = "a"};
  EXPECT_TRUE(format::ValidateEvent(old_on_create).IsInvalidArgument());
  Event bad_kind{.kind = static_cast<EventKind>(0), .path = "b"};
  EXPECT_TRUE(format::ValidateEvent(bad_kind).IsInvalidArgument());
}

TEST(FormatTest, CursorAndStatsRoundTrip) {
  Cursor c;
  for (size_t i = 0; i < c.journal_id.bytes.size(); ++i) c.journal_id.bytes[i] = uint8_t(i * 17);
  c.seq = 123456789;
  c.destination = 3;
  c.expired = true;
  std::string enc = format::EncodeCursor(c);
  EXPECT_EQ(*format::DecodeCursor(enc), c);
  for (size_t n = 0; n < enc.size(); ++n) {
    EXPECT_TRUE(format::DecodeCursor(enc.substr(0, n)).error().IsCorruption()) << n;
  }

  TargetStats s{.events = 1ull << 40,
                .bytes = 99,
                .last_success_ns = 5,
                .last_error_ns = 6,
                .last_error = "@ERROR: auth failed on module data\n"};
  std::string senc = format::EncodeStats(s);
  EXPECT_EQ(*format::DecodeStats(senc), s);
  for (size_t n = 0; n < senc.size(); ++n) {
    EXPECT_TRUE(format::DecodeStats(senc.substr(0, n)).error().IsCorruption()) << n;
  }
}

TEST(FormatTest, PauseRoundTripsAndEveryTruncationIsCorruption) {
  PauseMark p{.since_ns = 1'765'000'000'123'456'789, .uid = 1000, .pid = 4242};
  std::string enc = format::EncodePause(p);
  EXPECT_EQ(*format::DecodePause(enc), p);
  for (size_t n = 0; n < enc.size(); ++n) {
    EXPECT_TRUE(format::DecodePause(enc.substr(0, n)).error().IsCorruption()) << n;
  }
  EXPECT_TRUE(format::DecodePause(enc + "x").error().IsCorruption());
  EXPECT_NE(format::PauseKey("t"), format::CursorKey("t"));
  EXPECT_NE(format::PauseKey("t"), format::StatsKey("t"));
}

TEST(FormatTest, DeadLetterRoundTripsAndSortsByTargetThenSeq) {
  DeadLetter l{.target = "backup1",
               .event = SampleEvents()[4],
               .error = "rsync: send_files failed to open \"x\": Permission denied (13)",
               .attempts = 7,
               .first_failed_ns = 10,
               .last_failed_ns = 20};
  std::string key = format::DeadLetterKey(l.target, l.event.seq);
  std::string value = format::EncodeDeadLetterValue(l);
  EXPECT_EQ(*format::DecodeDeadLetter(key, value), l);
  for (size_t n = 0; n < value.size(); ++n) {
    EXPECT_TRUE(format::DecodeDeadLetter(key, value.substr(0, n)).error().IsCorruption()) << n;
  }
  EXPECT_TRUE(format::DecodeDeadLetter("no-nul", value).error().IsCorruption());
  EXPECT_LT(format::DeadLetterKey("a", UINT64_MAX), format::DeadLetterKey("a-b", 0));
  EXPECT_LT(format::DeadLetterKey("a", 255), format::DeadLetterKey("a", 256));
}

}  // namespace
}  // namespace ferry
