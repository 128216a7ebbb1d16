#include "watch/file_stat.h"

#include <fcntl.h>

#include <cerrno>

namespace ferry {

FileState ToFileState(const struct stat& st, int64_t seen_ns) {
  auto ns = [](const timespec& t) { return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec; };
  return FileState{.inode = st.st_ino,
                   .size = static_cast<uint64_t>(st.st_size),
                   .mtime_ns = ns(st.st_mtim),
                   .ctime_ns = ns(st.st_ctim),
                   .mode = st.st_mode,
                   .seen_ns = seen_ns};
}

Result<FileState> StatPath(const std::string& path, int64_t seen_ns) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return ErrnoStatus(errno, "lstat", path);
  return ToFileState(st, seen_ns);
}

Result<FileState> StatAt(int dir_fd, const char* name, int64_t seen_ns) {
  struct stat st;
  if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return ErrnoStatus(errno, "lstat", name);
  return ToFileState(st, seen_ns);
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (!out.empty()) out += '/';
  out += name;
  return out;
}

bool PathWithin(std::string_view path, std::string_view top) {
  return path == top || top.empty() ||
         (path.size() > top.size() && path.starts_with(top) && path[top.size()] == '/');
}

}  // namespace ferry
