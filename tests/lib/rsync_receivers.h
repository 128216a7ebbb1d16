// The rsync receivers of the compatibility tests: tools/rsync-receivers.sh
// puts them in FERRY_RSYNC_RECEIVERS as rsync-VERSION (the ctest fixture
// rsync_receivers does); "3.5.0" is this machine's /usr/bin/rsync.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <string>

namespace ferry::testing {

struct Receiver {
  const char* version;  // the file rsync-VERSION in FERRY_RSYNC_RECEIVERS
  int protocol;         // what it speaks to a 3.5 client
  bool delete_missing_args;
  bool nanosecond_mtimes;
};

inline constexpr Receiver kReceivers[] = {
    {"3.0.9", 30, false, false},        {"3.1.3", 31, true, true}, {"3.2.3", 31, true, true},
    {"3.2.7-deb12u6", 32, false, true}, {"3.4.1", 32, true, true}, {"3.5.0", 32, true, true},
};

// The receiver's binary, or "" with `why` set when it is not there.
inline std::string ReceiverBinary(const Receiver& r, std::string* why) {
  if (std::string(r.version) == "3.5.0") return "/usr/bin/rsync";
  const char* dir = std::getenv("FERRY_RSYNC_RECEIVERS");
  const std::string path = std::string(dir ? dir : "") + "/rsync-" + r.version;
  if (!dir || access(path.c_str(), X_OK) != 0) {
    *why = "no " + path + ": run tools/rsync-receivers.sh DIR with FERRY_RSYNC_RECEIVERS=DIR";
    return "";
  }
  return path;
}

// A test name's part for the receiver: "3_2_7_deb12u6".
inline std::string ReceiverName(const Receiver& r) {
  std::string v = r.version;
  for (char& c : v) c = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ? c : '_';
  return v;
}

}  // namespace ferry::testing
