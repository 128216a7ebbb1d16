// UringWorker: one thread, one io_uring ring, many child processes.
//
// For each child it writes the input to its stdin, reads its stdout and
// stderr (keeping the last few KiB) and waits for its exit by polling a pidfd,
// all through the ring; timers (lane batch windows, backoff, the idle
// watchdog) are the ring's wait timeout. No thread per child.
//
// Children are started with posix_spawnp and an argv vector, never a shell,
// in their own process group, with default signal dispositions. SIGPIPE is
// ignored process-wide once a worker starts (writing to a child that died
// must be an error, not the daemon's death).
#pragma once

#include <liburing.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "replay/executor.h"

namespace ferry {

class UringWorker final : public Executor {
 public:
  explicit UringWorker(Clock* clock = SystemClock::Default());
  ~UringWorker() override;  // stops; children still running are killed

  Status Start();
  // Stops the thread after the current step; running children get SIGTERM.
  void Stop();

  void Spawn(SpawnRequest request, std::function<void(ChildExit)> done) override;
  void RunAfter(int64_t delay_ns, std::function<void()> fn) override;
  void Post(std::function<void()> fn) override;
  Clock* clock() override { return clock_; }

  // Worker thread only (from a callback or a posted function).
  size_t running_children() const { return children_.size(); }

 private:
  struct Child;
  enum Op : uint8_t { kWrite, kReadOut, kReadErr, kExit, kWake, kCancel };

  void Run();   // Loop(); an exception in it ends ferryd (status 70), logged
  void Loop();
  void Submit();
  void Complete(io_uring_cqe* cqe);
  void ArmRead(Child* c, Op op);
  void ArmWrite(Child* c);
  void MaybeFinish(Child* c);
  void CheckIdle(int64_t now);
  void RunTimers(int64_t now);
  io_uring_sqe* Sqe();
  static uint64_t Tag(uint64_t id, Op op) { return (id << 8) | op; }

  Clock* clock_;
  io_uring ring_{};
  bool ring_ready_ = false;
  int wake_fd_ = -1;  // eventfd: Post() and Stop() wake the ring
  uint64_t wake_buf_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};

  uint64_t next_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Child>> children_;
  std::multimap<int64_t, std::function<void()>> timers_;  // by monotonic deadline
  std::mutex posted_mu_;
  std::vector<std::function<void()>> posted_;
};

}  // namespace ferry
