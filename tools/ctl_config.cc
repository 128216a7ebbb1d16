// Ctl: the config subset, opening the journal, errors.
#include <sys/stat.h>
#include <unistd.h>

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/parsers.hpp>
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

std::vector<std::string> Words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

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

const CtlTarget* Ctl::FindTarget(const std::string& name) const {
  for (const auto& t : targets) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const CtlDestination* Ctl::FindDestination(const std::string& name) const {
  for (const auto& d : destinations) {
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
  namespace po = boost::program_options;
  std::vector<po::option> options;
  try {
    po::options_description none;
    options = po::parse_config_file(in, none, /*allow_unregistered=*/true).options;
  } catch (const std::exception& e) {
    return Status::InvalidArgument(path + ": " + e.what() + " (ferryd --check-config says more)");
  }
  ctl->config_path = path;
  auto destination = [&](const std::string& name) -> CtlDestination& {
    for (auto& d : ctl->destinations) {
      if (d.name == name) return d;
    }
    return ctl->destinations.emplace_back(CtlDestination{.name = name});
  };
  auto target = [&](const std::string& name) -> CtlTarget& {
    for (auto& t : ctl->targets) {
      if (t.name == name) return t;
    }
    return ctl->targets.emplace_back(CtlTarget{.name = name});
  };
  for (const po::option& o : options) {
    const std::string& full = o.string_key;
    const std::string value = o.value.empty() ? "" : o.value.front();
    const size_t dot = full.rfind('.');
    const std::string section = full.substr(0, dot), key = full.substr(dot + 1);
    const size_t sdot = section.find('.');
    const std::string kind = section.substr(0, sdot);
    const std::string name = sdot == std::string::npos ? "" : section.substr(sdot + 1);
    if (section == "journal" && key == "dir") ctl->journal_dir = value;
    if (section == "control" && key == "socket") ctl->socket = value;
    if (kind == "destination") {
      CtlDestination& d = destination(name);
      if (key == "source") d.source = value;
      if (key == "exclude") d.filter.exclude.push_back(value);
      if (key == "exclude_regex") d.filter.exclude_regex.push_back(value);
      if (key == "ignore_temp_files") d.filter.ignore_temp_files = value != "false";
      if (key == "rsync_args") d.rsync_args = Words(value);
    }
    if (kind == "target") {
      CtlTarget& t = target(name);
      if (key == "destination") t.destination = value;
      if (key == "url") t.url = value;
      if (key == "password_file") t.password_file = value;
      if (key == "ssh_options") t.ssh_options = Words(value);
    }
  }
  if (ctl->journal_dir.empty()) {
    return Status::InvalidArgument(path + ": [journal] dir is missing (ferryd --check-config " +
                                   path + " tells what else is wrong)");
  }
  return Status::Ok();
}

Result<int64_t> ParseWhen(const std::string& spec) {
  return ParseTimeSpec(spec, SystemClock::Default()->WallNanos());
}

}  // namespace ferry
