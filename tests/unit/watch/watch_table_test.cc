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
  EXPECT_EQ(t.Dir(9), nullptr);
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
