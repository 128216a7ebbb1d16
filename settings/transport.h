// How a target is reached: its settings after parsing (TargetSettings),
// the options every rsync run to it starts with, and the rsync options ferry
// sets itself, which an operator's rsync_args may not hold (the config
// refuses them, the sersync import drops them).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "settings/config.h"
#include "settings/rsync_features.h"
#include "settings/target_url.h"

namespace ferry {

// How one target is reached; filled from its [target.NAME] section.
struct TargetSettings {
  std::string name;
  std::string source;  // the destination's absolute source directory
  TargetUrl url;
  std::string rsync = "rsync";                   // the program (tests may point elsewhere)
  std::vector<std::string> rsync_args = {"-a"};  // base options, validated by the config
  std::string password_file;                     // rsync daemon targets
  std::vector<std::string> ssh_options;          // extra ssh words: -p 2222 -i /root/.ssh/key
  int64_t timeout_s = 100;                       // rsync --timeout: no I/O for this long fails
  int64_t contimeout_s = 30;                     // rsync --contimeout / ssh ConnectTimeout
  std::vector<std::string> excludes;             // rsync-style patterns, applied to full syncs
  // The destination's own exclude patterns (without the temp-file families,
  // which the watcher applies to files only, while rsync would also skip a
  // directory named "data~"): applied to the runs that send a directory
  // whole (tree sends, copy-moves).
  std::vector<std::string> tree_excludes;
  // What the rsync on both ends can do; the lane probes it (rsync_probe.h)
  // before its first batch. The default is a current rsync on both ends.
  RsyncFeatures features;
};

// What `target` of `destination` (both parsed from one Config) needs to
// reach its receiver: what ferryd's lanes and ferryctl verify both run with.
TargetSettings ResolveTarget(const TargetConfig& target, const DestinationConfig& destination);

// The options every rsync run to the target starts with: the program, the
// quick-check window, rsync_args, --force --stats, timeouts, the transport's
// (--contimeout and --password-file for a daemon, -e ssh ... for ssh).
std::vector<std::string> RsyncBaseArgv(const TargetSettings& target);

// An rsync option ferry sets itself (replay/transfer.cc, RsyncBaseArgv):
// recursion, deletes, file lists, timeouts, the transport. Given by an
// operator it would change what a batch does (-n: nothing sent while the
// cursors advance; --delete on a file list: gone) or fight ferry's own.
struct ReservedRsyncOption {
  std::string_view long_name;  // "--delete"
  char short_name = 0;         // 'r' for -r; 0 when it has none
  bool takes_value = false;    // "--timeout 5" may take it from the next word
};
// The reserved option `word` names: "--timeout=5", "--timeout" or "-r" (one
// short option; bundles such as -avr are the caller's to split). nullptr if none.
const ReservedRsyncOption* FindReservedRsyncOption(std::string_view word);

}  // namespace ferry
