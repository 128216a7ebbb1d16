#include "replay/worker.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "base/failpoint.h"
#include "replay/spawn.h"

namespace ferry {
namespace {

constexpr size_t kTailBytes = 8 * 1024;
constexpr size_t kReadChunk = 16 * 1024;
constexpr int64_t kKillGraceNs = 10'000'000'000;   // SIGTERM, then SIGKILL this much later
constexpr int64_t kOutputGraceNs = 2'000'000'000;  // after exit, wait this long for EOF
constexpr int64_t kMaxWaitNs = 1'000'000'000;      // idle checks run at least this often

// Returns whether the tail dropped its beginning.
bool AppendTail(std::string* tail, const char* data, size_t n) {
  tail->append(data, n);
  if (tail->size() <= kTailBytes) return false;
  tail->erase(0, tail->size() - kTailBytes);
  return true;
}

void CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

}  // namespace

struct UringWorker::Child {
  uint64_t id = 0;
  pid_t pid = -1;
  int pidfd = -1, in_fd = -1, out_fd = -1, err_fd = -1;
  std::string input;
  size_t written = 0;
  char out_buf[kReadChunk];
  char err_buf[kReadChunk];
  int in_flight = 0;  // ring operations that still reference this child's buffers
  bool exited = false;
  int64_t exited_at = 0;
  bool cancelled_reads = false;
  int64_t last_activity = 0;
  int64_t idle_timeout = 0;
  int64_t term_sent_at = 0;
  ChildExit result;
  std::function<void(ChildExit)> done;
};

UringWorker::UringWorker(Clock* clock) : clock_(clock) {}

UringWorker::~UringWorker() {
  Stop();
  if (ring_ready_) io_uring_queue_exit(&ring_);
  CloseFd(&wake_fd_);
}

Status UringWorker::Start() {
  signal(SIGPIPE, SIG_IGN);
  int err = io_uring_queue_init(256, &ring_, 0);
  if (err < 0) return ErrnoStatus(-err, "io_uring_queue_init");
  ring_ready_ = true;
  wake_fd_ = eventfd(0, EFD_CLOEXEC);
  if (wake_fd_ < 0) return ErrnoStatus(errno, "eventfd");
  io_uring_sqe* sqe = Sqe();
  io_uring_prep_read(sqe, wake_fd_, &wake_buf_, sizeof wake_buf_, 0);
  io_uring_sqe_set_data64(sqe, Tag(0, kWake));
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void UringWorker::Stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
  thread_.join();
}

void UringWorker::Post(std::function<void()> fn) {
  {
    std::lock_guard lock(posted_mu_);
    posted_.push_back(std::move(fn));
  }
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
}

void UringWorker::RunAfter(int64_t delay_ns, std::function<void()> fn) {
  timers_.emplace(clock_->MonotonicNanos() + delay_ns, std::move(fn));
}

io_uring_sqe* UringWorker::Sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  while (sqe == nullptr) {
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
  }
  return sqe;
}

void UringWorker::Spawn(SpawnRequest request, std::function<void(ChildExit)> done) {
  auto c = std::make_unique<Child>();
  c->id = next_id_++;
  c->input = std::move(request.input);
  c->idle_timeout = request.idle_timeout_ns;
  c->done = std::move(done);
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  auto fail = [&](Status why) {
    for (int* fd : {&in[0], &in[1], &out[0], &out[1], &err[0], &err[1]}) CloseFd(fd);
    c->result.spawn_error = std::move(why);
    auto done_fn = std::move(c->done);
    RunAfter(0, [done_fn, result = c->result] { done_fn(result); });
  };
  if (request.argv.empty()) return fail(ErrnoStatus(EINVAL, "spawn"));
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    return fail(ErrnoStatus(errno, "pipe2", request.argv[0]));
  }
  auto pid = SpawnChild(request.argv, in[0], out[1], err[1]);
  if (!pid) return fail(pid.error());
  c->pid = *pid;
  CloseFd(&in[0]);
  CloseFd(&out[1]);
  CloseFd(&err[1]);
  c->in_fd = in[1];
  c->out_fd = out[0];
  c->err_fd = err[0];
  c->pidfd = static_cast<int>(syscall(SYS_pidfd_open, c->pid, 0));
  c->last_activity = clock_->MonotonicNanos();
  if (c->pidfd < 0) {  // cannot happen on Linux >= 5.3; reap synchronously rather than leak
    const int err = errno;
    kill(c->pid, SIGKILL);
    waitpid(c->pid, nullptr, 0);
    return fail(ErrnoStatus(err, "pidfd_open"));
  }
  Child* child = c.get();
  children_.emplace(c->id, std::move(c));
  if (child->input.empty()) {
    CloseFd(&child->in_fd);
  } else {
    ArmWrite(child);
  }
  ArmRead(child, kReadOut);
  ArmRead(child, kReadErr);
  io_uring_sqe* sqe = Sqe();
  io_uring_prep_poll_add(sqe, child->pidfd, POLLIN);
  io_uring_sqe_set_data64(sqe, Tag(child->id, kExit));
  ++child->in_flight;
}

void UringWorker::ArmWrite(Child* c) {
  io_uring_sqe* sqe = Sqe();
  io_uring_prep_write(
      sqe, c->in_fd, c->input.data() + c->written,
      static_cast<unsigned>(std::min<size_t>(c->input.size() - c->written, 1 << 20)), 0);
  io_uring_sqe_set_data64(sqe, Tag(c->id, kWrite));
  ++c->in_flight;
}

void UringWorker::ArmRead(Child* c, Op op) {
  io_uring_sqe* sqe = Sqe();
  if (op == kReadOut) {
    io_uring_prep_read(sqe, c->out_fd, c->out_buf, kReadChunk, 0);
  } else {
    io_uring_prep_read(sqe, c->err_fd, c->err_buf, kReadChunk, 0);
  }
  io_uring_sqe_set_data64(sqe, Tag(c->id, op));
  ++c->in_flight;
}

void UringWorker::Complete(io_uring_cqe* cqe) {
  const uint64_t tag = io_uring_cqe_get_data64(cqe);
  const Op op = static_cast<Op>(tag & 0xff);
  const int res = cqe->res;
  if (op == kCancel) return;
  if (op == kWake) {
    io_uring_sqe* sqe = Sqe();
    io_uring_prep_read(sqe, wake_fd_, &wake_buf_, sizeof wake_buf_, 0);
    io_uring_sqe_set_data64(sqe, Tag(0, kWake));
    return;
  }
  auto it = children_.find(tag >> 8);
  if (it == children_.end()) return;  // a cancel's own completion
  Child* c = it->second.get();
  --c->in_flight;
  const int64_t now = clock_->MonotonicNanos();
  switch (op) {
    case kWrite:
      if (res > 0) {
        c->written += static_cast<size_t>(res);
        c->last_activity = now;
        if (c->written < c->input.size()) {
          ArmWrite(c);
          break;
        }
      }
      CloseFd(&c->in_fd);  // all written, or the child stopped reading (EPIPE)
      break;
    case kReadOut:
    case kReadErr: {
      int* fd = op == kReadOut ? &c->out_fd : &c->err_fd;
      if (res > 0) {
        c->last_activity = now;
        if (op == kReadOut) {
          AppendTail(&c->result.stdout_tail, c->out_buf, static_cast<size_t>(res));
        } else {
          if (AppendTail(&c->result.stderr_tail, c->err_buf, static_cast<size_t>(res))) {
            c->result.stderr_cut = true;
          }
        }
        if (!c->cancelled_reads) {
          ArmRead(c, op);
          break;
        }
      }
      CloseFd(fd);
      break;
    }
    case kExit: {
      siginfo_t info{};
      if (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(c->pidfd), &info, WEXITED) ==
          0) {
        if (info.si_code == CLD_EXITED) {
          c->result.exit_code = info.si_status;
        } else {
          c->result.signal = info.si_status;
        }
      }
      c->exited = true;
      c->exited_at = now;
      ForgetChild(c->pid);
      break;
    }
    case kWake:
    case kCancel:
      break;
  }
  MaybeFinish(c);
}

void UringWorker::MaybeFinish(Child* c) {
  if (!c->exited || c->in_flight > 0) return;
  for (int* fd : {&c->in_fd, &c->out_fd, &c->err_fd, &c->pidfd}) CloseFd(fd);
  auto node = children_.extract(c->id);
  node.mapped()->done(std::move(node.mapped()->result));
}

void UringWorker::CheckIdle(int64_t now) {
  for (auto& [id, c] : children_) {
    if (c->exited) {
      // A grandchild may hold the output pipes open after the child exited.
      if (!c->cancelled_reads && now - c->exited_at > kOutputGraceNs) {
        c->cancelled_reads = true;
        for (Op op : {kReadOut, kReadErr, kWrite}) {
          io_uring_sqe* sqe = Sqe();
          io_uring_prep_cancel64(sqe, Tag(id, op), 0);
          io_uring_sqe_set_data64(sqe, Tag(0, kCancel));
        }
      }
      continue;
    }
    if (c->term_sent_at == 0 && (stop_ || now - c->last_activity > c->idle_timeout)) {
      c->result.stopped_idle = !stop_;
      c->term_sent_at = now;
      kill(c->pid, SIGTERM);  // rsync removes its temp files on SIGTERM
    } else if (c->term_sent_at != 0 && now - c->term_sent_at > kKillGraceNs) {
      kill(c->pid, SIGKILL);
    }
  }
}

void UringWorker::RunTimers(int64_t now) {
  while (!timers_.empty() && timers_.begin()->first <= now) {
    auto fn = std::move(timers_.begin()->second);
    timers_.erase(timers_.begin());
    fn();
  }
}

void UringWorker::Run() {
  try {
    Loop();
  } catch (const std::exception& e) {
    // The lanes' callbacks and children are this thread's state: nothing can
    // take them over. The journal and the cursors can, so a restart is the
    // recovery; it sends again what was in flight, as after a kill -9.
    spdlog::critical("replay worker failed: {}; ferryd exits with status 70 so that its service "
                     "manager restarts it (systemd: Restart=on-failure); every pending change "
                     "stays in the journal",
                     e.what());
    spdlog::default_logger()->flush();
    std::_Exit(70);
  }
}

void UringWorker::Loop() {
  while (!stop_ || !children_.empty()) {
    std::vector<std::function<void()>> posted;
    {
      std::lock_guard lock(posted_mu_);
      posted.swap(posted_);
    }
    if (!posted.empty() && FailpointHit("replay-worker-throw")) {
      throw std::runtime_error("failpoint replay-worker-throw");
    }
    for (auto& fn : posted) fn();
    int64_t now = clock_->MonotonicNanos();
    if (!stop_) RunTimers(now);
    CheckIdle(now);
    int64_t wait = kMaxWaitNs;
    if (!timers_.empty() && !stop_)
      wait = std::clamp(timers_.begin()->first - now, int64_t{0}, wait);
    __kernel_timespec ts{.tv_sec = wait / 1'000'000'000, .tv_nsec = wait % 1'000'000'000};
    io_uring_cqe* cqe = nullptr;
    io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
    unsigned head;
    unsigned seen = 0;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      Complete(cqe);
      ++seen;
    }
    io_uring_cq_advance(&ring_, seen);
  }
}

}  // namespace ferry
