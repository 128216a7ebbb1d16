#include "journal/filter.h"

#include <re2/re2.h>

namespace ferry {

struct Filter::Rule {
  FilterMatch::Kind kind;
  std::string source;
  bool dir_only = false;
  std::unique_ptr<re2::RE2> re;
};

namespace {

re2::RE2::Options ByteOptions() {
  re2::RE2::Options o;
  o.set_encoding(re2::RE2::Options::EncodingLatin1);
  o.set_dot_nl(true);
  o.set_log_errors(false);
  return o;
}

std::string_view Basename(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// rsync's temp files are ".name.XXXXXX" with six mkstemp characters. A real
// ".name.backup" is six lowercase letters; mkstemp's almost always include a
// digit or capital, so only those count.
bool IsRsyncTemp(std::string_view name) {
  if (name.size() < 9 || name[0] != '.' || name[name.size() - 7] != '.') return false;
  bool mixed = false;
  for (char c : name.substr(name.size() - 6)) {
    if (!IsAlnum(c)) return false;
    if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) mixed = true;
  }
  return mixed;
}

}  // namespace

std::optional<std::string_view> TempFileFamily(std::string_view name) {
  auto ends = [&](std::string_view s) { return name.size() > s.size() && name.ends_with(s); };
  if (name.size() > 5 && name[0] == '.' && name[name.size() - 4] == '.' &&
      name.substr(name.size() - 3, 2) == "sw" &&
      ((name.back() >= 'a' && name.back() <= 'p') || name.back() == 'x')) {
    return "vim swap file";
  }
  if (ends("~")) return "backup file (name~)";
  if (name.starts_with(".~lock.") && ends("#")) return "LibreOffice lock file";
  if (name.size() > 2 && name.front() == '#' && name.back() == '#') return "emacs auto-save file";
  if (name.size() > 2 && name.starts_with(".#")) return "emacs lock file";
  if (IsRsyncTemp(name)) return "rsync temp file";
  return std::nullopt;
}

Result<std::string> GlobToRegex(std::string_view pattern) {
  std::string_view p = pattern;
  if (p.empty() || p == "/") return Status::InvalidArgument("empty pattern");
  const bool anchored = p.front() == '/';
  if (anchored) p.remove_prefix(1);
  if (p.ends_with('/')) p.remove_suffix(1);  // dir-only is handled by the caller
  bool subtree = false;                      // "dir/***": the dir and all inside
  if (p.ends_with("/***")) {
    subtree = true;
    p.remove_suffix(4);
  }
  std::string re = anchored ? "^" : "(?:^|/)";
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '*') {
      if (i + 1 < p.size() && p[i + 1] == '*') {
        const bool whole_component = i == 0 || p[i - 1] == '/';
        while (i + 1 < p.size() && p[i + 1] == '*') ++i;
        if (whole_component && i + 1 < p.size() && p[i + 1] == '/') {
          re += "(?:.*/)?";  // "**/": zero or more directories
          ++i;
        } else {
          re += ".*";
        }
      } else {
        re += "[^/]*";
      }
    } else if (c == '?') {
      re += "[^/]";
    } else if (c == '[') {
      size_t close = p.find(']', i + 2);
      if (close == std::string_view::npos) {
        return Status::InvalidArgument("pattern " + std::string(pattern) + ": '[' without ']'");
      }
      std::string_view body = p.substr(i + 1, close - i - 1);
      re += '[';
      if (!body.empty() && (body[0] == '!' || body[0] == '^')) {
        re += '^';
        body.remove_prefix(1);
      }
      for (char b : body) {
        if (b == '\\' || b == '[' || b == ']') re += '\\';
        re += b;
      }
      re += ']';
      i = close;
    } else if (c == '\\' && i + 1 < p.size()) {
      re += re2::RE2::QuoteMeta(std::string_view(&p[++i], 1));
    } else {
      re += re2::RE2::QuoteMeta(std::string_view(&c, 1));
    }
  }
  re += subtree ? "(?:/.*)?$" : "$";
  return re;
}

std::string DescribeMatch(const FilterMatch& m) {
  switch (m.kind) {
    case FilterMatch::Kind::kExclude:
      return "exclude = " + m.rule;
    case FilterMatch::Kind::kExcludeRegex:
      return "exclude_regex = " + m.rule;
    case FilterMatch::Kind::kTempFile:
      return "temp file (" + m.rule + "); set ignore_temp_files = false to replicate it";
  }
  return m.rule;
}

std::vector<std::string> RsyncExcludes(const FilterSpec& spec) {
  std::vector<std::string> out = spec.exclude;
  if (spec.ignore_temp_files) {
    // rsync's own ".name.XXXXXX" has no exact glob; the receiver never
    // transfers its own temp files anyway.
    out.insert(out.end(), {".*.sw[a-px]", "*~", "#*#", ".#*", ".~lock.*#"});
  }
  return out;
}

Filter::~Filter() = default;

Result<std::shared_ptr<const Filter>> Filter::Create(const FilterSpec& spec) {
  std::shared_ptr<Filter> f(new Filter());
  f->spec_ = spec;
  for (const std::string& pattern : spec.exclude) {
    auto re = GlobToRegex(pattern);
    if (!re) return re.error();
    Rule r{FilterMatch::Kind::kExclude, pattern, pattern.ends_with('/'),
           std::make_unique<re2::RE2>(*re, ByteOptions())};
    if (!r.re->ok()) {
      return Status::InvalidArgument("exclude " + pattern + ": " + r.re->error());
    }
    f->rules_.push_back(std::move(r));
  }
  for (const std::string& regex : spec.exclude_regex) {
    Rule r{FilterMatch::Kind::kExcludeRegex, regex, false,
           std::make_unique<re2::RE2>(regex, ByteOptions())};
    if (!r.re->ok()) {
      return Status::InvalidArgument("exclude_regex " + regex + ": " + r.re->error() +
                                     " (RE2 syntax: https://github.com/google/re2/wiki/Syntax)");
    }
    f->rules_.push_back(std::move(r));
  }
  return std::shared_ptr<const Filter>(std::move(f));
}

std::optional<FilterMatch> Filter::Match(std::string_view path, bool is_dir) const {
  std::string with_slash;
  for (const Rule& r : rules_) {
    if (r.kind == FilterMatch::Kind::kExclude) {
      if (r.dir_only && !is_dir) continue;
      if (re2::RE2::PartialMatch(path, *r.re))
        return FilterMatch{r.kind, r.source, std::string(path)};
    } else {
      if (is_dir && with_slash.empty()) with_slash = std::string(path) + "/";
      std::string_view subject = is_dir ? std::string_view(with_slash) : path;
      if (re2::RE2::PartialMatch(subject, *r.re)) {
        return FilterMatch{r.kind, r.source, std::string(path)};
      }
    }
  }
  if (spec_.ignore_temp_files && !is_dir) {
    if (auto family = TempFileFamily(Basename(path))) {
      return FilterMatch{FilterMatch::Kind::kTempFile, std::string(*family), std::string(path)};
    }
  }
  return std::nullopt;
}

std::optional<FilterMatch> Filter::Explain(std::string_view path, bool is_dir) const {
  for (size_t slash = path.find('/'); slash != std::string_view::npos;
       slash = path.find('/', slash + 1)) {
    if (auto m = Match(path.substr(0, slash), /*is_dir=*/true)) return m;
  }
  return Match(path, is_dir);
}

}  // namespace ferry
