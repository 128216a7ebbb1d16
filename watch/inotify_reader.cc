#include "watch/inotify_reader.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "base/failpoint.h"

namespace ferry {

InotifyReader::InotifyReader(int fd, Options options) : fd_(fd), options_(options) {}

InotifyReader::~InotifyReader() { Stop(); }

Status InotifyReader::Start() {
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) return ErrnoStatus(errno, "eventfd");
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void InotifyReader::Stop() {
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

Status InotifyReader::error() const {
  std::lock_guard lock(mu_);
  return error_;
}

bool InotifyReader::CaughtUp() const {
  // The fd first: a record read before this check was read while idle_ was
  // false, and is queued before idle_ is set again.
  int unread = 0;
  if (ioctl(fd_, FIONREAD, &unread) != 0 || unread != 0) return false;
  std::lock_guard lock(mu_);
  return idle_ && queue_.empty();
}

std::vector<InotifyRecord> InotifyReader::Take(int timeout_ms) {
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
  std::vector<InotifyRecord> out;
  out.swap(queue_);
  lock.unlock();
  drained_.notify_all();
  return out;
}

void InotifyReader::Run() {
  // Big enough for thousands of records per read(2); 8-byte aligned as the
  // kernel wants. On the heap: a thread_local array would be static TLS,
  // reserved in every thread of the process (and it made civetweb's
  // small-stack threads fail to start).
  std::vector<uint64_t> storage(256 * 1024 / sizeof(uint64_t));
  uint8_t* const buffer = reinterpret_cast<uint8_t*>(storage.data());
  const size_t buffer_size = storage.size() * sizeof(uint64_t);
  std::vector<InotifyRecord> batch;
  pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  while (true) {
    {
      std::unique_lock lock(mu_);
      drained_.wait(lock, [&] { return stopping_ || queue_.size() < options_.max_queued; });
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
      error_ = ErrnoStatus(errno, "poll inotify fd");
      return;
    }
    if (fds[1].revents != 0) return;
    ssize_t n = FailpointHit("inotify-read") ? (errno = EIO, -1) : read(fd_, buffer, buffer_size);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      std::lock_guard lock(mu_);
      error_ = ErrnoStatus(errno, "read inotify fd");
      return;
    }
    batch.clear();
    auto parsed = ParseInotifyBuffer({buffer, static_cast<size_t>(n)}, &batch);
    records_read_.fetch_add(batch.size());
    bool pause = false;
    {
      std::lock_guard lock(mu_);
      if (!parsed) error_ = parsed.error();
      const size_t before = queue_.size();
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

}  // namespace ferry
