#include "journal/pending.h"

namespace ferry {

Result<Pending> CountPending(Journal* journal, uint32_t destination, uint64_t after_seq,
                             uint64_t head, uint64_t max_walk) {
  Pending p;
  if (after_seq >= head) return p;
  // A journal of one destination (the common case): every event is its, so
  // the count needs no walk, and the oldest is the first one read.
  auto destinations = journal->Destinations();
  if (!destinations) return destinations.error();
  if (destinations->size() == 1 && destinations->front().second == destination) {
    auto reader = journal->NewReader({.from_seq = after_seq + 1, .to_seq = head});
    if (reader->Valid()) {
      p.first_seq = reader->event().seq;
      p.oldest_time_ns = reader->event().time_ns;
    }
    if (!reader->status().ok()) return reader->status();
    p.events = head - after_seq;
    return p;
  }
  auto reader = journal->NewReader({.from_seq = after_seq + 1, .to_seq = head});
  uint64_t walked = 0;
  for (; reader->Valid(); reader->Next()) {
    if (++walked > max_walk) {
      p.exact = false;
      p.events = head - after_seq;
      break;
    }
    const Event& e = reader->event();
    if (e.destination != destination) continue;
    if (p.events++ == 0) {
      p.first_seq = e.seq;
      p.oldest_time_ns = e.time_ns;
    }
  }
  if (!reader->status().ok()) return reader->status();
  return p;
}

Result<uint64_t> SeqAtTime(Journal* journal, uint32_t destination, int64_t time_ns, uint64_t head) {
  auto from = journal->FirstSeqAtTime(time_ns);
  if (!from) return from.error();
  auto reader =
      journal->NewReader({.from_seq = *from, .to_seq = head, .destination = destination});
  for (; reader->Valid(); reader->Next()) {
    if (reader->event().time_ns >= time_ns) return reader->event().seq;
  }
  if (!reader->status().ok()) return reader->status();
  return head + 1;
}

Result<ReplayPlan> PlanReplay(Journal* journal, uint32_t destination,
                              std::optional<int64_t> since_ns, uint64_t from_seq) {
  ReplayPlan plan;
  plan.to_seq = journal->LastSeq();
  plan.from_seq = from_seq;
  if (since_ns) {
    auto seq = SeqAtTime(journal, destination, *since_ns, plan.to_seq);
    if (!seq) return seq.error();
    plan.from_seq = *seq;
  }
  auto oldest = journal->OldestSeq();
  if (!oldest) return oldest.error();
  plan.oldest_seq = *oldest;
  // Seqs start at 1: anything below the oldest retained one was trimmed.
  plan.trimmed = plan.from_seq<*oldest&& * oldest> 1;
  if (plan.trimmed) return plan;
  auto pending = CountPending(journal, destination, plan.from_seq == 0 ? 0 : plan.from_seq - 1,
                              plan.to_seq, UINT64_MAX);
  if (!pending) return pending.error();
  plan.events = pending->events;
  return plan;
}

std::string TrimmedReplayError(const ReplayPlan& plan) {
  return "seq " + std::to_string(plan.from_seq) +
         " is no longer in the journal; the oldest retained is " + std::to_string(plan.oldest_seq) +
         " (replay from there, or add --full-sync to resync the whole tree)";
}

}  // namespace ferry
