// ChangeRecord: one change below the source, its path already resolved, as
// the fanotify backend hands it to the Watcher (the inotify backend's
// records name a watch descriptor instead, which the Watcher resolves
// itself). The mask uses inotify's bits, with inotify's meaning, so that both
// backends share every rule of the Watcher:
//  - IN_CREATE, IN_CLOSE_WRITE, IN_MODIFY, IN_ATTRIB, IN_DELETE for `path`;
//  - IN_MOVED_FROM and IN_MOVED_TO with one cookie for the two ends of a
//    rename; an IN_MOVED_TO whose cookie has no IN_MOVED_FROM was moved in;
//  - IN_ISDIR when `path` is a directory;
//  - IN_DELETE_SELF with `path` "" when the source itself went away;
//  - IN_Q_OVERFLOW: changes were lost, the tree is rescanned.
#pragma once

#include <cstdint>
#include <string>

namespace ferry {

struct ChangeRecord {
  uint32_t mask = 0;
  uint32_t cookie = 0;
  std::string path;  // relative to the source; "" is the source itself
  friend bool operator==(const ChangeRecord&, const ChangeRecord&) = default;
};

}  // namespace ferry
