// Joining the small table files of the events column family.
//
// Events are appended in key order, so a flushed memtable never overlaps the
// files below it and RocksDB moves it down a level as it is (a trivial
// move): with 8 MiB memtables a 10M-event journal was 201 files of 580 KB in
// level 1, which a follower (ferryctl) opens one by one. Joining each run of
// small neighbours into files of the level's target size (64 MiB in level 1)
// rewrites every event about once.
#include <rocksdb/metadata.h>
#include <rocksdb/options.h>

#include "journal/rocks_journal.h"

namespace ferry {
namespace {

// A file under kSmallFileBytes (half a memtable) is small; a run of
// kMinRun of them, or one reaching the target size, is joined. The joined
// file is no longer small, so no event is rewritten twice.
constexpr uint64_t kTargetFileBytes = 64ULL << 20;
constexpr uint64_t kSmallFileBytes = kDefaultMemtableBytes / 2;
constexpr size_t kMinRun = 16;

}  // namespace

Status RocksJournal::JoinSmallEventFiles() {
  if (read_only_) return WriteRefusedOnSecondary();
  rocksdb::ColumnFamilyMetaData meta;
  db_->GetColumnFamilyMetaData(cf_[kEvents], &meta);
  for (const rocksdb::LevelMetaData& level : meta.levels) {
    if (level.level == 0) continue;  // RocksDB compacts level 0 itself
    // A level's files are sorted by key and do not overlap: a run of
    // neighbours is a range of keys that no other file of the level holds.
    std::vector<std::string> run;
    uint64_t run_bytes = 0;
    auto join = [&]() -> Status {
      const bool worth = run.size() >= kMinRun || (run.size() > 1 && run_bytes >= kTargetFileBytes);
      std::vector<std::string> files = std::move(run);
      run.clear();
      run_bytes = 0;
      if (!worth) return Status::Ok();
      rocksdb::CompactionOptions co;
      co.output_file_size_limit = kTargetFileBytes;
      rocksdb::Status s = db_->CompactFiles(co, cf_[kEvents], files, level.level);
      // RocksDB started a compaction of its own on one of them since the
      // metadata was read (or into the same range): next time.
      if (s.IsAborted()) return Status::Ok();
      return FromRocks(s, "join the small event files of " + what_);
    };
    for (const rocksdb::SstFileMetaData& file : level.files) {
      if (file.being_compacted || file.size >= kSmallFileBytes) {
        FERRY_RETURN_IF_ERROR(join());
        continue;
      }
      run.push_back(file.db_path + "/" + file.name);
      run_bytes += file.size;
      if (run_bytes >= kTargetFileBytes) FERRY_RETURN_IF_ERROR(join());
    }
    FERRY_RETURN_IF_ERROR(join());
  }
  return Status::Ok();
}

}  // namespace ferry
