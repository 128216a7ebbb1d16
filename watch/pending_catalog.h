// PendingCatalog: what the watcher's batch, not yet committed, does to the
// catalog rows of a path. The journal applies a batch's catalog changes in
// order, so after the batch a path has a row if the batch put it after the
// last removal (a delete, or a move away) of it or of any parent; it has
// none if such a removal came last; and the batch says nothing when it did
// neither: the committed catalog knows. The watcher asks before it takes a
// rename as a move of rows that exist (watcher.cc, HandleMovedTo).
//
// Not thread-safe. O(depth) per query.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

namespace ferry {

class PendingCatalog {
 public:
  void Put(const std::string& path) { put_[path] = ++ops_; }
  // `path` and everything below it.
  void Remove(const std::string& path) { removed_[path] = ++ops_; }
  // Whether `path` has a row after the batch; nullopt: as committed.
  std::optional<bool> Has(const std::string& path) const;
  void Clear();

 private:
  uint64_t ops_ = 0;
  std::unordered_map<std::string, uint64_t> put_;
  std::unordered_map<std::string, uint64_t> removed_;
};

}  // namespace ferry
