// Watcher: adding and removing watches, new trees, overflow and the watch limit.
#include <spdlog/spdlog.h>
#include <sys/inotify.h>

#include <cerrno>
#include <fstream>

#include "daemon/file_stat.h"
#include "daemon/tree_walk.h"
#include "daemon/watcher.h"
#include "journal/escape.h"

namespace ferry {
namespace {

constexpr size_t kCommitEvery = 10'000;

bool Within(const std::string& path, const std::string& top) {
  return path == top || top.empty() ||
         (path.size() > top.size() && path.starts_with(top) && path[top.size()] == '/');
}

uint64_t ReadProcNumber(const char* path) {
  std::ifstream in(path);
  uint64_t v = 0;
  in >> v;
  return v;
}

}  // namespace

void Watcher::SetState(WatchState state, std::string message) {
  std::lock_guard lock(status_mu_);
  status_.state = state;
  status_.message = std::move(message);
  status_.watches = table_.size();
  status_.unwatched_dirs = unwatched_count_;
}

void Watcher::AddWatch(const std::string& dir) {
  for (const std::string& top : unwatched_) {
    if (Within(dir, top)) {
      ++unwatched_count_;
      return;
    }
  }
  int wd = inotify_add_watch(fd_, Abs(dir).c_str(), mask_);
  if (wd >= 0) {
    table_.Add(wd, dir);
    return;
  }
  const int err = errno;
  if (err == ENOENT || err == ENOTDIR) return;  // gone meanwhile; its delete follows
  unwatched_.push_back(dir);
  ++unwatched_count_;
  if (err != ENOSPC && err != ENOMEM) {
    spdlog::warn("destination {}: cannot watch {}: {}; it is rescanned every {} s instead",
                 options_.name, EscapePath(Abs(dir)),
                 ErrnoStatus(err, "inotify_add_watch").message(),
                 options_.unwatched_rescan_interval_ns / 1'000'000'000);
  }
}

void Watcher::ReportUnwatched() {
  if (unwatched_.empty()) {
    SetState(WatchState::kWatching, "");
    return;
  }
  const uint64_t limit = ReadProcNumber("/proc/sys/fs/inotify/max_user_watches");
  const uint64_t needed = (table_.size() + unwatched_count_) * 5 / 4 + 1024;
  std::string message =
      "inotify watch limit reached: " + std::to_string(table_.size()) + " directories watched, " +
      std::to_string(unwatched_count_) + " more need a watch (fs.inotify.max_user_watches is " +
      std::to_string(limit) + "); raise it to at least " +
      std::to_string(std::max(needed, limit + 1)) +
      " (sysctl -w fs.inotify.max_user_watches=N, or conf/99-ferry-inotify.conf), then send "
      "SIGHUP; until then unwatched directories are rescanned every " +
      std::to_string(options_.unwatched_rescan_interval_ns / 1'000'000'000) + " s";
  spdlog::error("destination {}: {}", options_.name, message);
  SetState(WatchState::kWatchLimit, std::move(message));
}

void Watcher::RemoveWatches(const std::string& dir) {
  for (int wd : table_.RemoveSubtree(dir)) inotify_rm_watch(fd_, wd);
  std::erase_if(unwatched_, [&](const std::string& top) { return Within(top, dir); });
}

void Watcher::AddTree(const std::string& dir, AppendBatch* batch) {
  auto top = StatPath(Abs(dir), clock_->WallNanos());
  if (!top || !IsDir(*top)) return;  // gone or replaced already: later records say so
  PutState(batch, dir, *top);
  AddEvent(batch, EventKind::kCreate, dir, true);
  // Watch, then list: whatever was created before the watch existed is
  // listed, whatever comes after is reported by the watch.
  TreeWalker walker({.root = options_.root,
                     .start = dir,
                     .filter = options_.filter,
                     .clock = clock_,
                     .before_listing = [this](const std::string& d) { AddWatch(d); }});
  while (auto entry = walker.Next()) {
    PutState(batch, entry->path, entry->state);
    AddEvent(batch, EventKind::kCreate, entry->path, IsDir(entry->state));
    if (batch->events.size() + batch->catalog.size() >= kCommitEvery) {
      Status s = Commit(batch);
      if (!s.ok() && deferred_.ok()) deferred_ = s;
    }
  }
}

Status Watcher::HandleOverflow() {
  const uint64_t queued = ReadProcNumber("/proc/sys/fs/inotify/max_queued_events");
  {
    std::lock_guard lock(status_mu_);
    ++status_.overflows;
  }
  spdlog::warn(
      "destination {}: inotify queue overflowed (fs.inotify.max_queued_events is {}): "
      "journaling a rescan of the whole tree and rebuilding the watches",
      options_.name, queued);
  SetState(WatchState::kRescanning, "rescanning after an inotify queue overflow");
  pending_.clear();  // their pairs may be lost; the rescan covers them
  AppendBatch batch;
  AddEvent(&batch, EventKind::kRescan, "", true);
  FERRY_RETURN_IF_ERROR(Commit(&batch));
  unwatched_.clear();
  auto stats = WatchAndReconcile(/*journal_events=*/false);
  if (!stats) return stats.error();
  ReportUnwatched();
  return Status::Ok();
}

Result<ReconcileStats> Watcher::WatchAndReconcile(bool journal_events) {
  unwatched_count_ = 0;
  return Reconcile(journal_, {.destination = options_.destination,
                              .root = options_.root,
                              .filter = options_.filter,
                              .clock = clock_,
                              .journal_events = journal_events,
                              .events = options_.events,
                              .before_listing = [this](const std::string& d) { AddWatch(d); }});
}

Status Watcher::Retry() { return RetryUnwatched(/*force=*/true); }

Status Watcher::RetryUnwatched(bool force) {
  if (unwatched_.empty()) return Status::Ok();
  const int64_t now = clock_->MonotonicNanos();
  if (!force && now < next_unwatched_rescan_ns_) return Status::Ok();
  next_unwatched_rescan_ns_ = now + options_.unwatched_rescan_interval_ns;
  std::vector<std::string> tops;
  tops.swap(unwatched_);
  unwatched_count_ = 0;
  AppendBatch batch;
  for (const std::string& dir : tops) {
    // Whatever changed there while unwatched is replicated by the rescan.
    AddEvent(&batch, EventKind::kRescan, dir, true);
    TreeWalker walker({.root = options_.root,
                       .start = dir,
                       .filter = options_.filter,
                       .clock = clock_,
                       .before_listing = [this](const std::string& d) { AddWatch(d); }});
    while (walker.Next()) {
    }
  }
  FERRY_RETURN_IF_ERROR(Commit(&batch));
  const bool was_limited = status().state == WatchState::kWatchLimit;
  ReportUnwatched();
  if (was_limited && unwatched_.empty()) {
    spdlog::info("destination {}: every directory is watched again", options_.name);
  }
  return Status::Ok();
}

}  // namespace ferry
