// Retention: trimming delivered events by age, and any events over the budget.
//
// Trimming removes a prefix of the events column family with one DeleteRange
// (point deletes would leave tombstones that slow every later seek) and then
// compacts that range so the space really comes back.
#include <rocksdb/write_batch.h>

#include <algorithm>

#include "journal/format.h"
#include "journal/rocks_journal.h"

namespace ferry {

Result<uint64_t> RocksJournal::EventBytes() {
  rocksdb::SizeApproximationOptions o;
  o.include_memtables = true;
  o.include_files = true;
  std::string begin = format::EventKey(0), end = format::EventKey(UINT64_MAX);
  rocksdb::Range range(begin, end);
  uint64_t size = 0;
  FERRY_RETURN_IF_ERROR(
      FromRocks(db_->GetApproximateSizes(o, cf_[kEvents], &range, 1, &size), "size " + what_));
  return size;
}

Result<uint64_t> RocksJournal::TimeTrimBound(uint64_t oldest, uint64_t min_cursor,
                                             int64_t cutoff_ns) {
  if (min_cursor < oldest) return 0;
  rocksdb::ReadOptions ro;
  std::string upper = format::EventKey(min_cursor + 1);
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_[kEvents]));
  uint64_t bound = 0;
  // Stops at the first event not older than the cutoff, so a clock that
  // jumped back keeps events longer, never shorter.
  for (it->Seek(format::EventKey(oldest)); it->Valid(); it->Next()) {
    auto seq = format::DecodeEventKey(it->key().ToStringView());
    auto header = format::DecodeEventHeader(it->value().ToStringView());
    if (!seq || (header && header->time_ns >= cutoff_ns)) break;
    bound = *seq;  // a corrupt but delivered record may go too
  }
  FERRY_RETURN_IF_ERROR(FromRocks(it->status(), "scan event times of " + what_));
  return bound;
}

Result<TrimReport> RocksJournal::Trim(const RetentionPolicy& policy) {
  if (read_only_) return WriteRefusedOnSecondary();
  TrimReport report;
  report.trimmed = SeqRange{1, 0};
  std::unique_lock lock(cursor_mu_);
  auto bytes = EventBytes();
  if (!bytes) return bytes.error();
  report.bytes_before = report.bytes_after = *bytes;
  auto oldest = OldestSeq();
  if (!oldest) return oldest.error();
  const uint64_t last = LastSeq();
  if (*oldest > last) return report;

  auto cursors = ListCursors();
  if (!cursors) return cursors.error();
  // Delivered means delivered to every target that still counts; expired
  // cursors and those of another journal will get a full sync anyway. With
  // no target at all nothing counts as delivered.
  uint64_t min_cursor = cursors->empty() ? 0 : last;
  for (const auto& [name, c] : *cursors) {
    if (!c.expired && c.journal_id == id_) min_cursor = std::min(min_cursor, c.seq);
  }

  uint64_t upto = 0;
  if (policy.keep_delivered_ns > 0) {
    auto bound = TimeTrimBound(*oldest, min_cursor, clock_->WallNanos() - policy.keep_delivered_ns);
    if (!bound) return bound.error();
    upto = *bound;
  }
  if (policy.max_bytes > 0 && *bytes > policy.max_bytes) {
    // Trim to 90% of the budget so that the next append does not trim again.
    const uint64_t count = last - *oldest + 1;
    const uint64_t per_event = std::max<uint64_t>(1, *bytes / count);
    const uint64_t excess = *bytes - policy.max_bytes / 10 * 9;
    const uint64_t drop = (excess + per_event - 1) / per_event;
    upto = std::max(upto, std::min(last, *oldest + drop - 1));
  }
  if (upto < *oldest) return report;

  rocksdb::WriteBatch batch;
  const std::string end = format::EventKey(upto + 1);
  batch.DeleteRange(cf_[kEvents], format::EventKey(0), end);
  batch.Put(cf_[kMeta], kMetaTrimmedUpto, format::EncodeFixed64BE(upto));
  for (auto& [name, c] : *cursors) {
    if (c.expired || !(c.journal_id == id_) || c.seq >= upto) continue;
    auto missed = HasEventsOf(c.destination, c.seq + 1, upto);
    if (!missed) return missed.error();
    if (*missed) {
      c.expired = true;
      report.expired_targets.push_back(name);
    } else {
      c.seq = upto;  // nothing of its destination was in the trimmed range
    }
    batch.Put(cf_[kCursors], format::CursorKey(name), format::EncodeCursor(c));
  }
  FERRY_RETURN_IF_ERROR(Write(&batch, "trim events up to seq " + std::to_string(upto)));
  lock.unlock();
  report.trimmed = SeqRange{*oldest, upto};

  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  rocksdb::Slice end_slice(end);
  FERRY_RETURN_IF_ERROR(
      FromRocks(db_->CompactRange(co, cf_[kEvents], nullptr, &end_slice), "compact " + what_));
  bytes = EventBytes();
  if (!bytes) return bytes.error();
  report.bytes_after = *bytes;
  return report;
}

}  // namespace ferry
