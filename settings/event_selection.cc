#include "settings/event_selection.h"

#include <array>
#include <utility>

namespace ferry {
namespace {

constexpr std::array<std::pair<std::string_view, uint32_t>, 6> kWords{{
    {"create", kSelectCreate},
    {"close_write", kSelectCloseWrite},
    {"modify", kSelectModify},
    {"attrib", kSelectAttrib},
    {"delete", kSelectDelete},
    {"move", kSelectMove},
}};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<uint32_t> ParseEventSelection(std::string_view list) {
  uint32_t out = 0;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view word = Trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (word.empty()) continue;
    bool known = false;
    for (const auto& [name, bit] : kWords) {
      if (name == word) {
        out |= bit;
        known = true;
      }
    }
    if (!known) {
      return Status::InvalidArgument("unknown event '" + std::string(word) +
                                     "'; allowed: " + EventSelectionString(~0u));
    }
  }
  if (out == 0) return Status::InvalidArgument("no event selected");
  return out;
}

std::string EventSelectionString(uint32_t selection) {
  std::string out;
  for (const auto& [name, bit] : kWords) {
    if ((selection & bit) == 0) continue;
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

}  // namespace ferry
