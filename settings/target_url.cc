#include "settings/target_url.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <charconv>

namespace ferry {
namespace {

constexpr char kForms[] =
    "; expected /abs/dir, rsync://[user@]host[:port]/module[/path], [user@]host::module[/path], "
    "[user@]host:/path or exec:/path/to/program [args]";

Status Bad(std::string_view url, std::string_view what) {
  return Status::InvalidArgument("target url '" + std::string(url) + "': " + std::string(what) +
                                 kForms);
}

// Splits "user@host" into its parts.
void SplitUser(std::string_view user_host, TargetUrl* t) {
  size_t at = user_host.rfind('@');
  if (at != std::string_view::npos) {
    t->user = user_host.substr(0, at);
    user_host.remove_prefix(at + 1);
  }
  t->host = user_host;
}

Result<TargetUrl> ParseDaemonUrl(std::string_view url) {
  TargetUrl t{.kind = TargetUrl::Kind::kRsyncDaemon, .url = std::string(url)};
  std::string_view rest = url.substr(8);  // after "rsync://"
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return Bad(url, "no module after the host");
  std::string_view authority = rest.substr(0, slash);
  size_t at = authority.rfind('@');
  size_t colon = authority.find(':', at == std::string_view::npos ? 0 : at);
  if (colon != std::string_view::npos) {
    std::string_view port = authority.substr(colon + 1);
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), t.port);
    if (ec != std::errc() || p != port.data() + port.size() || t.port <= 0 || t.port > 65535) {
      return Bad(url, "port must be 1-65535");
    }
    authority = authority.substr(0, colon);
  }
  SplitUser(authority, &t);
  std::string_view module_path = rest.substr(slash + 1);
  size_t sub = module_path.find('/');
  t.module = module_path.substr(0, sub);
  if (sub != std::string_view::npos) t.path = module_path.substr(sub + 1);
  return t;
}

}  // namespace

std::string_view TargetKindName(TargetUrl::Kind kind) {
  switch (kind) {
    case TargetUrl::Kind::kLocal:
      return "local";
    case TargetUrl::Kind::kRsyncDaemon:
      return "rsync";
    case TargetUrl::Kind::kSsh:
      return "ssh";
    case TargetUrl::Kind::kCommand:
      return "exec";
  }
  return "unknown";
}

Result<TargetUrl> ParseTargetUrl(std::string_view url) {
  if (url.empty()) return Bad(url, "empty");
  if (url.starts_with("exec:")) {
    TargetUrl t{.kind = TargetUrl::Kind::kCommand, .url = std::string(url)};
    std::string_view rest = url.substr(5);
    while (!rest.empty()) {
      size_t start = rest.find_first_not_of(' ');
      if (start == std::string_view::npos) break;
      rest.remove_prefix(start);
      size_t end = rest.find(' ');
      t.command.emplace_back(rest.substr(0, end));
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    }
    if (t.command.empty() || t.command[0].front() != '/') {
      return Bad(url, "exec: needs an absolute program path");
    }
    return t;
  }
  Result<TargetUrl> parsed = Status::InvalidArgument("");
  if (size_t scheme = url.find("://");
      scheme != std::string_view::npos && !url.starts_with("rsync://") &&
      url.substr(0, scheme).find_first_of("/:") == std::string_view::npos) {
    return Bad(url, "unknown scheme '" + std::string(url.substr(0, scheme + 3)) + "'");
  }
  if (url.starts_with("rsync://")) {
    parsed = ParseDaemonUrl(url);
  } else if (url.front() == '/') {
    parsed = TargetUrl{
        .kind = TargetUrl::Kind::kLocal, .url = std::string(url), .path = std::string(url)};
  } else if (size_t dc = url.find("::"); dc != std::string_view::npos) {
    TargetUrl t{.kind = TargetUrl::Kind::kRsyncDaemon, .url = std::string(url)};
    SplitUser(url.substr(0, dc), &t);
    std::string_view module_path = url.substr(dc + 2);
    size_t sub = module_path.find('/');
    t.module = module_path.substr(0, sub);
    if (sub != std::string_view::npos) t.path = module_path.substr(sub + 1);
    parsed = t;
  } else if (size_t colon = url.find(':');
             colon != std::string_view::npos &&
             url.substr(0, colon).find('/') == std::string_view::npos) {
    TargetUrl t{.kind = TargetUrl::Kind::kSsh, .url = std::string(url)};
    SplitUser(url.substr(0, colon), &t);
    t.path = url.substr(colon + 1);
    if (t.path.empty()) return Bad(url, "no remote path after ':'");
    parsed = t;
  } else {
    return Bad(url, "a local target must be an absolute path");
  }
  if (!parsed) return parsed;
  TargetUrl& t = *parsed;
  while (t.path.size() > 1 && t.path.back() == '/') t.path.pop_back();
  if (t.kind != TargetUrl::Kind::kLocal && t.host.empty()) return Bad(url, "no host");
  if (t.kind != TargetUrl::Kind::kLocal) {
    // The host and user reach ssh's and rsync's command lines: a leading '-'
    // would be read as an option, and only host-name bytes belong there.
    auto bad = [](const std::string& s, bool host) {
      if (!s.empty() && s.front() == '-') return true;
      for (char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' ||
                        (host && (c == '[' || c == ']' || c == ':'));
        if (!ok) return true;
      }
      return false;
    };
    if (bad(t.host, true)) {
      return Bad(url,
                 "'" + t.host +
                     "' is not a host name (letters, digits, '.', '-', '_', [IPv6]; no leading "
                     "'-')");
    }
    if (bad(t.user, false)) {
      return Bad(url, "'" + t.user +
                          "' is not a user name (letters, digits, '.', '-', '_'; no leading '-')");
    }
  }
  if (t.kind == TargetUrl::Kind::kRsyncDaemon && t.module.empty()) return Bad(url, "no module");
  return parsed;
}

std::string TargetUrl::RsyncDestination() const {
  auto with_slash = [](std::string s) {
    if (s.empty() || s.back() != '/') s += '/';
    return s;
  };
  std::string user_at = user.empty() ? "" : user + "@";
  switch (kind) {
    case Kind::kLocal:
      return with_slash(path);
    case Kind::kRsyncDaemon:
      return with_slash("rsync://" + user_at + host + (port ? ":" + std::to_string(port) : "") +
                        "/" + module + (path.empty() ? "" : "/" + path));
    case Kind::kSsh:
      return with_slash(user_at + host + ":" + path);
    case Kind::kCommand:
      return "";
  }
  return "";
}

}  // namespace ferry
