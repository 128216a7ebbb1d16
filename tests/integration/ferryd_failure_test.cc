// No destination stops silently: the real ferryd, made to fail on purpose
// with a failpoint (base/failpoint.h) in its watch thread. Each failure is
// logged, counted in status and /metrics, and followed by a rebuild of the
// watches and a rescan, so what changed meanwhile arrives and what changes
// afterwards is watched again.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "tests/lib/ferryd_fixture.h"

namespace ferry {
namespace {

using nlohmann::json;
using testing::Eventually;

class FerrydFailureTest : public testing::FerrydTest {
 protected:
  // Starts ferryd with FERRY_FAILPOINTS=`failpoints` and /metrics served.
  void StartFailing(const std::string& failpoints) {
    ASSERT_TRUE(daemon_.Start());  // first, so that it cannot take the port picked below
    port_ = testing::FreePort();
    extra_config_ = "[metrics]\nlisten = 127.0.0.1:" + std::to_string(port_) + "\n";
    run_as_ = {"/usr/bin/env", "FERRY_FAILPOINTS=" + failpoints};
    WriteConfig();
    ASSERT_NO_FATAL_FAILURE(StartFerryd());
  }

  json Destination() { return Control({{"verb", "status"}})["destinations"][0]; }

  // The destination says it failed once, why, and that it watches again;
  // the log and /metrics say the same.
  void ExpectOneFailureRecovered(const std::string& why) {
    json d;
    ASSERT_TRUE(Eventually([&] {
      d = Destination();
      return d.value("failures", 0) == 1 && d.value("state", "") == "watching";
    })) << d.dump();
    ASSERT_TRUE(d["last_failure"].is_object()) << d.dump();
    EXPECT_NE(d["last_failure"]["error"].get<std::string>().find(why), std::string::npos)
        << d.dump();
    EXPECT_GT(d["last_failure"]["time"].get<int64_t>(), 0);
    ASSERT_TRUE(Eventually([&] { return Log().find("watching again after a rescan") != std::string::npos; }))
        << Log();
    EXPECT_NE(Log().find("destination www: " + why), std::string::npos) << Log();
    EXPECT_NE(Log().find("rebuilding its watches and rescanning the tree"), std::string::npos);
    const std::string m = testing::HttpGet(port_, "/metrics");
    EXPECT_NE(m.find("ferry_destination_failures_total{destination=\"www\"} 1"), std::string::npos)
        << m;
    const std::string out = tmp_.Sub("status.out");
    EXPECT_EQ(testing::RunToEnd({FERRYCTL, "--config", tmp_.Sub("ferry.conf"), "status"}, out), 0);
    const std::string shown = testing::ReadFile(out);
    EXPECT_NE(shown.find("watch failures: 1, the last at "), std::string::npos) << shown;
    EXPECT_NE(shown.find(why), std::string::npos) << shown;
  }

  int port_ = 0;
};

// Before any failure the status says so: no failures, no last_failure.
TEST_F(FerrydFailureTest, HealthyDestinationShowsNoFailure) {
  ASSERT_NO_FATAL_FAILURE(StartFailing(""));
  const json d = Destination();
  EXPECT_EQ(d["failures"], 0) << d.dump();
  EXPECT_TRUE(d["last_failure"].is_null()) << d.dump();
  EXPECT_NE(testing::HttpGet(port_, "/metrics")
                .find("ferry_destination_failures_total{destination=\"www\"} 0"),
            std::string::npos);
}

class ReaderFailureTest : public testing::PerBackend<FerrydFailureTest> {
 protected:
  std::string Failpoint(int hits) const { return WatcherName() + "-read=" + std::to_string(hits); }
};
INSTANTIATE_BACKENDS(ReaderFailureTest);

// The kernel reader's read(2) fails once, on the first change: the records
// it would have read are lost with its inotify instance. The rescan finds
// that change, and a new reader sees the next.
TEST_P(ReaderFailureTest, ReaderErrorIsShownRebuiltAndRescanned) {
  Write("before", "b");
  ASSERT_NO_FATAL_FAILURE(StartFailing(Failpoint(1)));
  ASSERT_TRUE(Converged());
  Write("during", "lost by the reader, found by the rescan");
  ASSERT_NO_FATAL_FAILURE(ExpectOneFailureRecovered("the " + WatcherName() + " reader stopped: "));
  EXPECT_NE(Log().find("read " + WatcherName() + " fd"), std::string::npos) << Log();
  ASSERT_TRUE(Converged());
  Write("after", "seen by the new reader");
  Write("sub/deep", "in a directory made after the rebuild");
  ASSERT_TRUE(Converged());
  EXPECT_EQ(Destination()["failures"], 1);
}

// An exception in the watch loop no longer ends the thread (nor ferryd): it
// is a failure like the reader's, and the destination watches again.
TEST_F(FerrydFailureTest, WatchLoopExceptionIsShownAndTheDestinationWatchesAgain) {
  Write("before", "b");
  ASSERT_NO_FATAL_FAILURE(StartFailing("watch-loop-throw=1"));
  ASSERT_NO_FATAL_FAILURE(ExpectOneFailureRecovered("the watch loop failed: failpoint watch-loop-throw"));
  Write("after", "a");
  ASSERT_TRUE(Converged());
  EXPECT_TRUE(Control({{"verb", "status"}})["ready"]);
}

// A reader that keeps failing is rebuilt each time, each counted; failing
// again soon after a rebuild waits, doubling, before the next one, and says
// so. ferryd stops cleanly in the middle of it.
TEST_P(ReaderFailureTest, RepeatedFailuresAreEachCountedAndStopIsClean) {
  ASSERT_NO_FATAL_FAILURE(StartFailing(Failpoint(3)));
  for (int i = 0; i < 3; ++i) {
    // Each failure needs a read by a live reader: write only once the
    // previous rebuild is done and the destination watches again. (A
    // fanotify reader reads the whole filesystem's events, so other
    // activity may use up a failure first.)
    json d;
    ASSERT_TRUE(Eventually([&] {
      d = Destination();
      return d.value("failures", 0) >= i && d.value("state", "") == "watching";
    })) << d.dump() << Log();
    Write("f" + std::to_string(i), "x");
    ASSERT_TRUE(Eventually([&] { return Destination().value("failures", 0) >= i + 1; }))
        << Destination().dump() << Log();
  }
  ASSERT_TRUE(Converged());
  const json d = Destination();
  EXPECT_EQ(d["failures"], 3) << d.dump();
  EXPECT_EQ(d["state"], "watching") << d.dump();
  EXPECT_NE(Log().find("failed again 0 s after the last rebuild"), std::string::npos) << Log();
  EXPECT_NE(Log().find("rescanning the tree in 2 s"), std::string::npos) << Log();
  const int status = StopFerryd(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << Log();
}

// The replay worker's thread holds the lanes' callbacks and children, which
// nothing else can take over: an exception there ends ferryd with status 70
// and a critical line saying so, for the service manager to restart it. The
// journal keeps what was pending, and the restart delivers it.
TEST_F(FerrydFailureTest, ReplayWorkerExceptionEndsFerrydWith70AndTheRestartDelivers) {
  Write("before", "pending when the worker fails");
  ASSERT_TRUE(daemon_.Start());
  WriteConfig();
  const pid_t pid = testing::StartProcess(
      {"/usr/bin/env", "FERRY_FAILPOINTS=replay-worker-throw=1", FERRYD, "--config",
       tmp_.Sub("ferry.conf")},
      tmp_.Sub("ferryd.log"));
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_TRUE(Eventually([&] { return waitpid(pid, &status, WNOHANG) == pid; })) << Log();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 70) << status << Log();
  EXPECT_NE(Log().find("replay worker failed: failpoint replay-worker-throw; ferryd exits with "
                       "status 70"),
            std::string::npos)
      << Log();
  ASSERT_NO_FATAL_FAILURE(StartFerryd());
  Write("after", "a");
  ASSERT_TRUE(Converged());
}

// watcher = fanotify where it cannot work is one line naming the reason, and
// nothing starts; watcher = auto falls back to inotify and says why. The
// reason here: another filesystem mounted below the source, which a
// filesystem mark would not see.
TEST_F(FerrydFailureTest, AnImpossibleFanotifyIsRefusedAndAutoSaysWhyItTookInotify) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting below the source needs root";
  std::filesystem::create_directories(src() + "/mnt");
  if (mount("none", (src() + "/mnt").c_str(), "tmpfs", 0, "size=1m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs below the source: " << std::strerror(errno);
  }
  struct Unmount {
    std::string at;
    ~Unmount() { umount2(at.c_str(), MNT_DETACH); }
  } unmount{src() + "/mnt"};
  Write("mnt/on-the-other-filesystem", "x");
  destination_config_ = "watcher = fanotify\n";
  WriteConfig();
  const int code = testing::RunToEnd(
      {"/usr/bin/timeout", "60", FERRYD, "--config", tmp_.Sub("ferry.conf")}, tmp_.Sub("ferryd.log"));
  EXPECT_EQ(code, 70) << Log();
  EXPECT_NE(Log().find("destination www: watcher = fanotify: 1 other filesystem(s) are mounted "
                       "below " + src() + " (" + src() + "/mnt), which a filesystem mark does "
                       "not see: use watcher = inotify"),
            std::string::npos)
      << Log();

  destination_config_ = "watcher = auto\n";
  WriteConfig();
  ASSERT_NO_FATAL_FAILURE(StartFerryd());
  const json d = Destination();
  EXPECT_EQ(d["watcher"], "inotify") << d.dump();
  EXPECT_NE(d["watcher_reason"].get<std::string>().find("watcher = auto: inotify, since 1 other "
                                                        "filesystem(s) are mounted below"),
            std::string::npos)
      << d.dump();
  EXPECT_NE(Log().find("watched by inotify (watcher = auto: inotify, since"), std::string::npos)
      << Log();
  // inotify sees the mounted filesystem too.
  ASSERT_TRUE(Converged());
  EXPECT_TRUE(std::filesystem::exists(local() + "/mnt/on-the-other-filesystem"));
}

// Root without CAP_DAC_READ_SEARCH (a hardened unit may drop it) can mark a
// filesystem but not open the handles its events name: auto takes inotify
// and says why, rather than a fanotify that could resolve nothing.
TEST_F(FerrydFailureTest, WithoutTheCapabilityToOpenHandlesAutoTakesInotify) {
  if (geteuid() != 0) GTEST_SKIP() << "dropping a capability from root needs root";
  if (Status s = FanotifyUsable(src()); !s.ok()) GTEST_SKIP() << s.message();
  run_as_ = {"setpriv", "--bounding-set=-dac_read_search", "--inh-caps=-dac_read_search", "--"};
  WriteConfig();
  ASSERT_NO_FATAL_FAILURE(StartFerryd());
  const json d = Destination();
  EXPECT_EQ(d["watcher"], "inotify") << d.dump();
  EXPECT_NE(d["watcher_reason"].get<std::string>().find("CAP_DAC_READ_SEARCH"), std::string::npos)
      << d.dump();
  Write("after", "a");
  ASSERT_TRUE(Converged());
}

}  // namespace
}  // namespace ferry
