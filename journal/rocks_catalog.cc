// The catalog column family: what the watcher last saw of each path.
#include <rocksdb/iterator.h>
#include <rocksdb/utilities/write_batch_with_index.h>

#include <string>
#include <utility>
#include <vector>

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

Status RocksJournal::CatalogSubtree(rocksdb::WriteBatchWithIndex* batch, uint32_t destination,
                                    std::string_view path,
                                    std::vector<std::pair<std::string, std::string>>* rows) {
  rocksdb::ColumnFamilyHandle* cf = cf_[kCatalog];
  const std::string limit = format::CatalogSubtreeLimit(destination, path);
  rocksdb::Slice limit_slice(limit);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &limit_slice;
  std::unique_ptr<rocksdb::Iterator> it(
      batch->NewIteratorWithBase(cf, db_->NewIterator(ro, cf), &ro));
  for (it->Seek(format::CatalogSubtreeStart(destination, path));
       it->Valid() && it->key().compare(limit_slice) < 0; it->Next()) {
    rows->emplace_back(it->key().ToString(), it->value().ToString());
  }
  return FromRocks(it->status(), "read the catalog below a path");
}

Status RocksJournal::AddCatalogChange(const CatalogChange& c, rocksdb::WriteBatchWithIndex* batch) {
  rocksdb::ColumnFamilyHandle* cf = cf_[kCatalog];
  const uint32_t d = c.destination;
  auto check = [](const rocksdb::Status& s) { return FromRocks(s, "catalog"); };
  std::vector<std::pair<std::string, std::string>> below;
  switch (c.op) {
    case CatalogChange::Op::kPut:
      return check(batch->Put(cf, format::CatalogKey(d, c.path), format::EncodeFileState(c.state)));
    case CatalogChange::Op::kDelete:
      FERRY_RETURN_IF_ERROR(check(batch->Delete(cf, format::CatalogKey(d, c.path))));
      FERRY_RETURN_IF_ERROR(CatalogSubtree(batch, d, c.path, &below));
      for (const auto& [key, value] : below) FERRY_RETURN_IF_ERROR(check(batch->Delete(cf, key)));
      return Status::Ok();
    case CatalogChange::Op::kMove: {
      if (c.path == c.old_path) return Status::Ok();
      // Rewrite the moved entry and everything below it under the new path.
      const std::string old_key = format::CatalogKey(d, c.old_path);
      const std::string new_key = format::CatalogKey(d, c.path);
      std::string top;
      rocksdb::Status got = batch->GetFromBatchAndDB(db_.get(), {}, cf, old_key, &top);
      if (!got.ok() && !got.IsNotFound()) return FromRocks(got, "read the catalog");
      FERRY_RETURN_IF_ERROR(CatalogSubtree(batch, d, c.old_path, &below));
      // The destination path loses whatever it held before (rename over).
      std::vector<std::pair<std::string, std::string>> replaced;
      FERRY_RETURN_IF_ERROR(CatalogSubtree(batch, d, c.path, &replaced));
      FERRY_RETURN_IF_ERROR(check(batch->Delete(cf, new_key)));
      for (const auto& [key, value] : replaced) {
        FERRY_RETURN_IF_ERROR(check(batch->Delete(cf, key)));
      }
      FERRY_RETURN_IF_ERROR(check(batch->Delete(cf, old_key)));
      if (got.ok()) FERRY_RETURN_IF_ERROR(check(batch->Put(cf, new_key, top)));
      for (const auto& [key, value] : below) {
        FERRY_RETURN_IF_ERROR(check(batch->Delete(cf, key)));
        FERRY_RETURN_IF_ERROR(check(batch->Put(cf, new_key + key.substr(old_key.size()), value)));
      }
      return Status::Ok();
    }
  }
  return Status::InvalidArgument("unknown catalog op");
}

}  // namespace ferry
