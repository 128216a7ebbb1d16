#include "replay/rsync_probe.h"

#include <charconv>

namespace ferry {
namespace {

// A name no source holds: with --delete-missing-args the receiver gets a
// mode-0 entry for it, which is what broken receivers refuse. A dry run
// deletes nothing even if the target has it.
constexpr std::string_view kProbeName = "./.ferry-probe-of-the-receiver";

bool Has(std::string_view text, std::string_view what) {
  return text.find(what) != std::string_view::npos;
}

// Parses the digits at `text`, advancing it past them; -1 when none.
int TakeNumber(std::string_view& text) {
  int n = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc()) return -1;
  text.remove_prefix(static_cast<size_t>(end - text.data()));
  return n;
}

}  // namespace

bool RsyncVersion::AtLeast(int ma, int mi, int pa) const {
  if (major != ma) return major > ma;
  if (minor != mi) return minor > mi;
  return patch >= pa;
}

std::string RsyncVersion::ToString() const {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch) +
         " (protocol " + std::to_string(protocol) + ")";
}

std::optional<RsyncVersion> ParseRsyncVersion(std::string_view out) {
  out = out.substr(0, out.find('\n'));
  constexpr std::string_view kVersion = "version ", kProtocol = "protocol version ";
  const size_t v = out.find(kVersion);
  const size_t p = out.find(kProtocol);
  if (!out.starts_with("rsync ") || v == std::string_view::npos || p == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view rest = out.substr(v + kVersion.size());
  if (rest.starts_with('v')) rest.remove_prefix(1);
  RsyncVersion version;
  version.major = TakeNumber(rest);
  if (!rest.starts_with('.')) return std::nullopt;
  rest.remove_prefix(1);
  version.minor = TakeNumber(rest);
  if (rest.starts_with('.')) {
    rest.remove_prefix(1);
    version.patch = TakeNumber(rest);
  } else {
    version.patch = 0;
  }
  std::string_view protocol = out.substr(p + kProtocol.size());
  version.protocol = TakeNumber(protocol);
  if (version.major < 0 || version.minor < 0 || version.patch < 0 || version.protocol < 0) {
    return std::nullopt;
  }
  return version;
}

RsyncFeatures LocalFeatures(const RsyncVersion& v) {
  return {.delete_missing_args = v.AtLeast(3, 1, 0),
          .nanosecond_mtimes = v.AtLeast(3, 1, 3),
          .ignore_missing_args = v.AtLeast(3, 1, 0)};
}

Transfer BuildProbe(const TargetSettings& t, const RsyncVersion& local) {
  Transfer run{.kind = Transfer::Kind::kDelete};
  run.argv = RsyncBaseArgv(t);
  run.argv.insert(run.argv.end(), {"--dry-run", "--from0", "--files-from=-"});
  if (t.features.delete_missing_args) {
    run.argv.push_back("--delete-missing-args");
  } else if (t.features.ignore_missing_args) {
    run.argv.push_back("--ignore-missing-args");
  }
  // Without either, a missing path fails the run (exit 23): list none.
  if (t.features.delete_missing_args || t.features.ignore_missing_args) {
    run.input = std::string(kProbeName) + '\0';
  }
  if (local.AtLeast(3, 1, 0)) run.argv.push_back("--debug=PROTO");
  const std::string source = t.source.ends_with('/') ? t.source : t.source + "/";
  run.argv.insert(run.argv.end(), {source, t.url.RsyncDestination()});
  return run;
}

ProbeVerdict JudgeProbe(const RsyncFeatures& tried, int exit_code, std::string_view out,
                        std::string_view err) {
  ProbeVerdict v{.features = tried};
  if (exit_code == 0) {
    constexpr std::string_view kNegotiated = "negotiated=";
    if (size_t at = out.find(kNegotiated); at != std::string_view::npos) {
      std::string_view n = out.substr(at + kNegotiated.size());
      v.protocol = std::max(0, TakeNumber(n));
    }
    if (v.protocol > 0 && v.protocol < 30) {
      v.next = ProbeVerdict::Next::kBlocked;
      v.message = "the receiver speaks rsync protocol " + std::to_string(v.protocol) +
                  " (an rsync older than 3.0); ferry needs rsync 3.0.9 or later on the target";
      return v;
    }
    v.next = ProbeVerdict::Next::kDone;
    return v;
  }
  // A 3.0 receiver refuses the options it does not know, one at a time, in
  // the order the client sends them.
  // Over ssh, a receiver that dies refusing the mode-0 entry loses its
  // message about one time in 25 on a loaded machine: the run exits 2
  // (protocol incompatibility) with nothing on stderr. Taken as the same
  // refusal; were the receiver incompatible for another reason, the dry run
  // without the option fails too, and that failure is judged as it is.
  const bool lost_refusal = exit_code == 2 && !Has(err, "rsync error");
  if (tried.delete_missing_args && (Has(err, "--delete-missing-args: unknown option") ||
                                    Has(err, "invalid file mode") || lost_refusal)) {
    v.features.delete_missing_args = false;
    v.next = ProbeVerdict::Next::kAgain;
    v.message = Has(err, "invalid file mode")
                    ? "its --delete-missing-args is broken (\"invalid file mode\")"
                : lost_refusal
                    ? "the dry run with --delete-missing-args exited 2 (protocol "
                      "incompatibility) without a message, as a receiver refusing its entries "
                      "does when the message is lost"
                    : "it has no --delete-missing-args";
    return v;
  }
  if (tried.nanosecond_mtimes &&
      (Has(err, "-@-1: unknown option") || Has(err, "--modify-window=-1: unknown option"))) {
    v.features.nanosecond_mtimes = false;
    v.next = ProbeVerdict::Next::kAgain;
    v.message = "it has no nanosecond quick check (--modify-window=-1)";
    return v;
  }
  v.next = ProbeVerdict::Next::kFailed;
  return v;
}

}  // namespace ferry
