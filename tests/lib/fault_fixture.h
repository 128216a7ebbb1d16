// FaultTest: FerrydTest plus what the fault suites share: a mixed workload
// on its own thread (tests/lib/workload.h), and the end of every scenario,
// ExpectConvergedAndReport: both targets byte-identical to the source, every
// cursor at the head, no dead letters, and a `[scenario]` line with the
// changes made, the events delivered, the time to converge and the dead
// letters.
//
// FERRY_FAULT_SCALE=N multiplies the workloads (the `soak` label runs N=20).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "journal/escape.h"
#include "tests/lib/ferryd_fixture.h"
#include "tests/lib/workload.h"

namespace ferry::testing {

inline int Scale() {
  const char* s = std::getenv("FERRY_FAULT_SCALE");
  return s && std::atoi(s) > 0 ? std::atoi(s) : 1;
}

class FaultTest : public FerrydTest {
 protected:
  // Runs the workload on a thread until Stop(); counts what it changed.
  void StartWorkload(uint64_t seed, int steps) {
    workload_ = std::thread([this, seed, steps] {
      MixedWorkload w(src(), seed);
      for (int i = 0; i < steps && !stop_workload_; ++i) changes_ += w.Step();
    });
  }
  void JoinWorkload() {
    if (workload_.joinable()) workload_.join();
  }
  void StopWorkload() {
    stop_workload_ = true;
    JoinWorkload();
  }
  ~FaultTest() override { StopWorkload(); }

  // Converges, checks there are no dead letters, and reports; `note` ends
  // the report line.
  void ExpectConvergedAndReport(const std::string& scenario, int seconds = 120,
                                const std::string& note = "") {
    const auto start = std::chrono::steady_clock::now();
    auto converged = Converged(seconds);
    if (!converged) {
      // The journal's story of the path that differs, for the diagnosis.
      // DiffTrees says "PATH: what differs"; the journal is searched for
      // the first path's last component.
      const std::string local_diff = DiffTrees(src(), local());
      const std::string module_diff = DiffTrees(src(), module());
      std::printf("local: %s\nmodule: %s\n", local_diff.c_str(), module_diff.c_str());
      const std::string& diff = local_diff.empty() ? module_diff : local_diff;
      std::string name = diff.substr(0, diff.find(": "));
      name = name.substr(name.rfind('/') + 1);
      auto j = Journal::OpenSecondary(tmp_.Sub("journal"), tmp_.Sub("diag"));
      if (j && (*j)->CatchUp().ok()) {
        for (auto r = (*j)->NewReader({}); r->Valid(); r->Next()) {
          const Event& e = r->event();
          if (EscapePath(e.path).find(name) != std::string::npos ||
              EscapePath(e.old_path).find(name) != std::string::npos) {
            std::printf("journal: seq %llu %s %s%s <- %s\n", static_cast<unsigned long long>(e.seq),
                        std::string(KindName(e.kind)).c_str(), e.path.c_str(), e.is_dir ? "/" : "",
                        e.old_path.c_str());
          }
        }
        for (const char* t : {"mirror", "backup"}) {
          auto c = (*j)->GetCursor(t);
          if (c && c->has_value())
            std::printf("cursor %s: %llu\n", t, static_cast<unsigned long long>((*c)->seq));
        }
      }
    }
    ASSERT_TRUE(converged) << scenario;
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    nlohmann::json s = Control({{"verb", "status"}});
    int dead = 0;
    std::string delivered;
    for (const nlohmann::json& t : s["targets"]) {
      dead += t.value("dead_letters", 0);
      delivered += (delivered.empty() ? "" : ", ") + t.value("name", std::string()) + " " +
                   std::to_string(t.value("events_delivered", uint64_t{0}));
    }
    EXPECT_EQ(dead, 0) << s.dump(2);
    EXPECT_FALSE(std::filesystem::exists("/tmp/pwned"));
    EXPECT_FALSE(std::filesystem::exists(src() + "/pwned"));
    std::printf(
        "[scenario] %s: %d changes made, all delivered to 2 targets (events delivered: %s of "
        "head %llu); converged %.2f s after the workload; %d dead letters%s%s\n",
        scenario.c_str(), changes_.load(), delivered.c_str(),
        static_cast<unsigned long long>(s.value("head", uint64_t{0})), took, dead,
        note.empty() ? "" : "; ", note.c_str());
    RecordProperty("changes", changes_.load());
    RecordProperty("converge_ms", static_cast<int>(took * 1000));
  }

  std::thread workload_;
  std::atomic<bool> stop_workload_{false};
  std::atomic<int> changes_{0};
};

}  // namespace ferry::testing
