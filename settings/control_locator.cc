#include "settings/control_locator.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

namespace ferry {

std::string ControlLocatorPath(const std::string& journal_dir) {
  return journal_dir + "/ferryd.control";
}

Status WriteControlLocator(const std::string& journal_dir, const std::string& socket) {
  const std::string path = ControlLocatorPath(journal_dir), tmp = path + ".tmp";
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(errno, "write", tmp);
  const std::string text = socket + "\n";
  const bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const int err = errno;
  close(fd);
  if (!written) {
    unlink(tmp.c_str());
    return ErrnoStatus(err, "write", tmp);
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    const int rename_err = errno;
    unlink(tmp.c_str());
    return ErrnoStatus(rename_err, "rename", tmp);
  }
  return Status::Ok();
}

std::optional<std::string> ReadControlLocator(const std::string& journal_dir) {
  std::ifstream in(ControlLocatorPath(journal_dir));
  std::string socket;
  if (!std::getline(in, socket) || socket.empty() || socket.front() != '/') return std::nullopt;
  return socket;
}

}  // namespace ferry
