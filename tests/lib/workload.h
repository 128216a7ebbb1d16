// MixedWorkload: a random but reproducible stream of changes to a tree, the
// kind the fault suite drives ferryd with: creates, same-size rewrites (the
// rsync quick-check trap), renames of files and directories, deletes of
// whole trees, and odd names (newline, '#', ';', leading '-', non-UTF-8,
// "$(touch /tmp/pwned)"). It remembers what it made, so each step acts on
// something that exists.
#pragma once

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace ferry::testing {

class MixedWorkload {
 public:
  MixedWorkload(std::string root, uint64_t seed) : root_(std::move(root)), rng_(seed) {
    dirs_.push_back("");
  }

  // One change. Returns how many filesystem entries it touched.
  int Step() {
    const int op = Pick(100);
    if (op < 40 || files_.size() < 10) return Create();
    if (op < 60) return Rewrite();
    if (op < 75) return RenameFile();
    if (op < 85) return MakeDir();
    if (op < 93) return RenameDir();
    return DeleteTree();
  }
  int Steps(int n) {
    int total = 0;
    for (int i = 0; i < n; ++i) total += Step();
    return total;
  }

 private:
  static const std::vector<std::string>& OddNames() {
    static const std::vector<std::string> names = {
        "line\nbreak",    "#hash",  "semi;colon",  "-leading-dash", "bad-\xff\xfe-utf8",
        "$(touch pwned)", "sp ace", "caf\xc3\xa9", "back\\slash",   "`tick`"};
    return names;
  }
  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  std::string Path(const std::string& rel) const { return root_ + "/" + rel; }
  static std::string Join(const std::string& dir, const std::string& name) {
    return dir.empty() ? name : dir + "/" + name;
  }
  std::string NewName() {
    ++serial_;
    return Pick(8) == 0 ? OddNames()[Pick(OddNames().size())] + "-" + std::to_string(serial_)
                        : "f" + std::to_string(serial_);
  }
  void Write(const std::string& rel, char fill) {
    std::ofstream(Path(rel), std::ios::binary) << std::string(100 + (serial_ % 7) * 50, fill);
  }

  int Create() {
    const std::string rel = Join(dirs_[Pick(dirs_.size())], NewName());
    Write(rel, 'a');
    files_.push_back(rel);
    return 1;
  }
  int Rewrite() {  // same size, new content
    const std::string& rel = files_[Pick(files_.size())];
    std::error_code ec;
    const auto size = std::filesystem::file_size(Path(rel), ec);
    if (ec) return 0;
    std::ofstream(Path(rel), std::ios::binary)
        << std::string(size, static_cast<char>('b' + Pick(20)));
    return 1;
  }
  int RenameFile() {
    const size_t i = Pick(files_.size());
    const std::string to = Join(dirs_[Pick(dirs_.size())], NewName());
    std::error_code ec;
    std::filesystem::rename(Path(files_[i]), Path(to), ec);
    if (ec) return 0;
    files_[i] = to;
    return 1;
  }
  int MakeDir() {
    const std::string rel = Join(dirs_[Pick(dirs_.size())], "d" + NewName());
    std::filesystem::create_directory(Path(rel));
    dirs_.push_back(rel);
    for (int i = 0; i < 3; ++i) {
      const std::string f = Join(rel, NewName());
      Write(f, 'c');
      files_.push_back(f);
    }
    return 4;
  }
  static bool Under(const std::string& path, const std::string& dir) {
    return path == dir || path.starts_with(dir + "/");
  }
  int RenameDir() {
    if (dirs_.size() < 2) return MakeDir();
    const std::string from = dirs_[1 + Pick(dirs_.size() - 1)];
    const std::string parent = dirs_[Pick(dirs_.size())];
    if (Under(parent, from)) return 0;  // not into itself
    const std::string to = Join(parent, "r" + NewName());
    std::error_code ec;
    std::filesystem::rename(Path(from), Path(to), ec);
    if (ec) return 0;
    for (auto* list : {&dirs_, &files_}) {
      for (std::string& p : *list) {
        if (Under(p, from)) p = to + p.substr(from.size());
      }
    }
    return 1;
  }
  int DeleteTree() {
    if (dirs_.size() < 2) return MakeDir();
    const std::string dir = dirs_[1 + Pick(dirs_.size() - 1)];
    std::error_code ec;
    const auto n = std::filesystem::remove_all(Path(dir), ec);
    for (auto* list : {&dirs_, &files_}) {
      std::erase_if(*list, [&](const std::string& p) { return Under(p, dir); });
    }
    return static_cast<int>(n);
  }

  std::string root_;
  std::mt19937_64 rng_;
  uint64_t serial_ = 0;
  std::vector<std::string> dirs_;   // relative; "" is the root
  std::vector<std::string> files_;  // relative
};

}  // namespace ferry::testing
