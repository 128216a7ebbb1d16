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

}  // namespace ferry
