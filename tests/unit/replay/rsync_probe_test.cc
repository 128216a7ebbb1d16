// The receiver probe's pure parts: version lines, the dry run, and its
// verdicts on what real receivers print (captured from rsync 3.0.9, 3.1.3,
// Debian's 3.2.7-1+deb12u6 and 3.5.0 as servers of a 3.5.0 client).
#include "replay/rsync_probe.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "tests/lib/argv.h"

namespace ferry {
namespace {

using testing::HasArg;

TEST(RsyncProbeTest, ParsesVersionLines) {
  auto v = ParseRsyncVersion(
      "rsync  version 3.5.0  protocol version 32\nCopyright (C) 1996-2025 by Andrew Tridgell\n");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->ToString(), "3.5.0 (protocol 32)");
  v = ParseRsyncVersion("rsync  version v3.2.3  protocol version 31\n");
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->AtLeast(3, 2, 3));
  EXPECT_FALSE(v->AtLeast(3, 2, 4));
  EXPECT_TRUE(v->AtLeast(3, 1, 9));
  EXPECT_FALSE(v->AtLeast(4, 0, 0));
  v = ParseRsyncVersion("rsync  version 3.0.9  protocol version 30");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->protocol, 30);
  for (const char* bad :
       {"", "openrsync: protocol version 29", "rsync  version x  protocol version 3",
        "rsync  version 3.1.3\n protocol version 31"}) {
    EXPECT_FALSE(ParseRsyncVersion(bad)) << bad;
  }
}

TEST(RsyncProbeTest, LocalFeaturesFollowTheVersionsThatAddedThem) {
  auto features = [](const char* line) { return LocalFeatures(*ParseRsyncVersion(line)); };
  EXPECT_EQ(features("rsync  version 3.5.0  protocol version 32"), RsyncFeatures{});
  RsyncFeatures v313 = features("rsync  version 3.1.3  protocol version 31");
  EXPECT_TRUE(v313.delete_missing_args && v313.nanosecond_mtimes && v313.ignore_missing_args);
  RsyncFeatures v312 = features("rsync  version 3.1.2  protocol version 31");
  EXPECT_TRUE(v312.delete_missing_args);
  EXPECT_FALSE(v312.nanosecond_mtimes);
  RsyncFeatures v309 = features("rsync  version 3.0.9  protocol version 30");
  EXPECT_FALSE(v309.delete_missing_args || v309.nanosecond_mtimes || v309.ignore_missing_args);
}

TargetSettings Target() {
  return {.name = "t",
          .source = "/src",
          .url = *ParseTargetUrl("rsync://u@h/m"),
          .password_file = "/p"};
}

TEST(RsyncProbeTest, TheDryRunTriesWhatTheFeaturesSay) {
  const RsyncVersion local = *ParseRsyncVersion("rsync  version 3.5.0  protocol version 32");
  Transfer probe = BuildProbe(Target(), local);
  for (const char* arg : {"--dry-run", "--from0", "--files-from=-", "--delete-missing-args",
                          "--modify-window=-1", "--debug=PROTO", "--password-file=/p"}) {
    EXPECT_TRUE(HasArg(probe, arg)) << arg;
  }
  EXPECT_EQ(probe.argv.back(), "rsync://u@h/m/");
  EXPECT_EQ(probe.argv[probe.argv.size() - 2], "/src/");
  EXPECT_FALSE(probe.input.empty());
  EXPECT_EQ(probe.input.back(), '\0');

  TargetSettings old = Target();
  old.features = {.delete_missing_args = false, .nanosecond_mtimes = false};
  probe = BuildProbe(old, local);
  EXPECT_FALSE(HasArg(probe, "--delete-missing-args"));
  EXPECT_FALSE(HasArg(probe, "--modify-window=-1"));
  EXPECT_TRUE(HasArg(probe, "--ignore-missing-args"));

  // A 3.0 client has neither option nor --debug: it lists nothing.
  old.features.ignore_missing_args = false;
  probe = BuildProbe(old, *ParseRsyncVersion("rsync  version 3.0.9  protocol version 30"));
  EXPECT_FALSE(HasArg(probe, "--ignore-missing-args"));
  EXPECT_FALSE(HasArg(probe, "--debug=PROTO"));
  EXPECT_TRUE(probe.input.empty());
}

TEST(RsyncProbeTest, A30ReceiverRefusesOneOptionAtATime) {
  ProbeVerdict v = JudgeProbe({}, 12, "",
                              "rsync: on remote machine: --delete-missing-args: unknown option\n"
                              "rsync error: syntax or usage error (code 1) at main.c(1435) "
                              "[server=3.0.9]\nrsync: connection unexpectedly closed (0 bytes "
                              "received so far) [sender]\n");
  EXPECT_EQ(v.next, ProbeVerdict::Next::kAgain);
  EXPECT_FALSE(v.features.delete_missing_args);
  EXPECT_TRUE(v.features.nanosecond_mtimes);

  v = JudgeProbe(v.features, 12, "",
                 "rsync: on remote machine: -@-1: unknown option\nrsync error: syntax or usage "
                 "error (code 1) at main.c(1435) [server=3.0.9]\n");
  EXPECT_EQ(v.next, ProbeVerdict::Next::kAgain);
  EXPECT_FALSE(v.features.delete_missing_args);
  EXPECT_FALSE(v.features.nanosecond_mtimes);
  EXPECT_TRUE(v.features.ignore_missing_args);

  v = JudgeProbe(v.features, 0, "(Client) Protocol versions: remote=30, negotiated=30\n", "");
  EXPECT_EQ(v.next, ProbeVerdict::Next::kDone);
  EXPECT_EQ(v.protocol, 30);
}

TEST(RsyncProbeTest, ASecurityPatchedReceiverWithABrokenDeleteMissingArgs) {
  ProbeVerdict v =
      JudgeProbe({}, 2, "(Client) Protocol versions: remote=32, negotiated=32\n",
                 "invalid file mode 00 for .ferry-probe-of-the-receiver [Receiver]\nrsync error: "
                 "protocol incompatibility (code 2) at flist.c(874) [Receiver=3.2.7]\n");
  EXPECT_EQ(v.next, ProbeVerdict::Next::kAgain);
  EXPECT_FALSE(v.features.delete_missing_args);
  EXPECT_TRUE(v.features.nanosecond_mtimes);
  EXPECT_NE(v.message.find("broken"), std::string::npos);

  // Over ssh the receiver's message is sometimes lost (measured: 6 of 150
  // dry runs on a loaded machine): exit 2 and an empty stderr mean the same.
  v = JudgeProbe({}, 2, "(Client) Protocol versions: remote=32, negotiated=32\n", "");
  EXPECT_EQ(v.next, ProbeVerdict::Next::kAgain);
  EXPECT_FALSE(v.features.delete_missing_args);
  EXPECT_NE(v.message.find("without a message"), std::string::npos);
  // Once dropped, an exit 2 is the receiver's own: judged as any failure.
  EXPECT_EQ(JudgeProbe(v.features, 2, "", "").next, ProbeVerdict::Next::kFailed);
  EXPECT_EQ(JudgeProbe({}, 2, "", "rsync error: protocol incompatibility (code 2) at x\n").next,
            ProbeVerdict::Next::kFailed);
}

TEST(RsyncProbeTest, OtherFailuresAndAncientReceivers) {
  // Auth failed, host down: the lane classifies the exit as for any run.
  EXPECT_EQ(JudgeProbe({}, 5, "", "@ERROR: auth failed on module m\n").next,
            ProbeVerdict::Next::kFailed);
  EXPECT_EQ(JudgeProbe({}, 10, "", "rsync: failed to connect to h: Connection refused\n").next,
            ProbeVerdict::Next::kFailed);
  // An option already dropped is not dropped again: the failure stands.
  RsyncFeatures none{.delete_missing_args = false, .nanosecond_mtimes = false};
  EXPECT_EQ(JudgeProbe(none, 12, "", "rsync: on remote machine: -@-1: unknown option\n").next,
            ProbeVerdict::Next::kFailed);
  ProbeVerdict v = JudgeProbe({}, 0, "(Client) Protocol versions: remote=29, negotiated=29\n", "");
  EXPECT_EQ(v.next, ProbeVerdict::Next::kBlocked);
  EXPECT_NE(v.message.find("3.0.9"), std::string::npos);
  EXPECT_EQ(JudgeProbe({}, 0, "", "").protocol, 0);  // a 3.0 client does not say
}

}  // namespace
}  // namespace ferry
