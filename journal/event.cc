#include "journal/event.h"

#include <array>
#include <utility>

namespace ferry {
namespace {

constexpr std::array<std::pair<EventKind, std::string_view>, 7> kNames{{
    {EventKind::kCreate, "create"},
    {EventKind::kModify, "modify"},
    {EventKind::kAttrib, "attrib"},
    {EventKind::kDelete, "delete"},
    {EventKind::kMove, "move"},
    {EventKind::kRescan, "rescan"},
    {EventKind::kFullSync, "full_sync"},
}};

}  // namespace

std::string_view KindName(EventKind kind) {
  for (const auto& [k, name] : kNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

std::optional<EventKind> ParseKind(std::string_view name) {
  for (const auto& [k, n] : kNames) {
    if (n == name) return k;
  }
  return std::nullopt;
}

}  // namespace ferry
