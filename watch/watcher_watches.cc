// Watcher: adding and removing watches, new trees, overflow and the watch limit.
#include <spdlog/spdlog.h>
#include <sys/inotify.h>

#include <algorithm>
#include <cerrno>
#include <fstream>

#include "watch/file_stat.h"
#include "watch/tree_walk.h"
#include "watch/watcher.h"
#include "journal/escape.h"

namespace ferry {
namespace {

constexpr size_t kCommitEvery = 10'000;

uint64_t ReadProcNumber(const char* path) {
  std::ifstream in(path);
  uint64_t v = 0;
  in >> v;
  return v;
}

}  // namespace

void Watcher::SetState(DestinationState state, std::string message) {
  std::lock_guard lock(status_mu_);
  status_.state = state;
  status_.message = std::move(message);
  status_.watches = table_.size();
  status_.unwatched_dirs = UnwatchedDirs();
}

void Watcher::AddWatch(const std::string& dir) {
  if (Fanotify()) return;  // the filesystem mark sees every directory
  for (Unwatched& top : unwatched_) {
    if (PathWithin(dir, top.dir)) {
      ++top.dirs;
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
  unwatched_.push_back({.dir = dir});
  if (err != ENOSPC && err != ENOMEM) {
    spdlog::warn("destination {}: cannot watch {}: {}; it is rescanned every {} s instead",
                 options_.name, EscapePath(Abs(dir)),
                 ErrnoStatus(err, "inotify_add_watch").message(),
                 options_.unwatched_rescan_interval_ns / 1'000'000'000);
  }
}

void Watcher::ReportUnwatched(bool log_limit) {
  if (journal_failed_) return;  // that state says more; RecoverJournal() reports after
  if (unwatched_.empty()) {
    SetState(DestinationState::kWatching, "");
    return;
  }
  const uint64_t limit = ReadProcNumber("/proc/sys/fs/inotify/max_user_watches");
  const uint64_t unwatched = UnwatchedDirs();
  const uint64_t needed = (table_.size() + unwatched) * 5 / 4 + 1024;
  std::string message =
      "inotify watch limit reached: " + std::to_string(table_.size()) + " directories watched, " +
      std::to_string(unwatched) + " more need a watch (fs.inotify.max_user_watches is " +
      std::to_string(limit) + "); raise it to at least " +
      std::to_string(std::max(needed, limit + 1)) +
      " (sysctl -w fs.inotify.max_user_watches=N, or conf/99-ferry-inotify.conf), then send "
      "SIGHUP; until then unwatched directories are rescanned every " +
      std::to_string(options_.unwatched_rescan_interval_ns / 1'000'000'000) + " s";
  if (log_limit) spdlog::error("destination {}: {}", options_.name, message);
  SetState(DestinationState::kWatchLimit, std::move(message));
}

void Watcher::RemoveWatches(const std::string& dir) {
  for (int wd : table_.RemoveSubtree(dir)) inotify_rm_watch(fd_, wd);
  ForgetUnwatched(dir);
}

void Watcher::ForgetUnwatched(const std::string& dir) {
  if (std::erase_if(unwatched_, [&](const Unwatched& top) { return PathWithin(top.dir, dir); }) == 0) {
    return;
  }
  if (status().state != DestinationState::kWatchLimit) return;  // another state says more
  ReportUnwatched(/*log_limit=*/false);
  if (unwatched_.empty()) {
    spdlog::info("destination {}: every directory is watched again", options_.name);
  }
}

void Watcher::RenameUnwatched(const std::string& from, const std::string& to) {
  for (Unwatched& top : unwatched_) {
    if (PathWithin(top.dir, from)) top.dir = to + top.dir.substr(from.size());
  }
}

bool Watcher::IsUnwatched(const std::string& dir) const {
  return std::any_of(unwatched_.begin(), unwatched_.end(),
                     [&](const Unwatched& top) { return PathWithin(dir, top.dir); });
}

void Watcher::Vanished(const std::string& dir) {
  if (dir.empty()) return;  // the source directory itself: its own watch says so
  spdlog::debug("destination {}: {} was gone when listed; listed again where its rename goes",
                options_.name, EscapePath(dir));
  unlisted_.push_back(dir);
}

void Watcher::Unseen(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return;  // at the root: only its own rename can follow
  std::string dir = path.substr(0, slash);
  if (std::find(unlisted_.begin(), unlisted_.end(), dir) == unlisted_.end()) {
    unlisted_.push_back(std::move(dir));
  }
}

bool Watcher::ForgetUnlisted(const std::string& dir) {
  return std::erase_if(unlisted_, [&](const std::string& d) { return PathWithin(d, dir); }) > 0;
}

uint64_t Watcher::UnwatchedDirs() const {
  uint64_t n = 0;
  for (const Unwatched& top : unwatched_) n += top.dirs;
  return n;
}

void Watcher::AddTree(const std::string& dir, bool list, AppendBatch* batch) {
  ForgetUnwatched(dir);  // what was there is gone: this tree is new
  ForgetUnlisted(dir);
  auto top = StatPath(Abs(dir), clock_->WallNanos());
  if (!top) {
    Unseen(dir);  // gone already: deleted, or a parent renamed
    return;
  }
  if (!IsDir(*top)) return;  // replaced already: later records say so
  PutState(batch, dir, *top);
  AddEvent(batch, EventKind::kCreate, dir, true);
  if (!list) return;
  // Watch, then list: whatever was created before the watch existed is
  // listed, whatever comes after is reported by the watch.
  TreeWalker walker({.root = options_.root,
                     .start = dir,
                     .filter = options_.filter,
                     .clock = clock_,
                     .before_listing = [this](const std::string& d) { AddWatch(d); },
                     .on_vanished = [this](const std::string& d) { Vanished(d); }});
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
  {
    std::lock_guard lock(status_mu_);
    ++status_.overflows;
  }
  if (Fanotify()) {
    spdlog::warn(
        "destination {}: fanotify events were dropped (more were unread than ferryd holds): "
        "journaling a rescan of the whole tree",
        options_.name);
  } else {
    spdlog::warn(
        "destination {}: inotify queue overflowed (fs.inotify.max_queued_events is {}): "
        "journaling a rescan of the whole tree and rebuilding the watches",
        options_.name, ReadProcNumber("/proc/sys/fs/inotify/max_queued_events"));
  }
  pending_.clear();  // their pairs may be lost; the rescan covers them
  // With the journal failing, the reconcile that follows its recovery
  // journals what the lost records said, and rebuilds the watches.
  if (journal_failed_) return Status::Ok();
  SetState(DestinationState::kRescanning,
           "rescanning after a " + std::string(WatcherBackendName(options_.backend)) +
               " queue overflow");
  AppendBatch batch;
  AddEvent(&batch, EventKind::kRescan, "", true);
  FERRY_RETURN_IF_ERROR(Commit(&batch));
  if (journal_failed_) return Status::Ok();  // the rescan event was not journaled
  auto stats = WatchAndReconcile(/*journal_events=*/false);
  if (!stats) return JournalRefused(stats.error()) ? Status::Ok() : stats.error();
  ReportUnwatched();
  return Status::Ok();
}

Result<ReconcileStats> Watcher::WatchAndReconcile(bool journal_events) {
  unwatched_.clear();
  unlisted_.clear();  // the walk lists everything again
  return ReconcileWatching(journal_events, {});
}

Result<ReconcileStats> Watcher::ReconcileWatching(bool journal_events,
                                                  const std::vector<std::string>& subtrees) {
  return Reconcile(journal_, {.destination = options_.destination,
                              .root = options_.root,
                              .filter = options_.filter,
                              .clock = clock_,
                              .journal_events = journal_events,
                              .events = options_.events,
                              .before_listing = [this](const std::string& d) { AddWatch(d); },
                              .on_vanished = [this](const std::string& d) { Vanished(d); },
                              .on_put =
                                  [this](const std::string& path, const FileState& state) {
                                    racy_.Recorded(path, state, clock_->MonotonicNanos());
                                  },
                              .subtrees = subtrees});
}

Status Watcher::RetryUnwatched(bool force) {
  if (unwatched_.empty()) return Status::Ok();
  const int64_t now = clock_->MonotonicNanos();
  if (!force && now < next_unwatched_rescan_ns_) return Status::Ok();
  next_unwatched_rescan_ns_ = now + options_.unwatched_rescan_interval_ns;
  const bool was_limited = status().state == DestinationState::kWatchLimit;
  std::vector<Unwatched> tops;
  tops.swap(unwatched_);
  std::vector<std::string> dirs;
  for (auto it = tops.begin(); it != tops.end();) {
    // Moved away, its pair not read yet: the MOVED_TO renames it, or it
    // turns out moved out of the tree and is forgotten.
    const bool moving = std::any_of(pending_.begin(), pending_.end(), [&](const auto& p) {
      return p.second.is_dir && PathWithin(it->dir, p.second.path);
    });
    if (moving) {
      unwatched_.push_back(std::move(*it));
      it = tops.erase(it);
    } else {
      dirs.push_back(it->dir);
      ++it;
    }
  }
  // Watches each directory before listing it (failing again: unwatched
  // again), and journals what changed there while unwatched with the
  // catalog changes that record it, in the same writes.
  auto stats = ReconcileWatching(/*journal_events=*/true, dirs);
  // What is neither watched now nor unwatched again was not found.
  for (Unwatched& top : tops) {
    if (table_.Wd(top.dir) || IsUnwatched(top.dir)) continue;
    if (!stats) {
      // The reconcile failed, maybe before walking it: tried again.
      unwatched_.push_back(std::move(top));
    } else if (!top.missing) {
      // Not there: deleted or renamed, with the record saying so not read
      // yet (it forgets or renames it). Looked for again at the next retry.
      top.missing = true;
      unwatched_.push_back(std::move(top));
    } else {
      spdlog::warn("destination {}: unwatched directory {} is gone; not retried any more",
                   options_.name, EscapePath(Abs(top.dir)));
    }
  }
  if (!stats) {
    if (JournalRefused(stats.error())) return Status::Ok();  // its recovery rescans everything
    return stats.error().WithContext("destination " + options_.name);
  }
  if (stats->events > 0) {
    spdlog::info(
        "destination {}: the rescan of {} unwatched directories found {} changes ({} new, {} "
        "changed, {} gone) and journaled them",
        options_.name, dirs.size(),
        stats->created + stats->modified + stats->attrib + stats->deleted, stats->created,
        stats->modified + stats->attrib, stats->deleted);
  }
  ReportUnwatched();
  if (was_limited && unwatched_.empty()) {
    spdlog::info("destination {}: every directory is watched again", options_.name);
  }
  return Status::Ok();
}

}  // namespace ferry
