// Quick mode: ferryd's command line instead of a ferry.conf, like lsyncd's
// `-rsync SRC TARGET`: one destination "default", one target per --target
// URL (target1, target2, ...), the journal and its control socket in the
// journal directory (no /run/ferry needed).
//
// An rsync daemon URL with a user needs a password: --password-file FILE
// (checked as the config's password_file), or else rsync's own
// RSYNC_PASSWORD in ferryd's environment, which rsync inherits; ferry never
// prints or logs it.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "settings/config.h"

namespace ferry {

struct QuickMode {
  std::string source;
  std::vector<std::string> targets;
  std::string journal;
  std::string password_file;            // --password-file; empty: none
  std::string watcher;                  // --watcher auto|inotify|fanotify; empty: auto
  bool rsync_password_in_env = false;   // RSYNC_PASSWORD is set (its value is not needed)
};

// Pure apart from making relative paths absolute (against the working
// directory); the file-system checks are CheckConfig's.
Result<Config> QuickConfig(const QuickMode& quick);

}  // namespace ferry
