// The watcher on real inotify and real fanotify, on real temp directories.
#include <gtest/gtest.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/lib/fake_clock.h"
#include "tests/lib/watch_harness.h"

namespace ferry {
namespace {

using testing::Has;
using testing::WatchHarness;

// Run once per backend; the tests that hand inotify records over themselves
// (TEST, not TEST_P) are inotify's.
class WatcherTest : public testing::BackendTest {};
INSTANTIATE_BACKENDS(WatcherTest);

size_t Count(const std::vector<Event>& events, EventKind kind) {
  size_t n = 0;
  for (const Event& e : events) n += e.kind == kind;
  return n;
}

TEST_P(WatcherTest, FirstStartJournalsOneFullSync) {
  WatchHarness h(Backend());
  h.Write("existing", "x");
  auto stats = h.Start();
  EXPECT_TRUE(stats.first_sync);
  auto events = h.Events();
  ASSERT_EQ(events.size(), 1u) << WatchHarness::Dump(events);
  EXPECT_EQ(events[0].kind, EventKind::kFullSync);
  EXPECT_TRUE(h.journal().GetCatalogEntry(h.dest(), "existing")->has_value());
  EXPECT_EQ(h.watcher().status().state, DestinationState::kWatching);
}

TEST_P(WatcherTest, FilesAndDirectoriesThroughTheirLife) {
  WatchHarness h(Backend());
  h.Start();
  const uint64_t base = h.journal().LastSeq();
  h.Write("f", "hello");
  ASSERT_TRUE(h.PumpUntil([](auto& ev) { return Has(ev, EventKind::kModify, "f"); }, base));
  ASSERT_EQ(chmod(h.Path("f").c_str(), 0600), 0);
  ASSERT_TRUE(h.PumpUntil([](auto& ev) { return Has(ev, EventKind::kAttrib, "f"); }, base));
  h.Mkdir("d");
  h.Write("d/inner", "1");
  // Written before or after the new directory got its watch: listed, or reported.
  ASSERT_TRUE(h.PumpUntil(
      [](auto& ev) {
        return Has(ev, EventKind::kCreate, "d/inner") || Has(ev, EventKind::kModify, "d/inner");
      },
      base));
  ASSERT_EQ(unlink(h.Path("d/inner").c_str()), 0);
  ASSERT_EQ(rmdir(h.Path("d").c_str()), 0);
  ASSERT_EQ(unlink(h.Path("f").c_str()), 0);
  ASSERT_TRUE(h.PumpUntil(
      [](auto& ev) { return Has(ev, EventKind::kDelete, "d") && Has(ev, EventKind::kDelete, "f"); },
      base));
  auto ev = h.Events(base);
  EXPECT_TRUE(Has(ev, EventKind::kCreate, "d")) << WatchHarness::Dump(ev);
  EXPECT_TRUE(Has(ev, EventKind::kDelete, "d/inner"));
  EXPECT_TRUE(Has(ev, EventKind::kDelete, "f"));
  // close_write is selected, so a new regular file is journaled once complete.
  EXPECT_FALSE(Has(ev, EventKind::kCreate, "f")) << WatchHarness::Dump(ev);
  EXPECT_FALSE(h.journal().GetCatalogEntry(h.dest(), "f")->has_value());
  EXPECT_FALSE(h.journal().GetCatalogEntry(h.dest(), "d")->has_value());
}

TEST_P(WatcherTest, MkdirPFollowedAtOnceByThousandFilesMissesNone) {
  WatchHarness h(Backend());
  h.Start();
  const uint64_t base = h.journal().LastSeq();
  std::filesystem::create_directories(h.Path("a/b/c"));
  for (int i = 0; i < 1000; ++i) h.Write("a/b/c/" + std::to_string(i), "x");
  ASSERT_TRUE(h.PumpUntil(
      [](auto& ev) {
        for (int i = 0; i < 1000; ++i) {
          std::string p = "a/b/c/" + std::to_string(i);
          if (!Has(ev, EventKind::kCreate, p) && !Has(ev, EventKind::kModify, p)) return false;
        }
        return true;
      },
      base));
  auto ev = h.Events(base);
  EXPECT_TRUE(Has(ev, EventKind::kCreate, "a"));
  EXPECT_TRUE(Has(ev, EventKind::kCreate, "a/b/c"));
}

TEST_P(WatcherTest, RenamedDirectoryOfThousandFilesIsOneMoveEvent) {
  WatchHarness h(Backend());
  h.Mkdir("big");
  for (int i = 0; i < 1000; ++i) h.Write("big/" + std::to_string(i), "x");
  h.Start();
  const uint64_t base = h.journal().LastSeq();
  ASSERT_EQ(rename(h.Path("big").c_str(), h.Path("renamed").c_str()), 0);
  ASSERT_TRUE(h.PumpUntil([](auto& ev) { return Has(ev, EventKind::kMove, "renamed"); }, base));
  // The renamed directory is still watched, under its new name.
  h.Write("renamed/new", "y");
  ASSERT_TRUE(
      h.PumpUntil([](auto& ev) { return Has(ev, EventKind::kModify, "renamed/new"); }, base));
  auto ev = h.Events(base);
  ASSERT_EQ(ev.size(), 2u) << WatchHarness::Dump(ev);
  EXPECT_EQ(ev[0].old_path, "big");
  EXPECT_TRUE(ev[0].is_dir);
  EXPECT_TRUE(h.journal().GetCatalogEntry(h.dest(), "renamed/999")->has_value());
  EXPECT_FALSE(h.journal().GetCatalogEntry(h.dest(), "big/999")->has_value());
}

TEST_P(WatcherTest, MovesOutOfAndIntoTheTree) {
  WatchHarness h(Backend());
  h.Write("leaving", "x");
  std::filesystem::create_directories(h.Outside("incoming/sub"));
  FILE* f = fopen((h.Outside("incoming/sub/file")).c_str(), "w");
  fputs("data", f);
  fclose(f);
  h.Start();
  const uint64_t base = h.journal().LastSeq();
  ASSERT_EQ(rename(h.Path("leaving").c_str(), h.Outside("left").c_str()), 0);
  ASSERT_EQ(rename(h.Outside("incoming").c_str(), h.Path("incoming").c_str()), 0);
  ASSERT_TRUE(h.PumpUntil(
      [](auto& ev) {
        return Has(ev, EventKind::kDelete, "leaving") &&
               Has(ev, EventKind::kCreate, "incoming/sub/file");
      },
      base));
  auto ev = h.Events(base);
  EXPECT_TRUE(Has(ev, EventKind::kCreate, "incoming"));
  EXPECT_TRUE(Has(ev, EventKind::kCreate, "incoming/sub"));
  EXPECT_EQ(Count(ev, EventKind::kMove), 0u) << WatchHarness::Dump(ev);
  // What moved in is watched.
  h.Write("incoming/sub/later", "z");
  ASSERT_TRUE(h.PumpUntil(
      [](auto& ev) { return Has(ev, EventKind::kModify, "incoming/sub/later"); }, base));
}

// A busy watcher is seconds behind: the IN_MOVED_TO can be read while the
// Process() call that handled its IN_MOVED_FROM still runs, so that past
// the move timeout. It is still one move, not a delete and a create.
TEST(InotifyWatcherTest, MoveSplitAcrossProcessCallsIsOneMovePastTheTimeout) {
  WatchHarness h;
  testing::FakeClock clock;
  h.UseClock(&clock);
  h.Write("a", "x");
  h.Start(/*start_reader=*/false);  // the test hands the records over itself
  const uint64_t base = h.journal().LastSeq();
  ASSERT_EQ(rename(h.Path("a").c_str(), h.Path("b").c_str()), 0);
  const int root = 1;  // the first watch of a new inotify instance
  ASSERT_TRUE(
      h.watcher().Process({{.wd = root, .mask = IN_MOVED_FROM, .cookie = 7, .name = "a"}}).ok());
  clock.Advance(10'000'000'000);  // far past the move timeout
  ASSERT_TRUE(h.watcher().Tick().ok());
  ASSERT_TRUE(
      h.watcher().Process({{.wd = root, .mask = IN_MOVED_TO, .cookie = 7, .name = "b"}}).ok());
  ASSERT_TRUE(h.watcher().Tick().ok());
  auto ev = h.Events(base);
  ASSERT_EQ(ev.size(), 1u) << WatchHarness::Dump(ev);
  EXPECT_EQ(ev[0].kind, EventKind::kMove);
  EXPECT_EQ(ev[0].old_path, "a");
  // With nothing after it, an IN_MOVED_FROM expires: moved out of the tree.
  ASSERT_EQ(rename(h.Path("b").c_str(), h.Outside("b").c_str()), 0);
  ASSERT_TRUE(
      h.watcher().Process({{.wd = root, .mask = IN_MOVED_FROM, .cookie = 8, .name = "b"}}).ok());
  clock.Advance(10'000'000'000);
  ASSERT_TRUE(h.watcher().Process(std::vector<InotifyRecord>{}).ok());  // the next turn of the loop read nothing
  ASSERT_TRUE(h.watcher().Tick().ok());
  ev = h.Events(base);
  ASSERT_EQ(ev.size(), 2u) << WatchHarness::Dump(ev);
  EXPECT_EQ(ev[1].kind, EventKind::kDelete);
  EXPECT_EQ(ev[1].path, "b");
}

// rm -rf d; mkdir d; mv d e, all read at once: the committed catalog still
// has d, but the batch removed it before the rename, so the rename moves no
// rows. e must be taken as new: listed, cataloged and watched.
TEST(InotifyWatcherTest, RenameOfADirectoryTheBatchRemovedAndMadeAgainIsNew) {
  WatchHarness h;
  h.Mkdir("d");
  h.Write("d/old", "x");
  h.Start(/*start_reader=*/false);  // the test hands the records over itself
  const uint64_t base = h.journal().LastSeq();
  ASSERT_EQ(unlink(h.Path("d/old").c_str()), 0);
  ASSERT_EQ(rmdir(h.Path("d").c_str()), 0);
  h.Mkdir("d");
  ASSERT_EQ(rename(h.Path("d").c_str(), h.Path("e").c_str()), 0);
  h.Write("e/new", "y");
  const int root = 1;  // the first watch of a new inotify instance
  ASSERT_TRUE(
      h.watcher()
          .Process({{.wd = root, .mask = IN_DELETE | IN_ISDIR, .name = "d"},
                    {.wd = root, .mask = IN_CREATE | IN_ISDIR, .name = "d"},
                    {.wd = root, .mask = IN_MOVED_FROM | IN_ISDIR, .cookie = 9, .name = "d"},
                    {.wd = root, .mask = IN_MOVED_TO | IN_ISDIR, .cookie = 9, .name = "e"}})
          .ok());
  auto ev = h.Events(base);
  EXPECT_TRUE(Has(ev, EventKind::kCreate, "e/new")) << WatchHarness::Dump(ev);
  EXPECT_TRUE(h.journal().GetCatalogEntry(h.dest(), "e")->has_value());
  EXPECT_TRUE(h.journal().GetCatalogEntry(h.dest(), "e/new")->has_value());
  EXPECT_FALSE(h.journal().GetCatalogEntry(h.dest(), "d/old")->has_value());
  EXPECT_FALSE(h.journal().GetCatalogEntry(h.dest(), "e/old")->has_value());
}

// The watcher is behind: by the time it reads a new file's IN_CREATE, the
// file is written and closed. ferryd stops before it reads the IN_CLOSE_WRITE
// (a SIGTERM drops unread records). The next start must still send the file:
// the create alone may not leave a row that matches it (found by
// FerrydTest.SigtermUnderLoadExitsCleanlyAndLosesNothing, in CI).
TEST(InotifyWatcherTest, AStopBetweenAFilesCreateAndItsCloseWriteLosesNothing) {
  WatchHarness h;
  h.Start(/*start_reader=*/false);  // the test hands the records over itself
  h.Write("late", "done");
  // Written a while ago: a row of it would not be racy, and would be trusted.
  const struct timespec old[2] = {{.tv_sec = time(nullptr) - 60, .tv_nsec = 0},
                                  {.tv_sec = time(nullptr) - 60, .tv_nsec = 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, h.Path("late").c_str(), old, AT_SYMLINK_NOFOLLOW), 0);
  const int root = 1;  // the first watch of a new inotify instance
  ASSERT_TRUE(h.watcher().Process({{.wd = root, .mask = IN_CREATE, .name = "late"}}).ok());
  h.Stop();
  const uint64_t base = h.journal().LastSeq();
  ReconcileStats stats = h.Start(/*start_reader=*/false);
  EXPECT_EQ(stats.created + stats.modified, 1u);
  const std::vector<Event> ev = h.Events(base);
  EXPECT_TRUE(Has(ev, EventKind::kCreate, "late") || Has(ev, EventKind::kModify, "late"))
      << WatchHarness::Dump(ev);
}

// Made again at once under the name it was renamed from, all before the
// watcher reads anything: fanotify merges the second file's events into the
// first's, before the rename. Both files are journaled and cataloged.
TEST_P(WatcherTest, ANameMadeAgainRightAfterItsRenameIsKept) {
  WatchHarness h(Backend());
  h.Start(/*start_reader=*/false);  // the kernel queues all of it unread
  const uint64_t base = h.journal().LastSeq();
  h.Write("log", "old");
  ASSERT_EQ(rename(h.Path("log").c_str(), h.Path("log.1").c_str()), 0);
  h.Write("log", "new");
  h.StartReader();
  ASSERT_TRUE(h.PumpUntil(
      [&](auto& ev) {
        return Has(ev, EventKind::kMove, "log.1") &&
               h.journal().GetCatalogEntry(h.dest(), "log")->has_value();
      },
      base));
  auto ev = h.Events(base);
  // The last event of "log" sends it (a move away would delete it).
  const Event* last = nullptr;
  for (const Event& e : ev) {
    if (e.path == "log" || e.old_path == "log") last = &e;
  }
  ASSERT_NE(last, nullptr) << WatchHarness::Dump(ev);
  EXPECT_EQ(last->path, "log") << WatchHarness::Dump(ev);
  EXPECT_NE(last->kind, EventKind::kDelete) << WatchHarness::Dump(ev);
  EXPECT_TRUE(h.journal().GetCatalogEntry(h.dest(), "log.1")->has_value());
}

// A file made in a directory that is renamed before the watcher reads the
// file's events: fanotify names the directory where it is now, past the
// rename still queued. The file is cataloged under the new name all the
// same (a catalog move must not drop it).
TEST_P(WatcherTest, AFileMadeJustBeforeItsDirectorysRenameIsCataloged) {
  WatchHarness h(Backend());
  h.Mkdir("a");
  h.Mkdir("a/b");
  h.Start(/*start_reader=*/false);
  const uint64_t base = h.journal().LastSeq();
  h.Write("a/b/f", "x");
  ASSERT_EQ(rename(h.Path("a").c_str(), h.Path("c").c_str()), 0);
  h.StartReader();
  ASSERT_TRUE(h.PumpUntil(
      [&](auto& ev) {
        return Has(ev, EventKind::kMove, "c") &&
               h.journal().GetCatalogEntry(h.dest(), "c/b/f")->has_value();
      },
      base))
      << "c/b/f cataloged: " << h.journal().GetCatalogEntry(h.dest(), "c/b/f")->has_value();
  EXPECT_FALSE(h.journal().GetCatalogEntry(h.dest(), "a/b/f")->has_value());
}

// A busy filesystem around the source: thousands of changes next to it,
// unread, with room for only 100 in the reader. fanotify's reader drops
// those of directories known to lie elsewhere before they count, so there
// is no overflow (and no rescan); inotify never sees them.
TEST_P(WatcherTest, ABusyNeighbourCausesNoOverflow) {
  WatchHarness h(Backend());
  // Its own filesystem: other tests' changes on a shared one are unknown
  // to the reader and would fill its 100 places.
  if (std::string why = h.MountAroundSource("tmpfs"); !why.empty()) GTEST_SKIP() << why;
  h.UseReaderOptions({.max_queued = 100});
  h.Start();
  const std::string beside = h.Beside("beside");
  std::filesystem::create_directories(beside);
  auto write_beside = [&](int n) {
    for (int i = 0; i < n; ++i) std::ofstream(beside + "/f" + std::to_string(i)) << "x";
  };
  write_beside(1);  // its directory becomes known as elsewhere
  h.Write("first", "x");
  ASSERT_TRUE(h.PumpUntil([](auto& ev) { return Has(ev, EventKind::kModify, "first"); }));
  write_beside(2000);
  h.Write("second", "x");
  ASSERT_TRUE(h.PumpUntil([](auto& ev) { return Has(ev, EventKind::kModify, "second"); }));
  EXPECT_EQ(h.watcher().status().overflows, 0u);
  EXPECT_FALSE(Has(h.Events(), EventKind::kRescan, "")) << WatchHarness::Dump(h.Events());
}

TEST_P(WatcherTest, EditorSaveRenamesOverTheFile) {
  WatchHarness h(Backend());
  h.Write("doc.txt", "v1");
  h.Start();
  const uint64_t base = h.journal().LastSeq();
  // gedit style: write a visible temp file, rename it over the original.
  h.Write("doc.txt.tmp42", "v2");
  ASSERT_EQ(rename(h.Path("doc.txt.tmp42").c_str(), h.Path("doc.txt").c_str()), 0);
  // rsync style: its temp files are filtered out, so the rename is a move in.
  h.Write(".doc.txt.Ab12Cd", "v3");
  ASSERT_EQ(rename(h.Path(".doc.txt.Ab12Cd").c_str(), h.Path("doc.txt").c_str()), 0);
  ASSERT_TRUE(h.PumpUntil([](auto& ev) { return Has(ev, EventKind::kCreate, "doc.txt"); }, base));
  auto ev = h.Events(base);
  ASSERT_TRUE(Has(ev, EventKind::kMove, "doc.txt")) << WatchHarness::Dump(ev);
  for (const Event& e : ev) EXPECT_NE(e.path, ".doc.txt.Ab12Cd") << WatchHarness::Dump(ev);
  auto state = h.journal().GetCatalogEntry(h.dest(), "doc.txt");
  ASSERT_TRUE(state->has_value());
  EXPECT_EQ((*state)->size, 2u);
  EXPECT_FALSE(h.journal().GetCatalogEntry(h.dest(), "doc.txt.tmp42")->has_value());
}

TEST_P(WatcherTest, ExcludedPathsAreNeitherJournaledNorWatched) {
  WatchHarness h(Backend(), kDefaultEvents, {.exclude = {"*.log", "/cache/"}});
  h.Mkdir("cache");
  h.Mkdir("cache/sub");
  h.Start();
  // inotify: the root only, cache/ is excluded; fanotify: no watches at all.
  EXPECT_EQ(h.watcher().status().watches, Backend() == WatcherBackend::kInotify ? 1u : 0u);
  const uint64_t base = h.journal().LastSeq();
  h.Write("app.log", "x");
  h.Write("cache/page", "x");
  h.Write("cache/sub/page", "x");  // below an excluded directory, not in it
  h.Write(".index.html.swp", "x");
  h.Write(".htaccess", "deny");
  ASSERT_TRUE(h.PumpUntil([](auto& ev) { return Has(ev, EventKind::kModify, ".htaccess"); }, base));
  auto ev = h.Events(base);
  ASSERT_EQ(ev.size(), 1u) << WatchHarness::Dump(ev);
  // Renamed to a name that is not excluded, it comes in whole, and is watched.
  const uint64_t renamed = h.journal().LastSeq();
  ASSERT_EQ(rename(h.Path("cache").c_str(), h.Path("kept").c_str()), 0);
  ASSERT_TRUE(
      h.PumpUntil([](auto& ev) { return Has(ev, EventKind::kCreate, "kept/sub/page"); }, renamed));
  h.Write("kept/sub/later", "y");
  ASSERT_TRUE(
      h.PumpUntil([](auto& ev) { return Has(ev, EventKind::kModify, "kept/sub/later"); }, renamed));
}

TEST_P(WatcherTest, HostileNamesAreData) {
  WatchHarness h(Backend());
  h.Start();
  const uint64_t base = h.journal().LastSeq();
  const std::vector<std::string> names = {
      "new\nline",   "tab\there",           "#hash",  ";semi",      "-rf", "$(touch pwned)",
      "bad\xff\xfe", std::string(255, 'L'), "sp ace", "back\\slash"};
  for (const std::string& n : names) h.Write(n, "x");
  ASSERT_TRUE(h.PumpUntil(
      [&](auto& ev) {
        for (const std::string& n : names) {
          if (!Has(ev, EventKind::kModify, n)) return false;
        }
        return true;
      },
      base));
  EXPECT_FALSE(std::filesystem::exists("pwned"));
  EXPECT_FALSE(std::filesystem::exists(h.Path("pwned")));
}

TEST_P(WatcherTest, QueueOverflowJournalsARescanAndLosesNothing) {
  WatchHarness h(Backend());
  // fanotify's queue is unlimited: the reader's own bound overflows.
  uint64_t queue = 2'000;
  if (Backend() == WatcherBackend::kFanotify) h.UseReaderOptions({.max_queued = queue / 2});
  h.Start(/*start_reader=*/false);  // nobody drains the kernel queue yet
  const uint64_t base = h.journal().LastSeq();
  if (Backend() == WatcherBackend::kInotify) {
    if (FILE* f = fopen("/proc/sys/fs/inotify/max_queued_events", "r")) {
      if (fscanf(f, "%lu", &queue) != 1) queue = 16384;
      fclose(f);
    }
  }
  if (queue > 200'000) GTEST_SKIP() << "max_queued_events " << queue << " is too big to overflow";
  // Each new file queues at least IN_CREATE and IN_CLOSE_WRITE.
  for (uint64_t i = 0; i < queue / 2 + 1000; ++i) h.Write("f" + std::to_string(i), "x");
  h.StartReader();
  ASSERT_TRUE(h.PumpUntil([](auto& ev) { return Has(ev, EventKind::kRescan, ""); }, base));
  EXPECT_GE(h.watcher().status().overflows, 1u);
  // The catalog knows every file again, and watching goes on.
  EXPECT_TRUE(
      h.journal().GetCatalogEntry(h.dest(), "f" + std::to_string(queue / 2 + 999))->has_value());
  const uint64_t after = h.journal().LastSeq();
  h.Write("after-overflow", "x");
  ASSERT_TRUE(
      h.PumpUntil([](auto& ev) { return Has(ev, EventKind::kModify, "after-overflow"); }, after));
  EXPECT_EQ(h.watcher().status().state, DestinationState::kWatching);
}

}  // namespace
}  // namespace ferry
