#include "watch/reconcile.h"

#include <sys/stat.h>

#include <algorithm>

#include "watch/file_stat.h"
#include "watch/tree_walk.h"

namespace ferry {
namespace {

bool Under(std::string_view path, std::string_view dir) {
  return !dir.empty() && path.size() > dir.size() && path.starts_with(dir) &&
         path[dir.size()] == '/';
}

// Under, where everything but the root itself is below the root.
bool Below(std::string_view path, std::string_view dir) {
  return dir.empty() ? !path.empty() : Under(path, dir);
}

bool ContentChanged(const FileState& was, const FileState& now) {
  return was.inode != now.inode || was.size != now.size || was.mtime_ns != now.mtime_ns ||
         (was.ctime_ns != now.ctime_ns && was.mode == now.mode) || IsRacy(was);
}

bool SameType(const FileState& a, const FileState& b) {
  return (a.mode & S_IFMT) == (b.mode & S_IFMT);
}

class Reconciler {
 public:
  Reconciler(Journal* journal, const ReconcileOptions& o) : journal_(journal), o_(o) {}

  Result<ReconcileStats> Run() {
    auto catalog = journal_->NewCatalogReader(o_.destination);
    if (!o_.subtrees.empty()) return RunSubtrees(catalog.get());
    if (!catalog->Valid()) {
      FERRY_RETURN_IF_ERROR(catalog->status());
      stats_.first_sync = true;
      if (o_.journal_events) {
        Emit(Event{.destination = o_.destination, .kind = EventKind::kFullSync, .is_dir = true});
      }
    }
    if (catalog->Valid() && catalog->entry().path.empty()) {
      catalog->Next();
    } else {
      // The root marks the catalog as written: a tree that is empty now is
      // not a first start next time. (Journals from before it get it here.)
      batch_.catalog.push_back({.op = CatalogChange::Op::kPut,
                                .destination = o_.destination,
                                .state = {.mode = S_IFDIR | 0755}});
    }
    FERRY_RETURN_IF_ERROR(Merge("", catalog.get()));
    FERRY_RETURN_IF_ERROR(MaybeFlush(true));
    return stats_;
  }

 private:
  bool Wanted(EventKind kind) const {
    switch (kind) {
      case EventKind::kCreate:
        return (o_.events & (kSelectCreate | kSelectCloseWrite | kSelectModify)) != 0;
      case EventKind::kModify:
        return (o_.events & (kSelectCloseWrite | kSelectModify)) != 0;
      case EventKind::kAttrib:
        return (o_.events & kSelectAttrib) != 0;
      case EventKind::kDelete:
        return (o_.events & kSelectDelete) != 0;
      default:
        return true;
    }
  }

  void Emit(Event e) {
    if (e.kind != EventKind::kFullSync &&
        (!o_.journal_events || stats_.first_sync || !Wanted(e.kind))) {
      return;
    }
    batch_.events.push_back(std::move(e));
    ++stats_.events;
  }

  void Put(const WalkEntry& w) {
    batch_.catalog.push_back({.op = CatalogChange::Op::kPut,
                              .destination = o_.destination,
                              .path = w.path,
                              .state = w.state});
    if (o_.on_put) o_.on_put(w.path, w.state);
  }

  void Added(const WalkEntry& w) {
    ++stats_.created;
    Put(w);
    if (Under(w.path, new_dir_)) return;  // its new ancestor's create covers it
    Emit(Event{.destination = o_.destination,
               .kind = EventKind::kCreate,
               .is_dir = IsDir(w.state),
               .path = w.path});
    if (IsDir(w.state)) new_dir_ = w.path;
  }

  void Removed(const std::string& path, bool is_dir) {
    ++stats_.deleted;
    batch_.catalog.push_back(
        {.op = CatalogChange::Op::kDelete, .destination = o_.destination, .path = path});
    Emit(Event{
        .destination = o_.destination, .kind = EventKind::kDelete, .is_dir = is_dir, .path = path});
  }

  void Compare(const WalkEntry& w, const FileState& was) {
    if (!SameType(was, w.state)) {
      Removed(w.path, IsDir(was));
      Added(w);
      return;
    }
    if (!IsDir(w.state) && ContentChanged(was, w.state)) {
      ++stats_.modified;
      Put(w);
      Emit(Event{.destination = o_.destination, .kind = EventKind::kModify, .path = w.path});
    } else if (was.mode != w.state.mode) {
      ++stats_.attrib;
      Put(w);
      Emit(Event{.destination = o_.destination,
                 .kind = EventKind::kAttrib,
                 .is_dir = IsDir(w.state),
                 .path = w.path});
    }
  }

  // Only what is below each of o_.subtrees, in catalog order, so that one
  // pass of the catalog reader serves them all.
  Result<ReconcileStats> RunSubtrees(CatalogReader* catalog) {
    std::vector<std::string> tops = o_.subtrees;
    std::sort(tops.begin(), tops.end(),
              [](const std::string& a, const std::string& b) { return ComparePaths(a, b) < 0; });
    const std::string* last = nullptr;  // the last top walked
    for (const std::string& top : tops) {
      // A subtree is one range of the catalog, so one below another (or a
      // duplicate) follows the one it is in, and was walked with it.
      if (last != nullptr && (top == *last || Below(top, *last))) continue;
      last = &top;
      while (catalog->Valid() && ComparePaths(catalog->entry().path, top) <= 0) catalog->Next();
      FERRY_RETURN_IF_ERROR(catalog->status());
      FERRY_RETURN_IF_ERROR(Merge(top, catalog));
    }
    FERRY_RETURN_IF_ERROR(MaybeFlush(true));
    return stats_;
  }

  // Merges the walk of what is below `top` with the catalog entries below
  // it, the reader being at the first of them.
  Status Merge(const std::string& top, CatalogReader* catalog) {
    TreeWalker walker({.root = o_.root,
                       .start = top,
                       .filter = o_.filter,
                       .clock = o_.clock,
                       .before_listing = o_.before_listing,
                       .on_error = o_.on_error,
                       .on_vanished = o_.on_vanished});
    auto in_catalog = [&] { return catalog->Valid() && Below(catalog->entry().path, top); };
    std::optional<WalkEntry> w = walker.Next();
    if (!w && !top.empty() && !IsDirectory(top)) {
      // Gone or renamed meanwhile: its parent's records say what became of
      // it and of what the catalog has below it.
      while (in_catalog()) catalog->Next();
      return catalog->status();
    }
    while (w || in_catalog()) {
      int cmp = !w ? 1 : !in_catalog() ? -1 : ComparePaths(w->path, catalog->entry().path);
      if (cmp < 0) {
        Added(*w);
        w = walker.Next();
      } else if (cmp > 0) {
        std::string gone = catalog->entry().path;
        Removed(gone, IsDir(catalog->entry().state));
        for (catalog->Next(); catalog->Valid() && Under(catalog->entry().path, gone);) {
          catalog->Next();
        }
      } else {
        const FileState was = catalog->entry().state;
        const bool was_dir = IsDir(was);
        catalog->Next();
        if (was_dir && !SameType(was, w->state)) {
          while (catalog->Valid() && Under(catalog->entry().path, w->path)) catalog->Next();
        }
        Compare(*w, was);
        w = walker.Next();
      }
      FERRY_RETURN_IF_ERROR(MaybeFlush(false));
    }
    FERRY_RETURN_IF_ERROR(catalog->status());
    stats_.entries += walker.entries();
    return Status::Ok();
  }

  bool IsDirectory(const std::string& rel) const {
    struct stat st;
    return lstat(JoinPath(o_.root, rel).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }

  Status MaybeFlush(bool final) {
    size_t pending = batch_.events.size() + batch_.catalog.size();
    if (pending == 0 || (!final && pending < o_.batch_size)) return Status::Ok();
    auto r = journal_->Append(std::move(batch_));
    batch_ = AppendBatch{};
    return r.error();
  }

  Journal* journal_;
  const ReconcileOptions& o_;
  ReconcileStats stats_;
  AppendBatch batch_;
  std::string new_dir_;  // the top of the new subtree being walked
};

}  // namespace

bool IsRacy(const FileState& recorded) {
  const bool coarse = recorded.mtime_ns % 1'000'000'000 == 0;
  return recorded.seen_ns - recorded.mtime_ns < (coarse ? kRacyWindowCoarseNs : kRacyWindowNs);
}

int ComparePaths(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = a[i] == '/' ? 0 : static_cast<unsigned char>(a[i]);
    unsigned char y = b[i] == '/' ? 0 : static_cast<unsigned char>(b[i]);
    if (x != y) return x < y ? -1 : 1;
  }
  return a.size() == b.size() ? 0 : a.size() < b.size() ? -1 : 1;
}

Result<ReconcileStats> Reconcile(Journal* journal, const ReconcileOptions& options) {
  return Reconciler(journal, options).Run();
}

}  // namespace ferry
