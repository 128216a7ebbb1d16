// ExpectedEvent: the event journal_writer_child (tests/fault/) journals at a
// given seq, so the tests that read what the child wrote can check every
// event. The child builds its events with this same function: this header is
// the one place that defines their content. Describe prints an event for
// failure messages. Header-only; pure functions of their arguments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "journal/escape.h"
#include "journal/event.h"

namespace ferry::testing {

// The event journaled at `seq`: paths of varied length with newlines, 0xff,
// '#' and other odd bytes, every kind, moves with an old_path.
inline Event ExpectedEvent(uint64_t seq, uint32_t destination) {
  Event e;
  e.seq = seq;
  e.time_ns = 1'600'000'000'000'000'000 + static_cast<int64_t>(seq);
  e.destination = destination;
  e.kind = static_cast<EventKind>(kMinEventKind + seq % kMaxEventKind);
  e.is_dir = (seq / 7) % 2 == 1;
  const uint64_t h = seq * 0x9E3779B97F4A7C15ULL;
  size_t fill = (h >> 40) % 64;
  if (seq % 97 == 0) fill = 1000 + (h >> 20) % 3000;
  e.path = "f/" + std::to_string(seq) + "/";
  for (size_t i = 0; i < fill; ++i) e.path.push_back(static_cast<char>('a' + (seq + i) % 26));
  if (seq % 3 == 0) e.path += '\n';
  if (seq % 5 == 0) e.path += "\xff\xfe";
  if (seq % 11 == 0) e.path += "#x";
  e.path.push_back(static_cast<char>(1 + seq % 255));  // any byte but NUL
  if (e.kind == EventKind::kMove) e.old_path = "old/\xff\n#" + std::to_string(seq);
  return e;
}

// Every field of `e` on one line, its paths escaped.
inline std::string Describe(const Event& e) {
  return "{seq " + std::to_string(e.seq) + " time " + std::to_string(e.time_ns) + " dest " +
         std::to_string(e.destination) + " " + std::string(KindName(e.kind)) +
         (e.is_dir ? " dir" : "") + " \"" + EscapePath(e.path) + "\" old \"" +
         EscapePath(e.old_path) + "\"}";
}

}  // namespace ferry::testing
