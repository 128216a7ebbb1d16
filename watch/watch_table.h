// WatchTable: which inotify watch descriptor watches which directory.
//
// Directory paths are relative to the destination's root ("" is the root).
// Renaming or dropping a directory applies to its whole subtree. Not
// thread-safe: owned by the watcher's processing thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace ferry {

class WatchTable {
 public:
  // Records that `wd` watches `dir`. inotify returns the same wd for a
  // directory watched twice; a wd that watched another path moves.
  void Add(int wd, const std::string& dir);
  // The directory of `wd`, or nullptr if unknown (removed meanwhile).
  const std::string* Dir(int wd) const;
  std::optional<int> Wd(const std::string& dir) const;
  // Forgets `wd` (after IN_IGNORED).
  void RemoveWd(int wd);
  // Forgets `dir` and everything below it; returns their wds.
  std::vector<int> RemoveSubtree(const std::string& dir);
  // `from` and everything below it now live at `to`.
  void Rename(const std::string& from, const std::string& to);
  size_t size() const { return by_wd_.size(); }
  void Clear();

 private:
  std::unordered_map<int, std::string> by_wd_;
  std::map<std::string, int> by_dir_;  // ordered: a subtree is one range
};

}  // namespace ferry
