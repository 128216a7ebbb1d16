// RocksJournal: the Journal on RocksDB. Internal to journal/: other folders
// see only journal.h. Split across rocks_journal.cc (open, append, meta),
// rocks_reader.cc (events), rocks_cursors.cc (cursors, dead letters) and
// retention.cc (trim).
#pragma once

#include <rocksdb/db.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "journal/journal.h"

namespace ferry {

class CatalogBatch;

// The one place a rocksdb::Status becomes a ferry Status. `what` says what was
// being done ("append 100 events to /var/lib/ferry").
Status FromRocks(const rocksdb::Status& s, std::string_view what);

// The primary's RocksDB info LOG in `dir` (info_log.cc): plain write(2)s whose
// failures drop the line. RocksDB's own file logger must not be used where the
// disk can fill up: after one failed append, the next line aborts the process
// in Debian's librocksdb 7.8, which is built with assertions
// (WritableFileWriter::AssertFalseAndGetStatusForPrevError), and RocksDB logs
// every background error. Renames an existing LOG to LOG.old.<micros> and
// keeps the newest `keep_old` of those, as RocksDB does.
std::shared_ptr<rocksdb::Logger> OpenInfoLog(const std::string& dir, size_t keep_old);

class RocksJournal final : public Journal {
 public:
  // Column families, in the order they are opened (index into cf_).
  enum Cf { kDefault = 0, kEvents, kCursors, kDead, kCatalog, kMeta, kNumCfs };
  static const char* const kCfNames[kNumCfs];
  // Meta keys (format.h).
  static constexpr char kMetaJournalId[] = "journal_id";
  static constexpr char kMetaFormat[] = "format";
  static constexpr char kMetaLastSeq[] = "last_seq";
  static constexpr char kMetaTrimmedUpto[] = "trimmed_upto";
  static constexpr char kMetaDestPrefix[] = "dest/";

  // What RocksDB's threads tell the journal through its listener.
  struct Signals {
    std::atomic<bool> wal_failed{false};    // a WAL append or sync failed
    std::atomic<bool> anchor_needed{true};  // the default column family's memtable may be empty
  };

  ~RocksJournal() override;

  bool read_only() const override { return read_only_; }
  const JournalId& id() const override { return id_; }
  const std::string& dir() const override { return dir_; }

  using Journal::Append;
  Result<SeqRange> Append(AppendBatch batch) override;
  uint64_t LastSeq() const override { return last_seq_.load(std::memory_order_acquire); }
  Result<uint64_t> OldestSeq() override;
  Result<uint64_t> FirstSeqAtTime(int64_t time_ns) override;
  std::unique_ptr<EventReader> NewReader(ReadOptions options) override;
  Status CatchUp() override;
  Result<uint32_t> DestinationId(std::string_view name) override;
  Result<std::vector<std::pair<std::string, uint32_t>>> Destinations() override;

  std::unique_ptr<CatalogReader> NewCatalogReader(uint32_t destination) override;
  Result<std::optional<FileState>> GetCatalogEntry(uint32_t destination,
                                                   std::string_view path) override;

  Result<std::optional<Cursor>> GetCursor(std::string_view target) override;
  Result<std::vector<std::pair<std::string, Cursor>>> ListCursors() override;
  Status CheckCursor(const Cursor& cursor) override;
  Status SetCursor(std::string_view target, uint32_t destination, uint64_t seq) override;
  Status AdvanceCursor(std::string_view target, uint64_t seq, uint64_t events,
                       uint64_t bytes) override;
  Status RecordFailure(std::string_view target, std::string_view error) override;
  Result<TargetStats> GetStats(std::string_view target) override;
  Status SetPause(std::string_view target, const std::optional<PauseMark>& pause) override;
  Result<std::optional<PauseMark>> GetPause(std::string_view target) override;
  Status DeleteTarget(std::string_view target) override;

  Status PutDeadLetter(const DeadLetter& letter) override;
  Result<std::vector<DeadLetter>> ListDeadLetters(std::string_view target) override;
  Status RemoveDeadLetter(std::string_view target, uint64_t seq) override;

  Result<uint64_t> EventBytes() override;
  Result<TrimReport> Trim(const RetentionPolicy& policy) override;
  Status Flush() override;
  uint64_t MemtableBytes() override;
  Status JoinSmallEventFiles() override;

  Status write_status() const override;
  Status Recover() override;

 private:
  friend class JournalOpener;

  // One caller of Append waiting in the group-commit queue (leveldb's
  // DBImpl::Writer). Owned by the caller's stack frame.
  struct Writer {
    AppendBatch* batch;
    Result<SeqRange> result = SeqRange{};
    bool done = false;
    std::condition_variable cv;
  };

  RocksJournal() = default;
  // The primary's rocksdb::EventListener (rocks_health.cc): sets `signals`,
  // and turns off RocksDB's own recovery from a full disk, which waits for
  // 64 MiB free (the write buffer size), meanwhile makes DB::Resume() return
  // Busy, and may resume without a new WAL (see PutAnchor).
  static std::shared_ptr<rocksdb::EventListener> NewListener(std::shared_ptr<Signals> signals);
  Status WriteRefusedOnSecondary() const;
  // Adds `change` to `batch` (rocks_catalog.cc), as point puts and deletes
  // of the rows the committed catalog and `batch` itself hold: no range
  // tombstones, which RocksDB 7.8 re-fragments at every read of a memtable
  // holding them (a busy watcher fell to ~70 events/s).
  Status AddCatalogChange(const CatalogChange& change, CatalogBatch* batch);
  // Takes the 16 stored bytes of meta journal_id as this journal's id.
  Status SetId(std::string_view bytes);
  // Writes a batch with this journal's sync mode; refuses it while
  // write_status() is not OK, and sets that status when the write fails.
  Status Write(rocksdb::WriteBatch* batch, std::string_view what);
  // Records a failed write in write_error_ and returns the error.
  Status WriteFailed(const rocksdb::Status& s, std::string_view what);
  // Puts the anchor (format.h) into the default column family without the
  // WAL, so that a memtable always holds data: DB::Resume() starts a new WAL
  // only when it flushes a memtable, and the WAL writer that failed refuses
  // (or, with assertions, aborts on) every later append.
  void PutAnchor();
  // The number of the WAL RocksDB writes to, or 0 if it cannot say.
  uint64_t CurrentWal();
  // "the filesystem of <dir> is full (12.0 KiB free of 8.0 MiB): free space on it".
  std::string FullHint() const;
  // Re-reads the head from disk: max(meta last_seq, last event key).
  Result<uint64_t> ReadLastSeq();
  // A meta value that is a fixed64be, or 0 when absent.
  Result<uint64_t> GetMetaSeq(const char* key);
  // Secondary only: catches up with the primary until its view of the events
  // after the published head is gap-free, then publishes the new head
  // (follower.cc). Loads the journal id. `just_opened`: OpenAsSecondary has
  // caught up already.
  Status FollowPrimary(bool just_opened);
  // Secondary only: the end of the unbroken run of events after `known`, and
  // whether the view agrees with the primary's meta (no hole anywhere).
  struct FollowerView {
    uint64_t run_end = 0;
    bool consistent = false;
  };
  Result<FollowerView> ScanFollowerView(uint64_t known);
  std::vector<SeqRange> WholeEventFiles(uint64_t floor);
  // The time of the event at `seq`, or of the first decodable one after it;
  // nullopt past the last event.
  Result<std::optional<int64_t>> EventTime(uint64_t seq);
  Result<std::optional<std::string>> Get(Cf cf, std::string_view key);
  // Reads a target's cursor under cursor_mu_ (held by the caller).
  Result<std::optional<Cursor>> GetCursorLocked(std::string_view target);
  Result<TargetStats> GetStatsLocked(std::string_view target);
  // Whether an event of `destination` lies in [from, to].
  Result<bool> HasEventsOf(uint32_t destination, uint64_t from, uint64_t to);
  // Seq of the last delivered event older than `cutoff_ns`, or 0.
  Result<uint64_t> TimeTrimBound(uint64_t oldest, uint64_t min_cursor, int64_t cutoff_ns);

  std::string dir_;
  std::string what_;  // "journal <dir>", for messages
  bool read_only_ = false;
  SyncMode sync_ = SyncMode::kGroup;
  Clock* clock_ = nullptr;
  JournalId id_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cf_;  // owned; destroyed before db_

  std::atomic<uint64_t> last_seq_{0};
  int64_t last_time_ns_ = 0;  // the newest event's time; only Append's leader touches it

  std::mutex write_mu_;          // guards writers_
  std::deque<Writer*> writers_;  // front is the leader

  // Shared by each write, exclusive while Recover() resumes RocksDB.
  std::shared_mutex write_gate_;
  mutable std::mutex health_mu_;  // guards write_error_ and failed_wal_
  Status write_error_;            // not OK: every write is refused until Recover()
  uint64_t failed_wal_ = 0;       // the WAL whose append failed; 0: none or unknown
  std::shared_ptr<Signals> signals_ = std::make_shared<Signals>();

  std::mutex cursor_mu_;  // serializes cursor read-modify-writes and Trim
  std::mutex meta_mu_;    // serializes destination registration
};

}  // namespace ferry
