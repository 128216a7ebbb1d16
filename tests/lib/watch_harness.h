// WatchHarness: a real Watcher on a temp source tree with a real journal,
// driven the way ferryd drives it (an InotifyReader thread, Process + Tick on
// the test's thread). Tests change the tree with plain syscalls, then pump
// until the journal shows what they expect, with a deadline, never a sleep.
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
#include <string>
#include <vector>

#include "watch/inotify_reader.h"
#include "watch/watcher.h"
#include "tests/lib/journal_fixture.h"
#include "tests/lib/poll.h"
#include "tests/lib/temp_dir.h"

namespace ferry::testing {

class WatchHarness {
 public:
  explicit WatchHarness(uint32_t events = kDefaultEvents, FilterSpec filter = {})
      : src_(tmp_.Sub("src")), events_(events), filter_spec_(std::move(filter)) {
    mkdir(src_.c_str(), 0755);
    journal_ = OpenJournalOrDie(tmp_.Sub("journal"));
    dest_ = *journal_->DestinationId("d");
  }
  ~WatchHarness() {
    Stop();
    if (mounted_) umount2(src_.c_str(), MNT_DETACH);
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

  const std::string& src() const { return src_; }
  std::string Path(const std::string& rel) const { return src_ + "/" + rel; }
  std::string Outside(const std::string& name) const { return tmp_.Sub(name); }
  Journal& journal() { return *journal_; }
  Watcher& watcher() { return *watcher_; }
  InotifyReader& reader() { return *reader_; }
  uint32_t dest() const { return dest_; }
  // The clock the watcher gets at Start() (the system clock by default).
  void UseClock(Clock* clock) { clock_ = clock; }
  // For the next StartReader(): e.g. no lingering, for a test that must
  // catalog a write within its timestamp tick.
  void UseReaderOptions(InotifyReader::Options options) { reader_options_ = options; }

  // Creates the watcher and reconciles; with `start_reader` false the inotify
  // queue fills up unread until StartReader() (to force an overflow).
  ReconcileStats Start(bool start_reader = true) {
    auto filter = Filter::Create(filter_spec_);
    EXPECT_TRUE(filter) << filter.error().ToString();
    auto w = Watcher::Create(
        {.name = "d", .destination = dest_, .root = src_, .filter = *filter, .events = events_},
        journal_.get(), clock_);
    EXPECT_TRUE(w) << w.error().ToString();
    watcher_ = std::move(*w);
    auto stats = watcher_->Start();
    EXPECT_TRUE(stats) << stats.error().ToString();
    if (start_reader) StartReader();
    return stats ? *stats : ReconcileStats{};
  }
  void StartReader() {
    reader_ = std::make_unique<InotifyReader>(watcher_->fd(), reader_options_);
    ASSERT_TRUE(reader_->Start().ok());
  }
  // ferryd stopped: nothing watches the tree any more.
  void Stop() {
    reader_.reset();
    watcher_.reset();
  }

  // One turn of ferryd's watch loop.
  void Step() {
    auto records = reader_->Take(20);
    Status s = watcher_->Process(records);
    EXPECT_TRUE(s.ok()) << s.ToString();
    s = watcher_->Tick();
    EXPECT_TRUE(s.ok()) << s.ToString();
    s = watcher_->Settle([this] { return reader_->CaughtUp(); });
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
  uint32_t events_;
  FilterSpec filter_spec_;
  std::unique_ptr<Journal> journal_;
  uint32_t dest_ = 0;
  Clock* clock_ = SystemClock::Default();
  std::unique_ptr<Watcher> watcher_;
  std::unique_ptr<InotifyReader> reader_;
  InotifyReader::Options reader_options_;
  bool mounted_ = false;
};

// Whether `events` holds an event of `kind` for `path`.
inline bool Has(const std::vector<Event>& events, EventKind kind, const std::string& path) {
  for (const Event& e : events) {
    if (e.kind == kind && e.path == path) return true;
  }
  return false;
}

}  // namespace ferry::testing
