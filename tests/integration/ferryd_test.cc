// The real ferryd binary, end to end: started on a temp config with a local
// target and a loopback rsync daemon target, stopped with SIGTERM and SIGKILL.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "journal/journal.h"
#include "tests/lib/temp_dir.h"
#include "tests/lib/test_servers.h"
#include "tests/lib/tree_compare.h"

namespace ferry {
namespace {

using testing::DiffTrees;
using testing::RsyncDaemon;
using testing::TempDir;

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
    ASSERT_TRUE(daemon_.Start());
    std::ofstream(tmp_.Sub("ferry.conf"))
        << "[journal]\ndir = " << tmp_.Sub("journal") << "\n"
        << "[replay]\nbatch_delay = 10ms\nretry_max = 1s\n"
        << "[destination.www]\nsource = " << src() << "\n"
        << "[target.mirror]\ndestination = www\nurl = " << local() << "\n"
        << "[target.backup]\ndestination = www\nurl = " << daemon_.url()
        << "\npassword_file = " << daemon_.PasswordFile("s3cret") << "\n";
  }

  void StartFerryd() {
    pid_ =
        testing::StartProcess({FERRYD, "--config", tmp_.Sub("ferry.conf")}, tmp_.Sub("ferryd.log"));
    ASSERT_GT(pid_, 0);
  }

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
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    std::string why;
    while (std::chrono::steady_clock::now() < deadline) {
      why = DiffTrees(src(), local());
      if (why.empty()) why = DiffTrees(src(), module());
      if (why.empty()) {
        auto j = Journal::OpenSecondary(tmp_.Sub("journal"), tmp_.Sub("follower"));
        if (j && (*j)->CatchUp().ok()) {
          bool at_head = true;
          for (const char* t : {"mirror", "backup"}) {
            auto c = (*j)->GetCursor(t);
            at_head = at_head && c && c->has_value() && (*c)->seq >= (*j)->LastSeq();
          }
          if (at_head) return ::testing::AssertionSuccess();
          why = "cursors behind the head";
        }
      }
      usleep(50'000);  // polling the outcome of another process, with a deadline
    }
    std::ifstream log(tmp_.Sub("ferryd.log"));
    std::stringstream text;
    text << log.rdbuf();
    return ::testing::AssertionFailure() << why << "\nferryd log:\n" << text.str();
  }

  void Write(const std::string& rel, const std::string& content) {
    std::filesystem::create_directories(std::filesystem::path(src() + "/" + rel).parent_path());
    std::ofstream(src() + "/" + rel) << content;
  }

  TempDir tmp_;
  RsyncDaemon daemon_;
  pid_t pid_ = -1;
};

TEST_F(FerrydTest, ReplicatesToLocalAndDaemonTargetsAndStopsCleanly) {
  Write("existing/file", "before start");
  WriteConfig();
  StartFerryd();
  ASSERT_TRUE(Converged());
  for (int i = 0; i < 100; ++i) Write("d" + std::to_string(i % 7) + "/f" + std::to_string(i), "x");
  Write("#odd;name", "y");
  std::filesystem::rename(src() + "/d3", src() + "/d3-renamed");
  ASSERT_TRUE(Converged());
  int status = StopFerryd(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST_F(FerrydTest, ChangesWhileStoppedAndAfterKillNineAreReplicated) {
  WriteConfig();
  StartFerryd();
  ASSERT_TRUE(Converged());
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 50; ++i) Write("r" + std::to_string(round) + "/" + std::to_string(i), "z");
    StopFerryd(SIGKILL);  // whatever it had not journaled, the reconcile finds
    Write("while-stopped-" + std::to_string(round), "w");
    std::filesystem::remove_all(src() + "/r" + std::to_string(round) + "/1");
    StartFerryd();
    ASSERT_TRUE(Converged()) << "round " << round;
  }
}

TEST_F(FerrydTest, TellsSystemdWhenReadyAndWhenStopping) {
  const std::string path = tmp_.Sub("notify.sock");
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  WriteConfig();
  setenv("NOTIFY_SOCKET", path.c_str(), 1);  // what systemd gives a Type=notify service
  StartFerryd();
  unsetenv("NOTIFY_SOCKET");
  auto receive = [&] {
    pollfd p{fd, POLLIN, 0};
    char buf[512] = {};
    if (poll(&p, 1, 20'000) <= 0) return std::string();
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    return std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
  };
  std::string ready = receive();
  EXPECT_NE(ready.find("READY=1"), std::string::npos) << ready;
  EXPECT_NE(ready.find("STATUS=watching 1 destination(s), replaying to 2 target(s)"),
            std::string::npos)
      << ready;
  kill(pid_, SIGTERM);
  EXPECT_NE(receive().find("STOPPING=1"), std::string::npos);
  int status = StopFerryd(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  close(fd);
}

TEST_F(FerrydTest, BrokenConfigExitsWith78AndOneLine) {
  std::ofstream(tmp_.Sub("ferry.conf")) << "[journal]\ndir = relative\n";
  pid_ = testing::StartProcess({FERRYD, "--config", tmp_.Sub("ferry.conf")}, tmp_.Sub("err.log"));
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 78);
  std::ifstream log(tmp_.Sub("err.log"));
  std::string line;
  std::getline(log, line);
  EXPECT_EQ(line,
            "ferryd: " + tmp_.Sub("ferry.conf") + ":2: [journal] dir: must be an absolute path");
}

}  // namespace
}  // namespace ferry
