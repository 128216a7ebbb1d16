// ferryctl: inspect ferry's journal and steer the running ferryd.
#include <sys/stat.h>

#include <cstring>
#include <functional>
#include <iostream>
#include <map>

#include "settings/control_locator.h"
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

// Where things are (see kUsage), before or after the verb.
struct Places {
  std::string config, journal, socket;
};

enum class Took { kNo, kYes, kNoValue };

// Takes argv[*at] if it is a place option, "--name VALUE" or "--name=VALUE"
// ("-c VALUE" too when `short_ok`): stores the value and steps *at past it.
Took TakePlace(int argc, char** argv, int* at, bool short_ok, Places* places) {
  const std::string arg = argv[*at];
  const size_t eq = arg.find('=');
  const std::string name = arg.substr(0, eq);
  std::string* slot = name == "--config" || (short_ok && arg == "-c") ? &places->config
                      : name == "--journal"                           ? &places->journal
                      : name == "--socket"                            ? &places->socket
                                                                      : nullptr;
  if (slot == nullptr) return Took::kNo;
  if (eq != std::string::npos) {
    *slot = arg.substr(eq + 1);
  } else if (*at + 1 < argc) {
    *slot = argv[++*at];
  } else {
    return Took::kNoValue;
  }
  return Took::kYes;
}

}  // namespace

int main(int argc, char** argv) {
  ferry::Ctl ctl;
  Places places;
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (arg == "--version") {
      std::cout << "ferryctl 0.1.0\n";
      return 0;
    }
    const Took took = TakePlace(argc, argv, &i, /*short_ok=*/true, &places);
    if (took == Took::kNoValue) break;
    if (took == Took::kNo) {
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
    if (TakePlace(argc, argv, &a, /*short_ok=*/false, &places) != Took::kYes) {
      args.push_back(argv[a]);
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
    if (!places.config.empty() || places.journal.empty()) {
      const std::string path = places.config.empty() ? "/etc/ferry/ferry.conf" : places.config;
      if (places.config.empty() && !Exists(path)) {
        return ctl.Fail(ferry::kExUsage, "no " + path +
                                             "; say where the journal is with --journal DIR "
                                             "or --config FILE");
      }
      ferry::Status s = ferry::ReadCtlConfig(path, &ctl);
      if (!s.ok()) return ctl.Fail(ferry::kExUsage, s.message());
    }
    if (!places.journal.empty()) ctl.journal_dir = places.journal;
    if (!places.socket.empty()) {
      ctl.socket = places.socket;
    } else if (!places.journal.empty() && places.config.empty()) {
      // The ferryd running on that journal said where it listens; else
      // quick mode's place.
      ctl.socket = ferry::ReadControlLocator(places.journal)
                       .value_or(places.journal + "/ferryd.sock");
    } else if (ctl.socket.empty()) {
      ctl.socket = "/run/ferry/ferryd.sock";
    }
  }
  try {
    return verb->second(ctl, args);
  } catch (const std::exception& e) {
    return ctl.Fail(ferry::kExSoftware, e.what());
  }
}
