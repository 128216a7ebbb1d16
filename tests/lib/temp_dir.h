// TempDir: a fresh directory for one test, removed with everything in it when
// the TempDir goes out of scope. Made under $TMPDIR (default /tmp); the test
// scripts point TMPDIR at /var/tmp, where creating files is much faster here.
// FERRY_KEEP_TMP=1 keeps it (and says where) for a post-mortem.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace ferry::testing {

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/ferry-test-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    if (const char* keep = std::getenv("FERRY_KEEP_TMP"); keep && *keep && *keep != '0') {
      std::fprintf(stderr, "kept %s (FERRY_KEEP_TMP)\n", path_.c_str());
      return;
    }
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace ferry::testing
