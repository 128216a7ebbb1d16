#include "tests/lib/writer_child.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace ferry::testing {

namespace {
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;
}  // namespace

std::unique_ptr<WriterChild> WriterChild::Start(const std::vector<std::string>& args) {
  std::unique_ptr<WriterChild> child(new WriterChild());
  int out[2];
  int in[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << strerror(errno);
    return nullptr;
  }
  child->out_ = out[0];
  if (pipe2(in, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << strerror(errno);
    close(out[1]);
    return nullptr;
  }
  child->in_ = in[1];
  std::vector<std::string> argv_strings = {WRITER_CHILD};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);  // nothing else of the test's
  pid_t pid = -1;
  int err = posix_spawn(&pid, WRITER_CHILD, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  // The child holds the only write end of its stdout (EOF when it dies) and
  // the only read end of its stdin.
  close(out[1]);
  close(in[0]);
  if (err != 0) {
    ADD_FAILURE() << "posix_spawn " << WRITER_CHILD << ": " << strerror(err);
    return nullptr;
  }
  child->pid_ = pid;
  return child;
}

WriterChild::~WriterChild() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    Wait();
  }
  CloseStdin();
  if (out_ >= 0) close(out_);
}

std::optional<std::string> WriterChild::ReadLine(Deadline deadline) {
  while (true) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    if (eof_) return std::nullopt;
    auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now()).count();
    if (left < 0) return std::nullopt;
    pollfd p{out_, POLLIN, 0};
    int n = poll(&p, 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return std::nullopt;
    char buf[4096];
    ssize_t got = read(out_, buf, sizeof(buf));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      eof_ = true;
    } else {
      buffer_.append(buf, static_cast<size_t>(got));
    }
  }
}

std::optional<uint64_t> WriterChild::WaitDone(Deadline deadline) {
  while (std::optional<std::string> line = ReadLine(deadline)) {
    if (line->starts_with("done ")) return std::stoull(line->substr(5));
  }
  ADD_FAILURE() << "the writer " << (eof_ ? "quit" : "timed out") << " before \"done\"";
  return std::nullopt;
}

void WriterChild::Kill() {
  if (pid_ > 0) kill(pid_, SIGKILL);
}

void WriterChild::Resume() { EXPECT_EQ(write(in_, "x", 1), 1) << strerror(errno); }

void WriterChild::CloseStdin() {
  if (in_ >= 0) close(in_);
  in_ = -1;
}

int WriterChild::Wait() {
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  return status;
}

int WriterChild::Release() {
  CloseStdin();
  return Wait();
}

}  // namespace ferry::testing
