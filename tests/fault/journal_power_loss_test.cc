// The durability contract of Journal::Append under simulated power loss:
// when Append returns OK in group or always mode, its events survive a power
// loss; in off mode they survive kill -9 but can be lost with the power (the
// negative control proving the FaultFs really drops unsynced data).
//
// Each crash is: Freeze() the FaultFs (the moment the power goes: after the
// last acknowledged Append, or just before some WAL sync), destroy the Journal
// (its Close can no longer write, sync or delete anything), then
// SimulatePowerLoss() cuts every file to what the kernel had made durable, or
// SimulateProcessCrash() keeps what the kernel had. See tests/lib/fault_fs.h.
#include <gtest/gtest.h>
#include <rocksdb/env.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "journal/journal.h"
#include "tests/lib/fault_fs.h"
#include "tests/lib/journal_fixture.h"
#include "tests/lib/temp_dir.h"

namespace ferry {
namespace {

using testing::FaultFs;
using testing::PowerLossReport;
using testing::TempDir;
using testing::Unsynced;

// Event `n` of writer `w`: every field set (time_ns too, so that what is read
// back compares equal as a whole) and a path unique across writers.
Event MakeEvent(int w, uint64_t n) {
  Event e;
  e.time_ns = 1'700'000'000'000'000'000;  // one time: Append keeps times in seq order
  e.destination = static_cast<uint32_t>(1 + w);
  e.kind = static_cast<EventKind>(kMinEventKind + n % (kMaxEventKind - kMinEventKind + 1));
  e.is_dir = n % 3 == 0;
  e.path = "w" + std::to_string(w) + "/d" + std::to_string(n % 7) + "/file-" + std::to_string(n);
  if (e.kind == EventKind::kMove) e.old_path = e.path + ".tmp";
  return e;
}

std::vector<Event> MakeBatch(int w, uint64_t* next, size_t size) {
  std::vector<Event> batch;
  for (size_t i = 0; i < size; ++i) batch.push_back(MakeEvent(w, (*next)++));
  return batch;
}

// The events acknowledged so far, by seq.
struct Acked {
  std::map<uint64_t, Event> events;
  uint64_t last = 0;
  uint64_t appends = 0;

  void Add(const SeqRange& r, std::vector<Event> batch) {
    ASSERT_EQ(r.size(), batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      batch[i].seq = r.first + i;
      events[batch[i].seq] = std::move(batch[i]);
    }
    last = std::max(last, r.last);
    ++appends;
  }
};

std::vector<Event> ReadAll(Journal& j) {
  std::vector<Event> out;
  auto reader = j.NewReader({});
  for (; reader->Valid(); reader->Next()) out.push_back(reader->event());
  EXPECT_TRUE(reader->status().ok()) << reader->status().ToString();
  EXPECT_EQ(reader->corrupt_records(), 0u);
  return out;
}

// Checks the journal after a crash: seqs 1..LastSeq() all present (nothing
// was trimmed), every acknowledged event there and intact. Returns what it read.
std::vector<Event> ExpectAckedSurvived(Journal& j, const Acked& acked) {
  std::vector<Event> all = ReadAll(j);
  EXPECT_GE(j.LastSeq(), acked.last) << "acknowledged events were lost";
  EXPECT_EQ(all.size(), j.LastSeq()) << "seqs are not contiguous from 1";
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].seq != i + 1) {
      ADD_FAILURE() << "gap: position " << i << " holds seq " << all[i].seq;
      break;
    }
  }
  size_t missing = 0;
  size_t damaged = 0;
  for (const auto& [seq, want] : acked.events) {
    if (seq > all.size()) {
      ++missing;
    } else if (!(all[seq - 1] == want)) {
      ++damaged;
    }
  }
  EXPECT_EQ(missing, 0u) << "of " << acked.events.size() << " acknowledged events";
  EXPECT_EQ(damaged, 0u) << "of " << acked.events.size() << " acknowledged events";
  return all;
}

// Checks that the events after seq `acked_last` (none were acknowledged) are
// whole batches from `failed`, each in order: a failed Append never leaves a
// part of its batch behind.
void ExpectWholeFailedBatchesAfter(const std::vector<Event>& events, uint64_t acked_last,
                                   const std::vector<std::vector<Event>>& failed) {
  std::map<std::string, const std::vector<Event>*> batch_by_first_path;
  for (const auto& batch : failed) {
    if (!batch.empty()) batch_by_first_path[batch.front().path] = &batch;
  }
  for (size_t i = acked_last; i < events.size();) {
    auto it = batch_by_first_path.find(events[i].path);
    if (it == batch_by_first_path.end()) {
      ADD_FAILURE() << "seq " << events[i].seq << " (" << events[i].path
                    << ") is not the start of a failed batch";
      return;
    }
    const std::vector<Event>& batch = *it->second;
    for (size_t k = 0; k < batch.size(); ++k, ++i) {
      if (i >= events.size()) {
        ADD_FAILURE() << "a failed batch of " << batch.size() << " survived in part";
        return;
      }
      Event want = batch[k];
      want.seq = events[i].seq;
      if (!(events[i] == want)) {
        ADD_FAILURE() << "seq " << events[i].seq << " does not continue the failed batch";
        return;
      }
    }
  }
}

class PowerLossTest : public ::testing::Test {
 protected:
  std::unique_ptr<Journal> Open(SyncMode sync, bool through_fault_fs = true) {
    JournalOptions o;
    o.dir = dir_;
    o.sync = sync;
    o.env = through_fault_fs ? env_.get() : nullptr;
    auto j = Journal::Open(o);
    EXPECT_TRUE(j) << j.error().ToString();
    return j ? std::move(*j) : nullptr;
  }

  // The power goes now; then the process's remains are cleaned up.
  PowerLossReport PowerLoss(std::unique_ptr<Journal> j, Unsynced unsynced = Unsynced::kDrop,
                            uint64_t seed = 0) {
    fs_->Freeze();
    j.reset();
    return fs_->SimulatePowerLoss(unsynced, seed);
  }

  // Appends `batches` batches of 1..50 events from one thread, all of which
  // must be acknowledged.
  void AppendBatches(Journal& j, int batches, uint64_t* next, Acked* acked, uint32_t seed) {
    std::mt19937 rng(seed);
    for (int b = 0; b < batches; ++b) {
      std::vector<Event> batch = MakeBatch(0, next, 1 + rng() % 50);
      auto r = j.Append(batch);
      ASSERT_TRUE(r) << r.error().ToString();
      ASSERT_EQ(r->first, acked->last + 1) << "seqs must continue after the last acknowledged";
      acked->Add(*r, std::move(batch));
    }
  }

  TempDir tmp_;
  std::string dir_ = tmp_.Sub("journal");
  std::shared_ptr<FaultFs> fs_ = std::make_shared<FaultFs>();
  std::unique_ptr<rocksdb::Env> env_ = rocksdb::NewCompositeEnv(fs_);
};

// --- the model itself ------------------------------------------------------

TEST_F(PowerLossTest, FaultFsKeepsSyncedBytesAndDirSyncedNamesOnly) {
  auto& fs = *fs_;
  rocksdb::IOOptions io;
  ASSERT_TRUE(fs.CreateDirIfMissing(dir_, io, nullptr).ok());
  std::unique_ptr<rocksdb::FSDirectory> d;
  ASSERT_TRUE(fs.NewDirectory(dir_, io, &d, nullptr).ok());
  auto write = [&](const std::string& name, bool sync_dir) {
    std::unique_ptr<rocksdb::FSWritableFile> f;
    ASSERT_TRUE(fs.NewWritableFile(dir_ + "/" + name, {}, &f, nullptr).ok());
    ASSERT_TRUE(f->Append("durable", io, nullptr).ok());
    ASSERT_TRUE(f->Sync(io, nullptr).ok());
    if (sync_dir) {
      ASSERT_TRUE(d->Fsync(io, nullptr).ok());
    }
    ASSERT_TRUE(f->Append("+lost", io, nullptr).ok());
    ASSERT_TRUE(f->RangeSync(0, 0, io, nullptr).ok());  // not durable
    ASSERT_TRUE(f->Close(io, nullptr).ok());            // not a sync
  };
  write("named", true);
  write("unnamed", false);
  fs.Freeze();
  std::unique_ptr<rocksdb::FSWritableFile> late;
  EXPECT_TRUE(fs.NewWritableFile(dir_ + "/late", {}, &late, nullptr).IsIOError());
  PowerLossReport report = fs.SimulatePowerLoss();
  EXPECT_EQ(report.files_removed, 1u);
  EXPECT_EQ(report.files_truncated, 1u);
  EXPECT_EQ(report.bytes_dropped, 5u);
  std::string data;
  ASSERT_TRUE(rocksdb::ReadFileToString(&fs, dir_ + "/named", &data).ok());
  EXPECT_EQ(data, "durable");
  EXPECT_TRUE(fs.FileExists(dir_ + "/unnamed", io, nullptr).IsNotFound());
  EXPECT_TRUE(fs.FileExists(dir_ + "/late", io, nullptr).IsNotFound());
}

// --- one writer, group and always ----------------------------------------------

class SyncedModeTest : public PowerLossTest, public ::testing::WithParamInterface<SyncMode> {};

// Three power losses in a row, each reopening through the FaultFs, then a
// plain reopen: every acknowledged event is there, and seqs go on gap-free.
TEST_P(SyncedModeTest, AcknowledgedEventsSurvivePowerLoss) {
  const SyncMode mode = GetParam();
  Acked acked;
  uint64_t next = 0;
  JournalId id;
  for (int cycle = 0; cycle < 3; ++cycle) {
    SCOPED_TRACE("cycle " + std::to_string(cycle));
    auto j = Open(mode);
    ASSERT_NE(j, nullptr);
    if (cycle == 0) id = j->id();
    EXPECT_EQ(j->id(), id);
    EXPECT_EQ(j->LastSeq(), acked.last);
    const uint64_t syncs_before = fs_->syncs();
    const uint64_t appends_before = acked.appends;
    AppendBatches(*j, 200, &next, &acked, 17 + cycle);
    if (HasFatalFailure()) return;
    // Test of the test: one sync per Append (there is no one to share it with).
    EXPECT_GE(fs_->syncs() - syncs_before, acked.appends - appends_before);
    // The power goes while one more Append waits for its sync: its record
    // reached the kernel, not the disk. It fails and is lost; no other is.
    fs_->FreezeBeforeSync(1);
    auto lost = j->Append(MakeBatch(0, &next, 10));
    ASSERT_FALSE(lost) << "an Append returned OK without a sync";
    EXPECT_TRUE(lost.error().IsIOError()) << lost.error().ToString();
    PowerLossReport report = PowerLoss(std::move(j));
    EXPECT_GT(report.bytes_dropped, 0u) << "the unsynced record was not on disk to drop";
    std::printf(
        "[ info     ] %s cycle %d: %lu files tracked, %lu removed, %lu truncated "
        "(%lu bytes)\n",
        std::string(SyncModeName(mode)).c_str(), cycle, report.files_tracked, report.files_removed,
        report.files_truncated, report.bytes_dropped);
    auto check = Open(mode);  // RocksDB recovery runs through the FaultFs too
    ASSERT_NE(check, nullptr);
    ExpectAckedSurvived(*check, acked);
    EXPECT_EQ(check->LastSeq(), acked.last);
    PowerLoss(std::move(check));  // recovery's own work must be durable as well
  }
  auto j = Open(mode, /*through_fault_fs=*/false);
  ASSERT_NE(j, nullptr);
  EXPECT_EQ(j->id(), id);
  ExpectAckedSurvived(*j, acked);
  EXPECT_EQ(j->LastSeq(), acked.last);
  auto r = j->Append(MakeBatch(0, &next, 3));
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->first, acked.last + 1);
}

// A sync fails once (a transient EIO), the writer goes on trying, then the
// process or the power dies. Whatever Append returned OK survives; an Append
// that failed may reappear after a process crash (its record reached the
// kernel), but only whole and after every acknowledged event.
TEST_P(SyncedModeTest, FailedSyncCostsNoAcknowledgedEvent) {
  const SyncMode mode = GetParam();
  for (bool power_loss : {true, false}) {
    SCOPED_TRACE(power_loss ? "power loss" : "process crash");
    TempDir tmp;
    dir_ = tmp.Sub("journal");
    auto j = Open(mode);
    ASSERT_NE(j, nullptr);
    Acked acked;
    std::vector<std::vector<Event>> failed;
    uint64_t next = 0;
    AppendBatches(*j, 3, &next, &acked, 7);
    if (HasFatalFailure()) return;
    fs_->FailNextSync();
    for (size_t size : {17, 5, 2}) {
      std::vector<Event> batch = MakeBatch(0, &next, size);
      auto r = j->Append(batch);
      if (r) {
        acked.Add(*r, std::move(batch));
      } else {
        failed.push_back(std::move(batch));
      }
    }
    EXPECT_FALSE(failed.empty()) << "the sync failure went unnoticed";
    fs_->Freeze();
    j.reset();
    if (power_loss) {
      fs_->SimulatePowerLoss();
    } else {
      fs_->SimulateProcessCrash();
    }
    j = Open(mode, /*through_fault_fs=*/false);
    ASSERT_NE(j, nullptr);
    std::vector<Event> events = ExpectAckedSurvived(*j, acked);
    ExpectWholeFailedBatchesAfter(events, acked.last, failed);
    std::printf(
        "[ info     ] %s, %s: %zu of 3 Appends after the failed sync failed; "
        "last seq %lu, last acknowledged %lu\n",
        std::string(SyncModeName(mode)).c_str(), power_loss ? "power loss" : "process crash",
        failed.size(), j->LastSeq(), acked.last);
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, SyncedModeTest,
                         ::testing::Values(SyncMode::kGroup, SyncMode::kAlways),
                         [](const auto& info) { return std::string(SyncModeName(info.param)); });

// --- off: the negative control ---------------------------------------------------

// Off mode never syncs the WAL, so a power loss takes every event appended
// since the journal was created (whose identity is written with a sync). Few
// small events: no memtable flush can make them durable by accident.
TEST_F(PowerLossTest, OffModeLosesAcknowledgedEventsOnPowerLoss) {
  auto j = Open(SyncMode::kOff);
  ASSERT_NE(j, nullptr);
  const JournalId id = j->id();
  Acked acked;
  uint64_t next = 0;
  const uint64_t syncs_before = fs_->syncs();
  AppendBatches(*j, 20, &next, &acked, 5);
  if (HasFatalFailure()) return;
  EXPECT_EQ(fs_->syncs(), syncs_before) << "off mode synced";
  PowerLossReport report = PowerLoss(std::move(j));
  EXPECT_GT(report.bytes_dropped, 0u);

  j = Open(SyncMode::kOff, /*through_fault_fs=*/false);
  ASSERT_NE(j, nullptr);
  EXPECT_EQ(j->id(), id);
  EXPECT_LT(j->LastSeq(), acked.last) << "the FaultFs dropped nothing: these tests prove nothing";
  EXPECT_EQ(j->LastSeq(), 0u);
  // What is left is still a consistent, gap-free journal.
  std::vector<Event> left = ReadAll(*j);
  EXPECT_EQ(left.size(), j->LastSeq());
  auto r = j->Append(MakeBatch(0, &next, 1));
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->first, j->LastSeq());
}

// The other half of off mode's promise: events written to the OS survive the
// process dying (kill -9), as long as the kernel keeps running.
TEST_F(PowerLossTest, OffModeKeepsAcknowledgedEventsOnProcessCrash) {
  auto j = Open(SyncMode::kOff);
  ASSERT_NE(j, nullptr);
  Acked acked;
  uint64_t next = 0;
  AppendBatches(*j, 20, &next, &acked, 5);
  if (HasFatalFailure()) return;
  fs_->Freeze();
  j.reset();  // Close can neither flush nor sync now
  fs_->SimulateProcessCrash();

  j = Open(SyncMode::kOff, /*through_fault_fs=*/false);
  ASSERT_NE(j, nullptr);
  ExpectAckedSurvived(*j, acked);
  EXPECT_EQ(j->LastSeq(), acked.last);
}

// --- concurrent group commit ----------------------------------------------------

enum class Crash { kPowerLoss, kPowerLossTornTail, kProcessCrash };

class ConcurrentTest : public PowerLossTest, public ::testing::WithParamInterface<Crash> {};

// Four threads append in group mode; the power goes just before the 150th WAL
// sync, so one group's record is in the kernel but not on disk, and every
// Append from then on fails. Every event some Append acknowledged survives.
// Events of the failed Appends may survive too when the unsynced tail does
// (torn tail, or a process crash that leaves the kernel running), but only
// whole, in seq order, and without a gap.
TEST_P(ConcurrentTest, EveryThreadsAcknowledgedEventsSurvive) {
  constexpr int kThreads = 4;
  constexpr uint64_t kSyncs = 150;
  auto j = Open(SyncMode::kGroup);
  ASSERT_NE(j, nullptr);

  std::vector<Acked> acked(kThreads);
  std::vector<std::vector<Event>> failed(kThreads);  // the batch whose Append failed
  std::vector<std::string> errors(kThreads);
  std::atomic<uint64_t> acked_events{0};
  const uint64_t syncs_before = fs_->syncs();
  fs_->FreezeBeforeSync(kSyncs);
  std::vector<std::thread> threads;
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937 rng(100 + w);
      uint64_t next = 0;
      // Until the power goes: from then on every Append fails.
      while (acked_events.load() < 1'000'000) {
        std::vector<Event> batch = MakeBatch(w, &next, 1 + rng() % 20);
        auto r = j->Append(batch);
        if (!r) {
          errors[w] = r.error().ToString();
          failed[w] = std::move(batch);
          break;
        }
        acked_events += batch.size();
        acked[w].Add(*r, std::move(batch));
      }
    });
  }
  for (auto& t : threads) t.join();
  const uint64_t syncs = fs_->syncs() - syncs_before;
  ASSERT_TRUE(fs_->frozen());
  j.reset();
  PowerLossReport report;
  switch (GetParam()) {
    case Crash::kPowerLoss:
      report = fs_->SimulatePowerLoss(Unsynced::kDrop);
      EXPECT_GT(report.bytes_dropped, 0u) << "no unsynced group record to drop";
      break;
    case Crash::kPowerLossTornTail:
      report = fs_->SimulatePowerLoss(Unsynced::kKeepRandomPrefix, /*seed=*/42);
      break;
    case Crash::kProcessCrash:
      fs_->SimulateProcessCrash();
      break;
  }

  Acked all_acked;
  for (int w = 0; w < kThreads; ++w) {
    EXPECT_FALSE(errors[w].empty()) << "thread " << w << " never saw the power go";
    for (auto& [seq, e] : acked[w].events) all_acked.events[seq] = e;
    all_acked.last = std::max(all_acked.last, acked[w].last);
    all_acked.appends += acked[w].appends;
  }
  std::printf(
      "[ info     ] %lu appends acknowledged with %lu WAL syncs; %lu bytes cut from "
      "%lu files\n",
      all_acked.appends, syncs, report.bytes_dropped, report.files_truncated);
  // Test of the test: concurrent Appends shared syncs.
  EXPECT_LT(syncs, all_acked.appends);
  // Seqs are handed out in order and the power went after every Append that
  // was acknowledged, so the acknowledged seqs are exactly 1..last.
  EXPECT_EQ(all_acked.events.size(), all_acked.last);

  j = Open(SyncMode::kGroup, /*through_fault_fs=*/false);
  ASSERT_NE(j, nullptr);
  std::vector<Event> events = ExpectAckedSurvived(*j, all_acked);
  ExpectWholeFailedBatchesAfter(events, all_acked.last, failed);
  std::printf("[ info     ] after the crash: last seq %lu, last acknowledged %lu\n", j->LastSeq(),
              all_acked.last);
  if (GetParam() == Crash::kPowerLoss) {
    EXPECT_EQ(j->LastSeq(), all_acked.last);
  }
  const uint64_t last = j->LastSeq();
  uint64_t next = 1'000'000;
  auto r = j->Append(MakeBatch(0, &next, 5));
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->first, last + 1);
}

INSTANTIATE_TEST_SUITE_P(Crashes, ConcurrentTest,
                         ::testing::Values(Crash::kPowerLoss, Crash::kPowerLossTornTail,
                                           Crash::kProcessCrash),
                         [](const auto& info) {
                           switch (info.param) {
                             case Crash::kPowerLoss:
                               return "PowerLoss";
                             case Crash::kPowerLossTornTail:
                               return "PowerLossTornTail";
                             case Crash::kProcessCrash:
                               return "ProcessCrash";
                           }
                           return "Unknown";
                         });

}  // namespace
}  // namespace ferry
