// Lane: delivers one destination's journal to one target, for ever.
//
// It reads the events after the target's cursor, waits a short batch window
// (events keep coming while a batch is in flight, so batches grow with the
// load, like a group commit), plans them (plan.h), runs the transfers
// (transfer.h) one after another on its executor, and when all succeeded
// advances the cursor with the batch's stats in one write. Then:
//   retry, receiver-full  capped exponential backoff with jitter; `retrying`
//   blocked               the target's configuration is wrong: `blocked` with
//                         rsync's message, retried at the longest backoff;
//                         never a dead letter (it is not the entries' fault)
//   partial               retried; when the same batch fails again, the failing
//                         run is bisected down to the entries that fail on
//                         their own, which become dead letters; the rest is
//                         delivered and the cursor advances
// A missing, expired or foreign cursor means a full sync, after which the
// cursor is set to the head seen when it started. Dead letters are retried
// every `dead_letter_retry` and removed once delivered.
//
// Threading: everything runs on the executor's thread; Notify() and status()
// may be called from any thread.
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "journal/journal.h"
#include "journal/states.h"
#include "replay/executor.h"
#include "replay/exit_class.h"
#include "replay/plan.h"
#include "replay/rsync_probe.h"
#include "replay/transfer.h"

namespace ferry {

struct LaneOptions {
  TargetSettings target;
  uint32_t destination = 0;
  int64_t batch_delay_ns = 20'000'000;
  size_t batch_max_events = 50'000;
  int64_t retry_min_ns = 1'000'000'000;
  int64_t retry_max_ns = 300'000'000'000;
  int64_t dead_letter_retry_ns = 3'600'000'000'000;
  int64_t idle_poll_ns = 1'000'000'000;  // looks for events even without Notify()
  int64_t start_delay_ns = 0;            // before the first batch (see Ferryd::Start)
  // Pacing during a live burst: after a batch that was not full, the next
  // one starts no sooner than the last one's run time after its end, at
  // most this long (0: off), while changes keep coming (a Notify() within
  // the last batch_delay_ns). rsync then runs at most about half the time
  // while the source is busy, leaving the CPU to the application writing
  // it, and batches grow; once the source is quiet the batch goes at once,
  // and a backlog (full batches) goes back to back.
  int64_t max_pace_ns = 1'000'000'000;
  // A local target whose transfers a crash cut: its first batch (what was
  // cut goes again) first removes the rsync temp files of its paths.
  bool sweep_cut_temp_files = false;
  int partial_attempts = 2;  // failures of one batch before bisecting it
  // Transfers run at once for one kind of a batch. Above 1 each run's paths
  // are sharded by a hash of the path, so a path always goes through one
  // shard and keeps its order (kinds still run one after another).
  int parallel = 1;
  // Learn what the target's rsync can do (rsync_probe.h) before the first
  // batch and after each failure; false keeps target.features as given
  // (unit tests of the lane's logic).
  bool probe_receiver = true;
  // The source directory's st_dev when ferryd started (0: not checked).
  // While the source is on another device (unmounted, leaving an empty
  // mount point) nothing is sent: a full sync or a send from it would
  // delete the target's copies (target.h, CheckSource).
  uint64_t source_device = 0;
};

struct LaneStatus {
  TargetState state = TargetState::kStarting;
  std::string last_error;
  uint64_t transfers_ok = 0;
  uint64_t transfers_failed = 0;
  uint64_t dead_lettered = 0;  // entries this lane dead-lettered since it started
  int failures_in_a_row = 0;
  int64_t next_attempt_ns = 0;  // backing off until then (monotonic clock); 0 = not
  double events_per_s = 0;      // delivered over the last minute
  bool busy = false;            // a probe, batch, full sync or dead-letter retry is running
  bool stopped = false;         // Stop() took effect: nothing runs any more
  std::string receiver;         // what the probe learned (RsyncFeatures::receiver)
};

class Lane {
 public:
  // `journal` and `executor` must outlive the lane.
  Lane(LaneOptions options, Journal* journal, Executor* executor);

  void Start();   // executor thread
  void Notify();  // any thread: new events were journaled
  LaneStatus status() const;

  // Operator controls; any thread. Each takes effect on the executor thread
  // when no batch is in flight (a running batch finishes first), so a
  // rewind is never overtaken by the cursor advance of an older batch.
  void Pause();   // no new batches until Resume() (in memory: a restart resumes)
  void Resume();  // also ends any backoff: the next attempt is now
  // Delivers every event of the destination from `seq` on again: the cursor
  // is set to seq - 1. The caller checks that `seq` is still retained.
  void Rewind(uint64_t seq);
  void Resync();  // a full sync, then on from the head seen at its start
  void RetryDeadLettersNow();
  // Starts nothing new; what runs finishes (or is killed by the worker's
  // Stop). status().stopped tells when it is idle for good. The lane must
  // stay alive until its executor has stopped: timers still refer to it.
  void Stop();
  // Stop, and delete the target's cursor, stats and dead letters for good: a
  // transfer still running (a full sync may take hours) is left to end, and
  // nothing it reports is written, so the cursor cannot come back. Call on
  // the executor's thread, where every journal write of the lane happens.
  void Forget();
  const std::string& name() const { return options_.target.name; }

 private:
  // What failed in the wave that just ended.
  struct WaveFailure {
    Classified classified;
    std::string message;
    size_t transfer;  // index in the wave
    // The entries rsync complained about, when known exactly (exit_class.h).
    std::optional<std::vector<std::string>> complained;
  };
  struct Batch {
    std::vector<Event> events;
    // Transfers in waves: a wave's transfers run at once, waves in order.
    std::vector<std::vector<Transfer>> waves;
    size_t wave = 0;
    size_t running = 0;  // children of the current wave still running
    std::vector<WaveFailure> failures;
    uint64_t upto = 0;  // the cursor after this batch
    bool full_sync = false;
    uint64_t bytes = 0;
    std::vector<std::string> moved_trees;  // delivered copy-moves: their tree sends are done
    std::deque<std::vector<std::string>> isolate;  // bisection work list
    Transfer::Kind isolating_kind = Transfer::Kind::kContent;
  };

  // The receiver probe (rsync_probe.h): wanted when not done since the
  // last failure, unless paused or stopping.
  bool ProbeWanted() const;
  void StartProbe();
  void RunProbe(RsyncFeatures trying);
  // False (and the probe ends) when Stop() was called meanwhile.
  bool ProbeGoesOn();
  void SchedulePoll(int64_t delay_ns);
  void Poll();
  void StartFullSync(uint64_t head, const std::string& why);
  // Local targets: renames the plan's moves in place, so a moved directory's
  // data is not sent again (files are still sent; ssh and daemon targets get
  // the data sent).
  void RunNext();
  void OnWaveExit(size_t index, const ChildExit& exit);
  void EndWave();
  // A full sync that failed for some entries only, again: journals those
  // entries as changed, so that the full sync can end and they go through
  // the isolation that dead-letters exactly the ones that keep failing.
  // False when the entries are not known exactly.
  bool HandOverComplaints(const Batch& b);
  void RunIsolation();
  void OnIsolationExit(const ChildExit& exit, const std::vector<std::string>& paths);
  // Counts the transfer in the stats; returns its classification and message.
  std::pair<Classified, std::string> Judge(const ChildExit& exit);
  void FinishBatch();
  // By value: it ends the batch, which may own what the caller passes.
  void Fail(Classified c, std::string message);
  void AddDeadLetter(const std::string& path, const std::string& error);
  void RetryDeadLettersEvery();  // the timer; reschedules itself
  void RetryDeadLetters();
  // Applies what the controls asked for; true when Poll should go on.
  bool ApplyControls();
  void Kick();  // ends a backoff and polls now
  void UpdateBusy();
  Classified Classify(const ChildExit& exit) const;
  void Spawn(const Transfer& t, std::function<void(ChildExit)> done);
  void SetState(TargetState state, std::string error = {});
  void Log(const Status& s);

  LaneOptions options_;
  Journal* journal_;
  Executor* executor_;
  std::optional<Batch> batch_;  // the batch in flight
  bool poll_scheduled_ = false;
  int64_t poll_at_ = 0;           // when the scheduled poll runs (monotonic)
  uint64_t poll_generation_ = 0;  // only the latest scheduled poll runs
  bool retrying_dead_letters_ = false;
  bool probed_ = false;   // target.features hold for the receiver
  bool probing_ = false;  // a probe's run is in flight
  std::optional<RsyncVersion> local_rsync_;
  bool dead_letters_wanted_ = false;  // a retry asked for while a batch ran
  int64_t backoff_until_ = 0;
  // The last batch's run (monotonic), for pacing (LaneOptions::max_pace_ns).
  int64_t batch_started_ = 0;
  int64_t paced_until_ = 0;
  int64_t last_notify_ = 0;  // when the watcher last said it journaled
  std::mt19937_64 rng_;
  // Set by the controls (under mu_), applied by ApplyControls.
  bool paused_ = false;
  bool stopping_ = false;
  bool forgotten_ = false;  // executor thread only
  bool resync_requested_ = false;
  std::optional<uint64_t> rewind_to_;

  mutable std::mutex mu_;
  LaneStatus status_;
  std::deque<std::pair<int64_t, uint64_t>> recent_;  // (monotonic ns, events) of batches
};

}  // namespace ferry
