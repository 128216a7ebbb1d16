// Ferryd: the running daemon. Wires a Config into the watch stage (one
// TreeWatcher and one watch thread per destination; it sees events and
// states, not inotify), the journal, replay lanes on UringWorker threads,
// and the control socket.
//
// main() waits for signals until stopped() (SIGTERM or SIGINT call Stop());
// meanwhile a maintenance thread runs Maintain() every kMaintainEvery, so
// that a trim or a join of event files never delays a signal. Destroying
// the Ferryd then shuts down in order: end the maintenance thread, close
// the control socket, stop the watch feeds and journal what they read, let
// running transfers finish for up to [replay] shutdown_grace, then stop them
// (SIGTERM, then SIGKILL), close the journal. Nothing pending is lost: it is
// on disk and goes out after the next start.
//
// Threading: Start and the destructor run on the main thread, Maintain on
// the maintenance thread; Reload, HandleControl and StatusJson on the main
// or the control thread (a mutex orders them); Stop on any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "settings/config.h"
#include "daemon/control_server.h"
#include "daemon/metrics_server.h"
#include "watch/tree_watcher.h"
#include "journal/journal.h"
#include "replay/lane.h"
#include "replay/worker.h"

namespace ferry {

class Ferryd {
 public:
  explicit Ferryd(Config config);
  ~Ferryd();

  // Opens the journal, reconciles every destination, starts watching and
  // replaying, opens the control socket. Errors name what failed; nothing
  // keeps running after one.
  Status Start();
  // Periodic work: starts the periodic full syncs (full_sync_every); trims
  // delivered events past [journal] retention once a minute; checks the
  // journal's estimated size every kBudgetCheckEvery and trims it to 90% of
  // max_size when over (lagging targets expire: full sync); gives freed
  // memory back after a burst and joins small event files. The maintenance
  // thread (started by Start) calls it; a trim blocks that thread, and only
  // it, while RocksDB compacts the trimmed range.
  void Maintain();
  void Stop();  // any thread
  bool stopped() const { return stop_; }
  // Maintain() threw: ferryd stopped, and exits 70 (main.cc).
  bool failed() const { return maintenance_failed_; }
  bool ready() const { return ready_; }
  size_t destinations() const;
  size_t targets() const;

  // Rereads the config file: added destinations and targets start (a new
  // target gets a full sync), removed ones stop (a removed target's cursor
  // and dead letters are forgotten), changed ones restart; unchanged targets
  // keep running and keep their cursors. Settings that need a restart
  // ([journal], [control], [log], workers) are reported and left as they
  // were. The reply says what changed. A broken file changes nothing.
  // Either way it then retries what the watch limit left unwatched and a
  // journal that refused writes (Retry()): what SIGHUP and the control
  // verb "reload" do.
  Result<nlohmann::json> Reload();

  // The control socket's verbs (control_server.h): status, pause, resume,
  // rewind, resync, dlq_list, dlq_retry, dlq_drop, reload.
  nlohmann::json HandleControl(const nlohmann::json& request, const ControlPeer& peer);
  nlohmann::json StatusJson();

 private:
  struct Destination {
    DestinationConfig config;
    uint32_t id = 0;
    std::unique_ptr<TreeWatcher> watch;  // the watch stage (watch/tree_watcher.h)
    std::mutex lanes_mu;
    std::vector<Lane*> lanes;  // guarded by lanes_mu: the watch thread notifies them
    std::thread thread;
    std::atomic<bool> stop{false};  // this destination alone (reload removed it)
    std::chrono::steady_clock::time_point next_full_sync;
    // The watch thread's failures (its reader's errors, exceptions), each
    // logged and followed by a rebuild of the watches and a rescan.
    mutable std::mutex failure_mu;
    uint64_t failures = 0;
    std::string last_failure;     // why, and what was done
    int64_t last_failure_ns = 0;  // wall time
    // Watch thread only: when it last watched again after a failure, and the
    // wait before the next rebuild if it fails again soon (each a full rescan).
    std::chrono::steady_clock::time_point recovered_at;
    std::chrono::seconds recovery_backoff{0};
  };
  struct Target {
    TargetConfig config;
    Destination* destination = nullptr;
    std::unique_ptr<Lane> lane;
    UringWorker* worker = nullptr;  // drives the lane
  };

  // A destination is added in two steps: Prepare (the watches and the
  // reconcile walk of its tree, which may take minutes: without mu_) and
  // Install (under mu_: listed, its watch thread started).
  Result<std::unique_ptr<Destination>> PrepareDestination(const DestinationConfig& config);
  void InstallDestination(std::unique_ptr<Destination> d);
  Status AddDestination(const DestinationConfig& config);  // both, at start
  // Under mu_: removes its targets, asks its watch thread to stop and takes
  // it out of destinations_; the caller joins it (JoinDestination) without
  // mu_, as the thread may be in a rescan. Null when there is none.
  std::unique_ptr<Destination> DetachDestination(const std::string& name);
  static void JoinDestination(std::unique_ptr<Destination> d);
  Status AddTarget(const TargetConfig& config);
  // Stops the lane (what runs finishes or is killed at shutdown); `forget`
  // also deletes the cursor, stats and dead letters.
  void RemoveTarget(const std::string& name, bool forget);
  Destination* FindDestination(const std::string& name);
  Target* FindTarget(const std::string& name);
  void WatchLoop(Destination* d);
  // One turn of it: records, retries, ticks, settling.
  void WatchTurn(Destination* d);
  // The watch thread failed (`why`): logs it, shows it in status, and
  // rebuilds the watches and rescans (TreeWatcher::Rebuild); tried again
  // with backoff until it works or ferryd stops.
  void RecoverWatch(Destination* d, const std::string& why);
  // Shows `what` as the destination's last failure (and counts one).
  void NoteWatchFailure(Destination* d, const std::string& what, bool count);
  LaneOptions LaneFor(const TargetConfig& t, const Destination& d) const;
  // Reload() without the retry (ferryd_reload.cc).
  Result<nlohmann::json> ReloadConfig();
  // Asks each destination's watch loop to retry the watches the inotify
  // limit refused and a journal that refused writes.
  void Retry();
  // Waits up to the grace period for the lanes to go idle.
  void DrainLanes();
  // Applies `policy` once and logs what it trimmed and whom it expired.
  void TrimJournal(const RetentionPolicy& policy);
  void ReturnFreedMemory();  // Maintain()'s thread

  // The verbs (ferryd_control.cc); called with mu_ held.
  nlohmann::json PauseOrResume(Target* t, bool pause, const ControlPeer& peer);
  nlohmann::json Rewind(Target* t, const nlohmann::json& request);
  nlohmann::json DeadLetters(const nlohmann::json& request, const std::string& verb);
  nlohmann::json TargetJson(const Target& t, uint64_t head);

  Config config_;
  std::unique_ptr<Journal> journal_;
  std::vector<std::unique_ptr<UringWorker>> workers_;
  size_t next_worker_ = 0;
  // Guards destinations_, targets_, starting_destinations_ and config_ after
  // Start; never held for a tree walk. Reloads hold reload_mu_ throughout
  // (so config_ changes only under both) and take mu_ for their changes.
  mutable std::mutex mu_;
  std::mutex reload_mu_;
  std::vector<std::unique_ptr<Destination>> destinations_;
  // Added by a reload that is still walking their trees: "starting" in status.
  std::vector<DestinationConfig> starting_destinations_;
  std::vector<std::unique_ptr<Target>> targets_;
  // Lanes of removed targets: their worker's timers still refer to them, so
  // they live until the workers stop.
  std::vector<std::unique_ptr<Lane>> retired_lanes_;
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<MetricsServer> metrics_;
  std::atomic<bool> stop_{false};
  // The maintenance thread: Maintain() every kMaintainEvery until Stop().
  void MaintenanceLoop();
  static constexpr std::chrono::milliseconds kMaintainEvery{200};
  std::mutex maintenance_mu_;
  std::condition_variable maintenance_cv_;  // Stop() wakes it
  std::thread maintenance_;
  std::atomic<bool> maintenance_failed_{false};
  std::atomic<bool> ready_{false};
  bool cut_transfers_ = false;  // the previous ferryd died with transfers running
  static constexpr int64_t kCutTransferSettleNs = 3'000'000'000;
  int64_t started_ns_ = 0;
  uint64_t activity_last_tick_ = 0;  // ReturnFreedMemory's view of the work done
  uint64_t activity_at_trim_ = 0;
  static constexpr uint64_t kFlushAbove = 1 << 20;
  static constexpr std::chrono::minutes kTrimEvery{1};
  static constexpr std::chrono::seconds kBudgetCheckEvery{2};
  std::chrono::steady_clock::time_point next_trim_ = std::chrono::steady_clock::now() + kTrimEvery;
  std::chrono::steady_clock::time_point next_budget_check_ = std::chrono::steady_clock::now();
  static constexpr std::chrono::seconds kJoinEvery{10};  // JoinSmallEventFiles: a metadata look
  std::chrono::steady_clock::time_point next_join_ = std::chrono::steady_clock::now() + kJoinEvery;
};

}  // namespace ferry
