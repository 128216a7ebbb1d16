// ScopedTz: sets TZ for one test and restores it after; HaveZone tells
// whether the system has a zone's data (tzdata).
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

namespace ferry::testing {

class ScopedTz {
 public:
  explicit ScopedTz(const char* tz) {
    if (const char* old = std::getenv("TZ")) old_ = old;
    setenv("TZ", tz, 1);
    tzset();
  }
  ~ScopedTz() {
    if (old_) {
      setenv("TZ", old_->c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }

 private:
  std::optional<std::string> old_;
};

inline bool HaveZone(const char* name) {
  return access((std::string("/usr/share/zoneinfo/") + name).c_str(), R_OK) == 0;
}

}  // namespace ferry::testing
