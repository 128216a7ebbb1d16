// Ferryd: the running daemon. Wires a Config into watchers (one inotify
// reader and one processing thread per destination), the journal, and
// replay lanes on UringWorker threads; trims the journal on a timer.
//
// main() calls Maintain() every few hundred ms until stopped() (SIGTERM or
// SIGINT call Stop()); destroying the Ferryd then shuts down in order: stop
// reading inotify, journal what was read, let running transfers finish (the
// workers send SIGTERM, then SIGKILL), close the journal.
// Nothing pending is lost: it is on disk and goes out after the next start.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "daemon/config.h"
#include "daemon/inotify_reader.h"
#include "daemon/watcher.h"
#include "journal/journal.h"
#include "replay/lane.h"
#include "replay/worker.h"

namespace ferry {

class Ferryd {
 public:
  explicit Ferryd(Config config);
  ~Ferryd();

  // Opens the journal, reconciles every destination, starts watching and
  // replaying. Errors name what failed; nothing keeps running after one.
  Status Start();
  // Periodic work: trims the journal once a minute. Main thread.
  void Maintain();
  void Stop();  // any thread
  bool stopped() const { return stop_; }
  void Retry();  // SIGHUP: retry watches the inotify limit refused
  bool ready() const { return ready_; }
  size_t destinations() const { return destinations_.size(); }
  size_t targets() const { return lanes_.size(); }

 private:
  struct Destination {
    DestinationConfig config;
    uint32_t id = 0;
    std::unique_ptr<Watcher> watcher;
    std::unique_ptr<InotifyReader> reader;
    std::vector<Lane*> lanes;
    std::thread thread;
    std::atomic<bool> retry{false};  // set by Retry(), taken by the watch loop
  };

  void WatchLoop(Destination* d);
  LaneOptions LaneFor(const TargetConfig& t, const Destination& d) const;

  Config config_;
  std::unique_ptr<Journal> journal_;
  std::vector<std::unique_ptr<UringWorker>> workers_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::vector<std::unique_ptr<Destination>> destinations_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> ready_{false};
  std::chrono::steady_clock::time_point next_trim_ =
      std::chrono::steady_clock::now() + std::chrono::minutes(1);
};

}  // namespace ferry
