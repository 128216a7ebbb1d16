#include "replay/exit_class.h"

#include <gtest/gtest.h>

#include <csignal>

namespace ferry {
namespace {

Outcome Rsync(int code, std::string_view err = "") {
  return ClassifyRsyncExit(code, 0, err).outcome;
}

TEST(ExitClassTest, SuccessAndVanishedDeliver) {
  EXPECT_EQ(Rsync(0), Outcome::kDelivered);
  EXPECT_EQ(Rsync(24), Outcome::kDelivered);
}

TEST(ExitClassTest, TransientCodesRetry) {
  for (int code : {10, 12, 30, 35, 255}) EXPECT_EQ(Rsync(code), Outcome::kRetry) << code;
  EXPECT_EQ(Rsync(5, "@ERROR: max connections (2) reached -- try again later\n"), Outcome::kRetry);
  EXPECT_EQ(ClassifyRsyncExit(-1, SIGKILL, "").outcome, Outcome::kRetry);
}

TEST(ExitClassTest, ConfigurationErrorsBlockTheLane) {
  EXPECT_EQ(Rsync(5, "@ERROR: auth failed on module data\n"), Outcome::kBlocked);
  EXPECT_EQ(Rsync(5, "@ERROR: Unknown module 'nope'\n"), Outcome::kBlocked);
  EXPECT_EQ(Rsync(1), Outcome::kBlocked);
  EXPECT_EQ(Rsync(2), Outcome::kBlocked);
}

TEST(ExitClassTest, AnOptionTheReceiverDoesNotKnowBlocks) {
  Classified c = ClassifyRsyncExit(
      12, 0,
      "rsync: on remote machine: --info=progress2: unknown option\nrsync error: syntax or usage "
      "error (code 1) at main.c(1435) [server=3.0.9]\n");
  EXPECT_EQ(c.outcome, Outcome::kBlocked);
  EXPECT_NE(c.reason.find("rsync_args"), std::string::npos);
}

TEST(ExitClassTest, OnlyMissingPathsIsWhatAnOldSenderSaysOfVanishedEntries) {
  const std::string vanished =
      "rsync: link_stat \"/src/a\" failed: No such file or directory (2)\n"
      "rsync: link_stat \"/src/b c\" failed: No such file or directory (2)\n"
      "rsync error: some files/attrs were not transferred (see previous errors) (code 23)\n";
  EXPECT_TRUE(OnlyMissingPaths(vanished, false));
  EXPECT_FALSE(OnlyMissingPaths(vanished, true));  // cut: not known
  EXPECT_FALSE(OnlyMissingPaths(
      vanished + "rsync: send_files failed to open \"/src/x\": Permission denied (13)\n", false));
  EXPECT_FALSE(OnlyMissingPaths("rsync error: (code 23)\n", false));
}

TEST(ExitClassTest, PartialAndReceiverErrors) {
  EXPECT_EQ(Rsync(23), Outcome::kPartial);
  EXPECT_EQ(Rsync(11), Outcome::kReceiverFull);
}

TEST(ExitClassTest, UnknownCodesRetryNeverStop) {
  Classified c = ClassifyRsyncExit(99, 0, "");
  EXPECT_EQ(c.outcome, Outcome::kRetry);
  EXPECT_EQ(c.reason, "exit code 99");
}

TEST(ExitClassTest, CommandTargets) {
  EXPECT_EQ(ClassifyCommandExit(0, 0).outcome, Outcome::kDelivered);
  EXPECT_EQ(ClassifyCommandExit(75, 0).outcome, Outcome::kRetry);
  EXPECT_EQ(ClassifyCommandExit(1, 0).outcome, Outcome::kPartial);
  EXPECT_EQ(ClassifyCommandExit(-1, SIGTERM).outcome, Outcome::kRetry);
}

}  // namespace
}  // namespace ferry
