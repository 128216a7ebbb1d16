// ferryctl: inspect ferry's journal and steer the running ferryd.
#include <sys/stat.h>

#include <cstring>
#include <functional>
#include <iostream>
#include <map>

#include "tools/ctl.h"

namespace {

constexpr char kUsage[] =
    R"(Usage: ferryctl [--config FILE | --journal DIR] [--socket PATH] VERB [options]

Inspect ferry's change journal and steer the running ferryd.

Verbs (ferryctl VERB --help tells more, with examples):
  log             show journaled changes, like journalctl (-f follows)
  status          each target's state, cursor and lag; exit 1 when one needs care
  metrics         the status as Prometheus text
  replay          rewind a target so events from a seq or a time go again
  pause, resume   hold a target's deliveries, and let them go again
  resync          give a target a full sync
  dlq             list, show, retry or drop dead letters (entries a target refused)
  reload          make ferryd reread its config file (like SIGHUP)
  verify          an rsync dry run: how does a target differ from its source?
  check-path      which destination a path belongs to, and whether a filter skips it
  import-sersync  print the ferry.conf equivalent of a sersync confxml.xml

Where things are:
  --config FILE   ferry.conf to read the journal dir, socket and targets from
                  (default /etc/ferry/ferry.conf)
  --journal DIR   the journal directory (its socket defaults to DIR/ferryd.sock,
                  where ferryd's quick mode puts it)
  --socket PATH   ferryd's control socket (default: [control] socket, or
                  /run/ferry/ferryd.sock)
These three may come after the verb too: ferryctl status --config FILE.

Reading verbs work while ferryd runs and while it is stopped. Verbs that change
things go through ferryd when it runs, and to the journal directly when not.

Exit status: 0 ok; 1 findings (status: a target is blocked, expired or has dead
letters; verify: the target differs); 64 bad usage; 69 ferryd or the journal is
unavailable; 70 internal error.
)";

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  ferry::Ctl ctl;
  std::string config, journal, socket;
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; ++i) {
    const std::string arg = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (arg == "--version") {
      std::cout << "ferryctl 0.1.0\n";
      return 0;
    } else if (arg == "--config" || arg == "-c") {
      if (!value(&config)) break;
    } else if (arg == "--journal") {
      if (!value(&journal)) break;
    } else if (arg == "--socket") {
      if (!value(&socket)) break;
    } else {
      std::cerr << "ferryctl: unknown option " << arg << " before the verb (see ferryctl --help)\n";
      return ferry::kExUsage;
    }
  }
  if (i >= argc) {
    std::cerr << "ferryctl: which verb? (see ferryctl --help)\n";
    return ferry::kExUsage;
  }
  ctl.verb = argv[i];
  std::vector<std::string> args;
  // The place options work after the verb too ("ferryctl log --config F"),
  // as people type them; no verb has options of these names.
  for (int a = i + 1; a < argc; ++a) {
    const std::string arg = argv[a];
    std::string* place = arg == "--config"    ? &config
                         : arg == "--journal" ? &journal
                         : arg == "--socket"  ? &socket
                                              : nullptr;
    if (place != nullptr && a + 1 < argc) {
      *place = argv[++a];
    } else if (arg.starts_with("--config=") || arg.starts_with("--journal=") ||
               arg.starts_with("--socket=")) {
      const size_t eq = arg.find('=');
      const std::string name = arg.substr(2, eq - 2), value = arg.substr(eq + 1);
      (name == "config" ? config : name == "journal" ? journal : socket) = value;
    } else {
      args.push_back(arg);
    }
  }

  static const std::map<std::string,
                        std::function<int(ferry::Ctl&, const std::vector<std::string>&)>>
      verbs = {{"log", ferry::RunLog},
               {"status", ferry::RunStatus},
               {"metrics", ferry::RunMetrics},
               {"replay", ferry::RunReplay},
               {"pause", ferry::RunTargetVerb},
               {"resume", ferry::RunTargetVerb},
               {"resync", ferry::RunTargetVerb},
               {"dlq", ferry::RunDlq},
               {"reload", ferry::RunReload},
               {"verify", ferry::RunVerify},
               {"check-path", ferry::RunCheckPath},
               {"import-sersync", ferry::RunImportSersync}};
  auto verb = verbs.find(ctl.verb);
  if (verb == verbs.end()) {
    std::cerr << "ferryctl: unknown verb \"" << ctl.verb << "\" (see ferryctl --help)\n";
    return ferry::kExUsage;
  }
  // import-sersync needs no journal; --help needs nothing.
  const bool needs_place = ctl.verb != "import-sersync" &&
                           std::find(args.begin(), args.end(), "--help") == args.end() &&
                           std::find(args.begin(), args.end(), "-h") == args.end();
  if (needs_place) {
    if (!config.empty() || journal.empty()) {
      const std::string path = config.empty() ? "/etc/ferry/ferry.conf" : config;
      if (config.empty() && !Exists(path)) {
        return ctl.Fail(ferry::kExUsage, "no " + path +
                                             "; say where the journal is with --journal DIR "
                                             "or --config FILE");
      }
      ferry::Status s = ferry::ReadCtlConfig(path, &ctl);
      if (!s.ok()) return ctl.Fail(ferry::kExUsage, s.message());
    }
    if (!journal.empty()) ctl.journal_dir = journal;
    if (!socket.empty()) {
      ctl.socket = socket;
    } else if (ctl.socket.empty()) {
      ctl.socket =
          !journal.empty() && config.empty() ? journal + "/ferryd.sock" : "/run/ferry/ferryd.sock";
    }
  }
  try {
    return verb->second(ctl, args);
  } catch (const std::exception& e) {
    return ctl.Fail(ferry::kExSoftware, e.what());
  }
}
