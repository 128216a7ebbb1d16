// CatalogBatch: the catalog's part of one journal write, with reads that
// see the write's earlier changes (a directory made and removed, or made
// and renamed, in one batch of the watcher).
//
// Puts and deletes go straight into the write's rocksdb::WriteBatch. The
// overlay that reads merge with the committed rows is built from that
// batch only at the first read, so a write of puts alone (the usual one)
// pays nothing for it: a rocksdb::WriteBatchWithIndex, which indexes every
// event too, cost 2.4x on 10,000-event appends (journal_bench).
//
// Not thread-safe: one Append leader at a time.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace ferry {

class CatalogBatch {
 public:
  CatalogBatch(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, rocksdb::WriteBatch* batch)
      : db_(db), cf_(cf), batch_(batch) {}

  Status Put(const std::string& key, const std::string& value);
  Status Delete(const std::string& key);
  // The row at `key` after the changes so far; nullopt when there is none.
  Result<std::optional<std::string>> Get(const std::string& key);
  // The rows in [start, limit) after the changes so far, in key order
  // (values left empty unless `with_values`).
  Status Range(const std::string& start, const std::string& limit, bool with_values,
               std::vector<std::pair<std::string, std::string>>* rows);

 private:
  // Builds overlay_ from the catalog changes already in batch_.
  Status Index();

  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* cf_;
  rocksdb::WriteBatch* batch_;
  bool indexed_ = false;
  std::map<std::string, std::optional<std::string>> overlay_;  // nullopt: deleted
};

}  // namespace ferry
