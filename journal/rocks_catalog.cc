// The catalog column family: what the watcher last saw of each path.
#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include "journal/format.h"
#include "journal/rocks_journal.h"

namespace ferry {
namespace {

class RocksCatalogReader final : public CatalogReader {
 public:
  RocksCatalogReader(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, uint32_t destination)
      : limit_(format::CatalogSubtreeLimit(destination, "")), limit_slice_(limit_) {
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &limit_slice_;
    ro.readahead_size = 2 << 20;
    it_.reset(db->NewIterator(ro, cf));
    it_->Seek(format::CatalogSubtreeStart(destination, ""));
    Settle();
  }

  bool Valid() const override { return valid_; }
  const CatalogEntry& entry() const override { return entry_; }
  void Next() override {
    it_->Next();
    Settle();
  }
  Status status() const override { return status_; }

 private:
  void Settle() {
    valid_ = false;
    if (!it_->Valid()) {
      status_ = FromRocks(it_->status(), "read the catalog");
      return;
    }
    auto state = format::DecodeFileState(it_->value().ToStringView());
    entry_.path = format::CatalogKeyPath(it_->key().ToStringView());
    if (!state) {
      status_ = state.error().WithContext("catalog path " + entry_.path);
      return;
    }
    entry_.state = *state;
    valid_ = true;
  }

  std::string limit_;
  rocksdb::Slice limit_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
  CatalogEntry entry_;
  bool valid_ = false;
  Status status_;
};

}  // namespace

std::unique_ptr<CatalogReader> RocksJournal::NewCatalogReader(uint32_t destination) {
  return std::make_unique<RocksCatalogReader>(db_.get(), cf_[kCatalog], destination);
}

Result<std::optional<FileState>> RocksJournal::GetCatalogEntry(uint32_t destination,
                                                               std::string_view path) {
  auto raw = Get(kCatalog, format::CatalogKey(destination, path));
  if (!raw) return raw.error();
  if (!raw->has_value()) return std::optional<FileState>();
  auto state = format::DecodeFileState(**raw);
  if (!state) return state.error().WithContext("catalog path " + std::string(path));
  return std::optional<FileState>(*state);
}

Status RocksJournal::AddCatalogChange(const CatalogChange& c, rocksdb::WriteBatch* batch) {
  rocksdb::ColumnFamilyHandle* cf = cf_[kCatalog];
  const uint32_t d = c.destination;
  switch (c.op) {
    case CatalogChange::Op::kPut:
      return FromRocks(
          batch->Put(cf, format::CatalogKey(d, c.path), format::EncodeFileState(c.state)),
          "catalog put");
    case CatalogChange::Op::kDelete:
      FERRY_RETURN_IF_ERROR(FromRocks(batch->Delete(cf, format::CatalogKey(d, c.path)), "catalog"));
      return FromRocks(batch->DeleteRange(cf, format::CatalogSubtreeStart(d, c.path),
                                          format::CatalogSubtreeLimit(d, c.path)),
                       "catalog delete");
    case CatalogChange::Op::kMove: {
      // Rewrite the moved entry and everything below it under the new path.
      const std::string old_key = format::CatalogKey(d, c.old_path);
      const std::string new_key = format::CatalogKey(d, c.path);
      auto top = Get(kCatalog, old_key);
      if (!top) return top.error();
      // The destination path loses whatever it held before (rename over).
      FERRY_RETURN_IF_ERROR(FromRocks(batch->Delete(cf, new_key), "catalog"));
      FERRY_RETURN_IF_ERROR(FromRocks(batch->DeleteRange(cf, format::CatalogSubtreeStart(d, c.path),
                                                         format::CatalogSubtreeLimit(d, c.path)),
                                      "catalog"));
      if (top->has_value()) {
        FERRY_RETURN_IF_ERROR(FromRocks(batch->Put(cf, new_key, **top), "catalog"));
      }
      std::string limit = format::CatalogSubtreeLimit(d, c.old_path);
      rocksdb::Slice limit_slice(limit);
      rocksdb::ReadOptions ro;
      ro.iterate_upper_bound = &limit_slice;
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf));
      for (it->Seek(format::CatalogSubtreeStart(d, c.old_path)); it->Valid(); it->Next()) {
        std::string key = new_key;
        key.append(it->key().ToStringView().substr(old_key.size()));
        FERRY_RETURN_IF_ERROR(FromRocks(batch->Put(cf, key, it->value()), "catalog"));
      }
      FERRY_RETURN_IF_ERROR(FromRocks(it->status(), "read the catalog of a moved directory"));
      FERRY_RETURN_IF_ERROR(FromRocks(batch->Delete(cf, old_key), "catalog"));
      return FromRocks(batch->DeleteRange(cf, format::CatalogSubtreeStart(d, c.old_path), limit),
                       "catalog move");
    }
  }
  return Status::InvalidArgument("unknown catalog op");
}

}  // namespace ferry
