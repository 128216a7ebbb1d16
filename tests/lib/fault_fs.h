// FaultFs: a RocksDB FileSystem that can lose power, for durability tests
// (after leveldb's FaultInjectionTestEnv and RocksDB's FaultInjectionTestFS).
//
// It forwards to FileSystem::Default() and records what the kernel would have
// made durable. The model:
//   - File data: a file's bytes are durable up to its size at the start of its
//     last successful Sync or Fsync (fdatasync/fsync). Append, Flush, Close and
//     RangeSync (sync_file_range: no metadata, no cache flush) make nothing
//     durable.
//   - Names: a file created (or renamed to) through this FaultFs has a durable
//     name only after an Fsync of its parent directory (FSDirectory::Fsync or
//     FsyncWithDirOptions). Files that existed before it started, and
//     directories, are taken to be durable.
//   - Not modelled: a deleted file stays deleted (the kernel could bring back a
//     name whose unlink was not synced), and an unsynced rename loses the file
//     instead of bringing back its old name. ReuseWritableFile, NewRandomRWFile
//     and LinkFile return NotSupported; the journal uses none of them. The info
//     LOG (NewLogger) is outside the model: recovery never reads it.
//
// Power loss is two steps, because destroying the DB is a clean shutdown, not
// a crash: Close waits for background flushes and compactions (which sync
// SSTs, write the MANIFEST and delete WALs) and closes files after writing out
// what RocksDB still buffers. (With the WAL on, RocksDB 7.8.3's Close neither
// syncs the WAL nor flushes memtables itself, measured: 0 syncs; with the WAL
// off, or other versions, it may.) So the power goes first:
//   1. Freeze() is the moment the power goes. It waits for FS operations in
//      flight, then makes every later mutating operation (write, sync, create,
//      rename, delete, truncate) fail with IOError and leave the disk alone, so
//      the DB can be destroyed afterwards without changing what is on disk.
//   2. SimulatePowerLoss() (after the DB is destroyed or abandoned) applies
//      the model to the real files: a file whose name is not durable is
//      removed; any other tracked file is cut to its durable size (to 0 if it
//      was never synced), or, with Unsynced::kKeepRandomPrefix, to its durable
//      size plus a random part of the unsynced tail (a torn write). Then the
//      FaultFs forgets everything and passes operations through again.
//
// Use: auto fs = std::make_shared<FaultFs>();
//      std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
// and pass env.get() as JournalOptions::env; both must outlive the DB.
// Thread-safe: RocksDB calls it from many threads; Freeze and
// SimulatePowerLoss may be called from any thread.
#pragma once

#include <rocksdb/file_system.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

namespace ferry::testing {

// What happens to the bytes written but not synced when the power goes.
enum class Unsynced {
  kDrop,              // all lost: cut each file to its synced size
  kKeepRandomPrefix,  // a random prefix of them survives (torn write)
};

// What SimulatePowerLoss did to the files.
struct PowerLossReport {
  uint64_t files_tracked = 0;    // files written through the FaultFs since the last power loss
  uint64_t files_removed = 0;    // created, but their directory was never synced after
  uint64_t files_truncated = 0;  // lost bytes
  uint64_t bytes_dropped = 0;    // total bytes cut from truncated files
};

class FaultFs : public rocksdb::FileSystemWrapper {
 public:
  FaultFs();
  ~FaultFs() override;

  static const char* kClassName() { return "FerryFaultFs"; }
  const char* Name() const override { return kClassName(); }

  // The power goes: see the file comment. Idempotent.
  void Freeze();
  bool frozen() const;
  // Arms a Freeze() just before the n-th (n >= 1) next file Sync or Fsync
  // runs, which then fails: a crash with a WAL record written to the kernel
  // but not yet on disk, the worst moment for a group commit.
  void FreezeBeforeSync(uint64_t n);
  // The next file Sync or Fsync fails with IOError without syncing (a
  // transient EIO); the power stays on.
  void FailNextSync();

  // Applies the model to the files (freezing first if needed) and turns the
  // power back on. `seed` picks the torn prefixes of kKeepRandomPrefix.
  PowerLossReport SimulatePowerLoss(Unsynced unsynced = Unsynced::kDrop, uint64_t seed = 0);

  // The process dies but the kernel stays up (kill -9): call after Freeze()
  // and destroying the DB. What reached the kernel stays on disk, synced or
  // not; what RocksDB still buffered is gone because Freeze() failed its
  // writes. Then the FaultFs forgets everything and passes operations through.
  void SimulateProcessCrash();

  // How many Sync/Fsync calls reached the disk since construction (tests of the
  // test: proves the sync mode really syncs).
  uint64_t syncs() const;

  // --- rocksdb::FileSystem ---------------------------------------------------
  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                      const rocksdb::FileOptions& opts,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewRandomRWFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                    std::unique_ptr<rocksdb::FSRandomRWFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& opts,
                                 std::unique_ptr<rocksdb::FSDirectory>* result,
                                 rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& fname, const rocksdb::IOOptions& opts,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Truncate(const std::string& fname, size_t size, const rocksdb::IOOptions& opts,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& src, const std::string& dst,
                               const rocksdb::IOOptions& opts,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LinkFile(const std::string& src, const std::string& dst,
                             const rocksdb::IOOptions& opts, rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDir(const std::string& dir, const rocksdb::IOOptions& opts,
                              rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDirIfMissing(const std::string& dir, const rocksdb::IOOptions& opts,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteDir(const std::string& dir, const rocksdb::IOOptions& opts,
                              rocksdb::IODebugContext* dbg) override;

 private:
  friend class FaultWritableFile;
  friend class FaultDirectory;

  // One file written through this FaultFs. Guarded by state_mu_.
  struct FileState {
    std::string dir;       // parent directory, lexically normal
    uint64_t written = 0;  // bytes handed to the kernel
    uint64_t synced = 0;   // durable bytes
    bool name_durable = false;
  };

  // Runs `op` unless the power is off; a Freeze waits for it to finish.
  template <typename Op>
  rocksdb::IOStatus Powered(Op op) {
    std::shared_lock lock(power_mu_);
    if (frozen_) return PowerOff();
    return op();
  }
  static rocksdb::IOStatus PowerOff();
  // Called first by every file Sync/Fsync: fires FreezeBeforeSync, and
  // returns true when FailNextSync says this sync must fail.
  bool BeforeSync();

  void OnAppend(FileState& f, uint64_t bytes);
  void OnPositionedAppend(FileState& f, uint64_t end);
  void OnTruncate(FileState& f, uint64_t size);
  uint64_t Written(const FileState& f) const;
  void OnSync(FileState& f, uint64_t written_before);
  void OnDirSync(const std::string& dir);

  // Shared by every operation, exclusive for Freeze and SimulatePowerLoss.
  mutable std::shared_mutex power_mu_;
  bool frozen_ = false;
  std::atomic<uint64_t> syncs_until_freeze_{0};  // 0: not armed
  std::atomic<bool> fail_next_sync_{false};

  mutable std::mutex state_mu_;
  std::map<std::string, std::shared_ptr<FileState>> files_;  // by lexically normal path
  uint64_t syncs_ = 0;
};

}  // namespace ferry::testing
