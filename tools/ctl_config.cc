// Ctl: the config subset, opening the journal, errors.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "base/clock.h"
#include "tools/ctl.h"
#include "tools/time_spec.h"

namespace ferry {
namespace {

// A temp dir for the follower's own files, removed with the journal.
class FollowerJournal {
 public:
  static Result<std::shared_ptr<Journal>> Open(const std::string& dir) {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/ferryctl-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) return ErrnoStatus(errno, "mkdtemp", tmpl);
    auto j = Journal::OpenSecondary(dir, tmpl);
    if (!j) {
      std::error_code ec;
      std::filesystem::remove_all(tmpl, ec);
      return j.error();
    }
    std::shared_ptr<Journal> owned(j->release());
    // The aliasing deleter removes the temp dir after the journal closes.
    return std::shared_ptr<Journal>(owned.get(), [owned, tmpl](Journal*) mutable {
      owned.reset();
      std::error_code ec;
      std::filesystem::remove_all(tmpl, ec);
    });
  }
};

}  // namespace

const TargetConfig* Ctl::FindTarget(const std::string& name) const {
  for (const auto& t : config.targets) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const DestinationConfig* Ctl::FindDestination(const std::string& name) const {
  for (const auto& d : config.destinations) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

Result<std::shared_ptr<Journal>> Ctl::OpenReader() const {
  struct stat st;
  if (stat((journal_dir + "/CURRENT").c_str(), &st) != 0) {
    return Status::NotFound("no journal at " + journal_dir +
                            " (has ferryd run yet? give --journal DIR or --config FILE)");
  }
  auto j = FollowerJournal::Open(journal_dir);
  if (!j) return j.error().WithContext("journal " + journal_dir);
  FERRY_RETURN_IF_ERROR((*j)->CatchUp());
  return j;
}

Result<std::unique_ptr<Journal>> Ctl::OpenWriter() const {
  struct stat st;
  if (stat((journal_dir + "/CURRENT").c_str(), &st) != 0) {
    return Status::NotFound("no journal at " + journal_dir);
  }
  auto j = Journal::Open({.dir = journal_dir});
  if (!j) {
    return Status::IOError(
        "cannot open the journal " + journal_dir + " for writing (" + j.error().message() +
        "); if ferryd is running, it does this through its control socket " + socket);
  }
  return j;
}

int Ctl::Fail(int code, const std::string& message) const {
  std::cerr << "ferryctl " << verb << ": " << message << "\n";
  return code;
}

Status ReadCtlConfig(const std::string& path, Ctl* ctl) {
  std::ifstream in(path);
  if (!in) return ErrnoStatus(errno, "read config", path);
  std::stringstream text;
  text << in.rdbuf();
  Config so_far;
  auto config = ParseConfig(text.str(), path, {}, &so_far);
  if (!config) {
    // reload sends the file to ferryd, which says what is wrong with it.
    if (ctl->verb != "reload") return config.error();
    config = std::move(so_far);
  }
  ctl->config_path = path;
  ctl->journal_dir = config->journal_dir;
  ctl->socket = config->socket;
  ctl->config = std::move(*config);
  return Status::Ok();
}

Result<int64_t> ParseWhen(const std::string& spec) {
  return ParseTimeSpec(spec, SystemClock::Default()->WallNanos());
}

}  // namespace ferry
