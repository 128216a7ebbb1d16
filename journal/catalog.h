// The catalog: what the watcher last saw of each path of each destination,
// so that a start after a stop or a crash journals exactly what changed
// meanwhile (watch/reconcile.h) instead of a full resync.
#pragma once

#include <cstdint>
#include <string>

namespace ferry {

// What a path looked like when the watcher journaled it.
struct FileState {
  uint64_t inode = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;  // catches writes that restore mtime (tar, rsync -t, touch -r)
  uint32_t mode = 0;     // st_mode: file type and permission bits
  // When the watcher statted it. A file whose mtime is not clearly older was
  // possibly written again within the same timestamp tick, unseen ("racy",
  // as git calls it); reconcile treats it as changed.
  int64_t seen_ns = 0;
  friend bool operator==(const FileState&, const FileState&) = default;
};

// A change to the catalog, applied in the same write as the events it reflects.
struct CatalogChange {
  enum class Op {
    kPut,     // path now has `state`
    kDelete,  // path is gone, and everything below it if it was a directory
    kMove,    // old_path and everything below it now live at path
  };
  Op op = Op::kPut;
  uint32_t destination = 0;
  std::string path;
  std::string old_path;  // kMove only
  FileState state;       // kPut only
};

// One catalog row, as read back.
struct CatalogEntry {
  std::string path;
  FileState state;
};

}  // namespace ferry
