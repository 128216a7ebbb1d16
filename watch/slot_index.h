// SlotIndex: a hash index from 32-bit keys to 32-bit slots of the caller's
// array, for tables too big for a node per entry (the watch table).
//
// Open addressing with linear probing and backward-shift deletion: 8 bytes a
// cell, at most 7/8 of the cells used (so 9 to 18 bytes an entry). Keys may
// repeat (hash keys collide): Find() takes a predicate that tells the wanted
// slot from the others under the same key. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ferry {

class SlotIndex {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  // The first slot under `key` for which `match(slot)` holds, or kNone.
  template <typename Match>
  uint32_t Find(uint32_t key, Match match) const {
    if (cells_.empty()) return kNone;
    for (size_t i = Home(key);; i = (i + 1) & Mask()) {
      const Cell& c = cells_[i];
      if (c.slot == kNone) return kNone;
      if (c.key == key && match(c.slot)) return c.slot;
    }
  }
  uint32_t Find(uint32_t key) const {
    return Find(key, [](uint32_t) { return true; });
  }
  // Adds `slot` under `key`; `slot` must not be kNone.
  void Insert(uint32_t key, uint32_t slot);
  // Removes `slot` from under `key`, if it is there.
  void Erase(uint32_t key, uint32_t slot);
  void Clear() { *this = SlotIndex{}; }
  size_t size() const { return size_; }

 private:
  struct Cell {
    uint32_t key = 0;
    uint32_t slot = kNone;  // kNone: empty
  };

  size_t Mask() const { return cells_.size() - 1; }
  // Fibonacci hashing: the top bits of key × 2^64/φ.
  size_t Home(uint32_t key) const { return (key * 0x9E3779B97F4A7C15ull) >> shift_; }
  void Grow();

  std::vector<Cell> cells_;  // a power of two of them, or none
  int shift_ = 64;           // 64 - log2(cells_.size())
  size_t size_ = 0;
};

}  // namespace ferry
