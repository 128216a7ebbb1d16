// journal_writer_child: a single-writer helper for the cross-process journal
// tests (fault/journal_crash_test.cc, integration/journal_secondary_test.cc).
// Not a gtest binary: the tests start it with posix_spawn, read its acks and
// kill it or close its stdin.
//
// Usage: journal_writer_child DIR [--flag=value...]
//   --sync=group|always|off  the journal's SyncMode (default group)
//   --max-batch=N            each Append carries 1..N events, drawn at random (default 50)
//   --seed=N                 seeds the batch sizes (default 1)
//   --dest                   registers destination "d" and tags events with its id (else 0)
//   --flush-every=N          calls Flush() after every N Appends (default 0: never)
//   --count=N                stops after appending N events (default 0: until killed);
//                            the last batch is cut to fit
//   --pause-at=N             once N events are appended, prints "paused" and waits for a
//                            byte (or EOF) on stdin before it goes on
//   --cursor=TARGET          with --count: then sets TARGET's cursor to the last seq
//   --hold                   with --count: then keeps the journal open until stdin closes
//
// Output on stdout, one write(2) per line, so a line the parent read was
// really written after the journal acknowledged it:
//   "FIRST LAST\n"   after each Append returned OK: the seqs it assigned
//   "paused LAST\n"  at --pause-at
//   "done LAST\n"    after --count events (and --cursor), before --hold
//
// Every event's content is a function of its seq (ExpectedEvent in
// tests/lib/expected_event.h, which the tests share), so a reader can check
// each one.
//
// Exit codes: 0 done, 2 bad usage, 3 Append assigned unexpected seqs, 4 a
// journal call failed, 5 stdout is gone.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "journal/journal.h"
#include "tests/lib/expected_event.h"

namespace {

using ferry::Event;
using ferry::testing::ExpectedEvent;

struct Flags {
  std::string dir;
  ferry::SyncMode sync = ferry::SyncMode::kGroup;
  uint64_t max_batch = 50;
  uint64_t seed = 1;
  bool dest = false;
  uint64_t flush_every = 0;
  uint64_t count = 0;
  uint64_t pause_at = 0;
  std::string cursor;
  bool hold = false;
};

[[noreturn]] void Die(int code, const std::string& why) {
  std::fprintf(stderr, "journal_writer_child: %s\n", why.c_str());
  std::exit(code);
}

uint64_t ParseNumber(std::string_view flag, std::string_view value) {
  if (value.empty()) Die(2, "missing number in " + std::string(flag));
  uint64_t n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') Die(2, "bad number in " + std::string(flag));
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

Flags ParseFlags(int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') Die(2, "usage: journal_writer_child DIR [--flag=value...]");
  Flags f;
  f.dir = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string_view arg = argv[i];
    size_t eq = arg.find('=');
    std::string_view name = arg.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : arg.substr(eq + 1);
    if (name == "--sync") {
      auto mode = ferry::ParseSyncMode(value);
      if (!mode) Die(2, "bad --sync: " + std::string(value));
      f.sync = *mode;
    } else if (name == "--max-batch") {
      f.max_batch = ParseNumber(name, value);
      if (f.max_batch == 0) Die(2, "--max-batch must be at least 1");
    } else if (name == "--seed") {
      f.seed = ParseNumber(name, value);
    } else if (name == "--dest") {
      f.dest = true;
    } else if (name == "--flush-every") {
      f.flush_every = ParseNumber(name, value);
    } else if (name == "--count") {
      f.count = ParseNumber(name, value);
    } else if (name == "--pause-at") {
      f.pause_at = ParseNumber(name, value);
    } else if (name == "--cursor") {
      f.cursor = value;
    } else if (name == "--hold") {
      f.hold = true;
    } else {
      Die(2, "unknown flag " + std::string(arg));
    }
  }
  if ((f.hold || !f.cursor.empty()) && f.count == 0) Die(2, "--hold and --cursor need --count");
  return f;
}

// Writes one whole line to fd 1 with write(2), bypassing stdio buffers.
void WriteLine(const std::string& line) {
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = write(STDOUT_FILENO, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) Die(5, "write to stdout failed");
    done += static_cast<size_t>(n);
  }
}

// Blocks until stdin yields a byte or ends.
void WaitForStdin() {
  char c;
  while (read(STDIN_FILENO, &c, 1) < 0 && errno == EINTR) {
  }
}

void Check(const ferry::Status& s, const char* what) {
  if (!s.ok()) Die(4, std::string(what) + ": " + s.ToString());
}

}  // namespace

int main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  auto opened = ferry::Journal::Open({.dir = flags.dir, .sync = flags.sync});
  Check(opened.error(), "open");
  std::unique_ptr<ferry::Journal> journal = std::move(*opened);

  uint32_t destination = 0;
  if (flags.dest) {
    auto id = journal->DestinationId("d");
    Check(id.error(), "register destination d");
    destination = *id;
  }

  std::mt19937_64 rng(flags.seed);
  uint64_t appended = 0;
  uint64_t appends = 0;
  while (flags.count == 0 || appended < flags.count) {
    uint64_t size = 1 + rng() % flags.max_batch;
    if (flags.count != 0) size = std::min(size, flags.count - appended);
    // The only writer, so the journal assigns exactly the seqs after its head.
    const uint64_t first = journal->LastSeq() + 1;
    std::vector<Event> batch;
    batch.reserve(size);
    for (uint64_t seq = first; seq < first + size; ++seq) {
      Event e = ExpectedEvent(seq, destination);
      e.seq = 0;  // Append assigns it
      batch.push_back(std::move(e));
    }
    auto range = journal->Append(std::move(batch));
    Check(range.error(), "append");
    if (range->first != first || range->last != first + size - 1) {
      Die(3, "appended " + std::to_string(size) + " events expecting seqs from " +
                 std::to_string(first) + ", got " + std::to_string(range->first) + ".." +
                 std::to_string(range->last));
    }
    WriteLine(std::to_string(range->first) + " " + std::to_string(range->last) + "\n");
    const uint64_t before = appended;
    appended += size;
    if (flags.pause_at != 0 && before < flags.pause_at && appended >= flags.pause_at) {
      WriteLine("paused " + std::to_string(range->last) + "\n");
      WaitForStdin();
    }
    if (flags.flush_every != 0 && ++appends % flags.flush_every == 0) {
      Check(journal->Flush(), "flush");
    }
  }

  if (!flags.cursor.empty()) {
    Check(journal->SetCursor(flags.cursor, destination, journal->LastSeq()), "set cursor");
  }
  WriteLine("done " + std::to_string(journal->LastSeq()) + "\n");
  if (flags.hold) {
    char buf[256];
    while (true) {
      ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
      if (n == 0 || (n < 0 && errno != EINTR)) break;
    }
  }
  return 0;
}
