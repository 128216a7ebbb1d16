// Replay end to end: real inotify, journal, io_uring worker and rsync, to a
// local directory, a real rsync daemon and a real sshd on 127.0.0.1.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/lib/poll.h"
#include "tests/lib/replay_harness.h"
#include "tests/lib/replay_workload.h"
#include "tests/lib/test_servers.h"

namespace ferry {
namespace {

using testing::BytesForARenamedDirectory;
using testing::ReplayHarness;
using testing::RsyncDaemon;
using testing::SetMtime;
using testing::SshServer;
using testing::Workload;

// A target on `daemon`'s module, authenticating with `password`.
TargetSettings DaemonTarget(const RsyncDaemon& daemon, const std::string& password = "s3cret") {
  TargetSettings t = ReplayHarness::Local("backup", "/unused");
  t.url = *ParseTargetUrl(daemon.url());
  t.password_file = daemon.PasswordFile(password);
  return t;
}

// 10 new directories of 1,000 small files each.
void TenThousandCreates(ReplayHarness& h) {
  for (int d = 0; d < 10; ++d) {
    h.watch().Mkdir("d" + std::to_string(d));
    for (int f = 0; f < 1000; ++f) {
      h.watch().Write("d" + std::to_string(d) + "/" + std::to_string(f), std::to_string(f));
    }
  }
}

TEST(ReplayTest, LocalTargetCarriesTheWorkload) {
  ReplayHarness h;
  h.watch().Start();
  const std::string dst = h.TargetDir("dst");
  h.AddLane(ReplayHarness::Local("mirror", dst));
  Workload(h, {dst});
}

TEST(ReplayTest, FourParallelTransfersCarryTheWorkload) {
  ReplayHarness h;
  h.watch().Start();
  const std::string dst = h.TargetDir("dst");
  h.AddLane(ReplayHarness::Local("mirror", dst), /*partial_attempts=*/2, /*parallel=*/4);
  Workload(h, {dst});
}

TEST(ReplayTest, RenamedDirectoryIsNotSentAgainToALocalTarget) {
  ReplayHarness h;
  h.watch().Start();
  const std::string dst = h.TargetDir("dst");
  // Renamed in place on the target; the verifying rsync sends file lists only.
  EXPECT_LT(BytesForARenamedDirectory(h, ReplayHarness::Local("mirror", dst), dst), 64u * 1024);
}

TEST(ReplayTest, RenamedDirectoryIsCopiedOnTheRsyncDaemonNotSentAgain) {
  ReplayHarness h;
  h.watch().Start();
  const std::string module = h.Scratch("module");
  RsyncDaemon daemon(h.Scratch("rsyncd"), module);
  ASSERT_TRUE(daemon.Start());
  EXPECT_LT(BytesForARenamedDirectory(h, DaemonTarget(daemon), module), 1u << 20);  // not 20 MiB
}

TEST(ReplayTest, TenThousandCreatesToALocalTarget) {
  ReplayHarness h;
  h.watch().Start();
  const std::string dst = h.TargetDir("dst");
  h.AddLane(ReplayHarness::Local("mirror", dst));
  ASSERT_TRUE(h.Converge({dst}));
  TenThousandCreates(h);
  ASSERT_TRUE(h.Converge({dst}, 120));
}

TEST(ReplayTest, RsyncDaemonTargetWithAuthUsers) {
  ReplayHarness h;
  h.watch().Start();
  const std::string module = h.Scratch("module");
  RsyncDaemon daemon(h.Scratch("rsyncd"), module);
  ASSERT_TRUE(daemon.Start());
  TargetSettings t = DaemonTarget(daemon);
  h.AddLane(t);
  Workload(h, {module});
}

TEST(ReplayTest, WrongPasswordBlocksLosesNothingAndDeliversOnceFixed) {
  ReplayHarness h;
  h.watch().Start();
  const std::string module = h.Scratch("module");
  RsyncDaemon daemon(h.Scratch("rsyncd"), module);
  ASSERT_TRUE(daemon.Start());
  TargetSettings t = DaemonTarget(daemon, "wrong");
  Lane& lane = h.AddLane(t);
  h.watch().Write("precious", "data");
  EXPECT_FALSE(h.Converge({module}, 3));
  EXPECT_EQ(lane.status().state, TargetState::kBlocked);
  EXPECT_NE(lane.status().last_error.find("auth failed"), std::string::npos)
      << lane.status().last_error;
  EXPECT_TRUE(h.journal().ListDeadLetters("backup")->empty());
  // The operator fixes the secret in place: the lane delivers on its next try.
  testing::WriteFile(t.password_file, "s3cret\n", 0600);
  ASSERT_TRUE(h.Converge({module}));
}

TEST(ReplayTest, DaemonDownWhileTenThousandChangesAreJournaledThenFullCatchUp) {
  ReplayHarness h;
  h.watch().Start();
  const std::string module = h.Scratch("module");
  RsyncDaemon daemon(h.Scratch("rsyncd"), module);
  ASSERT_TRUE(daemon.Start());
  TargetSettings t = DaemonTarget(daemon);
  Lane& lane = h.AddLane(t);
  ASSERT_TRUE(h.Converge({module}));
  daemon.Stop();
  TenThousandCreates(h);
  // The lane tries, fails and backs off (polled: on a loaded machine the
  // first try may take a while to come).
  testing::PollUntil(
      [&] {
        EXPECT_FALSE(h.Converge({module}, 1));  // also journals what the watcher saw
        return lane.status().state == TargetState::kRetrying;
      },
      std::chrono::seconds(30), std::chrono::milliseconds(0));
  EXPECT_EQ(lane.status().state, TargetState::kRetrying) << lane.status().last_error;
  ASSERT_TRUE(daemon.Start());
  ASSERT_TRUE(h.Converge({module}, 120));
}

TEST(ReplayTest, SshTarget) {
  ReplayHarness h;
  SshServer sshd(h.Scratch("sshd"));
  if (!sshd.Start()) GTEST_SKIP() << "no usable sshd (install openssh-server)";
  h.watch().Start();
  const std::string dst = h.TargetDir("ssh-dst");
  TargetSettings t = ReplayHarness::Local("remote", "/unused");
  t.url = *ParseTargetUrl("127.0.0.1:" + dst);
  t.ssh_options = sshd.ClientOptions();
  h.AddLane(t);
  Workload(h, {dst});
}

// Makes `path` impossible to replace, even for root (chattr +i).
bool MakeImmutable(const std::string& path, bool on) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  int flags = 0;
  bool ok = ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
  flags = on ? (flags | FS_IMMUTABLE_FL) : (flags & ~FS_IMMUTABLE_FL);
  ok = ok && ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
  close(fd);
  return ok;
}

TEST(ReplayTest, OnePoisonedPathIsOneDeadLetterAndTheRestIsDelivered) {
  ReplayHarness h;
  h.watch().Start();
  const std::string dst = h.TargetDir("dst");
  h.AddLane(ReplayHarness::Local("mirror", dst));
  for (int i = 0; i < 20; ++i) h.watch().Write("f" + std::to_string(i), "v1");
  ASSERT_TRUE(h.Converge({dst}));
  // The target refuses one path for good: an immutable file there (root), or
  // a source file nobody can read (non-root).
  const bool as_root = geteuid() == 0;
  if (as_root ? !MakeImmutable(dst + "/f7", true) : chmod(h.watch().Path("f7").c_str(), 0) != 0) {
    GTEST_SKIP() << "cannot make a path fail on this filesystem";
  }
  const uint64_t base = h.journal().LastSeq();
  for (int i = 0; i < 20; ++i) h.watch().Write("f" + std::to_string(i), "v2 longer");
  ASSERT_TRUE(h.watch().PumpUntil([](auto& ev) { return ev.size() >= 20; }, base));
  testing::PollUntil(
      [&] {
        if (h.AllCursorsAtHead()) return true;
        h.watch().Step();
        return false;
      },
      std::chrono::seconds(60), std::chrono::milliseconds(0));
  if (as_root) MakeImmutable(dst + "/f7", false);
  ASSERT_TRUE(h.AllCursorsAtHead());
  auto dead = h.journal().ListDeadLetters("mirror");
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].event.path, "f7");
  EXPECT_FALSE((*dead)[0].error.empty());
  for (int i = 0; i < 20; ++i) {
    if (i == 7) continue;
    EXPECT_EQ(
        testing::DiffTrees(h.watch().Path("f" + std::to_string(i)), dst + "/f" + std::to_string(i)),
        "")
        << i;
  }
}

TEST(ReplayTest, CommandTargetGetsKindAndPathRecordsOnStdin) {
  ReplayHarness h;
  h.watch().Start();
  const std::string out = h.Scratch("records");
  const std::string script = h.Scratch("hook.sh");
  testing::WriteFile(script, "#!/bin/sh\ncat >> '" + out + "'\n", 0755);
  TargetSettings t = ReplayHarness::Local("hook", "/unused");
  t.url = *ParseTargetUrl("exec:" + script);
  h.AddLane(t);
  ASSERT_TRUE(h.Converge({}));
  const uint64_t base = h.journal().LastSeq();
  h.watch().Write("a b", "1");
  h.watch().Write("new\nline", "2");
  // No tree to compare: wait until both are journaled, then until delivered.
  ASSERT_TRUE(h.watch().PumpUntil([](auto& ev) { return ev.size() >= 2; }, base));
  ASSERT_TRUE(h.Converge({}));
  std::ifstream in(out, std::ios::binary);
  std::stringstream got;
  got << in.rdbuf();
  EXPECT_NE(got.str().find(std::string("content a b\0", 12)), std::string::npos) << got.str();
  EXPECT_NE(got.str().find(std::string("content new\nline\0", 17)), std::string::npos);
}

// Pids of this process's children running `comm`.
std::vector<pid_t> ChildrenNamed(const std::string& comm) {
  std::vector<pid_t> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    std::getline(stat, line);
    size_t open = line.find('('), close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == getpid() && line.substr(open + 1, close - open - 1) == comm) {
      out.push_back(std::stoi(name));
    }
  }
  return out;
}

TEST(ReplayTest, RsyncKilledMidTransferIsRetriedAndLeavesNoTempFiles) {
  ReplayHarness h;
  h.watch().Start();
  const std::string dst = h.TargetDir("dst");
  TargetSettings t = ReplayHarness::Local("mirror", dst);
  t.rsync_args = {"-a", "--bwlimit=2000"};  // 2 MB/s: an 8 MB file takes seconds
  h.AddLane(t);
  ASSERT_TRUE(h.Converge({dst}));
  h.watch().Write("big", std::string(8 << 20, 'b'));
  // Kill the first rsync that carries it, with SIGKILL, mid-transfer.
  std::vector<pid_t> rsyncs;
  testing::PollUntil(
      [&] {
        h.watch().Step();
        rsyncs = ChildrenNamed("rsync");
        return !rsyncs.empty();
      },
      std::chrono::seconds(30), std::chrono::milliseconds(0));
  ASSERT_FALSE(rsyncs.empty());
  for (pid_t pid : rsyncs) kill(pid, SIGKILL);
  ASSERT_TRUE(h.Converge({dst}, 120));
  for (const auto& entry : std::filesystem::directory_iterator(dst)) {
    EXPECT_EQ(entry.path().filename(), "big") << "left behind: " << entry.path();
  }
}

}  // namespace
}  // namespace ferry
