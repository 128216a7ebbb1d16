// `ferryctl log`'s dealings with the terminal and the process: SIGINT/SIGTERM
// turn into a flag and a wake-up (a self-pipe), SIGPIPE into EPIPE, and the
// pager is spawned with posix_spawnp (argv, never a shell).
//
// Entry points are declared where they are used (tools/ctl_log.cc), in
// ferry::log_term; they run on the CLI's only thread.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace ferry::log_term {
namespace {

volatile sig_atomic_t g_stop = 0;
int g_wake[2] = {-1, -1};
struct sigaction g_old_int, g_old_term, g_old_pipe;

void OnSignal(int) {
  const int saved = errno;
  g_stop = 1;
  if (g_wake[1] >= 0) {
    const char c = 0;
    [[maybe_unused]] ssize_t n = ::write(g_wake[1], &c, 1);
  }
  errno = saved;
}

}  // namespace

void InstallSignals() {
  g_stop = 0;
  if (g_wake[0] < 0 && ::pipe2(g_wake, O_CLOEXEC | O_NONBLOCK) != 0) g_wake[0] = g_wake[1] = -1;
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocked write or poll returns EINTR
  sigaction(SIGINT, &sa, &g_old_int);
  sigaction(SIGTERM, &sa, &g_old_term);
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  sigaction(SIGPIPE, &ign, &g_old_pipe);  // a closed reader shows as EPIPE
}

void RestoreSignals() {
  sigaction(SIGINT, &g_old_int, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
  sigaction(SIGPIPE, &g_old_pipe, nullptr);
  for (int& fd : g_wake) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
}

bool StopRequested() { return g_stop != 0; }

// Sleeps up to `ms`; false when a stop signal came or the reader of `out_fd`
// (a pipe or socket) went away, so a follower exits without waiting for
// another event to write.
bool Tick(int ms, int out_fd) {
  if (g_stop) return false;
  struct stat st;
  const bool watch_out =
      ::fstat(out_fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
  pollfd fds[2] = {{g_wake[0], POLLIN, 0}, {out_fd, 0, 0}};
  const int n = ::poll(fds, watch_out ? 2 : 1, ms);
  if (n > 0 && (fds[0].revents & POLLIN)) {
    char buf[16];
    while (::read(g_wake[0], buf, sizeof buf) > 0) {
    }
  }
  if (watch_out && (fds[1].revents & (POLLERR | POLLHUP))) return false;
  return g_stop == 0;
}

// Starts $PAGER (split at whitespace; "cat" or empty means none) or
// `less -FRSX` on a pipe; sets LESS=FRSX for it unless LESS is set, as
// journalctl does. Returns the pipe's write end, or -1 (then *pid = -1) when
// there is no pager or it cannot start: the caller writes to stdout.
int StartPager(pid_t* pid) {
  *pid = -1;
  std::vector<std::string> argv;
  const char* env = std::getenv("FERRY_PAGER");
  if (env == nullptr) env = std::getenv("PAGER");
  if (env != nullptr) {
    std::istringstream words(env);
    for (std::string w; words >> w;) argv.push_back(w);
    if (argv.empty() || argv[0] == "cat") return -1;
  } else {
    argv = {"less", "-FRSX"};
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return -1;
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  std::vector<std::string> env_store;
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
  if (std::getenv("LESS") == nullptr) {
    env_store.push_back("LESS=FRSX");
    envp.push_back(env_store.back().data());
  }
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[0], STDIN_FILENO);  // dup2 clears CLOEXEC
  const int rc = posix_spawnp(pid, args[0], &fa, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[0]);
  if (rc != 0) {
    ::close(fds[1]);
    *pid = -1;
    return -1;
  }
  return fds[1];
}

// Closes the pager's input and waits until the user quits it.
void FinishPager(int fd, pid_t pid) {
  if (fd >= 0) ::close(fd);
  if (pid <= 0) return;
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace ferry::log_term
