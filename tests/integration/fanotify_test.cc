// ParseFanotifyBuffer on what a real filesystem mark reports (issue 17's
// backend starts here): a fanotify group with FAN_REPORT_DFID_NAME and a
// FAN_MARK_FILESYSTEM mark on a fresh tmpfs. Each entry is named by its
// parent directory's handle, the same handle name_to_handle_at(2) gives,
// and a rename carries both ends in one FAN_RENAME. DirectoryPaths turns
// those handles back into paths below the source, and FanotifyChanges the
// events into the Watcher's records.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "tests/lib/poll.h"
#include "tests/lib/temp_dir.h"
#include "watch/fanotify_changes.h"
#include "watch/fanotify_parse.h"
#include "watch/fanotify_paths.h"
#include "watch/fanotify_probe.h"
#include "watch/inotify_parse.h"
#include "journal/filter.h"

namespace ferry {
namespace {

// The parser's key for directory `path`: fsid, then struct file_handle.
std::string DirKey(const std::string& path) { return DirectoryKey(path).value_or("no handle"); }

class FanotifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "a filesystem mark needs CAP_SYS_ADMIN";
    root_ = tmp_.Sub("fs");
    std::filesystem::create_directories(root_);
    // A container without CAP_SYS_ADMIN in its namespace: said, not failed.
    if (mount("none", root_.c_str(), "tmpfs", 0, "size=16m") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs on " << root_ << ": " << std::strerror(errno);
    }
    mounted_ = true;
    fd_ = fanotify_init(kFanotifyGroupFlags, O_RDONLY | O_CLOEXEC);
    if (fd_ < 0 && errno == EPERM) GTEST_SKIP() << "fanotify_init: " << std::strerror(errno);
    ASSERT_GE(fd_, 0) << "fanotify_init: " << std::strerror(errno);
    ASSERT_EQ(fanotify_mark(fd_, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, kFanotifyMarkMask,
                            AT_FDCWD, root_.c_str()),
              0)
        << "fanotify_mark: " << std::strerror(errno);
  }
  void TearDown() override {
    if (fd_ >= 0) close(fd_);
    if (mounted_) umount2(root_.c_str(), MNT_DETACH);
  }

  // Reads until `want` events came, or until the last is a directory's
  // delete (polled with a deadline).
  std::vector<FanotifyRecord> ReadEvents(size_t want) {
    std::vector<FanotifyRecord> out;
    std::vector<uint64_t> storage(64 * 1024 / sizeof(uint64_t));
    testing::PollUntil(
        [&] {
          const ssize_t n = read(fd_, storage.data(), storage.size() * sizeof(uint64_t));
          if (n > 0) {
            auto parsed = ParseFanotifyBuffer(
                {reinterpret_cast<const uint8_t*>(storage.data()), static_cast<size_t>(n)}, &out);
            EXPECT_TRUE(parsed) << parsed.error().ToString();
          }
          // A directory made and removed at once may come as one event.
          constexpr uint64_t kDirDeleted = FAN_DELETE | FAN_ONDIR;
          return out.size() >= want && (out.back().mask & kDirDeleted) == kDirDeleted;
        },
        std::chrono::seconds(10), std::chrono::milliseconds(5));
    return out;
  }

  testing::TempDir tmp_;
  std::string root_;
  bool mounted_ = false;
  int fd_ = -1;
};

std::string Describe(const std::vector<FanotifyRecord>& events) {
  std::string out;
  for (const FanotifyRecord& e : events) out += FanotifyMaskName(e.mask) + " " + e.entry.name + "\n";
  return out;
}

TEST_F(FanotifyTest, EntriesAreNamedByTheirParentsHandleAndARenameByBothEnds) {
  const std::string root_key = DirKey(root_);
  ASSERT_EQ(mkdir((root_ + "/d").c_str(), 0755), 0);
  const std::string d_key = DirKey(root_ + "/d");
  ASSERT_NE(root_key, d_key);
  std::ofstream(root_ + "/d/line\nbreak") << "x";  // create, close_write
  ASSERT_EQ(rename((root_ + "/d/line\nbreak").c_str(), (root_ + "/g").c_str()), 0);
  ASSERT_EQ(rename((root_ + "/d").c_str(), (root_ + "/e").c_str()), 0);
  ASSERT_EQ(rmdir((root_ + "/e").c_str()), 0);

  // The kernel merges the events of one entry that are still queued: the
  // create and close_write come as one event or as two, as reading goes.
  std::vector<FanotifyRecord> events = ReadEvents(5);
  if (events.size() >= 3 && events[2].entry == events[1].entry && events[2].from.dir.empty()) {
    events[1].mask |= events[2].mask;
    events.erase(events.begin() + 2);
  }
  ASSERT_EQ(events.size(), 5u) << Describe(events);
  EXPECT_EQ(events[0].mask, FAN_CREATE | FAN_ONDIR);
  EXPECT_EQ(events[0].entry, (FanotifyEntry{root_key, "d"}));
  EXPECT_EQ(events[1].mask, FAN_CREATE | FAN_CLOSE_WRITE);
  EXPECT_EQ(events[1].entry, (FanotifyEntry{d_key, "line\nbreak"}));
  EXPECT_EQ(events[2].mask, FAN_RENAME);
  EXPECT_EQ(events[2].from, (FanotifyEntry{d_key, "line\nbreak"}));
  EXPECT_EQ(events[2].entry, (FanotifyEntry{root_key, "g"}));
  // A directory's rename: one event, and the directory keeps its handle.
  EXPECT_EQ(events[3].mask, FAN_RENAME | FAN_ONDIR);
  EXPECT_EQ(events[3].from, (FanotifyEntry{root_key, "d"}));
  EXPECT_EQ(events[3].entry, (FanotifyEntry{root_key, "e"}));
  EXPECT_EQ(events[4].mask, FAN_DELETE | FAN_ONDIR);
  EXPECT_EQ(events[4].entry, (FanotifyEntry{root_key, "e"}));
}

void MakeDirs(const std::string& root, std::initializer_list<const char*> dirs) {
  for (const char* d : dirs) std::filesystem::create_directories(root + "/" + d);
}

TEST_F(FanotifyTest, HandlesResolveToPathsBelowTheSourceOnly) {
  const std::string src = root_ + "/src";
  MakeDirs(root_, {"src/a/b", "src/a b", "src/-x\n$(y)", "elsewhere/z"});
  auto paths = DirectoryPaths::Open(src);
  ASSERT_TRUE(paths) << paths.error().ToString();
  EXPECT_EQ(paths->Resolve(DirKey(src)), "");
  EXPECT_EQ(paths->Resolve(DirKey(src + "/a/b")), "a/b");
  EXPECT_EQ(paths->Resolve(DirKey(src + "/-x\n$(y)")), "-x\n$(y)");
  EXPECT_EQ(paths->misses(), 3u);
  EXPECT_EQ(paths->Resolve(DirKey(src + "/a/b")), "a/b");
  EXPECT_EQ(paths->misses(), 3u) << "cached";
  // The same filesystem, outside the source: not the destination's.
  EXPECT_EQ(paths->Resolve(DirKey(root_ + "/elsewhere/z")), std::nullopt);
  EXPECT_EQ(paths->Resolve(DirKey(root_)), std::nullopt);
}

TEST_F(FanotifyTest, RenamedAndRemovedDirectoriesNeverYieldTheirOldPaths) {
  const std::string src = root_ + "/src";
  MakeDirs(root_, {"src/a/b/c", "src/a b", "src/gone/sub"});
  const std::string key_b = DirKey(src + "/a/b"), key_c = DirKey(src + "/a/b/c");
  const std::string key_ab = DirKey(src + "/a b"), key_gone = DirKey(src + "/gone/sub");
  auto paths = DirectoryPaths::Open(src);
  ASSERT_TRUE(paths) << paths.error().ToString();
  for (const std::string* k : {&key_b, &key_c, &key_ab, &key_gone}) ASSERT_TRUE(paths->Resolve(*k));

  // "a b" sorts between "a" and "a/b": a rename of "a" must still take
  // all of "a/", and nothing of "a b".
  ASSERT_EQ(rename((src + "/a").c_str(), (src + "/r").c_str()), 0);
  paths->Renamed("a", "r");
  const uint64_t misses = paths->misses();
  EXPECT_EQ(paths->Resolve(key_b), "r/b");
  EXPECT_EQ(paths->Resolve(key_c), "r/b/c");
  EXPECT_EQ(paths->Resolve(key_ab), "a b");
  EXPECT_EQ(paths->misses(), misses) << "all from the cache";

  // Gone: the cache forgets it and the kernel no longer finds it.
  std::filesystem::remove_all(src + "/gone");
  paths->Removed("gone");
  EXPECT_EQ(paths->Resolve(key_gone), std::nullopt);
  EXPECT_EQ(paths->misses(), misses + 1);

  // Renamed with the cache not told (after an overflow, say): Clear(), and
  // the kernel says where it is now.
  ASSERT_EQ(rename((src + "/r").c_str(), (src + "/q").c_str()), 0);
  paths->Clear();
  EXPECT_EQ(paths->Resolve(key_c), "q/b/c");
}

TEST_F(FanotifyTest, TheCacheHoldsAtMostItsCapacity) {
  const std::string src = root_ + "/src";
  MakeDirs(root_, {"src/1", "src/2", "src/3"});
  auto paths = DirectoryPaths::Open(src, /*capacity=*/2);
  ASSERT_TRUE(paths) << paths.error().ToString();
  for (const char* d : {"1", "2", "1", "3"}) EXPECT_EQ(paths->Resolve(DirKey(src + "/" + d)), d);
  EXPECT_EQ(paths->size(), 2u);
  EXPECT_EQ(paths->misses(), 3u);
  EXPECT_EQ(paths->Resolve(DirKey(src + "/1")), "1");  // the most recent stayed
  EXPECT_EQ(paths->misses(), 3u);
  EXPECT_EQ(paths->Resolve(DirKey(src + "/2")), "2");  // the oldest went
  EXPECT_EQ(paths->misses(), 4u);
}

std::string Describe(const std::vector<ChangeRecord>& changes) {
  std::string out;
  for (const ChangeRecord& c : changes) {
    out += InotifyMaskName(c.mask) + " " + c.path + " #" + std::to_string(c.cookie) + "\n";
  }
  return out;
}

// Ends a scenario: ReadEvents() reads up to a directory's delete.
void EndScenario(const std::string& root) {
  ASSERT_EQ(mkdir((root + "/end").c_str(), 0755), 0);
  ASSERT_EQ(rmdir((root + "/end").c_str()), 0);
}

bool Has(const std::vector<ChangeRecord>& changes, uint32_t mask, const std::string& path) {
  for (const ChangeRecord& c : changes) {
    if (c.mask == mask && c.path == path) return true;
  }
  return false;
}

TEST_F(FanotifyTest, ChangesElsewhereOnTheFilesystemAreDroppedWithoutAKernelCallEach) {
  const std::string src = root_ + "/src";
  MakeDirs(root_, {"src", "busy/1", "busy/2"});
  auto changes = FanotifyChanges::Open(src, nullptr);
  ASSERT_TRUE(changes) << changes.error().ToString();
  for (int i = 0; i < 300; ++i) std::ofstream(root_ + "/busy/" + std::to_string(i % 2 + 1) + "/f" + std::to_string(i)) << "x";
  std::ofstream(src + "/mine") << "x";
  EndScenario(root_);
  std::vector<ChangeRecord> out;
  changes->Translate(ReadEvents(300), &out);
  ASSERT_EQ(out.size(), 2u) << Describe(out);
  EXPECT_EQ(out[0], (ChangeRecord{.mask = IN_CREATE, .path = "mine"}));
  EXPECT_EQ(out[1], (ChangeRecord{.mask = IN_CLOSE_WRITE, .path = "mine"}));
  EXPECT_GE(changes->dropped(), 300u);
  // The filesystem's root, busy, busy/1, busy/2 and src: one kernel call
  // each, however many events they had.
  EXPECT_LE(changes->paths().misses(), 5u);
}

TEST_F(FanotifyTest, RenamesComeOutAsPairsAndMovesInAndOutAsCreatesAndDeletes) {
  const std::string src = root_ + "/src";
  MakeDirs(root_, {"src/a/deep", "outside/in/sub"});
  auto changes = FanotifyChanges::Open(src, nullptr);
  ASSERT_TRUE(changes) << changes.error().ToString();
  std::vector<ChangeRecord> out;
  // The directory is resolved (cached) before it is renamed.
  std::ofstream(src + "/a/deep/x") << "x";
  EndScenario(root_);
  changes->Translate(ReadEvents(2), &out);
  ASSERT_TRUE(Has(out, IN_CLOSE_WRITE, "a/deep/x")) << Describe(out);
  out.clear();
  ASSERT_EQ(rename((src + "/a").c_str(), (src + "/b").c_str()), 0);
  std::ofstream(src + "/b/deep/y") << "y";
  ASSERT_EQ(rename((root_ + "/outside/in").c_str(), (src + "/in").c_str()), 0);
  std::ofstream(src + "/in/sub/z") << "z";
  ASSERT_EQ(rename((src + "/b").c_str(), (root_ + "/outside/b").c_str()), 0);
  EndScenario(root_);
  changes->Translate(ReadEvents(6), &out);
  ASSERT_GE(out.size(), 2u) << Describe(out);
  EXPECT_EQ(out[0].mask, IN_MOVED_FROM | IN_ISDIR) << Describe(out);
  EXPECT_EQ(out[0].path, "a");
  EXPECT_EQ(out[1].mask, IN_MOVED_TO | IN_ISDIR);
  EXPECT_EQ(out[1].path, "b");
  EXPECT_EQ(out[0].cookie, out[1].cookie);
  EXPECT_NE(out[0].cookie, 0u);
  // The cache followed the rename: never the old path.
  EXPECT_TRUE(Has(out, IN_CLOSE_WRITE, "b/deep/y")) << Describe(out);
  for (const ChangeRecord& c : out) EXPECT_NE(c.path.rfind("a/", 0), 0u) << Describe(out);
  // Moved in: an unpaired MOVED_TO, and what it holds is ours from then on.
  EXPECT_TRUE(Has(out, IN_MOVED_TO | IN_ISDIR, "in")) << Describe(out);
  EXPECT_TRUE(Has(out, IN_CLOSE_WRITE, "in/sub/z")) << Describe(out);
  // Moved out: gone.
  EXPECT_TRUE(Has(out, IN_DELETE | IN_ISDIR, "b")) << Describe(out);
}

TEST_F(FanotifyTest, ExcludedDirectoriesAndTheSourcesRemovalAreSeenAsInotifySeesThem) {
  const std::string src = root_ + "/src";
  MakeDirs(root_, {"src/cache/sub", "src/kept"});
  auto filter = Filter::Create({.exclude = {"/cache/"}});
  ASSERT_TRUE(filter) << filter.error().ToString();
  auto changes = FanotifyChanges::Open(src, *filter);
  ASSERT_TRUE(changes) << changes.error().ToString();
  std::ofstream(src + "/cache/sub/page") << "x";
  ASSERT_EQ(chmod(src.c_str(), 0700), 0);  // the source's own attrib: not journaled
  ASSERT_EQ(chmod((src + "/kept").c_str(), 0700), 0);
  EndScenario(root_);
  std::vector<ChangeRecord> out;
  changes->Translate(ReadEvents(4), &out);
  for (const ChangeRecord& c : out) {
    EXPECT_EQ(c.path.find("cache/sub"), std::string::npos) << Describe(out);
  }
  EXPECT_TRUE(Has(out, IN_ATTRIB | IN_ISDIR, "kept")) << Describe(out);
  EXPECT_FALSE(Has(out, IN_ATTRIB | IN_ISDIR, "")) << Describe(out);
  out.clear();
  std::filesystem::remove_all(src);
  EndScenario(root_);
  changes->Translate(ReadEvents(5), &out);
  EXPECT_TRUE(Has(out, IN_DELETE_SELF, "")) << Describe(out);
}

TEST_F(FanotifyTest, TheProbeSaysWhetherASourceCanBeWatchedAndWhyNot) {
  EXPECT_TRUE(FanotifyUsable(root_).ok()) << FanotifyUsable(root_).ToString();
  // procfs gives no file handles.
  const Status proc = FanotifyUsable("/proc/self");
  EXPECT_FALSE(proc.ok());
  EXPECT_NE(proc.message().find("/proc/self"), std::string::npos) << proc.ToString();
  const Status missing = FanotifyUsable(root_ + "/missing");
  EXPECT_TRUE(missing.IsNotFound()) << missing.ToString();
  // A filesystem mounted below the source is not seen by the mark.
  MakeDirs(root_, {"src/mnt"});
  ASSERT_EQ(mount("none", (root_ + "/src/mnt").c_str(), "tmpfs", 0, "size=1m"), 0);
  const Status below = FanotifyUsable(root_ + "/src");
  umount2((root_ + "/src/mnt").c_str(), MNT_DETACH);
  EXPECT_FALSE(below.ok());
  EXPECT_NE(below.message().find("watcher = inotify"), std::string::npos) << below.ToString();
  EXPECT_NE(below.message().find("/src/mnt"), std::string::npos) << below.ToString();
}

}  // namespace
}  // namespace ferry
