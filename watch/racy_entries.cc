#include "watch/racy_entries.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <mutex>

#include "watch/reconcile.h"

namespace ferry {
namespace {

constexpr int64_t kSlackNs = 1'000'000;            // past the tick, for the clocks' skew
constexpr int64_t kFirstBackoffNs = 1'000'000'000;  // an open file: checked again in 1 s
constexpr int64_t kMaxBackoffNs = 60'000'000'000;

int64_t WindowNs(const FileState& s) {
  return s.mtime_ns % 1'000'000'000 == 0 ? kRacyWindowCoarseNs : kRacyWindowNs;
}

}  // namespace

void RacyEntries::Hold(const std::string& path, Entry entry) {
  if (auto it = entries_.find(path); it != entries_.end()) Erase(it);
  queue_.emplace(entry.due_ns, path);
  entries_.emplace(path, entry);
}

std::map<std::string, RacyEntries::Entry>::iterator RacyEntries::Erase(
    std::map<std::string, Entry>::iterator it) {
  auto [first, last] = queue_.equal_range(it->second.due_ns);
  for (auto q = first; q != last; ++q) {
    if (q->second == it->first) {
      queue_.erase(q);
      break;
    }
  }
  return entries_.erase(it);
}

void RacyEntries::Recorded(const std::string& path, const FileState& state, int64_t now_ns) {
  if (S_ISDIR(state.mode) || !IsRacy(state)) {
    if (auto it = entries_.find(path); it != entries_.end()) Erase(it);
    return;
  }
  if (entries_.size() >= max_entries_ && !entries_.contains(path)) {
    ++dropped_;
    return;
  }
  // The tick passes at mtime + window, wall time; seen_ns is wall time now.
  const int64_t wait = state.mtime_ns + WindowNs(state) - state.seen_ns;
  Hold(path, {.recorded = state, .due_ns = now_ns + std::max<int64_t>(wait, 0) + kSlackNs});
}

void RacyEntries::Forget(const std::string& path) {
  if (auto it = entries_.find(path); it != entries_.end()) Erase(it);
  const std::string prefix = path.empty() ? "" : path + "/";
  auto it = entries_.lower_bound(prefix);
  while (it != entries_.end() && it->first.starts_with(prefix)) it = Erase(it);
}

void RacyEntries::Rename(const std::string& from, const std::string& to) {
  std::vector<std::pair<std::string, Entry>> moved;
  if (auto it = entries_.find(from); it != entries_.end()) {
    moved.emplace_back(to, it->second);
    Erase(it);
  }
  const std::string prefix = from + "/";
  for (auto it = entries_.lower_bound(prefix);
       it != entries_.end() && it->first.starts_with(prefix);) {
    moved.emplace_back(to + it->first.substr(from.size()), it->second);
    it = Erase(it);
  }
  Forget(to);  // what the rename replaced
  for (auto& [path, entry] : moved) Hold(path, entry);
}

std::vector<RacyEntries::Check> RacyEntries::Due(int64_t now_ns, size_t max) {
  std::vector<Check> due;
  while (!queue_.empty() && queue_.begin()->first <= now_ns && due.size() < max) {
    auto item = queue_.extract(queue_.begin());
    auto it = entries_.find(item.mapped());
    if (it == entries_.end()) continue;  // cannot happen: Erase() keeps the two in step
    due.push_back(
        {.path = it->first, .recorded = it->second.recorded, .backoff_ns = it->second.backoff_ns});
    entries_.erase(it);
  }
  return due;
}

void RacyEntries::Later(Check check, int64_t now_ns) {
  if (entries_.contains(check.path)) return;  // recorded again meanwhile
  const int64_t backoff =
      check.backoff_ns == 0 ? kFirstBackoffNs : std::min(check.backoff_ns * 2, kMaxBackoffNs);
  Hold(check.path, {.recorded = check.recorded, .due_ns = now_ns + backoff, .backoff_ns = backoff});
}

void RacyEntries::Again(Check check, int64_t due_ns) {
  if (entries_.contains(check.path)) return;
  Hold(check.path, {.recorded = check.recorded, .due_ns = due_ns, .backoff_ns = check.backoff_ns});
}

int64_t RacyEntries::NextDueNs() const {
  return queue_.empty() ? INT64_MAX : queue_.begin()->first;
}

bool NotOpenForWriting(const std::string& path) {
  static std::once_flag sigio;
  std::call_once(sigio, [] {
    // A writer opening the file while we hold the lease breaks it with SIGIO,
    // whose default action ends the process.
    struct sigaction old {};
    if (sigaction(SIGIO, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) signal(SIGIO, SIG_IGN);
  });
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return false;
  // Granted only if no one has the file open for writing (EAGAIN then).
  const bool none = fcntl(fd, F_SETLEASE, F_RDLCK) == 0;
  if (none) fcntl(fd, F_SETLEASE, F_UNLCK);
  close(fd);
  return none;
}

}  // namespace ferry
