// WatchHarness: a real Watcher on a temp source tree with a real journal,
// driven the way ferryd drives it (the ChangeFeed of its backend, inotify or
// fanotify, with its reader thread; Process + Tick on the test's thread).
// Tests change the tree with plain syscalls, then pump until the journal
// shows what they expect, with a deadline, never a sleep.
//
// BackendTest is the fixture of tests that run once per backend
// (INSTANTIATE_BACKENDS); fanotify's instance skips, saying why, where
// ferryd could not use it (FanotifyUsable).
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "watch/change_feed.h"
#include "watch/fanotify_probe.h"
#include "watch/kernel_reader.h"
#include "watch/watcher.h"
#include "tests/lib/backends.h"
#include "tests/lib/journal_fixture.h"
#include "tests/lib/poll.h"
#include "tests/lib/temp_dir.h"

namespace ferry::testing {

class WatchHarness {
 public:
  explicit WatchHarness(uint32_t events = kDefaultEvents, FilterSpec filter = {})
      : WatchHarness(WatcherBackend::kInotify, events, std::move(filter)) {}
  explicit WatchHarness(WatcherBackend backend, uint32_t events = kDefaultEvents,
                        FilterSpec filter = {})
      : src_(tmp_.Sub("src")), backend_(backend), events_(events), filter_spec_(std::move(filter)) {
    mkdir(src_.c_str(), 0755);
    journal_ = OpenJournalOrDie(tmp_.Sub("journal"));
    dest_ = *journal_->DestinationId("d");
  }
  ~WatchHarness() {
    Stop();
    if (mounted_) umount2(src_.c_str(), MNT_DETACH);
    if (!around_.empty()) umount2(around_.c_str(), MNT_DETACH);
  }

  // Mounts a fresh filesystem of `type` (tmpfs, ramfs) on the source
  // directory, before Start(); needs root. The reason if it cannot.
  std::string MountSource(const std::string& type) {
    if (mount("none", src_.c_str(), type.c_str(), 0, nullptr) != 0) {
      return "mount -t " + type + " " + src_ + ": " + std::strerror(errno) + " (needs root)";
    }
    mounted_ = true;
    return {};
  }

  // Mounts a fresh filesystem of `type` on a directory that holds the
  // source, before Start(), so that Beside() is on the source's filesystem
  // and nothing else happens on it (a fanotify mark sees only this test);
  // needs root. The reason if it cannot.
  std::string MountAroundSource(const std::string& type) {
    const std::string fs = tmp_.Sub("fs");
    mkdir(fs.c_str(), 0755);
    if (mount("none", fs.c_str(), type.c_str(), 0, nullptr) != 0) {
      return "mount -t " + type + " " + fs + ": " + std::strerror(errno) + " (needs root)";
    }
    around_ = fs;
    src_ = fs + "/src";
    mkdir(src_.c_str(), 0755);
    return {};
  }
  // A path next to the source on its filesystem (after MountAroundSource).
  std::string Beside(const std::string& name) const { return around_ + "/" + name; }

  const std::string& src() const { return src_; }
  std::string Path(const std::string& rel) const { return src_ + "/" + rel; }
  std::string Outside(const std::string& name) const { return tmp_.Sub(name); }
  Journal& journal() { return *journal_; }
  Watcher& watcher() { return *watcher_; }
  ChangeFeed& feed() { return *feed_; }
  WatcherBackend backend() const { return backend_; }
  uint32_t dest() const { return dest_; }
  // The clock the watcher gets at Start() (the system clock by default).
  void UseClock(Clock* clock) { clock_ = clock; }
  // For the next StartReader(): e.g. no lingering, for a test that must
  // catalog a write within its timestamp tick.
  void UseReaderOptions(KernelReaderOptions options) { reader_options_ = options; }

  // Creates the watcher and its feed and reconciles; with `start_reader`
  // false the kernel queue fills up unread until StartReader() (to force an
  // overflow: inotify's kernel queue, or fanotify's reader bound).
  ReconcileStats Start(bool start_reader = true) {
    auto filter = Filter::Create(filter_spec_);
    EXPECT_TRUE(filter) << filter.error().ToString();
    const WatcherOptions options = {.name = "d",
                                    .destination = dest_,
                                    .root = src_,
                                    .filter = *filter,
                                    .events = events_,
                                    .backend = backend_};
    auto w = Watcher::Create(options, journal_.get(), clock_);
    EXPECT_TRUE(w) << w.error().ToString();
    watcher_ = std::move(*w);
    auto feed = MakeChangeFeed(watcher_.get(), options,
                               reader_options_ ? &*reader_options_ : nullptr);
    EXPECT_TRUE(feed) << feed.error().ToString();
    feed_ = std::move(*feed);
    Status opened = feed_->Open();
    EXPECT_TRUE(opened.ok()) << opened.ToString();
    const bool first = start_reader && feed_->ReadsDuringStart();
    if (first) StartReader();
    auto stats = watcher_->Start();
    EXPECT_TRUE(stats) << stats.error().ToString();
    if (start_reader && !first) StartReader();
    return stats ? *stats : ReconcileStats{};
  }
  void StartReader() {
    ASSERT_TRUE(feed_->StartReader().ok());
  }
  // ferryd stopped: nothing watches the tree any more.
  void Stop() {
    feed_.reset();
    watcher_.reset();
  }

  // One turn of ferryd's watch loop.
  void Step() {
    auto taken = feed_->Feed(20);
    EXPECT_TRUE(taken) << taken.error().ToString();
    Status s = watcher_->Tick();
    EXPECT_TRUE(s.ok()) << s.ToString();
    s = watcher_->Settle([this] { return feed_->CaughtUp(); });
    EXPECT_TRUE(s.ok()) << s.ToString();
  }

  // Pumps until `done(events after `after_seq`)` or 20 s pass.
  ::testing::AssertionResult PumpUntil(const std::function<bool(const std::vector<Event>&)>& done,
                                       uint64_t after_seq = 0) {
    const bool found = PollUntil(
        [&] {
          Step();  // waits for records itself
          return done(Events(after_seq));
        },
        std::chrono::seconds(20), std::chrono::milliseconds(0));
    if (found) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "journal after seq " << after_seq << ":\n"
                                         << Dump(Events(after_seq));
  }

  std::vector<Event> Events(uint64_t after_seq = 0) {
    return ReadAllEvents(*journal_, {.from_seq = after_seq + 1});
  }

  static std::string Dump(const std::vector<Event>& events) {
    std::string out;
    for (const Event& e : events) {
      out += std::to_string(e.seq) + " " + std::string(KindName(e.kind)) + " " +
             (e.old_path.empty() ? "" : e.old_path + " -> ") + e.path + (e.is_dir ? "/" : "") +
             "\n";
    }
    return out;
  }

  void Write(const std::string& rel, const std::string& content) {
    int fd = open(Path(rel).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0) << rel;
    ASSERT_EQ(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    close(fd);
  }
  void Mkdir(const std::string& rel) { ASSERT_EQ(mkdir(Path(rel).c_str(), 0755), 0) << rel; }

 private:
  TempDir tmp_;
  std::string src_;
  WatcherBackend backend_;
  uint32_t events_;
  FilterSpec filter_spec_;
  std::unique_ptr<Journal> journal_;
  uint32_t dest_ = 0;
  Clock* clock_ = SystemClock::Default();
  std::unique_ptr<Watcher> watcher_;
  std::unique_ptr<ChangeFeed> feed_;
  std::optional<KernelReaderOptions> reader_options_;
  bool mounted_ = false;
  std::string around_;  // MountAroundSource's mount point
};

class BackendTest : public ::testing::TestWithParam<WatcherBackend> {
 protected:
  void SetUp() override {
    if (GetParam() != WatcherBackend::kFanotify) return;
    // Under the temp directory, where the harness's source goes.
    TempDir probe;
    if (Status s = FanotifyUsable(probe.path()); !s.ok()) GTEST_SKIP() << s.message();
  }
  WatcherBackend Backend() const { return GetParam(); }
};

// Whether `events` holds an event of `kind` for `path`.
inline bool Has(const std::vector<Event>& events, EventKind kind, const std::string& path) {
  for (const Event& e : events) {
    if (e.kind == kind && e.path == path) return true;
  }
  return false;
}

}  // namespace ferry::testing
