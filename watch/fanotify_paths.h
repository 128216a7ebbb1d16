// DirectoryPaths: which directory below the source a fanotify directory key
// (FanotifyEntry::dir: fsid and file handle) names now, with a bounded
// cache (the fanotify backend, issue 17).
//
// A miss asks the kernel: open_by_handle_at(2) with O_PATH, then the
// descriptor's /proc/self/fd link. A directory that is gone (ESTALE, or
// unlinked while open) or lies outside the source resolves to nothing, never
// to a path: an event in it is not the destination's. The cache holds what
// was resolved and must be told, in event order, of every directory rename
// and delete (Renamed, Removed); a path resolved by the kernel may be ahead
// of the event being handled (a later rename already done), which later
// events of the same journal correct, as they do for a walk. After a queue
// overflow nothing cached can be trusted: Clear().
//
// Paths are relative to the source ("" is the source itself). Not
// thread-safe: the watcher's processing thread only.
#pragma once

#include <cstddef>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"

namespace ferry {

// The key fanotify gives the directory at `path` (fsid, then its file
// handle), or nullopt if it has none.
std::optional<std::string> DirectoryKey(const std::string& path);

class DirectoryPaths {
 public:
  // `root` is the absolute source directory; `capacity` bounds the cached
  // directories (about 150 bytes each with their paths).
  static Result<DirectoryPaths> Open(const std::string& root, size_t capacity = 100'000);
  DirectoryPaths(DirectoryPaths&& other) noexcept;
  DirectoryPaths& operator=(DirectoryPaths&&) = delete;
  ~DirectoryPaths();

  // The directory's path, or nullopt if it is gone or outside the source:
  // Lookup(), else AskKernel() and Remember().
  std::optional<std::string> Resolve(const std::string& key);
  // What the cache holds for `key` (no kernel call).
  std::optional<std::string> Lookup(const std::string& key);
  // What the kernel says `key` names now (no cache); counts a miss. When it
  // cannot tell (no descriptor or memory left), nullopt with `*unsure` set:
  // the directory may well be ours.
  std::optional<std::string> AskKernel(const std::string& key, bool* unsure = nullptr);
  // Caches `path` for `key`, evicting the least recently used past capacity.
  void Remember(const std::string& key, std::string path) { Insert(key, std::move(path)); }
  // The directory `from` and everything below it now live at `to`. Returns
  // how many cached directories were at or below `to` before: such a
  // directory was resolved by the kernel after this rename was made, so
  // the events named by it came out under `to` already (see
  // FanotifyChanges).
  size_t Renamed(const std::string& from, const std::string& to);
  // The directory `dir` and everything below it are gone; how many were cached.
  size_t Removed(const std::string& dir);
  void Clear();

  const std::string& root() const { return root_; }  // canonical, absolute
  size_t size() const { return by_key_.size(); }
  uint64_t misses() const { return misses_; }  // kernel lookups so far

 private:
  DirectoryPaths(std::string root, int root_fd, size_t capacity)
      : root_(std::move(root)), root_fd_(root_fd), capacity_(capacity) {}
  struct Cached {
    std::string path;
    std::list<std::string>::iterator lru;  // into lru_
  };
  void Insert(const std::string& key, std::string path);
  void Erase(std::map<std::string, std::string>::iterator by_path);
  // `dir` and the cached directories below it.
  std::vector<std::map<std::string, std::string>::iterator> Subtree(const std::string& dir);

  std::string root_;
  int root_fd_;
  size_t capacity_;
  std::unordered_map<std::string, Cached> by_key_;
  std::map<std::string, std::string> by_path_;  // path -> key, ordered for subtrees
  std::list<std::string> lru_;                  // keys, most recent first
  uint64_t misses_ = 0;
};

}  // namespace ferry
