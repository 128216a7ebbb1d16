#include "watch/pending_catalog.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

TEST(PendingCatalogTest, TheLastChangeOfThePathOrOfAParentWins) {
  PendingCatalog c;
  EXPECT_EQ(c.Has("a"), std::nullopt);  // the batch says nothing: as committed
  c.Put("a/b");
  EXPECT_EQ(c.Has("a/b"), true);
  c.Remove("a");  // rm -rf a: its rows go, the one put above too
  EXPECT_EQ(c.Has("a/b"), false);
  EXPECT_EQ(c.Has("a"), false);
  EXPECT_EQ(c.Has("a-b"), std::nullopt);  // not below a
  EXPECT_EQ(c.Has("ab/c"), std::nullopt);
  c.Put("a");  // mkdir a again: a has a row, what was below it does not
  EXPECT_EQ(c.Has("a"), true);
  EXPECT_EQ(c.Has("a/b"), false);
  c.Put("a/b");
  EXPECT_EQ(c.Has("a/b"), true);
  c.Clear();  // committed
  EXPECT_EQ(c.Has("a/b"), std::nullopt);
}

}  // namespace
}  // namespace ferry
