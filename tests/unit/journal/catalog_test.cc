#include <gtest/gtest.h>

#include "journal/format.h"
#include "journal/journal.h"
#include "tests/lib/journal_fixture.h"
#include "tests/lib/temp_dir.h"

namespace ferry {
namespace {

using testing::OpenJournalOrDie;
using testing::TempDir;

FileState State(uint64_t inode) {
  return FileState{.inode = inode,
                   .size = inode * 10,
                   .mtime_ns = 5,
                   .ctime_ns = 6,
                   .mode = 0100644,
                   .seen_ns = 7};
}

CatalogChange Put(std::string path, uint64_t inode, uint32_t dest = 1) {
  return CatalogChange{.op = CatalogChange::Op::kPut,
                       .destination = dest,
                       .path = std::move(path),
                       .state = State(inode)};
}

std::vector<std::string> Paths(Journal& j, uint32_t dest = 1) {
  std::vector<std::string> out;
  auto r = j.NewCatalogReader(dest);
  for (; r->Valid(); r->Next()) out.push_back(r->entry().path);
  EXPECT_TRUE(r->status().ok()) << r->status().ToString();
  return out;
}

TEST(CatalogTest, EntriesComeBackInDepthFirstByteOrder) {
  TempDir tmp;
  auto j = OpenJournalOrDie(tmp.path());
  AppendBatch b;
  for (const char* p : {"a-b", "a/x", "a", "a/x/deep", "b", "a/w", "\xff", "a.c", ""}) {
    b.catalog.push_back(Put(p, 1));
  }
  b.catalog.push_back(Put("other", 1, /*dest=*/2));
  ASSERT_TRUE(j->Append(std::move(b)));
  // The root first, then a depth-first walk that lists each directory's
  // names in byte order.
  EXPECT_EQ(Paths(*j), (std::vector<std::string>{"", "a", "a/w", "a/x", "a/x/deep", "a-b", "a.c",
                                                 "b", "\xff"}));
  EXPECT_EQ(Paths(*j, 2), std::vector<std::string>{"other"});
  EXPECT_EQ(**j->GetCatalogEntry(1, "a/x"), State(1));
  EXPECT_FALSE(j->GetCatalogEntry(1, "nope")->has_value());
}

TEST(CatalogTest, ChangesCommitWithTheirEvents) {
  TempDir tmp;
  {
    auto j = OpenJournalOrDie(tmp.path());
    AppendBatch b;
    b.events.push_back(Event{.destination = 1, .path = "f"});
    b.catalog.push_back(Put("f", 42));
    auto r = j->Append(std::move(b));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->first, 1u);
    // A catalog-only batch assigns no seq.
    AppendBatch only;
    only.catalog.push_back(Put("g", 43));
    auto r2 = j->Append(std::move(only));
    ASSERT_TRUE(r2);
    EXPECT_TRUE(r2->empty());
  }
  auto j = OpenJournalOrDie(tmp.path());
  EXPECT_EQ(j->LastSeq(), 1u);
  EXPECT_EQ(Paths(*j), (std::vector<std::string>{"f", "g"}));
}

TEST(CatalogTest, DeleteRemovesTheWholeSubtreeOnly) {
  TempDir tmp;
  auto j = OpenJournalOrDie(tmp.path());
  AppendBatch b;
  for (const char* p : {"d", "d/1", "d/sub", "d/sub/2", "d-sibling", "dd"})
    b.catalog.push_back(Put(p, 1));
  ASSERT_TRUE(j->Append(std::move(b)));
  AppendBatch del;
  del.catalog.push_back({.op = CatalogChange::Op::kDelete, .destination = 1, .path = "d"});
  ASSERT_TRUE(j->Append(std::move(del)));
  EXPECT_EQ(Paths(*j), (std::vector<std::string>{"d-sibling", "dd"}));
}

TEST(CatalogTest, MoveCarriesTheSubtreeAndReplacesTheTarget) {
  TempDir tmp;
  auto j = OpenJournalOrDie(tmp.path());
  AppendBatch b;
  for (const char* p : {"old", "old/a", "old/s", "old/s/b", "new", "new/stale", "oldx"}) {
    b.catalog.push_back(Put(p, std::string(p).size()));
  }
  ASSERT_TRUE(j->Append(std::move(b)));
  AppendBatch mv;
  mv.catalog.push_back(
      {.op = CatalogChange::Op::kMove, .destination = 1, .path = "new", .old_path = "old"});
  ASSERT_TRUE(j->Append(std::move(mv)));
  EXPECT_EQ(Paths(*j), (std::vector<std::string>{"new", "new/a", "new/s", "new/s/b", "oldx"}));
  EXPECT_EQ(**j->GetCatalogEntry(1, "new/s/b"), State(7));  // kept the state of old/s/b
}

// Each change sees the ones before it in the same append: a directory made
// and renamed, or made and deleted, within one batch of the watcher.
TEST(CatalogTest, ChangesSeeTheEarlierChangesOfTheirBatch) {
  TempDir tmp;
  auto j = OpenJournalOrDie(tmp.path());
  AppendBatch b;
  for (const char* p : {"made", "made/a", "made/s", "made/s/b", "gone", "gone/x"}) {
    b.catalog.push_back(Put(p, std::string(p).size()));
  }
  b.catalog.push_back(
      {.op = CatalogChange::Op::kMove, .destination = 1, .path = "moved", .old_path = "made"});
  b.catalog.push_back({.op = CatalogChange::Op::kDelete, .destination = 1, .path = "gone"});
  b.catalog.push_back(Put("moved/s/later", 1));
  b.catalog.push_back(
      {.op = CatalogChange::Op::kMove, .destination = 1, .path = "again", .old_path = "moved"});
  ASSERT_TRUE(j->Append(std::move(b)));
  EXPECT_EQ(Paths(*j), (std::vector<std::string>{"again", "again/a", "again/s", "again/s/b",
                                                 "again/s/later"}));
  EXPECT_EQ(**j->GetCatalogEntry(1, "again/s/b"), State(8));  // the state of made/s/b
}

TEST(CatalogTest, BadChangesAreRejected) {
  TempDir tmp;
  auto j = OpenJournalOrDie(tmp.path());
  for (CatalogChange c : {CatalogChange{.op = CatalogChange::Op::kDelete, .path = ""},
                          Put("/abs", 1), Put("trailing/", 1), Put(std::string("n\0l", 3), 1),
                          CatalogChange{.op = CatalogChange::Op::kMove, .path = "x"}}) {
    AppendBatch b;
    b.catalog.push_back(c);
    auto r = j->Append(std::move(b));
    ASSERT_FALSE(r) << c.path;
    EXPECT_TRUE(r.error().IsInvalidArgument());
  }
}

TEST(CatalogTest, FileStateRoundTripsAndTruncationIsCorruption) {
  FileState s{.inode = 1ull << 60,
              .size = 12345,
              .mtime_ns = -1,
              .ctime_ns = 1'700'000'000'000'000'000,
              .mode = 040755,
              .seen_ns = 9};
  std::string enc = format::EncodeFileState(s);
  EXPECT_EQ(*format::DecodeFileState(enc), s);
  for (size_t n = 0; n < enc.size(); ++n) {
    EXPECT_TRUE(format::DecodeFileState(enc.substr(0, n)).error().IsCorruption()) << n;
  }
}

}  // namespace
}  // namespace ferry
