// Reading events: a forward iterator over the events column family.
#include <rocksdb/iterator.h>

#include "journal/format.h"
#include "journal/rocks_journal.h"

namespace ferry {
namespace {

class RocksEventReader final : public EventReader {
 public:
  RocksEventReader(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, ReadOptions options)
      : options_(std::move(options)),
        upper_(options_.to_seq == UINT64_MAX ? std::string()
                                             : format::EventKey(options_.to_seq + 1)),
        upper_slice_(upper_) {
    rocksdb::ReadOptions ro;
    if (!upper_.empty()) ro.iterate_upper_bound = &upper_slice_;
    ro.readahead_size = 2 << 20;  // scans are sequential
    it_.reset(db->NewIterator(ro, cf));
    it_->Seek(format::EventKey(options_.from_seq));
    Settle();
  }

  bool Valid() const override { return valid_; }
  const Event& event() const override { return event_; }
  void Next() override {
    it_->Next();
    Settle();
  }
  Status status() const override { return status_; }
  uint64_t corrupt_records() const override { return corrupt_; }

 private:
  // Moves forward to the next event that decodes and passes the filter.
  void Settle() {
    valid_ = false;
    for (; it_->Valid(); it_->Next()) {
      auto seq = format::DecodeEventKey(it_->key().ToStringView());
      if (!seq) {
        Report(0, seq.error());
        continue;
      }
      std::string_view value = it_->value().ToStringView();
      if (options_.destination) {
        auto header = format::DecodeEventHeader(value);
        if (!header) {
          Report(*seq, header.error());
          continue;
        }
        if (header->destination != *options_.destination) continue;
      }
      auto event = format::DecodeEventValue(*seq, value);
      if (!event) {
        Report(*seq, event.error());
        continue;
      }
      event_ = std::move(*event);
      valid_ = true;
      return;
    }
    status_ = FromRocks(it_->status(), "read events");
  }

  void Report(uint64_t seq, const Status& why) {
    ++corrupt_;
    if (options_.on_corruption) options_.on_corruption(seq, it_->value().size(), why);
  }

  ReadOptions options_;
  std::string upper_;
  rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
  Event event_;
  bool valid_ = false;
  uint64_t corrupt_ = 0;
  Status status_;
};

}  // namespace

std::unique_ptr<EventReader> RocksJournal::NewReader(ReadOptions options) {
  // A follower's view may run past a hole (follower.cc); stop at the head it
  // verified.
  if (read_only_) options.to_seq = std::min(options.to_seq, LastSeq());
  return std::make_unique<RocksEventReader>(db_.get(), cf_[kEvents], std::move(options));
}

Result<std::optional<int64_t>> RocksJournal::EventTime(uint64_t seq) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_[kEvents]));
  for (it->Seek(format::EventKey(seq)); it->Valid(); it->Next()) {
    auto header = format::DecodeEventHeader(it->value().ToStringView());
    if (header) return std::optional<int64_t>(header->time_ns);
  }
  FERRY_RETURN_IF_ERROR(FromRocks(it->status(), "read an event time of " + what_));
  return std::optional<int64_t>();
}

Result<uint64_t> RocksJournal::FirstSeqAtTime(int64_t time_ns) {
  auto oldest = OldestSeq();
  if (!oldest) return oldest.error();
  // Invariant: every seq below lo is older than time_ns; hi is at or after
  // it, or one past the head.
  uint64_t lo = *oldest, hi = LastSeq() + 1;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    auto time = EventTime(mid);
    if (!time) return time.error();
    if (!time->has_value() || **time >= time_ns) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

Result<bool> RocksJournal::HasEventsOf(uint32_t destination, uint64_t from, uint64_t to) {
  if (from > to) return false;
  ReadOptions ro;
  ro.from_seq = from;
  ro.to_seq = to;
  ro.destination = destination;
  auto reader = NewReader(std::move(ro));
  // An undecodable record might have been this destination's: count it.
  if (reader->Valid() || reader->corrupt_records() > 0) return true;
  FERRY_RETURN_IF_ERROR(reader->status());
  return false;
}

}  // namespace ferry
