#include "watch/inotify_parse.h"

#include <sys/inotify.h>

#include <array>
#include <cstring>
#include <utility>

#include "watch/mask_name.h"

namespace ferry {

Result<size_t> ParseInotifyBuffer(std::span<const uint8_t> buffer,
                                  std::vector<InotifyRecord>* out) {
  constexpr size_t kHeader = sizeof(inotify_event);
  size_t pos = 0;
  while (pos < buffer.size()) {
    if (buffer.size() - pos < kHeader) {
      return Status::Corruption("inotify buffer: " + std::to_string(buffer.size() - pos) +
                                " stray bytes at offset " + std::to_string(pos));
    }
    inotify_event header;
    std::memcpy(&header, buffer.data() + pos, kHeader);  // the buffer may be unaligned
    if (header.len > buffer.size() - pos - kHeader) {
      return Status::Corruption("inotify buffer: record at offset " + std::to_string(pos) +
                                " has name length " + std::to_string(header.len) + " past the end");
    }
    const char* name = reinterpret_cast<const char*>(buffer.data() + pos + kHeader);
    InotifyRecord r{header.wd, header.mask, header.cookie,
                    std::string(name, strnlen(name, header.len))};
    out->push_back(std::move(r));
    pos += kHeader + header.len;
  }
  return pos;
}

std::string InotifyMaskName(uint32_t mask) {
  static constexpr std::array<std::pair<uint64_t, const char*>, 19> kBits{{
      {IN_ACCESS, "IN_ACCESS"},
      {IN_MODIFY, "IN_MODIFY"},
      {IN_ATTRIB, "IN_ATTRIB"},
      {IN_CLOSE_WRITE, "IN_CLOSE_WRITE"},
      {IN_CLOSE_NOWRITE, "IN_CLOSE_NOWRITE"},
      {IN_OPEN, "IN_OPEN"},
      {IN_MOVED_FROM, "IN_MOVED_FROM"},
      {IN_MOVED_TO, "IN_MOVED_TO"},
      {IN_CREATE, "IN_CREATE"},
      {IN_DELETE, "IN_DELETE"},
      {IN_DELETE_SELF, "IN_DELETE_SELF"},
      {IN_MOVE_SELF, "IN_MOVE_SELF"},
      {IN_UNMOUNT, "IN_UNMOUNT"},
      {IN_Q_OVERFLOW, "IN_Q_OVERFLOW"},
      {IN_IGNORED, "IN_IGNORED"},
      {IN_ISDIR, "IN_ISDIR"},
      {IN_ONLYDIR, "IN_ONLYDIR"},
      {IN_DONT_FOLLOW, "IN_DONT_FOLLOW"},
      {IN_EXCL_UNLINK, "IN_EXCL_UNLINK"},
  }};
  return MaskName(mask, kBits);
}

}  // namespace ferry
