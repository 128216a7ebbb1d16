// SpawnChild: starts a transfer's process (rsync, ssh, an exec: command).
//
// Like posix_spawnp (argv[0] looked up in PATH, never a shell; stdin,
// stdout and stderr from the given fds; its own process group; default
// signal dispositions, nothing blocked), plus one thing posix_spawn cannot
// do: the child gets SIGKILL when the thread that started it dies
// (PR_SET_PDEATHSIG). A ferryd killed with kill -9 therefore leaves no
// rsync behind that could finish an old batch after the next ferryd
// delivered newer content of the same file.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/status.h"

namespace ferry {

// The fds are dup2'ed to 0, 1, 2 in the child; the caller keeps (and
// closes) its copies. An error names the program (ENOENT: not installed).
Result<pid_t> SpawnChild(const std::vector<std::string>& argv, int in, int out, int err);

}  // namespace ferry
