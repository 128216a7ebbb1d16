#include "replay/source_size.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/lib/temp_dir.h"

namespace ferry {
namespace {

TEST(SourceSizeTest, StopsAsSoonAsItKnowsAndFollowsNoSymlink) {
  testing::TempDir tmp;
  const std::string dir = tmp.Sub("tree");
  std::filesystem::create_directories(dir + "/sub");
  std::ofstream(dir + "/a") << std::string(600, 'a');
  std::ofstream(dir + "/sub/b") << std::string(600, 'b');
  EXPECT_TRUE(TreeHoldsAtLeast(dir, 1200));
  EXPECT_FALSE(TreeHoldsAtLeast(dir, 1201));
  // A symlink to something big is a symlink, not its target's bytes.
  const std::string big = tmp.Sub("big");
  std::ofstream(big) << std::string(5000, 'x');
  ASSERT_EQ(symlink(big.c_str(), (dir + "/link").c_str()), 0);
  EXPECT_FALSE(TreeHoldsAtLeast(dir, 1201));
  // Many entries are enough on their own: each costs in a send.
  // (5 here: the directory, a, sub, sub/b and the link.)
  EXPECT_TRUE(TreeHoldsAtLeast(dir, 1 << 30, /*max_entries=*/4));
  EXPECT_FALSE(TreeHoldsAtLeast(dir, 1 << 30, /*max_entries=*/5));
  // Gone, or not a directory: not worth anything.
  EXPECT_FALSE(TreeHoldsAtLeast(tmp.Sub("missing"), 0));
  EXPECT_FALSE(TreeHoldsAtLeast(big, 0));
}

}  // namespace
}  // namespace ferry
