// KernelReader: drains one inotify or fanotify fd on a dedicated thread
// (InotifyReader, FanotifyReader).
//
// The thread only reads and parses; it never waits on disk or on the
// journal, so the kernel queue is emptied as fast as it fills (a reader that
// stalls for seconds loses most events to IN_Q_OVERFLOW). Records wait in
// memory until the processing thread takes them. Past `max_queued` records
// memory stays bounded and nothing is lost, as the watcher answers an
// overflow with a rescan:
//  - inotify: the thread stops reading and lets the kernel queue overflow
//    (fs.inotify.max_queued_events);
//  - fanotify: the group's queue is unlimited (FAN_UNLIMITED_QUEUE) and is
//    shared with every change on the whole filesystem, so the thread keeps
//    reading, drops what it read and queues one FAN_Q_OVERFLOW instead. The
//    kernel's own bound (fs.fanotify.max_queued_events, 16384) would
//    overflow whenever the rest of a busy filesystem outran the watcher for
//    a moment, each time a rescan of the whole source; ferryd's bound costs
//    only ferryd's memory, which it counts.
//
// A busy writer makes a few records at a time. Woken for each, the reader
// and the processing thread would switch in and out thousands of times a
// second, on the cores the writer needs, and the processing thread would
// append (and fsync) tiny batches. So after a read that did not fill its
// buffer the reader pauses `coalesce` before the next one, and Take() hands
// records out no sooner than `linger` after the previous Take() returned
// (at once when `max_batch` are queued): at most one Take() a `linger`, each
// a larger batch, and no wait for a caller that is behind. The kernel queue (fs.inotify.max_queued_events, 16384) holds far
// more than a pause's worth of records at any realistic rate.
#pragma once

#include <sys/fanotify.h>
#include <sys/inotify.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "base/status.h"
#include "watch/fanotify_parse.h"
#include "watch/inotify_parse.h"

namespace ferry {

// What the reader needs of each kind of fd.
struct InotifyFeed {
  using Record = InotifyRecord;
  static constexpr const char* kName = "inotify";
  static constexpr bool kDropsPastBound = false;
  static Result<size_t> Parse(std::span<const uint8_t> b, std::vector<Record>* out) {
    return ParseInotifyBuffer(b, out);
  }
  static Record Overflow() { return {.mask = IN_Q_OVERFLOW}; }
};
struct FanotifyFeed {
  using Record = FanotifyRecord;
  static constexpr const char* kName = "fanotify";
  static constexpr bool kDropsPastBound = true;
  static Result<size_t> Parse(std::span<const uint8_t> b, std::vector<Record>* out) {
    return ParseFanotifyBuffer(b, out);
  }
  static Record Overflow() { return {.mask = FAN_Q_OVERFLOW}; }
};

struct KernelReaderOptions {
  size_t max_queued = 4'000'000;  // inotify: ~40 B a record; fanotify: ~200 B
  std::chrono::microseconds coalesce{2'000};
  std::chrono::microseconds linger{10'000};
  size_t max_batch = 50'000;
};

template <typename Feed>
class KernelReader {
 public:
  using Record = typename Feed::Record;
  using Options = KernelReaderOptions;
  // `fd` is an inotify or fanotify fd; not owned, must outlive the reader.
  explicit KernelReader(int fd) : KernelReader(fd, Options{}) {}
  KernelReader(int fd, Options options);
  ~KernelReader();  // stops the thread

  // Before Start(): runs on the reader thread on each batch it parsed,
  // before the batch counts against `max_queued`, and may remove records
  // (FanotifyChanges drops those known to lie outside the source).
  void SetPrefilter(std::function<void(std::vector<Record>*)> prefilter) {
    prefilter_ = std::move(prefilter);
  }

  Status Start();
  void Stop();

  // Waits until records are queued or `timeout_ms` passes, then until
  // `linger` has passed since the previous Take() returned (or `max_batch`
  // are queued, or Stop()); returns them all (possibly none). Called by the
  // processing thread.
  std::vector<Record> Take(int timeout_ms);

  // Whether every record the kernel had queued when this was called has been
  // taken by Take(): nothing unread on the fd, nothing read and not yet
  // queued, nothing queued. Called by the processing thread, between the
  // Take() and the next, it means that every record made before the call
  // has been processed.
  bool CaughtUp() const;

  // The read or parse error that stopped the thread, if any.
  Status error() const;
  uint64_t records_read() const { return records_read_.load(); }
  uint64_t records_dropped() const { return records_dropped_.load(); }  // fanotify only

 private:
  void Run();

  int fd_;
  int stop_fd_ = -1;  // eventfd that wakes the thread's poll for Stop()
  Options options_;
  std::function<void(std::vector<Record>*)> prefilter_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable ready_;    // records queued
  std::condition_variable drained_;  // room in the queue again
  std::vector<Record> queue_;
  bool dropping_ = false;  // past max_queued: an overflow is queued
  std::chrono::steady_clock::time_point last_take_;  // when Take() last returned
  Status error_;
  bool stopping_ = false;
  bool idle_ = false;  // in poll(2): nothing read and not yet queued
  std::atomic<uint64_t> records_read_{0};
  std::atomic<uint64_t> records_dropped_{0};
};

using InotifyReader = KernelReader<InotifyFeed>;
using FanotifyReader = KernelReader<FanotifyFeed>;

}  // namespace ferry
