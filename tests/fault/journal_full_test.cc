// The journal's filesystem is full (issue 7).
//
// JournalNoSpaceTest: the journal alone, on a RocksDB FileSystem that fails
// writes with NoSpace on demand: writes are refused, nothing is half written,
// Recover() brings it back, and seqs neither skip nor repeat; also right
// after a recovery, when RocksDB's memtables are all empty (where a plain
// DB::Resume() would leave a WAL that aborts the process at the next write).
//
// JournalFullTest (root: a tmpfs under the journal): the real ferryd with two
// targets, a mixed workload while a filler file holds every free byte of the
// journal's filesystem. ferryd keeps running, says so in the status and once
// in the log, and once the filler goes converges with nothing lost and no
// dead letters; also with the disk filling again and again. Prints: changes
// made, time to converge, dead letters.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "journal/journal.h"
#include "tests/lib/ferryd_fixture.h"
#include "tests/lib/poll.h"
#include "tests/lib/temp_dir.h"
#include "tests/lib/workload.h"

namespace ferry {
namespace {

using nlohmann::json;
using testing::FerrydTest;
using testing::MixedWorkload;
using testing::TempDir;

// --- the journal alone -------------------------------------------------------

// Appends to every file but RocksDB's info LOG fail with NoSpace while full().
class FullFs : public rocksdb::FileSystemWrapper {
 public:
  FullFs() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "FerryFullFs"; }
  void set_full(bool full) { full_ = full; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    auto s = target()->NewWritableFile(name, options, result, dbg);
    const std::string base = std::filesystem::path(name).filename();
    if (s.ok() && !base.starts_with("LOG")) {
      *result = std::make_unique<File>(std::move(*result), &full_);
    }
    return s;
  }

 private:
  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> f, const std::atomic<bool>* full)
        : FSWritableFileOwnerWrapper(std::move(f)), full_(full) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
      if (*full_) return rocksdb::IOStatus::NoSpace("test filesystem full");
      return target()->Append(data, o, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                             const rocksdb::DataVerificationInfo& info,
                             rocksdb::IODebugContext* dbg) override {
      if (*full_) return rocksdb::IOStatus::NoSpace("test filesystem full");
      return target()->Append(data, o, info, dbg);
    }

   private:
    const std::atomic<bool>* full_;
  };

  std::atomic<bool> full_{false};
};

std::vector<Event> Events(int n) {
  std::vector<Event> events;
  for (int i = 0; i < n; ++i) {
    events.push_back(
        {.destination = 1, .kind = EventKind::kModify, .path = "f" + std::to_string(i)});
  }
  return events;
}

class JournalNoSpaceTest : public ::testing::Test {
 protected:
  std::unique_ptr<Journal> Open() {
    auto j = Journal::Open({.dir = tmp_.Sub("journal"), .env = env_.get()});
    EXPECT_TRUE(j) << j.error().ToString();
    return j ? std::move(*j) : nullptr;
  }

  TempDir tmp_;
  std::shared_ptr<FullFs> fs_ = std::make_shared<FullFs>();
  std::unique_ptr<rocksdb::Env> env_ = rocksdb::NewCompositeEnv(fs_);
};

TEST_F(JournalNoSpaceTest, RefusesWritesUntilRecoveredAndLosesNoSeq) {
  auto j = Open();
  ASSERT_NE(j, nullptr);
  ASSERT_TRUE(j->SetCursor("mirror", 1, 0).ok());
  auto first = j->Append(Events(3));
  ASSERT_TRUE(first) << first.error().ToString();
  uint64_t acked = first->last;
  // Round 0 fails a write after others went well; the later rounds the first
  // write after a recovery, when every memtable but the anchor's is empty.
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    fs_->set_full(true);
    auto failed = j->Append(Events(5));
    ASSERT_FALSE(failed);
    EXPECT_TRUE(failed.error().IsIOError());
    const Status refused = j->write_status();
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.message().find(tmp_.Sub("journal")), std::string::npos) << refused.message();
    EXPECT_NE(refused.message().find("free space on it"), std::string::npos) << refused.message();
    // Every write is refused at once, with that error; reads go on.
    auto again = j->Append(Events(2));
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().message(), refused.message());
    EXPECT_FALSE(j->AdvanceCursor("mirror", acked, 1, 1).ok());
    EXPECT_EQ(j->LastSeq(), acked);
    EXPECT_TRUE(j->GetCursor("mirror"));
    EXPECT_FALSE(j->Recover().ok());
    EXPECT_FALSE(j->write_status().ok());

    fs_->set_full(false);
    Status recovered = j->Recover();
    ASSERT_TRUE(recovered.ok()) << recovered.ToString();
    EXPECT_TRUE(j->write_status().ok());
    EXPECT_TRUE(j->Recover().ok());  // nothing to do
  }
  auto r = j->Append(Events(4));
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->first, acked + 1) << "seqs skip or repeat";
  acked = r->last;
  EXPECT_TRUE(j->AdvanceCursor("mirror", acked, 4, 4).ok());
  j.reset();
  j = Open();
  ASSERT_NE(j, nullptr);
  EXPECT_EQ(j->LastSeq(), acked);
  uint64_t expect = 1;
  for (auto reader = j->NewReader({}); reader->Valid(); reader->Next()) {
    EXPECT_EQ(reader->event().seq, expect++);
  }
  EXPECT_EQ(expect, acked + 1);
  auto cursor = j->GetCursor("mirror");
  ASSERT_TRUE(cursor && cursor->has_value());
  EXPECT_EQ((*cursor)->seq, acked);
}

// --- the real ferryd -----------------------------------------------------------

class JournalFullTest : public FerrydTest {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to mount a tmpfs";
    std::filesystem::create_directories(journal_dir());
    if (mount("tmpfs", journal_dir().c_str(), "tmpfs", 0, "size=8m") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs on " << journal_dir() << ": " << strerror(errno);
    }
    mounted_ = true;
  }
  void TearDown() override {
    StopFerryd(SIGKILL);  // nothing may hold files in the mount
    if (mounted_ && umount(journal_dir().c_str()) != 0) {
      ADD_FAILURE() << "umount " << journal_dir() << ": " << strerror(errno);
      umount2(journal_dir().c_str(), MNT_DETACH);
    }
  }

  std::string journal_dir() const { return tmp_.Sub("journal"); }
  std::string filler() const { return journal_dir() + "/filler"; }

  // Takes every free byte of the journal's filesystem.
  void Fill() {
    int fd = open(filler().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0) << strerror(errno);
    std::vector<char> block(1 << 20, 'x');
    for (size_t size = block.size(); size > 0; size /= 2) {
      while (write(fd, block.data(), size) == static_cast<ssize_t>(size)) {
      }
    }
    EXPECT_EQ(errno, ENOSPC);
    close(fd);
  }

  bool Alive() { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }

  static json Destination(const json& status) {
    for (const json& d : status.value("destinations", json::array())) {
      if (d.value("name", "") == "www") return d;
    }
    return json::object();
  }

  // Lines of the log that contain all of `parts`.
  int LogLines(const std::vector<std::string>& parts) const {
    std::istringstream log(Log());
    int n = 0;
    for (std::string line; std::getline(log, line);) {
      bool all = true;
      for (const std::string& p : parts) all = all && line.find(p) != std::string::npos;
      n += all;
    }
    return n;
  }

  // Polls the status until `want` holds for it (true) or the deadline passes.
  bool PollStatus(const std::function<bool(const json&)>& want, json* status, int seconds = 60) {
    return testing::Eventually(
        [&] {
          *status = Control({{"verb", "status"}});
          return want(*status);
        },
        seconds);
  }
  static bool Failing(const json& status) {
    return Destination(status).value("state", "") == "journal-error" &&
           !status["journal"].value("writable", true);
  }
  // Makes changes with `w` until ferryd says the journal is failing (the
  // WAL's last page may take a few records more); adds them to `changes`.
  void ChangeUntilFailing(MixedWorkload& w, int* changes, json* status) {
    ASSERT_TRUE(PollStatus(
        [&](const json& s) {
          if (Failing(s)) return true;
          *changes += w.Steps(10);
          return false;
        },
        status))
        << status->dump(2) << "\n"
        << Log();
  }
  // ferryd running and converged after `steps` changes of `w`, then the
  // journal's filesystem full.
  void StartConvergedAndFill(MixedWorkload& w, int steps, int* changes) {
    WriteConfig();
    ASSERT_NO_FATAL_FAILURE(StartFerryd());
    *changes += w.Steps(steps);
    ASSERT_TRUE(Converged());
    ASSERT_NO_FATAL_FAILURE(Fill());
  }
  static int DeadLetters(const json& status) {
    int dead = 0;
    for (const json& t : status["targets"]) dead += t.value("dead_letters", 0);
    return dead;
  }
  static bool Watching(const json& status) {
    return Destination(status).value("state", "") == "watching" &&
           status["journal"].value("writable", false);
  }

  bool mounted_ = false;
};

class JournalFullScenarioTest : public testing::PerBackend<JournalFullTest> {};
INSTANTIATE_BACKENDS(JournalFullScenarioTest);

TEST_P(JournalFullScenarioTest, KeepsRunningSaysSoAndLosesNothing) {
  MixedWorkload w(src(), /*seed=*/7);
  int changes = 0;
  ASSERT_NO_FATAL_FAILURE(StartConvergedAndFill(w, 200, &changes));
  json status;
  ASSERT_NO_FATAL_FAILURE(ChangeUntilFailing(w, &changes, &status));
  const std::string message = Destination(status).value("message", "");
  EXPECT_NE(message.find(journal_dir()), std::string::npos) << message;
  EXPECT_NE(message.find("free space on it"), std::string::npos) << message;
  EXPECT_NE(status["journal"].value("error", "").find("No space left on device"), std::string::npos)
      << status.dump(2);

  // More of everything while it is full: creates, same-size rewrites,
  // renames of files and directories, deletes of trees; and a retry that
  // failed because the filesystem is still full.
  changes += w.Steps(300);
  EXPECT_TRUE(PollStatus(
      [](const json& s) {
        return Destination(s).value("message", "").find("still cannot be written") !=
               std::string::npos;
      },
      &status, 30))
      << status.dump(2);
  Write("full/new-while-full", "made while the journal was full");
  std::filesystem::rename(src() + "/full", src() + "/full-renamed");
  changes += 3;
  status = Control({{"verb", "status"}});
  ASSERT_TRUE(Failing(status)) << status.dump(2);
  EXPECT_TRUE(Alive()) << Log();
  const std::vector<std::string> error_line = {"destination www:", "cannot be written",
                                               journal_dir(), "free space on it"};
  EXPECT_EQ(LogLines(error_line), 1) << "logged once, not once per change:\n" << Log();
  std::error_code ec;
  EXPECT_GT(std::filesystem::file_size(journal_dir() + "/LOG", ec), 0u) << "RocksDB's info LOG";

  ASSERT_EQ(unlink(filler().c_str()), 0) << strerror(errno);
  const auto freed = std::chrono::steady_clock::now();
  auto converged = Converged(120);
  ASSERT_TRUE(converged);
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - freed).count();
  status = Control({{"verb", "status"}});
  EXPECT_EQ(Destination(status).value("state", ""), "watching") << status.dump(2);
  EXPECT_TRUE(status["journal"].value("writable", false)) << status.dump(2);
  const int dead = DeadLetters(status);
  EXPECT_EQ(dead, 0) << status.dump(2);
  EXPECT_TRUE(Alive());
  EXPECT_EQ(LogLines({"destination www: the journal takes writes again", "the rescan found"}), 1)
      << Log();
  EXPECT_EQ(LogLines(error_line), 1) << Log();
  std::printf(
      "[scenario] journal filesystem full: %d changes made, all delivered to 2 targets; "
      "converged %.2f s after space returned; %d dead letters\n",
      changes, took, dead);
  RecordProperty("changes", changes);
  RecordProperty("converge_ms", static_cast<int>(took * 1000));
}

// A disk hovering near full: some room comes back, ferryd recovers, and the
// disk fills again soon after, three times. (The first write after a
// recovery meeting the full disk is JournalNoSpaceTest's case.)
TEST_F(JournalFullTest, FillingAgainAndAgainLosesNothing) {
  MixedWorkload w(src(), /*seed=*/11);
  int changes = 0;
  ASSERT_NO_FATAL_FAILURE(StartConvergedAndFill(w, 100, &changes));
  json status;
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    ASSERT_NO_FATAL_FAILURE(ChangeUntilFailing(w, &changes, &status));
    changes += w.Steps(100);
    // Some room: ferryd recovers, journals what changed, and is watching.
    ASSERT_EQ(truncate(filler().c_str(), std::filesystem::file_size(filler()) - (1 << 20)), 0);
    ASSERT_TRUE(PollStatus(Watching, &status)) << status.dump(2) << Log();
    ASSERT_NO_FATAL_FAILURE(Fill());
  }
  ASSERT_NO_FATAL_FAILURE(ChangeUntilFailing(w, &changes, &status));
  EXPECT_TRUE(Alive()) << Log();
  ASSERT_EQ(unlink(filler().c_str()), 0) << strerror(errno);
  const auto freed = std::chrono::steady_clock::now();
  ASSERT_TRUE(Converged(120));
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - freed).count();
  ASSERT_TRUE(PollStatus(Watching, &status)) << status.dump(2);
  const int dead = DeadLetters(status);
  EXPECT_EQ(dead, 0) << status.dump(2);
  EXPECT_TRUE(Alive()) << Log();
  EXPECT_GE(LogLines({"destination www: the journal takes writes again"}), 4) << Log();
  std::printf(
      "[scenario] journal filesystem full 4 times, again soon after each recovery: %d "
      "changes made, all delivered to 2 targets; converged %.2f s after space returned; %d dead "
      "letters\n",
      changes, took, dead);
}

// Stopped while the journal is full: a clean stop, and the next start
// journals what changed meanwhile.
TEST_F(JournalFullTest, StopsCleanlyWhileFullAndCatchesUpAtStart) {
  MixedWorkload w(src(), /*seed=*/13);
  int changes = 0;
  ASSERT_NO_FATAL_FAILURE(StartConvergedAndFill(w, 100, &changes));
  json status;
  ASSERT_NO_FATAL_FAILURE(ChangeUntilFailing(w, &changes, &status));
  changes += w.Steps(100);
  const int stopped = StopFerryd(SIGTERM);
  EXPECT_TRUE(WIFEXITED(stopped) && WEXITSTATUS(stopped) == 0) << stopped << "\n" << Log();
  changes += w.Steps(100);
  ASSERT_EQ(unlink(filler().c_str()), 0) << strerror(errno);
  const auto freed = std::chrono::steady_clock::now();
  ASSERT_NO_FATAL_FAILURE(StartFerryd());
  ASSERT_TRUE(Converged(120));
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - freed).count();
  ASSERT_TRUE(PollStatus(Watching, &status)) << status.dump(2);
  const int dead = DeadLetters(status);
  EXPECT_EQ(dead, 0) << status.dump(2);
  std::printf(
      "[scenario] journal filesystem full, ferryd stopped and started: %d changes made, all "
      "delivered to 2 targets; converged %.2f s after space returned; %d dead letters\n",
      changes, took, dead);
}

}  // namespace
}  // namespace ferry
