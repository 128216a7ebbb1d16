#include "base/failpoint.h"

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

namespace ferry {
namespace {

struct Armed {
  std::mutex mu;
  std::map<std::string, long, std::less<>> hits;
};

// Null when FERRY_FAILPOINTS is unset or empty.
Armed* Load() {
  static Armed* armed = [] () -> Armed* {
    const char* spec = std::getenv("FERRY_FAILPOINTS");
    if (spec == nullptr || *spec == '\0') return nullptr;
    auto* a = new Armed;  // for the process's life
    std::string_view rest = spec;
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
      const size_t eq = item.find('=');
      const long n = eq == std::string_view::npos ? 1 : std::atol(std::string(item.substr(eq + 1)).c_str());
      if (!item.empty()) a->hits[std::string(item.substr(0, eq))] = n;
    }
    return a;
  }();
  return armed;
}

}  // namespace

bool FailpointHit(std::string_view name) {
  Armed* armed = Load();
  if (armed == nullptr) return false;
  std::lock_guard lock(armed->mu);
  auto it = armed->hits.find(name);
  if (it == armed->hits.end() || it->second <= 0) return false;
  --it->second;
  return true;
}

}  // namespace ferry
