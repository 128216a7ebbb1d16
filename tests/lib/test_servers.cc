#include "tests/lib/poll.h"
#include "tests/lib/test_servers.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

extern char** environ;

namespace ferry::testing {
namespace {

bool CanConnect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

}  // namespace

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

pid_t StartProcess(const std::vector<std::string>& argv, const std::string& log) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  // Nothing else of the test's: a file the workload thread holds open for
  // writing, inherited by an rsync daemon or a ferryd, stays open for as
  // long as that child runs, and its IN_CLOSE_WRITE never comes (ferryd
  // rightly waits for it: the fault suite's lost files, 1 run in 20).
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

int RunToEnd(const std::vector<std::string>& argv, const std::string& log) {
  pid_t pid = StartProcess(argv, log);
  int status = 0;
  if (pid <= 0 || waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void StopProcess(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  int status = 0;
  ReapWithin(pid, 5'000, &status);
}

bool ReapWithin(pid_t pid, int timeout_ms, int* status) {
  if (PollUntil([&] { return waitpid(pid, status, WNOHANG) == pid; },
                std::chrono::milliseconds(timeout_ms), std::chrono::milliseconds(2))) {
    return true;
  }
  kill(pid, SIGKILL);
  waitpid(pid, status, 0);
  return false;
}

bool WaitForPort(int port, int timeout_ms) {
  return PollUntil([&] { return CanConnect(port); }, std::chrono::milliseconds(timeout_ms),
                   std::chrono::milliseconds(10));
}

std::string HttpGet(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buf[65536];
      for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) response.append(buf, n);
    }
  }
  close(fd);
  return response;
}

void WriteFile(const std::string& path, const std::string& content, int mode) {
  std::ofstream(path, std::ios::trunc) << content;
  chmod(path.c_str(), static_cast<mode_t>(mode));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string DescribeChildren(pid_t pid) {
  std::string out;
  std::error_code ec;
  const std::string proc = "/proc/" + std::to_string(pid);
  const double uptime = std::strtod(ReadFile("/proc/uptime").c_str(), nullptr);
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  for (const auto& task : std::filesystem::directory_iterator(proc + "/task", ec)) {
    std::istringstream children(ReadFile(task.path().string() + "/children"));
    for (std::string child; children >> child;) {
      std::string argv = ReadFile("/proc/" + child + "/cmdline");
      std::replace(argv.begin(), argv.end(), '\0', ' ');
      // Field 22 of stat, after the parenthesized name: the start time in ticks.
      const std::string stat = ReadFile("/proc/" + child + "/stat");
      std::istringstream fields(stat.substr(stat.rfind(')') + 2));
      std::string field;
      for (int i = 3; i <= 22 && fields >> field; ++i) {
      }
      const double age = uptime - std::strtod(field.c_str(), nullptr) / ticks;
      out += child + " (" + std::to_string(static_cast<int>(age)) + " s) " + argv + "\n";
    }
  }
  return out.empty() ? "(none)\n" : out;
}

RsyncDaemon::RsyncDaemon(std::string workdir, std::string module_dir, std::string password)
    : workdir_(std::move(workdir)),
      module_dir_(std::move(module_dir)),
      password_(std::move(password)) {
  std::filesystem::create_directories(workdir_);
  std::filesystem::create_directories(module_dir_);
}

RsyncDaemon::~RsyncDaemon() { Stop(); }

bool RsyncDaemon::Start() {
  if (port_ == 0) port_ = FreePort();
  WriteFile(workdir_ + "/secrets", "ferry:" + password_ + "\n", 0600);
  const std::string user = getpwuid(geteuid()) ? getpwuid(geteuid())->pw_name : "root";
  // A group name, not "*" (all of the user's groups): rsync before 3.2 has no "*".
  const std::string group = getgrgid(getegid()) ? getgrgid(getegid())->gr_name : "root";
  WriteFile(workdir_ + "/rsyncd.conf",
            std::string("use chroot = ") + (chroot_ ? "true" : "false") +
                "\n"
                "transfer logging = true\n"
                "log format = %o %f %l\n"
                "log file = " +
                workdir_ +
                "/rsyncd-transfers.log\n"
                "pid file = " +
                workdir_ +
                "/rsyncd.pid\n"
                "uid = " +
                user + "\ngid = " + group +
                "\n"
                "[data]\n"
                "  path = " +
                module_dir_ +
                "\n"
                "  read only = false\n"
                "  auth users = ferry\n"
                "  secrets file = " +
                workdir_ + "/secrets\n",
            0644);
  std::filesystem::remove(workdir_ + "/rsyncd.pid");
  pid_ = StartProcess({program_, "--daemon", "--no-detach", "--config=" + workdir_ + "/rsyncd.conf",
                       "--address=127.0.0.1", "--port=" + std::to_string(port_)},
                      workdir_ + "/rsyncd.log");
  if (pid_ > 0 && WaitForPort(port_, 10'000)) return true;
  Stop();
  return false;
}

void RsyncDaemon::Stop() {
  StopProcess(pid_);
  pid_ = -1;
}

std::string RsyncDaemon::url() const {
  return "rsync://ferry@127.0.0.1:" + std::to_string(port_) + "/data";
}

std::string RsyncDaemon::PasswordFile(const std::string& password) const {
  std::string path = workdir_ + "/client-" + std::to_string(std::hash<std::string>()(password));
  WriteFile(path, password + "\n", 0600);
  return path;
}

SshServer::SshServer(std::string workdir) : workdir_(std::move(workdir)) {
  std::filesystem::create_directories(workdir_);
}

SshServer::~SshServer() { Stop(); }

bool SshServer::Start() {
  if (access("/usr/sbin/sshd", X_OK) != 0) return false;
  const std::string log = workdir_ + "/keygen.log";
  for (const char* key : {"host_key", "client_key"}) {
    std::string path = workdir_ + "/" + key;
    if (access(path.c_str(), R_OK) == 0) continue;
    if (RunToEnd({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path}, log) != 0) {
      return false;
    }
  }
  std::filesystem::copy_file(workdir_ + "/client_key.pub", workdir_ + "/authorized_keys",
                             std::filesystem::copy_options::overwrite_existing);
  chmod((workdir_ + "/authorized_keys").c_str(), 0600);
  std::filesystem::create_directories("/run/sshd");  // sshd's privilege separation dir
  if (port_ == 0) port_ = FreePort();
  WriteFile(workdir_ + "/sshd_config",
            "ListenAddress 127.0.0.1\n"
            "Port " +
                std::to_string(port_) +
                "\n"
                "HostKey " +
                workdir_ +
                "/host_key\n"
                "AuthorizedKeysFile " +
                workdir_ +
                "/authorized_keys\n"
                "PasswordAuthentication no\n"
                "KbdInteractiveAuthentication no\n"
                "PermitRootLogin prohibit-password\n"
                "StrictModes no\n"
                "UsePAM no\n"
                "PidFile none\n",
            0644);
  pid_ = StartProcess({"/usr/sbin/sshd", "-D", "-e", "-f", workdir_ + "/sshd_config"},
                      workdir_ + "/sshd.log");
  if (pid_ > 0 && WaitForPort(port_, 10'000)) return true;
  Stop();
  return false;
}

void SshServer::Stop() {
  StopProcess(pid_);
  pid_ = -1;
}

std::vector<std::string> SshServer::ClientOptions() const {
  return {"-p", std::to_string(port_),
          "-i", workdir_ + "/client_key",
          "-o", "StrictHostKeyChecking=no",
          "-o", "UserKnownHostsFile=/dev/null",
          "-o", "LogLevel=ERROR"};
}

}  // namespace ferry::testing
