#include "replay/exit_class.h"

#include <csignal>
#include <cstring>

namespace ferry {

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kDelivered:
      return "delivered";
    case Outcome::kRetry:
      return "retry";
    case Outcome::kPartial:
      return "partial";
    case Outcome::kReceiverFull:
      return "receiver-full";
    case Outcome::kBlocked:
      return "blocked";
  }
  return "unknown";
}

Classified ClassifyRsyncExit(int exit_code, int signal, std::string_view stderr_tail) {
  if (exit_code < 0) {
    return {Outcome::kRetry, std::string("rsync killed by signal ") + std::to_string(signal) +
                                 " (" + (strsignal(signal) ? strsignal(signal) : "?") + ")"};
  }
  if (exit_code > 0 && stderr_tail.find(": unknown option") != std::string_view::npos) {
    // The receiver's rsync is older than an option of rsync_args (the probe
    // takes care of ferry's own). Retrying cannot help: say so.
    return {Outcome::kBlocked,
            "the target's rsync does not know an option ferry was given (rsync_args?)"};
  }
  switch (exit_code) {
    case 0:
      return {Outcome::kDelivered, "success"};
    case 24:  // the source changed under rsync; the delete event follows
      return {Outcome::kDelivered, "some source files vanished before they could be transferred"};
    case 1:
      return {Outcome::kBlocked, "syntax or usage error (bad password file, read-only module?)"};
    case 2:
      return {Outcome::kBlocked, "protocol incompatibility"};
    case 3:
      return {Outcome::kBlocked, "errors selecting input/output files, dirs"};
    case 4:
      return {Outcome::kBlocked, "requested action not supported"};
    case 5:
      if (stderr_tail.find("@ERROR: max connections") != std::string_view::npos) {
        return {Outcome::kRetry, "the rsync daemon is at max connections"};
      }
      return {Outcome::kBlocked,
              "error starting client-server protocol (auth failed, unknown "
              "module?)"};
    case 6:
      return {Outcome::kRetry, "daemon unable to append to log-file"};
    case 10:
      return {Outcome::kRetry, "error in socket I/O"};
    case 11:
      return {Outcome::kReceiverFull,
              "error in file I/O (receiver disk full or a parent missing?)"};
    case 12:
      return {Outcome::kRetry, "error in rsync protocol data stream"};
    case 13:
      return {Outcome::kRetry, "errors with program diagnostics"};
    case 14:
      return {Outcome::kRetry, "error in IPC code"};
    case 20:
      return {Outcome::kRetry, "received SIGUSR1 or SIGINT"};
    case 21:
      return {Outcome::kRetry, "some error returned by waitpid()"};
    case 22:
      return {Outcome::kRetry, "error allocating core memory buffers"};
    case 23:
      return {Outcome::kPartial, "partial transfer due to error"};
    case 25:
      return {Outcome::kBlocked, "the --max-delete limit stopped deletions"};
    case 30:
      return {Outcome::kRetry, "timeout in data send/receive"};
    case 35:
      return {Outcome::kRetry, "timeout waiting for daemon connection"};
    case 255:
      return {Outcome::kRetry, "remote shell failed (ssh unreachable?)"};
    default:
      return {Outcome::kRetry, "exit code " + std::to_string(exit_code)};
  }
}

Classified ClassifyCommandExit(int exit_code, int signal) {
  if (exit_code < 0) {
    return {Outcome::kRetry, std::string("command killed by signal ") + std::to_string(signal)};
  }
  if (exit_code == 0) return {Outcome::kDelivered, "success"};
  if (exit_code == 75) return {Outcome::kRetry, "command asked to retry later (exit 75)"};
  return {Outcome::kPartial, "command failed with exit code " + std::to_string(exit_code)};
}

namespace {

// rsync prints a byte it will not show as "\\#" and three octal digits.
std::string Unescape(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\\' && i + 4 < in.size() && in[i + 1] == '#' && in[i + 2] >= '0' &&
        in[i + 2] <= '3' && in[i + 3] >= '0' && in[i + 3] <= '7' && in[i + 4] >= '0' &&
        in[i + 4] <= '7') {
      out.push_back(
          static_cast<char>((in[i + 2] - '0') * 64 + (in[i + 3] - '0') * 8 + (in[i + 4] - '0')));
      i += 4;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

}  // namespace

bool OnlyMissingPaths(std::string_view text, bool stderr_cut) {
  if (stderr_cut) return false;
  bool any = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (!line.starts_with("rsync: ")) continue;
    if (!line.starts_with("rsync: link_stat \"") ||
        !line.ends_with("\" failed: No such file or directory (2)")) {
      return false;
    }
    any = true;
  }
  return any;
}

std::optional<std::vector<std::string>> ComplainedPaths(std::string_view text, bool stderr_cut,
                                                        std::string_view root) {
  if (stderr_cut) return std::nullopt;
  while (root.size() > 1 && root.back() == '/') root.remove_suffix(1);
  const std::string prefix = std::string(root) + "/";
  std::vector<std::string> paths;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (!line.starts_with("rsync: ")) continue;  // not "rsync error: ... (code 23)"
    const size_t open = line.find('"');
    // The last quote: a name may hold quotes, rsync's message text does not.
    const size_t close = line.rfind('"');
    if (open == std::string_view::npos || close == open) return std::nullopt;
    std::string path = Unescape(line.substr(open + 1, close - open - 1));
    if (!path.starts_with(prefix) || path.size() == prefix.size()) return std::nullopt;
    paths.push_back(path.substr(prefix.size()));
  }
  if (paths.empty()) return std::nullopt;
  return paths;
}

std::string ExplainFailure(const std::string& text) {
  std::string last, complaint;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) continue;
    if (line.starts_with("@ERROR")) return line;
    if (line.starts_with("rsync: ")) complaint = line;
    last = line;
  }
  return complaint.empty() ? last : complaint;
}


}  // namespace ferry
