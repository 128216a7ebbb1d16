// Shows raw path bytes to humans, visibly and unambiguously.
#pragma once

#include <string>
#include <string_view>

namespace ferry {

// Printable ASCII and valid UTF-8 sequences (except the C1 controls) pass
// through; backslash becomes "\\"; \n, \t, \r become "\n", "\t", "\r"; every
// other byte (controls, DEL, invalid UTF-8) becomes "\xHH". The mapping is
// injective, so two different paths never print the same.
std::string EscapePath(std::string_view bytes);

}  // namespace ferry
