// DescribeConfig: the resolved settings as ferry.conf text (--check-config).
#include <sstream>

#include "base/units.h"
#include "settings/config.h"

namespace ferry {

std::string DescribeConfig(const Config& c) {
  std::ostringstream o;
  o << "# resolved from " << c.path << "\n[journal]\ndir = " << c.journal_dir
    << "\nsync = " << SyncModeName(c.sync) << "\nretention = " << FormatDuration(c.retention_ns)
    << "\nmax_size = " << FormatSize(c.max_size) << "\n\n[replay]\nworkers = " << c.workers
    << "\nbatch_delay = " << FormatDuration(c.batch_delay_ns)
    << "\nretry_max = " << FormatDuration(c.retry_max_ns)
    << "\ndead_letter_retry = " << FormatDuration(c.dead_letter_retry_ns)
    << "\nshutdown_grace = " << FormatDuration(c.shutdown_grace_ns)
    << "\n\n[control]\nsocket = " << c.socket << "\nmode = 0" << std::oct << c.socket_mode
    << std::dec << "\n\n[log]\nfile = " << c.log_file << (c.log_file.empty() ? "  # stderr" : "")
    << "\nmax_size = " << FormatSize(c.log_max_size) << "\nmax_files = " << c.log_max_files
    << "\n\n[metrics]\nlisten = " << c.metrics_listen << (c.metrics_listen.empty() ? "  # off" : "")
    << "\n";
  for (const auto& d : c.destinations) {
    o << "\n[destination." << d.name << "]\nsource = " << d.source
      << "\nevents = " << EventSelectionString(d.events)
      << "\nwatcher = " << WatcherBackendName(d.watcher) << "\n";
    for (const auto& x : d.filter.exclude) o << "exclude = " << x << "\n";
    for (const auto& x : d.filter.exclude_regex) o << "exclude_regex = " << x << "\n";
    o << "ignore_temp_files = " << (d.filter.ignore_temp_files ? "true" : "false")
      << "\nfull_sync_every = " << FormatDuration(d.full_sync_every_ns) << "\nrsync_args =";
    for (const auto& a : d.rsync_args) o << " " << a;
    o << "\n";
  }
  for (const auto& t : c.targets) {
    o << "\n[target." << t.name << "]\ndestination = " << t.destination << "\nurl = " << t.url.url
      << "  # " << TargetKindName(t.url.kind) << "\n";
    if (!t.password_file.empty()) o << "password_file = " << t.password_file << "\n";
    o << "timeout = " << FormatDuration(t.timeout_ns) << "\n";
    if (!t.ssh_options.empty()) {
      o << "ssh_options =";
      for (const auto& w : t.ssh_options) o << " " << w;
      o << "\n";
    }
    o << "parallel = " << t.parallel << "\n";
  }
  return o.str();
}

}  // namespace ferry
