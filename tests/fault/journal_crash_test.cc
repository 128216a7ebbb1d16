// Crash tests: a writer process (journal_writer_child) appends as fast as it
// can and is killed with SIGKILL at a random moment, again and again on one
// journal directory. After each kill the test reopens the journal and checks
// that every acknowledged event is there and intact, that seqs run from 1 to
// LastSeq() without a gap, and that the next writer goes on right after it.
//
// The kill moment is random: after a random number of acks, or a random
// number of milliseconds after the spawn (which may hit RocksDB's open or
// recovery). The seed is printed; set FERRY_CRASH_SEED to replay a run's
// choices (the timing itself cannot be replayed).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "journal/escape.h"
#include "journal/journal.h"
#include "tests/lib/expected_event.h"
#include "tests/lib/journal_fixture.h"
#include "tests/lib/temp_dir.h"
#include "tests/lib/writer_child.h"

namespace ferry {
namespace {

using Clock = std::chrono::steady_clock;
using ferry::testing::Describe;
using ferry::testing::ExpectedEvent;
using ferry::testing::WriterChild;
using std::chrono::milliseconds;

// How long any single wait on the child may take before the test fails.
constexpr milliseconds kChildTimeout{20'000};

// Parses an ack line "FIRST LAST".
std::optional<SeqRange> ParseAck(const std::string& line) {
  SeqRange r;
  const char* end = line.data() + line.size();
  auto [p, ec] = std::from_chars(line.data(), end, r.first);
  if (ec != std::errc() || p == end || *p != ' ') return std::nullopt;
  auto [q, ec2] = std::from_chars(p + 1, end, r.last);
  if (ec2 != std::errc() || q != end || r.empty()) return std::nullopt;
  return r;
}

uint64_t Seed() {
  const char* env = std::getenv("FERRY_CRASH_SEED");
  if (env != nullptr && *env != '\0') return std::strtoull(env, nullptr, 10);
  return std::random_device()();
}

struct Plan {
  std::optional<uint64_t> kill_after_acks;  // else kill after kill_after_time
  milliseconds kill_after_time{0};
  std::vector<std::string> args;
};

class JournalCrashTest : public ::testing::TestWithParam<SyncMode> {
 protected:
  void SetUp() override {
    seed_ = Seed();
    rng_.seed(seed_);
    std::cout << "seed " << seed_ << " (FERRY_CRASH_SEED=" << seed_ << " replays it)\n";
    RecordProperty("seed", std::to_string(seed_));
  }

  // A random kill moment and child arguments for one cycle.
  Plan NextPlan(int cycle) {
    Plan plan;
    // Even cycles count acks (now and then none), odd ones wait a few ms from
    // the spawn (the child needs some 10-30 ms to open the journal).
    if (cycle % 2 == 0) {
      const uint64_t max_acks = GetParam() == SyncMode::kAlways ? 200 : 500;
      plan.kill_after_acks = cycle % 8 == 0 ? 0 : 1 + rng_() % max_acks;
    } else {
      plan.kill_after_time = milliseconds(rng_() % 60);
    }
    plan.args = {dir_, "--sync=" + std::string(SyncModeName(GetParam())), "--dest",
                 "--seed=" + std::to_string(rng_()),
                 "--max-batch=" + std::to_string(1 + rng_() % 50)};
    if (rng_() % 4 == 0) plan.args.push_back("--flush-every=" + std::to_string(1 + rng_() % 30));
    return plan;
  }

  // Runs one child per `plan` and kills it; the acks it wrote before dying.
  std::vector<SeqRange> RunAndKill(const Plan& plan) {
    std::vector<SeqRange> acks;
    auto child = WriterChild::Start(plan.args);
    if (child == nullptr) return acks;
    const auto start = Clock::now();
    auto take = [&](Clock::time_point deadline) {
      std::optional<std::string> line = child->ReadLine(deadline);
      if (!line) return false;
      std::optional<SeqRange> ack = ParseAck(*line);
      if (!ack) {
        ADD_FAILURE() << "bad line from the child: " << EscapePath(*line);
        return false;
      }
      acks.push_back(*ack);
      return true;
    };
    if (plan.kill_after_acks) {
      const auto deadline = Clock::now() + kChildTimeout;
      while (acks.size() < *plan.kill_after_acks && take(deadline)) {
      }
      if (acks.size() < *plan.kill_after_acks) {
        ADD_FAILURE() << "the child gave only " << acks.size() << " of " << *plan.kill_after_acks
                      << " acks " << (child->eof() ? "and quit" : "before the timeout");
      }
    } else {
      while (take(start + plan.kill_after_time)) {
      }
      if (child->eof()) ADD_FAILURE() << "the child quit before it was killed";
    }
    child->Kill();
    // Acks written before the kill are still in the pipe: they count too.
    const auto deadline = Clock::now() + kChildTimeout;
    while (take(deadline)) {
    }
    EXPECT_TRUE(child->eof()) << "the killed child's pipe did not close";
    int status = child->Wait();
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the child ended on its own: status " << status << " (exit code "
        << (WIFEXITED(status) ? WEXITSTATUS(status) : -1) << ")";
    return acks;
  }

  // Reopens the journal and checks it against what was acknowledged; sets head_.
  void VerifyReopened(const std::vector<SeqRange>& acks) {
    uint64_t expected_first = head_ + 1;
    for (const SeqRange& ack : acks) {
      ASSERT_EQ(ack.first, expected_first) << "acks must continue the journal without a gap";
      expected_first = ack.last + 1;
    }
    const uint64_t last_acked = expected_first - 1;

    auto opened = Journal::Open({.dir = dir_, .sync = GetParam()});
    ASSERT_TRUE(opened) << opened.error().ToString();
    Journal& journal = **opened;
    if (id_) {
      EXPECT_EQ(journal.id(), *id_) << "the journal changed identity";
    } else {
      id_ = journal.id();
    }
    const uint64_t last = journal.LastSeq();
    ASSERT_GE(last, last_acked) << "acknowledged events were lost";
    ASSERT_GE(last, head_) << "the head went backwards";

    uint32_t destination = 0;
    if (last > 0) {
      auto dests = journal.Destinations();
      ASSERT_TRUE(dests) << dests.error().ToString();
      ASSERT_EQ(dests->size(), 1u);
      EXPECT_EQ((*dests)[0].first, "d");
      destination = (*dests)[0].second;
      auto oldest = journal.OldestSeq();
      ASSERT_TRUE(oldest) << oldest.error().ToString();
      EXPECT_EQ(*oldest, 1u);
    }

    auto reader = journal.NewReader({});
    uint64_t seq = 0;
    for (; reader->Valid(); reader->Next()) {
      const Event& got = reader->event();
      ASSERT_EQ(got.seq, seq + 1) << "gap or disorder after seq " << seq;
      seq = got.seq;
      Event want = ExpectedEvent(seq, destination);
      ASSERT_TRUE(got == want) << "got " << Describe(got) << "\nwant " << Describe(want);
    }
    ASSERT_TRUE(reader->status().ok()) << reader->status().ToString();
    EXPECT_EQ(reader->corrupt_records(), 0u);
    EXPECT_EQ(seq, last) << "events end before LastSeq()";
    if (last > last_acked) ++unacked_kept_;
    head_ = last;
  }

  void RunCycles(int cycles) {
    dir_ = tmp_.Sub("journal");
    uint64_t total_acks = 0;
    int cycles_with_acks = 0;
    Clock::duration writing{0};
    Clock::duration verifying{0};
    for (int cycle = 0; cycle < cycles; ++cycle) {
      Plan plan = NextPlan(cycle);
      SCOPED_TRACE("seed " + std::to_string(seed_) + ", cycle " + std::to_string(cycle) +
                   ", head " + std::to_string(head_) + ", kill after " +
                   (plan.kill_after_acks ? std::to_string(*plan.kill_after_acks) + " acks"
                                         : std::to_string(plan.kill_after_time.count()) + " ms"));
      const auto start = Clock::now();
      std::vector<SeqRange> acks = RunAndKill(plan);
      ASSERT_FALSE(HasFailure());
      total_acks += acks.size();
      cycles_with_acks += acks.empty() ? 0 : 1;
      const auto killed = Clock::now();
      ASSERT_NO_FATAL_FAILURE(VerifyReopened(acks));
      writing += killed - start;
      verifying += Clock::now() - killed;
    }
    std::cout << cycles << " kills, " << cycles_with_acks << " after acks, " << total_acks
              << " acks, " << head_ << " events; " << unacked_kept_
              << " times the journal kept events the writer had not acked yet; "
              << std::chrono::duration_cast<milliseconds>(writing).count() << " ms writing, "
              << std::chrono::duration_cast<milliseconds>(verifying).count() << " ms verifying\n";
    // Most kills must have hit a writer in full flight, not one still opening.
    EXPECT_GE(cycles_with_acks, cycles / 4);
  }

  ferry::testing::TempDir tmp_;
  std::string dir_;
  uint64_t seed_ = 0;
  std::mt19937_64 rng_;
  uint64_t head_ = 0;  // LastSeq() seen after the previous kill
  int unacked_kept_ = 0;
  std::optional<JournalId> id_;
};

TEST_P(JournalCrashTest, AcknowledgedEventsSurviveKill9) {
  // kOff survives a process crash too (the page cache keeps what was
  // written), not power loss; fewer cycles for it.
  RunCycles(GetParam() == SyncMode::kOff ? 15 : 40);
}

INSTANTIATE_TEST_SUITE_P(SyncModes, JournalCrashTest,
                         ::testing::Values(SyncMode::kGroup, SyncMode::kAlways, SyncMode::kOff),
                         [](const ::testing::TestParamInfo<SyncMode>& info) {
                           return std::string(SyncModeName(info.param));
                         });

}  // namespace
}  // namespace ferry
