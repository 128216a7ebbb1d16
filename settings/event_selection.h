// Which changes a destination journals: sersync's switches, ferry's names.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ferry {

enum EventSelection : uint32_t {
  kSelectCreate = 1 << 0,      // new directories, symlinks, hard links, special files;
                               // new regular files only where close_write is off
  kSelectCloseWrite = 1 << 1,  // a file closed after writing: complete content
  kSelectModify = 1 << 2,      // every write(2): ships half-written files; rarely wanted
  kSelectAttrib = 1 << 3,      // mode, owner, times
  kSelectDelete = 1 << 4,
  kSelectMove = 1 << 5,  // renames inside the tree (moves in and out count as
                         // create and delete)
};

inline constexpr uint32_t kDefaultEvents =
    kSelectCreate | kSelectCloseWrite | kSelectAttrib | kSelectDelete | kSelectMove;

// Parses "create,close_write,delete,move,attrib"; InvalidArgument naming the
// unknown word and the allowed ones.
Result<uint32_t> ParseEventSelection(std::string_view list);
std::string EventSelectionString(uint32_t selection);

}  // namespace ferry
