// Reading a path's metadata the way the catalog records it.
#pragma once

#include <sys/stat.h>

#include <string>
#include <string_view>

#include "base/status.h"
#include "journal/catalog.h"

namespace ferry {

// lstat(2) of `path` (never follows a final symlink) as a FileState stamped
// with `seen_ns`. NotFound if the path is gone.
Result<FileState> StatPath(const std::string& path, int64_t seen_ns);
// The same for `name` inside the open directory `dir_fd`.
Result<FileState> StatAt(int dir_fd, const char* name, int64_t seen_ns);
FileState ToFileState(const struct stat& st, int64_t seen_ns);

inline bool IsDir(const FileState& s) { return S_ISDIR(s.mode); }

// "a/b" from "a" and "b"; "b" from "" and "b".
std::string JoinPath(std::string_view dir, std::string_view name);
// Whether relative `path` is `top` or below it (everything is below "").
bool PathWithin(std::string_view path, std::string_view top);

}  // namespace ferry
