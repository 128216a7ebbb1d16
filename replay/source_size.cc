#include "replay/source_size.h"

#include <fts.h>
#include <sys/stat.h>

namespace ferry {

bool TreeHoldsAtLeast(const std::string& dir, uint64_t bytes, size_t max_entries) {
  char* roots[] = {const_cast<char*>(dir.c_str()), nullptr};
  FTS* fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR, nullptr);
  if (fts == nullptr) return false;
  uint64_t seen = 0;
  size_t entries = 0;
  bool enough = false;
  for (FTSENT* e = fts_read(fts); e != nullptr && !enough; e = fts_read(fts)) {
    if (e->fts_info == FTS_DNR || (e->fts_level == 0 && e->fts_info != FTS_D)) break;
    if (e->fts_info == FTS_DP) continue;  // a directory seen again, on the way out
    if (e->fts_info == FTS_F) seen += static_cast<uint64_t>(e->fts_statp->st_size);
    enough = seen >= bytes || ++entries > max_entries;
  }
  fts_close(fts);
  return enough;
}

}  // namespace ferry
