// ferry against every rsync receiver backup servers run, 3.0.9 to 3.5, on
// every transport: the replay workload (creates, same-size rewrites, a
// directory rename, tree deletes, hostile names) must arrive byte-exact.
// The receivers: tests/lib/rsync_receivers.h.
//   local   the lane's rsync is the receiver's binary (both ends of a local
//           copy are one rsync)
//   daemon  the receiver serves a module with auth users; ferry's client is
//           /usr/bin/rsync
//   ssh     a real sshd; the receiver's binary runs remotely (--rsync-path)
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <tuple>

#include "tests/lib/replay_harness.h"
#include "tests/lib/replay_workload.h"
#include "tests/lib/rsync_receivers.h"
#include "tests/lib/test_servers.h"

namespace ferry {
namespace {

using testing::kReceivers;
using testing::Receiver;
using testing::ReceiverBinary;
using testing::ReceiverName;
using testing::ReplayHarness;

enum class Transport { kLocal, kDaemon, kSsh };

class RsyncCompatTest : public ::testing::TestWithParam<std::tuple<Receiver, Transport>> {
 protected:
  // The receiver's binary; skips the test when it is not there.
  std::string Binary() { return ReceiverBinary(std::get<0>(GetParam()), &skip_); }

  // What the lane's probe must have found.
  void ExpectProbed(const Lane& lane) {
    const Receiver& r = std::get<0>(GetParam());
    const std::string receiver = lane.status().receiver;
    const bool local = std::get<1>(GetParam()) == Transport::kLocal;
    // A 3.0 client reports no protocol; any other says what it negotiated.
    if (!(local && r.protocol == 30)) {
      EXPECT_NE(receiver.find("receiver protocol " + std::to_string(r.protocol)), std::string::npos)
          << receiver;
    }
    EXPECT_EQ(receiver.find("--delete-missing-args") == std::string::npos, r.delete_missing_args)
        << receiver;
    EXPECT_EQ(receiver.find("--modify-window=-1") == std::string::npos, r.nanosecond_mtimes)
        << receiver;
  }

  // The target on this test's transport, and the directory it fills;
  // skip_ says why not when the receiver or sshd is missing.
  std::pair<TargetSettings, std::string> Target(ReplayHarness& h) {
    const std::string binary = Binary();
    TargetSettings t = ReplayHarness::Local("target", "/unused");
    std::string dir;
    if (!skip_.empty()) return {t, dir};
    switch (std::get<1>(GetParam())) {
      case Transport::kLocal:
        dir = h.TargetDir("dst");
        t.url = *ParseTargetUrl(dir);
        t.rsync = binary;
        break;
      case Transport::kDaemon:
        dir = h.Scratch("module");
        daemon_ = std::make_unique<testing::RsyncDaemon>(h.Scratch("rsyncd"), dir);
        daemon_->set_program(binary);
        daemon_->set_chroot(geteuid() == 0);  // as rsyncd runs on a backup server
        if (!daemon_->Start()) ADD_FAILURE() << binary << " --daemon did not start";
        t.url = *ParseTargetUrl(daemon_->url());
        t.password_file = daemon_->PasswordFile("s3cret");
        break;
      case Transport::kSsh:
        sshd_ = std::make_unique<testing::SshServer>(h.Scratch("sshd"));
        if (!sshd_->Start()) skip_ = "no usable sshd (install openssh-server)";
        dir = h.TargetDir("ssh-dst");
        t.url = *ParseTargetUrl("127.0.0.1:" + dir);
        t.ssh_options = sshd_->ClientOptions();
        t.rsync_args.push_back("--rsync-path=" + binary);
        break;
    }
    return {t, dir};
  }

  std::string skip_;
  std::unique_ptr<testing::RsyncDaemon> daemon_;
  std::unique_ptr<testing::SshServer> sshd_;
};

TEST_P(RsyncCompatTest, CarriesTheWorkload) {
  ReplayHarness h;
  h.watch().Start();
  auto [t, dir] = Target(h);
  if (!skip_.empty()) GTEST_SKIP() << skip_;
  Lane& lane = h.AddLane(t);
  testing::Workload(h, {dir});
  ExpectProbed(lane);
  EXPECT_EQ(lane.status().transfers_failed, 0u) << lane.status().last_error;
  EXPECT_TRUE(h.journal().ListDeadLetters("target")->empty());
}

// A renamed 20 MiB directory is renamed (local) or copied on the receiver
// (--copy-dest), not sent again.
TEST_P(RsyncCompatTest, ARenamedDirectoryIsNotSentAgain) {
  ReplayHarness h;
  h.watch().Start();
  auto [t, dir] = Target(h);
  if (!skip_.empty()) GTEST_SKIP() << skip_;
  EXPECT_LT(testing::BytesForARenamedDirectory(h, t, dir), 1u << 20);
}

std::string Name(const ::testing::TestParamInfo<RsyncCompatTest::ParamType>& info) {
  const std::string v = ReceiverName(std::get<0>(info.param));
  const char* transport[] = {"local", "daemon", "ssh"};
  return std::string(transport[static_cast<int>(std::get<1>(info.param))]) + "_" + v;
}

INSTANTIATE_TEST_SUITE_P(Receivers, RsyncCompatTest,
                         ::testing::Combine(::testing::ValuesIn(kReceivers),
                                            ::testing::Values(Transport::kLocal, Transport::kDaemon,
                                                              Transport::kSsh)),
                         Name);

}  // namespace
}  // namespace ferry
