// Cursors, delivery stats and dead letters.
#include <rocksdb/write_batch.h>

#include "journal/format.h"
#include "journal/rocks_journal.h"

namespace ferry {
namespace {

Status CheckTargetName(std::string_view target) {
  if (target.empty() || target.size() > 255 || target.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("target name must be 1-255 bytes without NUL");
  }
  return Status::Ok();
}

}  // namespace

Result<std::optional<Cursor>> RocksJournal::GetCursorLocked(std::string_view target) {
  auto raw = Get(kCursors, format::CursorKey(target));
  if (!raw) return raw.error();
  if (!raw->has_value()) return std::optional<Cursor>();
  auto cursor = format::DecodeCursor(**raw);
  if (!cursor) return cursor.error().WithContext("target " + std::string(target));
  return std::optional<Cursor>(*cursor);
}

Result<TargetStats> RocksJournal::GetStatsLocked(std::string_view target) {
  auto raw = Get(kCursors, format::StatsKey(target));
  if (!raw) return raw.error();
  if (!raw->has_value()) return TargetStats{};
  auto stats = format::DecodeStats(**raw);
  if (!stats) return stats.error().WithContext("target " + std::string(target));
  return *stats;
}

Result<std::optional<Cursor>> RocksJournal::GetCursor(std::string_view target) {
  return GetCursorLocked(target);  // a single Get is atomic; no lock needed
}

Result<TargetStats> RocksJournal::GetStats(std::string_view target) {
  return GetStatsLocked(target);
}

Result<std::vector<std::pair<std::string, Cursor>>> RocksJournal::ListCursors() {
  std::vector<std::pair<std::string, Cursor>> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_[kCursors]));
  for (it->Seek("c"); it->Valid() && it->key().starts_with("c"); it->Next()) {
    std::string target = it->key().ToString().substr(1);
    auto cursor = format::DecodeCursor(it->value().ToStringView());
    if (!cursor) return cursor.error().WithContext("target " + target);
    out.emplace_back(std::move(target), *cursor);
  }
  FERRY_RETURN_IF_ERROR(FromRocks(it->status(), "list cursors of " + what_));
  return out;
}

Status RocksJournal::CheckCursor(const Cursor& cursor) {
  if (!(cursor.journal_id == id_)) {
    return Status::CursorExpired("cursor belongs to journal " + cursor.journal_id.Hex() +
                                 ", not to this journal " + id_.Hex() +
                                 " (was it recreated?): full sync needed");
  }
  if (cursor.expired) {
    return Status::CursorExpired("cursor at seq " + std::to_string(cursor.seq) +
                                 " expired: retention dropped events the target had not "
                                 "received: full sync needed");
  }
  auto oldest = OldestSeq();
  if (!oldest) return oldest.error();
  if (cursor.seq + 1 < *oldest) {
    return Status::CursorExpired("cursor at seq " + std::to_string(cursor.seq) +
                                 " is below the oldest retained event " + std::to_string(*oldest) +
                                 ": full sync needed");
  }
  return Status::Ok();
}

Status RocksJournal::SetCursor(std::string_view target, uint32_t destination, uint64_t seq) {
  FERRY_RETURN_IF_ERROR(CheckTargetName(target));
  if (seq > LastSeq()) {
    return Status::InvalidArgument("cursor seq " + std::to_string(seq) + " is beyond the head " +
                                   std::to_string(LastSeq()));
  }
  Cursor c{id_, seq, destination, false};
  std::lock_guard lock(cursor_mu_);
  rocksdb::WriteBatch batch;
  batch.Put(cf_[kCursors], format::CursorKey(target), format::EncodeCursor(c));
  return Write(&batch, "set cursor of target " + std::string(target));
}

Status RocksJournal::AdvanceCursor(std::string_view target, uint64_t seq, uint64_t events,
                                   uint64_t bytes) {
  if (read_only_) return WriteRefusedOnSecondary();
  std::lock_guard lock(cursor_mu_);
  auto cursor = GetCursorLocked(target);
  if (!cursor) return cursor.error();
  if (!cursor->has_value()) {
    return Status::NotFound("target " + std::string(target) + " has no cursor to advance");
  }
  auto stats = GetStatsLocked(target);
  if (!stats) return stats.error();
  Cursor c = **cursor;
  c.seq = std::max(c.seq, std::min(seq, LastSeq()));
  stats->events += events;
  stats->bytes += bytes;
  stats->last_success_ns = clock_->WallNanos();
  rocksdb::WriteBatch batch;
  batch.Put(cf_[kCursors], format::CursorKey(target), format::EncodeCursor(c));
  batch.Put(cf_[kCursors], format::StatsKey(target), format::EncodeStats(*stats));
  return Write(&batch, "advance cursor of target " + std::string(target));
}

Status RocksJournal::RecordFailure(std::string_view target, std::string_view error) {
  FERRY_RETURN_IF_ERROR(CheckTargetName(target));
  std::lock_guard lock(cursor_mu_);
  auto stats = GetStatsLocked(target);
  if (!stats) return stats.error();
  stats->last_error_ns = clock_->WallNanos();
  stats->last_error.assign(error.substr(0, format::kMaxErrorBytes));
  rocksdb::WriteBatch batch;
  batch.Put(cf_[kCursors], format::StatsKey(target), format::EncodeStats(*stats));
  return Write(&batch, "record failure of target " + std::string(target));
}

Status RocksJournal::SetPause(std::string_view target, const std::optional<PauseMark>& pause) {
  FERRY_RETURN_IF_ERROR(CheckTargetName(target));
  rocksdb::WriteBatch batch;
  if (pause) {
    batch.Put(cf_[kCursors], format::PauseKey(target), format::EncodePause(*pause));
  } else {
    batch.Delete(cf_[kCursors], format::PauseKey(target));
  }
  return Write(&batch, (pause ? "pause target " : "resume target ") + std::string(target));
}

Result<std::optional<PauseMark>> RocksJournal::GetPause(std::string_view target) {
  auto raw = Get(kCursors, format::PauseKey(target));
  if (!raw) return raw.error();
  if (!raw->has_value()) return std::optional<PauseMark>();
  auto pause = format::DecodePause(**raw);
  if (!pause) return pause.error().WithContext("pause of target " + std::string(target));
  return std::optional<PauseMark>(*pause);
}

Status RocksJournal::DeleteTarget(std::string_view target) {
  FERRY_RETURN_IF_ERROR(CheckTargetName(target));
  std::lock_guard lock(cursor_mu_);
  rocksdb::WriteBatch batch;
  batch.Delete(cf_[kCursors], format::CursorKey(target));
  batch.Delete(cf_[kCursors], format::StatsKey(target));
  batch.Delete(cf_[kCursors], format::PauseKey(target));
  std::string prefix = format::DeadLetterPrefix(target);
  std::string end = prefix;
  end.back() = '\1';  // just past every "target\0..." key
  batch.DeleteRange(cf_[kDead], prefix, end);
  return Write(&batch, "delete target " + std::string(target));
}

Status RocksJournal::PutDeadLetter(const DeadLetter& letter) {
  FERRY_RETURN_IF_ERROR(CheckTargetName(letter.target));
  FERRY_RETURN_IF_ERROR(format::ValidateEvent(letter.event));
  rocksdb::WriteBatch batch;
  batch.Put(cf_[kDead], format::DeadLetterKey(letter.target, letter.event.seq),
            format::EncodeDeadLetterValue(letter));
  return Write(&batch, "dead-letter seq " + std::to_string(letter.event.seq));
}

Result<std::vector<DeadLetter>> RocksJournal::ListDeadLetters(std::string_view target) {
  std::vector<DeadLetter> out;
  std::string prefix = target.empty() ? std::string() : format::DeadLetterPrefix(target);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_[kDead]));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    auto letter = format::DecodeDeadLetter(it->key().ToStringView(), it->value().ToStringView());
    if (!letter) return letter.error().WithContext(what_);
    out.push_back(std::move(*letter));
  }
  FERRY_RETURN_IF_ERROR(FromRocks(it->status(), "list dead letters of " + what_));
  return out;
}

Status RocksJournal::RemoveDeadLetter(std::string_view target, uint64_t seq) {
  if (read_only_) return WriteRefusedOnSecondary();
  std::string key = format::DeadLetterKey(target, seq);
  auto found = Get(kDead, key);
  if (!found) return found.error();
  if (!found->has_value()) {
    return Status::NotFound("no dead letter for target " + std::string(target) + " at seq " +
                            std::to_string(seq));
  }
  rocksdb::WriteBatch batch;
  batch.Delete(cf_[kDead], key);
  return Write(&batch, "remove dead letter");
}

}  // namespace ferry
