// Filter: which paths of a destination are not replicated.
//
// Lives in journal/ because every layer needs the same answer: the watcher
// (daemon/) skips excluded paths and never watches excluded directories,
// replay/ turns the excludes into rsync filters for a full sync, and
// ferryctl (tools/) explains why a path is skipped.
//
// Paths are relative to the destination's source directory, raw bytes (not
// assumed UTF-8). Three kinds of rules, checked in this order:
//
//  - rsync-style exclude patterns, as in rsync's --exclude:
//      *.log            any name ending in .log, at any depth
//      /cache/          the directory "cache" at the top only (leading / anchors)
//      **/node_modules/ a directory "node_modules" at any depth
//      logs/*.gz        a .gz directly inside any directory named "logs"
//      tmp/***          the directory "tmp" at any depth and everything in it
//    `*` and `?` never match '/', `**` does (`**/` also matches no directory
//    at all, so `**/x` matches a top-level x), `[a-z]` / `[!a-z]` are classes.
//    A trailing '/' matches directories only. A pattern without a leading '/'
//    matches at any depth, against whole trailing components.
//  - regular expressions (RE2), searched anywhere in the path unless anchored
//    (`^cache/`, `\.gz$`). Directories are matched with a trailing '/', so
//    `^cache/` excludes the directory cache and all below it. Bytes are
//    matched as Latin-1 (one byte = one character) and '.' matches newline, so
//    non-UTF-8 names and names with newlines match like any other.
//  - the temp-file filter (on by default): editors' and rsync's scratch files.
//
// An excluded directory excludes everything below it: Explain() checks every
// ancestor; Match() checks only the last component's rules and is what the
// watcher calls while descending (ancestors already passed).
//
// Immutable after Create; safe to use from many threads.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace re2 {
class RE2;
}

namespace ferry {

struct FilterSpec {
  std::vector<std::string> exclude;        // rsync-style patterns
  std::vector<std::string> exclude_regex;  // RE2 syntax
  bool ignore_temp_files = true;
};

// Why a path is excluded.
struct FilterMatch {
  enum class Kind { kExclude, kExcludeRegex, kTempFile };
  Kind kind;
  std::string rule;  // the pattern or regex as written, or the temp-file family
  std::string path;  // the path or ancestor directory it matched
};

// "exclude = *.log", "exclude_regex = ^cache/", "temp file (vim swap file)".
std::string DescribeMatch(const FilterMatch& match);

class Filter {
 public:
  // InvalidArgument naming the bad pattern or regex and what is wrong with it.
  static Result<std::shared_ptr<const Filter>> Create(const FilterSpec& spec);
  ~Filter();

  // The first rule excluding `path` itself (not its ancestors).
  std::optional<FilterMatch> Match(std::string_view path, bool is_dir) const;
  // The first rule excluding `path` or one of its ancestor directories.
  std::optional<FilterMatch> Explain(std::string_view path, bool is_dir) const;

  const FilterSpec& spec() const { return spec_; }

 private:
  struct Rule;
  Filter() = default;
  FilterSpec spec_;
  std::vector<Rule> rules_;
};

// If `name` (one path component) is an editor's or rsync's temp file, its
// family ("vim swap file", ...); otherwise nullopt.
std::optional<std::string_view> TempFileFamily(std::string_view name);

// The filter as rsync --exclude patterns, for transfers that walk the tree
// themselves (full syncs): the patterns as written plus the temp-file
// families rsync can express. Regular expressions have no rsync form: a full
// sync copies what only an exclude_regex would skip (the watcher still
// never journals it).
std::vector<std::string> RsyncExcludes(const FilterSpec& spec);

// Translates one rsync-style pattern into an RE2 regex over a whole relative
// path (directories without a trailing slash). Exposed for tests.
Result<std::string> GlobToRegex(std::string_view pattern);

}  // namespace ferry
