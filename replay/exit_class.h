// How a transfer ended, and what the lane does about it: the one table that
// classifies rsync's exit codes (and command targets' exits).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry {

enum class Outcome {
  kDelivered,     // advance the cursor
  kRetry,         // transient (network, timeout, busy server): back off and retry
  kPartial,       // some entries failed: retry, then bisect to dead-letter exactly those
  kReceiverFull,  // the receiver is out of space or misses a parent: retry, loudly
  kBlocked,       // the target's configuration is wrong (auth, module, protocol): the
                  // lane is blocked until fixed; never the entries' fault
};

std::string_view OutcomeName(Outcome outcome);

struct Classified {
  Outcome outcome;
  std::string reason;  // rsync's meaning of the code, for status and logs
};

// `exit_code` is the child's exit status, or -1 with `signal` set when it was
// killed (by ferry's deadline watchdog or anyone else). `stderr_tail` is the
// end of what it printed ("@ERROR: max connections" makes a 5 transient).
Classified ClassifyRsyncExit(int exit_code, int signal, std::string_view stderr_tail);
// Command targets (exec:): 0 delivered, 75 (EX_TEMPFAIL) retry, any other
// failure partial (retried, then bisected), killed by a signal retry.
Classified ClassifyCommandExit(int exit_code, int signal);

// True when every complaint of an rsync run is a listed path that is gone
// ("rsync: link_stat \"/src/a\" failed: No such file or directory (2)"):
// what a sender without --ignore-missing-args (before 3.1.0) says of a
// path deleted after it was journaled. Its delete event follows.
bool OnlyMissingPaths(std::string_view stderr_text, bool stderr_cut);

// The entries an rsync run complained about ("rsync: [sender] send_files
// failed to open \"/src/a\": Permission denied (13)"), relative to `root`
// (the source directory, with or without its trailing '/'); rsync's \#ooo
// escapes undone. nullopt when any complaint names no path under `root`
// (a receiver-side error, say) or the text was cut: then the run's failures
// are not known exactly.
std::optional<std::vector<std::string>> ComplainedPaths(std::string_view stderr_text,
                                                        bool stderr_cut, std::string_view root);

// The line of a child's stderr that explains its failure: rsync's "@ERROR"
// from a daemon, else its last "rsync: ..." complaint (the final "rsync
// error: ... (code 23)" line only repeats the exit code), else the last line.
std::string ExplainFailure(const std::string& stderr_text);

}  // namespace ferry
