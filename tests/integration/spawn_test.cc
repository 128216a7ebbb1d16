// SpawnChild's crash leftovers with real processes: what a killed ferryd's
// transfers left running is killed at the next start, and the rsync
// temporary files they were writing are removed.
#include "replay/spawn.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/lib/poll.h"
#include "tests/lib/temp_dir.h"

namespace ferry {
namespace {

bool Exists(const std::string& path) { return std::filesystem::exists(path); }

TEST(SpawnTest, LeftoversAreKilledAndTheirTemporaryFilesRemoved) {
  testing::TempDir tmp;
  const std::string records = tmp.Sub("children"), dst = tmp.Sub("dst");
  std::filesystem::create_directories(dst);
  // A stand-in for rsync's receiver: named rsync, writing a temporary file
  // and reading a user's file that merely looks like one.
  std::filesystem::create_symlink("/bin/sleep", tmp.Sub("rsync"));
  std::ofstream(dst + "/.user.abcdef") << "a user's file, only read";
  SetChildRecordDir(records);
  const std::string script =
      "cd '" + dst + "' && exec 3>.f1.XyZ123 4<.user.abcdef && exec '" + tmp.Sub("rsync") + "' 30";
  auto pid = SpawnChild({"/bin/sh", "-c", script}, 0, 1, 2);
  ASSERT_TRUE(pid) << pid.error().ToString();
  auto comm = [&] {
    std::ifstream in("/proc/" + std::to_string(*pid) + "/comm");
    std::string c;
    std::getline(in, c);
    return c;
  };
  testing::PollUntil([&] { return comm() == "rsync"; }, std::chrono::seconds(10),
                     std::chrono::milliseconds(5));
  ASSERT_EQ(comm(), "rsync");
  ASSERT_TRUE(Exists(dst + "/.f1.XyZ123"));

  // As at the start after a crash: the record is still there.
  SetChildRecordDir("");
  const Leftovers left = KillLeftoverChildren(records);
  EXPECT_EQ(left.transfers, 1);
  EXPECT_EQ(left.killed, 1);
  EXPECT_EQ(left.temp_files_removed, 1);
  int status = 0;
  ASSERT_EQ(waitpid(*pid, &status, 0), *pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_FALSE(Exists(dst + "/.f1.XyZ123"));
  EXPECT_TRUE(Exists(dst + "/.user.abcdef")) << "open for reading only: not rsync's";
  EXPECT_TRUE(std::filesystem::is_empty(records));
}

// A child holds none of ferryd's descriptors: a file ferryd has open (here
// one open for writing, not close-on-exec) would otherwise stay open for as
// long as the rsync runs.
TEST(SpawnTest, TheChildHoldsNoneOfTheParentsDescriptors) {
  testing::TempDir tmp;
  const int held = open(tmp.Sub("held").c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(held, 3);
  const int out = open(tmp.Sub("fds").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(out, 3);
  // The shell names what each of its descriptors is open on (its glob's
  // own directory among them).
  auto pid = SpawnChild(
      {"/bin/sh", "-c", "for f in /proc/$$/fd/*; do echo \"${f##*/} $(readlink $f)\"; done"}, 0,
      out, 2);
  close(out);
  close(held);
  ASSERT_TRUE(pid) << pid.error().ToString();
  int status = 0;
  ASSERT_EQ(waitpid(*pid, &status, 0), *pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::ifstream in(tmp.Sub("fds"));
  std::string all, line;
  int lines = 0;
  while (std::getline(in, line)) {
    all += line + "\n";
    ++lines;
  }
  EXPECT_GE(lines, 3) << all;
  EXPECT_EQ(all.find(tmp.Sub("held")), std::string::npos) << all;
  EXPECT_EQ(all.find("socket:"), std::string::npos) << all;
}

TEST(SpawnTest, TempFilesOfTheCutPathsAreRemovedAndNothingElse) {
  testing::TempDir tmp;
  const std::string dst = tmp.Sub("dst");
  std::filesystem::create_directories(dst + "/d");
  for (const char* f :
       {".a.AbC123", "d/.b c.x1Y2z3", ".other.AbC123", ".a.toolong1", "a", ".a.ab"}) {
    std::ofstream(dst + "/" + f) << "x";
  }
  std::filesystem::create_directory(dst + "/d/.b c.dir999");  // a directory: never removed
  // A user's file of that shape, in the source too: kept.
  const std::string src = tmp.Sub("src");
  std::filesystem::create_directories(src);
  std::ofstream(dst + "/.a.USER99") << "x";
  std::ofstream(src + "/.a.USER99") << "x";
  EXPECT_EQ(RemoveRsyncTempFiles(dst, src, {"a", "d/b c", "d/b c.dir", "missing/x"}), 2);
  EXPECT_FALSE(Exists(dst + "/.a.AbC123"));
  EXPECT_FALSE(Exists(dst + "/d/.b c.x1Y2z3"));
  for (const char* kept :
       {".other.AbC123", ".a.toolong1", "a", ".a.ab", "d/.b c.dir999", ".a.USER99"}) {
    EXPECT_TRUE(Exists(dst + "/" + kept)) << kept;
  }
}

TEST(SpawnTest, ARecordOfAnotherBootKillsNothing) {
  testing::TempDir tmp;
  const std::string records = tmp.Sub("children");
  std::filesystem::create_directories(records);
  // The pid of this very test: a boot id that does not match spares it.
  std::ofstream(records + "/" + std::to_string(getpid())) << "another-boot\nrsync\n";
  const Leftovers left = KillLeftoverChildren(records);
  EXPECT_EQ(left.transfers, 0);
  EXPECT_EQ(left.killed, 0);
  EXPECT_TRUE(std::filesystem::is_empty(records));
}

}  // namespace
}  // namespace ferry
