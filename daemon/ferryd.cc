#include "daemon/ferryd.h"

#include <malloc.h>

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <future>
#include <stdexcept>
#include <thread>

#include "base/failpoint.h"
#include "replay/spawn.h"
#include "settings/control_locator.h"

namespace ferry {
namespace {

// "2026-12-06 19:40:12 +0000", for log lines about stored times.
std::string LocalTime(int64_t ns) {
  const time_t t = static_cast<time_t>(ns / 1'000'000'000);
  struct tm tm = {};
  localtime_r(&t, &tm);
  char buf[40];
  return std::strftime(buf, sizeof buf, "%F %T %z", &tm) ? buf : std::to_string(t);
}

}  // namespace

Ferryd::Ferryd(Config config) : config_(std::move(config)) {}

Ferryd::~Ferryd() {
  metrics_.reset();  // no requests while shutting down
  control_.reset();
  Stop();
  if (maintenance_.joinable()) maintenance_.join();  // may finish a trim or a join first
  std::vector<Destination*> ds;
  {
    std::lock_guard lock(mu_);
    for (auto& d : destinations_) ds.push_back(d.get());
  }
  for (Destination* d : ds) {
    if (d->thread.joinable()) d->thread.join();
  }
  DrainLanes();
  for (auto& w : workers_) w->Stop();  // before the lanes they drive go away
}

void Ferryd::DrainLanes() {
  std::vector<Lane*> lanes;
  int64_t grace_ns;
  {
    std::lock_guard lock(mu_);
    for (auto& t : targets_) lanes.push_back(t->lane.get());
    for (auto& l : retired_lanes_) lanes.push_back(l.get());
    grace_ns = config_.shutdown_grace_ns;
  }
  for (Lane* l : lanes) l->Stop();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(grace_ns);
  auto busy = [&] {
    return std::count_if(lanes.begin(), lanes.end(), [](Lane* l) { return !l->status().stopped; });
  };
  while (busy() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (const auto n = busy(); n > 0) {
    spdlog::warn(
        "shutdown_grace ({} s) is over: stopping the transfers of {} target(s); their batches "
        "go again after the next start",
        grace_ns / 1'000'000'000, n);
  }
}

LaneOptions Ferryd::LaneFor(const TargetConfig& t, const Destination& d) const {
  LaneOptions o;
  o.target = ResolveTarget(t, d.config);
  o.destination = d.id;
  o.batch_delay_ns = config_.batch_delay_ns;
  o.retry_max_ns = config_.retry_max_ns;
  o.dead_letter_retry_ns = config_.dead_letter_retry_ns;
  o.parallel = t.parallel;
  if (struct stat st; stat(d.config.source.c_str(), &st) == 0) o.source_device = st.st_dev;
  if (cut_transfers_ && t.url.kind != TargetUrl::Kind::kLocal)
    o.start_delay_ns = kCutTransferSettleNs;
  o.sweep_cut_temp_files = cut_transfers_ && t.url.kind == TargetUrl::Kind::kLocal;
  return o;
}

Status Ferryd::Start() {
  started_ns_ = SystemClock::Default()->WallNanos();
  // A small budget gets small memtables: the preallocated write-ahead log
  // follows their size. max_size = 0 is no budget: the journal's default.
  const uint64_t memtable =
      config_.max_size == 0
          ? 0
          : std::clamp<uint64_t>(config_.max_size / 8, 1 << 20, kDefaultMemtableBytes);
  auto journal =
      Journal::Open({.dir = config_.journal_dir, .sync = config_.sync, .memtable_bytes = memtable});
  if (!journal) return journal.error();
  journal_ = std::move(*journal);
  spdlog::info("journal {} (id {}), head seq {}", config_.journal_dir, journal_->id().Hex(),
               journal_->LastSeq());

  // What a crashed predecessor's transfers left running could still write
  // old data after we deliver newer: stop it before any lane starts.
  const std::string children = config_.journal_dir + "/children";
  const Leftovers left = KillLeftoverChildren(children);
  if (left.transfers > 0) {
    // The receiving end of a cut transfer on a remote target (rsync daemon,
    // sshd) cannot be killed from here and may still complete a file it had
    // whole; remote targets wait a moment so that it cannot land after a
    // newer version.
    cut_transfers_ = true;
    spdlog::warn(
        "the previous ferryd did not stop cleanly: {} transfer(s) were cut, {} leftover "
        "process(es) killed, {} rsync temporary file(s) they left removed; remote targets "
        "start in {} s",
        left.transfers, left.killed, left.temp_files_removed, kCutTransferSettleNs / 1'000'000'000);
  }
  SetChildRecordDir(children);
  for (int i = 0; i < config_.workers; ++i) {
    workers_.push_back(std::make_unique<UringWorker>());
    FERRY_RETURN_IF_ERROR(workers_.back()->Start());
  }
  std::lock_guard lock(mu_);
  for (const DestinationConfig& dc : config_.destinations) {
    FERRY_RETURN_IF_ERROR(AddDestination(dc));
  }
  for (const TargetConfig& t : config_.targets) FERRY_RETURN_IF_ERROR(AddTarget(t));
  auto control = ControlServer::Start({.path = config_.socket, .mode = config_.socket_mode},
                                      [this](const nlohmann::json& r, const ControlPeer& peer) {
                                        return HandleControl(r, peer);
                                      });
  if (!control) return control.error().WithContext("control socket");
  control_ = std::move(*control);
  if (Status s = WriteControlLocator(config_.journal_dir, config_.socket); !s.ok()) {
    spdlog::warn("ferryctl --journal {} will not find the control socket: {}", config_.journal_dir,
                 s.ToString());
  }
  if (!config_.metrics_listen.empty()) {
    auto metrics = MetricsServer::Start(config_.metrics_listen, [this] { return StatusJson(); });
    if (!metrics) return metrics.error();
    metrics_ = std::move(*metrics);
    spdlog::info("metrics at http://{}/metrics", config_.metrics_listen);
  }
  ready_ = true;
  maintenance_ = std::thread([this] { MaintenanceLoop(); });
  return Status::Ok();
}

void Ferryd::MaintenanceLoop() {
  std::unique_lock lock(maintenance_mu_);
  while (!maintenance_cv_.wait_for(lock, kMaintainEvery, [this] { return stop_.load(); })) {
    lock.unlock();
    try {
      Maintain();
    } catch (const std::exception& e) {
      // As when it ran on the main loop: ferryd stops, and main() exits 70.
      spdlog::critical("stopping on an unexpected error in maintenance: {}", e.what());
      maintenance_failed_ = true;
      Stop();
    }
    lock.lock();
  }
}

Result<std::unique_ptr<Ferryd::Destination>> Ferryd::PrepareDestination(
    const DestinationConfig& dc) {
  auto d = std::make_unique<Destination>();
  d->config = dc;
  auto id = journal_->DestinationId(dc.name);
  if (!id) return id.error();
  d->id = *id;
  auto filter = Filter::Create(dc.filter);
  if (!filter) return filter.error().WithContext("destination " + dc.name);
  auto backend = ChooseBackend(dc.watcher, dc.source);
  if (!backend) return backend.error().WithContext("destination " + dc.name);
  auto watch = CreateTreeWatcher({.name = dc.name,
                                  .destination = d->id,
                                  .root = dc.source,
                                  .filter = *filter,
                                  .events = dc.events,
                                  .backend = backend->backend,
                                  .backend_reason = backend->why},
                                 journal_.get());
  if (!watch) return watch.error().WithContext("destination " + dc.name);
  d->watch = std::move(*watch);
  auto start = std::chrono::steady_clock::now();
  auto stats = d->watch->Start();
  if (!stats) return stats.error().WithContext("destination " + dc.name);
  const WatcherStatus ws = d->watch->status();
  spdlog::info(
      "destination {}: {} watched by {} ({}{}); reconciled {} entries in {:.2f} s: {} new, "
      "{} changed, {} gone{}",
      dc.name, dc.source, ws.backend, backend->why,
      backend->backend == WatcherBackend::kInotify
          ? "; " + std::to_string(ws.watches) + " directories watched"
          : std::string(),
      stats->entries,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
      stats->created, stats->modified + stats->attrib, stats->deleted,
      stats->first_sync ? " (first start: full sync)" : "");
  d->next_full_sync =
      std::chrono::steady_clock::now() + std::chrono::nanoseconds(dc.full_sync_every_ns);
  return d;
}

void Ferryd::InstallDestination(std::unique_ptr<Destination> d) {
  Destination* raw = d.get();
  destinations_.push_back(std::move(d));
  raw->thread = std::thread([this, raw] { WatchLoop(raw); });
}

Status Ferryd::AddDestination(const DestinationConfig& dc) {
  auto d = PrepareDestination(dc);
  if (!d) return d.error();
  InstallDestination(std::move(*d));
  return Status::Ok();
}

std::unique_ptr<Ferryd::Destination> Ferryd::DetachDestination(const std::string& name) {
  std::vector<std::string> names;
  for (auto& t : targets_) {
    if (t->config.destination == name) names.push_back(t->config.name);
  }
  for (const std::string& t : names) RemoveTarget(t, /*forget=*/true);
  auto it = std::find_if(destinations_.begin(), destinations_.end(),
                         [&](const auto& d) { return d->config.name == name; });
  if (it == destinations_.end()) return nullptr;
  std::unique_ptr<Destination> d = std::move(*it);
  destinations_.erase(it);
  d->stop = true;
  return d;
}

void Ferryd::JoinDestination(std::unique_ptr<Destination> d) {
  if (!d) return;
  if (d->thread.joinable()) d->thread.join();
  spdlog::info("destination {}: stopped watching {}", d->config.name, d->config.source);
}

Status Ferryd::AddTarget(const TargetConfig& t) {
  Destination* d = FindDestination(t.destination);
  if (!d) return Status::InvalidArgument("target " + t.name + ": no destination " + t.destination);
  UringWorker* worker = workers_[next_worker_++ % workers_.size()].get();
  auto target = std::make_unique<Target>();
  target->config = t;
  target->destination = d;
  target->worker = worker;
  target->lane = std::make_unique<Lane>(LaneFor(t, *d), journal_.get(), worker);
  Lane* lane = target->lane.get();
  // An operator's pause outlives restarts (ferryctl pause): the lane starts
  // paused. If the mark cannot be read, the target does not start sending.
  auto pause = journal_->GetPause(t.name);
  if (!pause) return pause.error().WithContext("target " + t.name + ": reading its pause");
  if (pause->has_value()) lane->Pause();
  {
    std::lock_guard lock(d->lanes_mu);
    d->lanes.push_back(lane);
  }
  targets_.push_back(std::move(target));
  worker->Post([lane] { lane->Start(); });
  spdlog::info("target {}: {} ({}) for destination {}", t.name, t.url.url,
               TargetKindName(t.url.kind), d->config.name);
  if (pause->has_value()) {
    spdlog::warn("target {}: paused since {} by uid {} (pid {}); it sends nothing until "
                 "`ferryctl resume --target {}`",
                 t.name, LocalTime((*pause)->since_ns), (*pause)->uid, (*pause)->pid, t.name);
  }
  return Status::Ok();
}

void Ferryd::RemoveTarget(const std::string& name, bool forget) {
  auto it = std::find_if(targets_.begin(), targets_.end(),
                         [&](const auto& t) { return t->config.name == name; });
  if (it == targets_.end()) return;
  Lane* lane = (*it)->lane.get();
  {
    Destination* d = (*it)->destination;
    std::lock_guard lock(d->lanes_mu);
    std::erase(d->lanes, lane);
  }
  if (forget) {
    // On the lane's thread, so that a transfer in flight (a full sync) cannot
    // write the cursor back after it is deleted; waited for, so that a target
    // re-added under the same name starts from nothing.
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> forgotten = done->get_future();
    (*it)->worker->Post([lane, done] {
      lane->Forget();
      done->set_value();
    });
    if (forgotten.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
      spdlog::error("target {}: its replay worker did not answer within 30 s; its cursor may "
                    "remain (ferryctl shows it; a re-added target of that name resumes from it)",
                    name);
    }
  } else {
    lane->Stop();
  }
  retired_lanes_.push_back(std::move((*it)->lane));
  targets_.erase(it);
  spdlog::info("target {}: removed{}", name, forget ? " (cursor and dead letters forgotten)" : "");
}

Ferryd::Destination* Ferryd::FindDestination(const std::string& name) {
  for (auto& d : destinations_) {
    if (d->config.name == name) return d.get();
  }
  return nullptr;
}

Ferryd::Target* Ferryd::FindTarget(const std::string& name) {
  for (auto& t : targets_) {
    if (t->config.name == name) return t.get();
  }
  return nullptr;
}

size_t Ferryd::destinations() const {
  std::lock_guard lock(mu_);
  return destinations_.size();
}

size_t Ferryd::targets() const {
  std::lock_guard lock(mu_);
  return targets_.size();
}

void Ferryd::WatchLoop(Destination* d) {
  while (!stop_ && !d->stop) {
    std::string failed;
    try {
      if (Status err = d->watch->FeedError(); !err.ok()) {
        failed = err.message();
      } else {
        WatchTurn(d);
      }
    } catch (const std::exception& e) {
      failed = std::string("the watch loop failed: ") + e.what();
    }
    if (!failed.empty()) RecoverWatch(d, failed);
  }
  // Journal what the feed had already read; the rest is found by the
  // reconcile at the next start.
  try {
    Status s = d->watch->Stop();
    if (!s.ok()) spdlog::error("destination {}: {}", d->config.name, s.ToString());
  } catch (const std::exception& e) {
    spdlog::error("destination {}: at shutdown: {}; the next start's reconcile finds what was "
                  "not journaled", d->config.name, e.what());
  }
}

void Ferryd::WatchTurn(Destination* d) {
  if (FailpointHit("watch-loop-throw")) throw std::runtime_error("failpoint watch-loop-throw");
  const uint64_t head = journal_->LastSeq();
  Status s = d->watch->Turn();
  if (!s.ok()) spdlog::error("destination {}: {}", d->config.name, s.ToString());
  if (journal_->LastSeq() != head) {
    std::lock_guard lock(d->lanes_mu);
    for (Lane* lane : d->lanes) lane->Notify();
  }
}

namespace {

// Sleeps `how_long`, waking early when `stopping()`.
template <typename F>
void SleepUnless(std::chrono::seconds how_long, F stopping) {
  for (auto until = std::chrono::steady_clock::now() + how_long;
       !stopping() && std::chrono::steady_clock::now() < until;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

constexpr std::chrono::seconds kMaxRecoveryBackoff{60};

}  // namespace

void Ferryd::NoteWatchFailure(Destination* d, const std::string& what, bool count) {
  std::lock_guard lock(d->failure_mu);
  if (count) ++d->failures;
  d->last_failure = what;
  d->last_failure_ns = SystemClock::Default()->WallNanos();
}

void Ferryd::RecoverWatch(Destination* d, const std::string& why) {
  const auto stopping = [this, d] { return stop_ || d->stop; };
  // Failing again within a minute of the last recovery: wait first, doubling,
  // so that a fault that persists costs a rescan a minute, not a busy loop.
  const auto now = std::chrono::steady_clock::now();
  if (d->recovered_at.time_since_epoch().count() != 0 &&
      now - d->recovered_at < kMaxRecoveryBackoff) {
    d->recovery_backoff = std::clamp(d->recovery_backoff * 2, std::chrono::seconds(1),
                                     kMaxRecoveryBackoff);
  } else {
    d->recovery_backoff = std::chrono::seconds(0);
  }
  auto backoff = std::max(d->recovery_backoff, std::chrono::seconds(1));
  for (int attempt = 1; !stopping(); ++attempt) {
    if (attempt == 1) NoteWatchFailure(d, why, /*count=*/true);
    if (attempt == 1 && d->recovery_backoff.count() > 0) {
      spdlog::error("destination {}: {}; failed again {} s after the last rebuild: rebuilding its "
                    "watches and rescanning the tree in {} s",
                    d->config.name, why,
                    std::chrono::duration_cast<std::chrono::seconds>(now - d->recovered_at).count(),
                    d->recovery_backoff.count());
      d->watch->FeedStopped(why + "; rebuilt in " + std::to_string(d->recovery_backoff.count()) +
                            " s");
      SleepUnless(d->recovery_backoff, stopping);
      if (stopping()) return;
    } else if (attempt == 1) {
      spdlog::error("destination {}: {}; rebuilding its watches and rescanning the tree",
                    d->config.name, why);
      // Until Rebuild() returns, status must not say "watching": a change made
      // now is found by the rescan, not seen by a reader.
      d->watch->FeedStopped(why + "; rebuilding");
    }
    std::string failed;
    try {
      auto stats = d->watch->Rebuild();
      if (stats) {
        spdlog::info("destination {}: watching again after a rescan: {} new, {} changed, {} gone",
                     d->config.name, stats->created, stats->modified + stats->attrib,
                     stats->deleted);
        d->recovered_at = std::chrono::steady_clock::now();
        std::lock_guard lock(d->lanes_mu);
        for (Lane* lane : d->lanes) lane->Notify();
        return;
      }
      failed = stats.error().ToString();
    } catch (const std::exception& e) {
      failed = e.what();
    }
    const std::string again = why + "; the rebuild failed: " + failed + "; trying again in " +
                              std::to_string(backoff.count()) + " s";
    NoteWatchFailure(d, again, /*count=*/false);
    spdlog::error("destination {}: {}", d->config.name, again);
    SleepUnless(backoff, stopping);
    backoff = std::min(backoff * 2, kMaxRecoveryBackoff);
  }
}

void Ferryd::Maintain() {
  const auto now = std::chrono::steady_clock::now();
  int64_t retention_ns;
  uint64_t max_size;  // a reload may change both
  {
    std::lock_guard lock(mu_);
    retention_ns = config_.retention_ns;
    max_size = config_.max_size;
    for (auto& d : destinations_) {
      if (d->config.full_sync_every_ns <= 0 || now < d->next_full_sync) continue;
      d->next_full_sync = now + std::chrono::nanoseconds(d->config.full_sync_every_ns);
      spdlog::info("destination {}: periodic full sync (full_sync_every)", d->config.name);
      std::lock_guard lanes(d->lanes_mu);
      for (Lane* lane : d->lanes) lane->Resync();
    }
  }
  ReturnFreedMemory();
  if (now >= next_join_) {
    next_join_ = now + kJoinEvery;
    Status s = journal_->write_status();
    if (s.ok()) s = journal_->JoinSmallEventFiles();
    if (!s.ok()) spdlog::debug("{}", s.ToString());  // write failures are reported elsewhere
  }
  // The budget is checked often, and cheaply (an estimate of the events'
  // size, no scan): a target outage must not let the journal run far past
  // max_size. Age-based retention scans events, so it runs once a minute.
  if (now >= next_trim_) {
    next_trim_ = now + kTrimEvery;
    next_budget_check_ = now + kBudgetCheckEvery;
    TrimJournal({.keep_delivered_ns = retention_ns, .max_bytes = max_size});
  } else if (max_size > 0 && now >= next_budget_check_) {
    next_budget_check_ = now + kBudgetCheckEvery;
    auto bytes = journal_->EventBytes();
    if (!bytes) {
      spdlog::error("journal size: {}", bytes.error().ToString());
    } else if (*bytes > max_size) {
      TrimJournal({.keep_delivered_ns = 0, .max_bytes = max_size});
    }
  }
}

// A burst (a big copy, a full sync) leaves its events in the memtables and
// glibc's arenas holding the freed batches and stat buffers (measured: 100k
// new files left 68 MiB resident, 2.8x the peak heap). Once per burst, when
// neither the journal's head nor any lane has moved for one tick, the
// memtables are flushed (which also leaves a follower, ferryctl, little
// log to replay) and malloc_trim gives the freed memory back. A steady
// trickle of events never looks quiet, and a memtable under kFlushAbove is
// left alone, so neither makes a file per event.
void Ferryd::ReturnFreedMemory() {
  uint64_t activity = journal_->LastSeq();
  bool busy = false;
  {
    std::lock_guard lock(mu_);
    for (auto& t : targets_) {
      const LaneStatus s = t->lane->status();
      activity += s.transfers_ok + s.transfers_failed;
      busy = busy || s.busy;
    }
  }
  const bool quiet = !busy && activity == activity_last_tick_;
  activity_last_tick_ = activity;
  if (!quiet || activity == activity_at_trim_) return;
  activity_at_trim_ = activity;
  // Never while the journal is failed: Recover() owns it then.
  if (journal_->write_status().ok() && journal_->MemtableBytes() > kFlushAbove) {
    if (Status s = journal_->Flush(); !s.ok()) spdlog::warn("after a burst: {}", s.ToString());
  }
  malloc_trim(0);
}

void Ferryd::TrimJournal(const RetentionPolicy& policy) {
  auto r = journal_->Trim(policy);
  if (!r) {
    spdlog::error("trim: {}", r.error().ToString());
    return;
  }
  if (r->trimmed.empty()) return;
  const bool budget = r->bytes_before > policy.max_bytes && policy.max_bytes > 0;
  spdlog::info("trimmed seq {}..{} ({} -> {} bytes{})", r->trimmed.first, r->trimmed.last,
               r->bytes_before, r->bytes_after,
               budget ? "; over the budget, max_size " + std::to_string(policy.max_bytes) : "");
  for (const std::string& t : r->expired_targets) {
    spdlog::error(
        "target {}: the journal budget (max_size) dropped events it had not received; "
        "it gets a full sync",
        t);
  }
}

void Ferryd::Stop() {
  {
    std::lock_guard lock(maintenance_mu_);  // not lost between its check and its wait
    stop_ = true;
  }
  maintenance_cv_.notify_all();
}
void Ferryd::Retry() {
  std::lock_guard lock(mu_);
  for (auto& d : destinations_) d->watch->RequestRetry();
}

}  // namespace ferry
