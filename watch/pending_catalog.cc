#include "watch/pending_catalog.h"

#include <algorithm>

namespace ferry {

std::optional<bool> PendingCatalog::Has(const std::string& path) const {
  auto at = [](const auto& map, const std::string& key) -> uint64_t {
    auto it = map.find(key);
    return it == map.end() ? 0 : it->second;
  };
  uint64_t removed = at(removed_, path);
  if (!removed_.empty()) {
    for (size_t slash = path.find('/'); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      removed = std::max(removed, at(removed_, path.substr(0, slash)));
    }
  }
  const uint64_t put = at(put_, path);
  if (put > removed) return true;
  if (removed > 0) return false;
  return std::nullopt;
}

void PendingCatalog::Clear() {
  ops_ = 0;
  put_.clear();
  removed_.clear();
}

}  // namespace ferry
