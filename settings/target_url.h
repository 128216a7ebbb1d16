// Targets: where a destination's tree is replicated to, parsed from the
// `url` of a [target.NAME] section.
//
//   /srv/mirror/www                          a local directory
//   rsync://[user@]host[:port]/module[/path] an rsync daemon module
//   [user@]host::module[/path]               the same, rsync's short form
//   [user@]host:/path                        over ssh
//   exec:/path/to/program [args...]          a command that takes each batch on
//                                            stdin (words split on spaces)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ferry {

struct TargetUrl {
  enum class Kind { kLocal, kRsyncDaemon, kSsh, kCommand };
  Kind kind = Kind::kLocal;
  std::string url;     // as written
  std::string user;    // daemon, ssh; may be empty
  std::string host;    // daemon, ssh
  int port = 0;        // daemon: 0 = rsync's default (873)
  std::string module;  // daemon
  std::string path;    // local: absolute dir; daemon: inside the module; ssh: remote dir
  std::vector<std::string> command;  // exec: argv

  // The rsync destination argument, always ending in '/':
  // "/srv/m/", "rsync://u@h:874/mod/sub/", "u@h:/srv/m/".
  std::string RsyncDestination() const;
};

std::string_view TargetKindName(TargetUrl::Kind kind);  // "local", "rsync", "ssh", "exec"

// InvalidArgument naming what is wrong with `url` and showing the forms above.
Result<TargetUrl> ParseTargetUrl(std::string_view url);

}  // namespace ferry
