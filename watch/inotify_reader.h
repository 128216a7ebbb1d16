// InotifyReader: drains one inotify fd on a dedicated thread.
//
// The thread only reads and parses; it never waits on disk or on the
// journal, so the kernel queue is emptied as fast as it fills (a reader that
// stalls for seconds loses most events to IN_Q_OVERFLOW). Records wait in
// memory until the processing thread takes them; past `max_queued` records the
// thread stops reading and lets the kernel queue overflow, which the watcher
// answers with a rescan: memory stays bounded and nothing is lost.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "base/status.h"
#include "watch/inotify_parse.h"

namespace ferry {

class InotifyReader {
 public:
  // `fd` is an inotify fd; not owned, must outlive the reader.
  explicit InotifyReader(int fd, size_t max_queued = 4'000'000);
  ~InotifyReader();  // stops the thread

  Status Start();
  void Stop();

  // Waits until records are queued or `timeout_ms` passes; returns them all
  // (possibly none). Called by the processing thread.
  std::vector<InotifyRecord> Take(int timeout_ms);

  // Whether every record the kernel had queued when this was called has been
  // taken by Take(): nothing unread on the fd, nothing read and not yet
  // queued, nothing queued. Called by the processing thread, between the
  // Take() and the next, it means that every record made before the call
  // has been processed.
  bool CaughtUp() const;

  // The read or parse error that stopped the thread, if any.
  Status error() const;
  uint64_t records_read() const { return records_read_.load(); }

 private:
  void Run();

  int fd_;
  int stop_fd_ = -1;  // eventfd that wakes the thread's poll for Stop()
  size_t max_queued_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable ready_;    // records queued
  std::condition_variable drained_;  // room in the queue again
  std::vector<InotifyRecord> queue_;
  Status error_;
  bool stopping_ = false;
  bool idle_ = false;  // in poll(2): nothing read and not yet queued
  std::atomic<uint64_t> records_read_{0};
};

}  // namespace ferry
