#include "tests/lib/tree_compare.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

#include "journal/escape.h"

namespace ferry::testing {
namespace {

std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Diff(const std::string& a, const std::string& b, const std::string& rel) {
  struct stat sa, sb;
  const std::string shown = rel.empty() ? "." : EscapePath(rel);
  if (lstat(a.c_str(), &sa) != 0) return shown + ": missing in the source";
  if (lstat(b.c_str(), &sb) != 0) return shown + ": missing in the target";
  if ((sa.st_mode & S_IFMT) != (sb.st_mode & S_IFMT)) return shown + ": types differ";
  if (!S_ISLNK(sa.st_mode) && (sa.st_mode & 07777) != (sb.st_mode & 07777)) {
    return shown + ": modes differ";
  }
  if (S_ISREG(sa.st_mode)) {
    if (sa.st_size != sb.st_size || Read(a) != Read(b)) return shown + ": contents differ";
  } else if (S_ISLNK(sa.st_mode)) {
    char ta[4096], tb[4096];
    ssize_t na = readlink(a.c_str(), ta, sizeof ta), nb = readlink(b.c_str(), tb, sizeof tb);
    if (na != nb ||
        std::string(ta, std::max<ssize_t>(na, 0)) != std::string(tb, std::max<ssize_t>(nb, 0))) {
      return shown + ": symlink targets differ";
    }
  } else if (S_ISDIR(sa.st_mode)) {
    std::vector<std::string> la = List(a), lb = List(b);
    if (la != lb) {
      for (const std::string& n : la) {
        if (!std::binary_search(lb.begin(), lb.end(), n)) {
          return EscapePath(rel.empty() ? n : rel + "/" + n) + ": missing in the target";
        }
      }
      for (const std::string& n : lb) {
        if (!std::binary_search(la.begin(), la.end(), n)) {
          return EscapePath(rel.empty() ? n : rel + "/" + n) + ": extra in the target";
        }
      }
    }
    for (const std::string& n : la) {
      std::string d = Diff(a + "/" + n, b + "/" + n, rel.empty() ? n : rel + "/" + n);
      if (!d.empty()) return d;
    }
  }
  return "";
}

}  // namespace

std::string DiffTrees(const std::string& a, const std::string& b) { return Diff(a, b, ""); }

}  // namespace ferry::testing
