// replay_bench: the replay's numbers for docs/BENCHMARKS.md.
//
//   replay_bench creates [--files N]   N journaled creates of 1 KiB files to a
//                                      local target and a loopback rsync
//                                      daemon, beside one `rsync -a
//                                      --files-from` of the same list
//   replay_bench rewrites              100 files rewritten 50 times each:
//                                      rsync runs the lane needed
//   replay_bench rename [--mib N]      a renamed directory of N MiB: bytes
//                                      the lane sent for it
//
// Trees go under $TMPDIR (default /var/tmp). Prints "name value unit" lines.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "replay/lane.h"
#include "replay/worker.h"
#include "tests/bench/bench_util.h"
#include "tests/lib/replay_harness.h"
#include "tests/lib/test_servers.h"

namespace ferry {
namespace {

using bench::Clock;
using bench::Seconds;
using testing::ReplayHarness;

std::string TmpRoot() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/var/tmp") + "/ferry-replay-bench-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) std::abort();
  return tmpl;
}

void WriteKiB(const std::string& path) {
  static const std::string kb(1024, 'k');
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write(fd, kb.data(), kb.size()) != 1024) std::abort();
  close(fd);
}

// Replays `events` (already journaled) to `target` and returns the seconds
// until its cursor reaches the head, and the lane's rsync runs.
std::pair<double, uint64_t> Replay(Journal* journal, uint32_t dest, TargetSettings target) {
  UringWorker worker;
  if (!worker.Start().ok()) std::abort();
  LaneOptions o{.target = std::move(target), .destination = dest};
  Lane lane(o, journal, &worker);
  // Pretend the target was in sync before the events: no full sync.
  if (!journal->SetCursor(o.target.name, dest, 0).ok()) std::abort();
  auto start = Clock::now();
  worker.Post([&] { lane.Start(); });
  while ((*journal->GetCursor(o.target.name))->seq < journal->LastSeq()) {
    usleep(1000);  // a benchmark's polling: the lane runs on its own thread
  }
  double secs = Seconds(start);
  worker.Stop();
  return {secs, lane.status().transfers_ok};
}

int Creates(long files) {
  const std::string root = TmpRoot();
  const std::string src = root + "/src";
  std::filesystem::create_directories(src);
  auto journal = *Journal::Open({.dir = root + "/journal"});
  const uint32_t dest = *journal->DestinationId("bench");
  std::string list;
  std::vector<Event> batch;
  for (long i = 0; i < files; ++i) {
    std::string dir = "d" + std::to_string(i / 1000);
    if (i % 1000 == 0) std::filesystem::create_directories(src + "/" + dir);
    std::string rel = dir + "/f" + std::to_string(i);
    WriteKiB(src + "/" + rel);
    batch.push_back(Event{.destination = dest, .kind = EventKind::kCreate, .path = rel});
    list += rel;
    list.push_back('\0');
    if (batch.size() == 10'000) {
      if (!journal->Append(std::move(batch))) std::abort();
      batch.clear();
    }
  }
  if (!batch.empty() && !journal->Append(std::move(batch))) std::abort();

  // The lower bound: one rsync of the same list.
  std::filesystem::create_directories(root + "/lower");
  testing::WriteFile(root + "/list", list, 0644);
  auto start = Clock::now();
  pid_t pid = testing::StartProcess(
      {"rsync", "-a", "--from0", "--files-from=" + root + "/list", src + "/", root + "/lower/"},
      root + "/rsync.log");
  int status = 0;
  waitpid(pid, &status, 0);
  const double lower = Seconds(start);
  std::printf("one_rsync_files_from %.2f s %.0f files/s\n", lower, files / lower);

  std::filesystem::create_directories(root + "/local");
  TargetSettings local{.name = "local", .source = src, .url = *ParseTargetUrl(root + "/local")};
  auto [secs, runs] = Replay(journal.get(), dest, local);
  std::printf("lane_local %.2f s %.0f files/s (%.2fx the lower bound), %lu rsync runs\n", secs,
              files / secs, lower / secs, runs);

  testing::RsyncDaemon daemon(root + "/rsyncd", root + "/module");
  if (!daemon.Start()) return 1;
  TargetSettings remote{.name = "daemon",
                        .source = src,
                        .url = *ParseTargetUrl(daemon.url()),
                        .password_file = daemon.PasswordFile("s3cret")};
  start = Clock::now();
  pid = testing::StartProcess(
      {"rsync", "-a", "--from0", "--files-from=" + root + "/list",
       "--password-file=" + remote.password_file, src + "/", daemon.url() + "/lower/"},
      root + "/rsync.log");
  waitpid(pid, &status, 0);
  const double lower_daemon = Seconds(start);
  std::printf("one_rsync_files_from_daemon %.2f s %.0f files/s\n", lower_daemon,
              files / lower_daemon);
  auto [dsecs, druns] = Replay(journal.get(), dest, remote);
  std::printf("lane_daemon %.2f s %.0f files/s (%.2fx the lower bound), %lu rsync runs\n", dsecs,
              files / dsecs, lower_daemon / dsecs, druns);
  daemon.Stop();
  std::filesystem::remove_all(root);
  return 0;
}

int Rewrites() {
  ReplayHarness h;
  h.watch().Start();
  const std::string dst = h.TargetDir("dst");
  for (int f = 0; f < 100; ++f) h.watch().Write("f" + std::to_string(f), "v0");
  Lane& lane = h.AddLane(ReplayHarness::Local("mirror", dst));
  if (!h.Converge({dst})) return 1;
  const uint64_t before = lane.status().transfers_ok;
  auto start = Clock::now();
  for (int round = 1; round <= 50; ++round) {
    for (int f = 0; f < 100; ++f)
      h.watch().Write("f" + std::to_string(f), "v" + std::to_string(round % 10));
    h.watch().Step();
    for (int i = 0; i < 1; ++i) lane.Notify();
  }
  if (!h.Converge({dst})) return 1;
  std::printf("rewrites 5000 rewrites of 100 files: %lu rsync runs, converged in %.2f s\n",
              lane.status().transfers_ok - before, Seconds(start));
  return 0;
}

// Bytes a lane sends for a renamed directory of `mib` MiB, to a local
// target (renamed in place) or to a loopback rsync daemon (sent again).
int Rename(long mib, bool daemon_target) {
  ReplayHarness h;
  h.watch().Start();
  const std::string dst = h.TargetDir("dst");
  h.watch().Mkdir("data");
  const std::string mb(1 << 20, 'r');
  for (long i = 0; i < mib; ++i) h.watch().Write("data/" + std::to_string(i), mb);
  testing::RsyncDaemon daemon(h.Scratch("rsyncd"), dst);
  TargetSettings t = ReplayHarness::Local("mirror", dst);
  if (daemon_target) {
    if (!daemon.Start()) return 1;
    t.url = *ParseTargetUrl(daemon.url());
    t.password_file = daemon.PasswordFile("s3cret");
  }
  h.AddLane(t);
  if (!h.Converge({dst}, 300)) return 1;
  const uint64_t before = h.journal().GetStats("mirror")->bytes;
  auto start = Clock::now();
  std::rename(h.watch().Path("data").c_str(), h.watch().Path("renamed").c_str());
  if (!h.Converge({dst}, 300)) return 1;
  const uint64_t sent = h.journal().GetStats("mirror")->bytes - before;
  std::printf("rename of a %ld MiB directory to a %s target: %.1f KiB sent, converged in %.2f s\n",
              mib, daemon_target ? "rsync daemon" : "local", sent / 1024.0, Seconds(start));
  return 0;
}

}  // namespace
}  // namespace ferry

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "creates") return ferry::Creates(ferry::bench::Flag(argc, argv, "--files", 100'000));
  if (mode == "rewrites") return ferry::Rewrites();
  if (mode == "rename") {
    const long mib = ferry::bench::Flag(argc, argv, "--mib", 100);
    return ferry::Rename(mib, false) || ferry::Rename(mib, true);
  }
  std::fprintf(stderr, "usage: replay_bench creates [--files N] | rewrites | rename [--mib N]\n");
  return 64;
}
