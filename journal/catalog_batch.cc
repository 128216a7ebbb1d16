#include "journal/catalog_batch.h"

#include "journal/rocks_journal.h"

namespace ferry {
namespace {

// Collects one column family's puts and deletes of a WriteBatch, last wins.
class OverlayBuilder final : public rocksdb::WriteBatch::Handler {
 public:
  OverlayBuilder(uint32_t cf_id, std::map<std::string, std::optional<std::string>>* overlay)
      : cf_id_(cf_id), overlay_(overlay) {}
  rocksdb::Status PutCF(uint32_t cf_id, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    if (cf_id == cf_id_) (*overlay_)[key.ToString()] = value.ToString();
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(uint32_t cf_id, const rocksdb::Slice& key) override {
    if (cf_id == cf_id_) (*overlay_)[key.ToString()] = std::nullopt;
    return rocksdb::Status::OK();
  }

 private:
  uint32_t cf_id_;
  std::map<std::string, std::optional<std::string>>* overlay_;
};

}  // namespace

Status CatalogBatch::Index() {
  if (indexed_) return Status::Ok();
  OverlayBuilder builder(cf_->GetID(), &overlay_);
  FERRY_RETURN_IF_ERROR(FromRocks(batch_->Iterate(&builder), "index the catalog changes"));
  indexed_ = true;
  return Status::Ok();
}

Status CatalogBatch::Put(const std::string& key, const std::string& value) {
  if (indexed_) overlay_[key] = value;
  return FromRocks(batch_->Put(cf_, key, value), "catalog put");
}

Status CatalogBatch::Delete(const std::string& key) {
  if (indexed_) overlay_[key] = std::nullopt;
  return FromRocks(batch_->Delete(cf_, key), "catalog delete");
}

Result<std::optional<std::string>> CatalogBatch::Get(const std::string& key) {
  FERRY_RETURN_IF_ERROR(Index());
  if (auto it = overlay_.find(key); it != overlay_.end()) return it->second;
  std::string value;
  rocksdb::Status s = db_->Get({}, cf_, key, &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "read the catalog");
  return std::optional<std::string>(std::move(value));
}

Status CatalogBatch::Range(const std::string& start, const std::string& limit, bool with_values,
                           std::vector<std::pair<std::string, std::string>>* rows) {
  FERRY_RETURN_IF_ERROR(Index());
  rocksdb::Slice limit_slice(limit);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &limit_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_));
  it->Seek(start);
  auto o = overlay_.lower_bound(start);
  const auto o_end = overlay_.lower_bound(limit);
  auto emit = [&](std::string key, const rocksdb::Slice& value) {
    rows->emplace_back(std::move(key), with_values ? value.ToString() : std::string());
  };
  while (it->Valid() || o != o_end) {
    const int order = !it->Valid() ? 1 : o == o_end ? -1 : it->key().compare(o->first);
    if (order < 0) {  // committed, untouched by this write
      emit(it->key().ToString(), it->value());
      it->Next();
      continue;
    }
    if (o->second) emit(o->first, *o->second);  // this write's, over any committed row
    if (order == 0) it->Next();
    ++o;
  }
  return FromRocks(it->status(), "read the catalog below a path");
}

}  // namespace ferry
