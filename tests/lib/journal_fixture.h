// Helpers shared by the journal's unit tests.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "journal/journal.h"

namespace ferry {

// Lets gtest print a SyncMode parameter as "group" (found by ADL).
inline void PrintTo(SyncMode mode, std::ostream* os) { *os << SyncModeName(mode); }

}  // namespace ferry

namespace ferry::testing {

inline std::unique_ptr<Journal> OpenJournalOrDie(const std::string& dir,
                                                 Clock* clock = SystemClock::Default(),
                                                 SyncMode sync = SyncMode::kGroup) {
  auto j = Journal::Open({.dir = dir, .sync = sync, .clock = clock});
  EXPECT_TRUE(j) << j.error().ToString();
  return j ? std::move(*j) : nullptr;
}

// `n` create events of destination `dest`, paths prefix0..prefix{n-1}.
inline std::vector<Event> FileEvents(uint32_t dest, int n, const std::string& prefix = "f") {
  std::vector<Event> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(Event{.destination = dest, .path = prefix + std::to_string(i)});
  }
  return out;
}

inline std::vector<Event> ReadAllEvents(Journal& j, ReadOptions ro = {}) {
  std::vector<Event> out;
  auto r = j.NewReader(std::move(ro));
  for (; r->Valid(); r->Next()) out.push_back(r->event());
  EXPECT_TRUE(r->status().ok()) << r->status().ToString();
  return out;
}

}  // namespace ferry::testing
