// `ferryctl log --cursor-file FILE`, as journalctl's: the file remembers
// where the last run stopped, so the next run shows only newer events.
//
// A position names its journal (journal ids are random per journal, see
// journal/types.h), so a file written against another journal (the journal
// directory was recreated, or the file belongs to another host) is refused
// rather than silently skipping or repeating events. Sequence numbers are
// journal-wide, so one position covers every destination.
//
// File format, one line of ASCII:
//   ferry-cursor v1 journal=<32 lowercase hex digits> seq=<decimal>\n
// The same text (without the newline) is what --show-cursor style output
// and --cursor / --after-cursor take: see FormatCursor / ParseCursor.
//
// Blocking file I/O; no shared state, so safe from any thread (two processes
// writing the same file race, last rename wins, and neither sees a torn file).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "journal/types.h"

namespace ferry {

// The last event shown: resume after `seq` of journal `journal_id`.
struct CursorPosition {
  JournalId journal_id;
  uint64_t seq = 0;
  friend bool operator==(const CursorPosition&, const CursorPosition&) = default;
};

// "ferry-cursor v1 journal=<hex> seq=<n>", no newline.
std::string FormatCursor(const CursorPosition& pos);
// Inverse of FormatCursor; trailing whitespace (the file's newline) is
// ignored. InvalidArgument quoting the text and showing the expected form.
Result<CursorPosition> ParseCursor(std::string_view text);

// Reads `path`. nullopt when the file does not exist (a first run: start
// from the other options). Corruption when it does not parse (naming the
// file), IOError when it cannot be read. When `journal` is given, a position
// from another journal is InvalidArgument naming both ids and the file, with
// the advice to delete it.
Result<std::optional<CursorPosition>> ReadCursorFile(const std::string& path,
                                                     const JournalId* journal = nullptr);

// Replaces `path` atomically: writes "<path>.tmp.<pid>" in the same
// directory, fsyncs it, renames it over `path` and fsyncs the directory
// (best effort: some file systems refuse). On failure `path` is left as it
// was and the temp file is removed; the Status (via ErrnoStatus) names the
// call and file: NotFound when the directory is missing, else mostly IOError.
Status WriteCursorFile(const std::string& path, const CursorPosition& pos);

}  // namespace ferry
