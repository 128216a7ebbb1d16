// Ferryd::Reload: applies a changed config file to the running daemon.
#include <spdlog/spdlog.h>

#include "daemon/ferryd.h"

namespace ferry {
namespace {

bool SameDestination(const DestinationConfig& a, const DestinationConfig& b) {
  return a.source == b.source && a.events == b.events && a.filter.exclude == b.filter.exclude &&
         a.filter.exclude_regex == b.filter.exclude_regex &&
         a.filter.ignore_temp_files == b.filter.ignore_temp_files &&
         a.full_sync_every_ns == b.full_sync_every_ns && a.rsync_args == b.rsync_args;
}

bool SameTarget(const TargetConfig& a, const TargetConfig& b) {
  return a.destination == b.destination && a.url.url == b.url.url &&
         a.password_file == b.password_file && a.timeout_ns == b.timeout_ns &&
         a.ssh_options == b.ssh_options && a.parallel == b.parallel;
}

// What a reload cannot change in a running daemon.
std::vector<std::string> NeedsRestart(const Config& a, const Config& b) {
  std::vector<std::string> out;
  if (a.journal_dir != b.journal_dir || a.sync != b.sync) out.push_back("[journal] dir/sync");
  if (a.workers != b.workers) out.push_back("[replay] workers");
  if (a.batch_delay_ns != b.batch_delay_ns || a.retry_max_ns != b.retry_max_ns ||
      a.dead_letter_retry_ns != b.dead_letter_retry_ns) {
    out.push_back("[replay] batch_delay/retry_max/dead_letter_retry (for running targets)");
  }
  if (a.socket != b.socket || a.socket_mode != b.socket_mode) out.push_back("[control]");
  if (a.metrics_listen != b.metrics_listen) out.push_back("[metrics]");
  if (a.log_file != b.log_file || a.log_max_size != b.log_max_size ||
      a.log_max_files != b.log_max_files) {
    out.push_back("[log]");
  }
  return out;
}

}  // namespace

Result<nlohmann::json> Ferryd::Reload() {
  auto reloaded = ReloadConfig();
  Retry();
  return reloaded;
}

Result<nlohmann::json> Ferryd::ReloadConfig() {
  // config_ changes only here, under reload_mu_ and mu_: read without mu_.
  std::lock_guard reloading(reload_mu_);
  if (config_.path.empty() || config_.path.front() != '/') {
    return Status::InvalidArgument("ferryd was started without a config file (" + config_.path +
                                   "); nothing to reload");
  }
  auto loaded = LoadConfig(config_.path);
  if (!loaded) {
    spdlog::error("reload: {}; keeping the running configuration", loaded.error().message());
    return loaded.error();
  }
  Config& next = *loaded;
  nlohmann::json added = nlohmann::json::array(), removed = nlohmann::json::array(),
                 changed = nlohmann::json::array();
  auto find_target = [](const Config& c, const std::string& name) -> const TargetConfig* {
    for (const auto& t : c.targets) {
      if (t.name == name) return &t;
    }
    return nullptr;
  };
  auto find_dest = [](const Config& c, const std::string& name) -> const DestinationConfig* {
    for (const auto& d : c.destinations) {
      if (d.name == name) return &d;
    }
    return nullptr;
  };

  // 1. Under mu_: targets that go away or change stop first, before their
  // destination may be replaced; destinations that go away or change are
  // taken out; new ones are listed as starting.
  std::vector<std::unique_ptr<Destination>> detached;
  std::vector<const DestinationConfig*> to_add;
  {
    std::lock_guard lock(mu_);
    for (const TargetConfig& old : config_.targets) {
      const TargetConfig* now = find_target(next, old.name);
      const DestinationConfig* old_dest = find_dest(config_, old.destination);
      const DestinationConfig* new_dest = now ? find_dest(next, now->destination) : nullptr;
      if (!now) {
        RemoveTarget(old.name, /*forget=*/true);
        removed.push_back("target." + old.name);
      } else if (now->url.url != old.url.url || now->destination != old.destination) {
        // Another place or other data: what the cursor says was delivered is
        // not there. It starts over with a full sync.
        RemoveTarget(old.name, /*forget=*/true);
        changed.push_back("target." + old.name + " (new url or destination: full sync)");
      } else if (!SameTarget(*now, old) || !new_dest || !old_dest ||
                 !SameDestination(*new_dest, *old_dest)) {
        RemoveTarget(old.name, /*forget=*/false);
        changed.push_back("target." + old.name);
      }
    }
    for (const DestinationConfig& old : config_.destinations) {
      const DestinationConfig* now = find_dest(next, old.name);
      if (!now || !SameDestination(*now, old)) {
        detached.push_back(DetachDestination(old.name));
        (now ? changed : removed).push_back("destination." + old.name);
      }
    }
    for (const DestinationConfig& d : next.destinations) {
      if (FindDestination(d.name)) continue;
      to_add.push_back(&d);
      starting_destinations_.push_back(d);
    }
  }

  // 2. Without mu_, so that status and the other verbs answer meanwhile: the
  // old watch threads end (one may be in a rescan), the new trees are walked.
  for (auto& d : detached) JoinDestination(std::move(d));
  std::vector<std::unique_ptr<Destination>> prepared;
  Status failed;
  for (const DestinationConfig* dc : to_add) {
    auto d = PrepareDestination(*dc);
    if (!d) {
      failed = d.error().WithContext("reload: destination " + dc->name);
      break;
    }
    prepared.push_back(std::move(*d));
  }

  // 3. Under mu_ again: the new destinations and the targets start.
  std::lock_guard lock(mu_);
  starting_destinations_.clear();
  if (stop_) return Status::Retry("ferryd is stopping; the reload was not applied");
  for (auto& d : prepared) {
    if (!find_dest(config_, d->config.name)) added.push_back("destination." + d->config.name);
    InstallDestination(std::move(d));
  }
  if (!failed.ok()) return failed;
  for (const TargetConfig& t : next.targets) {
    if (FindTarget(t.name)) continue;
    Status s = AddTarget(t);
    if (!s.ok()) return s.WithContext("reload: target " + t.name);
    if (!find_target(config_, t.name)) added.push_back("target." + t.name);
  }
  nlohmann::json restart = NeedsRestart(config_, next);
  // Take what a reload applies; the rest stays as it runs, so the next
  // reload compares with what runs.
  config_.destinations = std::move(next.destinations);
  config_.targets = std::move(next.targets);
  config_.retention_ns = next.retention_ns;
  config_.max_size = next.max_size;
  config_.shutdown_grace_ns = next.shutdown_grace_ns;
  spdlog::info("reloaded {}: {} added, {} removed, {} changed{}", config_.path, added.size(),
               removed.size(), changed.size(),
               restart.empty() ? "" : "; needs a restart to apply: " + restart.dump());
  return nlohmann::json{{"ok", true},
                        {"added", added},
                        {"removed", removed},
                        {"changed", changed},
                        {"needs_restart", restart}};
}

}  // namespace ferry
