// ferryd's control socket and lifecycle, on the real binary: status, pause
// and resume, rewind, SIGHUP reload, peers of another uid, SIGTERM under
// load, and changes made while stopped going out without a full sync.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <ctime>
#include <iostream>
#include <thread>

#include "tests/lib/ferryd_fixture.h"

namespace ferry {
namespace {

using nlohmann::json;
using testing::FerrydTest;

json Target(const json& status, const std::string& name) {
  for (const json& t : status["targets"]) {
    if (t["name"] == name) return t;
  }
  return json();
}

using testing::Eventually;
using testing::HttpGet;

TEST_F(FerrydTest, StatusShowsEveryTargetAtTheHead) {
  Write("a", "1");
  WriteConfig();
  StartFerryd();
  ASSERT_TRUE(Converged());
  json s = Control({{"verb", "status"}});
  ASSERT_TRUE(s["ok"]) << s.dump();
  EXPECT_TRUE(s["ready"]);
  EXPECT_EQ(s["journal"]["newest_seq"], s["head"]);
  ASSERT_EQ(s["destinations"].size(), 1u);
  EXPECT_EQ(s["destinations"][0]["name"], "www");
  EXPECT_EQ(s["destinations"][0]["state"], "watching");
  ASSERT_EQ(s["targets"].size(), 2u);
  for (const json& t : s["targets"]) {
    EXPECT_EQ(t["cursor"], s["head"]) << t.dump();
    EXPECT_EQ(t["lag_events"], 0) << t.dump();
    EXPECT_EQ(t["state"], "ok") << t.dump();
    EXPECT_EQ(t["dead_letters"], 0);
    EXPECT_FALSE(t["last_success"].is_null());
  }
  struct stat st;
  ASSERT_EQ(stat(socket_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "owner-only by default";
  EXPECT_EQ(Control({{"verb", "frobnicate"}})["ok"], false);
  EXPECT_NE(Control({{"verb", "pause"}, {"target", "nope"}})["error"].get<std::string>().find(
                "configured: mirror, backup"),
            std::string::npos);
}

TEST_F(FerrydTest, ServesPrometheusMetricsWhenAsked) {
  ASSERT_TRUE(daemon_.Start());  // first, so that it cannot take the port picked below
  const int port = testing::FreePort();
  extra_config_ = "[metrics]\nlisten = 127.0.0.1:" + std::to_string(port) + "\n";
  WriteConfig();
  ASSERT_NO_FATAL_FAILURE(StartFerryd());
  ASSERT_TRUE(Converged());
  const std::string m = HttpGet(port, "/metrics");
  EXPECT_NE(m.find("200 OK"), std::string::npos) << m;
  EXPECT_NE(m.find("ferry_up 1"), std::string::npos) << m;
  EXPECT_NE(m.find("ferry_target_lag_events{target=\"mirror\",destination=\"www\"} 0"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("ferry_target_state{target=\"backup\",state=\"ok\"} 1"), std::string::npos) << m;
  // auto: fanotify where this host allows it (root), with no watches; else one.
  const bool fanotify =
      m.find("ferry_destination_watcher{destination=\"www\",backend=\"fanotify\"} 1") !=
      std::string::npos;
  EXPECT_TRUE(fanotify || m.find("ferry_destination_watcher{destination=\"www\",backend=\"inotify\"} 1") !=
                              std::string::npos)
      << m;
  EXPECT_NE(m.find("ferry_destination_watches{destination=\"www\"} " +
                   std::string(fanotify ? "0" : "1")),
            std::string::npos)
      << m;
  EXPECT_NE(HttpGet(port, "/other").find("404"), std::string::npos);
}

TEST_F(FerrydTest, PausedTargetWaitsWhileTheOthersGoOnThenCatchesUp) {
  WriteConfig();
  StartFerryd();
  ASSERT_TRUE(Converged());
  ASSERT_TRUE(Control({{"verb", "pause"}, {"target", "mirror"}})["ok"]);
  Write("during-pause", "p");
  ASSERT_TRUE(Eventually([&] { return std::filesystem::exists(module() + "/during-pause"); }));
  json mirror = Target(Control({{"verb", "status"}}), "mirror");
  EXPECT_EQ(mirror["state"], "paused");
  EXPECT_FALSE(std::filesystem::exists(local() + "/during-pause"));
  EXPECT_GE(mirror["lag_events"].get<int>(), 1);
  ASSERT_TRUE(Control({{"verb", "resume"}, {"target", "mirror"}})["ok"]);
  EXPECT_TRUE(Converged());
}

// An operator paused a target for maintenance; systemd restarts a crashed
// ferryd. The target must come back paused, saying since when and by whom,
// and send nothing until `resume`, while the other target goes on.
TEST_F(FerrydTest, APauseSurvivesKillNineAndEndsOnlyWithResume) {
  WriteConfig();
  StartFerryd();
  ASSERT_TRUE(Converged());
  const int64_t before = time(nullptr);
  ASSERT_TRUE(Control({{"verb", "pause"}, {"target", "mirror"}})["ok"]);
  json mirror = Target(Control({{"verb", "status"}}), "mirror");
  EXPECT_EQ(mirror["state"], "paused");
  ASSERT_TRUE(mirror.contains("paused_since")) << mirror.dump(2);
  const int64_t since = mirror["paused_since"].get<int64_t>();
  EXPECT_GE(since, before);
  EXPECT_EQ(mirror["paused_by_uid"], getuid());
  EXPECT_EQ(mirror["paused_by_pid"], getpid());
  StopFerryd(SIGKILL);

  Write("while-stopped", "s");  // found by the start-up reconcile
  StartFerryd();
  Write("after-start", "a");  // journaled live
  // The other target is the witness that both changes went through the lanes.
  ASSERT_TRUE(Eventually([&] {
    return std::filesystem::exists(module() + "/while-stopped") &&
           std::filesystem::exists(module() + "/after-start");
  }));
  mirror = Target(Control({{"verb", "status"}}), "mirror");
  EXPECT_EQ(mirror["state"], "paused") << mirror.dump(2);
  EXPECT_EQ(mirror.value("paused_since", int64_t{0}), since) << "a restart is not a new pause";
  EXPECT_EQ(mirror["paused_by_uid"], getuid());
  EXPECT_GE(mirror["lag_events"].get<int>(), 2);
  EXPECT_FALSE(std::filesystem::exists(local() + "/while-stopped"));
  EXPECT_FALSE(std::filesystem::exists(local() + "/after-start"));
  EXPECT_NE(Log().find("target mirror: paused since"), std::string::npos) << Log();

  ASSERT_TRUE(Control({{"verb", "resume"}, {"target", "mirror"}})["ok"]);
  EXPECT_FALSE(Target(Control({{"verb", "status"}}), "mirror").contains("paused_since"));
  EXPECT_TRUE(Converged());
  StopFerryd(SIGKILL);
  StartFerryd();  // a resume is kept too
  EXPECT_NE(Target(Control({{"verb", "status"}}), "mirror")["state"], "paused");
  Write("after-resume", "r");
  EXPECT_TRUE(Converged());
}

TEST_F(FerrydTest, RewindDeliversAgainWhatTheTargetLost) {
  Write("keep/me", "precious");
  WriteConfig();
  StartFerryd();
  ASSERT_TRUE(Converged());
  Write("later", "x");
  ASSERT_TRUE(Converged());
  // Drift behind ferry's back: the target loses a file.
  std::filesystem::remove_all(local() + "/later");
  json dry = Control({{"verb", "rewind"}, {"target", "mirror"}, {"seq", 1}});
  ASSERT_TRUE(dry["ok"]) << dry.dump();
  EXPECT_FALSE(dry["executed"]);
  EXPECT_GE(dry["events"].get<int>(), 1);
  EXPECT_FALSE(std::filesystem::exists(local() + "/later")) << "a dry run changes nothing";
  json done = Control({{"verb", "rewind"}, {"target", "mirror"}, {"seq", 1}, {"execute", true}});
  ASSERT_TRUE(done["executed"]) << done.dump();
  EXPECT_TRUE(Converged());
}

TEST_F(FerrydTest, SighupAddsATargetWithAFullSyncRemovesOneAndKeepsTheRest) {
  Write("old/file", "o");
  WriteConfig();
  StartFerryd();
  ASSERT_TRUE(Converged());
  const uint64_t mirror_cursor = Target(Control({{"verb", "status"}}), "mirror")["cursor"];
  const uint64_t mirror_events =
      Target(Control({{"verb", "status"}}), "mirror")["events_delivered"];
  // Replace target "backup" by a new local target "second".
  const std::string second = tmp_.Sub("second");
  std::filesystem::create_directories(second);
  std::string conf;
  {
    std::ifstream in(tmp_.Sub("ferry.conf"));
    std::stringstream text;
    text << in.rdbuf();
    conf = text.str();
  }
  conf = conf.substr(0, conf.find("[target.backup]"));
  std::ofstream(tmp_.Sub("ferry.conf"))
      << conf << "[target.second]\ndestination = www\nurl = " << second << "\n";
  kill(pid_, SIGHUP);
  ASSERT_TRUE(Eventually([&] {
    json s = Control({{"verb", "status"}});
    return s["targets"].size() == 2 && !Target(s, "second").is_null() &&
           Target(s, "backup").is_null();
  }));
  ASSERT_TRUE(Eventually([&] { return testing::DiffTrees(src(), second).empty(); }))
      << testing::DiffTrees(src(), second);
  json s = Control({{"verb", "status"}});
  EXPECT_EQ(Target(s, "mirror")["cursor"], mirror_cursor) << "an unchanged target keeps its cursor";
  EXPECT_EQ(Target(s, "mirror")["events_delivered"], mirror_events);
  EXPECT_NE(Log().find("target second: full sync (new target)"), std::string::npos) << Log();
  auto j = Journal::OpenSecondary(tmp_.Sub("journal"), tmp_.Sub("follower"));
  ASSERT_TRUE(j);
  EXPECT_FALSE((*j)->GetCursor("backup")->has_value()) << "a removed target is forgotten";
  // A reload through the socket reports what it did; a broken file changes nothing.
  std::ofstream(tmp_.Sub("ferry.conf"), std::ios::app) << "bogus = 1\n";
  json bad = Control({{"verb", "reload"}});
  EXPECT_FALSE(bad["ok"]);
  EXPECT_NE(bad["error"].get<std::string>().find("unknown key"), std::string::npos) << bad.dump();
  EXPECT_EQ(Control({{"verb", "status"}})["targets"].size(), 2u);
}

TEST_F(FerrydTest, ATargetRemovedDuringItsFullSyncStaysRemoved) {
  // A wrapper rsync that holds the rsync daemon target's full sync at a FIFO
  // until the test opens it, then runs the real rsync and says so.
  const std::string bin = tmp_.Sub("bin"), gate = tmp_.Sub("gate");
  std::filesystem::create_directories(bin);
  ASSERT_EQ(mkfifo(gate.c_str(), 0600), 0);
  testing::WriteFile(bin + "/rsync",
                     "#!/bin/sh\n"
                     "case \" $* \" in *' --dry-run '*|*' --version '*) exec /usr/bin/rsync \"$@\";; esac\n"
                     "case \"$*\" in *rsync://*) echo held > " + tmp_.Sub("held") +
                         "; cat " + gate + " >/dev/null;; esac\n"
                     "/usr/bin/rsync \"$@\"; rc=$?\necho $rc > " + tmp_.Sub("done") + "\nexit $rc\n",
                     0755);
  for (int i = 0; i < 20; ++i) Write("f" + std::to_string(i), "x");
  WriteConfig();
  StartFerryd(bin);
  ASSERT_TRUE(Eventually([&] { return std::filesystem::exists(tmp_.Sub("held")); })) << Log();
  EXPECT_EQ(Target(Control({{"verb", "status"}}), "backup")["state"], "full-sync");
  // Remove "backup" while its full sync runs.
  std::string conf = testing::ReadFile(tmp_.Sub("ferry.conf"));
  std::ofstream(tmp_.Sub("ferry.conf")) << conf.substr(0, conf.find("[target.backup]"));
  json r = Control({{"verb", "reload"}});
  ASSERT_TRUE(r["ok"]) << r.dump();
  EXPECT_TRUE(Target(Control({{"verb", "status"}}), "backup").is_null());
  // Let the full sync go on and succeed.
  { std::ofstream open_the_gate(gate); }
  ASSERT_TRUE(Eventually([&] { return std::filesystem::exists(tmp_.Sub("done")); }));
  EXPECT_EQ(testing::ReadFile(tmp_.Sub("done")), "0\n") << "the transfer itself succeeded";
  ASSERT_TRUE(Eventually([&] {
    return Log().find("target backup: a transfer of the removed target ended; nothing recorded") !=
           std::string::npos;
  })) << Log();
  auto j = Journal::OpenSecondary(tmp_.Sub("journal"), tmp_.Sub("follower"));
  ASSERT_TRUE(j);
  EXPECT_FALSE((*j)->GetCursor("backup")->has_value()) << "the removed target's cursor came back";
  // And after a restart, ferryd knows nothing of it.
  ASSERT_EQ(StopFerryd(SIGTERM), 0);
  StartFerryd(bin);
  EXPECT_TRUE(Target(Control({{"verb", "status"}}), "backup").is_null());
  EXPECT_EQ(Control({{"verb", "status"}})["targets"].size(), 1u);
}

TEST_F(FerrydTest, StatusAnswersWhileAReloadWalksANewDestinationsTree) {
  WriteConfig();
  StartFerryd();
  ASSERT_TRUE(Converged());
  const std::string big = tmp_.Sub("big"), big_mirror = tmp_.Sub("big-mirror");
  for (int d = 0; d < 100; ++d) {
    const std::string dir = big + "/d" + std::to_string(d);
    std::filesystem::create_directories(dir);
    for (int f = 0; f < 500; ++f) std::ofstream(dir + "/f" + std::to_string(f)) << f;
  }
  std::filesystem::create_directories(big_mirror);
  std::ofstream(tmp_.Sub("ferry.conf"), std::ios::app)
      << "[destination.big]\nsource = " << big << "\n"
      << "[target.big-mirror]\ndestination = big\nurl = " << big_mirror << "\n";
  std::atomic<bool> reloaded{false};
  json reply;
  std::thread reload([&] {
    reply = Control({{"verb", "reload"}});
    reloaded = true;
  });
  // Status is polled throughout: every call answers, quickly, and one made
  // during the walk shows the new destination starting.
  double slowest = 0;
  int calls = 0, failed = 0;
  bool saw_starting = false;
  while (!reloaded) {
    const auto t0 = std::chrono::steady_clock::now();
    json s = Control({{"verb", "status"}});
    slowest = std::max(
        slowest, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    ++calls;
    if (!s.value("ok", false)) ++failed;
    for (const auto& d : s["destinations"]) {
      saw_starting = saw_starting || (d["name"] == "big" && d["state"] == "starting");
    }
  }
  reload.join();
  std::cout << calls << " status calls during the reload; the slowest took " << slowest << " s\n";
  ASSERT_TRUE(reply["ok"]) << reply.dump();
  EXPECT_EQ(reply["added"], json({"destination.big", "target.big-mirror"}));
  EXPECT_EQ(failed, 0) << calls << " calls";
  EXPECT_LT(slowest, 5.0) << "a status call waited for the walk";
  EXPECT_TRUE(saw_starting) << calls << " status calls during the reload, none saw it starting";
  EXPECT_TRUE(Eventually([&] { return testing::DiffTrees(big, big_mirror).empty(); }, 120))
      << testing::DiffTrees(big, big_mirror);
}

TEST_F(FerrydTest, ControlSocketRefusesAPeerOfAnotherUid) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to connect as another uid";
  WriteConfig();
  StartFerryd();
  // The socket's mode keeps others out; open it up to prove the peer check
  // does not depend on it.
  ASSERT_EQ(chmod(socket_path().c_str(), 0666), 0);
  ASSERT_EQ(chmod(tmp_.path().c_str(), 0755), 0);
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  pid_t child = fork();
  if (child == 0) {
    close(pipefd[0]);
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(2);
    auto r = ControlCall(socket_path(), {{"verb", "status"}}, 5000);
    std::string out = r ? r->dump() : r.error().ToString();
    if (write(pipefd[1], out.data(), out.size()) < 0) _exit(3);
    _exit(0);
  }
  close(pipefd[1]);
  std::string reply;
  char buf[4096];
  for (ssize_t n; (n = read(pipefd[0], buf, sizeof buf)) > 0;) reply.append(buf, n);
  close(pipefd[0]);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_NE(reply.find("permission denied: uid 65534"), std::string::npos) << reply;
  EXPECT_EQ(reply.find("\"head\""), std::string::npos) << "no status for a stranger";
  EXPECT_NE(Log().find("refused a client"), std::string::npos);
  EXPECT_TRUE(Control({{"verb", "status"}})["ok"]) << "root still gets in";
}

TEST_F(FerrydTest, SigtermUnderLoadExitsCleanlyAndLosesNothing) {
  WriteConfig();
  StartFerryd();
  ASSERT_TRUE(Converged());
  std::atomic<bool> writing{true};
  // Paced at about 2,000 files a second: an unpaced writer on a fast disk
  // makes 300k files during the stop, and the test then measures rsync.
  std::thread writer([&] {
    auto slot = std::chrono::steady_clock::now();
    for (int i = 0; writing; ++i) {
      Write("load/" + std::to_string(i % 50) + "/" + std::to_string(i), "l");
      if (i % 100 == 99) std::this_thread::sleep_until(slot += std::chrono::milliseconds(50));
    }
  });
  ASSERT_TRUE(Eventually([&] {
    json b = Target(Control({{"verb", "status"}}), "backup");
    return b.is_object() && b["events_delivered"].get<int>() > 200;
  }));
  const auto start = std::chrono::steady_clock::now();
  int status = StopFerryd(SIGTERM);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  writing = false;
  writer.join();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << "\n" << Log();
  EXPECT_LT(seconds, 12.0) << "within shutdown_grace (10 s) and a little";
  EXPECT_NE(Log().find("stopped cleanly"), std::string::npos);
  StartFerryd();
  EXPECT_TRUE(Converged());
}

TEST_F(FerrydTest, ChangesWhileStoppedGoOutWithoutAFullSync) {
  // A wrapper rsync that records each run's arguments, then runs the real one.
  const std::string bin = tmp_.Sub("bin");
  std::filesystem::create_directories(bin);
  testing::WriteFile(
      bin + "/rsync",
      "#!/bin/sh\necho \"$*\" >> " + tmp_.Sub("runs.log") + "\nexec /usr/bin/rsync \"$@\"\n", 0755);
  WriteConfig();
  StartFerryd(bin);
  ASSERT_TRUE(Converged());
  ASSERT_EQ(StopFerryd(SIGTERM), 0);
  std::filesystem::remove(tmp_.Sub("runs.log"));
  for (int i = 0; i < 20; ++i) Write("offline/" + std::to_string(i), "o");
  StartFerryd(bin);
  ASSERT_TRUE(Converged());
  std::ifstream runs(tmp_.Sub("runs.log"));
  int total = 0, full = 0;
  std::string all;
  for (std::string line; std::getline(runs, line);) {
    all += line + "\n";
    // The receiver probe (rsync_probe.h): a version, a dry run.
    if (line == "--version" || line.find("--dry-run") != std::string::npos) continue;
    ++total;
    // A full sync is the one run without a list of paths (or of filter
    // rules naming them, for a receiver without --delete-missing-args).
    if (line.find("--files-from") == std::string::npos &&
        line.find("--include-from") == std::string::npos) {
      ++full;
    }
  }
  EXPECT_GE(total, 2) << "each target got the changes";
  EXPECT_LE(total, 4) << "in a batch or two, not a run per file";
  EXPECT_EQ(full, 0) << "no full sync after a clean restart:\n" << all;
}

}  // namespace
}  // namespace ferry
