// What the rsync on both ends of a target can do. Receivers from rsync 3.0.9
// (protocol 30) to 3.5 differ in three options ferry uses; the lane learns
// them once per connection to the target with a probe (rsync_probe.h) and
// the transfers (transfer.h) use a way that works where one is missing:
//
//   option                   missing or broken on         instead
//   --delete-missing-args    3.0.x (unknown option);      deletes and tree sends by filter
//                            3.2.7-1+deb12u6 and other    rules: --delete on the parents,
//                            security backports ("invalid  including only the listed names
//                            file mode 00")               (what lsyncd does)
//   --modify-window=-1       3.0.x, 3.1.0-3.1.2 (no       rsync's one-second quick check in
//                            nanosecond compare; sent as  tree sends and full syncs; content
//                            "-@-1", an unknown option)   sends use --ignore-times anyway
//   --ignore-missing-args    a local rsync before 3.1.0   a listed path that vanished fails
//                            (the sender's option)        as "link_stat ... No such file",
//                                                         which exit_class.h treats as vanished
#pragma once

#include <string>

namespace ferry {

struct RsyncFeatures {
  bool delete_missing_args = true;
  bool nanosecond_mtimes = true;
  bool ignore_missing_args = true;
  // What the probe learned, for logs and status: "rsync 3.5.0 (protocol 32)
  // to protocol 30". Empty until probed.
  std::string receiver;

  friend bool operator==(const RsyncFeatures&, const RsyncFeatures&) = default;
};

}  // namespace ferry
