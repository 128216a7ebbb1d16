// WatchTable: which inotify watch descriptor watches which directory.
//
// Directory paths are relative to the destination's root ("" is the root).
// Renaming or dropping a directory applies to its whole subtree.
//
// The table is a tree of names, not of paths: each directory is a node that
// holds its own name and its parent, and a path is built when asked for, in
// O(depth) with one allocation. A rename moves one node, whatever its
// subtree holds. A directory whose watch is gone (or never came) while
// directories below it are still watched keeps a node without a watch.
// Memory: about 80 bytes a directory (a 56-byte node and a cell in each of
// two SlotIndexes) when its name fits in 15 bytes; a longer name adds its
// own heap block. Slots freed by removals are reused, not given back.
//
// Not thread-safe: owned by the watcher's processing thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "watch/slot_index.h"

namespace ferry {

class WatchTable {
 public:
  WatchTable();

  // Records that `wd` watches `dir`. inotify returns the same wd for a
  // directory watched twice; a wd that watched another path moves there
  // alone (what was below the old path stays), and a wd that watched `dir`
  // before is forgotten (what is below `dir` stays).
  void Add(int wd, std::string_view dir);
  // The path of `name` in the directory of `wd` (the directory itself when
  // `name` is empty), or nullopt if `wd` is unknown (removed meanwhile).
  std::optional<std::string> Path(int wd, std::string_view name) const;
  std::optional<std::string> Dir(int wd) const { return Path(wd, {}); }
  std::optional<int> Wd(std::string_view dir) const;
  // Forgets `wd` (after IN_IGNORED).
  void RemoveWd(int wd);
  // Forgets `dir` and everything below it; returns their wds.
  std::vector<int> RemoveSubtree(std::string_view dir);
  // `from` and everything below it now live at `to`. Where `to` has a
  // directory at the same path (watched again by a walk before the rename
  // was read), the one from `from` takes its place if it has a watch; the
  // others at `to` stay. A rename into its own subtree, or onto one of its
  // parents, is impossible (EINVAL, ENOTEMPTY) and changes nothing.
  void Rename(std::string_view from, std::string_view to);
  size_t size() const { return watches_; }
  void Clear() { *this = WatchTable{}; }

 private:
  static constexpr uint32_t kNone = SlotIndex::kNone;
  static constexpr uint32_t kRoot = 0;
  static constexpr int kNoWatch = -1;
  struct Node {
    std::string name;
    int wd = kNoWatch;
    uint32_t parent = kNone;
    uint32_t first_child = kNone;
    uint32_t next = kNone;  // sibling; in a free slot, the next free slot
    uint32_t prev = kNone;  // sibling
  };

  Node& node(uint32_t slot) { return blocks_[slot / kBlock][slot % kBlock]; }
  const Node& node(uint32_t slot) const { return blocks_[slot / kBlock][slot % kBlock]; }
  // A slot never handed out before.
  uint32_t NewSlot();
  static uint32_t NameKey(uint32_t parent, std::string_view name);
  uint32_t WdSlot(int wd) const { return by_wd_.Find(static_cast<uint32_t>(wd)); }
  uint32_t Child(uint32_t parent, std::string_view name) const;
  // The node of `dir`, or kNone.
  uint32_t Find(std::string_view dir) const;
  // The node of `dir`, made (without a watch) where missing.
  uint32_t Make(std::string_view dir);
  uint32_t NewNode(uint32_t parent, std::string_view name);
  // Makes `slot`, named already, a child of `parent`; Unlink() undoes it.
  void Link(uint32_t slot, uint32_t parent);
  void Unlink(uint32_t slot);
  void Watch(uint32_t slot, int wd);
  void Unwatch(uint32_t slot);
  // Frees `top`, unlinked, with its subtree; returns their wds.
  std::vector<int> FreeSubtree(uint32_t top);
  // Lays `from`, unlinked, and its subtree over `onto`'s (Rename), and
  // frees the nodes of `from` that it did not move.
  void Merge(uint32_t from, uint32_t onto);
  // Frees `slot` and then its parents as long as they have neither a watch
  // nor children (the root stays).
  void Prune(uint32_t slot);

  // Nodes in blocks, so that growing copies nothing and reserves at most
  // one block ahead. Slot kRoot is the root, always there.
  static constexpr uint32_t kBlock = 4096;
  std::vector<std::unique_ptr<Node[]>> blocks_;
  uint32_t slots_ = 0;     // slots handed out, in use or free
  uint32_t free_ = kNone;  // a chain of free slots, through Node::next
  SlotIndex by_wd_;          // nodes with a watch, by wd
  SlotIndex by_name_;        // nodes but the root, by NameKey(parent, name)
  size_t watches_ = 0;
};

}  // namespace ferry
