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

#include "journal/format.h"
#include "journal/rocks_journal.h"

namespace ferry {
namespace {

constexpr int kMaxCatchUpAttempts = 20;

}  // namespace

Result<RocksJournal::FollowerView> RocksJournal::ScanFollowerView(uint64_t known) {
  auto last = GetMetaSeq(kMetaLastSeq);
  if (!last) return last.error();
  auto floor = GetMetaSeq(kMetaTrimmedUpto);
  if (!floor) return floor.error();

  FollowerView view;
  const uint64_t start = std::max(known, *floor) + 1;
  uint64_t expect = start;
  rocksdb::ReadOptions ro;
  ro.readahead_size = 2 << 20;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_[kEvents]));
  bool hole = false;
  for (it->Seek(format::EventKey(start)); it->Valid(); it->Next()) {
    auto seq = format::DecodeEventKey(it->key().ToStringView());
    if (!seq) return seq.error().WithContext(what_);
    if (*seq != expect) {
      hole = true;
      break;
    }
    ++expect;
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
