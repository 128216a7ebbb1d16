// Tests that run once per watcher backend: INSTANTIATE_BACKENDS(Suite)
// instantiates a TEST_P suite whose parameter is the WatcherBackend, named
// /inotify and /fanotify.
#pragma once

#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "settings/watcher_backend.h"

namespace ferry {

inline void PrintTo(WatcherBackend backend, std::ostream* os) { *os << WatcherBackendName(backend); }

namespace testing {

inline std::string BackendName(const ::testing::TestParamInfo<WatcherBackend>& info) {
  return std::string(WatcherBackendName(info.param));
}

}  // namespace testing
}  // namespace ferry

#define INSTANTIATE_BACKENDS(Suite)                                               \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite,                                       \
                           ::testing::Values(::ferry::WatcherBackend::kInotify,   \
                                             ::ferry::WatcherBackend::kFanotify), \
                           ::ferry::testing::BackendName)
