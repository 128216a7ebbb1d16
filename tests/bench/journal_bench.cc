// journal_bench: Append throughput per sync mode and batch size, group commit
// under concurrent callers, full and filtered scans, and plain RocksDB writes
// (synced and not) as the baseline the journal is compared against
// (docs/BENCHMARKS.md).
//
// Every event has a 64-byte path. Journals live in fresh directories under
// $TMPDIR (default /var/tmp), removed afterwards. All timings are wall-clock
// (UseRealTime): fsync waits are the point, and they use no CPU.
//
// Extra flag: --scan_events=N sizes the journal the scan benchmarks read
// (default 1,000,000; the ctest smoke run uses a small one).
#include <benchmark/benchmark.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <stdlib.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "journal/format.h"
#include "journal/journal.h"

namespace ferry {
namespace {

constexpr size_t kPathBytes = 64;

// A fresh directory under $TMPDIR (default /var/tmp: creating files in /tmp
// is much slower on the reference machine), removed with its contents.
class BenchDir {
 public:
  BenchDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/var/tmp") + "/ferry-bench-XXXXXX";
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~BenchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  BenchDir(const BenchDir&) = delete;
  BenchDir& operator=(const BenchDir&) = delete;

  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// `count` events with distinct 64-byte paths, as the watcher would journal them.
std::vector<Event> MakeBatch(size_t count, uint64_t first_index = 0) {
  std::vector<Event> batch;
  batch.reserve(count);
  for (uint64_t i = first_index; i < first_index + count; ++i) {
    std::string path =
        "srv/data/projects/dir" + std::to_string(i % 1000) + "/file" + std::to_string(i) + ".dat";
    path.resize(kPathBytes, '_');
    batch.push_back(Event{.destination = 1, .kind = EventKind::kModify, .path = std::move(path)});
  }
  return batch;
}

// Opens a journal in `dir`, or marks the benchmark failed and returns null.
std::unique_ptr<Journal> OpenOrSkip(benchmark::State& state, const BenchDir& dir, SyncMode sync) {
  if (!dir.ok()) {
    state.SkipWithError("cannot create a directory under $TMPDIR");
    return nullptr;
  }
  auto journal = Journal::Open({.dir = dir.path(), .sync = sync});
  if (!journal) {
    state.SkipWithError(journal.error().ToString().c_str());
    return nullptr;
  }
  return std::move(*journal);
}

void SetEventRate(benchmark::State& state, uint64_t events) {
  state.counters["events/s"] = benchmark::Counter(double(events), benchmark::Counter::kIsRate);
}

// --- Append ----------------------------------------------------------------

// One Append of `batch_size` events per iteration, from one thread. The copy
// of the batch (Append takes its vector by value) is timed: a caller pays it.
void BM_Append(benchmark::State& state, SyncMode sync, size_t batch_size) {
  BenchDir dir;
  std::unique_ptr<Journal> journal = OpenOrSkip(state, dir, sync);
  if (journal == nullptr) return;
  const std::vector<Event> batch = MakeBatch(batch_size);
  for (auto _ : state) {
    auto range = journal->Append(batch);
    if (!range) {
      state.SkipWithError(range.error().ToString().c_str());
      break;
    }
  }
  SetEventRate(state, state.iterations() * batch_size);
}

// Shared by the threads of one BM_AppendConcurrent run; made by Setup before
// any thread starts and destroyed by Teardown after all have stopped.
struct SharedJournal {
  BenchDir dir;
  std::unique_ptr<Journal> journal;
  std::string error;
};
std::unique_ptr<SharedJournal> g_shared;

void SetUpSharedJournal(const benchmark::State&) {
  g_shared = std::make_unique<SharedJournal>();
  if (!g_shared->dir.ok()) {
    g_shared->error = "cannot create a directory under $TMPDIR";
    return;
  }
  auto journal = Journal::Open({.dir = g_shared->dir.path(), .sync = SyncMode::kGroup});
  if (!journal) {
    g_shared->error = journal.error().ToString();
    return;
  }
  g_shared->journal = std::move(*journal);
}

void TearDownSharedJournal(const benchmark::State&) { g_shared.reset(); }

// Each thread appends batches of range(0) events to one group-mode journal;
// concurrent callers' batches share a WAL fdatasync. events/s is the total.
void BM_AppendConcurrent(benchmark::State& state) {
  if (g_shared->journal == nullptr) {
    state.SkipWithError(g_shared->error.c_str());
    return;
  }
  const size_t batch_size = state.range(0);
  const std::vector<Event> batch = MakeBatch(batch_size, state.thread_index() * batch_size);
  for (auto _ : state) {
    auto range = g_shared->journal->Append(batch);
    if (!range) {
      state.SkipWithError(range.error().ToString().c_str());
      break;
    }
  }
  SetEventRate(state, state.iterations() * batch_size);
}

// --- the raw RocksDB baseline ----------------------------------------------

// One WriteBatch of range(0) records per iteration into a plain rocksdb::DB
// with default options: big-endian u64 keys, and values the size of the
// journal's encoded events (the same bytes, in fact). Synced like the group
// and always modes, or not, like off.
void BM_RawRocksDB(benchmark::State& state, bool sync) {
  BenchDir dir;
  if (!dir.ok()) {
    state.SkipWithError("cannot create a directory under $TMPDIR");
    return;
  }
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir.path(), &raw);
  if (!s.ok()) {
    state.SkipWithError(s.ToString().c_str());
    return;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  const size_t records = state.range(0);
  std::vector<std::string> values;
  for (const Event& e : MakeBatch(records)) values.push_back(format::EncodeEventValue(e));
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  uint64_t key = 0;
  for (auto _ : state) {
    rocksdb::WriteBatch batch;
    for (const std::string& value : values) batch.Put(format::EncodeFixed64BE(++key), value);
    s = db->Write(wo, &batch);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  state.counters["records/s"] =
      benchmark::Counter(double(state.iterations() * records), benchmark::Counter::kIsRate);
  db->Close().PermitUncheckedError();
}

// --- Scan ------------------------------------------------------------------

uint64_t g_scan_events = 1'000'000;

// The journal the scan benchmarks read: g_scan_events events, alternately of
// destinations 1 and 2, appended unsynced in big batches and flushed to SST
// files. Built once, on first use, outside any timing.
struct ScanJournal {
  BenchDir dir;
  std::unique_ptr<Journal> journal;
  uint64_t events = 0;
  std::string error;
};
std::unique_ptr<ScanJournal> g_scan;

ScanJournal* BuildScanJournal() {
  g_scan = std::make_unique<ScanJournal>();
  ScanJournal* s = g_scan.get();
  if (!s->dir.ok()) {
    s->error = "cannot create a directory under $TMPDIR";
    return s;
  }
  auto journal = Journal::Open({.dir = s->dir.path(), .sync = SyncMode::kOff});
  if (!journal) {
    s->error = journal.error().ToString();
    return s;
  }
  s->journal = std::move(*journal);
  constexpr uint64_t kBatch = 10'000;
  for (uint64_t done = 0; done < g_scan_events; done += kBatch) {
    std::vector<Event> batch = MakeBatch(std::min(kBatch, g_scan_events - done), done);
    for (size_t i = 1; i < batch.size(); i += 2) batch[i].destination = 2;
    auto range = s->journal->Append(std::move(batch));
    if (!range) {
      s->error = range.error().ToString();
      s->journal.reset();
      return s;
    }
    s->events += range->size();
  }
  Status flushed = s->journal->Flush();
  if (!flushed.ok()) {
    s->error = flushed.ToString();
    s->journal.reset();
  }
  return s;
}

// Reads every event from seq 1, all destinations or only `destination`.
// events/s counts the events returned, records/s the records walked.
void BM_Scan(benchmark::State& state, std::optional<uint32_t> destination) {
  ScanJournal* scan = g_scan ? g_scan.get() : BuildScanJournal();
  if (scan->journal == nullptr) {
    state.SkipWithError(scan->error.c_str());
    return;
  }
  const uint64_t expected = destination ? scan->events / 2 : scan->events;
  uint64_t returned = 0;
  for (auto _ : state) {
    auto reader = scan->journal->NewReader({.from_seq = 1, .destination = destination});
    uint64_t n = 0;
    size_t path_bytes = 0;
    for (; reader->Valid(); reader->Next()) {
      path_bytes += reader->event().path.size();
      ++n;
    }
    benchmark::DoNotOptimize(path_bytes);
    if (!reader->status().ok() || n != expected) {
      state.SkipWithError(("scan returned " + std::to_string(n) + " events, expected " +
                           std::to_string(expected) + ": " + reader->status().ToString())
                              .c_str());
      break;
    }
    returned += n;
  }
  SetEventRate(state, returned);
  state.counters["records/s"] =
      benchmark::Counter(double(state.iterations() * scan->events), benchmark::Counter::kIsRate);
}

// --- Catalog churn -----------------------------------------------------------

// What the watcher does for each rename under a mixed workload: `churn`
// earlier renames and deletes of small directories (each one Append with
// a move and a delete of a subtree), then, timed, one catalog read and
// one more such Append. Range tombstones made this grow with `churn`
// (RocksDB 7.8 re-fragments a memtable's range tombstones at every read);
// point deletes keep it flat.
void BM_CatalogAfterChurn(benchmark::State& state) {
  BenchDir dir;
  std::unique_ptr<Journal> journal = OpenOrSkip(state, dir, SyncMode::kOff);
  if (journal == nullptr) return;
  auto churn = [&](int64_t i) {
    const std::string n = std::to_string(i);
    AppendBatch b;
    for (const std::string& p : {"d" + n, "d" + n + "/f", "d" + n + "/g"}) {
      b.catalog.push_back({.op = CatalogChange::Op::kPut, .destination = 1, .path = p});
    }
    b.catalog.push_back(
        {.op = CatalogChange::Op::kMove, .destination = 1, .path = "r" + n, .old_path = "d" + n});
    b.catalog.push_back({.op = CatalogChange::Op::kDelete, .destination = 1, .path = "r" + n});
    return journal->Append(std::move(b)).has_value();
  };
  for (int64_t i = 0; i < state.range(0); ++i) {
    if (!churn(i)) {
      state.SkipWithError("append failed");
      return;
    }
  }
  int64_t i = state.range(0);
  for (auto _ : state) {
    benchmark::DoNotOptimize(journal->GetCatalogEntry(1, "d" + std::to_string(i - 1)));
    if (!churn(i++)) {
      state.SkipWithError("append failed");
      break;
    }
  }
}

// Registers everything, in the order of docs/BENCHMARKS.md.
void RegisterBenchmarks() {
  for (SyncMode sync : {SyncMode::kGroup, SyncMode::kAlways, SyncMode::kOff}) {
    for (size_t batch : {size_t{1}, size_t{100}, size_t{10'000}}) {
      std::string name =
          "BM_Append/" + std::string(SyncModeName(sync)) + "/" + std::to_string(batch);
      benchmark::RegisterBenchmark(name.c_str(), BM_Append, sync, batch)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
  benchmark::RegisterBenchmark("BM_AppendConcurrent", BM_AppendConcurrent)
      ->Arg(100)
      ->Setup(SetUpSharedJournal)
      ->Teardown(TearDownSharedJournal)
      ->Threads(1)
      ->Threads(2)
      ->Threads(4)
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_RawRocksDB", BM_RawRocksDB, true)
      ->Arg(1)
      ->Arg(100)
      ->Arg(10'000)
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_RawRocksDBUnsynced", BM_RawRocksDB, false)
      ->Arg(1)
      ->Arg(100)
      ->Arg(10'000)
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_CatalogAfterChurn", BM_CatalogAfterChurn)
      ->Arg(0)
      ->Arg(1'000)
      ->Arg(10'000)
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_Scan/all", BM_Scan, std::nullopt)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_Scan/destination", BM_Scan, std::optional<uint32_t>(2))
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
}

// Takes --scan_events=N out of argv; false if N is not a number of at least 2.
bool ParseScanEvents(int* argc, char** argv) {
  constexpr std::string_view kFlag = "--scan_events=";
  int out = 1;
  for (int i = 1; i < *argc; ++i) {
    std::string_view arg = argv[i];
    if (!arg.starts_with(kFlag)) {
      argv[out++] = argv[i];
      continue;
    }
    std::string_view value = arg.substr(kFlag.size());
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), g_scan_events);
    if (ec != std::errc() || end != value.data() + value.size() || g_scan_events < 2) {
      return false;
    }
  }
  *argc = out;
  return true;
}

}  // namespace
}  // namespace ferry

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (!ferry::ParseScanEvents(&argc, argv)) {
    fprintf(stderr, "journal_bench: --scan_events needs a number of at least 2\n");
    return 64;
  }
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 64;
  ferry::RegisterBenchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  ferry::g_scan.reset();
  return 0;
}
