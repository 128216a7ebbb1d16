#include "daemon/ferryd.h"

#include <spdlog/spdlog.h>

#include <chrono>

namespace ferry {

Ferryd::Ferryd(Config config) : config_(std::move(config)) {}

Ferryd::~Ferryd() {
  Stop();
  for (auto& d : destinations_) {
    if (d->thread.joinable()) d->thread.join();
  }
  for (auto& w : workers_) w->Stop();  // before the lanes they drive go away
}

LaneOptions Ferryd::LaneFor(const TargetConfig& t, const Destination& d) const {
  LaneOptions o;
  o.target = TargetSettings{.name = t.name,
                            .source = d.config.source,
                            .url = t.url,
                            .rsync_args = d.config.rsync_args,
                            .password_file = t.password_file,
                            .ssh_options = t.ssh_options,
                            .timeout_s = t.timeout_ns / 1'000'000'000,
                            .excludes = RsyncExcludes(d.config.filter)};
  o.destination = d.id;
  o.batch_delay_ns = config_.batch_delay_ns;
  o.retry_max_ns = config_.retry_max_ns;
  o.dead_letter_retry_ns = config_.dead_letter_retry_ns;
  o.parallel = t.parallel;
  return o;
}

Status Ferryd::Start() {
  auto journal = Journal::Open({.dir = config_.journal_dir, .sync = config_.sync});
  if (!journal) return journal.error();
  journal_ = std::move(*journal);
  spdlog::info("journal {} (id {}), head seq {}", config_.journal_dir, journal_->id().Hex(),
               journal_->LastSeq());

  for (int i = 0; i < config_.workers; ++i) {
    workers_.push_back(std::make_unique<UringWorker>());
    FERRY_RETURN_IF_ERROR(workers_.back()->Start());
  }
  for (const DestinationConfig& dc : config_.destinations) {
    auto d = std::make_unique<Destination>();
    d->config = dc;
    auto id = journal_->DestinationId(dc.name);
    if (!id) return id.error();
    d->id = *id;
    auto filter = Filter::Create(dc.filter);
    if (!filter) return filter.error().WithContext("destination " + dc.name);
    auto watcher = Watcher::Create({.name = dc.name,
                                    .destination = d->id,
                                    .root = dc.source,
                                    .filter = *filter,
                                    .events = dc.events},
                                   journal_.get());
    if (!watcher) return watcher.error();
    d->watcher = std::move(*watcher);
    auto start = std::chrono::steady_clock::now();
    auto stats = d->watcher->Start();
    if (!stats) return stats.error().WithContext("destination " + dc.name);
    spdlog::info(
        "destination {}: {} watching {} directories; reconciled {} entries in {:.2f} s: {} new, "
        "{} changed, {} gone{}",
        dc.name, dc.source, d->watcher->status().watches, stats->entries,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
        stats->created, stats->modified + stats->attrib, stats->deleted,
        stats->first_sync ? " (first start: full sync)" : "");
    d->reader = std::make_unique<InotifyReader>(d->watcher->fd());
    FERRY_RETURN_IF_ERROR(d->reader->Start());
    destinations_.push_back(std::move(d));
  }
  size_t next_worker = 0;
  for (const TargetConfig& t : config_.targets) {
    for (auto& d : destinations_) {
      if (d->config.name != t.destination) continue;
      UringWorker* worker = workers_[next_worker++ % workers_.size()].get();
      lanes_.push_back(std::make_unique<Lane>(LaneFor(t, *d), journal_.get(), worker));
      Lane* lane = lanes_.back().get();
      d->lanes.push_back(lane);
      worker->Post([lane] { lane->Start(); });
      spdlog::info("target {}: {} ({}) for destination {}", t.name, t.url.url,
                   TargetKindName(t.url.kind), d->config.name);
    }
  }
  for (auto& d : destinations_) {
    Destination* raw = d.get();
    d->thread = std::thread([this, raw] { WatchLoop(raw); });
  }
  ready_ = true;
  return Status::Ok();
}

void Ferryd::WatchLoop(Destination* d) {
  try {
    while (!stop_) {
      auto records = d->reader->Take(100);
      Status s = d->watcher->Process(records);
      if (s.ok() && d->retry.exchange(false)) s = d->watcher->Retry();
      if (s.ok()) s = d->watcher->Tick();
      if (!s.ok()) spdlog::error("destination {}: {}", d->config.name, s.ToString());
      if (!records.empty()) {
        for (Lane* lane : d->lanes) lane->Notify();
      }
    }
    // Journal what the reader had already read; the rest is found by the
    // reconcile at the next start.
    d->reader->Stop();
    Status s = d->watcher->Process(d->reader->Take(0));
    if (!s.ok()) spdlog::error("destination {}: {}", d->config.name, s.ToString());
  } catch (const std::exception& e) {
    spdlog::critical("destination {}: {}; stopping", d->config.name, e.what());
    Stop();
  }
}

void Ferryd::Maintain() {
  if (std::chrono::steady_clock::now() < next_trim_) return;
  next_trim_ = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  auto r =
      journal_->Trim({.keep_delivered_ns = config_.retention_ns, .max_bytes = config_.max_size});
  if (!r) {
    spdlog::error("trim: {}", r.error().ToString());
    return;
  }
  if (r->trimmed.empty()) return;
  spdlog::info("trimmed seq {}..{} ({} -> {} bytes)", r->trimmed.first, r->trimmed.last,
               r->bytes_before, r->bytes_after);
  for (const std::string& t : r->expired_targets) {
    spdlog::error(
        "target {}: the journal budget (max_size) dropped events it had not received; "
        "it gets a full sync",
        t);
  }
}

void Ferryd::Stop() { stop_ = true; }
void Ferryd::Retry() {
  for (auto& d : destinations_) d->retry = true;
}

}  // namespace ferry
