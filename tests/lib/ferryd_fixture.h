// FerrydTest: the real ferryd binary on a temp config with a local target
// ("mirror") and a loopback rsync daemon target ("backup"), driven through its
// control socket. Shared by the ferryd integration tests.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "journal/journal.h"
#include "settings/watcher_backend.h"
#include "tests/lib/backends.h"
#include "watch/fanotify_probe.h"
#include "tests/lib/poll.h"
#include "tests/lib/temp_dir.h"
#include "tests/lib/test_servers.h"
#include "tests/lib/tree_compare.h"
#include "tools/control_client.h"

namespace ferry::testing {


class FerrydTest : public ::testing::Test {
 protected:
  FerrydTest() : daemon_(tmp_.Sub("rsyncd"), tmp_.Sub("module")) {
    std::filesystem::create_directories(src());
    std::filesystem::create_directories(local());
  }
  ~FerrydTest() override { StopFerryd(SIGKILL); }

  std::string src() const { return tmp_.Sub("src"); }
  std::string local() const { return tmp_.Sub("local"); }
  std::string module() const { return tmp_.Sub("module"); }

  void WriteConfig() {
    if (!daemon_.running()) {
      ASSERT_TRUE(daemon_.Start());
    }
    std::ofstream(tmp_.Sub("ferry.conf"))
        << "[journal]\ndir = " << tmp_.Sub("journal") << "\n"
        << journal_config_
        << "[replay]\nbatch_delay = 10ms\nretry_max = 1s\nshutdown_grace = " << grace_ << "\n"
        << "[control]\nsocket = " << socket_path() << "\n"
        << extra_config_ << "[destination.www]\nsource = " << src() << "\n"
        << destination_config_
        << "[target.mirror]\ndestination = www\nurl = " << local() << "\n"
        << "[target.backup]\ndestination = www\nurl = " << daemon_.url()
        << "\npassword_file = " << daemon_.PasswordFile("s3cret") << "\n";
  }

  // Starts ferryd and waits until its control socket says it is ready.
  // With `path_prefix`, rsync is looked up there first (a counting wrapper).
  // `run_as_` goes before everything (e.g. setpriv to drop root).
  void StartFerryd(const std::string& path_prefix = "") {
    std::vector<std::string> argv = {FERRYD, "--config", tmp_.Sub("ferry.conf")};
    if (const char* level = std::getenv("FERRY_TEST_LOG_LEVEL")) {
      argv.insert(argv.end(), {"--log-level", level});
    }
    if (!path_prefix.empty()) {
      argv.insert(argv.begin(), {"/usr/bin/env", "PATH=" + path_prefix + ":/usr/bin:/bin"});
    }
    argv.insert(argv.begin(), run_as_.begin(), run_as_.end());
    pid_ = testing::StartProcess(argv, tmp_.Sub("ferryd.log"));
    ASSERT_GT(pid_, 0);
    if (Eventually([&] { return Control({{"verb", "status"}}).value("ready", false); })) return;
    FAIL() << "ferryd not ready within 30 s:\n" << Log();
  }

  std::string socket_path() const { return tmp_.Sub("ferryd.sock"); }
  // One control request; {"ok": false, "error": ...} when it cannot be made.
  nlohmann::json Control(const nlohmann::json& request) {
    auto r = ControlCall(socket_path(), request, 10'000);
    if (!r) return {{"ok", false}, {"error", r.error().ToString()}};
    return *r;
  }
  std::string Log() const { return ReadFile(tmp_.Sub("ferryd.log")); }

  // Sends `sig` and returns the exit status.
  int StopFerryd(int sig) {
    if (pid_ <= 0) return -1;
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

  // Whether both targets equal the source and every cursor is at the head,
  // read through a follower as ferryctl will (polled with a deadline).
  ::testing::AssertionResult Converged(int seconds = 60) {
    std::string why;
    const bool done = PollUntil(
        [&] {
          why = DiffTrees(src(), local());
          if (!why.empty()) {
            why = "mirror: " + why;
            return false;
          }
          why = DiffTrees(src(), module());
          if (!why.empty()) {
            why = "backup: " + why;
            return false;
          }
          auto j = Journal::OpenSecondary(tmp_.Sub("journal"), tmp_.Sub("follower"));
          if (!j || !(*j)->CatchUp().ok()) return false;
          // A follower that could not see the newest events yet is not the
          // head: ferryd's own head says where the cursors must be.
          if (pid_ > 0) {
            const nlohmann::json s = Control({{"verb", "status"}});
            if (s.value("head", uint64_t{0}) > (*j)->LastSeq()) {
              why = "the follower sees head " + std::to_string((*j)->LastSeq()) + ", ferryd " +
                    s["head"].dump();
              return false;
            }
          }
          for (const char* t : {"mirror", "backup"}) {
            auto c = (*j)->GetCursor(t);
            if (!c || !c->has_value() || (*c)->seq < (*j)->LastSeq()) {
              why = std::string("the cursor of ") + t + " is behind the head";
              return false;
            }
          }
          return true;
        },
        std::chrono::seconds(seconds), std::chrono::milliseconds(50));
    if (done) return ::testing::AssertionSuccess();
    // What ferryd itself says, when it runs: a lane stuck in a transfer and
    // a lane that believes it is done are different bugs.
    std::string status = pid_ > 0 ? Control({{"verb", "status"}}).dump(1) : "(not running)";
    std::string children = pid_ > 0 ? testing::DescribeChildren(pid_) : "";
    return ::testing::AssertionFailure() << why << "\nferryd status: " << status
                                         << "\nferryd's children:\n" << children
                                         << "ferryd log:\n" << Log();
  }

  void Write(const std::string& rel, const std::string& content) {
    std::filesystem::create_directories(std::filesystem::path(src() + "/" + rel).parent_path());
    std::ofstream(src() + "/" + rel) << content;
  }

  TempDir tmp_;
  RsyncDaemon daemon_;
  pid_t pid_ = -1;
  std::string grace_ = "10s";
  std::string extra_config_;         // more sections, written before the destinations
  std::string journal_config_;       // more [journal] keys ("max_size = 1M\n")
  std::string destination_config_;   // more [destination.www] keys ("exclude = *.log\n")
  std::vector<std::string> run_as_;  // prefixed to ferryd's argv (setpriv ...)
};

// A ferryd fixture run once per watcher backend (INSTANTIATE_BACKENDS):
// `watcher = inotify` or `watcher = fanotify` in the destination; the
// fanotify instance skips, saying why, where ferryd could not use it.
template <typename Base>
class PerBackend : public Base, public ::testing::WithParamInterface<WatcherBackend> {
 protected:
  void SetUp() override {
    Base::SetUp();
    if (this->IsSkipped()) return;
    if (GetParam() == WatcherBackend::kFanotify) {
      std::filesystem::create_directories(this->src());
      if (Status s = FanotifyUsable(this->src()); !s.ok()) GTEST_SKIP() << s.message();
    }
    this->destination_config_ += "watcher = " + std::string(WatcherBackendName(GetParam())) + "\n";
  }
  std::string WatcherName() const { return std::string(WatcherBackendName(GetParam())); }
};

}  // namespace ferry::testing
