#include "tools/cursor_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "journal/escape.h"

namespace ferry {
namespace {

constexpr std::string_view kPrefix = "ferry-cursor v1 journal=";
constexpr std::string_view kSeqKey = " seq=";
constexpr size_t kMaxFileBytes = 4096;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

Status Malformed(std::string_view text) {
  std::string shown = EscapePath(text.substr(0, 200));
  return Status::InvalidArgument("cursor \"" + shown +
                                 "\" is not \"ferry-cursor v1 journal=<32 hex digits> seq=<n>\"");
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

std::string FormatCursor(const CursorPosition& pos) {
  return std::string(kPrefix) + pos.journal_id.Hex() + std::string(kSeqKey) +
         std::to_string(pos.seq);
}

Result<CursorPosition> ParseCursor(std::string_view text) {
  std::string_view s = text;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
    s.remove_suffix(1);
  }
  if (!s.starts_with(kPrefix)) return Malformed(text);
  s.remove_prefix(kPrefix.size());
  CursorPosition pos;
  const size_t hex_len = pos.journal_id.bytes.size() * 2;
  if (s.size() < hex_len) return Malformed(text);
  for (size_t i = 0; i < pos.journal_id.bytes.size(); ++i) {
    int hi = HexValue(s[2 * i]);
    int lo = HexValue(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return Malformed(text);
    pos.journal_id.bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  s.remove_prefix(hex_len);
  if (!s.starts_with(kSeqKey)) return Malformed(text);
  s.remove_prefix(kSeqKey.size());
  if (s.empty() || s[0] < '0' || s[0] > '9') return Malformed(text);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), pos.seq);
  if (ec != std::errc() || end != s.data() + s.size()) return Malformed(text);
  return pos;
}

Result<std::optional<CursorPosition>> ReadCursorFile(const std::string& path,
                                                     const JournalId* journal) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<CursorPosition>();
    return ErrnoStatus(errno, "open", path);
  }
  std::string text;
  char buf[1024];
  Status status;
  while (text.size() <= kMaxFileBytes) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = ErrnoStatus(errno, "read", path);
      break;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (!status.ok()) return status;
  if (text.size() > kMaxFileBytes) {
    return Status::Corruption("cursor file " + path + ": longer than a cursor");
  }
  Result<CursorPosition> pos = ParseCursor(text);
  if (!pos) return Status::Corruption("cursor file " + path + ": " + pos.error().message());
  if (journal != nullptr && !(pos->journal_id == *journal)) {
    return Status::InvalidArgument("cursor file " + path + " belongs to journal " +
                                   pos->journal_id.Hex() + ", not to this journal " +
                                   journal->Hex() +
                                   " (was the journal recreated?); delete the file to start over");
  }
  return std::optional<CursorPosition>(*pos);
}

Status WriteCursorFile(const std::string& path, const CursorPosition& pos) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, "open", tmp);
  Status status = WriteAll(fd, FormatCursor(pos) + "\n", tmp);
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoStatus(errno, "fsync", tmp);
  if (::close(fd) != 0 && status.ok()) status = ErrnoStatus(errno, "close", tmp);
  if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus(errno, "rename", path);
  }
  if (!status.ok()) {
    ::unlink(tmp.c_str());
    return status;
  }
  // Best effort: makes the rename durable. Either way the file is whole.
  int dir = ::open(DirName(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return Status::Ok();
}

}  // namespace ferry
