#include "watch/slot_index.h"

#include <algorithm>
#include <bit>
#include <utility>

namespace ferry {

void SlotIndex::Insert(uint32_t key, uint32_t slot) {
  if ((size_ + 1) * 8 > cells_.size() * 7) Grow();
  size_t i = Home(key);
  while (cells_[i].slot != kNone) i = (i + 1) & Mask();
  cells_[i] = {key, slot};
  ++size_;
}

void SlotIndex::Erase(uint32_t key, uint32_t slot) {
  if (cells_.empty()) return;
  size_t i = Home(key);
  for (; cells_[i].key != key || cells_[i].slot != slot; i = (i + 1) & Mask()) {
    if (cells_[i].slot == kNone) return;
  }
  // Moves back each later cell of the run that may sit at the hole (its
  // home is not between the hole and it), so that no probe stops early.
  for (size_t j = (i + 1) & Mask(); cells_[j].slot != kNone; j = (j + 1) & Mask()) {
    if (((j - Home(cells_[j].key)) & Mask()) >= ((j - i) & Mask())) {
      cells_[i] = cells_[j];
      i = j;
    }
  }
  cells_[i].slot = kNone;
  --size_;
}

void SlotIndex::Grow() {
  const size_t cells = std::max<size_t>(16, cells_.size() * 2);
  std::vector<Cell> old = std::exchange(cells_, std::vector<Cell>(cells));
  shift_ = 64 - std::countr_zero(cells_.size());
  size_ = 0;
  for (const Cell& c : old) {
    if (c.slot != kNone) Insert(c.key, c.slot);
  }
}

}  // namespace ferry
