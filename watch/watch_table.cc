#include "watch/watch_table.h"

namespace ferry {
namespace {

// The entries of `by_dir` strictly below `dir`: from "dir/" up to "dir0"
// ('0' is the byte after '/'); for the root, everything but "" itself.
template <typename Map>
auto SubtreeRange(Map& by_dir, const std::string& dir) {
  if (dir.empty()) return std::make_pair(by_dir.upper_bound(dir), by_dir.end());
  return std::make_pair(by_dir.lower_bound(dir + "/"), by_dir.lower_bound(dir + "0"));
}

}  // namespace

void WatchTable::Add(int wd, const std::string& dir) {
  auto it = by_wd_.find(wd);
  if (it != by_wd_.end()) by_dir_.erase(it->second);
  auto old = by_dir_.find(dir);
  if (old != by_dir_.end()) by_wd_.erase(old->second);
  by_wd_[wd] = dir;
  by_dir_[dir] = wd;
}

const std::string* WatchTable::Dir(int wd) const {
  auto it = by_wd_.find(wd);
  return it == by_wd_.end() ? nullptr : &it->second;
}

std::optional<int> WatchTable::Wd(const std::string& dir) const {
  auto it = by_dir_.find(dir);
  if (it == by_dir_.end()) return std::nullopt;
  return it->second;
}

void WatchTable::RemoveWd(int wd) {
  auto it = by_wd_.find(wd);
  if (it == by_wd_.end()) return;
  by_dir_.erase(it->second);
  by_wd_.erase(it);
}

std::vector<int> WatchTable::RemoveSubtree(const std::string& dir) {
  std::vector<int> wds;
  if (auto top = by_dir_.find(dir); top != by_dir_.end()) {
    wds.push_back(top->second);
    by_wd_.erase(top->second);
    by_dir_.erase(top);
  }
  auto [first, last] = SubtreeRange(by_dir_, dir);
  for (auto it = first; it != last; ++it) {
    wds.push_back(it->second);
    by_wd_.erase(it->second);
  }
  by_dir_.erase(first, last);
  return wds;
}

void WatchTable::Rename(const std::string& from, const std::string& to) {
  std::vector<std::pair<std::string, int>> moved;
  if (auto top = by_dir_.find(from); top != by_dir_.end()) moved.emplace_back(to, top->second);
  auto [first, last] = SubtreeRange(by_dir_, from);
  for (auto it = first; it != last; ++it) {
    moved.emplace_back(to + it->first.substr(from.size()), it->second);
  }
  RemoveSubtree(from);
  for (auto& [dir, wd] : moved) Add(wd, dir);
}

void WatchTable::Clear() {
  by_wd_.clear();
  by_dir_.clear();
}

}  // namespace ferry
