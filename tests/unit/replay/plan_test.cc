#include "replay/plan.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

using Paths = std::vector<std::string>;

class PlanTest : public ::testing::Test {
 protected:
  void Add(EventKind kind, std::string path, bool is_dir = false, std::string old_path = {}) {
    events_.push_back(Event{.seq = events_.size() + 1,
                            .kind = kind,
                            .is_dir = is_dir,
                            .path = std::move(path),
                            .old_path = std::move(old_path)});
  }
  Plan Run() { return PlanBatch(events_); }
  std::vector<Event> events_;
};

TEST_F(PlanTest, EmptyBatchIsAnEmptyPlan) {
  Plan p = Run();
  EXPECT_TRUE(p.empty());
  EXPECT_EQ(p.events, 0u);
}

TEST_F(PlanTest, CreateModifyDeleteIsOneDelete) {
  Add(EventKind::kCreate, "f");
  Add(EventKind::kModify, "f");
  Add(EventKind::kDelete, "f");
  Plan p = Run();
  EXPECT_EQ(p.deletes, Paths{"f"});
  EXPECT_TRUE(p.content.empty());
  EXPECT_EQ(p.first_seq, 1u);
  EXPECT_EQ(p.last_seq, 3u);
  EXPECT_EQ(p.events, 3u);
}

TEST_F(PlanTest, FiftyModifiesAreOneSend) {
  for (int i = 0; i < 50; ++i) Add(EventKind::kModify, "log");
  Plan p = Run();
  EXPECT_EQ(p.content, Paths{"log"});
  EXPECT_EQ(p.Paths().size(), 1u);
}

TEST_F(PlanTest, DeleteThenCreateSendsAgain) {
  Add(EventKind::kDelete, "f");
  Add(EventKind::kCreate, "f");
  Plan p = Run();
  EXPECT_EQ(p.content, Paths{"f"});
  EXPECT_TRUE(p.deletes.empty());
}

TEST_F(PlanTest, AttribAloneIsMetadataButContentWins) {
  Add(EventKind::kAttrib, "a");
  Add(EventKind::kModify, "b");
  Add(EventKind::kAttrib, "b");
  Add(EventKind::kAttrib, "d", /*is_dir=*/true);
  Plan p = Run();
  EXPECT_EQ(p.metadata, (Paths{"a", "d"}));
  EXPECT_EQ(p.content, Paths{"b"});
}

TEST_F(PlanTest, NewDirectoryIsOneTreeAbsorbingItsContent) {
  Add(EventKind::kCreate, "d", true);
  for (int i = 0; i < 100; ++i) Add(EventKind::kCreate, "d/f" + std::to_string(i));
  Add(EventKind::kCreate, "d/sub", true);
  Add(EventKind::kModify, "d/sub/x");
  Add(EventKind::kDelete, "d/f3");
  Add(EventKind::kModify, "d-sibling");
  Plan p = Run();
  EXPECT_EQ(p.trees, Paths{"d"});
  EXPECT_EQ(p.content, Paths{"d-sibling"});
  EXPECT_TRUE(p.deletes.empty());
}

TEST_F(PlanTest, EventsBeforeATreeBelowItAreAbsorbedToo) {
  Add(EventKind::kModify, "d/old");
  Add(EventKind::kDelete, "d/gone");
  Add(EventKind::kRescan, "d", true);
  Plan p = Run();
  EXPECT_EQ(p.trees, Paths{"d"});
  EXPECT_EQ(p.Paths().size(), 1u);
}

TEST_F(PlanTest, RenamedDirectoryIsDeleteOldAndTreeNew) {
  Add(EventKind::kModify, "old/a");
  Add(EventKind::kMove, "new", true, "old");
  Plan p = Run();
  EXPECT_EQ(p.deletes, Paths{"old"});
  EXPECT_EQ(p.trees, Paths{"new"});
  EXPECT_TRUE(p.content.empty());  // old/a is absorbed: the tree sends new/a
  // No move hint: the target's copy of old/a is stale. Renaming it and then
  // sending new/ with rsync's quick check missed a same-size rewrite made in
  // the same second (found by the SIGKILL fault scenario).
  EXPECT_TRUE(p.moves.empty());
}

TEST_F(PlanTest, RenamedUntouchedDirectoryGetsAMoveHint) {
  Add(EventKind::kModify, "other/a");
  Add(EventKind::kMove, "new", true, "old");
  Plan p = Run();
  EXPECT_EQ(p.moves, (std::vector<PlannedMove>{{"old", "new", true}}));
}

TEST_F(PlanTest, RenamedFileIsSentWithContentAndAMoveHint) {
  Add(EventKind::kMove, "doc.txt", false, "doc.txt.tmp");
  Plan p = Run();
  EXPECT_EQ(p.deletes, Paths{"doc.txt.tmp"});
  EXPECT_EQ(p.content, Paths{"doc.txt"});  // rename over: same size and second must not hide it
  ASSERT_EQ(p.moves.size(), 1u);
}

TEST_F(PlanTest, MoveHintDroppedWhenALaterEventChangesEitherPath) {
  Add(EventKind::kMove, "b", false, "a");
  Add(EventKind::kCreate, "a");  // a is back: deleting it is no longer the plan
  Plan p = Run();
  EXPECT_TRUE(p.moves.empty());
  EXPECT_EQ(p.content, (Paths{"a", "b"}));
}

TEST_F(PlanTest, NoMoveHintWhenTheOldPathChangedFirst) {
  Add(EventKind::kModify, "a");  // the target's copy of a is stale
  Add(EventKind::kMove, "b", false, "a");
  Plan p = Run();
  EXPECT_TRUE(p.moves.empty());
  EXPECT_EQ(p.content, Paths{"b"});
}

TEST_F(PlanTest, MoveWithinANewTreeIsAbsorbed) {
  Add(EventKind::kCreate, "t", true);
  Add(EventKind::kMove, "t/b", false, "t/a");
  Plan p = Run();
  EXPECT_EQ(p.trees, Paths{"t"});
  EXPECT_TRUE(p.deletes.empty());
  EXPECT_TRUE(p.moves.empty());
}

TEST_F(PlanTest, MoveOutOfANewTreeDeletesNothingTwice) {
  Add(EventKind::kCreate, "t", true);
  Add(EventKind::kMove, "outside", false, "t/a");
  Plan p = Run();
  EXPECT_EQ(p.trees, Paths{"t"});
  EXPECT_TRUE(p.deletes.empty());  // the tree's --delete removes t/a
  EXPECT_EQ(p.content, Paths{"outside"});
}

TEST_F(PlanTest, DeletedDirectoryAbsorbsEarlierEventsBelowIt) {
  Add(EventKind::kModify, "d/a");
  Add(EventKind::kCreate, "d/s", true);
  Add(EventKind::kDelete, "d/b");
  Add(EventKind::kDelete, "d", true);
  Add(EventKind::kModify, "dx");
  Plan p = Run();
  EXPECT_EQ(p.deletes, Paths{"d"});
  EXPECT_EQ(p.content, Paths{"dx"});
  EXPECT_TRUE(p.trees.empty());
}

TEST_F(PlanTest, FileReplacedByDirectoryAndBack) {
  Add(EventKind::kDelete, "p");
  Add(EventKind::kCreate, "p", true);
  Add(EventKind::kCreate, "p/x");
  Add(EventKind::kDelete, "q", true);
  Add(EventKind::kCreate, "q");
  Plan p = Run();
  EXPECT_EQ(p.trees, Paths{"p"});
  EXPECT_EQ(p.content, Paths{"q"});
  EXPECT_TRUE(p.deletes.empty());
}

TEST_F(PlanTest, RescanOfTheRootCoversEverything) {
  Add(EventKind::kModify, "a");
  Add(EventKind::kDelete, "b/c");
  Add(EventKind::kRescan, "", true);
  Add(EventKind::kModify, "later");
  Plan p = Run();
  EXPECT_EQ(p.trees, Paths{""});
  EXPECT_EQ(p.Paths().size(), 1u);
}

TEST_F(PlanTest, FullSyncAbsorbsEverything) {
  Add(EventKind::kModify, "a");
  Add(EventKind::kFullSync, "", true);
  Add(EventKind::kDelete, "b");
  Plan p = Run();
  EXPECT_TRUE(p.full_sync);
  EXPECT_TRUE(p.Paths().empty());
  EXPECT_FALSE(p.empty());
}

TEST_F(PlanTest, OddNamesAreKeptByteForByte) {
  for (const char* n : {"#x", ";x", "-x", "new\nline", "bad\xff", "$(touch y)"}) {
    Add(EventKind::kModify, n);
  }
  Plan p = Run();
  EXPECT_EQ(p.content.size(), 6u);
}

TEST_F(PlanTest, BigBatchIsFast) {
  for (int d = 0; d < 100; ++d) {
    for (int f = 0; f < 1000; ++f) {
      Add(EventKind::kModify, "dir" + std::to_string(d) + "/sub/deeper/f" + std::to_string(f));
    }
  }
  Plan p = Run();  // quadratic planning would take minutes here
  EXPECT_EQ(p.content.size(), 100'000u);
}

}  // namespace
}  // namespace ferry
