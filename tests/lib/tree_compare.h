// Compares two trees byte for byte: names, types, file content, symlink
// targets and permission bits. Returns "" when identical, else the first
// difference in words (for a test failure message).
#pragma once

#include <string>

namespace ferry::testing {

std::string DiffTrees(const std::string& a, const std::string& b);

}  // namespace ferry::testing
