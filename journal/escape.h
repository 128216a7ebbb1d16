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

// Strict UTF-8 (no overlongs, surrogates or code points above U+10FFFF).
bool IsValidUtf8(std::string_view bytes);
// Standard base64 with '=' padding (RFC 4648): how JSON output carries path
// bytes that are not UTF-8 (the "path_b64" fields).
std::string Base64Encode(std::string_view bytes);

}  // namespace ferry
