#include "settings/quick_mode.h"

#include <filesystem>

namespace ferry {

Result<Config> QuickConfig(const QuickMode& q) {
  std::error_code ec;
  auto abs = [&](const std::string& p) { return std::filesystem::absolute(p, ec).string(); };
  std::string text = "[journal]\ndir = " + abs(q.journal) + "\n[control]\nsocket = " +
                     abs(q.journal) + "/ferryd.sock\n[destination.default]\nsource = " +
                     abs(q.source) + "\n";
  if (!q.watcher.empty()) text += "watcher = " + q.watcher + "\n";
  for (size_t i = 0; i < q.targets.size(); ++i) {
    std::string url = q.targets[i];
    if (!url.empty() && url.front() != '/' && url.find(':') == std::string::npos) url = abs(url);
    text +=
        "[target.target" + std::to_string(i + 1) + "]\ndestination = default\nurl = " + url + "\n";
    auto parsed = ParseTargetUrl(url);
    if (parsed && parsed->kind == TargetUrl::Kind::kRsyncDaemon && !q.password_file.empty()) {
      text += "password_file = " + abs(q.password_file) + "\n";
    }
  }
  ParseOptions options{.password_from_env = q.rsync_password_in_env && q.password_file.empty(),
                       .command_line = true};
  return ParseConfig(text, "(command line)", options);
}

}  // namespace ferry
