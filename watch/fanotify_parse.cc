#include "watch/fanotify_parse.h"

#include <fcntl.h>
#include <sys/fanotify.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <utility>

#include "watch/mask_name.h"

namespace ferry {
namespace {

Status Damaged(size_t at, const std::string& what) {
  return Status::Corruption("fanotify buffer: " + what + " at offset " + std::to_string(at));
}

// One FID info record's body (after its header): fsid, struct file_handle,
// then the NUL-terminated name. `at` is the record's offset, for messages.
Status ParseDfidName(std::span<const uint8_t> body, size_t at, FanotifyEntry* entry) {
  constexpr size_t kFsid = kDirKeyFsidBytes;
  static_assert(sizeof(__kernel_fsid_t) == kFsid);
  constexpr size_t kHandleHeader = 2 * sizeof(uint32_t);  // handle_bytes, handle_type
  if (body.size() < kFsid + kHandleHeader) return Damaged(at, "a short file-handle record");
  uint32_t handle_bytes = 0;
  std::memcpy(&handle_bytes, body.data() + kFsid, sizeof handle_bytes);
  const size_t handle_end = kFsid + kHandleHeader + handle_bytes;
  if (handle_bytes > body.size() || handle_end > body.size()) {
    return Damaged(at, "a file handle of " + std::to_string(handle_bytes) + " bytes past its record");
  }
  entry->dir.assign(reinterpret_cast<const char*>(body.data()), handle_end);
  const char* name = reinterpret_cast<const char*>(body.data() + handle_end);
  const size_t room = body.size() - handle_end;
  const size_t len = strnlen(name, room);
  if (len == room) return Damaged(at, "a name without its NUL");
  entry->name.assign(name, len);
  return Status::Ok();
}

}  // namespace

Result<size_t> ParseFanotifyBuffer(std::span<const uint8_t> buffer,
                                   std::vector<FanotifyRecord>* out) {
  constexpr size_t kMeta = sizeof(fanotify_event_metadata);
  constexpr size_t kInfo = sizeof(fanotify_event_info_header);
  size_t pos = 0;
  while (pos < buffer.size()) {
    if (buffer.size() - pos < kMeta) {
      return Damaged(pos, std::to_string(buffer.size() - pos) + " stray bytes");
    }
    fanotify_event_metadata meta;
    std::memcpy(&meta, buffer.data() + pos, kMeta);  // the buffer may be unaligned
    if (meta.vers != FANOTIFY_METADATA_VERSION) {
      return Damaged(pos, "metadata version " + std::to_string(meta.vers) + " (built for " +
                              std::to_string(FANOTIFY_METADATA_VERSION) + ")");
    }
    if (meta.event_len < meta.metadata_len || meta.metadata_len < kMeta ||
        meta.event_len > buffer.size() - pos) {
      return Damaged(pos, "an event of " + std::to_string(meta.event_len) + " bytes");
    }
    FanotifyRecord r{.mask = meta.mask, .pid = meta.pid};
    const size_t end = pos + meta.event_len;
    for (size_t info = pos + meta.metadata_len; info < end;) {
      if (end - info < kInfo) return Damaged(info, "a short info header");
      fanotify_event_info_header h;
      std::memcpy(&h, buffer.data() + info, kInfo);
      if (h.len < kInfo || h.len > end - info) {
        return Damaged(info, "an info record of " + std::to_string(h.len) + " bytes");
      }
      const std::span<const uint8_t> body = buffer.subspan(info + kInfo, h.len - kInfo);
      Status s;
      switch (h.info_type) {
        case FAN_EVENT_INFO_TYPE_DFID_NAME:
        case FAN_EVENT_INFO_TYPE_NEW_DFID_NAME:
          s = ParseDfidName(body, info, &r.entry);
          break;
        case FAN_EVENT_INFO_TYPE_OLD_DFID_NAME:
          s = ParseDfidName(body, info, &r.from);
          break;
        default:  // not asked for, or not needed
          break;
      }
      if (!s.ok()) return s;
      info += h.len;
    }
    // An event made with a descriptor (never asked for) must not leak it.
    if (meta.fd >= 0) close(meta.fd);
    out->push_back(std::move(r));
    pos = end;
  }
  return pos;
}

std::string FanotifyMaskName(uint64_t mask) {
  static constexpr std::array<std::pair<uint64_t, const char*>, 12> kBits{{
      {FAN_MODIFY, "FAN_MODIFY"},
      {FAN_ATTRIB, "FAN_ATTRIB"},
      {FAN_CLOSE_WRITE, "FAN_CLOSE_WRITE"},
      {FAN_MOVED_FROM, "FAN_MOVED_FROM"},
      {FAN_MOVED_TO, "FAN_MOVED_TO"},
      {FAN_CREATE, "FAN_CREATE"},
      {FAN_DELETE, "FAN_DELETE"},
      {FAN_DELETE_SELF, "FAN_DELETE_SELF"},
      {FAN_MOVE_SELF, "FAN_MOVE_SELF"},
      {FAN_RENAME, "FAN_RENAME"},
      {FAN_Q_OVERFLOW, "FAN_Q_OVERFLOW"},
      {FAN_ONDIR, "FAN_ONDIR"},
  }};
  return MaskName(mask, kBits);
}

}  // namespace ferry
