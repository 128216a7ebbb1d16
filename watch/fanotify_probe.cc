#include "watch/fanotify_probe.h"

#include <fcntl.h>
#include <sys/fanotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "watch/fanotify_paths.h"

namespace ferry {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      const std::string oct = field.substr(i + 1, 3);
      if (oct.find_first_not_of("01234567") == std::string::npos) {
        out += static_cast<char>(std::stoi(oct, nullptr, 8));
        i += 3;
        continue;
      }
    }
    out += field[i];
  }
  return out;
}

}  // namespace

Result<int> OpenFanotifyGroup(const std::string& source, bool modify) {
  const int fd = fanotify_init(kFanotifyGroupFlags, O_RDONLY | O_CLOEXEC | O_LARGEFILE);
  if (fd < 0) {
    switch (errno) {
      case EPERM:
        return Status::InvalidArgument("fanotify needs CAP_SYS_ADMIN: run ferryd as root");
      case EINVAL:
        return Status::InvalidArgument(
            "this kernel cannot report names with fanotify (FAN_REPORT_DFID_NAME needs Linux 5.9)");
      case ENOSYS:
        return Status::InvalidArgument("this kernel was built without fanotify");
      default:
        return ErrnoStatus(errno, "fanotify_init");
    }
  }
  const uint64_t mask = kFanotifyMarkMask | (modify ? FAN_MODIFY : 0);
  if (fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, mask, AT_FDCWD, source.c_str()) == 0) {
    return fd;
  }
  const int err = errno;
  close(fd);
  switch (err) {
    case EINVAL:
      return Status::InvalidArgument(
          "this kernel cannot report a rename in one event (FAN_RENAME needs Linux 5.17)");
    case ENODEV:
    case EOPNOTSUPP:
      return Status::InvalidArgument("the filesystem of " + source +
                                     " gives no file handles to fanotify");
    case EXDEV:
      return Status::InvalidArgument("the filesystem of " + source +
                                     " cannot be marked whole (a subvolume, or no fsid)");
    case ENOENT:
    case ENOTDIR:
      return Status::NotFound("source " + source + " is not a directory");
    default:
      return ErrnoStatus(err, "fanotify_mark", source);
  }
}

std::vector<std::string> MountsBelow(const std::string& source) {
  std::error_code ec;
  std::string root = std::filesystem::canonical(source, ec).string();
  if (ec) root = source;
  if (root != "/") root += "/";
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // id parent major:minor root mount-point ...
    std::istringstream fields(line);
    std::string id, parent, dev, fs_root, point;
    if (!(fields >> id >> parent >> dev >> fs_root >> point)) continue;
    point = Unescape(point);
    if (point.size() > root.size() && point.compare(0, root.size(), root) == 0) {
      out.push_back(point);
    }
  }
  return out;
}

Status FanotifyUsable(const std::string& source) {
  auto fd = OpenFanotifyGroup(source);
  if (!fd) return fd.error();
  close(*fd);  // the mark goes with the group
  // Events name directories by handle: ferryd must be able to open one
  // (open_by_handle_at needs CAP_DAC_READ_SEARCH, which a hardened unit may
  // drop while keeping CAP_SYS_ADMIN).
  const std::optional<std::string> key = DirectoryKey(source);
  auto paths = DirectoryPaths::Open(source, 1);
  bool unsure = false;
  if (!key || !paths || paths->AskKernel(*key, &unsure) != std::string()) {
    return Status::InvalidArgument(
        "ferryd cannot open the file handles fanotify reports for " + source +
        (unsure ? " (open_by_handle_at needs CAP_DAC_READ_SEARCH)" : ""));
  }
  const std::vector<std::string> below = MountsBelow(source);
  if (!below.empty()) {
    return Status::InvalidArgument(
        std::to_string(below.size()) + " other filesystem(s) are mounted below " + source +
        " (" + below.front() + "), which a filesystem mark does not see: use watcher = inotify");
  }
  return Status::Ok();
}

}  // namespace ferry
