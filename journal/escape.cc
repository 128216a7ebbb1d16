#include "journal/escape.h"

namespace ferry {
namespace {

// Length of the valid UTF-8 sequence starting at s[i] (2-4), or 0.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b = byte(i);
  size_t len = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 ? 2 : 0;
  if (len == 0 || b > 0xf4 || i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
  }
  unsigned char b1 = byte(i + 1);
  if (b == 0xe0 && b1 < 0xa0) return 0;   // overlong
  if (b == 0xed && b1 >= 0xa0) return 0;  // surrogates
  if (b == 0xf0 && b1 < 0x90) return 0;   // overlong
  if (b == 0xf4 && b1 >= 0x90) return 0;  // beyond U+10FFFF
  if (b == 0xc2 && b1 < 0xa0) return 0;   // C1 controls: show them escaped
  return len;
}

}  // namespace

std::string EscapePath(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else if (size_t len = c >= 0x80 ? Utf8SequenceLength(bytes, i) : 0; len > 0) {
      out.append(bytes.substr(i, len));
      i += len;
      continue;
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
    ++i;
  }
  return out;
}

bool IsValidUtf8(std::string_view s) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  for (size_t i = 0; i < s.size();) {
    unsigned char b = byte(i);
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t len = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 ? 2 : 0;
    if (len == 0 || b > 0xf4 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((byte(i + k) & 0xc0) != 0x80) return false;
    }
    unsigned char b1 = byte(i + 1);
    if (b == 0xe0 && b1 < 0xa0) return false;   // overlong
    if (b == 0xed && b1 >= 0xa0) return false;  // surrogates
    if (b == 0xf0 && b1 < 0x90) return false;   // overlong
    if (b == 0xf4 && b1 >= 0x90) return false;  // beyond U+10FFFF
    i += len;
  }
  return true;
}

std::string Base64Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  auto at = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    for (int shift = 18; shift >= 0; shift -= 6) out += kAlphabet[(v >> shift) & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = at(i) << 16 | (rest == 2 ? at(i + 1) << 8 : 0);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace ferry
