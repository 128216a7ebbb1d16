// RocksJournal: writing, failed writes and recovering from them.
//
// What RocksDB 7.8.3 (Debian 12) does when a write fails, measured on a full
// tmpfs: the failed WAL append is a "hard" background error; every later
// write returns it, reads go on. Its own recovery (the SstFileManager's)
// waits until the free space reaches the write buffer size (64 MiB), so on a
// small filesystem it never comes, and while it waits DB::Resume() returns
// Busy. DB::Resume() flushes the memtables and starts a new WAL only when a
// memtable holds data; with every memtable empty it returns OK on the old
// WAL, whose writer has seen the error and aborts the process at the next
// append (Debian builds librocksdb with assertions on). Hence the listener
// turns RocksDB's recovery off, Recover() calls Resume() itself, and the
// anchor keeps the default column family's memtable from being empty.
#include <sys/statvfs.h>

#include "base/units.h"
#include "journal/rocks_journal.h"

namespace ferry {
namespace {

constexpr char kAnchorKey[] = "anchor";  // format.h

class Listener final : public rocksdb::EventListener {
 public:
  using Signals = RocksJournal::Signals;
  explicit Listener(std::shared_ptr<Signals> signals) : signals_(std::move(signals)) {}

  const char* Name() const override { return "FerryJournalListener"; }

  // Runs on the failing thread, before the failed write returns.
  void OnBackgroundError(rocksdb::BackgroundErrorReason reason, rocksdb::Status*) override {
    if (reason == rocksdb::BackgroundErrorReason::kWriteCallback) signals_->wal_failed = true;
  }
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status,
                            bool* auto_recovery) override {
    *auto_recovery = false;  // Recover() resumes
  }
  void OnFlushCompleted(rocksdb::DB*, const rocksdb::FlushJobInfo& info) override {
    if (info.cf_id == 0) signals_->anchor_needed = true;  // the default column family
  }

 private:
  std::shared_ptr<Signals> signals_;
};

}  // namespace

std::shared_ptr<rocksdb::EventListener> RocksJournal::NewListener(
    std::shared_ptr<Signals> signals) {
  return std::make_shared<Listener>(std::move(signals));
}

Status RocksJournal::write_status() const {
  std::lock_guard lock(health_mu_);
  return write_error_;
}

Status RocksJournal::Write(rocksdb::WriteBatch* batch, std::string_view what) {
  if (read_only_) return WriteRefusedOnSecondary();
  std::shared_lock gate(write_gate_);
  FERRY_RETURN_IF_ERROR(write_status());
  if (signals_->anchor_needed.exchange(false)) PutAnchor();
  rocksdb::WriteOptions wo;
  wo.sync = sync_ != SyncMode::kOff;
  rocksdb::Status s = db_->Write(wo, batch);
  if (s.ok()) return Status::Ok();
  return WriteFailed(s, what);
}

Status RocksJournal::WriteFailed(const rocksdb::Status& s, std::string_view what) {
  Status error = FromRocks(s, std::string(what) + " in " + what_);
  // Only storage errors stop RocksDB's writes (and a background error, whose
  // severity it sets); the others concern this write alone.
  if (!s.IsIOError() && s.severity() < rocksdb::Status::Severity::kHardError) return error;
  std::lock_guard lock(health_mu_);
  if (write_error_.ok()) {
    std::string message = what_ + " cannot be written (" + std::string(what) + "): " + s.ToString();
    if (s.IsNoSpace()) message += "; " + FullHint();
    write_error_ = Status::IOError(message);
    if (signals_->wal_failed) failed_wal_ = CurrentWal();
  }
  return write_error_;
}

void RocksJournal::PutAnchor() {
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;  // memtable only: lost at close, never read
  if (!db_->Put(wo, cf_[kDefault], kAnchorKey, "").ok()) signals_->anchor_needed = true;
}

uint64_t RocksJournal::CurrentWal() {
  std::unique_ptr<rocksdb::LogFile> wal;
  if (!db_->GetCurrentWalFile(&wal).ok() || wal == nullptr) return 0;
  return wal->LogNumber();
}

std::string RocksJournal::FullHint() const {
  struct statvfs fs;
  std::string space = "free space unknown";
  if (statvfs(dir_.c_str(), &fs) == 0) {
    space = HumanSize(static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize) + " free of " +
            HumanSize(static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize);
  }
  return "the filesystem of " + dir_ + " is full (" + space + "): free space on it";
}

Status RocksJournal::Recover() {
  if (read_only_) return WriteRefusedOnSecondary();
  std::unique_lock gate(write_gate_);  // no write runs while RocksDB resumes
  if (write_status().ok()) return Status::Ok();
  rocksdb::Status s = db_->Resume();
  if (!s.ok()) {
    std::string message = what_ + " still cannot be written: " + s.ToString();
    if (s.IsNoSpace()) message += "; " + FullHint();
    if (s.severity() >= rocksdb::Status::Severity::kFatalError) {
      message += "; RocksDB cannot resume after this error: restart ferryd";
    }
    return Status::IOError(message);
  }
  uint64_t failed_wal;
  {
    std::lock_guard lock(health_mu_);
    failed_wal = failed_wal_;
  }
  if (signals_->wal_failed && failed_wal != 0 && CurrentWal() == failed_wal) {
    return Status::IOError(what_ + ": RocksDB resumed on the WAL whose write failed (" +
                           std::to_string(failed_wal) +
                           ".log), which would take no more writes; restart ferryd");
  }
  signals_->wal_failed = false;
  signals_->anchor_needed = false;
  PutAnchor();  // Resume() flushed it
  std::lock_guard lock(health_mu_);
  write_error_ = Status::Ok();
  failed_wal_ = 0;
  return Status::Ok();
}

}  // namespace ferry
