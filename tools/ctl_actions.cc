// ferryctl verbs that change things: replay, pause, resume, resync, dlq,
// reload. Through ferryd's control socket when it runs; on the journal
// directly when it is stopped (where that means something).
#include <boost/program_options.hpp>
#include <iostream>

#include "journal/escape.h"
#include "journal/pending.h"
#include "journal/status_json.h"
#include "tools/control_client.h"
#include "tools/ctl.h"
#include "tools/log_format.h"

namespace ferry {
namespace {

namespace po = boost::program_options;
using nlohmann::json;

// Parses `args` into `vm`; on --help prints `opts` and returns kExOk, on a
// bad option fails with usage; otherwise returns -1 (go on).
int Parse(Ctl& ctl, const std::vector<std::string>& args, const po::options_description& opts,
          po::variables_map* vm, const po::positional_options_description* positional = nullptr) {
  try {
    po::command_line_parser parser(args);
    parser.options(opts);
    if (positional) parser.positional(*positional);
    po::store(parser.run(), *vm);
    po::notify(*vm);
  } catch (const std::exception& e) {
    return ctl.Fail(kExUsage, std::string(e.what()) + " (see ferryctl " + ctl.verb + " --help)");
  }
  if (vm->count("help")) {
    std::cout << opts;
    return kExOk;
  }
  return -1;
}

// Sends `request` to the running ferryd. nullopt when none runs; an error
// reply is printed and turned into `*code`.
std::optional<json> Daemon(Ctl& ctl, const json& request, int* code) {
  auto r = ControlCall(ctl.socket, request);
  if (!r) {
    if (r.error().IsNotFound()) return std::nullopt;
    *code = ctl.Fail(kExUnavailable, r.error().message());
    return json();
  }
  if (!r->value("ok", false)) {
    *code = ctl.Fail(kExFindings, r->value("error", "ferryd refused"));
    return json();
  }
  *code = kExOk;
  return *r;
}

// The destination id of `target`, from its cursor or the config.
Result<uint32_t> TargetDestination(const Ctl& ctl, Journal* j, const std::string& target) {
  auto cursor = j->GetCursor(target);
  if (!cursor) return cursor.error();
  if (cursor->has_value()) return (*cursor)->destination;
  if (const TargetConfig* t = ctl.FindTarget(target)) {
    if (auto names = j->Destinations()) {
      for (const auto& [name, id] : *names) {
        if (name == t->destination) return id;
      }
    }
  }
  return Status::NotFound("target " + target +
                          " has no cursor in the journal yet (it gets a full sync when ferryd "
                          "starts it)");
}

void PrintReplay(const json& r) {
  const bool executed = r.value("executed", false);
  if (r.value("full_sync", false)) {
    std::cout << (executed ? "Started" : "Would start") << " a full sync of target "
              << r["target"].get<std::string>() << " (seq " << r["from_seq"]
              << " is older than the oldest retained, " << r["oldest_seq"] << ").\n";
  } else {
    std::cout << (executed ? "Rewound" : "Would rewind") << " target "
              << r["target"].get<std::string>() << ": " << r.value("events", 0)
              << " event(s) of its destination in seq " << r["from_seq"] << ".." << r["to_seq"]
              << (executed ? " go again.\n" : " would go again.\n");
  }
  if (!executed) std::cout << "This was a dry run; add --execute to do it.\n";
}

}  // namespace

int RunReplay(Ctl& ctl, const std::vector<std::string>& args) {
  std::string target, since;
  uint64_t from_seq = 0;
  po::options_description opts(
      "Usage: ferryctl replay --target T (--from-seq N | --since TIME) [--execute] "
      "[--full-sync]\n\n"
      "Rewinds target T's cursor so that its destination's events from seq N (or\n"
      "journaled since TIME) are delivered again, e.g. after the target lost data or\n"
      "was restored from an old backup. A dry run unless --execute is given: it\n"
      "prints how many events and which seq range would go again.\n"
      "A seq older than the oldest retained event is refused (the events are gone)\n"
      "unless --full-sync is given, which resyncs the whole tree instead.\n\n"
      "Examples:\n"
      "  ferryctl replay --target backup1 --since '2 hours ago'\n"
      "  ferryctl replay --target backup1 --from-seq 12000 --execute\n"
      "  ferryctl replay --target backup1 --from-seq 1 --full-sync --execute\n\nOptions");
  opts.add_options()("help,h", "show this help")(
      "target,t", po::value(&target), "the target's name")("from-seq", po::value(&from_seq),
                                                           "replay events from this seq on")(
      "since", po::value(&since), "replay events journaled since TIME (see ferryctl log --help)")(
      "execute", "do it (default: a dry run)")(
      "full-sync", "if the events are no longer retained, resync the whole tree instead");
  po::variables_map vm;
  if (int code = Parse(ctl, args, opts, &vm); code >= 0) return code;
  if (target.empty()) return ctl.Fail(kExUsage, "--target T is required");
  if (vm.count("from-seq") == vm.count("since")) {
    return ctl.Fail(kExUsage, "give exactly one of --from-seq N and --since TIME");
  }
  json request = {{"verb", "rewind"},
                  {"target", target},
                  {"execute", vm.count("execute") > 0},
                  {"full_sync", vm.count("full-sync") > 0}};
  if (vm.count("since")) {
    auto t = ParseWhen(since);
    if (!t) return ctl.Fail(kExUsage, "--since: " + t.error().message());
    request["time_ns"] = *t;
  } else {
    request["seq"] = from_seq;
  }
  int code = kExOk;
  if (auto r = Daemon(ctl, request, &code)) {
    if (code == kExOk) PrintReplay(*r);
    return code;
  }
  // ferryd is stopped: the journal directly.
  auto journal = vm.count("execute") ? ctl.OpenWriter()
                                     : Result<std::unique_ptr<Journal>>(Status::NotFound(""));
  std::shared_ptr<Journal> j;
  if (vm.count("execute")) {
    if (!journal) return ctl.Fail(kExUnavailable, journal.error().message());
    j = std::move(*journal);
  } else {
    auto reader = ctl.OpenReader();
    if (!reader) return ctl.Fail(kExUnavailable, reader.error().message());
    j = *reader;
  }
  auto dest = TargetDestination(ctl, j.get(), target);
  if (!dest) return ctl.Fail(kExFindings, dest.error().message());
  std::optional<int64_t> since_ns;
  if (request.contains("time_ns")) since_ns = request["time_ns"].get<int64_t>();
  auto plan = PlanReplay(j.get(), *dest, since_ns, from_seq);
  if (!plan) return ctl.Fail(kExUnavailable, plan.error().message());
  if (plan->trimmed && !vm.count("full-sync")) {
    return ctl.Fail(kExFindings, TrimmedReplayError(*plan));
  }
  json reply = ReplayPlanJson(*plan, target);
  if (vm.count("execute")) {
    // No cursor means a full sync at start.
    Status s = plan->trimmed
                   ? j->DeleteTarget(target)
                   : j->SetCursor(target, *dest, plan->from_seq == 0 ? 0 : plan->from_seq - 1);
    if (!s.ok()) return ctl.Fail(kExUnavailable, s.message());
    reply["executed"] = true;
  }
  PrintReplay(reply);
  if (vm.count("execute")) std::cout << "ferryd is stopped: this takes effect when it starts.\n";
  return kExOk;
}

int RunTargetVerb(Ctl& ctl, const std::vector<std::string>& args) {
  std::string target;
  const std::map<std::string, std::string> what = {
      {"pause",
       "Holds target T's deliveries: ferryd keeps journaling, T's lag grows, the\n"
       "running batch finishes. The pause is kept in the journal: it outlives a\n"
       "restart or a crash of ferryd and lasts until `ferryctl resume`. `status`\n"
       "shows since when and which uid paused it."},
      {"resume",
       "Lets a paused target go again (the pause is forgotten), and ends any retry\n"
       "backoff: try now."},
      {"resync",
       "Gives target T a full sync (rsync -a --delete of the whole tree), then it\n"
       "follows the journal from where the sync began. For drift behind ferry's back."}};
  po::options_description opts("Usage: ferryctl " + ctl.verb + " [--target] T\n\n" +
                               what.at(ctl.verb) + "\n\nExample:\n  ferryctl " + ctl.verb +
                               " --target backup1\n\nOptions");
  opts.add_options()("help,h", "show this help")("target,t", po::value(&target),
                                                 "the target's name");
  po::positional_options_description positional;
  positional.add("target", 1);
  po::variables_map vm;
  if (int code = Parse(ctl, args, opts, &vm, &positional); code >= 0) return code;
  if (target.empty()) return ctl.Fail(kExUsage, "--target T is required");
  int code = kExOk;
  if (auto r = Daemon(ctl, {{"verb", ctl.verb}, {"target", target}}, &code)) {
    if (code == kExOk) std::cout << "target " << target << ": " << ctl.verb << " requested\n";
    return code;
  }
  if (ctl.verb != "resync") {
    return ctl.Fail(kExUnavailable, "ferryd is not running (no one listens on " + ctl.socket +
                                        "); " + ctl.verb + " acts on a running ferryd");
  }
  auto j = ctl.OpenWriter();
  if (!j) return ctl.Fail(kExUnavailable, j.error().message());
  Status s = (*j)->DeleteTarget(target);
  if (!s.ok()) return ctl.Fail(kExUnavailable, s.message());
  std::cout << "target " << target
            << ": cursor cleared; ferryd gives it a full sync when it starts\n";
  return kExOk;
}

int RunReload(Ctl& ctl, const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << "Usage: ferryctl reload\n\n"
                 "Makes ferryd reread its config file, like `systemctl reload ferryd` (SIGHUP):\n"
                 "added destinations and targets start (a new target gets a full sync), removed\n"
                 "ones stop, unchanged targets keep their cursors. A broken file changes\n"
                 "nothing and the error is printed.\n";
    return kExOk;
  }
  if (!args.empty()) return ctl.Fail(kExUsage, "takes no arguments");
  int code = kExOk;
  auto r = Daemon(ctl, {{"verb", "reload"}}, &code);
  if (!r)
    return ctl.Fail(kExUnavailable, "ferryd is not running (no one listens on " + ctl.socket + ")");
  if (code != kExOk) return code;
  for (const char* k : {"added", "removed", "changed", "needs_restart"}) {
    for (const auto& x : (*r)[k]) std::cout << k << ": " << x.get<std::string>() << "\n";
  }
  std::cout << "reloaded\n";
  return kExOk;
}

int RunDlq(Ctl& ctl, const std::vector<std::string>& args) {
  std::string action, target;
  uint64_t seq = 0;
  po::options_description opts(
      "Usage: ferryctl dlq list|show|retry|drop [--target T] [--seq N | --all] [-o json]\n\n"
      "Dead letters are entries a target refused on their own (a file it cannot\n"
      "write, a name it rejects) while the rest of their batch was delivered. ferryd\n"
      "retries them every [replay] dead_letter_retry and removes them once delivered.\n"
      "  list   every dead letter (of T): seq, path, attempts, error\n"
      "  show   one (--seq N) with every field\n"
      "  retry  try them again now (needs a running ferryd)\n"
      "  drop   forget them: the target will not get them (until a resync)\n\n"
      "Examples:\n"
      "  ferryctl dlq list\n"
      "  chmod o+r /var/www/secret.html && ferryctl dlq retry --target backup1 --all\n"
      "  ferryctl dlq drop --target backup1 --seq 4711\n\nOptions");
  std::string output = "short";
  opts.add_options()("help,h", "show this help")(
      "action", po::value(&action), "list, show, retry or drop")("target,t", po::value(&target),
                                                                 "only this target's")(
      "seq", po::value(&seq), "only this entry")("all", "every entry (of --target)")(
      "output,o", po::value(&output), "short or json");
  po::positional_options_description positional;
  positional.add("action", 1);
  po::variables_map vm;
  if (int code = Parse(ctl, args, opts, &vm, &positional); code >= 0) return code;
  if (output != "short" && output != "json") {
    return ctl.Fail(kExUsage, "-o " + output + " is not a dlq format; allowed: short, json");
  }
  if (action != "list" && action != "show" && action != "retry" && action != "drop") {
    return ctl.Fail(kExUsage, "which action? list, show, retry or drop (see ferryctl dlq --help)");
  }
  if ((action == "show" && !vm.count("seq")) ||
      ((action == "retry" || action == "drop") && !vm.count("seq") && !vm.count("all"))) {
    return ctl.Fail(kExUsage,
                    action + " needs " + (action == "show" ? "--seq N" : "--seq N or --all"));
  }
  json request = {{"verb", action == "show" ? "dlq_list" : "dlq_" + action},
                  {"target", target},
                  {"all", vm.count("all") > 0}};
  if (vm.count("seq")) request["seq"] = seq;
  json entries = json::array();
  int code = kExOk;
  if (auto r = Daemon(ctl, request, &code)) {
    if (code != kExOk) return code;
    entries = (*r)["entries"];
  } else if (action == "retry") {
    return ctl.Fail(kExUnavailable,
                    "ferryd is not running; it retries dead letters after it starts");
  } else {
    std::shared_ptr<Journal> j;
    if (action == "drop") {
      auto w = ctl.OpenWriter();
      if (!w) return ctl.Fail(kExUnavailable, w.error().message());
      j = std::move(*w);
    } else {
      auto rd = ctl.OpenReader();
      if (!rd) return ctl.Fail(kExUnavailable, rd.error().message());
      j = *rd;
    }
    auto letters = j->ListDeadLetters(target);
    if (!letters) return ctl.Fail(kExUnavailable, letters.error().message());
    for (const DeadLetter& d : *letters) {
      if (vm.count("seq") && d.event.seq != seq) continue;
      entries.push_back(DeadLetterJson(d));
      if (action == "drop") {
        Status s = j->RemoveDeadLetter(d.target, d.event.seq);
        if (!s.ok()) return ctl.Fail(kExUnavailable, s.message());
      }
    }
    if (vm.count("seq") && entries.empty()) {
      return ctl.Fail(kExFindings, "no dead letter with seq " + std::to_string(seq));
    }
  }
  if (output == "json") {
    for (const auto& e : entries)
      std::cout << e.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  } else if (action == "show") {
    for (const auto& e : entries)
      std::cout << e.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    for (const auto& e : entries) {
      std::cout << e["target"].get<std::string>() << " #" << e["seq"] << " "
                << e["kind"].get<std::string>() << " "
                << (e.contains("path_b64") ? e["path"].get<std::string>()
                                           : EscapePath(e["path"].get<std::string>()))
                << " (" << e["attempts"] << " attempts): " << e["error"].get<std::string>() << "\n";
    }
    if (action == "list") std::cout << entries.size() << " dead letter(s)\n";
    if (action == "drop") std::cout << "dropped " << entries.size() << "\n";
    if (action == "retry") std::cout << "retrying " << entries.size() << "\n";
  }
  return kExOk;
}

}  // namespace ferry
