// The event model: one change to one path of one destination's tree.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ferry {

// What happened to `path`. The numeric values are stored on disk (format.h):
// never renumber, only append.
enum class EventKind : uint8_t {
  kCreate = 1,    // a new file, directory or symlink appeared (IN_CREATE, moved in)
  kModify = 2,    // content changed (IN_CLOSE_WRITE or IN_MODIFY)
  kAttrib = 3,    // metadata only: mode, owner, times (IN_ATTRIB)
  kDelete = 4,    // the path is gone (IN_DELETE, moved out of the tree)
  kMove = 5,      // renamed inside the tree: old_path -> path
  kRescan = 6,    // the subtree at path may differ from what was journaled
  kFullSync = 7,  // the whole destination must be synced from scratch
};

inline constexpr uint8_t kMinEventKind = 1;
inline constexpr uint8_t kMaxEventKind = 7;

// "create", "modify", ... as shown by ferryctl and accepted by --kind.
std::string_view KindName(EventKind kind);
// Inverse of KindName; nullopt for an unknown name.
std::optional<EventKind> ParseKind(std::string_view name);

// A journaled change. Paths are relative to the destination's source
// directory, raw bytes: any byte but NUL, not assumed to be UTF-8. The root of
// the tree is the empty path.
struct Event {
  uint64_t seq = 0;          // assigned by Journal::Append; 0 before that
  int64_t time_ns = 0;       // wall time the change was seen; 0 = "now" at Append
  uint32_t destination = 0;  // Journal::DestinationId of the destination's name
  EventKind kind = EventKind::kCreate;
  bool is_dir = false;
  std::string path;
  std::string old_path;  // kMove only: where the entry was before

  friend bool operator==(const Event&, const Event&) = default;
};

}  // namespace ferry
