// TreeWalker: a depth-first walk of part of a destination's tree, each
// directory's names in byte order, which is the catalog's key order, so a
// walk and a CatalogReader can be merged in one pass (reconcile.h).
//
// Memory: one directory listing (names and stats) per level of depth, never
// the whole tree. Each directory is read with getdents64 (readdir) and its
// entries statted with fstatat on the open directory, then closed.
//
// Not thread-safe. Blocks on disk I/O.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "journal/catalog.h"
#include "journal/filter.h"

namespace ferry {

struct WalkEntry {
  std::string path;  // relative to the root
  FileState state;
};

class TreeWalker {
 public:
  struct Options {
    std::string root;                       // absolute path of the destination's source directory
    std::string start;                      // walk what is below this relative directory ("" = all)
    std::shared_ptr<const Filter> filter;   // excluded entries are not returned; may be null
    Clock* clock = SystemClock::Default();  // stamps FileState::seen_ns
    // Called with each directory's relative path just before it is listed
    // ("" for the root). Adding the inotify watch here closes the race where a
    // file created between listing and watching is never seen.
    std::function<void(const std::string& dir)> before_listing;
    // Called for a directory that cannot be read (permissions; one that
    // vanished goes to on_vanished). The walk goes on without it.
    std::function<void(const std::string& dir, const Status& why)> on_error;
    // Called for a directory that was gone when the walk came to list it:
    // renamed or deleted after its parent was listed (or, for `start`, after
    // the caller found it). What it holds is not returned; a watcher must
    // list it where it went once its rename record is read.
    std::function<void(const std::string& dir)> on_vanished;
  };

  explicit TreeWalker(Options options);
  ~TreeWalker();

  // The next entry in walk order, or nullopt when the walk is done.
  std::optional<WalkEntry> Next();
  // Do not descend into the directory Next() just returned.
  void SkipChildren() { descend_.clear(); }

  uint64_t entries() const { return entries_; }
  uint64_t directories() const { return directories_; }

 private:
  struct Level;
  void Enter(const std::string& dir);

  Options options_;
  std::vector<Level> stack_;
  std::string descend_;  // directory to enter before the next entry
  bool started_ = false;
  uint64_t entries_ = 0;
  uint64_t directories_ = 0;
};

}  // namespace ferry
