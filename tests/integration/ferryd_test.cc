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
#include <set>
#include <sstream>

#include "tests/lib/ferryd_fixture.h"

namespace ferry {
namespace {

using testing::Eventually;
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

// Found by hand: a directory renamed in the source, or moved into it, was
// sent with the files the destination excludes, on both kinds of target
// (the tree send and the daemon's copy-move walked it without the excludes).
// A deleted directory still goes whole, excluded names and all.
TEST_F(FerrydTest, RenamedAndMovedInDirectoriesKeepTheirExcludedFilesOut) {
  destination_config_ = "exclude = *.log\nexclude = /in/cache/\n";
  for (const char* f : {"old/a.txt", "old/x.log", "old/sub/y.log", "old/sub/b.txt"}) Write(f, f);
  const std::string outside = tmp_.Sub("outside");
  std::filesystem::create_directories(outside + "/in/cache");
  std::ofstream(outside + "/in/z.log") << "z";
  std::ofstream(outside + "/in/b.txt") << "b";
  std::ofstream(outside + "/in/cache/c") << "c";
  WriteConfig();
  ASSERT_NO_FATAL_FAILURE(StartFerryd());
  const auto on_both = [&](const std::string& rel) {
    return std::filesystem::exists(local() + "/" + rel) &&
           std::filesystem::exists(module() + "/" + rel);
  };
  const auto on_either = [&](const std::string& rel) {
    return std::filesystem::exists(local() + "/" + rel) ||
           std::filesystem::exists(module() + "/" + rel);
  };
  ASSERT_TRUE(Eventually([&] { return on_both("old/sub/b.txt"); })) << Log();
  EXPECT_FALSE(on_either("old/x.log"));

  std::filesystem::rename(src() + "/old", src() + "/new");
  std::filesystem::rename(outside + "/in", src() + "/in");
  ASSERT_TRUE(Eventually([&] {
    return on_both("new/a.txt") && on_both("new/sub/b.txt") && on_both("in/b.txt") &&
           !on_either("old");
  })) << Log();
  for (const char* excluded : {"new/x.log", "new/sub/y.log", "in/z.log", "in/cache"}) {
    EXPECT_FALSE(on_either(excluded)) << excluded;
  }

  // A name the target has that the destination excludes does not keep a
  // deleted directory alive there.
  std::ofstream(local() + "/new/sub/target-only.log") << "t";
  std::ofstream(module() + "/new/sub/target-only.log") << "t";
  std::filesystem::remove_all(src() + "/new/sub");
  EXPECT_TRUE(Eventually([&] { return !on_either("new/sub"); })) << Log();
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

// Once a burst is over, ferryd writes the journal's memtables to table files
// (and gives the memory back): 8,000 new files are far below the 8 MiB that
// would make RocksDB flush on its own, yet a table file appears.
TEST_F(FerrydTest, AfterABurstTheJournalsMemtablesReachTheDisk) {
  WriteConfig();
  ASSERT_NO_FATAL_FAILURE(StartFerryd());
  ASSERT_TRUE(Converged());
  // Names, not a count: RocksDB's own compactions may merge table files.
  const auto table_files = [&] {
    std::set<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(tmp_.Sub("journal"))) {
      if (e.path().extension() == ".sst") names.insert(e.path().filename());
    }
    return names;
  };
  const std::set<std::string> before = table_files();
  for (int i = 0; i < 8000; ++i) Write("d" + std::to_string(i / 100) + "/f" + std::to_string(i), "x");
  ASSERT_TRUE(Converged());
  EXPECT_TRUE(Eventually([&] {
    for (const std::string& name : table_files()) {
      if (!before.contains(name)) return true;
    }
    return false;
  })) << table_files().size() << " table files, none new; " << before.size() << " before";
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
