// Executor: what a lane needs from the thread that drives it: start child
// processes and run timers, with completions delivered back on that thread.
// UringWorker (worker.h) is the real one; tests/lib/fake_executor.h scripts
// exits and moves time by hand.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace ferry {

struct SpawnRequest {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH; never a shell
  std::string input;              // written to the child's stdin, which is then closed
  // The child is stopped (SIGTERM, then SIGKILL 10 s later) when it neither
  // reads its input nor prints anything for this long.
  int64_t idle_timeout_ns = 300'000'000'000;
};

struct ChildExit {
  Status spawn_error;  // not OK: the child never ran (program missing, fd limit)
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  bool stopped_idle = false;  // ferry's watchdog stopped it
  std::string stdout_tail;    // the last few KiB it printed
  std::string stderr_tail;
  bool stderr_cut = false;  // it printed more than the tail holds
};

class Executor {
 public:
  virtual ~Executor() = default;
  // Starts a child; `done` runs on the executor's thread once it has exited
  // and been reaped. Call only from the executor's thread.
  virtual void Spawn(SpawnRequest request, std::function<void(ChildExit)> done) = 0;
  // Runs `fn` on the executor's thread after `delay_ns` (0: soon).
  virtual void RunAfter(int64_t delay_ns, std::function<void()> fn) = 0;
  // Runs `fn` on the executor's thread soon. The only thread-safe method.
  virtual void Post(std::function<void()> fn) = 0;
  virtual Clock* clock() = 0;
};

}  // namespace ferry
