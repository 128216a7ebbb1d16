// SpawnChild: starts a transfer's process (rsync, ssh, an exec: command).
//
// Like posix_spawnp (argv[0] looked up in PATH, never a shell; stdin,
// stdout and stderr from the given fds; its own process group; default
// signal dispositions, nothing blocked), plus one thing posix_spawn cannot
// do: the child gets SIGTERM when the thread that started it dies
// (PR_SET_PDEATHSIG). A ferryd killed with kill -9 therefore leaves no
// rsync behind that could finish an old batch after the next ferryd
// delivered newer content of the same file. SIGTERM, not SIGKILL: rsync
// then removes its temporary file and stops the receiver it forked.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/status.h"

namespace ferry {

// The fds are dup2'ed to 0, 1, 2 in the child; the caller keeps (and
// closes) its copies. An error names the program (ENOENT: not installed).
Result<pid_t> SpawnChild(const std::vector<std::string>& argv, int in, int out, int err);

// Leftovers of a crash. PR_SET_PDEATHSIG reaches the direct child only, not
// what it forked (rsync's local receiver, the ssh under rsync), and such a
// process can still finish writing an old version of a file after the next
// ferryd delivered a newer one. So, when a record directory is set, each
// child's process group is recorded there as a file (named by the group id,
// holding the boot id and the program), removed once the child is reaped;
// at start ferryd kills what a crashed predecessor left.
void SetChildRecordDir(std::string dir);  // before the first spawn; "" = off
void ForgetChild(pid_t pid);              // the child was reaped
// Kills the processes of each recorded group that run a transfer program
// (the recorded one, rsync or ssh) in this boot, waits up to 2 s for them to
// go, removes the rsync temporary files they were writing, and removes the
// records.
struct Leftovers {
  int transfers = 0;           // records found: transfers that were cut by a crash
  int killed = 0;              // processes killed
  int temp_files_removed = 0;  // rsync's .name.XXXXXX files they left
};
Leftovers KillLeftoverChildren(const std::string& dir);

// A local target after a crash: removes the rsync temporary files
// (".NAME.XXXXXX") next to each of `paths` (relative to `root`), which a
// receiver left when it died on its own before ferryd restarted (rsync's
// cleanup has a window between creating the file and noting it). A name the
// source has too is a user's file, and kept. Each directory is listed once.
// Returns how many it removed.
int RemoveRsyncTempFiles(const std::string& root, const std::string& source,
                         const std::vector<std::string>& paths);

}  // namespace ferry
