// Lane: its dead letters. An entry that failed partial_attempts times is
// set aside (AddDeadLetter) so that the batch goes on; every
// dead_letter_retry, and when asked, each is sent alone again and removed
// once delivered.
#include <spdlog/spdlog.h>

#include <deque>

#include "journal/escape.h"
#include "replay/exit_class.h"
#include "replay/lane.h"
#include "replay/transfer.h"

namespace ferry {

void Lane::RetryDeadLettersNow() {
  executor_->Post([this] { RetryDeadLetters(); });
}

void Lane::AddDeadLetter(const std::string& path, const std::string& error) {
  const Batch& b = *batch_;
  Event event{.kind = EventKind::kModify, .path = path};
  for (auto it = b.events.rbegin(); it != b.events.rend(); ++it) {
    if (it->path == path || it->old_path == path) {
      event = *it;
      break;
    }
  }
  if (event.seq == 0) event.seq = b.upto;
  const int64_t now = executor_->clock()->WallNanos();
  spdlog::error("target {}: dead-lettered {} (seq {}): {}", options_.target.name, EscapePath(path),
                event.seq, error);
  Status s = journal_->PutDeadLetter({.target = options_.target.name,
                                      .event = std::move(event),
                                      .error = error,
                                      .attempts = static_cast<uint32_t>(options_.partial_attempts),
                                      .first_failed_ns = now,
                                      .last_failed_ns = now});
  if (!s.ok()) Log(s);
  std::lock_guard lock(mu_);
  ++status_.dead_lettered;
}

void Lane::RetryDeadLettersEvery() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
  }
  executor_->RunAfter(options_.dead_letter_retry_ns, [this] { RetryDeadLettersEvery(); });
  RetryDeadLetters();
}

void Lane::RetryDeadLetters() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
  }
  if (batch_ || retrying_dead_letters_ || probing_ || ProbeWanted()) {
    dead_letters_wanted_ = true;  // Poll runs it once the batch (or probe) has ended
    return;
  }
  auto letters = journal_->ListDeadLetters(options_.target.name);
  if (!letters) return Log(letters.error());
  if (letters->empty()) return;
  retrying_dead_letters_ = true;
  UpdateBusy();
  auto queue = std::make_shared<std::deque<DeadLetter>>(letters->begin(), letters->end());
  auto step = std::make_shared<std::function<void()>>();
  // The step holds itself only weakly (a strong self-capture is a cycle that
  // leaks every round); the running child's callback keeps it alive.
  *step = [this, queue, weak_step = std::weak_ptr(step)] {
    bool stopping;
    {
      std::lock_guard lock(mu_);
      stopping = stopping_;
    }
    if (queue->empty() || stopping) {
      retrying_dead_letters_ = false;
      UpdateBusy();
      SchedulePoll(0);
      return;
    }
    DeadLetter letter = std::move(queue->front());
    queue->pop_front();
    Transfer t = BuildTransfer(KindForEvent(letter.event), {letter.event.path}, options_.target);
    Spawn(t, [this, letter, step = weak_step.lock()](ChildExit e) mutable {
      Classified c = Classify(e);
      if (c.outcome == Outcome::kDelivered) {
        Status s = journal_->RemoveDeadLetter(letter.target, letter.event.seq);
        if (!s.ok()) Log(s);
      } else {
        ++letter.attempts;
        letter.last_failed_ns = executor_->clock()->WallNanos();
        letter.error = c.reason + ": " + ExplainFailure(e.stderr_tail);
        Status s = journal_->PutDeadLetter(letter);
        if (!s.ok()) Log(s);
      }
      (*step)();
    });
  };
  (*step)();
}

}  // namespace ferry
