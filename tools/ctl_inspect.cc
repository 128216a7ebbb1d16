// ferryctl verbs that look without changing anything: verify, check-path,
// import-sersync.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "journal/escape.h"
#include "journal/filter.h"
#include "replay/transfer.h"
#include "settings/transport.h"
#include "tools/control_client.h"
#include "tools/ctl.h"
#include "tools/sersync_import.h"

extern char** environ;

namespace ferry {
namespace {

namespace po = boost::program_options;

// Runs argv (no shell) and returns its exit status; its stdout lines go to
// `on_line`, its stderr passes through.
Result<int> Run(const std::vector<std::string>& argv,
                const std::function<void(const std::string&)>& on_line) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return ErrnoStatus(errno, "pipe");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  int err = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  if (err != 0) {
    close(out[0]);
    return ErrnoStatus(err, "spawn", argv[0]);
  }
  std::string buffer;
  char chunk[65536];
  for (ssize_t n; (n = read(out[0], chunk, sizeof chunk)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    buffer.append(chunk, static_cast<size_t>(n));
    for (size_t nl; (nl = buffer.find('\n')) != std::string::npos; buffer.erase(0, nl + 1)) {
      on_line(buffer.substr(0, nl));
    }
  }
  if (!buffer.empty()) on_line(buffer);
  close(out[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string WithSlash(std::string s) {
  if (s.empty() || s.back() != '/') s += '/';
  return s;
}

}  // namespace

int RunVerify(Ctl& ctl, const std::vector<std::string>& args) {
  std::string target;
  po::options_description opts(
      "Usage: ferryctl verify --target T [-v]\n\n"
      "Runs rsync as a dry run (-n --itemize-changes --delete) from the target's\n"
      "source to the target, with the destination's filters, and lists how the\n"
      "target differs: drift that happened behind ferry's back, or changes still\n"
      "on their way (check `ferryctl status` for lag). Changes nothing.\n"
      "Directory times alone are not counted (shown with -v).\n\n"
      "Exit status 0 when the target matches, 1 when it differs.\n\n"
      "Examples:\n"
      "  ferryctl verify --target backup1\n"
      "  ferryctl verify --target backup1 || ferryctl resync --target backup1\n\nOptions");
  opts.add_options()("help,h", "show this help")("target,t", po::value(&target),
                                                 "the target's name")(
      "verbose,v", "also show differences in directory times");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(opts).run(), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    return ctl.Fail(kExUsage, std::string(e.what()) + " (see ferryctl verify --help)");
  }
  if (vm.count("help")) {
    std::cout << opts;
    return kExOk;
  }
  if (target.empty()) return ctl.Fail(kExUsage, "--target T is required");
  const TargetConfig* t = ctl.FindTarget(target);
  if (!t) {
    // Not in a config file (quick mode, or --journal): the running ferryd's
    // settings, parsed as ferryd parsed them.
    auto reply = ControlCall(ctl.socket, {{"verb", "settings"}});
    if (reply && reply->value("ok", false)) {
      auto config = ParseConfig(
          reply->value("config", ""), "ferryd's settings",
          {.password_from_env = reply->value("password_from_env", false)});
      if (!config) return ctl.Fail(kExSoftware, config.error().message());
      ctl.config = std::move(*config);
    }
    t = ctl.FindTarget(target);
  }
  if (!t) {
    return ctl.Fail(kExUsage,
                    "no target " + target + " in " +
                        (ctl.config_path.empty() ? "the running ferryd (or give --config FILE)"
                                                 : ctl.config_path));
  }
  const DestinationConfig* d = ctl.FindDestination(t->destination);
  if (!d) return ctl.Fail(kExUsage, "target " + target + ": its destination has no source");
  if (t->url.kind == TargetUrl::Kind::kCommand) {
    return ctl.Fail(kExUsage, "an exec: target cannot be compared");
  }
  if (t->url.kind == TargetUrl::Kind::kRsyncDaemon && t->password_file.empty() &&
      !t->url.user.empty() && ctl.config.password_from_env && !std::getenv("RSYNC_PASSWORD")) {
    // rsync would ask on the terminal, or fail with "auth failed".
    return ctl.Fail(kExUsage, "target " + target +
                                  " takes its password from RSYNC_PASSWORD in ferryd's "
                                  "environment; set it for ferryctl too");
  }
  // ferryd's own full-sync run (its transport flags, timeouts,
  // --modify-window and excludes), as a dry run that lists each difference.
  std::vector<std::string> argv =
      BuildTransfer(Transfer::Kind::kFullSync, {}, ResolveTarget(*t, *d)).argv;
  std::erase(argv, "--stats");
  argv.insert(argv.begin() + 1, {"--dry-run", "--itemize-changes", "--out-format=%i %n"});
  size_t differences = 0, dir_times = 0;
  auto code = Run(argv, [&](const std::string& line) {
    // "%i %n": 11 change flags, a space, the name. Lines without flags are
    // rsync's own messages.
    if (line.size() < 13 || line[11] != ' ') {
      std::cout << line << "\n";
      return;
    }
    const std::string flags = line.substr(0, 11);
    const bool only_dir_time = flags[1] == 'd' && flags[0] == '.' &&
                               flags.find_first_not_of(".dt", 1) == std::string::npos;
    if (only_dir_time) {
      ++dir_times;
      if (!vm.count("verbose")) return;
    } else {
      ++differences;
    }
    std::cout << flags << " " << EscapePath(line.substr(12)) << "\n";
  });
  if (!code) return ctl.Fail(kExUnavailable, code.error().message() + " (is rsync installed?)");
  if (*code != 0) return ctl.Fail(kExUnavailable, "rsync exited with " + std::to_string(*code));
  std::cout << "target " << target << ": "
            << (differences == 0 ? "matches " + d->source
                                 : std::to_string(differences) + " difference(s) from " + d->source)
            << (dir_times ? " (" + std::to_string(dir_times) + " directory time(s) differ)" : "")
            << "\n";
  return differences == 0 ? kExOk : kExFindings;
}

int RunCheckPath(Ctl& ctl, const std::vector<std::string>& args) {
  if (args.empty()) return ctl.Fail(kExUsage, "which path? (see ferryctl check-path --help)");
  if (args[0] == "--help" || args[0] == "-h") {
    std::cout << "Usage: ferryctl check-path PATH...\n\n"
                 "Tells which destination each PATH belongs to and whether a filter of that\n"
                 "destination (exclude, exclude_regex, ignore_temp_files) skips it, and which\n"
                 "rule: the question lsyncd cannot answer. A PATH that does not exist is\n"
                 "checked as a file, or as a directory when it ends in '/'.\n\n"
                 "Exit status 0 when every PATH is replicated, 1 when one is not.\n\n"
                 "Example:\n  ferryctl check-path /var/www/cache/x.html /var/www/.x.swp\n";
    return kExOk;
  }
  if (ctl.config.destinations.empty()) {
    return ctl.Fail(kExUsage, "needs the config's destinations (give --config FILE)");
  }
  int result = kExOk;
  for (const std::string& arg : args) {
    std::error_code ec;
    std::string abs = std::filesystem::absolute(arg, ec).lexically_normal().string();
    struct stat st;
    const bool is_dir = (!arg.empty() && arg.back() == '/') ||
                        (lstat(arg.c_str(), &st) == 0 && S_ISDIR(st.st_mode));
    while (abs.size() > 1 && abs.back() == '/') abs.pop_back();
    const DestinationConfig* best = nullptr;
    std::string rel;
    for (const DestinationConfig& d : ctl.config.destinations) {
      const std::string root = d.source;
      if (abs == root || abs.starts_with(WithSlash(root))) {
        if (!best || root.size() > best->source.size()) {
          best = &d;
          rel = abs == root ? "" : abs.substr(WithSlash(root).size());
        }
      }
    }
    if (!best) {
      std::cout << EscapePath(arg) << ": not under any destination's source\n";
      result = kExFindings;
      continue;
    }
    auto filter = Filter::Create(best->filter);
    if (!filter)
      return ctl.Fail(kExUsage, "destination " + best->name + ": " + filter.error().message());
    auto match = (*filter)->Explain(rel, is_dir);
    std::cout << EscapePath(arg) << ": destination " << best->name << ", path "
              << (rel.empty() ? "." : EscapePath(rel)) << (is_dir ? "/" : "");
    if (!match) {
      std::cout << ": replicated\n";
      continue;
    }
    result = kExFindings;
    const char* kind = match->kind == FilterMatch::Kind::kExclude        ? "exclude = "
                       : match->kind == FilterMatch::Kind::kExcludeRegex ? "exclude_regex = "
                                                                         : "ignore_temp_files: ";
    std::cout << ": SKIPPED by " << kind << match->rule << "\n";
  }
  return result;
}

int RunImportSersync(Ctl& ctl, const std::vector<std::string>& args) {
  if (args.size() != 1) {
    return ctl.Fail(kExUsage, "give one sersync confxml.xml (see ferryctl import-sersync --help)");
  }
  if (args[0] == "--help" || args[0] == "-h") {
    std::cout << "Usage: ferryctl import-sersync confxml.xml > ferry.conf\n\n"
                 "Prints the ferry.conf equivalent of a sersync 2.5 config: localpath, remote,\n"
                 "rsync params, auth, port, timeout, ssh, filter, failLog, crontab. What has no\n"
                 "equivalent (the CDN plugin, ...) is reported on stderr and as # NOTE: lines,\n"
                 "never dropped silently. Check the result with ferryd --check-config.\n";
    return kExOk;
  }
  std::ifstream in(args[0], std::ios::binary);
  if (!in) return ctl.Fail(kExUsage, "cannot read " + args[0]);
  std::stringstream text;
  text << in.rdbuf();
  auto r = ImportSersync(text.str(), args[0]);
  if (!r) return ctl.Fail(kExUsage, r.error().message());
  std::cout << r->config;
  for (const std::string& note : r->notes) std::cerr << "note: " << note << "\n";
  return kExOk;
}

}  // namespace ferry
