// Journal: the durable, gap-free change journal every ferry component shares.
//
// One process opens a journal directory as its primary (ferryd). It appends
// events, which get consecutive sequence numbers starting at 1 that never
// repeat and never skip, across reopen and crash. Other processes (ferryctl)
// follow it with OpenSecondary, which never blocks or changes the primary.
//
// Threading: every method is thread-safe. Append may be called from many
// threads at once; in SyncMode::kGroup their batches share one WAL fsync.
// Methods block on disk I/O; never call them from the inotify reader thread.
//
// Errors: IOError for storage failures (disk full, lock held by another
// process), Corruption for undecodable records, InvalidArgument for bad
// events or names, CursorExpired from CheckCursor.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "journal/catalog.h"
#include "journal/event.h"
#include "journal/types.h"

namespace rocksdb {
class Env;
}

namespace ferry {

// When Append returns, how safe are the events?
enum class SyncMode {
  kGroup,   // one WAL fdatasync per group of concurrent Appends (default): survives
            // kill -9 and power loss
  kAlways,  // one WAL fsync per Append call, never shared with other callers: survives
            // kill -9 and power loss, and costs an fsync each
  kOff,     // written to the OS, not synced: survives kill -9, NOT power loss
            // (benchmarks only)
};
std::string_view SyncModeName(SyncMode mode);  // "group", "always", "off"
std::optional<SyncMode> ParseSyncMode(std::string_view name);

// 8 MiB: about 40k events and their catalog rows; a flush of it takes tens
// of milliseconds, and a follower opens by replaying at most 16 MiB of log.
inline constexpr uint64_t kDefaultMemtableBytes = 8ULL << 20;

struct JournalOptions {
  std::string dir;  // created if missing (with its parents)
  SyncMode sync = SyncMode::kGroup;
  Clock* clock = SystemClock::Default();  // stamps events whose time_ns is 0; not owned
  rocksdb::Env* env = nullptr;            // tests: fault injection or memory env; not owned
  // All the column families' memtables together (RocksDB's
  // db_write_buffer_size; 0 is kDefaultMemtableBytes). It bounds ferryd's
  // memory for unflushed events, the write-ahead log (at most twice this,
  // preallocated at 1.1 times it) and what a follower replays when it opens.
  uint64_t memtable_bytes = 0;
};

// An inclusive range of sequence numbers; empty when first > last.
struct SeqRange {
  uint64_t first = 0;
  uint64_t last = 0;
  bool empty() const { return first > last; }
  uint64_t size() const { return empty() ? 0 : last - first + 1; }
};

// Which events a reader returns.
struct ReadOptions {
  uint64_t from_seq = 1;                // first seq to return (inclusive)
  uint64_t to_seq = UINT64_MAX;         // last seq to return (inclusive)
  std::optional<uint32_t> destination;  // only this destination's events
  // Called for each record that does not decode; the reader skips it and goes on.
  std::function<void(uint64_t seq, size_t bytes, const Status& why)> on_corruption;
};

// Walks events in seq order over a consistent snapshot taken at creation.
// Not thread-safe; use one per thread. Must not outlive its Journal.
class EventReader {
 public:
  virtual ~EventReader() = default;
  virtual bool Valid() const = 0;
  virtual const Event& event() const = 0;  // requires Valid()
  virtual void Next() = 0;                 // requires Valid()
  // Not OK when iteration stopped on a storage error (not on corrupt records,
  // which are skipped and reported).
  virtual Status status() const = 0;
  virtual uint64_t corrupt_records() const = 0;
};

// Events and the catalog changes they reflect, written together. Each
// catalog change sees the ones before it: a kMove moves the rows committed
// and those put earlier in the same batch.
struct AppendBatch {
  std::vector<Event> events;
  std::vector<CatalogChange> catalog;
};

// Walks one destination's catalog in key order: depth first, each
// directory's names in byte order (format.h). Same rules as EventReader.
// The root (empty path) comes first when the catalog has one: it marks a
// catalog that was written once, so an empty tree is not a first start.
class CatalogReader {
 public:
  virtual ~CatalogReader() = default;
  virtual bool Valid() const = 0;
  virtual const CatalogEntry& entry() const = 0;  // requires Valid()
  virtual void Next() = 0;                        // requires Valid()
  // Not OK on a storage error or an undecodable entry (the walk stops).
  virtual Status status() const = 0;
};

// What the budget and time retention did.
struct TrimReport {
  SeqRange trimmed;                          // events removed; empty if none
  std::vector<std::string> expired_targets;  // cursors that lost undelivered events
  uint64_t bytes_before = 0;
  uint64_t bytes_after = 0;
};

struct RetentionPolicy {
  // Keep delivered events this long for inspection; older delivered ones go.
  int64_t keep_delivered_ns = 7LL * 24 * 3600 * 1'000'000'000;
  // Budget for the events column family (0 = none). Beyond it the oldest
  // events go even if a target has not received them; that target's cursor
  // expires and it gets a full sync later.
  uint64_t max_bytes = 0;
};

class Journal {
 public:
  // Opens (creating if needed) the journal in options.dir as its only writer.
  // Fails with IOError naming the directory if another process has it open.
  static Result<std::unique_ptr<Journal>> Open(JournalOptions options);

  // Opens a read-only follower of the journal in `dir`, which another process
  // may have open as primary. `secondary_dir` holds the follower's own state
  // (an empty directory of the caller's, e.g. under /run or $TMPDIR). The view
  // is frozen until CatchUp(). Every write method returns InvalidArgument.
  static Result<std::unique_ptr<Journal>> OpenSecondary(const std::string& dir,
                                                        const std::string& secondary_dir);

  virtual ~Journal() = default;

  virtual bool read_only() const = 0;
  virtual const JournalId& id() const = 0;
  virtual const std::string& dir() const = 0;

  // --- events --------------------------------------------------------------

  // Assigns the next seqs to `batch.events` in order, stamps time_ns where it is 0,
  // and writes them with the catalog changes in one atomic write; when it
  // returns OK they are durable per the sync mode. InvalidArgument (a bad event) writes nothing.
  // IOError leaves the batch in doubt: it may reappear, whole and in order, after a crash and
  // reopen. After an IOError from storage (disk full, failed fsync) every write method refuses
  // its write with that error (write_status()) until Recover() succeeds; a refused batch is not
  // written at all. Seqs never skip or repeat: the next Append after Recover(), or after a
  // reopen, takes the seq after the last one acknowledged.
  virtual Result<SeqRange> Append(AppendBatch batch) = 0;
  Result<SeqRange> Append(std::vector<Event> events) {
    return Append(AppendBatch{std::move(events), {}});
  }

  // The highest seq ever assigned (0 before the first Append).
  virtual uint64_t LastSeq() const = 0;
  // The lowest retained seq; LastSeq() + 1 when no event is retained.
  virtual Result<uint64_t> OldestSeq() = 0;
  // The first retained seq whose event is at or after `time_ns`, of any
  // destination; LastSeq() + 1 when there is none. Event times never go
  // backwards along seqs (Append keeps them so), so this is a binary search:
  // about 25 point reads on a 10M-event journal.
  virtual Result<uint64_t> FirstSeqAtTime(int64_t time_ns) = 0;

  virtual std::unique_ptr<EventReader> NewReader(ReadOptions options) = 0;

  // Secondary only: applies what the primary wrote since the last call.
  virtual Status CatchUp() = 0;

  // The id of a destination name, registering it on first use (primary only).
  virtual Result<uint32_t> DestinationId(std::string_view name) = 0;
  // Every registered destination, sorted by name.
  virtual Result<std::vector<std::pair<std::string, uint32_t>>> Destinations() = 0;

  // --- catalog ------------------------------------------------------------

  virtual std::unique_ptr<CatalogReader> NewCatalogReader(uint32_t destination) = 0;
  // nullopt when the catalog has no entry for `path`.
  virtual Result<std::optional<FileState>> GetCatalogEntry(uint32_t destination,
                                                           std::string_view path) = 0;

  // --- cursors ------------------------------------------------------------

  // nullopt when the target never had a cursor (a new target: full sync).
  virtual Result<std::optional<Cursor>> GetCursor(std::string_view target) = 0;
  virtual Result<std::vector<std::pair<std::string, Cursor>>> ListCursors() = 0;
  // OK if the target can resume after `cursor`; CursorExpired (with the
  // reason) if it belongs to another journal, was expired by retention, or
  // points below the oldest retained event.
  virtual Status CheckCursor(const Cursor& cursor) = 0;

  // Sets the cursor outright (new target, rewind, after a full sync); clears
  // `expired`; takes this journal's id.
  virtual Status SetCursor(std::string_view target, uint32_t destination, uint64_t seq) = 0;
  // Moves the cursor forward to `seq` (never backward) and adds the batch to
  // the stats, in one atomic write. Keeps `expired` if retention set it
  // meanwhile. NotFound if the target has no cursor.
  virtual Status AdvanceCursor(std::string_view target, uint64_t seq, uint64_t events,
                               uint64_t bytes) = 0;
  // Records a failed delivery attempt in the stats; the cursor stays.
  virtual Status RecordFailure(std::string_view target, std::string_view error) = 0;
  virtual Result<TargetStats> GetStats(std::string_view target) = 0;
  // The operator's pause of a target (nullopt: not paused). Kept apart from
  // the cursor, so that deliveries never rewrite it.
  virtual Status SetPause(std::string_view target, const std::optional<PauseMark>& pause) = 0;
  virtual Result<std::optional<PauseMark>> GetPause(std::string_view target) = 0;
  // Forgets a target: its cursor, stats, pause and dead letters.
  virtual Status DeleteTarget(std::string_view target) = 0;

  // --- dead letters -------------------------------------------------------

  // Adds or replaces the entry for (letter.target, letter.event.seq).
  virtual Status PutDeadLetter(const DeadLetter& letter) = 0;
  // In (target, seq) order; every target's when `target` is empty.
  virtual Result<std::vector<DeadLetter>> ListDeadLetters(std::string_view target) = 0;
  // NotFound if there is no such entry.
  virtual Status RemoveDeadLetter(std::string_view target, uint64_t seq) = 0;

  // --- retention ----------------------------------------------------------

  // Estimated on-disk bytes of the events column family (what the budget counts).
  virtual Result<uint64_t> EventBytes() = 0;
  // Applies `policy` once: trims delivered events older than the time limit,
  // then, over the budget, the oldest events whatever their state, expiring
  // the cursors that had not received them. Trimming never removes an
  // undelivered event otherwise.
  virtual Result<TrimReport> Trim(const RetentionPolicy& policy) = 0;
  // Writes memtables to files. RocksDB does it itself when they fill up;
  // ferryd also does it after a burst, to give their memory back.
  virtual Status Flush() = 0;
  // What the memtables hold now, all column families together.
  virtual uint64_t MemtableBytes() = 0;
  // Joins runs of small event files into big ones (journal/compaction.cc), so
  // that a follower opens a few files rather than hundreds. Runs on the
  // caller's thread: about 0.5 s for each 64 MiB joined. Primary only.
  virtual Status JoinSmallEventFiles() = 0;

  // --- health -------------------------------------------------------------

  // OK while the journal accepts writes. After a write failed on storage (its
  // filesystem full, a failed fsync), the IOError that every write method
  // returns at once until Recover() succeeds: it names the directory and the
  // cause, and for a full filesystem how much is free. Reads keep working.
  virtual Status write_status() const = 0;
  // Makes the journal writable again after a failed write, once the cause is
  // gone: RocksDB's DB::Resume(), which flushes the memtables to new files and
  // starts a new WAL (so it needs some free space). OK when the journal is
  // writable, also when it already was. IOError while it still cannot write:
  // call it again later (a failed attempt costs little; once a second is
  // plenty). An error RocksDB cannot resume from (it says so) needs a restart
  // of the process. Blocks on disk I/O, and blocks writers while it runs.
  virtual Status Recover() = 0;
};

}  // namespace ferry
