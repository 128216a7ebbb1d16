#include "journal/format.h"

#include "journal/coding.h"

namespace ferry::format {
namespace {

bool GetPath(coding::Decoder* d, std::string* out, const char* field) {
  std::string_view bytes;
  if (!d->GetBytes(&bytes, kMaxPathBytes, field)) return false;
  if (bytes.find('\0') != std::string_view::npos) return d->Fail(field, "contains a NUL byte");
  out->assign(bytes);
  return true;
}

bool GetVersion(coding::Decoder* d) {
  uint8_t version = 0;
  if (!d->GetU8(&version, "version")) return false;
  if (version != kVersion) {
    return d->Fail("version", std::to_string(version) + " is not supported (this build reads " +
                                  std::to_string(kVersion) + ")");
  }
  return true;
}

// Decodes the fields every event value starts with; leaves `d` at the path.
bool GetHeader(coding::Decoder* d, EventHeader* h, uint8_t* flags) {
  uint8_t kind = 0;
  uint64_t time = 0;
  if (!GetVersion(d) || !d->GetU8(&kind, "kind")) return false;
  if (kind < kMinEventKind || kind > kMaxEventKind) {
    return d->Fail("kind", std::to_string(kind) + " is unknown");
  }
  if (!d->GetU8(flags, "flags")) return false;
  if ((*flags & ~(kIsDir | kHasOldPath)) != 0) return d->Fail("flags", "has unknown bits");
  if (!d->GetFixed64(&time, "time_ns") || !d->GetVarint32(&h->destination, "destination")) {
    return false;
  }
  h->kind = static_cast<EventKind>(kind);
  h->time_ns = static_cast<int64_t>(time);
  return true;
}

std::string PrefixedKey(char tag, std::string_view target) {
  std::string key(1, tag);
  key.append(target);
  return key;
}

}  // namespace

std::string EncodeFixed64BE(uint64_t v) {
  std::string out;
  coding::PutFixed64BE(&out, v);
  return out;
}

Result<uint64_t> DecodeFixed64BE(std::string_view bytes) {
  coding::Decoder d(bytes, "fixed64be");
  uint64_t v = 0;
  d.GetFixed64BE(&v, "value");
  if (!d.ExpectEnd()) return d.status();
  return v;
}

std::string EncodeFixed32(uint32_t v) {
  std::string out;
  coding::PutFixed32(&out, v);
  return out;
}

Result<uint32_t> DecodeFixed32(std::string_view bytes) {
  coding::Decoder d(bytes, "fixed32");
  uint32_t v = 0;
  d.GetFixed32(&v, "value");
  if (!d.ExpectEnd()) return d.status();
  return v;
}

std::string EventKey(uint64_t seq) { return EncodeFixed64BE(seq); }

Result<uint64_t> DecodeEventKey(std::string_view key) {
  coding::Decoder d(key, "event key");
  uint64_t seq = 0;
  d.GetFixed64BE(&seq, "seq");
  if (!d.ExpectEnd()) return d.status();
  return seq;
}

Status ValidateEvent(const Event& e) {
  auto check_path = [](std::string_view path, const char* name) -> Status {
    if (path.size() > kMaxPathBytes) {
      return Status::InvalidArgument(std::string(name) + " is " + std::to_string(path.size()) +
                                     " bytes; the limit is " + std::to_string(kMaxPathBytes));
    }
    if (path.find('\0') != std::string_view::npos) {
      return Status::InvalidArgument(std::string(name) + " contains a NUL byte");
    }
    return Status::Ok();
  };
  auto kind = static_cast<uint8_t>(e.kind);
  if (kind < kMinEventKind || kind > kMaxEventKind) {
    return Status::InvalidArgument("event kind " + std::to_string(kind) + " is unknown");
  }
  FERRY_RETURN_IF_ERROR(check_path(e.path, "path"));
  FERRY_RETURN_IF_ERROR(check_path(e.old_path, "old_path"));
  if (e.kind == EventKind::kMove && e.old_path.empty()) {
    return Status::InvalidArgument("a move event needs old_path");
  }
  if (e.kind != EventKind::kMove && !e.old_path.empty()) {
    return Status::InvalidArgument("only a move event has old_path");
  }
  return Status::Ok();
}

void AppendEventValue(const Event& e, std::string* out) {
  uint8_t flags = (e.is_dir ? kIsDir : 0) | (e.old_path.empty() ? 0 : kHasOldPath);
  out->push_back(static_cast<char>(kVersion));
  out->push_back(static_cast<char>(e.kind));
  out->push_back(static_cast<char>(flags));
  coding::PutFixed64(out, static_cast<uint64_t>(e.time_ns));
  coding::PutVarint32(out, e.destination);
  coding::PutBytes(out, e.path);
  if (!e.old_path.empty()) coding::PutBytes(out, e.old_path);
}

std::string EncodeEventValue(const Event& e) {
  std::string out;
  out.reserve(16 + e.path.size() + e.old_path.size());
  AppendEventValue(e, &out);
  return out;
}

Result<EventHeader> DecodeEventHeader(std::string_view value) {
  coding::Decoder d(value, "event");
  EventHeader h{};
  uint8_t flags = 0;
  if (!GetHeader(&d, &h, &flags)) return d.status();
  return h;
}

Result<Event> DecodeEventValue(uint64_t seq, std::string_view value) {
  coding::Decoder d(value, "event " + std::to_string(seq));
  EventHeader h{};
  uint8_t flags = 0;
  Event e;
  e.seq = seq;
  if (!GetHeader(&d, &h, &flags) || !GetPath(&d, &e.path, "path")) return d.status();
  if ((flags & kHasOldPath) != 0) {
    if (!GetPath(&d, &e.old_path, "old_path")) return d.status();
    if (e.old_path.empty()) d.Fail("old_path", "is flagged but empty");
  }
  if (((flags & kHasOldPath) != 0) != (h.kind == EventKind::kMove)) {
    d.Fail("old_path", "present on a non-move event or missing on a move");
  }
  if (!d.ExpectEnd()) return d.status();
  e.kind = h.kind;
  e.time_ns = h.time_ns;
  e.destination = h.destination;
  e.is_dir = (flags & kIsDir) != 0;
  return e;
}

std::string CursorKey(std::string_view target) { return PrefixedKey('c', target); }
std::string StatsKey(std::string_view target) { return PrefixedKey('s', target); }
std::string PauseKey(std::string_view target) { return PrefixedKey('p', target); }

std::string EncodeCursor(const Cursor& c) {
  std::string out(1, static_cast<char>(kVersion));
  out.append(reinterpret_cast<const char*>(c.journal_id.bytes.data()), c.journal_id.bytes.size());
  coding::PutFixed64(&out, c.seq);
  coding::PutVarint32(&out, c.destination);
  out.push_back(static_cast<char>(c.expired ? 1 : 0));
  return out;
}

Result<Cursor> DecodeCursor(std::string_view value) {
  coding::Decoder d(value, "cursor");
  Cursor c;
  std::string_view id;
  uint8_t flags = 0;
  if (GetVersion(&d) && d.GetRaw(c.journal_id.bytes.size(), &id, "journal_id") &&
      d.GetFixed64(&c.seq, "seq") && d.GetVarint32(&c.destination, "destination") &&
      d.GetU8(&flags, "flags") && (flags & ~1u) != 0) {
    d.Fail("flags", "has unknown bits");
  }
  if (!d.ExpectEnd()) return d.status();
  std::copy(id.begin(), id.end(), reinterpret_cast<char*>(c.journal_id.bytes.data()));
  c.expired = (flags & 1) != 0;
  return c;
}

std::string EncodeStats(const TargetStats& s) {
  std::string out(1, static_cast<char>(kVersion));
  coding::PutVarint64(&out, s.events);
  coding::PutVarint64(&out, s.bytes);
  coding::PutFixed64(&out, static_cast<uint64_t>(s.last_success_ns));
  coding::PutFixed64(&out, static_cast<uint64_t>(s.last_error_ns));
  coding::PutBytes(&out, std::string_view(s.last_error).substr(0, kMaxErrorBytes));
  return out;
}

Result<TargetStats> DecodeStats(std::string_view value) {
  coding::Decoder d(value, "target stats");
  TargetStats s;
  uint64_t ok_ns = 0, err_ns = 0;
  std::string_view error;
  if (GetVersion(&d) && d.GetVarint64(&s.events, "events") && d.GetVarint64(&s.bytes, "bytes") &&
      d.GetFixed64(&ok_ns, "last_success_ns") && d.GetFixed64(&err_ns, "last_error_ns")) {
    d.GetBytes(&error, kMaxErrorBytes, "last_error");
  }
  if (!d.ExpectEnd()) return d.status();
  s.last_success_ns = static_cast<int64_t>(ok_ns);
  s.last_error_ns = static_cast<int64_t>(err_ns);
  s.last_error.assign(error);
  return s;
}

std::string EncodePause(const PauseMark& p) {
  std::string out(1, static_cast<char>(kVersion));
  coding::PutFixed64(&out, static_cast<uint64_t>(p.since_ns));
  coding::PutVarint32(&out, p.uid);
  coding::PutVarint32(&out, static_cast<uint32_t>(p.pid));
  return out;
}

Result<PauseMark> DecodePause(std::string_view value) {
  coding::Decoder d(value, "pause");
  PauseMark p;
  uint64_t since = 0;
  uint32_t pid = 0;
  if (GetVersion(&d) && d.GetFixed64(&since, "since_ns") && d.GetVarint32(&p.uid, "uid")) {
    d.GetVarint32(&pid, "pid");
  }
  if (!d.ExpectEnd()) return d.status();
  p.since_ns = static_cast<int64_t>(since);
  p.pid = static_cast<int32_t>(pid);
  return p;
}

Status ValidateCatalogChange(const CatalogChange& c) {
  if (c.op == CatalogChange::Op::kPut && c.path.empty()) return Status::Ok();  // the root
  auto check = [](std::string_view path, const char* name) -> Status {
    if (path.empty() || path.size() > kMaxPathBytes || path.front() == '/' || path.back() == '/' ||
        path.find('\0') != std::string_view::npos) {
      return Status::InvalidArgument(std::string("catalog ") + name +
                                     " must be a relative path without NUL or end slashes");
    }
    return Status::Ok();
  };
  FERRY_RETURN_IF_ERROR(check(c.path, "path"));
  if (c.op == CatalogChange::Op::kMove) return check(c.old_path, "old_path");
  if (!c.old_path.empty()) return Status::InvalidArgument("only a catalog move has old_path");
  return Status::Ok();
}

std::string CatalogKey(uint32_t destination, std::string_view path) {
  std::string key;
  key.reserve(4 + path.size());
  for (int i = 3; i >= 0; --i) key.push_back(static_cast<char>((destination >> (8 * i)) & 0xff));
  for (char c : path) key.push_back(c == '/' ? '\0' : c);
  return key;
}

std::string CatalogSubtreeStart(uint32_t destination, std::string_view path) {
  std::string key = CatalogKey(destination, path);
  if (!path.empty()) key.push_back('\0');
  return key;
}

std::string CatalogSubtreeLimit(uint32_t destination, std::string_view path) {
  if (path.empty()) return CatalogKey(destination + 1, "");  // a whole destination
  std::string key = CatalogKey(destination, path);
  key.push_back('\1');
  return key;
}

std::string CatalogKeyPath(std::string_view key) {
  std::string path(key.substr(std::min<size_t>(4, key.size())));
  for (char& c : path) {
    if (c == '\0') c = '/';
  }
  return path;
}

std::string EncodeFileState(const FileState& s) {
  std::string out(1, static_cast<char>(kVersion));
  coding::PutVarint64(&out, s.inode);
  coding::PutVarint64(&out, s.size);
  coding::PutFixed64(&out, static_cast<uint64_t>(s.mtime_ns));
  coding::PutFixed64(&out, static_cast<uint64_t>(s.ctime_ns));
  coding::PutVarint32(&out, s.mode);
  coding::PutFixed64(&out, static_cast<uint64_t>(s.seen_ns));
  return out;
}

Result<FileState> DecodeFileState(std::string_view value) {
  coding::Decoder d(value, "catalog entry");
  FileState s;
  uint64_t mtime = 0, ctime = 0, seen = 0;
  if (GetVersion(&d) && d.GetVarint64(&s.inode, "inode") && d.GetVarint64(&s.size, "size") &&
      d.GetFixed64(&mtime, "mtime_ns") && d.GetFixed64(&ctime, "ctime_ns") &&
      d.GetVarint32(&s.mode, "mode")) {
    d.GetFixed64(&seen, "seen_ns");
  }
  if (!d.ExpectEnd()) return d.status();
  s.mtime_ns = static_cast<int64_t>(mtime);
  s.ctime_ns = static_cast<int64_t>(ctime);
  s.seen_ns = static_cast<int64_t>(seen);
  return s;
}

std::string DeadLetterPrefix(std::string_view target) {
  std::string key(target);
  key.push_back('\0');
  return key;
}

std::string DeadLetterKey(std::string_view target, uint64_t seq) {
  std::string key = DeadLetterPrefix(target);
  coding::PutFixed64BE(&key, seq);
  return key;
}

std::string EncodeDeadLetterValue(const DeadLetter& l) {
  std::string out(1, static_cast<char>(kVersion));
  coding::PutVarint32(&out, l.attempts);
  coding::PutFixed64(&out, static_cast<uint64_t>(l.first_failed_ns));
  coding::PutFixed64(&out, static_cast<uint64_t>(l.last_failed_ns));
  coding::PutBytes(&out, std::string_view(l.error).substr(0, kMaxErrorBytes));
  coding::PutBytes(&out, EncodeEventValue(l.event));
  return out;
}

Result<DeadLetter> DecodeDeadLetter(std::string_view key, std::string_view value) {
  size_t nul = key.find('\0');
  if (nul == std::string_view::npos || key.size() - nul - 1 != 8) {
    return Status::Corruption("dead letter key: expected target NUL seq:fixed64be");
  }
  auto seq = DecodeFixed64BE(key.substr(nul + 1));
  if (!seq) return seq.error();

  coding::Decoder d(value, "dead letter " + std::to_string(*seq));
  DeadLetter l;
  uint64_t first = 0, last = 0;
  std::string_view error, event;
  if (GetVersion(&d) && d.GetVarint32(&l.attempts, "attempts") &&
      d.GetFixed64(&first, "first_failed_ns") && d.GetFixed64(&last, "last_failed_ns") &&
      d.GetBytes(&error, kMaxErrorBytes, "error")) {
    d.GetBytes(&event, UINT32_MAX, "event");
  }
  if (!d.ExpectEnd()) return d.status();
  auto decoded = DecodeEventValue(*seq, event);
  if (!decoded) return decoded.error();
  l.target.assign(key.substr(0, nul));
  l.event = std::move(*decoded);
  l.error.assign(error);
  l.first_failed_ns = static_cast<int64_t>(first);
  l.last_failed_ns = static_cast<int64_t>(last);
  return l;
}

}  // namespace ferry::format
