// The catalog column family: what the watcher last saw of each path.
#include <rocksdb/iterator.h>

#include <string>
#include <utility>
#include <vector>

#include "journal/catalog_batch.h"
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

Status RocksJournal::AddCatalogChange(const CatalogChange& c, CatalogBatch* batch) {
  const uint32_t d = c.destination;
  std::vector<std::pair<std::string, std::string>> below;
  auto subtree = [&](const std::string& path, bool with_values, auto* rows) {
    return batch->Range(format::CatalogSubtreeStart(d, path), format::CatalogSubtreeLimit(d, path),
                        with_values, rows);
  };
  switch (c.op) {
    case CatalogChange::Op::kPut:
      return batch->Put(format::CatalogKey(d, c.path), format::EncodeFileState(c.state));
    case CatalogChange::Op::kDelete:
      FERRY_RETURN_IF_ERROR(batch->Delete(format::CatalogKey(d, c.path)));
      FERRY_RETURN_IF_ERROR(subtree(c.path, /*with_values=*/false, &below));
      for (const auto& [key, value] : below) FERRY_RETURN_IF_ERROR(batch->Delete(key));
      return Status::Ok();
    case CatalogChange::Op::kMove: {
      if (c.path == c.old_path) return Status::Ok();
      // Rewrite the moved entry and everything below it under the new path.
      const std::string old_key = format::CatalogKey(d, c.old_path);
      const std::string new_key = format::CatalogKey(d, c.path);
      auto top = batch->Get(old_key);
      if (!top) return top.error();
      FERRY_RETURN_IF_ERROR(subtree(c.old_path, /*with_values=*/true, &below));
      // The destination path loses whatever it held before (rename over).
      std::vector<std::pair<std::string, std::string>> replaced;
      FERRY_RETURN_IF_ERROR(subtree(c.path, /*with_values=*/false, &replaced));
      FERRY_RETURN_IF_ERROR(batch->Delete(new_key));
      for (const auto& [key, value] : replaced) FERRY_RETURN_IF_ERROR(batch->Delete(key));
      FERRY_RETURN_IF_ERROR(batch->Delete(old_key));
      if (top->has_value()) FERRY_RETURN_IF_ERROR(batch->Put(new_key, **top));
      for (const auto& [key, value] : below) {
        FERRY_RETURN_IF_ERROR(batch->Delete(key));
        FERRY_RETURN_IF_ERROR(batch->Put(new_key + key.substr(old_key.size()), value));
      }
      return Status::Ok();
    }
  }
  return Status::InvalidArgument("unknown catalog op");
}

}  // namespace ferry
