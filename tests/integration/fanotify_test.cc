// ParseFanotifyBuffer on what a real filesystem mark reports (issue 17's
// backend starts here): a fanotify group with FAN_REPORT_DFID_NAME and a
// FAN_MARK_FILESYSTEM mark on a fresh tmpfs. Each entry is named by its
// parent directory's handle, the same handle name_to_handle_at(2) gives,
// and a rename carries both ends in one FAN_RENAME. DirectoryPaths turns
// those handles back into paths below the source.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/fanotify.h>
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
#include "watch/fanotify_parse.h"
#include "watch/fanotify_paths.h"
#include "watch/fanotify_probe.h"

namespace ferry {
namespace {

// The parser's key for directory `path`: fsid, then struct file_handle.
std::string DirKey(const std::string& path) {
  struct statfs fs;
  if (statfs(path.c_str(), &fs) != 0) return "statfs failed";
  std::vector<char> storage(sizeof(file_handle) + MAX_HANDLE_SZ);
  auto* fh = reinterpret_cast<file_handle*>(storage.data());
  fh->handle_bytes = MAX_HANDLE_SZ;
  int mount_id = 0;
  if (name_to_handle_at(AT_FDCWD, path.c_str(), fh, &mount_id, 0) != 0) return "no handle";
  std::string key(reinterpret_cast<const char*>(&fs.f_fsid), sizeof fs.f_fsid);
  key.append(storage.data(), sizeof(file_handle) + fh->handle_bytes);
  return key;
}

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
          return out.size() >= want && out.back().mask == (FAN_DELETE | FAN_ONDIR);
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

TEST_F(FanotifyTest, TheProbeSaysWhetherASourceCanBeWatchedAndWhyNot) {
  EXPECT_TRUE(FanotifyUsable(root_).ok()) << FanotifyUsable(root_).ToString();
  // procfs gives no file handles.
  const Status proc = FanotifyUsable("/proc/self");
  EXPECT_FALSE(proc.ok());
  EXPECT_NE(proc.message().find("/proc/self"), std::string::npos) << proc.ToString();
  const Status missing = FanotifyUsable(root_ + "/missing");
  EXPECT_TRUE(missing.IsNotFound()) << missing.ToString();
}

}  // namespace
}  // namespace ferry
