#include "replay/spawn.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

extern char** environ;

namespace ferry {
namespace {

std::mutex record_mu;
std::string record_dir;  // guarded by record_mu

std::string BootId() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

std::string Basename(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// The processes in process group `pgid` whose comm is one of `programs`.
std::vector<pid_t> GroupMembers(pid_t pgid, const std::set<std::string>& programs) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat;
    std::getline(in, stat);
    const size_t close = stat.rfind(')');
    const size_t open = stat.find('(');
    if (close == std::string::npos || open == std::string::npos) continue;
    const std::string comm = stat.substr(open + 1, close - open - 1);
    std::istringstream rest(stat.substr(close + 2));
    std::string state;
    long ppid = 0, pgrp = 0;
    rest >> state >> ppid >> pgrp;
    if (pgrp == pgid && programs.count(comm)) out.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return out;
}

}  // namespace

void SetChildRecordDir(std::string dir) {
  std::error_code ec;
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  std::lock_guard lock(record_mu);
  record_dir = std::move(dir);
}

void ForgetChild(pid_t pid) {
  std::lock_guard lock(record_mu);
  if (!record_dir.empty()) unlink((record_dir + "/" + std::to_string(pid)).c_str());
}

Leftovers KillLeftoverChildren(const std::string& dir) {
  const std::string boot = BootId();
  Leftovers result;
  int& killed = result.killed;
  std::error_code ec;
  std::vector<pid_t> victims;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::ifstream in(entry.path());
    std::string recorded_boot, program;
    std::getline(in, recorded_boot);
    std::getline(in, program);
    const std::string name = entry.path().filename().string();
    if (recorded_boot == boot) ++result.transfers;
    if (recorded_boot == boot && !name.empty() &&
        name.find_first_not_of("0123456789") == std::string::npos) {
      // comm is at most 15 bytes.
      const std::set<std::string> programs = {"rsync", "ssh", program.substr(0, 15)};
      for (pid_t pid : GroupMembers(static_cast<pid_t>(std::stol(name)), programs)) {
        if (kill(pid, SIGKILL) == 0) {
          victims.push_back(pid);
          ++killed;
        }
      }
    }
    std::filesystem::remove(entry.path(), ec);
  }
  // Gone means gone: a process being killed can still be writing.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  for (pid_t pid : victims) {
    while (kill(pid, 0) == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a dying process, not a result
    }
  }
  return result;
}

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
  {
    std::lock_guard lock(record_mu);
    if (!record_dir.empty() && exec_errno == 0) {
      std::ofstream(record_dir + "/" + std::to_string(pid)) << BootId() << "\n"
                                                            << Basename(argv[0]) << "\n";
    }
  }
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
