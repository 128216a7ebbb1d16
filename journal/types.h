// Plain records the journal stores besides events: cursors, per-target
// delivery statistics and dead letters. Encoded by format.h.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "journal/event.h"

namespace ferry {

// Identifies one journal for its whole life: 16 random bytes made at creation.
// A cursor made against another journal_id is meaningless here.
struct JournalId {
  std::array<uint8_t, 16> bytes{};
  std::string Hex() const;  // 32 lowercase hex digits
  friend bool operator==(const JournalId&, const JournalId&) = default;
};

// How far a target has received its destination's events: every event of
// `destination` with seq <= `seq` is delivered or dead-lettered. seq 0 means
// nothing yet.
struct Cursor {
  JournalId journal_id;
  uint64_t seq = 0;
  uint32_t destination = 0;
  // Set when retention dropped events this target had not received: the
  // target needs a full sync before its cursor means anything again.
  bool expired = false;
  friend bool operator==(const Cursor&, const Cursor&) = default;
};

// Delivery statistics, committed in the same write as the cursor they belong to.
struct TargetStats {
  uint64_t events = 0;          // events delivered, all time
  uint64_t bytes = 0;           // bytes transferred, as reported by the transport
  int64_t last_success_ns = 0;  // wall time of the last delivered batch; 0 = never
  int64_t last_error_ns = 0;    // wall time of the last failure; 0 = never
  std::string last_error;       // the transport's message for that failure
  friend bool operator==(const TargetStats&, const TargetStats&) = default;
};

// An operator's pause of a target, kept in the journal so that it outlives
// a restart of ferryd: the target stays paused until `resume`.
struct PauseMark {
  int64_t since_ns = 0;  // wall time of the pause
  uint32_t uid = 0;      // who paused it, from the control socket's peer
  int32_t pid = 0;
  friend bool operator==(const PauseMark&, const PauseMark&) = default;
};

// An event a target could not take, kept until it is delivered or dropped.
struct DeadLetter {
  std::string target;
  Event event;        // event.seq is the key
  std::string error;  // why, in the transport's words
  uint32_t attempts = 0;
  int64_t first_failed_ns = 0;
  int64_t last_failed_ns = 0;
  friend bool operator==(const DeadLetter&, const DeadLetter&) = default;
};

}  // namespace ferry
