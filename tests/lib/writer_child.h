// WriterChild: one running journal_writer_child (tests/fault/), the helper
// program the cross-process journal tests (fault/journal_crash_test.cc,
// integration/journal_secondary_test.cc) start to write a journal while they
// read it, kill the writer or hold the journal. See journal_writer_child.cc for
// its flags and the lines it prints.
//
// The child's stdout comes back through a pipe, read line by line with a
// deadline; its stdin is a pipe the test writes to (Resume) or closes
// (CloseStdin, Release). The WriterChild owns the process and both pipe ends:
// its destructor kills the child with SIGKILL and reaps it if it still runs.
// Failures to start or resume the child are reported as gtest failures, so
// only gtest binaries can use it. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ferry::testing {

class WriterChild {
 public:
  using Deadline = std::chrono::steady_clock::time_point;

  // Spawns journal_writer_child with `args` after its argv[0]; nullptr, with a
  // gtest failure, if it could not. Does not wait for the child to open the
  // journal.
  static std::unique_ptr<WriterChild> Start(const std::vector<std::string>& args);

  // Kills and reaps the child if it still runs, then closes the pipes.
  ~WriterChild();
  WriterChild(const WriterChild&) = delete;
  WriterChild& operator=(const WriterChild&) = delete;

  // The next line of the child's stdout, without its "\n"; nullopt at EOF or
  // when no line came before `deadline`. Blocks until one of those; with a
  // deadline of now it returns only a line the child has already written.
  std::optional<std::string> ReadLine(Deadline deadline);

  // Reads lines until "done N"; N, or nullopt (with a gtest failure) on EOF or
  // at `deadline`. Lines before it are dropped.
  std::optional<uint64_t> WaitDone(Deadline deadline);

  // Whether ReadLine has seen the end of the child's stdout: it exited or was
  // killed.
  bool eof() const { return eof_; }

  // Sends SIGKILL; does not wait for the child to die (Wait does).
  void Kill();

  // Lets a child waiting at --pause-at go on (writes one byte to its stdin).
  void Resume();

  // Lets a --hold child close its journal and exit. Does not wait.
  void CloseStdin();

  // Reaps the child; its waitpid status. Blocks until it has exited; call once.
  int Wait();

  // CloseStdin, then Wait: blocks until a --hold child has closed its journal
  // and exited; its waitpid status.
  int Release();

 private:
  WriterChild() = default;

  pid_t pid_ = -1;
  int out_ = -1;        // read end of the child's stdout
  int in_ = -1;         // write end of the child's stdin
  std::string buffer_;  // read from out_, not yet returned by ReadLine
  bool eof_ = false;
};

}  // namespace ferry::testing
