#include "watch/watch_table.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "settings/event_selection.h"

namespace ferry {
namespace {

TEST(WatchTableTest, MapsBothWays) {
  WatchTable t;
  t.Add(1, "");
  t.Add(2, "a");
  EXPECT_EQ(*t.Dir(2), "a");
  EXPECT_EQ(*t.Wd("a"), 2);
  EXPECT_FALSE(t.Dir(9));
  t.Add(2, "b");  // same wd, new path
  EXPECT_FALSE(t.Wd("a").has_value());
  EXPECT_EQ(t.size(), 2u);
}

TEST(WatchTableTest, RenameMovesTheSubtreeOnly) {
  WatchTable t;
  t.Add(1, "a");
  t.Add(2, "a/x");
  t.Add(3, "a/x/y");
  t.Add(4, "a-b");
  t.Add(5, "ab");
  t.Rename("a", "z/a");
  EXPECT_EQ(*t.Dir(1), "z/a");
  EXPECT_EQ(*t.Dir(2), "z/a/x");
  EXPECT_EQ(*t.Dir(3), "z/a/x/y");
  EXPECT_EQ(*t.Dir(4), "a-b");
  EXPECT_EQ(*t.Dir(5), "ab");
  EXPECT_EQ(t.size(), 5u);
}

TEST(WatchTableTest, RemoveSubtreeReturnsEveryWd) {
  WatchTable t;
  t.Add(1, "");
  t.Add(2, "a");
  t.Add(3, "a/x");
  t.Add(4, "a.b");
  auto wds = t.RemoveSubtree("a");
  std::sort(wds.begin(), wds.end());
  EXPECT_EQ(wds, (std::vector<int>{2, 3}));
  EXPECT_EQ(t.size(), 2u);
  t.RemoveWd(4);
  EXPECT_EQ(t.size(), 1u);
}

TEST(WatchTableTest, RenameIntoItsOwnSubtreeChangesNothing) {
  WatchTable t;
  t.Add(1, "a");
  t.Add(2, "a/b");
  t.Rename("a", "a/b/a");  // rename(2): EINVAL
  t.Rename("a/b", "a");    // onto its parent: ENOTEMPTY
  t.Rename("a", "a");
  EXPECT_EQ(*t.Dir(1), "a");
  EXPECT_EQ(*t.Dir(2), "a/b");
  EXPECT_EQ(t.size(), 2u);
  t.Rename("nowhere", "b");  // nothing there: nothing made at "b"
  EXPECT_FALSE(t.Wd("b"));
  EXPECT_TRUE(t.RemoveSubtree("b").empty());
}

TEST(WatchTableTest, RenameOntoAWatchedDirectoryKeepsTheMovedWatches) {
  WatchTable t;
  t.Add(1, "a");
  t.Add(2, "a/x");
  t.Add(3, "b");    // replaced by the rename (an empty directory)
  t.Add(4, "b/y");  // re-watched by a walk before the rename was read
  t.Rename("a", "b");
  EXPECT_EQ(*t.Dir(1), "b");
  EXPECT_EQ(*t.Dir(2), "b/x");
  EXPECT_EQ(*t.Dir(4), "b/y");
  EXPECT_FALSE(t.Dir(3));
  EXPECT_FALSE(t.Wd("a"));
  EXPECT_EQ(t.size(), 3u);
}

TEST(WatchTableTest, RemoveSubtreeForgetsEmptiedParentsOnly) {
  WatchTable t;
  t.Add(1, "");
  t.Add(3, "p/q/r");  // p and p/q without watches
  t.Add(4, "p/s");
  t.RemoveSubtree("p/q");
  EXPECT_EQ(*t.Dir(4), "p/s");
  EXPECT_FALSE(t.Wd("p/q/r"));
  auto wds = t.RemoveSubtree("");
  std::sort(wds.begin(), wds.end());
  EXPECT_EQ(wds, (std::vector<int>{1, 4}));
  EXPECT_EQ(t.size(), 0u);
  t.Add(5, "p");  // the table works again after losing everything
  EXPECT_EQ(*t.Dir(5), "p");
}

TEST(WatchTableTest, NamesAreBytes) {
  WatchTable t;
  const std::string odd[] = {"new\nline", "\xff\xfe", "tab\tand space", "back\\slash", "..",
                             "a-name-much-longer-than-the-inline-buffer-of-a-string"};
  int wd = 1;
  for (const std::string& name : odd) t.Add(wd++, "d/" + name);
  wd = 1;
  for (const std::string& name : odd) {
    EXPECT_EQ(*t.Path(wd, "f\x01"), "d/" + name + "/f\x01");
    EXPECT_EQ(*t.Wd("d/" + name), wd++);
  }
  t.Rename("d", "e\xff");
  EXPECT_EQ(*t.Dir(2), "e\xff/\xff\xfe");
}

TEST(WatchTableTest, DeepTrees) {
  WatchTable t;
  constexpr int kDepth = 5'000;
  std::string path;
  for (int i = 1; i <= kDepth; ++i) {
    path += (i == 1 ? "" : "/") + std::to_string(i % 10);
    t.Add(i, path);
  }
  EXPECT_EQ(*t.Dir(kDepth), path);
  t.Rename("1", "top");
  EXPECT_EQ(*t.Dir(kDepth), "top" + path.substr(1));
  EXPECT_EQ(t.RemoveSubtree("top/2").size(), static_cast<size_t>(kDepth - 1));
  EXPECT_EQ(t.size(), 1u);
}

// Many directories in one: the index grows, probes past colliding keys, and
// erasing leaves every other entry reachable.
TEST(WatchTableTest, ManySiblingsComeAndGo) {
  WatchTable t;
  constexpr int kDirs = 20'000;
  for (int i = 0; i < kDirs; ++i) t.Add(i + 1, "big/" + std::to_string(i));
  for (int i = 0; i < kDirs; i += 2) t.RemoveWd(i + 1);
  for (int i = 1; i < kDirs; i += 2) {
    ASSERT_EQ(*t.Wd("big/" + std::to_string(i)), i + 1);
    ASSERT_EQ(*t.Dir(i + 1), "big/" + std::to_string(i));
  }
  for (int i = 0; i < kDirs; i += 2) ASSERT_FALSE(t.Wd("big/" + std::to_string(i)));
  for (int i = 0; i < kDirs; i += 2) t.Add(kDirs + i + 1, "big/" + std::to_string(i));  // reused slots
  EXPECT_EQ(t.size(), static_cast<size_t>(kDirs));
  EXPECT_EQ(*t.Dir(kDirs + 1), "big/0");
  EXPECT_EQ(t.RemoveSubtree("big").size(), static_cast<size_t>(kDirs));
  EXPECT_EQ(t.size(), 0u);
}

TEST(EventSelectionTest, ParsesSersyncStyleLists) {
  auto s = ParseEventSelection("create, close_write,delete,move,attrib");
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, kDefaultEvents);
  EXPECT_EQ(EventSelectionString(*s), "create,close_write,attrib,delete,move");
  auto bad = ParseEventSelection("create,closewrite");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("unknown event 'closewrite'"), std::string::npos);
  EXPECT_NE(bad.error().message().find("close_write"), std::string::npos);
  EXPECT_FALSE(ParseEventSelection(" , "));
}

}  // namespace
}  // namespace ferry
