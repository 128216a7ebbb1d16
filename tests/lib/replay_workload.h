// The workload every transport (and every rsync receiver) must carry, on a
// ReplayHarness. Shared by replay_test.cc and rsync_compat_test.cc.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/lib/replay_harness.h"

namespace ferry::testing {

inline void SetMtime(const std::string& path, time_t sec) {
  timespec times[2] = {{sec, 0}, {sec, 0}};
  utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW);
}

// The workload every transport must carry: creates, same-size rewrites with
// the mtime kept, a directory rename, deletes of non-empty trees, odd names,
// and deletes of names that are rsync wildcards next to the names the
// wildcards would match (filter-rule deletes, rsync_features.h, must remove
// exactly the named ones).
inline void Workload(ReplayHarness& h, const std::vector<std::string>& targets) {
  auto& w = h.watch();
  w.Mkdir("docs");
  for (int i = 0; i < 200; ++i)
    w.Write("docs/f" + std::to_string(i), "content " + std::to_string(i));
  for (const char* odd :
       {"new\nline", "#hash", ";semi", "-rf", "$(touch pwned)", "bad\xff\xfe", "sp ace"}) {
    w.Write(odd, odd);
  }
  w.Mkdir("tree");
  w.Mkdir("tree/sub");
  w.Write("tree/sub/x", "x");
  const std::vector<std::string> wild = {"a*b", "x[1]", "q?", "back\\slash", "- minus", "+ plus"};
  for (const std::string& name : wild) w.Write(name, name);
  for (const char* decoy : {"axxb", "x1", "qq", "backslash", "minus", "plus"}) w.Write(decoy, "d");
  w.Mkdir("dir[*]");
  w.Write("dir[*]/in*ner", "i");
  w.Mkdir("dir*");
  w.Write("dir*/inner", "kept");
  ASSERT_TRUE(h.Converge(targets));

  // Same size, same mtime second: only the journal knows it changed.
  for (int round = 0; round < 5; ++round) {
    w.Write("docs/f1", "CONTENT " + std::to_string(round % 10));
    SetMtime(w.Path("docs/f1"), 1'600'000'000);
  }
  ASSERT_EQ(rename(w.Path("docs").c_str(), w.Path("documents").c_str()), 0);
  std::filesystem::remove_all(w.Path("tree"));
  for (const std::string& name : wild) ASSERT_EQ(std::remove(w.Path(name).c_str()), 0) << name;
  std::filesystem::remove_all(w.Path("dir[*]"));
  ASSERT_TRUE(h.Converge(targets));
  EXPECT_FALSE(std::filesystem::exists("pwned"));
}

// Bytes the target's lane sends when a 20 MiB directory already on the
// target is renamed in the source.
inline uint64_t BytesForARenamedDirectory(ReplayHarness& h, const TargetSettings& t,
                                          const std::string& target_dir) {
  h.watch().Mkdir("data");
  for (int i = 0; i < 20; ++i) {
    h.watch().Write("data/" + std::to_string(i), std::string(1 << 20, 'r'));
  }
  h.AddLane(t);
  EXPECT_TRUE(h.Converge({target_dir}));
  const uint64_t before = h.journal().GetStats(t.name)->bytes;
  EXPECT_EQ(rename(h.watch().Path("data").c_str(), h.watch().Path("renamed").c_str()), 0);
  EXPECT_TRUE(h.Converge({target_dir}));
  return h.journal().GetStats(t.name)->bytes - before;
}

}  // namespace ferry::testing
