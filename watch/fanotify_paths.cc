#include "watch/fanotify_paths.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

#include "watch/fanotify_parse.h"

namespace ferry {
namespace {

constexpr size_t kFsid = kDirKeyFsidBytes;  // ahead of the file handle

}  // namespace

Result<DirectoryPaths> DirectoryPaths::Open(const std::string& root, size_t capacity) {
  // The kernel names paths from the process's root, symbolic links resolved.
  std::error_code ec;
  const std::string canonical = std::filesystem::canonical(root, ec).string();
  if (ec) return Status::NotFound("source " + root + ": " + ec.message());
  // Not O_PATH: open_by_handle_at(2) refuses such a descriptor (EBADF).
  const int fd = open(canonical.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open", canonical);
  return DirectoryPaths(canonical, fd, capacity == 0 ? 1 : capacity);
}

DirectoryPaths::DirectoryPaths(DirectoryPaths&& other) noexcept
    : root_(std::move(other.root_)),
      root_fd_(std::exchange(other.root_fd_, -1)),
      capacity_(other.capacity_),
      by_key_(std::move(other.by_key_)),
      by_path_(std::move(other.by_path_)),
      lru_(std::move(other.lru_)),
      misses_(other.misses_) {}

DirectoryPaths::~DirectoryPaths() {
  if (root_fd_ >= 0) close(root_fd_);
}

std::optional<std::string> DirectoryKey(const std::string& path) {
  struct statfs fs;
  if (statfs(path.c_str(), &fs) != 0) return std::nullopt;
  std::vector<uint64_t> storage((sizeof(file_handle) + MAX_HANDLE_SZ + 7) / 8);
  auto* fh = reinterpret_cast<file_handle*>(storage.data());
  fh->handle_bytes = MAX_HANDLE_SZ;
  int mount_id = 0;
  if (name_to_handle_at(AT_FDCWD, path.c_str(), fh, &mount_id, 0) != 0) return std::nullopt;
  static_assert(sizeof fs.f_fsid == kFsid);
  std::string key(reinterpret_cast<const char*>(&fs.f_fsid), kFsid);
  key.append(reinterpret_cast<const char*>(fh), sizeof(file_handle) + fh->handle_bytes);
  return key;
}

std::optional<std::string> DirectoryPaths::Resolve(const std::string& key) {
  if (auto cached = Lookup(key)) return cached;
  std::optional<std::string> path = AskKernel(key);
  if (path) Insert(key, *path);
  return path;
}

std::optional<std::string> DirectoryPaths::Lookup(const std::string& key) {
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return std::nullopt;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.path;
}

std::optional<std::string> DirectoryPaths::AskKernel(const std::string& key, bool* unsure) {
  ++misses_;
  if (unsure) *unsure = false;
  if (key.size() < kFsid + sizeof(file_handle)) return std::nullopt;
  // The key's file_handle, aligned as the kernel wants it.
  std::vector<uint64_t> storage((key.size() - kFsid + 7) / 8 + 1);
  std::memcpy(storage.data(), key.data() + kFsid, key.size() - kFsid);
  auto* handle = reinterpret_cast<file_handle*>(storage.data());
  if (sizeof(file_handle) + handle->handle_bytes != key.size() - kFsid) return std::nullopt;
  const int fd = open_by_handle_at(root_fd_, handle, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    // ESTALE: gone; ENOTDIR, EXDEV, EINVAL: not one of ours. Anything else
    // (no descriptor left, no memory) says nothing about the directory.
    const int err = errno;
    if (unsure) *unsure = err != ESTALE && err != ENOENT && err != ENOTDIR && err != EXDEV &&
                          err != EINVAL;
    return std::nullopt;
  }
  struct stat st;
  char link[4096];
  const std::string proc = "/proc/self/fd/" + std::to_string(fd);
  const bool statted = fstat(fd, &st) == 0;
  const ssize_t n = statted && st.st_nlink > 0 ? readlink(proc.c_str(), link, sizeof link) : -1;
  close(fd);
  if (statted && st.st_nlink == 0) return std::nullopt;  // removed while we looked
  if (n <= 0 || static_cast<size_t>(n) == sizeof link) {
    if (unsure) *unsure = true;
    return std::nullopt;
  }
  const std::string abs(link, static_cast<size_t>(n));
  if (abs == root_) return std::string();
  const std::string prefix = root_ == "/" ? root_ : root_ + "/";
  if (abs.size() <= prefix.size() || abs.compare(0, prefix.size(), prefix) != 0) {
    return std::nullopt;  // elsewhere on the filesystem
  }
  return abs.substr(prefix.size());
}

void DirectoryPaths::Insert(const std::string& key, std::string path) {
  if (auto old = by_path_.find(path); old != by_path_.end()) Erase(old);
  while (by_key_.size() >= capacity_) Erase(by_path_.find(by_key_[lru_.back()].path));
  lru_.push_front(key);
  by_path_[path] = key;
  by_key_[key] = {std::move(path), lru_.begin()};
}

void DirectoryPaths::Erase(std::map<std::string, std::string>::iterator by_path) {
  auto it = by_key_.find(by_path->second);
  lru_.erase(it->second.lru);
  by_key_.erase(it);
  by_path_.erase(by_path);
}

std::vector<std::map<std::string, std::string>::iterator> DirectoryPaths::Subtree(
    const std::string& dir) {
  std::vector<std::map<std::string, std::string>::iterator> out;
  if (dir.empty()) {
    for (auto it = by_path_.begin(); it != by_path_.end(); ++it) out.push_back(it);
    return out;
  }
  // "a" itself, then "a/..." (between them sort names such as "a b").
  if (auto it = by_path_.find(dir); it != by_path_.end()) out.push_back(it);
  const std::string below = dir + "/";
  for (auto it = by_path_.lower_bound(below);
       it != by_path_.end() && it->first.compare(0, below.size(), below) == 0; ++it) {
    out.push_back(it);
  }
  return out;
}

size_t DirectoryPaths::Renamed(const std::string& from, const std::string& to) {
  const size_t ahead = Removed(to);  // what the rename replaced (an empty directory), or ahead
  std::vector<std::pair<std::string, std::string>> moved;  // new path, key
  for (auto it : Subtree(from)) {
    moved.emplace_back(to + it->first.substr(from.size()), it->second);
    by_path_.erase(it);
  }
  for (auto& [path, key] : moved) {
    by_key_[key].path = path;
    by_path_[path] = key;
  }
  return ahead;
}

size_t DirectoryPaths::Removed(const std::string& dir) {
  const auto below = Subtree(dir);
  for (auto it : below) Erase(it);
  return below.size();
}

void DirectoryPaths::Clear() {
  by_key_.clear();
  by_path_.clear();
  lru_.clear();
}

}  // namespace ferry
