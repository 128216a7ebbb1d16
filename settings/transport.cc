#include "settings/transport.h"

#include <array>

namespace ferry {
namespace {

constexpr std::array<ReservedRsyncOption, 14> kReserved = {{
    {"--delete"},
    {"--delete-missing-args"},
    {"--files-from", 0, true},
    {"--from0", '0'},
    {"--remove-source-files"},
    {"--ignore-times", 'I'},
    {"--rsh", 'e', true},
    {"--recursive", 'r'},
    {"--dry-run", 'n'},
    {"--password-file", 0, true},
    {"--timeout", 0, true},
    {"--contimeout", 0, true},
    {"--copy-links", 'L'},
    {"--stats"},
}};

}  // namespace

TargetSettings ResolveTarget(const TargetConfig& t, const DestinationConfig& d) {
  return TargetSettings{.name = t.name,
                        .source = d.source,
                        .url = t.url,
                        .rsync_args = d.rsync_args,
                        .password_file = t.password_file,
                        .ssh_options = t.ssh_options,
                        .timeout_s = t.timeout_ns / 1'000'000'000,
                        .excludes = RsyncExcludes(d.filter),
                        .tree_excludes = d.filter.exclude};
}

std::vector<std::string> RsyncBaseArgv(const TargetSettings& t) {
  // Quick checks compare mtimes to the nanosecond, not (rsync's default) to
  // the second: a same-size rewrite within the second of the target's copy
  // was skipped by full syncs and tree sends (found by the fault suite). An
  // operator's own --modify-window in rsync_args comes later and wins.
  // Receivers before 3.1.3 know no such window (rsync_features.h).
  std::vector<std::string> argv = {t.rsync};
  if (t.features.nanosecond_mtimes) argv.push_back("--modify-window=-1");
  argv.insert(argv.end(), t.rsync_args.begin(), t.rsync_args.end());
  // --force: replace a non-empty directory by a file, delete non-empty ones.
  // --stats: the bytes sent, for the target's statistics.
  argv.insert(argv.end(), {"--force", "--stats", "--timeout=" + std::to_string(t.timeout_s)});
  switch (t.url.kind) {
    case TargetUrl::Kind::kRsyncDaemon:
      argv.push_back("--contimeout=" + std::to_string(t.contimeout_s));
      if (!t.password_file.empty()) argv.push_back("--password-file=" + t.password_file);
      break;
    case TargetUrl::Kind::kSsh: {
      // rsync splits this on spaces itself; no shell is involved.
      std::string ssh = "ssh -o BatchMode=yes -o ConnectTimeout=" + std::to_string(t.contimeout_s);
      for (const std::string& o : t.ssh_options) ssh += " " + o;
      argv.insert(argv.end(), {"-e", ssh});
      break;
    }
    default:
      break;
  }
  return argv;
}

const ReservedRsyncOption* FindReservedRsyncOption(std::string_view word) {
  if (word.starts_with("--")) {
    word = word.substr(0, word.find('='));
    for (const ReservedRsyncOption& o : kReserved) {
      if (o.long_name == word) return &o;
    }
  } else if (word.size() == 2 && word[0] == '-') {
    for (const ReservedRsyncOption& o : kReserved) {
      if (o.short_name != 0 && o.short_name == word[1]) return &o;
    }
  }
  return nullptr;
}

}  // namespace ferry
