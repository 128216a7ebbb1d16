// Watcher: kernel records to journal events (the records side).
#include "watch/watcher.h"

#include <spdlog/spdlog.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "watch/file_stat.h"
#include "watch/racy_entries.h"
#include "journal/escape.h"

namespace ferry {

namespace {

Result<int> NewInotifyFd() {
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd >= 0) return fd;
  Status s = ErrnoStatus(errno, "inotify_init1");
  if (errno == EMFILE) {
    s = s.WithContext("too many inotify instances: raise fs.inotify.max_user_instances");
  }
  return s;
}

}  // namespace

Result<std::unique_ptr<Watcher>> Watcher::Create(WatcherOptions options, Journal* journal,
                                                 Clock* clock) {
  if (options.backend == WatcherBackend::kFanotify) {
    return std::unique_ptr<Watcher>(new Watcher(std::move(options), journal, clock, -1));
  }
  auto fd = NewInotifyFd();
  if (!fd) return fd.error();
  return std::unique_ptr<Watcher>(new Watcher(std::move(options), journal, clock, *fd));
}

Result<ReconcileStats> Watcher::Rebuild() {
  if (!Fanotify()) {
    auto fd = NewInotifyFd();
    if (!fd) {
      SetState(DestinationState::kFailed, fd.error().message() + "; retried");
      return fd.error();
    }
    close(fd_);  // its watches go with it
    fd_ = *fd;
    table_ = WatchTable{};
  }
  pending_.clear();  // their pairs may be lost: the reconcile covers them
  // The journal's recovery watches and reconciles the whole tree anyway.
  if (journal_failed_) return ReconcileStats{};
  SetState(DestinationState::kRescanning,
           "rescanning: the " + std::string(WatcherBackendName(options_.backend)) +
               " records stopped");
  auto stats = WatchAndReconcile(/*journal_events=*/true);
  if (!stats) {
    if (JournalRefused(stats.error())) return ReconcileStats{};  // its recovery rescans
    SetState(DestinationState::kFailed, "rescan: " + stats.error().message() + "; retried");
    return stats.error().WithContext("destination " + options_.name);
  }
  next_unwatched_rescan_ns_ = clock_->MonotonicNanos() + options_.unwatched_rescan_interval_ns;
  ReportUnwatched();
  return stats;
}

Watcher::Watcher(WatcherOptions options, Journal* journal, Clock* clock, int fd)
    : options_(std::move(options)), journal_(journal), clock_(clock), fd_(fd) {
  mask_ = IN_CREATE | IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
          IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK;
  if (Selected(kSelectModify)) mask_ |= IN_MODIFY;
  status_.backend = WatcherBackendName(options_.backend);
  status_.backend_reason = options_.backend_reason;
}

Watcher::~Watcher() {
  if (fd_ >= 0) close(fd_);
}


WatcherStatus Watcher::status() const {
  std::lock_guard lock(status_mu_);
  WatcherStatus s = status_;
  return s;
}

std::string Watcher::Abs(const std::string& rel) const {
  return rel.empty() ? options_.root : options_.root + "/" + rel;
}

void Watcher::AddEvent(AppendBatch* batch, EventKind kind, const std::string& path, bool is_dir,
                       std::string old_path) {
  batch->events.push_back(Event{.time_ns = clock_->WallNanos(),
                                .destination = options_.destination,
                                .kind = kind,
                                .is_dir = is_dir,
                                .path = path,
                                .old_path = std::move(old_path)});
}

const Watcher::StatOnce* Watcher::Lstat(const std::string& path) {
  auto [it, added] = stats_.try_emplace(path);
  StatOnce& once = it->second;
  if (added) {
    once.seen_ns = clock_->WallNanos();  // before the stat, as a walk does
    once.found = lstat(Abs(path).c_str(), &once.st) == 0;
  }
  return once.found ? &once : nullptr;
}

void Watcher::PutState(AppendBatch* batch, const std::string& path, const FileState& state) {
  if (!batch->catalog.empty()) {  // records of one path, nothing changed between: one row
    const CatalogChange& last = batch->catalog.back();
    if (last.op == CatalogChange::Op::kPut && last.path == path && last.state == state) return;
  }
  pending_catalog_.Put(path);
  batch->catalog.push_back({.op = CatalogChange::Op::kPut,
                            .destination = options_.destination,
                            .path = path,
                            .state = state});
  racy_.Recorded(path, state, clock_->MonotonicNanos());
}

void Watcher::PublishCounts() {
  std::lock_guard lock(status_mu_);
  status_.unsettled = racy_.size();
  status_.watches = table_.size();  // else as of the last state change
}

Status Watcher::Settle(const std::function<bool()>& caught_up) {
  // With the journal failing, the reconcile after its recovery puts them again.
  if (journal_failed_ || racy_.size() == 0) return Status::Ok();
  const int64_t now = clock_->MonotonicNanos();
  if (racy_.NextDueNs() > now) return Status::Ok();
  // Busy: no use statting now. The rows stay where they are (taking them
  // out and back at every turn of a burst cost more than the records).
  if (!caught_up()) return Status::Ok();
  // Enough for a few tens of milliseconds; the rest at the next call.
  std::vector<RacyEntries::Check> due = racy_.Due(now, /*max=*/10'000);
  if (due.empty()) return Status::Ok();
  constexpr int64_t kUnreadDelayNs = 50'000'000;
  auto again = [&](std::vector<RacyEntries::Check>& checks) {
    for (RacyEntries::Check& c : checks) racy_.Again(std::move(c), now + kUnreadDelayNs);
    PublishCounts();
    return Status::Ok();
  };
  std::vector<RacyEntries::Check> ready;
  std::vector<FileState> states;
  for (RacyEntries::Check& c : due) {
    auto state = StatPath(Abs(c.path), clock_->WallNanos());
    if (!state) continue;  // gone: its record deletes the row
    FileState recorded = c.recorded;
    recorded.seen_ns = state->seen_ns;
    if (recorded != *state) continue;  // changed: its record puts the row again
    if (IsRacy(*state) ||
        (S_ISREG(state->mode) && !NotOpenForWriting(Abs(c.path)))) {  // clocks apart, or writing
      racy_.Later(std::move(c), now);
      continue;
    }
    ready.push_back(std::move(c));
    states.push_back(*state);
  }
  // A write closed before those stats, in the same tick, has its record in
  // the queue still: it re-records the row, and the row waits for its tick.
  if (!caught_up()) return again(ready);
  AppendBatch batch;
  for (size_t i = 0; i < ready.size(); ++i) {
    // The row must still be what was recorded: a batch the journal refused
    // (or that a reconcile wrote since) leaves another row.
    auto row = journal_->GetCatalogEntry(options_.destination, ready[i].path);
    if (!row || !row->has_value() || **row != ready[i].recorded) continue;
    batch.catalog.push_back({.op = CatalogChange::Op::kPut,
                             .destination = options_.destination,
                             .path = ready[i].path,
                             .state = states[i]});
  }
  const size_t settled = batch.catalog.size();
  Status s = Commit(&batch);
  if (s.ok() && !journal_failed_) {
    std::lock_guard lock(status_mu_);
    status_.settled += settled;
  }
  PublishCounts();
  return s;
}

Status Watcher::Commit(AppendBatch* batch) {
  if (batch->events.empty() && batch->catalog.empty()) return Status::Ok();
  pending_catalog_.Clear();
  if (journal_failed_) {  // the reconcile after Recover() journals it
    *batch = AppendBatch{};
    return Status::Ok();
  }
  auto r = journal_->Append(std::move(*batch));
  *batch = AppendBatch{};
  if (!r && JournalRefused(r.error())) return Status::Ok();
  return r.error().WithContext("destination " + options_.name);
}

std::string Watcher::JournalErrorMessage(const Status& refused) const {
  return refused.message() + "; until it takes writes again (tried every " +
         std::to_string(options_.journal_retry_interval_ns / 1'000'000) +
         " ms, and at SIGHUP) changes are not journaled; then the tree is compared with the "
         "catalog and every change made meanwhile is journaled";
}

bool Watcher::JournalRefused(const Status& s) {
  if (!s.IsIOError()) return false;
  // Whatever the journal says now (another watcher may have recovered it
  // meanwhile), this batch may not be journaled: the reconcile is owed.
  if (!journal_failed_) {
    const Status refused = journal_->write_status();
    EnterJournalError(refused.ok() ? s : refused);
  }
  return true;
}

void Watcher::EnterJournalError(const Status& refused) {
  const int64_t now = clock_->MonotonicNanos();
  journal_failed_ = true;
  next_journal_retry_ns_ = now + options_.journal_retry_interval_ns;
  std::string message = JournalErrorMessage(refused);
  if (!std::exchange(journal_error_logged_, true)) {  // a new outage
    journal_failed_since_ns_ = now;
    spdlog::error("destination {}: {}", options_.name, message);
  }
  SetState(DestinationState::kJournalError, std::move(message));
}

Status Watcher::RecoverJournal(bool force) {
  const int64_t now = clock_->MonotonicNanos();
  if (!force && now < next_journal_retry_ns_) return Status::Ok();
  next_journal_retry_ns_ = now + options_.journal_retry_interval_ns;
  Status s = journal_->Recover();
  if (!s.ok()) {
    SetState(DestinationState::kJournalError, JournalErrorMessage(s));
    return Status::Ok();
  }
  journal_failed_ = false;
  SetState(DestinationState::kRescanning, "journaling the changes made while the journal was failing");
  auto stats = WatchAndReconcile(/*journal_events=*/true);
  if (!stats) {
    if (JournalRefused(stats.error())) return Status::Ok();  // failing again: retried
    // Another error: the reconcile is still owed, and tried again.
    journal_failed_ = true;
    SetState(DestinationState::kJournalError,
             "rescan after the journal failure: " + stats.error().message() + "; retried");
    return stats.error().WithContext("destination " + options_.name);
  }
  journal_error_logged_ = false;
  spdlog::info(
      "destination {}: the journal takes writes again after {:.1f} s; the rescan found {} "
      "changes ({} new, {} changed, {} gone) and journaled them",
      options_.name, (clock_->MonotonicNanos() - journal_failed_since_ns_) / 1e9,
      stats->created + stats->modified + stats->attrib + stats->deleted, stats->created,
      stats->modified + stats->attrib, stats->deleted);
  ReportUnwatched();
  return Status::Ok();
}

Result<ReconcileStats> Watcher::Start() {
  SetState(DestinationState::kStarting, "");
  struct stat st;
  if (stat(options_.root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    Status s = Status::NotFound("source " + options_.root + " of destination " + options_.name +
                                " is not a directory");
    SetState(DestinationState::kFailed, s.message());
    return s;
  }
  auto stats = WatchAndReconcile(/*journal_events=*/true);
  if (!stats) return stats.error();
  next_unwatched_rescan_ns_ = clock_->MonotonicNanos() + options_.unwatched_rescan_interval_ns;
  ReportUnwatched();
  return stats;
}

Status Watcher::Process(const std::vector<InotifyRecord>& records) {
  return ProcessRecords(records);
}

Status Watcher::Process(const std::vector<ChangeRecord>& changes) {
  return ProcessRecords(changes);
}

template <typename Record>
Status Watcher::ProcessRecords(const std::vector<Record>& records) {
  ++processes_;
  stats_.clear();
  AppendBatch batch;
  for (const Record& r : records) {
    if ((r.mask & IN_Q_OVERFLOW) != 0) {
      overflowed_ = true;
      continue;
    }
    Handle(r, &batch);
  }
  stats_.clear();
  FERRY_RETURN_IF_ERROR(Commit(&batch));
  PublishCounts();
  if (!deferred_.ok()) return std::exchange(deferred_, Status::Ok());
  if (overflowed_) {
    overflowed_ = false;
    FERRY_RETURN_IF_ERROR(HandleOverflow());
  }
  return Status::Ok();
}

Status Watcher::Retry() {
  if (journal_failed_) return RecoverJournal(/*force=*/true);
  return RetryUnwatched(/*force=*/true);
}

void Watcher::Handle(const InotifyRecord& r, AppendBatch* batch) {
  if ((r.mask & IN_IGNORED) != 0) {
    table_.RemoveWd(r.wd);
    return;
  }
  std::optional<std::string> found = table_.Path(r.wd, r.name);
  if (!found) {  // a watch removed meanwhile
    if ((r.mask & (IN_MOVED_TO | IN_CREATE | IN_CLOSE_WRITE)) != 0) {
      // Normal for a directory removed since; a lead if a change goes missing.
      spdlog::debug("destination {}: record {:#x} for {} of an unknown watch {} dropped",
                    options_.name, r.mask, EscapePath(r.name), r.wd);
    }
    return;
  }
  // The parent's watch reports what happens to a directory itself; the
  // source's own watch reports its removal.
  if (r.name.empty() && !found->empty()) return;
  HandleChange(r.mask, r.cookie, *found, batch);
}

void Watcher::HandleChange(uint32_t mask, uint32_t cookie, const std::string& path,
                           AppendBatch* batch) {
  if (path.empty()) {
    if ((mask & (IN_DELETE_SELF | IN_MOVE_SELF)) != 0) {
      SetState(DestinationState::kFailed, "source directory " + options_.root +
                                        " was removed or moved away; restore it and send SIGHUP");
      spdlog::error("destination {}: {}", options_.name, status().message);
    }
    return;
  }
  const bool is_dir = (mask & IN_ISDIR) != 0;
  if ((mask & IN_MOVED_TO) != 0) {
    HandleMovedTo(cookie, path, is_dir, batch);
    return;
  }
  SettlePendingAt(path, batch);
  if (options_.filter && options_.filter->Match(path, is_dir)) return;

  if ((mask & IN_MOVED_FROM) != 0) {
    pending_[cookie] = {.path = path,
                          .is_dir = is_dir,
                          .deadline_ns = clock_->MonotonicNanos() + options_.move_timeout_ns,
                          .read_in = processes_};
  } else if ((mask & IN_CREATE) != 0) {
    HandleCreate(path, is_dir, /*moved_in=*/false, batch);
  } else if ((mask & IN_DELETE) != 0) {
    Gone(path, is_dir, batch);
    if (is_dir) ForgetUnwatched(path);  // its watch, if any, goes with IN_IGNORED
  } else if ((mask & (IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB)) != 0) {
    const StatOnce* st = Lstat(path);
    if (st == nullptr) {
      Unseen(path);  // gone already: its delete follows, or a parent's rename
      return;
    }
    PutState(batch, path, st->state());
    const bool content = (mask & (IN_CLOSE_WRITE | IN_MODIFY)) != 0;
    if (content && Selected((mask & IN_CLOSE_WRITE) ? kSelectCloseWrite : kSelectModify)) {
      const Event* last = batch->events.empty() ? nullptr : &batch->events.back();
      if (last == nullptr || last->kind != EventKind::kModify || last->path != path) {
        AddEvent(batch, EventKind::kModify, path, false);  // many writes in a row: one event
      }
    } else if (!content && Selected(kSelectAttrib)) {
      AddEvent(batch, EventKind::kAttrib, path, is_dir);
    }
  }
}

void Watcher::HandleMovedTo(uint32_t cookie, const std::string& path, bool is_dir,
                            AppendBatch* batch) {
  const bool excluded = options_.filter && options_.filter->Match(path, is_dir);
  auto from = pending_.find(cookie);
  if (from == pending_.end()) {  // moved in from outside (or from an excluded name)
    SettlePendingAt(path, batch);
    if (!excluded) HandleCreate(path, is_dir, /*moved_in=*/true, batch);
    return;
  }
  PendingMove move = std::move(from->second);
  pending_.erase(from);
  if (excluded) {  // renamed to an excluded name: gone, as far as targets care
    Gone(move.path, move.is_dir, batch);
    if (move.is_dir) RemoveWatches(move.path);
    return;
  }
  SettlePendingAt(path, batch);
  // A walk journaled it (or something in it) but could not list it: it was
  // on its way here. List it now.
  const bool unlisted = move.is_dir && ForgetUnlisted(move.path);
  if (move.is_dir) {
    table_.Rename(move.path, path);
    // What it replaced (an empty directory) is gone; what the watch limit
    // left unwatched in it is still to be watched, under its new name.
    ForgetUnwatched(path);
    RenameUnwatched(move.path, path);
  }
  // Cataloged already, or by this batch (the journal's move takes the rows
  // of both), and not removed by it since. A read error: assume it is.
  bool known = true;
  if (auto pending = pending_catalog_.Has(move.path)) {
    known = *pending;
  } else {
    auto row = journal_->GetCatalogEntry(options_.destination, move.path);
    known = !row || row->has_value();
  }
  batch->catalog.push_back({.op = CatalogChange::Op::kMove,
                            .destination = options_.destination,
                            .path = path,
                            .old_path = move.path});
  pending_catalog_.Remove(move.path);
  pending_catalog_.Remove(path);  // what it replaced
  if (known) pending_catalog_.Put(path);
  racy_.Rename(move.path, path);
  if (Selected(kSelectMove)) {
    AddEvent(batch, EventKind::kMove, path, is_dir, move.path);
  } else {  // moves not journaled as such: a delete and a create
    if (Selected(kSelectDelete)) AddEvent(batch, EventKind::kDelete, move.path, is_dir);
    AddEvent(batch, EventKind::kCreate, path, is_dir);
  }
  // Made and renamed before its create was handled (the create found
  // nothing at the old name): the catalog had no row to move and the watch
  // table no directory to rename. Take the new name as created, so it is
  // watched and cataloged; otherwise its removal while ferryd is stopped
  // goes unnoticed at the next start (found by the SIGKILL scenario).
  if (!known || unlisted) {
    HandleCreate(path, is_dir, /*moved_in=*/true, batch);
  } else if (!is_dir) {
    // A rename changes the file's ctime: the moved row would count as
    // changed at the next start, and the file be sent again.
    if (const StatOnce* st = Lstat(path)) PutState(batch, path, st->state());
  }
}

void Watcher::HandleCreate(const std::string& path, bool is_dir, bool moved_in,
                           AppendBatch* batch) {
  if (is_dir) {
    AddTree(path, /*list=*/moved_in || !Fanotify(), batch);
    return;
  }
  const StatOnce* found = Lstat(path);
  if (found == nullptr) {
    Unseen(path);  // gone already: deleted, or a parent renamed
    return;
  }
  const struct stat& st = found->st;
  // A new regular file is complete only at IN_CLOSE_WRITE, unless it arrived
  // whole: moved in, or a hard link (no write follows).
  const bool wait_for_close =
      S_ISREG(st.st_mode) && !moved_in && st.st_nlink == 1 && Selected(kSelectCloseWrite);
  // No row without an event: a row says "the targets are sent this state".
  // Put here, it would match the finished file when this record is read
  // late, and a stop before the IN_CLOSE_WRITE is read would leave the file
  // unsent for good (the reconcile after it finds the row as on disk). That
  // is the close_write's row to put; till then the next start finds it new.
  if (wait_for_close) return;
  PutState(batch, path, found->state());
  if (moved_in || Selected(kSelectCreate) || Selected(kSelectCloseWrite)) {
    AddEvent(batch, EventKind::kCreate, path, false);
  }
}

void Watcher::Gone(const std::string& path, bool is_dir, AppendBatch* batch) {
  if (is_dir) ForgetUnlisted(path);
  pending_catalog_.Remove(path);
  racy_.Forget(path);
  batch->catalog.push_back(
      {.op = CatalogChange::Op::kDelete, .destination = options_.destination, .path = path});
  if (Selected(kSelectDelete)) AddEvent(batch, EventKind::kDelete, path, is_dir);
}

void Watcher::SettlePendingAt(const std::string& path, AppendBatch* batch) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.path != path) {
      ++it;
      continue;
    }
    Gone(it->second.path, it->second.is_dir, batch);
    if (it->second.is_dir) RemoveWatches(it->second.path);
    it = pending_.erase(it);
  }
}

Status Watcher::Tick() {
  AppendBatch batch;
  const int64_t now = clock_->MonotonicNanos();
  for (auto it = pending_.begin(); it != pending_.end();) {
    // Its IN_MOVED_TO follows it at once in the queue, but may sit unhandled
    // behind a long Process() (a busy watcher is seconds behind): only a
    // later Process() call, which took what was read meanwhile, settles it.
    if (it->second.deadline_ns > now || it->second.read_in == processes_) {
      ++it;
      continue;
    }
    // Moved out of the tree. inotify keeps watching a directory moved away.
    spdlog::debug("destination {}: {} moved out of the tree (no IN_MOVED_TO for cookie {})",
                  options_.name, EscapePath(it->second.path), it->first);
    Gone(it->second.path, it->second.is_dir, &batch);
    if (it->second.is_dir) RemoveWatches(it->second.path);
    it = pending_.erase(it);
  }
  FERRY_RETURN_IF_ERROR(Commit(&batch));
  if (!journal_failed_) {  // a lane's failed cursor write stops the journal too
    const Status refused = journal_->write_status();
    if (!refused.ok()) EnterJournalError(refused);
  }
  if (journal_failed_) return RecoverJournal(/*force=*/false);
  return RetryUnwatched(/*force=*/false);
}

int64_t Watcher::NextTickNs() const {
  int64_t next = unwatched_.empty() ? INT64_MAX : next_unwatched_rescan_ns_;
  if (journal_failed_) next = std::min(next, next_journal_retry_ns_);
  for (const auto& [cookie, move] : pending_) next = std::min(next, move.deadline_ns);
  if (!journal_failed_) next = std::min(next, racy_.NextDueNs());
  return next;
}

}  // namespace ferry
