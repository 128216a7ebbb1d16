#include "settings/config.h"

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/parsers.hpp>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "base/units.h"
#include "settings/checks.h"
#include "settings/transport.h"

namespace ferry {
namespace {

namespace po = boost::program_options;

const std::map<std::string, std::set<std::string>>& Keys() {
  static const std::map<std::string, std::set<std::string>> keys = {
      {"journal", {"dir", "sync", "retention", "max_size"}},
      {"replay", {"workers", "batch_delay", "retry_max", "dead_letter_retry", "shutdown_grace"}},
      {"control", {"socket", "mode"}},
      {"log", {"file", "max_size", "max_files"}},
      {"metrics", {"listen"}},
      {"destination",
       {"source", "events", "exclude", "exclude_regex", "ignore_temp_files", "full_sync_every",
        "rsync_args", "watcher"}},
      {"target", {"destination", "url", "password_file", "timeout", "ssh_options", "parallel"}},
  };
  return keys;
}

std::vector<std::string> Words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-' || c == '.')) {
      return false;
    }
  }
  return true;
}

// One "section.key = value" line as Boost read it, with where it was.
struct Entry {
  std::string section;  // "journal", "destination.www"
  std::string kind;     // "journal", "destination"
  std::string name;     // "www" for named sections
  std::string key;
  std::string value;
  int line = 0;
};

class Parser {
 public:
  Parser(const std::string& text, const std::string& path, ParseOptions options)
      : text_(text), path_(path), options_(options) {}

  Result<Config> Run() {
    FERRY_RETURN_IF_ERROR(ScanLines());
    std::istringstream in(text_);
    std::vector<po::option> options;
    try {
      po::options_description none;
      options = po::parse_config_file(in, none, /*allow_unregistered=*/true).options;
    } catch (const std::exception& e) {
      return Status::InvalidArgument(path_ + ": " + e.what());
    }
    std::map<std::string, int> seen;  // occurrences so far of each full key
    std::vector<Entry> entries;
    for (const po::option& o : options) {
      const std::string& full = o.string_key;
      size_t dot = full.rfind('.');
      Entry e;
      e.section = full.substr(0, dot);
      e.key = full.substr(dot + 1);
      e.value = o.value.empty() ? "" : o.value.front();
      const auto& lines = lines_[full];
      int n = seen[full]++;
      e.line = n < static_cast<int>(lines.size()) ? lines[n] : 0;
      size_t sdot = e.section.find('.');
      e.kind = e.section.substr(0, sdot);
      if (sdot != std::string::npos) e.name = e.section.substr(sdot + 1);
      entries.push_back(std::move(e));
    }
    for (const Entry& e : entries) FERRY_RETURN_IF_ERROR(Apply(e));
    return Finish();
  }
  const Config& so_far() const { return config_; }

 private:
  Status At(int line, const std::string& section, const std::string& key,
            const std::string& what) const {
    return ConfigError(path_, line, section, key, what);
  }
  Status At(const Entry& e, const std::string& what) const {
    return At(e.line, e.section, e.key, what);
  }

  // Records the line of every key and checks the section headers.
  Status ScanLines() {
    std::istringstream in(text_);
    std::string line, section;
    for (int n = 1; std::getline(in, line); ++n) {
      std::string s = line.substr(0, line.find('#'));
      size_t a = s.find_first_not_of(" \t\r"), b = s.find_last_not_of(" \t\r");
      if (a == std::string::npos) continue;
      s = s.substr(a, b - a + 1);
      if (s.front() == '[') {
        if (s.back() != ']') {
          return Status::InvalidArgument(path_ + ":" + std::to_string(n) + ": '" + s +
                                         "': a section header needs a closing ']'");
        }
        section = s.substr(1, s.size() - 2);
        size_t dot = section.find('.');
        std::string kind = section.substr(0, dot);
        if (!Keys().count(kind)) {
          return At(n, section, "",
                    "unknown section; allowed: [journal], [replay], [control], [log], [metrics], "
                    "[destination.NAME], [target.NAME]");
        }
        const bool named = kind == "destination" || kind == "target";
        if (named != (dot != std::string::npos)) {
          return At(n, section, "",
                    named ? "needs a name: [" + kind + ".NAME]" : "takes no name: [" + kind + "]");
        }
        if (named && !ValidName(section.substr(dot + 1))) {
          return At(n, section, "", "the name may use letters, digits, '_', '-' and '.'");
        }
        if (!seen_sections_.insert(section).second) {
          return At(n, section, "", "appears twice; merge the two sections");
        }
        header_lines_[section] = n;
        // A section with no keys is still there: its missing keys are named.
        if (kind == "destination") Destination(section.substr(dot + 1));
        if (kind == "target") Target(section.substr(dot + 1));
        continue;
      }
      size_t eq = s.find('=');
      if (eq == std::string::npos) return At(n, section, s, "expected 'key = value'");
      std::string key = s.substr(0, eq);
      key = key.substr(0, key.find_last_not_of(" \t") + 1);
      if (section.empty()) {
        return Status::InvalidArgument(path_ + ":" + std::to_string(n) + ": " + key +
                                       ": comes before any [section]; every key belongs in one");
      }
      lines_[section + "." + key].push_back(n);
    }
    return Status::Ok();
  }

  DestinationConfig& Destination(const std::string& name) {
    for (auto& d : config_.destinations) {
      if (d.name == name) return d;
    }
    config_.destinations.push_back({.name = name});
    return config_.destinations.back();
  }
  TargetConfig& Target(const std::string& name) {
    for (auto& t : config_.targets) {
      if (t.name == name) return t;
    }
    config_.targets.push_back({.name = name});
    target_lines_[name] = 0;
    return config_.targets.back();
  }

  // A whole number from 1 to `max`, written plainly ("07" and "1e2" are not).
  Status Count(const Entry& e, const std::string& what, int max, int* out) {
    int n = 0;
    if (!(std::istringstream(e.value) >> n) || n < 1 || n > max || std::to_string(n) != e.value) {
      return At(e, "'" + e.value + "' is not a " + what + " count; allowed: 1 to " +
                       std::to_string(max));
    }
    *out = n;
    return Status::Ok();
  }

  Status Duration(const Entry& e, int64_t* out) {
    auto d = ParseDuration(e.value);
    if (!d) return At(e, d.error().message());
    *out = *d;
    return Status::Ok();
  }

  Status Apply(const Entry& e) {
    const auto& allowed = Keys().at(e.kind);
    if (!allowed.count(e.key)) {
      std::string list;
      for (const auto& k : allowed) list += (list.empty() ? "" : ", ") + k;
      return At(e, "unknown key; allowed here: " + list);
    }
    const bool repeatable = e.key == "exclude" || e.key == "exclude_regex";
    if (!repeatable && lines_[e.section + "." + e.key].size() > 1 &&
        e.line != lines_[e.section + "." + e.key].front()) {
      return At(e, "given twice; only exclude and exclude_regex repeat");
    }
    if (e.kind == "journal") {
      if (e.key == "dir") {
        if (e.value.empty() || e.value.front() != '/') return At(e, "must be an absolute path");
        config_.journal_dir = e.value;
      } else if (e.key == "sync") {
        auto m = ParseSyncMode(e.value);
        if (!m) return At(e, "'" + e.value + "' is not a sync mode; allowed: group, always, off");
        config_.sync = *m;
      } else if (e.key == "retention") {
        return Duration(e, &config_.retention_ns);
      } else if (e.key == "max_size") {
        auto s = ParseSize(e.value);
        if (!s) return At(e, s.error().message());
        config_.max_size = *s;
      }
    } else if (e.kind == "replay") {
      if (e.key == "workers") {
        return Count(e, "worker", 64, &config_.workers);
      } else if (e.key == "batch_delay") {
        return Duration(e, &config_.batch_delay_ns);
      } else if (e.key == "retry_max") {
        return Duration(e, &config_.retry_max_ns);
      } else if (e.key == "dead_letter_retry") {
        return Duration(e, &config_.dead_letter_retry_ns);
      } else if (e.key == "shutdown_grace") {
        return Duration(e, &config_.shutdown_grace_ns);
      }
    } else if (e.kind == "control") {
      return ApplyControl(e);
    } else if (e.kind == "log") {
      return ApplyLog(e);
    } else if (e.kind == "metrics") {
      // HOST:PORT; civetweb checks the host when it binds.
      const size_t colon = e.value.rfind(':');
      const std::string port = colon == std::string::npos ? "" : e.value.substr(colon + 1);
      int n = 0;
      if (!e.value.empty() &&
          (colon == 0 || colon == std::string::npos || !(std::istringstream(port) >> n) || n < 1 ||
           n > 65535 || std::to_string(n) != port)) {
        return At(e, "'" + e.value + "' is not HOST:PORT, e.g. 127.0.0.1:9477 (empty: off)");
      }
      config_.metrics_listen = e.value;
    } else if (e.kind == "destination") {
      return ApplyDestination(e, Destination(e.name));
    } else {
      return ApplyTarget(e, Target(e.name));
    }
    return Status::Ok();
  }

  Status ApplyControl(const Entry& e) {
    if (e.key == "socket") {
      if (e.value.empty() || e.value.front() != '/') return At(e, "must be an absolute path");
      config_.socket = e.value;
      return Status::Ok();
    }
    // mode: octal permission bits of the socket file.
    size_t used = 0;
    unsigned long mode = 0;
    try {
      mode = std::stoul(e.value, &used, 8);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != e.value.size() || e.value.size() > 4 || mode > 0777 ||
        (mode & 0600) != 0600) {
      return At(e, "'" + e.value +
                       "' is not a socket mode; give octal permission bits that include "
                       "0600, e.g. 0600 (owner only) or 0660 (and ferryd's group)");
    }
    if (mode & 0007) {
      return At(e, "'" + e.value +
                       "' would give every local user control of ferryd; allowed: 0600 (owner "
                       "only) or 0660 (and ferryd's group)");
    }
    config_.socket_mode = static_cast<uint32_t>(mode);
    return Status::Ok();
  }

  Status ApplyLog(const Entry& e) {
    if (e.key == "file") {
      if (!e.value.empty() && e.value.front() != '/') {
        return At(e, "must be an absolute path (or empty: log to stderr)");
      }
      config_.log_file = e.value;
    } else if (e.key == "max_size") {
      auto s = ParseSize(e.value);
      if (!s || *s < 4096) {
        return At(e, s ? "must be at least 4K" : s.error().message());
      }
      config_.log_max_size = *s;
    } else if (e.key == "max_files") {
      return Count(e, "file", 100, &config_.log_max_files);
    }
    return Status::Ok();
  }

  Status ApplyDestination(const Entry& e, DestinationConfig& d) {
    if (e.key == "source") {
      if (e.value.empty() || e.value.front() != '/') return At(e, "must be an absolute path");
      d.source = e.value;  // a directory? CheckConfig (settings/checks.h) says
      while (d.source.size() > 1 && d.source.back() == '/') d.source.pop_back();
    } else if (e.key == "events") {
      auto ev = ParseEventSelection(e.value);
      if (!ev) return At(e, ev.error().message());
      d.events = *ev;
    } else if (e.key == "watcher") {
      auto backend = ParseWatcherBackend(e.value);
      if (!backend) return At(e, backend.error().message());
      d.watcher = *backend;
    } else if (e.key == "exclude") {
      d.filter.exclude.push_back(e.value);
    } else if (e.key == "exclude_regex") {
      d.filter.exclude_regex.push_back(e.value);
    } else if (e.key == "ignore_temp_files") {
      if (e.value != "true" && e.value != "false") return At(e, "allowed: true, false");
      d.filter.ignore_temp_files = e.value == "true";
    } else if (e.key == "full_sync_every") {
      return Duration(e, &d.full_sync_every_ns);
    } else if (e.key == "rsync_args") {
      d.rsync_args = Words(e.value);
      if (d.rsync_args.empty()) {
        return At(e,
                  "is empty; give rsync options such as -a, or remove the line for the "
                  "default -a");
      }
      for (const std::string& w : d.rsync_args) {
        std::string opt = w.substr(0, w.find('='));
        if (w.empty() || w.front() != '-') {
          return At(e, "'" + w + "' is not an option; only options (starting with '-') go here");
        }
        if (FindReservedRsyncOption(opt)) {
          return At(e, "'" + opt + "' is set by ferry itself and may not be given here");
        }
        if (!w.starts_with("--")) {
          // Bundled short options: -avn holds -n (a dry run: nothing sent
          // while cursors advance).
          for (char c : w.substr(1)) {
            const std::string flag = std::string("-") + c;
            if (FindReservedRsyncOption(flag)) {
              return At(e, "'" + flag + "' (in '" + w +
                               "') is set by ferry itself and may not be given here");
            }
          }
        }
      }
    }
    if (auto f = Filter::Create(d.filter); !f) return At(e, f.error().message());
    return Status::Ok();
  }

  Status ApplyTarget(const Entry& e, TargetConfig& t) {
    if (e.key == "destination") {
      t.destination = e.value;
    } else if (e.key == "url") {
      auto u = ParseTargetUrl(e.value);
      if (!u) return At(e, u.error().message());
      t.url = *u;
      target_lines_[t.name] = e.line;
    } else if (e.key == "password_file") {
      t.password_file = e.value;  // usable? CheckConfig says
    } else if (e.key == "timeout") {
      FERRY_RETURN_IF_ERROR(Duration(e, &t.timeout_ns));
      if (t.timeout_ns < 1'000'000'000) return At(e, "must be at least 1s");
    } else if (e.key == "ssh_options") {
      t.ssh_options = Words(e.value);
    } else if (e.key == "parallel") {
      return Count(e, "transfer", 32, &t.parallel);
    }
    return Status::Ok();
  }

  // At the section's header line (0 when the section is absent), saying
  // what the key is for.
  Status Missing(const std::string& section, const std::string& key,
                 const std::string& what) const {
    auto it = header_lines_.find(section);
    return At(it == header_lines_.end() ? 0 : it->second, section, key, "is required: " + what);
  }

  Result<Config> Finish() {
    if (config_.journal_dir.empty()) {
      return Missing("journal", "dir",
                     "the absolute directory of ferry's change journal, e.g. dir = "
                     "/var/lib/ferry/journal");
    }
    if (config_.destinations.empty()) {
      return Status::InvalidArgument(path_ +
                                     ": no [destination.NAME] section; ferry has nothing "
                                     "to replicate");
    }
    for (const auto& d : config_.destinations) {
      if (d.source.empty()) {
        return Missing("destination." + d.name, "source",
                       "the absolute directory to replicate, e.g. source = /var/www");
      }
    }
    for (auto& t : config_.targets) {
      const std::string section = "target." + t.name;
      std::string names;
      for (const auto& d : config_.destinations) names += (names.empty() ? "" : ", ") + d.name;
      if (t.destination.empty()) {
        return Missing(section, "destination", "the [destination.NAME] this target receives; "
                                               "defined: " + names);
      }
      if (t.url.url.empty()) {
        return Missing(section, "url",
                       "where the target is: /abs/dir, rsync://[user@]host[:port]/module, "
                       "[user@]host::module, [user@]host:/path or exec:/path/to/program");
      }
      bool known = false;
      for (const auto& d : config_.destinations) known = known || d.name == t.destination;
      if (!known) {
        auto it = lines_.find(section + ".destination");
        return At(it == lines_.end() ? 0 : it->second.front(), section, "destination",
                  "'" + t.destination + "' is not a destination; defined: " + names);
      }
      if (t.url.kind == TargetUrl::Kind::kRsyncDaemon && t.password_file.empty() &&
          !t.url.user.empty() && !options_.password_from_env) {
        if (options_.command_line) {
          return Status::InvalidArgument(
              "--target " + t.url.url +
              ": an rsync daemon URL with a user needs a password: give --password-file FILE "
              "(mode 600), or set RSYNC_PASSWORD in the environment");
        }
        return At(target_lines_[t.name], section, "password_file",
                  "is required for an rsync daemon URL with a user (" + t.url.url + ")");
      }
    }
    config_.path = path_;
    config_.password_from_env = options_.password_from_env;
    for (const auto& [key, lines] : lines_) config_.lines[key] = lines.front();
    return std::move(config_);
  }

  const std::string& text_;
  std::string path_;
  ParseOptions options_;
  Config config_;
  std::map<std::string, std::vector<int>> lines_;  // "section.key" -> lines, in order
  std::set<std::string> seen_sections_;
  std::map<std::string, int> header_lines_;  // section -> the line of its header
  std::map<std::string, int> target_lines_;  // target name -> line of its url
};

}  // namespace

Status ConfigError(const std::string& path, int line, const std::string& section,
                   const std::string& key, const std::string& what) {
  std::string where = path + (line > 0 ? ":" + std::to_string(line) : "") + ": [" + section + "]";
  if (!key.empty()) where += " " + key;
  return Status::InvalidArgument(where + ": " + what);
}

Status ConfigError(const Config& config, const std::string& section, const std::string& key,
                   const std::string& what) {
  auto it = config.lines.find(section + "." + key);
  return ConfigError(config.path, it == config.lines.end() ? 0 : it->second, section, key, what);
}

Result<Config> ParseConfig(const std::string& text, const std::string& path,
                           ParseOptions options, Config* so_far) {
  Parser parser(text, path, options);
  auto config = parser.Run();
  if (!config && so_far != nullptr) *so_far = parser.so_far();
  return config;
}

Result<Config> LoadConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return ErrnoStatus(errno, "read config", path);
  std::stringstream text;
  text << in.rdbuf();
  auto config = ParseConfig(text.str(), path);
  if (!config) return config;
  FERRY_RETURN_IF_ERROR(CheckConfig(*config));
  return config;
}

}  // namespace ferry
