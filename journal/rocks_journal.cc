#include "journal/rocks_journal.h"

#include <rocksdb/cache.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <sys/random.h>

#include <cerrno>
#include <filesystem>

#include "journal/catalog_batch.h"
#include "journal/format.h"

namespace ferry {

const char* const RocksJournal::kCfNames[kNumCfs] = {"default", "events",  "cursors",
                                                     "dead",    "catalog", "meta"};

namespace {

constexpr auto& kMetaJournalId = RocksJournal::kMetaJournalId;
constexpr auto& kMetaFormat = RocksJournal::kMetaFormat;
// A group commit stops adding callers' batches beyond this many events.
constexpr size_t kMaxGroupEvents = 100'000;
constexpr size_t kKeepOldInfoLogs = 5;

rocksdb::DBOptions MakeDbOptions(SyncMode sync, rocksdb::Env* env) {
  rocksdb::DBOptions o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  o.max_open_files = -1;  // required by secondary instances; harmless for the primary
  o.use_fsync = sync == SyncMode::kAlways;
  o.keep_log_file_num = kKeepOldInfoLogs;
  o.max_manifest_file_size = 64 << 20;
  if (env != nullptr) o.env = env;
  return o;
}

// Events are read once, in order, and catalog rows once per reconcile: a
// block cache mostly holds what will not be read again. One small cache for
// every column family (RocksDB's default is 8 MiB for each).
constexpr size_t kBlockCacheBytes = 2 << 20;

std::vector<rocksdb::ColumnFamilyDescriptor> CfDescriptors(uint64_t memtable_bytes) {
  static const std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(kBlockCacheBytes);
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const char* name : RocksJournal::kCfNames) {
    rocksdb::ColumnFamilyOptions o;
    o.write_buffer_size = memtable_bytes;
    o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    cfs.emplace_back(name, o);
  }
  return cfs;
}

Result<JournalId> NewJournalId() {
  JournalId id;
  size_t got = 0;
  while (got < id.bytes.size()) {
    ssize_t n = getrandom(id.bytes.data() + got, id.bytes.size() - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "getrandom");
    }
    got += static_cast<size_t>(n);
  }
  return id;
}

}  // namespace

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string msg(what);
  msg += ": ";
  msg += s.ToString();
  if (s.IsNotFound()) return Status::NotFound(msg);
  if (s.IsCorruption()) return Status::Corruption(msg);
  if (s.IsInvalidArgument() || s.IsNotSupported()) return Status::InvalidArgument(msg);
  if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut()) return Status::Retry(msg);
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
    msg +=
        " (another process has this journal open: is ferryd already running? "
        "ferryctl reads a live journal without locking it)";
  }
  return Status::IOError(msg);
}

std::string_view SyncModeName(SyncMode mode) {
  switch (mode) {
    case SyncMode::kGroup:
      return "group";
    case SyncMode::kAlways:
      return "always";
    case SyncMode::kOff:
      return "off";
  }
  return "unknown";
}

std::optional<SyncMode> ParseSyncMode(std::string_view name) {
  for (SyncMode m : {SyncMode::kGroup, SyncMode::kAlways, SyncMode::kOff}) {
    if (SyncModeName(m) == name) return m;
  }
  return std::nullopt;
}

// Builds a RocksJournal; a friend so the constructor can stay private.
class JournalOpener {
 public:
  static Result<std::unique_ptr<Journal>> Open(JournalOptions options) {
    std::unique_ptr<RocksJournal> j(new RocksJournal());
    j->dir_ = options.dir;
    j->what_ = "journal " + options.dir;
    j->sync_ = options.sync;
    j->clock_ = options.clock;
    if (options.dir.empty()) return Status::InvalidArgument("journal dir is empty");
    if (options.env == nullptr) {
      std::error_code ec;
      std::filesystem::create_directories(options.dir, ec);
      if (ec) return ErrnoStatus(ec.value(), "create journal dir", options.dir);
    }
    rocksdb::DBOptions db_options = MakeDbOptions(options.sync, options.env);
    if (options.memtable_bytes == 0) options.memtable_bytes = kDefaultMemtableBytes;
    // One budget for all the column families' memtables, and the write-ahead
    // log bounded to twice it: the log is what a follower (ferryctl) replays
    // when it opens, and RocksDB preallocates each log file at 1.1 times the
    // largest memtable.
    db_options.db_write_buffer_size = options.memtable_bytes;
    db_options.max_total_wal_size = 2 * options.memtable_bytes;
    db_options.listeners.push_back(RocksJournal::NewListener(j->signals_));
    db_options.max_bgerror_resume_count = 0;  // Recover() resumes (rocks_health.cc)
    // The anchor is the only data written without the WAL; it need not survive.
    db_options.avoid_flush_during_shutdown = true;
    if (options.env == nullptr) db_options.info_log = OpenInfoLog(options.dir, kKeepOldInfoLogs);
    rocksdb::DB* db = nullptr;
    FERRY_RETURN_IF_ERROR(
        FromRocks(rocksdb::DB::Open(db_options, options.dir, CfDescriptors(options.memtable_bytes),
                                    &j->cf_, &db),
                  "open " + j->what_));
    j->db_.reset(db);
    FERRY_RETURN_IF_ERROR(LoadOrCreateMeta(j.get()));
    return std::unique_ptr<Journal>(std::move(j));
  }

  static Result<std::unique_ptr<Journal>> OpenSecondary(const std::string& dir,
                                                        const std::string& secondary_dir) {
    std::unique_ptr<RocksJournal> j(new RocksJournal());
    j->dir_ = dir;
    j->what_ = "journal " + dir + " (read-only follower)";
    j->read_only_ = true;
    j->clock_ = SystemClock::Default();
    std::error_code ec;
    if (!std::filesystem::exists(dir + "/CURRENT", ec)) {
      return Status::NotFound("no journal in " + dir +
                              " (expected the [journal] dir of a ferryd configuration)");
    }
    std::filesystem::create_directories(secondary_dir, ec);
    if (ec) return ErrnoStatus(ec.value(), "create follower dir", secondary_dir);
    rocksdb::DB* db = nullptr;
    rocksdb::DBOptions o = MakeDbOptions(SyncMode::kOff, nullptr);
    // RocksDB starts max_file_opening_threads threads (16) each time it
    // loads a column family's table files, at the open and at every catch-up,
    // however few files there are: ferryctl made 182 threads to print 10
    // lines of an empty journal. A follower opens a few files (ferryd joins
    // small ones) and never compacts, so neither the threads nor the
    // compaction statistics read at the open are worth it.
    o.max_file_opening_threads = 1;
    o.skip_stats_update_on_db_open = true;
    rocksdb::Status opened =
        rocksdb::DB::OpenAsSecondary(rocksdb::Options(o, {}), dir, secondary_dir,
                                     CfDescriptors(kDefaultMemtableBytes), &j->cf_, &db);
    if (opened.IsInvalidArgument() &&
        opened.ToString().find("Column family not found") != std::string::npos) {
      return Status::Retry(
          dir + " is a journal still being created, or not a ferry journal: " + opened.ToString());
    }
    FERRY_RETURN_IF_ERROR(FromRocks(opened, "open " + j->what_));
    j->db_.reset(db);
    FERRY_RETURN_IF_ERROR(j->FollowPrimary(/*just_opened=*/true));
    return std::unique_ptr<Journal>(std::move(j));
  }

 private:
  static Status LoadOrCreateMeta(RocksJournal* j) {
    auto id = j->Get(RocksJournal::kMeta, kMetaJournalId);
    if (!id) return id.error();
    if (id->has_value()) {
      auto format = j->Get(RocksJournal::kMeta, kMetaFormat);
      if (!format) return format.error();
      if (!format->has_value() || **format != std::string(1, char(format::kVersion))) {
        return Status::Corruption(j->what_ + ": on-disk format is not version " +
                                  std::to_string(format::kVersion) + "; this ferry cannot read it");
      }
      FERRY_RETURN_IF_ERROR(j->SetId(**id));
    } else {
      auto fresh = NewJournalId();
      if (!fresh) return fresh.error();
      j->id_ = *fresh;
      rocksdb::WriteBatch batch;
      batch.Put(j->cf_[RocksJournal::kMeta], kMetaJournalId,
                rocksdb::Slice(reinterpret_cast<const char*>(j->id_.bytes.data()), 16));
      batch.Put(j->cf_[RocksJournal::kMeta], kMetaFormat, std::string(1, char(format::kVersion)));
      rocksdb::WriteOptions wo;
      wo.sync = true;  // a journal's identity is written once and must not be lost
      FERRY_RETURN_IF_ERROR(FromRocks(j->db_->Write(wo, &batch), "create " + j->what_));
    }
    auto last = j->ReadLastSeq();
    if (!last) return last.error();
    j->last_seq_.store(*last);
    auto time = j->EventTime(*last);
    if (!time) return time.error();
    j->last_time_ns_ = time->value_or(0);
    return Status::Ok();
  }
};

Result<std::unique_ptr<Journal>> Journal::Open(JournalOptions options) {
  return JournalOpener::Open(std::move(options));
}

Result<std::unique_ptr<Journal>> Journal::OpenSecondary(const std::string& dir,
                                                        const std::string& secondary_dir) {
  return JournalOpener::OpenSecondary(dir, secondary_dir);
}

RocksJournal::~RocksJournal() {
  if (db_ == nullptr) {
    return;
  }
  for (auto* cf : cf_) db_->DestroyColumnFamilyHandle(cf).PermitUncheckedError();
  cf_.clear();
  db_->Close().PermitUncheckedError();
}

Status RocksJournal::SetId(std::string_view bytes) {
  if (bytes.size() != id_.bytes.size()) {
    return Status::Corruption(what_ + ": journal_id has " + std::to_string(bytes.size()) +
                              " bytes, expected 16");
  }
  std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(id_.bytes.data()));
  return Status::Ok();
}

Status RocksJournal::WriteRefusedOnSecondary() const {
  return Status::InvalidArgument(what_ + " is open read-only; changes go through ferryd");
}

Result<std::optional<std::string>> RocksJournal::Get(Cf cf, std::string_view key) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf_[cf], key, &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  FERRY_RETURN_IF_ERROR(FromRocks(s, "read " + what_));
  return std::optional<std::string>(std::move(value));
}

Result<uint64_t> RocksJournal::GetMetaSeq(const char* key) {
  auto meta = Get(kMeta, key);
  if (!meta) return meta.error();
  if (!meta->has_value()) return uint64_t{0};
  auto v = format::DecodeFixed64BE(**meta);
  if (!v) return v.error().WithContext(what_ + ": meta " + key);
  return *v;
}

Result<uint64_t> RocksJournal::ReadLastSeq() {
  auto last = GetMetaSeq(kMetaLastSeq);
  if (!last) return last.error();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_[kEvents]));
  it->SeekToLast();
  if (it->Valid()) {
    auto seq = format::DecodeEventKey(it->key().ToStringView());
    if (!seq) return seq.error().WithContext(what_);
    *last = std::max(*last, *seq);
  }
  FERRY_RETURN_IF_ERROR(FromRocks(it->status(), "find the last event of " + what_));
  return last;
}

Result<uint64_t> RocksJournal::OldestSeq() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_[kEvents]));
  it->SeekToFirst();
  FERRY_RETURN_IF_ERROR(FromRocks(it->status(), "find the oldest event of " + what_));
  if (!it->Valid()) return LastSeq() + 1;
  auto seq = format::DecodeEventKey(it->key().ToStringView());
  if (!seq) return seq.error().WithContext(what_);
  return *seq;
}

Status RocksJournal::CatchUp() {
  if (!read_only_) return Status::Ok();
  return FollowPrimary(/*just_opened=*/false);
}

Result<SeqRange> RocksJournal::Append(AppendBatch batch) {
  if (read_only_) return WriteRefusedOnSecondary();
  for (const Event& e : batch.events) {
    Status s = format::ValidateEvent(e);
    if (!s.ok()) return s.WithContext("append to " + what_);
  }
  for (const CatalogChange& c : batch.catalog) {
    Status s = format::ValidateCatalogChange(c);
    if (!s.ok()) return s.WithContext("append to " + what_);
  }
  Writer w{&batch};
  std::unique_lock lock(write_mu_);
  writers_.push_back(&w);
  while (!w.done && &w != writers_.front()) w.cv.wait(lock);
  if (w.done) return std::move(w.result);

  // This caller leads: it writes its own batch and, in group mode, those of
  // the callers queued behind it, with one WAL write and one sync.
  std::vector<Writer*> group;
  size_t count = 0;
  for (Writer* x : writers_) {
    if (!group.empty() && (sync_ == SyncMode::kAlways || count >= kMaxGroupEvents)) break;
    group.push_back(x);
    count += x->batch->events.size();
  }
  const uint64_t first = LastSeq() + 1;
  lock.unlock();

  // Only the leader touches the group's events and last_seq_ until it
  // re-locks, so building the batch needs no lock.
  Status status = write_status();  // refused at once while failed (Write checks again)
  rocksdb::WriteBatch batch_out;
  // A catalog change reads the rows the group's earlier changes made or
  // removed (a directory made and deleted in one batch).
  CatalogBatch catalog(db_.get(), cf_[kCatalog], &batch_out);
  uint64_t seq = first;
  const int64_t now = clock_->WallNanos();
  std::string value;
  for (Writer* x : group) {
    if (!status.ok()) break;
    x->result = SeqRange{seq, seq + x->batch->events.size() - 1};
    for (Event& e : x->batch->events) {
      if (e.time_ns == 0) e.time_ns = now;
      // Times never go backwards along seqs (two watchers racing, a clock
      // stepped back): "since TIME" is then one binary search (SeqAtTime).
      e.time_ns = std::max(e.time_ns, last_time_ns_);
      last_time_ns_ = e.time_ns;
      value.clear();
      format::AppendEventValue(e, &value);
      batch_out.Put(cf_[kEvents], format::EventKey(seq++), value);
    }
    for (const CatalogChange& c : x->batch->catalog) {
      status = AddCatalogChange(c, &catalog);
      if (!status.ok()) break;
    }
  }
  if (status.ok() && batch_out.Count() > 0) {
    if (count > 0) batch_out.Put(cf_[kMeta], kMetaLastSeq, format::EncodeFixed64BE(seq - 1));
    status = Write(&batch_out, "append " + std::to_string(count) + " events");
  }

  lock.lock();
  if (status.ok()) last_seq_.store(first + count - 1, std::memory_order_release);
  for (Writer* x : group) {
    if (!status.ok()) x->result = status;
    x->done = true;
    writers_.pop_front();
    if (x != &w) x->cv.notify_one();
  }
  if (!writers_.empty()) writers_.front()->cv.notify_one();
  return std::move(w.result);
}

Result<uint32_t> RocksJournal::DestinationId(std::string_view name) {
  if (name.empty() || name.size() > 255 || name.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("destination name must be 1-255 bytes without NUL");
  }
  std::lock_guard lock(meta_mu_);
  std::string key = kMetaDestPrefix + std::string(name);
  auto found = Get(kMeta, key);
  if (!found) return found.error();
  if (found->has_value()) return format::DecodeFixed32(**found);
  if (read_only_) return Status::NotFound("destination " + std::string(name) + " is unknown");
  auto all = Destinations();
  if (!all) return all.error();
  uint32_t id = 1;
  for (const auto& [n, existing] : *all) id = std::max(id, existing + 1);
  rocksdb::WriteBatch batch;
  batch.Put(cf_[kMeta], key, format::EncodeFixed32(id));
  FERRY_RETURN_IF_ERROR(Write(&batch, "register destination"));
  return id;
}

Result<std::vector<std::pair<std::string, uint32_t>>> RocksJournal::Destinations() {
  std::vector<std::pair<std::string, uint32_t>> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_[kMeta]));
  for (it->Seek(kMetaDestPrefix); it->Valid() && it->key().starts_with(kMetaDestPrefix);
       it->Next()) {
    auto id = format::DecodeFixed32(it->value().ToStringView());
    if (!id) return id.error().WithContext(what_ + ": destination registry");
    std::string name = it->key().ToString().substr(sizeof(kMetaDestPrefix) - 1);
    out.emplace_back(std::move(name), *id);
  }
  FERRY_RETURN_IF_ERROR(FromRocks(it->status(), "list destinations of " + what_));
  return out;
}

Status RocksJournal::Flush() {
  if (read_only_) return WriteRefusedOnSecondary();
  rocksdb::FlushOptions fo;
  return FromRocks(db_->Flush(fo, cf_), "flush " + what_);
}

uint64_t RocksJournal::MemtableBytes() {
  uint64_t total = 0;
  for (rocksdb::ColumnFamilyHandle* cf : cf_) {
    uint64_t bytes = 0;
    if (db_->GetIntProperty(cf, rocksdb::DB::Properties::kCurSizeAllMemTables, &bytes)) {
      total += bytes;
    }
  }
  return total;
}

}  // namespace ferry
