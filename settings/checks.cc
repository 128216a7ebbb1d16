#include "settings/checks.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>

namespace ferry {

Status CheckPasswordFile(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return ErrnoStatus(errno, "password file", path);
  if (!S_ISREG(st.st_mode))
    return Status::InvalidArgument("password file " + path + " is not a file");
  if ((st.st_mode & 07) != 0) {
    return Status::InvalidArgument(
        "password file " + path + " is accessible by others, so rsync refuses it; run: chmod 600 " +
        path);
  }
  return Status::Ok();
}

Status CheckSource(const std::string& source, uint64_t device) {
  struct stat st;
  if (stat(source.c_str(), &st) != 0) return ErrnoStatus(errno, "source", source);
  if (!S_ISDIR(st.st_mode)) return Status::Retry("source " + source + " is no directory");
  if (device != 0 && st.st_dev != device) {
    return Status::Retry(
        "source " + source + " is on device " + std::to_string(major(st.st_dev)) + ":" +
        std::to_string(minor(st.st_dev)) + ", not " + std::to_string(major(device)) + ":" +
        std::to_string(minor(device)) +
        " as when ferryd started: unmounted? Nothing is sent from it (a send would delete the "
        "target's copies) until it is back; restart ferryd if the change is meant");
  }
  return Status::Ok();
}

Status CheckConfig(const Config& config) {
  for (const DestinationConfig& d : config.destinations) {
    struct stat st;
    if (stat(d.source.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return ConfigError(config, "destination." + d.name, "source",
                         d.source + " is not a directory");
    }
  }
  for (const TargetConfig& t : config.targets) {
    if (t.password_file.empty()) continue;
    Status s = CheckPasswordFile(t.password_file);
    if (!s.ok()) return ConfigError(config, "target." + t.name, "password_file", s.message());
  }
  return Status::Ok();
}

}  // namespace ferry
