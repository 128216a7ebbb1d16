// The io_uring worker with real child processes.
#include "replay/worker.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <optional>

namespace ferry {
namespace {

class WorkerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(worker_.Start().ok()); }

  // Spawns on the worker thread and waits (20 s at most) for the exit.
  ChildExit RunChild(SpawnRequest req) {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<ChildExit> result;
    worker_.Post([&, req = std::move(req)]() mutable {
      worker_.Spawn(std::move(req), [&](ChildExit e) {
        std::lock_guard lock(mu);
        result = std::move(e);
        cv.notify_all();
      });
    });
    std::unique_lock lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return result.has_value(); }));
    return result.value_or(ChildExit{});
  }

  UringWorker worker_;
};

TEST_F(WorkerTest, FeedsStdinAndCollectsOutputAndExitCode) {
  ChildExit e = RunChild({.argv = {"sh", "-c", "cat; echo oops >&2; exit 3"}, .input = "hello"});
  EXPECT_TRUE(e.spawn_error.ok());
  EXPECT_EQ(e.exit_code, 3);
  EXPECT_EQ(e.stdout_tail, "hello");
  EXPECT_EQ(e.stderr_tail, "oops\n");
}

TEST_F(WorkerTest, BigInputFlowsThroughAndOnlyTheTailIsKept) {
  std::string input(10 << 20, 'a');
  input.back() = 'z';
  ChildExit e = RunChild({.argv = {"cat"}, .input = input});
  EXPECT_EQ(e.exit_code, 0);
  EXPECT_EQ(e.stdout_tail.size(), 8u * 1024);
  EXPECT_EQ(e.stdout_tail.back(), 'z');
}

TEST_F(WorkerTest, ArgumentsAreNeverAShell) {
  ChildExit e = RunChild({.argv = {"echo", "$(touch /nonexistent/pwned); #x"}});
  EXPECT_EQ(e.stdout_tail, "$(touch /nonexistent/pwned); #x\n");
}

TEST_F(WorkerTest, MissingProgramIsASpawnError) {
  ChildExit e = RunChild({.argv = {"/nonexistent/rsync"}});
  EXPECT_TRUE(e.spawn_error.IsNotFound()) << e.spawn_error.ToString();
}

TEST_F(WorkerTest, ChildThatDiesWithoutReadingItsInputIsReaped) {
  ChildExit e = RunChild({.argv = {"true"}, .input = std::string(1 << 20, 'x')});
  EXPECT_EQ(e.exit_code, 0);
}

TEST_F(WorkerTest, SilentChildIsStoppedByTheWatchdog) {
  ChildExit e = RunChild({.argv = {"sleep", "60"}, .idle_timeout_ns = 200'000'000});
  EXPECT_TRUE(e.stopped_idle);
  EXPECT_EQ(e.exit_code, -1);
  EXPECT_EQ(e.signal, SIGTERM);
}

TEST_F(WorkerTest, ManyChildrenAtOnceOnOneThread) {
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, ok = 0;
  constexpr int kChildren = 64;
  worker_.Post([&] {
    for (int i = 0; i < kChildren; ++i) {
      worker_.Spawn({.argv = {"sh", "-c", "read x; echo $x"}, .input = std::to_string(i) + "\n"},
                    [&, i](ChildExit e) {
                      std::lock_guard lock(mu);
                      ok += e.stdout_tail == std::to_string(i) + "\n";
                      ++done;
                      cv.notify_all();
                    });
    }
  });
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return done == kChildren; }));
  EXPECT_EQ(ok, kChildren);
}

TEST_F(WorkerTest, TimersRunInDeadlineOrder) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int> order;
  worker_.Post([&] {
    for (int i : {3, 1, 2}) {
      worker_.RunAfter(i * 20'000'000, [&, i] {
        std::lock_guard lock(mu);
        order.push_back(i);
        cv.notify_all();
      });
    }
  });
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return order.size() == 3; }));
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

}  // namespace
}  // namespace ferry
