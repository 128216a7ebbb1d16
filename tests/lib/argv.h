// Whether a transfer's argv holds an argument, for tests of the rsync
// command lines ferry builds.
#pragma once

#include <algorithm>
#include <string_view>

#include "replay/transfer.h"

namespace ferry::testing {

inline bool HasArg(const Transfer& t, std::string_view arg) {
  return std::find(t.argv.begin(), t.argv.end(), arg) != t.argv.end();
}

}  // namespace ferry::testing
