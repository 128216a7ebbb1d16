#include "watch/fanotify_probe.h"

#include <fcntl.h>
#include <sys/fanotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ferry {

Status FanotifyUsable(const std::string& source) {
  const int fd = fanotify_init(kFanotifyGroupFlags, O_RDONLY | O_CLOEXEC);
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
  const int marked = fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, kFanotifyMarkMask,
                                   AT_FDCWD, source.c_str());
  const int err = errno;
  close(fd);  // the mark goes with the group
  if (marked == 0) return Status::Ok();
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

}  // namespace ferry
