// watch_bench: the watcher's numbers for docs/BENCHMARKS.md.
//
//   watch_bench events  [--files N] [--src-base DIR]
//                                     sustained events/s from file creation
//                                     to durable journal (sync=group)
//   watch_bench watch   [--dirs N]    time and RSS to watch a tree of N dirs
//   watch_bench table   [--dirs N]    the watch table alone: bytes a directory
//                                     (malloc's count), path lookups/s, renames
//   watch_bench reconcile [--files N] start-up reconcile of an unchanged
//                                     tree of N files (warm cache)
//
// Trees and journals go under $TMPDIR (default /var/tmp) and are removed.
// Prints one line per measurement: name, value, unit.
#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include "watch/file_stat.h"
#include "watch/kernel_reader.h"
#include "watch/watch_table.h"
#include "watch/watcher.h"
#include "journal/journal.h"
#include "tests/bench/bench_util.h"

namespace ferry {
namespace {

using bench::Clock;
using bench::Seconds;

// Resident set size of this process now, in KiB (VmRSS).
long RssKiB() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("VmRSS:")) return std::atol(line.c_str() + 6);
  }
  return -1;
}

std::string MakeTemp(const std::string& base) {
  std::string tmpl = base + "/ferry-watch-bench-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) std::abort();
  return tmpl;
}

// The journal under $TMPDIR (default /var/tmp); the source tree there too,
// or under --src-base (a tmpfs such as /dev/shm takes the disk's file
// creation speed out of the measurement; the journal stays durable on disk).
std::string g_src_base;

class Scratch {
 public:
  Scratch() {
    const char* base = std::getenv("TMPDIR");
    path_ = MakeTemp(base && *base ? base : "/var/tmp");
    src_ = g_src_base.empty() ? path_ + "/src" : MakeTemp(g_src_base);
    std::filesystem::create_directories(src_);
  }
  ~Scratch() {
    std::filesystem::remove_all(path_);
    std::filesystem::remove_all(src_);
  }
  std::string src() const { return src_; }
  std::string journal() const { return path_ + "/journal"; }

 private:
  std::string path_, src_;
};

void MakeFile(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write(fd, "x", 1) != 1) {
    std::perror(path.c_str());
    std::exit(1);
  }
  close(fd);
}

// Files spread over directories of 1,000 each.
void MakeFiles(const std::string& root, long n) {
  for (long i = 0; i < n; ++i) {
    std::string dir = root + "/d" + std::to_string(i / 1000);
    if (i % 1000 == 0) mkdir(dir.c_str(), 0755);
    MakeFile(dir + "/f" + std::to_string(i));
  }
}

std::unique_ptr<Watcher> NewWatcher(Journal* j, const Scratch& s) {
  auto filter = Filter::Create({});
  auto w = Watcher::Create({.name = "bench",
                            .destination = *j->DestinationId("bench"),
                            .root = s.src(),
                            .filter = *filter},
                           j);
  if (!w) {
    std::fprintf(stderr, "%s\n", w.error().ToString().c_str());
    std::exit(1);
  }
  return std::move(*w);
}

std::unique_ptr<Journal> NewJournal(const Scratch& s) {
  auto j = Journal::Open({.dir = s.journal()});
  if (!j) {
    std::fprintf(stderr, "%s\n", j.error().ToString().c_str());
    std::exit(1);
  }
  return std::move(*j);
}

int Events(long files) {
  Scratch s;
  auto journal = NewJournal(s);
  auto watcher = NewWatcher(journal.get(), s);
  if (!watcher->Start()) return 1;
  InotifyReader reader(watcher->fd());
  if (!reader.Start().ok()) return 1;
  const uint64_t base = journal->LastSeq();
  const uint32_t dest = *journal->DestinationId("bench");
  const std::string last =
      "d" + std::to_string((files - 1) / 1000) + "/f" + std::to_string(files - 1);
  std::atomic<bool> written{false};
  double writer_secs = 0;
  auto start = Clock::now();
  std::thread writer([&] {
    MakeFiles(s.src(), files);
    writer_secs = Seconds(start);
    written = true;
  });
  // Records arrive in order: once the last file is in the catalog (written
  // with its event), everything before it is journaled too.
  while (!written || !journal->GetCatalogEntry(dest, last)->has_value()) {
    Status st = watcher->Process(reader.Take(20));
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", st.ToString().c_str());
      return 1;
    }
  }
  const double secs = Seconds(start);
  writer.join();
  const uint64_t expected = journal->LastSeq() - base;
  std::printf("files_created_per_second %.0f files/s (how fast the writer made them)\n",
              files / writer_secs);
  std::printf("events_journaled %llu events\n", static_cast<unsigned long long>(expected));
  std::printf("events_per_second %.0f events/s\n", expected / secs);
  std::printf("overflows %llu\n", static_cast<unsigned long long>(watcher->status().overflows));
  return 0;
}

int Watch(long dirs) {
  Scratch s;
  for (long i = 0; i < dirs; ++i) {
    std::string dir = s.src() + "/g" + std::to_string(i / 100);
    if (i % 100 == 0) mkdir(dir.c_str(), 0755);
    mkdir((dir + "/d" + std::to_string(i)).c_str(), 0755);
  }
  auto journal = NewJournal(s);
  auto watcher = NewWatcher(journal.get(), s);
  const long rss_before = RssKiB();
  auto start = Clock::now();
  auto stats = watcher->Start();
  const double secs = Seconds(start);
  if (!stats) return 1;
  std::printf("watches %zu\n", watcher->status().watches);
  std::printf("watch_seconds %.2f s\n", secs);
  std::printf("watch_rss_growth %.1f MiB\n", (RssKiB() - rss_before) / 1024.0);
  std::printf("process_rss %.1f MiB\n", RssKiB() / 1024.0);
  return 0;
}

// Bytes malloc has handed out, mmapped blocks included.
size_t HeapBytes() {
  struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

// What an event's record costs the table: the path of `name` in `wd`'s directory.
std::string EventPath(const WatchTable& table, int wd, const char* name) {
  return *table.Path(wd, name);
}

// A table of `dirs` directories shaped like the `watch` tree (g<i>/d<j>,
// 1,000 to a group), without inotify or a journal.
int Table(long dirs) {
  const size_t heap_before = HeapBytes();
  const long rss_before = RssKiB();
  auto table = std::make_unique<WatchTable>();
  int wd = 1;
  table->Add(wd++, "");
  for (long i = 0; i < dirs; ++i) {
    std::string group = "g" + std::to_string(i / 1000);
    if (i % 1000 == 0) table->Add(wd++, group);
    table->Add(wd++, group + "/d" + std::to_string(i));
  }
  const double heap = static_cast<double>(HeapBytes() - heap_before);
  std::printf("watches %zu\n", table->size());
  std::printf("table_bytes_per_dir %.1f bytes (malloc)\n", heap / table->size());
  std::printf("table_rss_per_dir %.1f bytes\n", (RssKiB() - rss_before) * 1024.0 / table->size());
  // Events come from any directory (cache misses), or from a few busy ones;
  // in no order a prefetcher could guess.
  for (const long spread : {wd - 1L, 64L}) {
    constexpr long kLookups = 2'000'000;
    std::mt19937 random(16);
    uint64_t sink = 0;
    auto start = Clock::now();
    for (long i = 0; i < kLookups; ++i) {
      sink += EventPath(*table, 1 + static_cast<int>(random() % spread), "file.txt").size();
    }
    std::printf("path_lookups_per_second %.0f /s over %ld directories (checksum %llu)\n",
                kLookups / Seconds(start), spread, static_cast<unsigned long long>(sink));
  }
  constexpr int kRenames = 200;
  const auto start = Clock::now();
  for (int i = 0; i < kRenames; ++i) {
    table->Rename(i % 2 == 0 ? "g0" : "moved/g0", i % 2 == 0 ? "moved/g0" : "g0");
  }
  std::printf("rename_1000_dirs_seconds %.6f s\n", Seconds(start) / kRenames);
  return 0;
}

int ReconcileUnchanged(long files) {
  Scratch s;
  auto start = Clock::now();
  MakeFiles(s.src(), files);
  std::printf("tree_build_seconds %.1f s\n", Seconds(start));
  auto journal = NewJournal(s);
  {
    auto first = NewWatcher(journal.get(), s);
    start = Clock::now();
    if (!first->Start()) return 1;
    std::printf("first_start_seconds %.2f s (full_sync, catalog filled)\n", Seconds(start));
  }
  const uint64_t head = journal->LastSeq();
  auto second = NewWatcher(journal.get(), s);
  start = Clock::now();
  auto stats = second->Start();
  const double secs = Seconds(start);
  if (!stats) return 1;
  std::printf("reconcile_seconds %.2f s (%llu entries walked, %llu events)\n", secs,
              static_cast<unsigned long long>(stats->entries),
              static_cast<unsigned long long>(journal->LastSeq() - head));
  std::printf("process_rss %.1f MiB\n", RssKiB() / 1024.0);
  return 0;
}

}  // namespace
}  // namespace ferry

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--src-base") == 0) ferry::g_src_base = argv[i + 1];
  }
  if (mode == "events") return ferry::Events(ferry::bench::Flag(argc, argv, "--files", 100'000));
  if (mode == "watch") return ferry::Watch(ferry::bench::Flag(argc, argv, "--dirs", 100'000));
  if (mode == "table") return ferry::Table(ferry::bench::Flag(argc, argv, "--dirs", 200'000));
  if (mode == "reconcile") {
    return ferry::ReconcileUnchanged(ferry::bench::Flag(argc, argv, "--files", 1'000'000));
  }
  std::fprintf(stderr,
               "usage: watch_bench events [--files N] | watch [--dirs N] | table [--dirs N] | "
               "reconcile [--files N]\n");
  return 64;
}
