// Real servers for integration tests, on 127.0.0.1 and a free port, started
// and stopped by PID (never by name): an rsync daemon with `auth users` and a
// secrets file, and an sshd with a key made for the test.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace ferry::testing {

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();
// Starts `argv` (no shell) with stdout and stderr appended to `log`; returns the pid.
pid_t StartProcess(const std::vector<std::string>& argv, const std::string& log);
// Runs `argv` (no shell) to its end, output appended to `log`; its exit
// status, or -1 when it could not start or did not exit.
int RunToEnd(const std::vector<std::string>& argv, const std::string& log);
// SIGTERM, then SIGKILL after 5 s; reaps it.
void StopProcess(pid_t pid);
// Waits up to `timeout_ms` for `pid` to exit and reaps it, its wait status in
// `*status`; past it, kills it (SIGKILL) and reaps it. Whether it exited by itself.
bool ReapWithin(pid_t pid, int timeout_ms, int* status);
// Whether 127.0.0.1:port accepts connections within `timeout_ms`.
bool WaitForPort(int port, int timeout_ms);
// GET `path` from 127.0.0.1:port over HTTP/1.0: the whole response, headers
// included; empty when it cannot connect.
std::string HttpGet(int port, const std::string& path);
// Writes `content` to `path` with `mode`.
void WriteFile(const std::string& path, const std::string& content, int mode);
// The whole content of `path`, bytes as they are; empty when unreadable.
std::string ReadFile(const std::string& path);
// One line per child process of `pid` (any of its threads' children): pid,
// seconds since it started, and its argv, for a failing test to show what
// was still running.
std::string DescribeChildren(pid_t pid);

class RsyncDaemon {
 public:
  // Serves module "data" from `module_dir` (created) to user "ferry" with
  // `password`; its files live under `workdir`.
  RsyncDaemon(std::string workdir, std::string module_dir, std::string password = "s3cret");
  ~RsyncDaemon();

  bool Start();  // on a new free port the first time, the same port afterwards
  void Stop();
  bool running() const { return pid_ > 0; }
  // The rsync that serves (default: rsync in PATH); set before Start().
  void set_program(std::string program) { program_ = std::move(program); }
  // `use chroot = yes`, rsyncd's own default, which needs root; set before
  // Start(). Off by default so that the tests run as any user.
  void set_chroot(bool chroot) { chroot_ = chroot; }
  int port() const { return port_; }
  // rsync://ferry@127.0.0.1:PORT/data
  std::string url() const;
  // A client password file (mode 0600) holding `password`.
  std::string PasswordFile(const std::string& password) const;

 private:
  std::string workdir_, module_dir_, password_;
  std::string program_ = "rsync";
  bool chroot_ = false;
  int port_ = 0;
  pid_t pid_ = -1;
};

class SshServer {
 public:
  // Accepts the current user with a key it generates under `workdir`.
  explicit SshServer(std::string workdir);
  ~SshServer();
  bool Start();  // false when sshd or ssh-keygen is missing
  void Stop();
  int port() const { return port_; }
  // What ferry's ssh_options need: -p PORT -i KEY and no host key prompts.
  std::vector<std::string> ClientOptions() const;

 private:
  std::string workdir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace ferry::testing
