#include "journal/journal.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <filesystem>
#include <thread>

#include "journal/format.h"
#include "tests/lib/fake_clock.h"
#include "tests/lib/journal_fixture.h"
#include "tests/lib/poll.h"
#include "tests/lib/temp_dir.h"

namespace ferry {
namespace {

using testing::FakeClock;
using testing::TempDir;

std::unique_ptr<Journal> OpenOrDie(const std::string& dir, Clock* clock = SystemClock::Default(),
                                   SyncMode sync = SyncMode::kGroup) {
  return testing::OpenJournalOrDie(dir, clock, sync);
}

std::vector<Event> Files(uint32_t dest, int n, const std::string& prefix = "f") {
  return testing::FileEvents(dest, n, prefix);
}

std::vector<Event> ReadAll(Journal& j, ReadOptions ro = {}) {
  return testing::ReadAllEvents(j, std::move(ro));
}

TEST(JournalTest, AppendAssignsConsecutiveSeqsFromOne) {
  TempDir tmp;
  auto j = OpenOrDie(tmp.path());
  EXPECT_EQ(j->LastSeq(), 0u);
  EXPECT_EQ(*j->OldestSeq(), 1u);
  auto a = j->Append(Files(1, 3));
  ASSERT_TRUE(a) << a.error().ToString();
  EXPECT_EQ(a->first, 1u);
  EXPECT_EQ(a->last, 3u);
  auto b = j->Append(Files(1, 1));
  EXPECT_EQ(b->first, 4u);
  EXPECT_EQ(b->last, 4u);
  EXPECT_EQ(j->LastSeq(), 4u);
  auto all = ReadAll(*j);
  ASSERT_EQ(all.size(), 4u);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].seq, i + 1);
  EXPECT_EQ(all[3].path, "f0");
}

TEST(JournalTest, EmptyAppendAssignsNothing) {
  TempDir tmp;
  auto j = OpenOrDie(tmp.path());
  ASSERT_TRUE(j->Append(Files(1, 2)));
  auto r = j->Append(std::vector<Event>{});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->empty());
  EXPECT_EQ(r->first, 3u);
  EXPECT_EQ(j->Append(Files(1, 1))->first, 3u);
}

TEST(JournalTest, InvalidEventIsRejectedAndConsumesNoSeq) {
  TempDir tmp;
  auto j = OpenOrDie(tmp.path());
  std::vector<Event> bad = Files(1, 2);
  bad[1].path = std::string("nul\0byte", 8);
  auto r = j->Append(bad);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().IsInvalidArgument());
  EXPECT_NE(r.error().message().find("NUL"), std::string::npos) << r.error().ToString();
  EXPECT_EQ(j->LastSeq(), 0u);
  EXPECT_TRUE(ReadAll(*j).empty());
  EXPECT_EQ(j->Append(Files(1, 1))->first, 1u);
}

TEST(JournalTest, SeqsContinueAfterReopenAndIdIsKept) {
  TempDir tmp;
  JournalId id;
  {
    auto j = OpenOrDie(tmp.path());
    id = j->id();
    ASSERT_TRUE(j->Append(Files(1, 10)));
  }
  auto j = OpenOrDie(tmp.path());
  EXPECT_EQ(j->id(), id);
  EXPECT_EQ(j->LastSeq(), 10u);
  EXPECT_EQ(j->Append(Files(1, 1))->first, 11u);
  EXPECT_EQ(ReadAll(*j).size(), 11u);
}

TEST(JournalTest, EachNewJournalGetsItsOwnId) {
  TempDir a, b;
  EXPECT_NE(OpenOrDie(a.path())->id(), OpenOrDie(b.path())->id());
  EXPECT_EQ(OpenOrDie(a.path())->id().Hex().size(), 32u);
}

TEST(JournalTest, StampsTimeOnlyWhereMissing) {
  TempDir tmp;
  FakeClock clock(5'000);
  auto j = OpenOrDie(tmp.path(), &clock);
  std::vector<Event> events = Files(1, 2);
  events[1].time_ns = 7'700;
  ASSERT_TRUE(j->Append(events));
  auto all = ReadAll(*j);
  EXPECT_EQ(all[0].time_ns, 5'000);
  EXPECT_EQ(all[1].time_ns, 7'700);
}

// Two watchers racing, or a wall clock stepped back: an event stamped before
// the one ahead of it takes that one's time, so times never go backwards
// along seqs, even across a reopen.
TEST(JournalTest, TimesNeverGoBackwardsAlongSeqs) {
  TempDir tmp;
  FakeClock clock(5'000);
  {
    auto j = OpenOrDie(tmp.path(), &clock);
    std::vector<Event> events = Files(1, 3);
    events[1].time_ns = 77;
    events[2].time_ns = 6'000;
    ASSERT_TRUE(j->Append(events));
  }
  auto j = OpenOrDie(tmp.path(), &clock);
  std::vector<Event> late = Files(1, 1, "late");
  late[0].time_ns = 100;
  ASSERT_TRUE(j->Append(late));
  std::vector<int64_t> times;
  for (const Event& e : ReadAll(*j)) times.push_back(e.time_ns);
  EXPECT_EQ(times, (std::vector<int64_t>{5'000, 5'000, 6'000, 6'000}));
}

TEST(JournalTest, FirstSeqAtTimeIsABinarySearchOverSeqs) {
  TempDir tmp;
  FakeClock clock(10);
  auto j = OpenOrDie(tmp.path(), &clock);
  EXPECT_EQ(*j->FirstSeqAtTime(0), 1u);  // empty: one past the head
  for (int64_t t : {10, 20, 20, 30}) {
    std::vector<Event> one = Files(1, 1);
    one[0].time_ns = t;
    ASSERT_TRUE(j->Append(one));
  }
  const std::vector<std::pair<int64_t, uint64_t>> cases = {
      {INT64_MIN, 1}, {10, 1}, {11, 2}, {20, 2}, {21, 4}, {30, 4}, {31, 5}, {INT64_MAX, 5}};
  for (const auto& [time, seq] : cases) {
    auto got = j->FirstSeqAtTime(time);
    ASSERT_TRUE(got) << got.error().ToString();
    EXPECT_EQ(*got, seq) << "time " << time;
  }
}

TEST(JournalTest, FlushEmptiesTheMemtables) {
  TempDir tmp;
  auto j = OpenOrDie(tmp.path());
  ASSERT_TRUE(j->Append(Files(1, 1000)));
  const uint64_t full = j->MemtableBytes();
  EXPECT_GT(full, 1000u * 10);
  ASSERT_TRUE(j->Flush().ok());
  EXPECT_LT(j->MemtableBytes(), full / 4);
}

size_t TableFiles(const std::string& dir) {
  size_t n = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir)) n += f.path().extension() == ".sst";
  return n;
}

// Appends in key order leave one small file per flushed memtable; joining
// them keeps every event, in order, for the writer and for a follower.
TEST(JournalTest, JoinSmallEventFilesKeepsEveryEvent) {
  TempDir tmp;
  const std::string dir = tmp.Sub("journal");
  auto opened = Journal::Open({.dir = dir, .memtable_bytes = 64 << 10});
  ASSERT_TRUE(opened) << opened.error().ToString();
  Journal& j = **opened;
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(j.Append(Files(1, 50, "batch" + std::to_string(i) + "-")));
    ASSERT_TRUE(j.Flush().ok());
  }
  const size_t before = TableFiles(dir);
  ASSERT_GE(before, 30u);
  // RocksDB moves level-0 files down on its own threads; join what is below.
  // A join takes 16 small neighbours into one file: at least one must happen
  // (how many depends on how many files RocksDB has moved down meanwhile).
  EXPECT_TRUE(testing::Eventually([&] {
    EXPECT_TRUE(j.JoinSmallEventFiles().ok());
    return TableFiles(dir) <= before - 15;
  })) << TableFiles(dir) << " table files of " << before;
  auto all = ReadAll(j);
  ASSERT_EQ(all.size(), 2000u);
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i].seq, i + 1);
  auto follower = Journal::OpenSecondary(dir, tmp.Sub("follower"));
  ASSERT_TRUE(follower) << follower.error().ToString();
  EXPECT_EQ((*follower)->LastSeq(), 2000u);
  EXPECT_EQ(ReadAll(**follower).size(), 2000u);
}

TEST(JournalTest, ReaderHonoursRangeAndDestination) {
  TempDir tmp;
  auto j = OpenOrDie(tmp.path());
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(j->Append({Event{.destination = uint32_t(1 + i % 2), .path = std::to_string(i)}}));
  auto range = ReadAll(*j, {.from_seq = 3, .to_seq = 6});
  ASSERT_EQ(range.size(), 4u);
  EXPECT_EQ(range.front().seq, 3u);
  EXPECT_EQ(range.back().seq, 6u);
  auto two = ReadAll(*j, {.from_seq = 1, .destination = 2});
  ASSERT_EQ(two.size(), 5u);
  for (const Event& e : two) EXPECT_EQ(e.destination, 2u);
  EXPECT_EQ(two.front().seq, 2u);
  EXPECT_TRUE(ReadAll(*j, {.from_seq = 11}).empty());
}

TEST(JournalTest, ConcurrentAppendersGetDisjointGapFreeRanges) {
  TempDir tmp;
  auto j = OpenOrDie(tmp.path());
  constexpr int kThreads = 4, kAppends = 200;
  std::vector<std::vector<SeqRange>> ranges(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppends; ++i) {
        auto r = j->Append(Files(uint32_t(t + 1), 1 + i % 7, "t" + std::to_string(t) + "-"));
        ASSERT_TRUE(r) << r.error().ToString();
        ranges[t].push_back(*r);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<int> owner(j->LastSeq() + 1, -1);
  for (int t = 0; t < kThreads; ++t) {
    for (const SeqRange& r : ranges[t]) {
      for (uint64_t s = r.first; s <= r.last; ++s) {
        ASSERT_EQ(owner[s], -1) << "seq " << s << " assigned twice";
        owner[s] = t;
      }
    }
  }
  auto all = ReadAll(*j);
  ASSERT_EQ(all.size(), j->LastSeq());
  for (size_t i = 0; i < all.size(); ++i) {
    ASSERT_EQ(all[i].seq, i + 1);
    EXPECT_EQ(all[i].destination, uint32_t(owner[i + 1] + 1)) << "seq " << i + 1;
  }
}

TEST(JournalTest, AlwaysAndOffModesKeepTheSameContract) {
  for (SyncMode mode : {SyncMode::kAlways, SyncMode::kOff}) {
    TempDir tmp;
    {
      auto j = OpenOrDie(tmp.path(), SystemClock::Default(), mode);
      ASSERT_TRUE(j->Append(Files(1, 5)));
    }
    auto j = OpenOrDie(tmp.path(), SystemClock::Default(), mode);
    EXPECT_EQ(j->LastSeq(), 5u) << SyncModeName(mode);
  }
}

TEST(JournalTest, SyncModeNamesParse) {
  for (SyncMode m : {SyncMode::kGroup, SyncMode::kAlways, SyncMode::kOff}) {
    EXPECT_EQ(ParseSyncMode(SyncModeName(m)), m);
  }
  EXPECT_FALSE(ParseSyncMode("fsync"));
}

TEST(JournalTest, DestinationIdsAreStableAndPersistent) {
  TempDir tmp;
  uint32_t www, logs;
  {
    auto j = OpenOrDie(tmp.path());
    www = *j->DestinationId("www");
    logs = *j->DestinationId("logs");
    EXPECT_NE(www, logs);
    EXPECT_EQ(*j->DestinationId("www"), www);
    EXPECT_TRUE(j->DestinationId("").error().IsInvalidArgument());
  }
  auto j = OpenOrDie(tmp.path());
  EXPECT_EQ(*j->DestinationId("logs"), logs);
  auto all = j->Destinations();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].first, "logs");
  EXPECT_EQ((*all)[1].second, www);
}

TEST(JournalTest, SecondPrimaryOpenFailsWithAClearMessage) {
  TempDir tmp;
  auto first = OpenOrDie(tmp.path());
  auto second = Journal::Open({.dir = tmp.path()});
  ASSERT_FALSE(second);
  EXPECT_TRUE(second.error().IsIOError());
  EXPECT_NE(second.error().message().find("another process has this journal open"),
            std::string::npos)
      << second.error().ToString();
}

TEST(JournalTest, CorruptRecordIsSkippedAndReported) {
  TempDir tmp;
  {
    auto j = OpenOrDie(tmp.path());
    ASSERT_TRUE(j->Append(Files(1, 3)));
  }
  {  // Damage seq 2 behind the journal's back.
    rocksdb::DB* raw = nullptr;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const char* n : {"default", "events", "cursors", "dead", "catalog", "meta"}) {
      cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), tmp.path(), cfs, &handles, &raw).ok());
    ASSERT_TRUE(
        raw->Put(rocksdb::WriteOptions(), handles[1], format::EventKey(2), "\x01\x02").ok());
    for (auto* h : handles) ASSERT_TRUE(raw->DestroyColumnFamilyHandle(h).ok());
    delete raw;
  }
  auto j = OpenOrDie(tmp.path());
  std::vector<uint64_t> reported;
  auto r = j->NewReader({.on_corruption = [&](uint64_t seq, size_t bytes, const Status& why) {
    reported.push_back(seq);
    EXPECT_EQ(bytes, 2u);
    EXPECT_TRUE(why.IsCorruption());
  }});
  std::vector<uint64_t> seen;
  for (; r->Valid(); r->Next()) seen.push_back(r->event().seq);
  EXPECT_TRUE(r->status().ok());
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(reported, (std::vector<uint64_t>{2}));
  EXPECT_EQ(r->corrupt_records(), 1u);
}

}  // namespace
}  // namespace ferry
