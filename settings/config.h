// ferry.conf: the INI file ferryd reads (parsed with Boost.Program_options).
//
//   [journal]        dir (required), sync, retention, max_size
//   [replay]         workers, batch_delay, retry_max, dead_letter_retry,
//                    shutdown_grace
//   [control]        socket, mode
//   [log]            file, max_size, max_files
//   [metrics]        listen
//   [destination.N]  source (required), events, exclude*, exclude_regex*,
//                    ignore_temp_files, full_sync_every, rsync_args, watcher
//   [target.N]       destination (required), url (required), password_file,
//                    timeout, ssh_options, parallel
// (* repeatable). Names after the dot: letters, digits, '_', '-', '.'. '#'
// starts a comment anywhere on a line, so a pattern cannot contain '#';
// write [#] instead.
//
// Every problem is one line naming the file, the line, the key, what is
// wrong and what is allowed; ferryd exits with EX_CONFIG (78) on it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "settings/event_selection.h"
#include "journal/filter.h"
#include "journal/journal.h"
#include "settings/target_url.h"
#include "settings/watcher_backend.h"

namespace ferry {

inline constexpr int kExConfig = 78;

struct DestinationConfig {
  std::string name;
  std::string source;
  uint32_t events = kDefaultEvents;
  FilterSpec filter;
  int64_t full_sync_every_ns = 0;  // 0: never
  std::vector<std::string> rsync_args = {"-a"};
  WatcherBackend watcher = WatcherBackend::kAuto;
};

struct TargetConfig {
  std::string name;
  std::string destination;
  TargetUrl url;
  std::string password_file;
  int64_t timeout_ns = 100'000'000'000;
  std::vector<std::string> ssh_options;
  int parallel = 1;
};

struct Config {
  std::string path;
  std::string journal_dir;
  SyncMode sync = SyncMode::kGroup;
  int64_t retention_ns = 7LL * 86'400'000'000'000;
  uint64_t max_size = 8ULL << 30;
  int workers = 2;
  int64_t batch_delay_ns = 20'000'000;
  int64_t retry_max_ns = 300'000'000'000;
  int64_t dead_letter_retry_ns = 3'600'000'000'000;
  // At a stop, running transfers get this long to finish before SIGTERM.
  int64_t shutdown_grace_ns = 10'000'000'000;
  std::string socket = "/run/ferry/ferryd.sock";
  uint32_t socket_mode = 0600;
  std::string log_file;  // empty: stderr (journald under systemd)
  uint64_t log_max_size = 100ULL << 20;
  int log_max_files = 5;
  std::string metrics_listen;  // HOST:PORT for GET /metrics; empty: off
  std::vector<DestinationConfig> destinations;
  std::vector<TargetConfig> targets;
  // "section.key" -> the line of its first occurrence, for the messages of
  // the checks that come after parsing (settings/checks.h).
  std::map<std::string, int> lines;
  bool password_from_env = false;  // ParseOptions::password_from_env
};

struct ParseOptions {
  // rsync daemon targets with a user may lack password_file: rsync takes
  // RSYNC_PASSWORD from the environment (quick mode, settings/quick_mode.h).
  bool password_from_env = false;
  // The text is quick mode's: a missing password names its options.
  bool command_line = false;
};

// Parses `text` (`path` only names it in messages): pure, nothing is
// stat'ed. InvalidArgument with the one-line message above.
// On an error, `*so_far` (if given) gets what came before it: enough for
// `ferryctl reload` to reach the ferryd that will refuse the file.
Result<Config> ParseConfig(const std::string& text, const std::string& path,
                           ParseOptions options = {}, Config* so_far = nullptr);
// Reads and parses `path`, then runs CheckConfig (settings/checks.h) on it.
Result<Config> LoadConfig(const std::string& path);
// The one-line message: "PATH:LINE: [SECTION] KEY: WHAT" (no ":LINE" for 0,
// no " KEY" when empty).
Status ConfigError(const std::string& path, int line, const std::string& section,
                   const std::string& key, const std::string& what);
// The same at the line where `config` had `section`.`key`.
Status ConfigError(const Config& config, const std::string& section, const std::string& key,
                   const std::string& what);
// The resolved settings, every default filled in, as ferry.conf text.
std::string DescribeConfig(const Config& config);

}  // namespace ferry
