#include "tests/lib/fault_fs.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <system_error>
#include <utility>

namespace ferry::testing {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

namespace {

// "a//b/./c/" -> "a/b/c", so that a file's parent matches the name RocksDB
// gave NewDirectory.
std::string Normal(const std::string& name) {
  std::string s = std::filesystem::path(name).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

std::string Parent(const std::string& normal_name) {
  return std::filesystem::path(normal_name).parent_path().string();
}

}  // namespace

// Counts the bytes of one writable file and when they become durable.
class FaultWritableFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultWritableFile(std::unique_ptr<rocksdb::FSWritableFile> target, FaultFs* fs,
                    std::shared_ptr<FaultFs::FileState> state)
      : FSWritableFileOwnerWrapper(std::move(target)), fs_(fs), state_(std::move(state)) {}

  IOStatus Append(const Slice& data, const IOOptions& opts, IODebugContext* dbg) override {
    return fs_->Powered([&] {
      IOStatus s = target()->Append(data, opts, dbg);
      if (s.ok()) fs_->OnAppend(*state_, data.size());
      return s;
    });
  }
  IOStatus Append(const Slice& data, const IOOptions& opts,
                  const rocksdb::DataVerificationInfo& info, IODebugContext* dbg) override {
    return fs_->Powered([&] {
      IOStatus s = target()->Append(data, opts, info, dbg);
      if (s.ok()) fs_->OnAppend(*state_, data.size());
      return s;
    });
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& opts,
                            IODebugContext* dbg) override {
    return fs_->Powered([&] {
      IOStatus s = target()->PositionedAppend(data, offset, opts, dbg);
      if (s.ok()) fs_->OnPositionedAppend(*state_, offset + data.size());
      return s;
    });
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& opts,
                            const rocksdb::DataVerificationInfo& info,
                            IODebugContext* dbg) override {
    return fs_->Powered([&] {
      IOStatus s = target()->PositionedAppend(data, offset, opts, info, dbg);
      if (s.ok()) fs_->OnPositionedAppend(*state_, offset + data.size());
      return s;
    });
  }
  IOStatus Truncate(uint64_t size, const IOOptions& opts, IODebugContext* dbg) override {
    return fs_->Powered([&] {
      IOStatus s = target()->Truncate(size, opts, dbg);
      if (s.ok()) fs_->OnTruncate(*state_, size);
      return s;
    });
  }
  // Close is forwarded even without power: it releases the descriptor and
  // changes no data (the posix file trims only preallocated space beyond
  // what was written). It makes nothing durable.
  IOStatus Flush(const IOOptions& opts, IODebugContext* dbg) override {
    return fs_->Powered([&] { return target()->Flush(opts, dbg); });
  }
  IOStatus Sync(const IOOptions& opts, IODebugContext* dbg) override {
    if (fs_->BeforeSync()) return IOStatus::IOError("FaultFs: injected sync failure");
    return fs_->Powered([&] {
      uint64_t before = fs_->Written(*state_);
      IOStatus s = target()->Sync(opts, dbg);
      if (s.ok()) fs_->OnSync(*state_, before);
      return s;
    });
  }
  IOStatus Fsync(const IOOptions& opts, IODebugContext* dbg) override {
    if (fs_->BeforeSync()) return IOStatus::IOError("FaultFs: injected sync failure");
    return fs_->Powered([&] {
      uint64_t before = fs_->Written(*state_);
      IOStatus s = target()->Fsync(opts, dbg);
      if (s.ok()) fs_->OnSync(*state_, before);
      return s;
    });
  }
  // sync_file_range starts writeback but promises nothing: not durable.
  IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const IOOptions& opts,
                     IODebugContext* dbg) override {
    return fs_->Powered([&] { return target()->RangeSync(offset, nbytes, opts, dbg); });
  }
  IOStatus Allocate(uint64_t offset, uint64_t len, const IOOptions& opts,
                    IODebugContext* dbg) override {
    return fs_->Powered([&] { return target()->Allocate(offset, len, opts, dbg); });
  }

 private:
  FaultFs* fs_;
  std::shared_ptr<FaultFs::FileState> state_;
};

// Makes the names of the files created in one directory durable on Fsync.
class FaultDirectory : public rocksdb::FSDirectoryWrapper {
 public:
  FaultDirectory(std::unique_ptr<rocksdb::FSDirectory> target, FaultFs* fs, std::string name)
      : FSDirectoryWrapper(std::move(target)), fs_(fs), name_(std::move(name)) {}

  IOStatus Fsync(const IOOptions& opts, IODebugContext* dbg) override {
    return fs_->Powered([&] {
      IOStatus s = FSDirectoryWrapper::Fsync(opts, dbg);
      if (s.ok()) fs_->OnDirSync(name_);
      return s;
    });
  }
  // On btrfs the posix file system skips the directory fsync after a file
  // fsync (btrfs makes the name durable with the file); either way the names
  // count as durable here.
  IOStatus FsyncWithDirOptions(const IOOptions& opts, IODebugContext* dbg,
                               const rocksdb::DirFsyncOptions& dir_opts) override {
    return fs_->Powered([&] {
      IOStatus s = FSDirectoryWrapper::FsyncWithDirOptions(opts, dbg, dir_opts);
      if (s.ok()) fs_->OnDirSync(name_);
      return s;
    });
  }

 private:
  FaultFs* fs_;
  std::string name_;
};

FaultFs::FaultFs() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
FaultFs::~FaultFs() = default;

IOStatus FaultFs::PowerOff() { return IOStatus::IOError("FaultFs: the power is off"); }

void FaultFs::Freeze() {
  std::unique_lock lock(power_mu_);
  frozen_ = true;
}

void FaultFs::FreezeBeforeSync(uint64_t n) { syncs_until_freeze_.store(n); }

void FaultFs::FailNextSync() { fail_next_sync_.store(true); }

bool FaultFs::BeforeSync() {
  uint64_t n = syncs_until_freeze_.load();
  while (n > 0 && !syncs_until_freeze_.compare_exchange_weak(n, n - 1)) {
  }
  if (n == 1) Freeze();
  return fail_next_sync_.exchange(false);
}

bool FaultFs::frozen() const {
  std::shared_lock lock(power_mu_);
  return frozen_;
}

uint64_t FaultFs::syncs() const {
  std::lock_guard lock(state_mu_);
  return syncs_;
}

PowerLossReport FaultFs::SimulatePowerLoss(Unsynced unsynced, uint64_t seed) {
  std::unique_lock power(power_mu_);
  frozen_ = true;
  std::lock_guard lock(state_mu_);
  std::mt19937_64 rng(seed);
  PowerLossReport report;
  report.files_tracked = files_.size();
  for (const auto& [name, f] : files_) {
    std::error_code ec;
    if (!f->name_durable) {
      if (std::filesystem::remove(name, ec)) ++report.files_removed;
      continue;
    }
    uint64_t size = std::filesystem::file_size(name, ec);
    if (ec || size <= f->synced) continue;
    uint64_t keep = f->synced;
    if (unsynced == Unsynced::kKeepRandomPrefix) keep += rng() % (size - f->synced + 1);
    if (keep == size) continue;
    if (::truncate(name.c_str(), static_cast<off_t>(keep)) != 0) {
      // A test helper cannot recover from this; the test would be meaningless.
      std::fprintf(stderr, "FaultFs: truncate %s: %s\n", name.c_str(), std::strerror(errno));
      std::abort();
    }
    ++report.files_truncated;
    report.bytes_dropped += size - keep;
  }
  files_.clear();
  syncs_until_freeze_.store(0);
  fail_next_sync_.store(false);
  frozen_ = false;
  return report;
}

void FaultFs::SimulateProcessCrash() {
  std::unique_lock power(power_mu_);
  std::lock_guard lock(state_mu_);
  files_.clear();
  syncs_until_freeze_.store(0);
  fail_next_sync_.store(false);
  frozen_ = false;
}

void FaultFs::OnAppend(FileState& f, uint64_t bytes) {
  std::lock_guard lock(state_mu_);
  f.written += bytes;
}

void FaultFs::OnPositionedAppend(FileState& f, uint64_t end) {
  std::lock_guard lock(state_mu_);
  f.written = std::max(f.written, end);
}

void FaultFs::OnTruncate(FileState& f, uint64_t size) {
  std::lock_guard lock(state_mu_);
  f.written = size;
  f.synced = std::min(f.synced, size);
}

uint64_t FaultFs::Written(const FileState& f) const {
  std::lock_guard lock(state_mu_);
  return f.written;
}

void FaultFs::OnSync(FileState& f, uint64_t written_before) {
  std::lock_guard lock(state_mu_);
  // Bytes appended while the sync ran may have missed it: count only those
  // written before it started.
  f.synced = std::max(f.synced, written_before);
  ++syncs_;
}

void FaultFs::OnDirSync(const std::string& dir) {
  std::lock_guard lock(state_mu_);
  for (auto& [name, f] : files_) {
    if (f->dir == dir) f->name_durable = true;
  }
}

IOStatus FaultFs::NewWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                  std::unique_ptr<rocksdb::FSWritableFile>* result,
                                  IODebugContext* dbg) {
  return Powered([&] {
    const std::string name = Normal(fname);
    bool existed = target()->FileExists(fname, IOOptions(), dbg).ok();
    std::unique_ptr<rocksdb::FSWritableFile> file;
    IOStatus s = target()->NewWritableFile(fname, opts, &file, dbg);
    if (!s.ok()) return s;
    // The file is now empty; its old bytes, if any, are gone for good.
    auto state = std::make_shared<FileState>();
    state->dir = Parent(name);
    {
      std::lock_guard lock(state_mu_);
      auto it = files_.find(name);
      state->name_durable = it != files_.end() ? it->second->name_durable : existed;
      files_[name] = state;
    }
    *result = std::make_unique<FaultWritableFile>(std::move(file), this, std::move(state));
    return s;
  });
}

IOStatus FaultFs::ReopenWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                     std::unique_ptr<rocksdb::FSWritableFile>* result,
                                     IODebugContext* dbg) {
  return Powered([&] {
    const std::string name = Normal(fname);
    uint64_t size = 0;
    bool existed = target()->GetFileSize(fname, IOOptions(), &size, dbg).ok();
    std::unique_ptr<rocksdb::FSWritableFile> file;
    IOStatus s = target()->ReopenWritableFile(fname, opts, &file, dbg);
    if (!s.ok()) return s;
    std::shared_ptr<FileState> state;
    {
      std::lock_guard lock(state_mu_);
      auto it = files_.find(name);
      if (it != files_.end()) {
        state = it->second;
      } else {
        // Untracked bytes predate the FaultFs: durable.
        state = std::make_shared<FileState>();
        state->dir = Parent(name);
        state->written = state->synced = existed ? size : 0;
        state->name_durable = existed;
        files_[name] = state;
      }
    }
    *result = std::make_unique<FaultWritableFile>(std::move(file), this, std::move(state));
    return s;
  });
}

IOStatus FaultFs::ReuseWritableFile(const std::string&, const std::string&,
                                    const rocksdb::FileOptions&,
                                    std::unique_ptr<rocksdb::FSWritableFile>*, IODebugContext*) {
  return IOStatus::NotSupported("FaultFs does not model recycled WAL files");
}

IOStatus FaultFs::NewRandomRWFile(const std::string&, const rocksdb::FileOptions&,
                                  std::unique_ptr<rocksdb::FSRandomRWFile>*, IODebugContext*) {
  return IOStatus::NotSupported("FaultFs does not model random-write files");
}

IOStatus FaultFs::LinkFile(const std::string&, const std::string&, const IOOptions&,
                           IODebugContext*) {
  return IOStatus::NotSupported("FaultFs does not model hard links");
}

IOStatus FaultFs::NewDirectory(const std::string& name, const IOOptions& opts,
                               std::unique_ptr<rocksdb::FSDirectory>* result, IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSDirectory> dir;
  IOStatus s = target()->NewDirectory(name, opts, &dir, dbg);
  if (!s.ok()) return s;
  *result = std::make_unique<FaultDirectory>(std::move(dir), this, Normal(name));
  return s;
}

IOStatus FaultFs::DeleteFile(const std::string& fname, const IOOptions& opts, IODebugContext* dbg) {
  return Powered([&] {
    IOStatus s = target()->DeleteFile(fname, opts, dbg);
    if (s.ok()) {
      std::lock_guard lock(state_mu_);
      files_.erase(Normal(fname));
    }
    return s;
  });
}

IOStatus FaultFs::Truncate(const std::string& fname, size_t size, const IOOptions& opts,
                           IODebugContext* dbg) {
  return Powered([&] {
    IOStatus s = target()->Truncate(fname, size, opts, dbg);
    if (s.ok()) {
      std::lock_guard lock(state_mu_);
      auto it = files_.find(Normal(fname));
      if (it != files_.end()) {
        it->second->written = size;
        it->second->synced = std::min<uint64_t>(it->second->synced, size);
      }
    }
    return s;
  });
}

IOStatus FaultFs::RenameFile(const std::string& src, const std::string& dst, const IOOptions& opts,
                             IODebugContext* dbg) {
  return Powered([&] {
    uint64_t size = 0;
    bool src_exists = target()->GetFileSize(src, IOOptions(), &size, dbg).ok();
    IOStatus s = target()->RenameFile(src, dst, opts, dbg);
    if (!s.ok() || !src_exists) return s;
    const std::string from = Normal(src);
    const std::string to = Normal(dst);
    std::lock_guard lock(state_mu_);
    std::shared_ptr<FileState> state;
    auto it = files_.find(from);
    if (it != files_.end()) {
      state = it->second;
      files_.erase(it);
    } else {
      state = std::make_shared<FileState>();  // untracked bytes predate the FaultFs
      state->written = state->synced = size;
    }
    state->dir = Parent(to);
    state->name_durable = false;  // the new name needs a directory fsync
    files_[to] = std::move(state);
    return s;
  });
}

IOStatus FaultFs::CreateDir(const std::string& dir, const IOOptions& opts, IODebugContext* dbg) {
  return Powered([&] { return target()->CreateDir(dir, opts, dbg); });
}

IOStatus FaultFs::CreateDirIfMissing(const std::string& dir, const IOOptions& opts,
                                     IODebugContext* dbg) {
  return Powered([&] { return target()->CreateDirIfMissing(dir, opts, dbg); });
}

IOStatus FaultFs::DeleteDir(const std::string& dir, const IOOptions& opts, IODebugContext* dbg) {
  return Powered([&] { return target()->DeleteDir(dir, opts, dbg); });
}

}  // namespace ferry::testing
