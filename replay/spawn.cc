#include "replay/spawn.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

extern char** environ;

namespace ferry {

Result<pid_t> SpawnChild(const std::vector<std::string>& argv, int in, int out, int err) {
  if (argv.empty()) return ErrnoStatus(EINVAL, "spawn");
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = getpid();
  sigset_t none;
  sigemptyset(&none);
  // Written by the child before it exits when exec fails; vfork shares memory
  // and suspends the parent until the child execs or exits.
  volatile int exec_errno = 0;
  pid_t pid = vfork();
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
    setpgid(0, 0);
    for (int s = 1; s < NSIG; ++s) {
      if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_DFL);
    }
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) {
      exec_errno = errno;
      _exit(127);
    }
    execvpe(args[0], args.data(), environ);
    exec_errno = errno;
    _exit(127);
  }
  if (pid < 0) return ErrnoStatus(errno, "spawn", argv[0]);
  if (exec_errno != 0) {
    // The child has exited already; reap it so it leaves no zombie.
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return ErrnoStatus(exec_errno, "spawn", argv[0]);
  }
  return pid;
}

}  // namespace ferry
