// The journal's on-disk format: every byte ferry stores in RocksDB.
//
// Integers are little-endian unless marked "be". varint is LEB128 (as in
// leveldb). Column families and their records:
//
// events    key   := seq:fixed64be                 bytewise order == seq order
//           value := event
//           event := version:u8 (=1) kind:u8 flags:u8 time_ns:fixed64 destination:varint32
//                    path:bytes [old_path:bytes]     old_path iff flags has kHasOldPath
//           flags := bit0 is_dir | bit1 has_old_path; bits 2..7 must be 0
//           kind  := 1 create | 2 modify | 3 attrib | 4 delete | 5 move | 6 rescan | 7 full_sync
//           bytes := length:varint32 byte{length}   for paths: no NUL, length <= kMaxPathBytes
//
// cursors   key   := 'c' target                     value := cursor
//           key   := 's' target                     value := stats
//           cursor := version:u8 (=1) journal_id:byte{16} seq:fixed64 destination:varint32
//                     flags:u8 (bit0 expired)
//           stats := version:u8 (=1) events:varint64 bytes:varint64 last_success_ns:fixed64
//                    last_error_ns:fixed64 last_error:bytes
//
// dead      key   := target 0x00 seq:fixed64be      target names never contain NUL
//           value := version:u8 (=1) attempts:varint32 first_failed_ns:fixed64
//                    last_failed_ns:fixed64 error:bytes event_value:bytes
//
// catalog   key   := destination:fixed32be path_key  path_key := the path with each '/' as 0x00,
//                                                    so key order is a depth-first walk with
//                                                    each directory's names in byte order
//           value := version:u8 (=1) inode:varint64 size:varint64 mtime_ns:fixed64
//                    ctime_ns:fixed64 mode:varint32 seen_ns:fixed64
//           The empty path (the key is the destination alone) is the root: it
//           marks a catalog that was written once, even for an empty tree.
//
// meta      "journal_id" -> byte{16}             random, made when the journal is created
//           "format"     -> version:u8 (=1)      the version of this grammar
//           "last_seq"   -> fixed64be            highest seq ever assigned; survives trimming
//           "trimmed_upto" -> fixed64be          every seq <= this was trimmed (absent: none)
//           "dest/" name -> id:fixed32           destination name registry
//
// default   "anchor" -> empty                    written without the WAL and never read: keeps
//                                                a memtable non-empty (rocks_health.cc)
//
// A decoder never reads past its input and never crashes: truncated or damaged
// bytes give Status::Corruption naming what is wrong and where.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "journal/catalog.h"
#include "journal/event.h"
#include "journal/types.h"

namespace ferry::format {

inline constexpr uint8_t kVersion = 1;
inline constexpr size_t kMaxPathBytes = 64 * 1024;
inline constexpr size_t kMaxErrorBytes = 64 * 1024;  // longer error texts are cut

inline constexpr uint8_t kIsDir = 1 << 0;
inline constexpr uint8_t kHasOldPath = 1 << 1;

std::string EventKey(uint64_t seq);
Result<uint64_t> DecodeEventKey(std::string_view key);

// Checks what Append requires of an event (no NUL in paths, sizes, old_path
// iff move) and says what is wrong; InvalidArgument otherwise.
Status ValidateEvent(const Event& event);
// Encodes everything but the seq, which lives in the key. The event must pass
// ValidateEvent.
void AppendEventValue(const Event& event, std::string* out);
std::string EncodeEventValue(const Event& event);
// Decodes a value written by AppendEventValue; the result's seq is `seq`.
Result<Event> DecodeEventValue(uint64_t seq, std::string_view value);
// Reads only the header fields, for cheap filtering while scanning.
struct EventHeader {
  EventKind kind;
  int64_t time_ns;
  uint32_t destination;
};
Result<EventHeader> DecodeEventHeader(std::string_view value);

std::string CursorKey(std::string_view target);
std::string StatsKey(std::string_view target);
std::string EncodeCursor(const Cursor& cursor);
Result<Cursor> DecodeCursor(std::string_view value);
std::string EncodeStats(const TargetStats& stats);
Result<TargetStats> DecodeStats(std::string_view value);
std::string PauseKey(std::string_view target);
std::string EncodePause(const PauseMark& pause);
Result<PauseMark> DecodePause(std::string_view value);

// Dead-letter keys sort by target, then by seq.
std::string DeadLetterKey(std::string_view target, uint64_t seq);
std::string DeadLetterPrefix(std::string_view target);
Result<DeadLetter> DecodeDeadLetter(std::string_view key, std::string_view value);
std::string EncodeDeadLetterValue(const DeadLetter& letter);

// Checks a catalog change as ValidateEvent checks an event: paths without
// NUL, not empty, no leading or trailing '/'; old_path iff move.
Status ValidateCatalogChange(const CatalogChange& change);
std::string CatalogKey(uint32_t destination, std::string_view path);
// Every key below `path` (not `path` itself): [first, limit).
std::string CatalogSubtreeStart(uint32_t destination, std::string_view path);
std::string CatalogSubtreeLimit(uint32_t destination, std::string_view path);
// The path of a catalog key, given its destination prefix was checked.
std::string CatalogKeyPath(std::string_view key);
std::string EncodeFileState(const FileState& state);
Result<FileState> DecodeFileState(std::string_view value);

std::string EncodeFixed64BE(uint64_t v);
Result<uint64_t> DecodeFixed64BE(std::string_view bytes);
std::string EncodeFixed32(uint32_t v);
Result<uint32_t> DecodeFixed32(std::string_view bytes);

}  // namespace ferry::format
