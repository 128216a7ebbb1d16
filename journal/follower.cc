// A read-only follower's catch-up: keeping a secondary instance's view of the
// events gap-free.
//
// RocksDB's secondary reads the primary's MANIFEST, then its WAL files. When
// the primary finishes a flush in between, the follower sees neither the new
// table file nor the WAL it replaced, and its view has a hole of events
// (facebook/rocksdb#5323). The view is trusted only when the events after the
// published head are contiguous and end at meta last_seq, and when nothing
// below the trim floor is missing; otherwise it catches up again. After a
// few failed tries it publishes only the unbroken run, so a reader bounded by
// LastSeq() never skips an event.
#include <rocksdb/iterator.h>
#include <rocksdb/metadata.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "journal/format.h"
#include "journal/rocks_journal.h"

namespace ferry {
namespace {

constexpr int kMaxCatchUpAttempts = 20;

}  // namespace

// The seq runs of the events' table files that hold no trim tombstone. Such
// a file was written from the primary's gap-free events (a flushed memtable,
// or a compaction of such files) with nothing deleted inside its range, so it
// holds every seq from its first key to its last: the scan can jump over it.
// A trim's tombstone spans [0, floor] and pulls a file's first key down to 0,
// so a file whose first key lies above the floor holds none.
std::vector<SeqRange> RocksJournal::WholeEventFiles(uint64_t floor) {
  rocksdb::ColumnFamilyMetaData meta;
  db_->GetColumnFamilyMetaData(cf_[kEvents], &meta);
  std::vector<SeqRange> runs;
  for (const rocksdb::LevelMetaData& level : meta.levels) {
    for (const rocksdb::SstFileMetaData& file : level.files) {
      auto first = format::DecodeEventKey(file.smallestkey);
      auto last = format::DecodeEventKey(file.largestkey);
      if (!first || !last) continue;  // not a plain event key: scan it instead
      if (*first > floor && *first <= *last) runs.push_back({*first, *last});
    }
  }
  std::sort(runs.begin(), runs.end(),
            [](const SeqRange& a, const SeqRange& b) { return a.first < b.first; });
  return runs;
}

// Checks the events after the published head key by key, except inside a
// whole table file (WholeEventFiles): the cost follows the events still in
// memtables and near the trim floor, not the journal's length (a 10M-event
// journal was scanned in 2.3 s before).
Result<RocksJournal::FollowerView> RocksJournal::ScanFollowerView(uint64_t known) {
  auto last = GetMetaSeq(kMetaLastSeq);
  if (!last) return last.error();
  auto floor = GetMetaSeq(kMetaTrimmedUpto);
  if (!floor) return floor.error();
  const std::vector<SeqRange> whole = WholeEventFiles(*floor);

  FollowerView view;
  uint64_t expect = std::max(known, *floor) + 1;
  // No readahead: most of the view is jumped over, and a readahead would
  // read megabytes at each jump.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_[kEvents]));
  bool hole = false;
  size_t file = 0;
  it->Seek(format::EventKey(expect));
  while (true) {
    while (file < whole.size() && whole[file].last < expect) ++file;
    if (file < whole.size() && whole[file].first <= expect) {
      expect = whole[file].last + 1;
      it->Seek(format::EventKey(expect));
      continue;
    }
    if (!it->Valid()) break;
    auto seq = format::DecodeEventKey(it->key().ToStringView());
    if (!seq) return seq.error().WithContext(what_);
    if (*seq != expect) {
      hole = true;
      break;
    }
    ++expect;
    it->Next();
  }
  FERRY_RETURN_IF_ERROR(FromRocks(it->status(), "scan events of " + what_));
  view.run_end = expect - 1;
  view.consistent = !hole && view.run_end == *last;
  return view;
}

Status RocksJournal::FollowPrimary(bool just_opened) {
  const uint64_t known = LastSeq();
  FollowerView view;
  bool have_id = false;
  for (int attempt = 0; attempt < kMaxCatchUpAttempts; ++attempt) {
    if (attempt > 1) {
      // A torn view lasts while the primary finishes a flush: pause, growing
      // from 1 ms to 64 ms (about 1 s over the attempts), rather than give
      // up within a few ms now that a catch-up is quick (one thread).
      std::this_thread::sleep_for(std::chrono::milliseconds(1 << std::min(attempt - 2, 6)));
    }
    if (attempt > 0 || !just_opened) {
      FERRY_RETURN_IF_ERROR(FromRocks(db_->TryCatchUpWithPrimary(), "catch up with " + what_));
    }
    auto id = Get(kMeta, kMetaJournalId);
    if (!id) return id.error();
    if (!id->has_value()) continue;  // the primary may be flushing meta right now
    FERRY_RETURN_IF_ERROR(SetId(**id));
    have_id = true;
    auto scanned = ScanFollowerView(known);
    if (!scanned) return scanned.error();
    view = *scanned;
    if (view.consistent) break;
  }
  if (!have_id) {
    return Status::NotFound(dir_ + " holds no ferry journal (no journal_id)");
  }
  last_seq_.store(std::max(known, view.run_end), std::memory_order_release);
  return Status::Ok();
}

}  // namespace ferry
