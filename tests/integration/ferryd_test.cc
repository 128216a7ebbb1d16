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

#include "tests/lib/ferryd_fixture.h"

namespace ferry {
namespace {

using testing::FerrydTest;

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
