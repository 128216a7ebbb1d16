// The journal's RocksDB info LOG (rocks_journal.h, OpenInfoLog).
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "journal/rocks_journal.h"

namespace ferry {
namespace {

class InfoLog final : public rocksdb::Logger {
 public:
  explicit InfoLog(int fd) : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL), fd_(fd) {}
  ~InfoLog() override {
    if (fd_ >= 0) close(fd_);
  }

  using rocksdb::Logger::Logv;
  // RocksDB's line format: "2024/01/31-12:00:00.123456 7f3a0b message".
  void Logv(const char* format, va_list ap) override {
    if (fd_ < 0) return;
    struct timeval now;
    gettimeofday(&now, nullptr);
    struct tm t;
    localtime_r(&now.tv_sec, &t);
    char prefix[64];
    int n = std::snprintf(prefix, sizeof prefix, "%04d/%02d/%02d-%02d:%02d:%02d.%06ld %lx ",
                          t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                          static_cast<long>(now.tv_usec),
                          static_cast<unsigned long>(syscall(SYS_gettid)));
    std::string line(prefix, std::max(n, 0));
    va_list copy;
    va_copy(copy, ap);
    const int size = std::vsnprintf(nullptr, 0, format, copy);
    va_end(copy);
    if (size < 0) return;
    const size_t at = line.size();
    line.resize(at + size + 1);
    std::vsnprintf(line.data() + at, size + 1, format, ap);
    line.back() = '\n';
    // One write: a failure (a full disk) loses this line and nothing else.
    if (write(fd_, line.data(), line.size()) < 0) return;
  }

 private:
  int fd_;  // -1: the LOG could not be opened; lines are dropped
};

}  // namespace

std::shared_ptr<rocksdb::Logger> OpenInfoLog(const std::string& dir, size_t keep_old) {
  namespace fs = std::filesystem;
  const std::string log = dir + "/LOG";
  std::error_code ec;
  if (fs::exists(log, ec)) {
    struct timeval now;
    gettimeofday(&now, nullptr);
    const long long micros = now.tv_sec * 1'000'000LL + now.tv_usec;
    fs::rename(log, dir + "/LOG.old." + std::to_string(micros), ec);
  }
  std::vector<std::pair<long long, fs::path>> old;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.starts_with("LOG.old.")) old.emplace_back(std::atoll(name.c_str() + 8), it->path());
  }
  std::sort(old.begin(), old.end());
  for (size_t i = 0; i + keep_old < old.size(); ++i) fs::remove(old[i].second, ec);
  return std::make_shared<InfoLog>(
      open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
}

}  // namespace ferry
