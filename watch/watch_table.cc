#include "watch/watch_table.h"

#include <cassert>
#include <functional>
#include <memory>
#include <utility>

#include "watch/file_stat.h"

namespace ferry {
namespace {

using Split = std::pair<std::string_view, std::string_view>;

// {"a", "b/c"} for "a/b/c".
Split FirstName(std::string_view path) {
  const size_t slash = path.find('/');
  if (slash == std::string_view::npos) return {path, {}};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

// {"a/b", "c"} for "a/b/c".
Split LastName(std::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return {{}, path};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

}  // namespace

WatchTable::WatchTable() { (void)NewSlot(); }

void WatchTable::Add(int wd, std::string_view dir) {
  if (const uint32_t was = WdSlot(wd); was != kNone) {
    if (Find(dir) == was) return;
    Unwatch(was);
    Prune(was);
  }
  const uint32_t slot = Make(dir);
  Unwatch(slot);  // another wd of the same path
  Watch(slot, wd);
}

std::optional<std::string> WatchTable::Path(int wd, std::string_view name) const {
  const uint32_t slot = WdSlot(wd);
  if (slot == kNone) return std::nullopt;
  // The length first, then the names from the last to the first, each
  // followed by a '/' unless it is the last: one allocation.
  size_t size = name.size();
  for (uint32_t s = slot; s != kRoot; s = node(s).parent) size += node(s).name.size() + 1;
  if (name.empty() && size > 0) --size;
  std::string path(size, '/');
  size_t end = size;
  auto put = [&](std::string_view part) {
    if (end != size) --end;
    end -= part.size();
    part.copy(path.data() + end, part.size());
  };
  if (!name.empty()) put(name);
  for (uint32_t s = slot; s != kRoot; s = node(s).parent) put(node(s).name);
  assert(end == 0);
  return path;
}

std::optional<int> WatchTable::Wd(std::string_view dir) const {
  const uint32_t slot = Find(dir);
  if (slot == kNone || node(slot).wd == kNoWatch) return std::nullopt;
  return node(slot).wd;
}

void WatchTable::RemoveWd(int wd) {
  const uint32_t slot = WdSlot(wd);
  if (slot == kNone) return;
  Unwatch(slot);
  Prune(slot);
}

std::vector<int> WatchTable::RemoveSubtree(std::string_view dir) {
  const uint32_t slot = Find(dir);
  if (slot == kNone) return {};
  if (slot == kRoot) {
    std::vector<int> wds;
    for (uint32_t s = 0; s < slots_; ++s) {
      if (node(s).wd != kNoWatch) wds.push_back(node(s).wd);
    }
    Clear();
    return wds;
  }
  const uint32_t parent = node(slot).parent;
  Unlink(slot);
  std::vector<int> wds = FreeSubtree(slot);
  Prune(parent);
  return wds;
}

void WatchTable::Rename(std::string_view from, std::string_view to) {
  const uint32_t slot = Find(from);
  if (slot == kNone || PathWithin(to, from) || PathWithin(from, to)) return;
  const uint32_t old_parent = node(slot).parent;
  Unlink(slot);
  const auto [to_dir, name] = LastName(to);
  const uint32_t parent = Make(to_dir);
  if (const uint32_t there = Child(parent, name); there != kNone) {
    Merge(slot, there);
  } else {
    node(slot).name = name;
    Link(slot, parent);
  }
  Prune(old_parent);
}

void WatchTable::Merge(uint32_t from, uint32_t onto) {
  std::vector<std::pair<uint32_t, uint32_t>> todo{{from, onto}};
  while (!todo.empty()) {
    const auto [src, dst] = todo.back();
    todo.pop_back();
    if (const int wd = node(src).wd; wd != kNoWatch) {
      Unwatch(src);
      Unwatch(dst);
      Watch(dst, wd);
    }
    for (uint32_t c = node(src).first_child, next; c != kNone; c = next) {
      next = node(c).next;
      Unlink(c);
      if (const uint32_t same = Child(dst, node(c).name); same != kNone) {
        todo.emplace_back(c, same);
      } else {
        Link(c, dst);
      }
    }
    (void)FreeSubtree(src);  // nothing is left below it
  }
}

uint32_t WatchTable::NameKey(uint32_t parent, std::string_view name) {
  const uint64_t h = std::hash<std::string_view>{}(name) ^ (parent * 0x9E3779B97F4A7C15ull);
  return static_cast<uint32_t>(h ^ (h >> 32));
}

uint32_t WatchTable::Child(uint32_t parent, std::string_view name) const {
  return by_name_.Find(NameKey(parent, name), [&](uint32_t s) {
    return node(s).parent == parent && node(s).name == name;
  });
}

uint32_t WatchTable::Find(std::string_view dir) const {
  uint32_t slot = kRoot;
  while (slot != kNone && !dir.empty()) {
    const auto [name, rest] = FirstName(dir);
    slot = Child(slot, name);
    dir = rest;
  }
  return slot;
}

uint32_t WatchTable::Make(std::string_view dir) {
  uint32_t slot = kRoot;
  while (!dir.empty()) {
    const auto [name, rest] = FirstName(dir);
    const uint32_t child = Child(slot, name);
    slot = child != kNone ? child : NewNode(slot, name);
    dir = rest;
  }
  return slot;
}

uint32_t WatchTable::NewNode(uint32_t parent, std::string_view name) {
  uint32_t slot = free_;
  if (slot != kNone) {
    free_ = node(slot).next;
  } else {
    slot = NewSlot();
  }
  node(slot).name = name;
  Link(slot, parent);
  return slot;
}

uint32_t WatchTable::NewSlot() {
  if (slots_ % kBlock == 0) blocks_.push_back(std::make_unique<Node[]>(kBlock));
  return slots_++;
}

void WatchTable::Link(uint32_t slot, uint32_t parent) {
  Node& n = node(slot);
  n.parent = parent;
  n.prev = kNone;
  n.next = node(parent).first_child;
  if (n.next != kNone) node(n.next).prev = slot;
  node(parent).first_child = slot;
  by_name_.Insert(NameKey(parent, n.name), slot);
}

void WatchTable::Unlink(uint32_t slot) {
  Node& n = node(slot);
  by_name_.Erase(NameKey(n.parent, n.name), slot);
  if (n.prev != kNone) {
    node(n.prev).next = n.next;
  } else {
    node(n.parent).first_child = n.next;
  }
  if (n.next != kNone) node(n.next).prev = n.prev;
  n.parent = n.next = n.prev = kNone;
}

void WatchTable::Watch(uint32_t slot, int wd) {
  node(slot).wd = wd;
  by_wd_.Insert(static_cast<uint32_t>(wd), slot);
  ++watches_;
}

void WatchTable::Unwatch(uint32_t slot) {
  Node& n = node(slot);
  if (n.wd == kNoWatch) return;
  by_wd_.Erase(static_cast<uint32_t>(n.wd), slot);
  n.wd = kNoWatch;
  --watches_;
}

std::vector<int> WatchTable::FreeSubtree(uint32_t top) {
  std::vector<int> wds;
  std::vector<uint32_t> todo{top};  // not recursion: a tree may be deep
  while (!todo.empty()) {
    const uint32_t slot = todo.back();
    todo.pop_back();
    Node& n = node(slot);
    for (uint32_t c = n.first_child; c != kNone; c = node(c).next) todo.push_back(c);
    if (n.wd != kNoWatch) wds.push_back(n.wd);
    Unwatch(slot);
    if (n.parent != kNone) by_name_.Erase(NameKey(n.parent, n.name), slot);
    n = Node{.next = free_};  // gives back a long name's heap block
    free_ = slot;
  }
  return wds;
}

void WatchTable::Prune(uint32_t slot) {
  while (slot != kRoot && node(slot).wd == kNoWatch && node(slot).first_child == kNone) {
    const uint32_t parent = node(slot).parent;
    Unlink(slot);
    (void)FreeSubtree(slot);
    slot = parent;
  }
}

}  // namespace ferry
