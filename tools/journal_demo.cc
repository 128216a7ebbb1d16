// ferry-journal-demo: shows the journal at work until ferryd exists.
//
// Appends events with hostile names to a journal, delivers part of them to a
// pretend target, follows the journal from a read-only secondary as ferryctl
// will, and measures durable appends. Re-running continues the same journal:
// sequence numbers carry on where the last run stopped.
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "journal/escape.h"
#include "journal/journal.h"

namespace po = boost::program_options;
using ferry::Event;
using ferry::EventKind;

namespace {

constexpr int kExUsage = 64;
constexpr int kExSoftware = 70;

int Fail(const ferry::Status& s) {
  std::cerr << "ferry-journal-demo: " << s.ToString() << "\n";
  return kExSoftware;
}

std::vector<Event> HostileBatch(uint32_t dest) {
  const char* names[] = {
      "index.html",          "a\nb.txt",          "#not-a-comment",   ";semicolon", "-rf",
      "$(touch /tmp/pwned)", "bad-\xff\xfe-utf8", "中文目录/文件.txt"};
  std::vector<Event> out;
  for (const char* n : names) out.push_back(Event{.destination = dest, .path = n});
  out.push_back(Event{
      .destination = dest, .kind = EventKind::kMove, .path = "new-name", .old_path = "old-name"});
  out.push_back(Event{.destination = dest, .kind = EventKind::kDelete, .path = "index.html"});
  return out;
}

void PrintEvent(const Event& e) {
  std::printf("  %8llu  %-9s %s%s%s\n", static_cast<unsigned long long>(e.seq),
              std::string(ferry::KindName(e.kind)).c_str(),
              e.old_path.empty() ? "" : (ferry::EscapePath(e.old_path) + " -> ").c_str(),
              ferry::EscapePath(e.path).c_str(), e.is_dir ? "/" : "");
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  uint64_t bench_events = 0;
  po::options_description opts("Usage: ferry-journal-demo [--journal DIR] [--bench N]\nOptions");
  opts.add_options()("help,h", "show this help")(
      "journal", po::value(&dir)->default_value("demo/journal"),
      "journal directory (created if missing; reused if present)")(
      "bench", po::value(&bench_events)->default_value(200'000),
      "also append N events in batches of 100 with sync=group and report events/s (0 = skip)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "ferry-journal-demo: " << e.what() << "\n" << opts;
    return kExUsage;
  }
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }

  auto journal = ferry::Journal::Open({.dir = dir});
  if (!journal) return Fail(journal.error());
  auto& j = **journal;
  std::printf("journal %s  id %s  head seq %llu\n", dir.c_str(), j.id().Hex().c_str(),
              static_cast<unsigned long long>(j.LastSeq()));

  auto dest = j.DestinationId("demo");
  if (!dest) return Fail(dest.error());
  auto range = j.Append(HostileBatch(*dest));
  if (!range) return Fail(range.error());
  std::printf("appended seq %llu..%llu (durable: sync=group)\n",
              static_cast<unsigned long long>(range->first),
              static_cast<unsigned long long>(range->last));

  auto cursor = j.GetCursor("mirror");
  if (!cursor) return Fail(cursor.error());
  if (!cursor->has_value()) {
    if (auto s = j.SetCursor("mirror", *dest, 0); !s.ok()) return Fail(s);
  }
  if (auto s = j.AdvanceCursor("mirror", range->last - 2, range->size() - 2, 4096); !s.ok()) {
    return Fail(s);
  }

  // Follow the live journal read-only, as ferryctl does while ferryd runs.
  auto follower = ferry::Journal::OpenSecondary(dir, dir + ".follower");
  if (!follower) return Fail(follower.error());
  if (auto s = (*follower)->CatchUp(); !s.ok()) return Fail(s);
  std::printf("a read-only follower sees head %llu; the last events:\n",
              static_cast<unsigned long long>((*follower)->LastSeq()));
  auto reader = (*follower)->NewReader({.from_seq = range->first});
  for (; reader->Valid(); reader->Next()) PrintEvent(reader->event());
  if (!reader->status().ok()) return Fail(reader->status());
  auto seen = (*follower)->GetCursor("mirror");
  if (!seen) return Fail(seen.error());
  std::printf("target mirror: cursor %llu, %llu events behind\n",
              static_cast<unsigned long long>((*seen)->seq),
              static_cast<unsigned long long>((*follower)->LastSeq() - (*seen)->seq));

  if (bench_events > 0) {
    auto start = std::chrono::steady_clock::now();
    std::string path(64, 'p');
    for (uint64_t done = 0; done < bench_events; done += 100) {
      std::vector<Event> batch(
          100, Event{.destination = *dest, .kind = EventKind::kModify, .path = path});
      if (auto r = j.Append(std::move(batch)); !r) return Fail(r.error());
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf(
        "appended %llu events (64-byte paths, batches of 100, sync=group) in %.2f s: "
        "%.0f events/s durable\n",
        static_cast<unsigned long long>(bench_events), secs, bench_events / secs);
    start = std::chrono::steady_clock::now();
    if (auto s = j.JoinSmallEventFiles(); !s.ok()) return Fail(s);
    secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("joined the small event files in %.2f s (ferryd does it as it runs)\n", secs);
  }
  return 0;
}
