#include "watch/tree_walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "watch/file_stat.h"

namespace ferry {

struct TreeWalker::Level {
  std::string dir;
  std::vector<WalkEntry> children;  // sorted by name bytes
  size_t next = 0;
};

TreeWalker::TreeWalker(Options options) : options_(std::move(options)) {}
TreeWalker::~TreeWalker() = default;

void TreeWalker::Enter(const std::string& dir) {
  if (options_.before_listing) options_.before_listing(dir);
  ++directories_;
  std::string abs = JoinPath(options_.root, dir);
  if (dir.empty()) abs = options_.root;
  int fd = open(abs.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      if (options_.on_vanished) options_.on_vanished(dir);
    } else if (options_.on_error) {
      options_.on_error(dir, ErrnoStatus(errno, "open directory", abs));
    }
    return;
  }
  DIR* d = fdopendir(fd);
  if (d == nullptr) {
    close(fd);
    return;
  }
  Level level{dir, {}, 0};
  const int64_t seen = options_.clock->WallNanos();  // before any stat: racy checks stay safe
  errno = 0;
  while (dirent* e = readdir(d)) {
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    auto state = StatAt(fd, e->d_name, seen);
    if (!state) continue;  // vanished meanwhile: its delete event follows
    WalkEntry entry{JoinPath(dir, name), *state};
    if (options_.filter && options_.filter->Match(entry.path, IsDir(entry.state))) continue;
    level.children.push_back(std::move(entry));
  }
  if (errno != 0 && options_.on_error) options_.on_error(dir, ErrnoStatus(errno, "readdir", abs));
  closedir(d);
  std::sort(level.children.begin(), level.children.end(),
            [](const WalkEntry& a, const WalkEntry& b) { return a.path < b.path; });
  stack_.push_back(std::move(level));
}

std::optional<WalkEntry> TreeWalker::Next() {
  if (!started_) {
    started_ = true;
    Enter(options_.start);
  }
  if (!descend_.empty()) {
    std::string dir = std::move(descend_);
    descend_.clear();
    Enter(dir);
  }
  while (!stack_.empty()) {
    Level& top = stack_.back();
    if (top.next == top.children.size()) {
      stack_.pop_back();
      continue;
    }
    WalkEntry entry = std::move(top.children[top.next++]);
    if (IsDir(entry.state)) descend_ = entry.path;
    ++entries_;
    return entry;
  }
  return std::nullopt;
}

}  // namespace ferry
