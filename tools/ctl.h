// ferryctl's shared pieces: where the journal and the control socket are,
// ferry.conf (read by the settings library, as ferryd reads it), and the
// verbs' entry points.
//
// Each verb is `int RunX(Ctl& ctl, const std::vector<std::string>& args)`:
// it parses its own options (Boost.Program_options; `--help` prints its
// usage with examples), prints results to stdout and problems to stderr (one
// line, "ferryctl VERB: what is wrong; what to do"), and returns the exit
// status: 0 ok, 1 "not ok" findings (status, verify), 64 bad usage, 69 the
// daemon or journal is unavailable, 70 an internal error.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "journal/filter.h"
#include "journal/journal.h"
#include "settings/config.h"

namespace ferry {

inline constexpr int kExOk = 0;
inline constexpr int kExFindings = 1;
inline constexpr int kExUsage = 64;
inline constexpr int kExUnavailable = 69;
inline constexpr int kExSoftware = 70;

struct Ctl {
  std::string verb;
  std::string config_path;  // empty when --journal was given without --config
  std::string journal_dir;
  std::string socket;
  // ferry.conf as ferryd reads it (settings/config.h), when --config was
  // given or /etc/ferry/ferry.conf is used; empty otherwise.
  Config config;

  const TargetConfig* FindTarget(const std::string& name) const;
  const DestinationConfig* FindDestination(const std::string& name) const;

  // The journal as a read-only follower (works while ferryd runs); its
  // private state lives in a temp dir removed with the journal object.
  Result<std::shared_ptr<Journal>> OpenReader() const;
  // The journal as its writer: only when ferryd is stopped (it holds the
  // lock otherwise; the error then says to use the daemon).
  Result<std::unique_ptr<Journal>> OpenWriter() const;

  // Prints "ferryctl VERB: message" to stderr and returns `code`.
  int Fail(int code, const std::string& message) const;
};

// Reads `path` with ferryd's own parser (no file-system checks: ferryctl
// works while a source is unmounted). Its one-line error otherwise.
Status ReadCtlConfig(const std::string& path, Ctl* ctl);

// Resolves an --since/--until/"time" argument (tools/time_spec.h) against now.
Result<int64_t> ParseWhen(const std::string& spec);

int RunLog(Ctl& ctl, const std::vector<std::string>& args);
int RunStatus(Ctl& ctl, const std::vector<std::string>& args);
int RunMetrics(Ctl& ctl, const std::vector<std::string>& args);
int RunReplay(Ctl& ctl, const std::vector<std::string>& args);
int RunTargetVerb(Ctl& ctl, const std::vector<std::string>& args);  // pause, resume, resync
int RunDlq(Ctl& ctl, const std::vector<std::string>& args);
int RunReload(Ctl& ctl, const std::vector<std::string>& args);
int RunVerify(Ctl& ctl, const std::vector<std::string>& args);
int RunCheckPath(Ctl& ctl, const std::vector<std::string>& args);
int RunImportSersync(Ctl& ctl, const std::vector<std::string>& args);

}  // namespace ferry
