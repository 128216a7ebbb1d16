#include "replay/lane.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>

#include "journal/escape.h"
#include "replay/local_target.h"
#include "replay/source_size.h"
#include "replay/spawn.h"
#include "settings/checks.h"

namespace ferry {
Lane::Lane(LaneOptions options, Journal* journal, Executor* executor)
    : options_(std::move(options)),
      journal_(journal),
      executor_(executor),
      rng_(std::hash<std::string>()(options_.target.name) ^
           static_cast<uint64_t>(executor->clock()->MonotonicNanos())) {}

LaneStatus Lane::status() const {
  std::lock_guard lock(mu_);
  LaneStatus s = status_;
  if (paused_ && !stopping_) s.state = TargetState::kPaused;
  const int64_t since = executor_->clock()->MonotonicNanos() - 60'000'000'000;
  uint64_t events = 0;
  for (const auto& [at, n] : recent_) events += at >= since ? n : 0;
  s.events_per_s = static_cast<double>(events) / 60.0;
  return s;
}

void Lane::SetState(TargetState state, std::string error) {
  std::lock_guard lock(mu_);
  status_.state = state;
  if (!error.empty()) status_.last_error = std::move(error);
}

void Lane::Log(const Status& s) {
  spdlog::error("target {}: {}", options_.target.name, s.ToString());
}

void Lane::Start() {
  // A backoff, not only a late first poll: journal notifications must not
  // start a batch early either (the delay lets a crashed predecessor's
  // transfers end on the remote side; see Ferryd::Start).
  backoff_until_ = executor_->clock()->MonotonicNanos() + options_.start_delay_ns;
  SchedulePoll(options_.start_delay_ns);
  executor_->RunAfter(options_.dead_letter_retry_ns, [this] { RetryDeadLettersEvery(); });
}

void Lane::Pause() {
  std::lock_guard lock(mu_);
  paused_ = true;
}

void Lane::Resume() {
  {
    std::lock_guard lock(mu_);
    paused_ = false;
  }
  Kick();
}

void Lane::Kick() {
  executor_->Post([this] {
    backoff_until_ = 0;
    {
      std::lock_guard lock(mu_);
      status_.next_attempt_ns = 0;
    }
    poll_scheduled_ = false;  // drop a backoff poll: go now
    ++poll_generation_;
    SchedulePoll(0);
  });
}

void Lane::Rewind(uint64_t seq) {
  {
    std::lock_guard lock(mu_);
    rewind_to_ = seq;
  }
  Kick();
}

void Lane::Resync() {
  {
    std::lock_guard lock(mu_);
    resync_requested_ = true;
  }
  executor_->Post([this] { SchedulePoll(0); });
}

void Lane::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  executor_->Post([this] { UpdateBusy(); });
}

void Lane::UpdateBusy() {
  std::lock_guard lock(mu_);
  status_.busy = batch_.has_value() || retrying_dead_letters_ || probing_;
  status_.stopped = stopping_ && !status_.busy;
}

bool Lane::ApplyControls() {
  bool resync;
  std::optional<uint64_t> rewind;
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      status_.stopped = true;
      return false;
    }
    if (paused_) return false;  // Resume() polls again
    resync = std::exchange(resync_requested_, false);
    rewind = std::exchange(rewind_to_, std::nullopt);
  }
  const std::string& name = options_.target.name;
  if (rewind) {
    const uint64_t to = *rewind == 0 ? 0 : *rewind - 1;
    Status s = journal_->SetCursor(name, options_.destination, to);
    if (s.ok()) {
      spdlog::info("target {}: rewound; events from seq {} go again", name, to + 1);
    } else {
      Log(s);
    }
  }
  if (resync) {
    StartFullSync(journal_->LastSeq(), "requested by the operator");
    return false;
  }
  return true;
}

void Lane::Notify() {
  executor_->Post([this] {
    last_notify_ = executor_->clock()->MonotonicNanos();
    if (!batch_ && last_notify_ >= backoff_until_) SchedulePoll(0);
  });
}

void Lane::SchedulePoll(int64_t delay_ns) {
  const int64_t at = executor_->clock()->MonotonicNanos() + delay_ns;
  if (poll_scheduled_ && poll_at_ <= at) return;  // an earlier poll is coming anyway
  poll_scheduled_ = true;
  poll_at_ = at;
  const uint64_t generation = ++poll_generation_;
  executor_->RunAfter(delay_ns, [this, generation] {
    if (generation != poll_generation_) return;  // replaced by an earlier one
    poll_scheduled_ = false;
    Poll();
  });
}

void Lane::Poll() {
  // The batch's (or the probe's) end polls again.
  if (batch_ || retrying_dead_letters_ || probing_) return;
  // Before anything is sent, a full sync included.
  if (options_.source_device != 0) {
    Status source = CheckSource(options_.target.source, options_.source_device);
    if (!source.ok()) return Fail({Outcome::kRetry, "source check"}, source.message());
  }
  if (!options_.target.password_file.empty()) {
    // rsync would fail every run with a bare "exit 1": say why, once, up front.
    Status s = CheckPasswordFile(options_.target.password_file);
    if (!s.ok()) return Fail({Outcome::kBlocked, s.message()}, s.message());
  }
  if (ProbeWanted()) {
    // Before the controls: a requested full sync must know the receiver too.
    const int64_t wait = backoff_until_ - executor_->clock()->MonotonicNanos();
    if (wait > 0) return SchedulePoll(wait);
    return StartProbe();
  }
  if (!ApplyControls()) return;
  if (std::exchange(dead_letters_wanted_, false)) {
    RetryDeadLetters();
    if (retrying_dead_letters_) return;  // its end polls again
  }
  const int64_t now = executor_->clock()->MonotonicNanos();
  int64_t wait = backoff_until_ - now;
  // Paced (LaneOptions::max_pace_ns) only while the source is busy: once no
  // change came for a batch window, the batch goes.
  const int64_t quiet_at = last_notify_ + options_.batch_delay_ns;
  if (paced_until_ > now && quiet_at > now) {
    wait = std::max(wait, std::min(paced_until_, quiet_at) - now);
  }
  if (wait > 0) return SchedulePoll(wait);
  if (Status refused = journal_->write_status(); !refused.ok()) {
    // A batch sent now could not record its cursor and would go again: wait
    // until the journal takes writes (the watcher recovers it).
    SetState(TargetState::kRetrying, "waiting for the journal: " + refused.message());
    return SchedulePoll(options_.retry_min_ns);
  }
  const std::string& name = options_.target.name;
  auto cursor = journal_->GetCursor(name);
  const uint64_t head = journal_->LastSeq();
  if (!cursor) {
    Log(cursor.error());
    SchedulePoll(options_.retry_min_ns);
    return;
  }
  if (!cursor->has_value()) return StartFullSync(head, "new target");
  Status valid = journal_->CheckCursor(**cursor);
  if (!valid.ok()) return StartFullSync(head, valid.message());

  Batch batch;
  auto reader = journal_->NewReader(
      {.from_seq = (*cursor)->seq + 1, .to_seq = head, .destination = options_.destination});
  for (; reader->Valid() && batch.events.size() < options_.batch_max_events; reader->Next()) {
    batch.events.push_back(reader->event());
  }
  if (!reader->status().ok()) {
    Log(reader->status());
    SchedulePoll(options_.retry_min_ns);
    return;
  }
  // Everything up to the head is this lane's business only when a full batch
  // stopped the read early.
  batch.upto = batch.events.size() == options_.batch_max_events ? batch.events.back().seq : head;
  if (batch.events.empty()) {
    if ((*cursor)->seq < head) {  // only other destinations' events: step over them
      Status s = journal_->AdvanceCursor(name, head, 0, 0);
      if (!s.ok()) Log(s);
    }
    SetState(TargetState::kOk);
    SchedulePoll(options_.idle_poll_ns);
    return;
  }
  const int64_t ready_at = batch.events.front().time_ns + options_.batch_delay_ns;
  const int64_t wall = executor_->clock()->WallNanos();
  if (batch.events.size() < options_.batch_max_events && wall < ready_at) {
    SchedulePoll(ready_at - wall);  // let the batch fill up
    return;
  }
  Plan plan = PlanBatch(batch.events);
  if (std::exchange(options_.sweep_cut_temp_files, false) &&
      options_.target.url.kind == TargetUrl::Kind::kLocal) {
    std::vector<std::string> paths;
    for (const Event& e : batch.events) {
      if (!e.is_dir) paths.push_back(e.path);
    }
    const int removed =
        RemoveRsyncTempFiles(options_.target.url.path, options_.target.source, paths);
    if (removed > 0) {
      spdlog::info("target {}: removed {} rsync temporary file(s) of transfers the crash cut",
                   options_.target.name, removed);
    }
  }
  if (options_.target.url.kind == TargetUrl::Kind::kLocal) {
    RenameOnLocalTarget(options_.target.url.path, plan.moves);
  }
  // A small renamed directory costs less sent again than a copy-move's
  // connection (source_size.h); it stays in the plan's trees either way.
  batch.waves = BuildWaves(plan, options_.target, options_.parallel, [&](const PlannedMove& m) {
    return TreeHoldsAtLeast(options_.target.source + "/" + m.to, kCopyMoveMinBytes);
  });
  SetState(head > batch.upto || batch.events.size() > 1000 ? TargetState::kCatchingUp
           : status().state == TargetState::kStarting        ? TargetState::kOk
                                                           : status().state);
  batch_ = std::move(batch);
  batch_started_ = executor_->clock()->MonotonicNanos();
  UpdateBusy();
  RunNext();
}

bool Lane::ProbeWanted() const {
  if (probed_ || !options_.probe_receiver ||
      options_.target.url.kind == TargetUrl::Kind::kCommand) {
    return false;
  }
  std::lock_guard lock(mu_);
  return !paused_ && !stopping_;
}

bool Lane::ProbeGoesOn() {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) return true;
  }
  probing_ = false;
  UpdateBusy();
  return false;
}

void Lane::StartProbe() {
  probing_ = true;
  UpdateBusy();
  if (local_rsync_) return RunProbe(LocalFeatures(*local_rsync_));
  Spawn({.argv = {options_.target.rsync, "--version"}}, [this](ChildExit e) {
    if (!ProbeGoesOn()) return;
    if (!e.spawn_error.ok() || e.exit_code != 0) {
      probing_ = false;
      auto [c, message] = Judge(e);
      return Fail(c, "`" + options_.target.rsync + " --version` failed: " + message);
    }
    local_rsync_ = ParseRsyncVersion(e.stdout_tail);
    if (!local_rsync_) {
      probing_ = false;
      const std::string message = "`" + options_.target.rsync +
                                  " --version` printed no rsync version: is `rsync` "
                                  "(the target's rsync setting) rsync?";
      return Fail({Outcome::kBlocked, message}, message);
    }
    RunProbe(LocalFeatures(*local_rsync_));
  });
}

void Lane::RunProbe(RsyncFeatures trying) {
  TargetSettings target = options_.target;
  target.features = trying;
  Spawn(BuildProbe(target, *local_rsync_), [this, trying](ChildExit e) {
    if (!ProbeGoesOn()) return;
    const std::string& name = options_.target.name;
    ProbeVerdict v =
        JudgeProbe(trying, e.spawn_error.ok() ? e.exit_code : -1, e.stdout_tail, e.stderr_tail);
    switch (v.next) {
      case ProbeVerdict::Next::kAgain:
        spdlog::info("target {}: the receiver's rsync: {}; trying without", name, v.message);
        return RunProbe(v.features);
      case ProbeVerdict::Next::kBlocked:
        probing_ = false;
        return Fail({Outcome::kBlocked, v.message}, v.message);
      case ProbeVerdict::Next::kFailed: {
        probing_ = false;
        auto [c, message] = Judge(e);
        return Fail(c, message);
      }
      case ProbeVerdict::Next::kDone:
        break;
    }
    v.features.receiver = "local rsync " + local_rsync_->ToString() + ", receiver " +
                          (v.protocol > 0 ? "protocol " + std::to_string(v.protocol)
                                          : std::string("protocol not reported"));
    std::string without;
    if (!v.features.delete_missing_args) without += " --delete-missing-args";
    if (!v.features.nanosecond_mtimes) without += " --modify-window=-1";
    if (!v.features.ignore_missing_args) without += " --ignore-missing-args";
    if (!without.empty()) v.features.receiver += "; without" + without;
    if (v.features != options_.target.features || !probed_) {
      spdlog::info("target {}: {}", name, v.features.receiver);
    }
    options_.target.features = std::move(v.features);
    probed_ = true;
    probing_ = false;
    {
      std::lock_guard lock(mu_);
      status_.receiver = options_.target.features.receiver;
    }
    UpdateBusy();
    SchedulePoll(0);
  });
}

void Lane::StartFullSync(uint64_t head, const std::string& why) {
  spdlog::info("target {}: full sync ({})", options_.target.name, why);
  SetState(TargetState::kFullSync);
  Batch batch;
  batch.full_sync = true;
  batch.upto = head;
  batch.waves.push_back({BuildTransfer(Transfer::Kind::kFullSync, {}, options_.target)});
  batch_ = std::move(batch);
  batch_started_ = executor_->clock()->MonotonicNanos();
  UpdateBusy();
  RunNext();
}

void Lane::Spawn(const Transfer& t, std::function<void(ChildExit)> done) {
  const int64_t idle =
      2 * (options_.target.timeout_s + options_.target.contimeout_s) * int64_t{1'000'000'000};
  executor_->Spawn({.argv = t.argv, .input = t.input, .idle_timeout_ns = idle},
                   [this, done = std::move(done)](ChildExit e) {
                     if (!forgotten_) return done(std::move(e));
                     // Whatever it did, the target is gone: nothing is recorded.
                     batch_.reset();
                     retrying_dead_letters_ = probing_ = false;
                     UpdateBusy();
                     spdlog::info("target {}: a transfer of the removed target ended; "
                                  "nothing recorded",
                                  options_.target.name);
                   });
}

void Lane::Forget() {
  forgotten_ = true;
  Stop();
  Status s = journal_->DeleteTarget(options_.target.name);
  if (!s.ok()) {
    spdlog::error("target {}: forgetting it: {}", options_.target.name, s.ToString());
  }
}

void Lane::RunNext() {
  Batch& b = *batch_;
  if (b.wave == b.waves.size()) return FinishBatch();
  b.failures.clear();
  if (!b.moved_trees.empty()) {
    std::vector<Transfer> wave;
    for (const Transfer& run : b.waves[b.wave]) {
      auto kept = run.kind == Transfer::Kind::kTree
                      ? WithoutTrees(run, b.moved_trees, options_.target)
                      : std::optional<Transfer>(run);
      if (kept) wave.push_back(std::move(*kept));
    }
    b.waves[b.wave] = std::move(wave);
    if (b.waves[b.wave].empty()) {
      ++b.wave;
      return RunNext();
    }
  }
  b.running = b.waves[b.wave].size();
  for (size_t i = 0; i < b.waves[b.wave].size(); ++i) {
    Spawn(b.waves[b.wave][i], [this, i](ChildExit e) { OnWaveExit(i, e); });
  }
}

std::pair<Classified, std::string> Lane::Judge(const ChildExit& e) {
  Classified c = Classify(e);
  const std::string detail = ExplainFailure(e.stderr_tail);
  std::string message = detail.empty() ? c.reason : c.reason + ": " + detail;
  std::lock_guard lock(mu_);
  (c.outcome == Outcome::kDelivered ? status_.transfers_ok : status_.transfers_failed)++;
  return {std::move(c), std::move(message)};
}

void Lane::OnWaveExit(size_t index, const ChildExit& e) {
  Batch& b = *batch_;
  auto [c, message] = Judge(e);
  const Transfer& run = b.waves[b.wave][index];
  const bool copy_move = run.kind == Transfer::Kind::kCopyMove;
  if (copy_move && c.outcome != Outcome::kDelivered && c.outcome != Outcome::kRetry) {
    // Only a saving (the tree send that follows delivers the directory): its
    // source was renamed again or deleted, which a later event covers, or the
    // receiver refused it (a module's "refuse options = link-dest", a parent
    // it lacks). A target that is down fails the batch as any run does.
    spdlog::debug("target {}: copy-move skipped: {}", options_.target.name, message);
  } else if (c.outcome == Outcome::kDelivered) {
    b.bytes += ParseBytesSent(e.stdout_tail);
    // Only a clean exit made DEST/to/ whole: a vanished source counted as
    // delivered (old receivers) leaves it to the tree send, which removes it.
    if (copy_move && e.exit_code == 0) b.moved_trees.push_back(run.paths.front());
  } else {
    auto complained = ComplainedPaths(e.stderr_tail, e.stderr_cut, options_.target.source);
    b.failures.push_back({std::move(c), std::move(message), index, std::move(complained)});
  }
  if (--b.running == 0) EndWave();
}

void Lane::EndWave() {
  Batch& b = *batch_;
  if (b.failures.empty()) {
    ++b.wave;
    return RunNext();
  }
  // The worst outcome decides: blocked, then transient, then partial.
  auto rank = [](Outcome o) { return o == Outcome::kBlocked ? 3 : o == Outcome::kPartial ? 1 : 2; };
  // Copied: Fail() ends the batch, and the failures with it.
  const WaveFailure worst = *std::max_element(
      b.failures.begin(), b.failures.end(), [&](const WaveFailure& x, const WaveFailure& y) {
        return rank(x.classified.outcome) < rank(y.classified.outcome);
      });
  const auto& wave = b.waves[b.wave];
  const bool again = status().failures_in_a_row + 1 >= options_.partial_attempts;
  if (worst.classified.outcome == Outcome::kPartial && b.full_sync && again &&
      HandOverComplaints(b)) {
    ++b.wave;
    return RunNext();
  }
  if (worst.classified.outcome == Outcome::kPartial && !b.full_sync && again) {
    // The same batch failed again: find the entries that fail on their own.
    spdlog::warn("target {}: isolating the entries that fail ({})", options_.target.name,
                 worst.message);
    b.isolating_kind = wave.front().kind;
    b.isolate.clear();
    for (const WaveFailure& f : b.failures) {
      const std::vector<std::string>& paths = wave[f.transfer].paths;
      if (paths.empty()) return Fail(f.classified, f.message);
      auto mid = paths.begin() + static_cast<std::ptrdiff_t>(paths.size() / 2);
      b.isolate.emplace_back(paths.begin(), mid);
      b.isolate.emplace_back(mid, paths.end());
    }
    std::erase_if(b.isolate, [](const auto& half) { return half.empty(); });
    return RunIsolation();
  }
  Fail(worst.classified, worst.message);
}

bool Lane::HandOverComplaints(const Batch& b) {
  std::vector<Event> events;
  const std::string root =
      options_.target.source.ends_with('/') ? options_.target.source : options_.target.source + "/";
  for (const WaveFailure& f : b.failures) {
    if (!f.complained) return false;
    for (const std::string& path : *f.complained) {
      struct stat st;
      const bool dir = lstat((root + path).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
      events.push_back(Event{.time_ns = executor_->clock()->WallNanos(),
                             .destination = options_.destination,
                             .kind = dir ? EventKind::kCreate : EventKind::kModify,
                             .is_dir = dir,
                             .path = path});
    }
  }
  const size_t n = events.size();
  auto appended = journal_->Append(std::move(events));
  if (!appended) {
    Log(appended.error());
    return false;
  }
  spdlog::warn(
      "target {}: full sync done except {} entr{} it could not send ({}); journaled them "
      "again, to be retried and dead-lettered on their own",
      options_.target.name, n, n == 1 ? "y" : "ies", b.failures.front().message);
  return true;
}

void Lane::RunIsolation() {
  Batch& b = *batch_;
  if (b.isolate.empty()) {
    ++b.wave;
    return RunNext();
  }
  auto paths = std::make_shared<std::vector<std::string>>(std::move(b.isolate.front()));
  b.isolate.pop_front();
  Spawn(BuildTransfer(b.isolating_kind, *paths, options_.target),
        [this, paths](ChildExit e) { OnIsolationExit(e, *paths); });
}

void Lane::OnIsolationExit(const ChildExit& e, const std::vector<std::string>& paths) {
  Batch& b = *batch_;
  auto [c, message] = Judge(e);
  if (c.outcome == Outcome::kDelivered) {
    b.bytes += ParseBytesSent(e.stdout_tail);
  } else if (c.outcome == Outcome::kPartial) {
    if (paths.size() == 1) {
      AddDeadLetter(paths.front(), message);
    } else {
      auto mid = paths.begin() + static_cast<std::ptrdiff_t>(paths.size() / 2);
      b.isolate.emplace_front(mid, paths.end());
      b.isolate.emplace_front(paths.begin(), mid);
    }
  } else {
    return Fail(c, message);  // the target itself failed meanwhile: retry the batch
  }
  RunIsolation();
}

Classified Lane::Classify(const ChildExit& e) const {
  if (!e.spawn_error.ok()) {
    return {Outcome::kBlocked, e.spawn_error.message() + " (is rsync installed?)"};
  }
  Classified c = options_.target.url.kind == TargetUrl::Kind::kCommand
                     ? ClassifyCommandExit(e.exit_code, e.signal)
                     : ClassifyRsyncExit(e.exit_code, e.signal, e.stderr_tail);
  if (e.stopped_idle) c.reason = "stopped after no progress for too long; " + c.reason;
  if (c.outcome != Outcome::kDelivered && options_.probe_receiver &&
      options_.target.url.kind != TargetUrl::Kind::kCommand &&
      JudgeProbe(options_.target.features, e.exit_code, e.stdout_tail, e.stderr_tail).next ==
          ProbeVerdict::Next::kAgain) {
    // The receiver refuses an option the probe found it had: it is another
    // rsync now. Fail() has it probed again at the first retry.
    return {Outcome::kRetry, "the target's rsync changed; probing it again"};
  }
  if (c.outcome == Outcome::kPartial && !options_.target.features.ignore_missing_args &&
      options_.target.url.kind != TargetUrl::Kind::kCommand &&
      OnlyMissingPaths(e.stderr_tail, e.stderr_cut)) {
    return {Outcome::kDelivered, "some listed paths vanished before they could be sent"};
  }
  return c;
}

void Lane::FinishBatch() {
  Batch b = std::move(*batch_);
  batch_.reset();
  const std::string& name = options_.target.name;
  Status s = b.full_sync ? journal_->SetCursor(name, options_.destination, b.upto) : Status::Ok();
  if (s.ok()) s = journal_->AdvanceCursor(name, b.upto, b.events.size(), b.bytes);
  UpdateBusy();
  if (!s.ok()) {
    Log(s);  // delivered but not recorded: the batch goes again (at least once)
    SchedulePoll(options_.retry_min_ns);
    return;
  }
  {
    std::lock_guard lock(mu_);
    const int64_t now = executor_->clock()->MonotonicNanos();
    recent_.emplace_back(now, b.events.size());
    while (!recent_.empty() && recent_.front().first < now - 60'000'000'000) recent_.pop_front();
    status_.failures_in_a_row = 0;
    status_.next_attempt_ns = 0;
    status_.state = journal_->LastSeq() > b.upto ? TargetState::kCatchingUp : TargetState::kOk;
  }
  const int64_t now = executor_->clock()->MonotonicNanos();
  paced_until_ = b.full_sync || b.events.size() >= options_.batch_max_events
                     ? 0
                     : now + std::min(now - batch_started_, options_.max_pace_ns);
  SchedulePoll(0);
}

void Lane::Fail(Classified c, std::string message) {
  batch_.reset();
  // The target may have changed its rsync (or be another machine now): learn
  // it again before the next batch. Not for failures of some entries only.
  if (c.outcome != Outcome::kPartial) probed_ = false;
  UpdateBusy();
  int failures;
  {
    std::lock_guard lock(mu_);
    failures = ++status_.failures_in_a_row;
    status_.last_error = message;
    status_.state = c.outcome == Outcome::kBlocked ? TargetState::kBlocked : TargetState::kRetrying;
  }
  Status s = journal_->RecordFailure(options_.target.name, message);
  if (!s.ok()) Log(s);
  int64_t delay = options_.retry_max_ns;
  if (c.outcome != Outcome::kBlocked) {
    const int shift = std::min(failures - 1, 30);
    delay = std::min(options_.retry_max_ns, options_.retry_min_ns << shift);
    // +-25% jitter, so that lanes failing together do not retry together.
    std::uniform_int_distribution<int64_t> jitter(-delay / 4, delay / 4);
    delay = std::max<int64_t>(options_.retry_min_ns / 2, delay + jitter(rng_));
  }
  spdlog::warn("target {}: {} ({}); next try in {} ms", options_.target.name, message,
               OutcomeName(c.outcome), delay / 1'000'000);
  backoff_until_ = executor_->clock()->MonotonicNanos() + delay;
  {
    std::lock_guard lock(mu_);
    status_.next_attempt_ns = backoff_until_;
  }
  poll_scheduled_ = false;  // drop any earlier poll: the backoff decides
  ++poll_generation_;
  SchedulePoll(delay);
}

}  // namespace ferry
