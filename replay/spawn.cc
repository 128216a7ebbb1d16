#include "replay/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
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

// What /proc/PID/stat (proc(5)) says of a process; nullopt when it is gone.
struct ProcStat {
  std::string comm;  // at most 15 bytes
  char state = 'X';  // R, S, D, T (stopped), Z (zombie), ...
  long pgrp = 0;
};
std::optional<ProcStat> ReadProcStat(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return std::nullopt;
  // comm may hold spaces and parentheses: it ends at the last ')'.
  const size_t open = stat.find('(');
  const size_t close = stat.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close + 2 >= stat.size()) {
    return std::nullopt;
  }
  ProcStat p{.comm = stat.substr(open + 1, close - open - 1), .state = stat[close + 2]};
  std::istringstream rest(stat.substr(close + 3));
  long ppid = 0;
  rest >> ppid >> p.pgrp;
  return p;
}

// The processes in process group `pgid` whose comm is one of `programs`.
std::vector<pid_t> GroupMembers(pid_t pgid, const std::set<std::string>& programs) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(name));
    auto p = ReadProcStat(pid);
    if (p && p->pgrp == pgid && programs.count(p->comm)) out.push_back(pid);
  }
  return out;
}

// A process's state letter; 'X' when it is gone.
char State(pid_t pid) {
  auto p = ReadProcStat(pid);
  return p ? p->state : 'X';
}

// Whether a process in `state` no longer runs. A zombie counts as gone: it
// cannot write, and an orphan waits for init to reap it, which some inits
// (containers, VMs) do late.
bool GoneState(char state) { return state == 'Z' || state == 'X'; }
bool Gone(pid_t pid) { return GoneState(State(pid)); }

// Polls until every process is gone, or stopped too when `or_stopped`;
// at most until `deadline`.
void AwaitAll(const std::vector<pid_t>& pids, bool or_stopped,
              std::chrono::steady_clock::time_point deadline) {
  for (pid_t pid : pids) {
    for (char s = State(pid); !(GoneState(s) || (or_stopped && s == 'T')); s = State(pid)) {
      if (std::chrono::steady_clock::now() >= deadline) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a signal landing, not a result
    }
  }
}

// Whether `name` looks like an rsync temporary file: ".<name>.XXXXXX".
bool IsRsyncTempName(const std::string& name) {
  if (name.size() < 9 || name[0] != '.' || name[name.size() - 7] != '.') return false;
  for (size_t i = name.size() - 6; i < name.size(); ++i) {
    if (!std::isalnum(static_cast<unsigned char>(name[i]))) return false;
  }
  return true;
}

// The rsync temporary files `pid` has open for writing (a reader's open
// file with such a name is a user's file and is left alone).
std::vector<std::string> OpenTempFiles(pid_t pid) {
  std::vector<std::string> out;
  const std::string proc = "/proc/" + std::to_string(pid);
  std::error_code ec;
  for (const auto& fd : std::filesystem::directory_iterator(proc + "/fd", ec)) {
    std::error_code link_ec;
    const std::filesystem::path target = std::filesystem::read_symlink(fd.path(), link_ec);
    if (link_ec || !target.is_absolute() || !IsRsyncTempName(target.filename().string())) {
      continue;
    }
    std::ifstream info(proc + "/fdinfo/" + fd.path().filename().string());
    std::string key;
    std::string flags;
    while (info >> key >> flags && key != "flags:") {
    }
    const long mode = key == "flags:" ? std::stol(flags, nullptr, 8) & O_ACCMODE : O_RDONLY;
    if (mode != O_RDONLY) out.push_back(target.string());
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
  std::vector<std::pair<pid_t, std::set<std::string>>> groups;  // recorded, with their programs
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
      groups.emplace_back(static_cast<pid_t>(std::stol(name)),
                          std::set<std::string>{"rsync", "ssh", program.substr(0, 15)});
    }
    std::filesystem::remove(entry.path(), ec);
  }
  // Frozen first (SIGSTOP, which lands when a system call in progress, an
  // open or a rename, ends), so that none can open another file or rename
  // one into place; listed again once stopped, as one may have forked
  // meanwhile. Then the temporary files they write are noted, they are
  // killed, and the notes removed: a receiver killed mid-file (rsync's local
  // receiver, whose parent died first) would leave its .name.XXXXXX behind.
  // Gone means gone: a process being killed can still be writing.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (int pass = 0; pass < 3; ++pass) {
    std::vector<pid_t> found;
    for (const auto& [pgid, programs] : groups) {
      for (pid_t pid : GroupMembers(pgid, programs)) {
        if (std::find(victims.begin(), victims.end(), pid) == victims.end()) found.push_back(pid);
      }
    }
    if (found.empty()) break;
    for (pid_t pid : found) kill(pid, SIGSTOP);
    AwaitAll(found, /*or_stopped=*/true, deadline);
    victims.insert(victims.end(), found.begin(), found.end());
  }
  std::vector<std::string> temps;
  for (pid_t pid : victims) {
    for (std::string& t : OpenTempFiles(pid)) temps.push_back(std::move(t));
  }
  for (pid_t pid : victims) {
    if (!Gone(pid) && kill(pid, SIGKILL) == 0) ++killed;
  }
  AwaitAll(victims, /*or_stopped=*/false, deadline + std::chrono::seconds(1));
  for (const std::string& t : temps) {
    struct stat st;
    if (lstat(t.c_str(), &st) == 0 && S_ISREG(st.st_mode) && unlink(t.c_str()) == 0) {
      ++result.temp_files_removed;
    }
  }
  return result;
}

int RemoveRsyncTempFiles(const std::string& root, const std::string& source,
                         const std::vector<std::string>& paths) {
  std::map<std::string, std::set<std::string>> by_dir;  // directory -> base names sent there
  for (const std::string& p : paths) {
    const size_t slash = p.rfind('/');
    by_dir[slash == std::string::npos ? "" : p.substr(0, slash)].insert(
        slash == std::string::npos ? p : p.substr(slash + 1));
  }
  int removed = 0;
  for (const auto& [dir, names] : by_dir) {
    const std::string abs = dir.empty() ? root : root + "/" + dir;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(abs, ec)) {
      const std::string name = entry.path().filename().string();
      // ".NAME.XXXXXX": NAME is what rsync was writing.
      if (!IsRsyncTempName(name) || !names.count(name.substr(1, name.size() - 8))) continue;
      struct stat st;
      const std::string in_source = (dir.empty() ? source : source + "/" + dir) + "/" + name;
      if (lstat(entry.path().c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
          lstat(in_source.c_str(), &st) != 0 && unlink(entry.path().c_str()) == 0) {
        ++removed;
      }
    }
  }
  return removed;
}

Result<pid_t> SpawnChild(const std::vector<std::string>& argv, int in, int out, int err) {
  if (argv.empty()) return ErrnoStatus(EINVAL, "spawn");
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = getpid();
  sigset_t none;
  sigemptyset(&none);
  // The child reports a failed exec through a close-on-exec pipe: a
  // successful exec closes it, so the parent reads 0 bytes. (Not a variable
  // shared by vfork: sanitizers and other runtimes turn vfork into fork.)
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return ErrnoStatus(errno, "spawn", argv[0]);
  pid_t pid = vfork();
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec.
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent) _exit(127);
    setpgid(0, 0);
    for (int s = 1; s < NSIG; ++s) {
      if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_DFL);
    }
    sigprocmask(SIG_SETMASK, &none, nullptr);
    // rsync gets nothing of ferryd's but its three pipes: not the journal's
    // files, the control socket or a lease probe's descriptor (the report
    // pipe is close-on-exec already and must stay open until the exec).
    close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    if (dup2(in, 0) >= 0 && dup2(out, 1) >= 0 && dup2(err, 2) >= 0) {
      execvpe(args[0], args.data(), environ);
    }
    const int e = errno;
    (void)!write(report[1], &e, sizeof e);
    _exit(127);
  }
  const int fork_errno = errno;
  close(report[1]);
  int exec_errno = 0;
  ssize_t n;
  while ((n = read(report[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
  }
  close(report[0]);
  if (pid < 0) return ErrnoStatus(fork_errno, "spawn", argv[0]);
  if (n != sizeof exec_errno) exec_errno = 0;  // exec'd: the pipe closed unwritten
  {
    std::lock_guard lock(record_mu);
    if (!record_dir.empty() && exec_errno == 0) {
      std::ofstream(record_dir + "/" + std::to_string(pid)) << BootId() << "\n"
                                                            << Basename(argv[0]) << "\n";
    }
  }
  if (exec_errno != 0) {
    // The child has exited or is about to; reap it so it leaves no zombie.
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return ErrnoStatus(exec_errno, "spawn", argv[0]);
  }
  return pid;
}

}  // namespace ferry
