#include "watch/kernel_reader.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <utility>

#include "base/failpoint.h"

namespace ferry {

template <typename Feed>
KernelReader<Feed>::KernelReader(int fd, Options options) : fd_(fd), options_(options) {}

template <typename Feed>
KernelReader<Feed>::~KernelReader() {
  Stop();
}

template <typename Feed>
Status KernelReader<Feed>::Start() {
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) return ErrnoStatus(errno, "eventfd");
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

template <typename Feed>
void KernelReader<Feed>::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  drained_.notify_all();
  if (stop_fd_ >= 0) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(stop_fd_, &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
  if (stop_fd_ >= 0) close(stop_fd_);
  stop_fd_ = -1;
}

template <typename Feed>
Status KernelReader<Feed>::error() const {
  std::lock_guard lock(mu_);
  return error_;
}

template <typename Feed>
bool KernelReader<Feed>::CaughtUp() const {
  // The fd first: a record read before this check was read while idle_ was
  // false, and is queued before idle_ is set again.
  int unread = 0;
  if (ioctl(fd_, FIONREAD, &unread) != 0 || unread != 0) return false;
  std::lock_guard lock(mu_);
  return idle_ && queue_.empty();
}

template <typename Feed>
std::vector<typename Feed::Record> KernelReader<Feed>::Take(int timeout_ms) {
  std::unique_lock lock(mu_);
  ready_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                  [&] { return !queue_.empty() || stopping_; });
  if (!queue_.empty()) {
    // Within `linger` of the last Take(): the caller is fast, let more come.
    // A caller that was busy longer (behind the kernel) gets them at once.
    ready_.wait_until(lock, last_take_ + options_.linger,
                      [&] { return queue_.size() >= options_.max_batch || stopping_; });
  }
  last_take_ = std::chrono::steady_clock::now();
  std::vector<Record> out;
  out.swap(queue_);
  dropping_ = false;
  lock.unlock();
  drained_.notify_all();
  return out;
}

template <typename Feed>
void KernelReader<Feed>::Run() {
  // Big enough for thousands of records per read(2); 8-byte aligned as the
  // kernel wants. On the heap: a thread_local array would be static TLS,
  // reserved in every thread of the process (and it made civetweb's
  // small-stack threads fail to start).
  std::vector<uint64_t> storage(256 * 1024 / sizeof(uint64_t));
  uint8_t* const buffer = reinterpret_cast<uint8_t*>(storage.data());
  const size_t buffer_size = storage.size() * sizeof(uint64_t);
  std::vector<Record> batch;
  pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  while (true) {
    {
      std::unique_lock lock(mu_);
      // inotify: the kernel queue overflows meanwhile (FanotifyFeed drops).
      if constexpr (!Feed::kDropsPastBound) {
        drained_.wait(lock, [&] { return stopping_ || queue_.size() < options_.max_queued; });
      }
      if (stopping_) return;
      idle_ = true;
    }
    const int polled = poll(fds, 2, -1);
    {
      std::lock_guard lock(mu_);
      idle_ = false;
    }
    if (polled < 0) {
      if (errno == EINTR) continue;
      std::lock_guard lock(mu_);
      error_ = ErrnoStatus(errno, std::string("poll ") + Feed::kName + " fd");
      return;
    }
    if (fds[1].revents != 0) return;
    ssize_t n = FailpointHit(Feed::kDropsPastBound ? "fanotify-read" : "inotify-read")
                    ? (errno = EIO, -1)
                    : read(fd_, buffer, buffer_size);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      std::lock_guard lock(mu_);
      error_ = ErrnoStatus(errno, std::string("read ") + Feed::kName + " fd");
      return;
    }
    batch.clear();
    auto parsed = Feed::Parse({buffer, static_cast<size_t>(n)}, &batch);
    records_read_.fetch_add(batch.size());
    if (prefilter_) prefilter_(&batch);
    bool pause = false;
    {
      std::lock_guard lock(mu_);
      if (!parsed) error_ = parsed.error();
      const size_t before = queue_.size();
      if (Feed::kDropsPastBound && (dropping_ || before + batch.size() > options_.max_queued)) {
        // Dropped whole: one overflow stands for them, and the rescan it
        // causes finds what they said. Queued until the next Take().
        records_dropped_.fetch_add(batch.size());
        if (!std::exchange(dropping_, true)) queue_.push_back(Feed::Overflow());
        batch.clear();
      }
      if (queue_.empty()) {
        queue_.swap(batch);
      } else {
        queue_.insert(queue_.end(), std::make_move_iterator(batch.begin()),
                      std::make_move_iterator(batch.end()));
      }
      // Take() waits for the first record, then for the batch to fill.
      if (before == 0 || (before < options_.max_batch && queue_.size() >= options_.max_batch)) {
        ready_.notify_one();
      }
      // A short read: let more records gather in the kernel queue. Nothing
      // is held unqueued meanwhile (CaughtUp).
      pause = static_cast<size_t>(n) < buffer_size / 2 && options_.coalesce.count() > 0;
      if (pause) idle_ = true;
    }
    if (pause) {
      pollfd stop = {stop_fd_, POLLIN, 0};
      const int ms = static_cast<int>((options_.coalesce.count() + 999) / 1000);
      if (poll(&stop, 1, ms) > 0) return;
    }
  }
}

template class KernelReader<InotifyFeed>;
template class KernelReader<FanotifyFeed>;

}  // namespace ferry
