#include "watch/fanotify_changes.h"

#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include <array>
#include <filesystem>
#include <utility>

#include "watch/file_stat.h"

namespace ferry {

bool ElsewhereKeys::Contains(const std::string& key) const {
  std::lock_guard lock(mu_);
  return keys_.contains(key);
}

void ElsewhereKeys::Insert(const std::string& key) {
  std::lock_guard lock(mu_);
  if (keys_.size() >= capacity_) keys_.clear();
  keys_.insert(key);
}

void ElsewhereKeys::Clear() {
  std::lock_guard lock(mu_);
  keys_.clear();
}

void ElsewhereKeys::DropKnown(std::vector<FanotifyRecord>* records) {
  std::lock_guard lock(mu_);
  if (keys_.empty()) return;
  const size_t before = records->size();
  std::erase_if(*records, [&](const FanotifyRecord& r) {
    if ((r.mask & FAN_Q_OVERFLOW) != 0 || IsSource(r.entry) || IsSource(r.from)) return false;
    if (!keys_.contains(r.entry.dir)) return false;
    return r.from.dir.empty() || keys_.contains(r.from.dir);
  });
  dropped_.fetch_add(before - records->size());
}

Result<FanotifyChanges> FanotifyChanges::Open(const std::string& root,
                                              std::shared_ptr<const Filter> filter,
                                              size_t capacity) {
  auto paths = DirectoryPaths::Open(root, capacity);
  if (!paths) return paths.error();
  const std::filesystem::path abs = paths->root();  // canonical
  // The source's own removal is an event in its parent, outside the source.
  std::optional<std::string> parent_key;
  std::string name = abs.filename().string();
  if (abs.has_parent_path() && abs != abs.root_path()) {
    parent_key = DirectoryKey(abs.parent_path().string());
  }
  auto elsewhere = std::make_shared<ElsewhereKeys>(capacity == 0 ? 1 : capacity,
                                                   std::move(parent_key), std::move(name));
  return FanotifyChanges(std::move(*paths), abs.string(), std::move(filter), std::move(elsewhere));
}

void FanotifyChanges::Clear() {
  paths_.Clear();
  elsewhere_->Clear();
}

bool FanotifyChanges::Excluded(const std::string& dir) const {
  return filter_ && !dir.empty() && filter_->Explain(dir, /*is_dir=*/true).has_value();
}

std::optional<std::string> FanotifyChanges::DirPath(const std::string& key) {
  if (auto cached = paths_.Lookup(key)) return cached;
  if (elsewhere_->Contains(key)) return std::nullopt;
  bool unsure = false;
  std::optional<std::string> path = paths_.AskKernel(key, &unsure);
  if (path && !Excluded(*path)) {
    paths_.Remember(key, *path);
    return path;
  }
  if (unsure) {
    unsure_ = true;  // maybe ours: Translate() asks for a rescan
    return std::nullopt;
  }
  elsewhere_->Insert(key);
  return std::nullopt;
}

std::optional<std::string> FanotifyChanges::EntryPath(const FanotifyEntry& entry, bool* self) {
  std::optional<std::string> dir = DirPath(entry.dir);
  if (!dir) return std::nullopt;
  *self = entry.name == ".";
  if (*self) return dir;
  return JoinPath(*dir, entry.name);
}

void FanotifyChanges::Translate(const std::vector<FanotifyRecord>& records,
                                std::vector<ChangeRecord>* out) {
  for (const FanotifyRecord& r : records) {
    if ((r.mask & FAN_Q_OVERFLOW) != 0) {
      out->push_back({.mask = IN_Q_OVERFLOW});
      Clear();
      continue;
    }
    const uint32_t dir_bit = (r.mask & FAN_ONDIR) != 0 ? IN_ISDIR : 0;
    if ((r.mask & FAN_RENAME) != 0) Rename(r, dir_bit, out);
    if ((r.mask & ~(FAN_RENAME | FAN_ONDIR)) != 0) Entry(r, dir_bit, out);
  }
  if (std::exchange(unsure_, false)) {
    // A directory the kernel could not name may have been ours: what its
    // events said is found by a rescan (and nothing cached is trusted).
    out->push_back({.mask = IN_Q_OVERFLOW});
    Clear();
  }
}

void FanotifyChanges::MovedInIfThere(const std::string& path, std::vector<ChangeRecord>* out) {
  struct stat st;
  if (lstat(JoinPath(root_, path).c_str(), &st) != 0) return;
  out->push_back({.mask = IN_MOVED_TO | (S_ISDIR(st.st_mode) ? IN_ISDIR : 0u),
                  .cookie = next_cookie_++,
                  .path = path});
}

void FanotifyChanges::Rename(const FanotifyRecord& r, uint32_t dir_bit,
                             std::vector<ChangeRecord>* out) {
  if (IsSource(r.from)) {
    out->push_back({.mask = IN_MOVE_SELF});
    return;
  }
  bool self = false;
  const std::optional<std::string> from = EntryPath(r.from, &self);
  const std::optional<std::string> to = EntryPath(r.entry, &self);
  const bool dir = dir_bit != 0;
  // Moved to an excluded name: as far as the targets care, gone.
  const bool to_excluded = to && dir && Excluded(*to);
  if (from && to && !to_excluded) {
    const uint32_t cookie = next_cookie_++;
    out->push_back({.mask = IN_MOVED_FROM | dir_bit, .cookie = cookie, .path = *from});
    out->push_back({.mask = IN_MOVED_TO | dir_bit, .cookie = cookie, .path = *to});
    if (dir && Excluded(*from)) elsewhere_->Clear();  // from an excluded name: moved in
    // Directories resolved past this rename already sat at `to`: what
    // their events said came out there, before this move; list it again.
    if (dir && paths_.Renamed(*from, *to) > 0) {
      out->push_back({.mask = IN_MOVED_TO | IN_ISDIR, .cookie = next_cookie_++, .path = *to});
    }
  } else if (from) {
    out->push_back({.mask = IN_DELETE | dir_bit, .path = *from});
    if (dir) paths_.Removed(*from);
  } else if (to && !to_excluded) {
    // Moved in: what it holds was elsewhere until now.
    out->push_back({.mask = IN_MOVED_TO | dir_bit, .cookie = next_cookie_++, .path = *to});
    if (dir) elsewhere_->Clear();
  } else {
    ++dropped_;
  }
  // Made again at the old name, its events merged into ones before the rename.
  if (from) MovedInIfThere(*from, out);
}

void FanotifyChanges::Entry(const FanotifyRecord& r, uint32_t dir_bit,
                            std::vector<ChangeRecord>* out) {
  bool self = false;
  const std::optional<std::string> path = EntryPath(r.entry, &self);
  if (!path) {
    if ((r.mask & FAN_DELETE) != 0 && IsSource(r.entry)) out->push_back({.mask = IN_DELETE_SELF});
    ++dropped_;
    return;
  }
  // The source's own attrib: inotify's backend does not journal it either.
  if (self && path->empty()) return;
  const uint32_t is_dir = self ? IN_ISDIR : dir_bit;
  const bool deleted = (r.mask & FAN_DELETE) != 0;
  struct stat st;
  const bool delete_first =
      deleted && (r.mask & ~(FAN_DELETE | FAN_ONDIR)) != 0 &&
      lstat(JoinPath(root_, *path).c_str(), &st) == 0;  // never the source itself here
  auto gone = [&] {
    out->push_back({.mask = IN_DELETE | is_dir, .path = *path});
    if (is_dir != 0) paths_.Removed(*path);
  };
  if (delete_first) gone();
  static constexpr std::array<std::pair<uint64_t, uint32_t>, 4> kInOrder{{
      {FAN_CREATE, IN_CREATE},
      {FAN_CLOSE_WRITE, IN_CLOSE_WRITE},
      {FAN_MODIFY, IN_MODIFY},
      {FAN_ATTRIB, IN_ATTRIB},
  }};
  for (const auto& [fan, in] : kInOrder) {
    if ((r.mask & fan) != 0) out->push_back({.mask = in | is_dir, .path = *path});
  }
  if (deleted && !delete_first) gone();
}

}  // namespace ferry
