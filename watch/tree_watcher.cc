// TreeWatcher (tree_watcher.h): a Watcher and its ChangeFeed, for either
// backend.
#include "watch/tree_watcher.h"

#include <atomic>

#include "watch/change_feed.h"
#include "watch/fanotify_probe.h"

namespace ferry {
namespace {

class KernelTreeWatcher final : public TreeWatcher {
 public:
  KernelTreeWatcher(std::unique_ptr<Watcher> watcher, std::unique_ptr<ChangeFeed> feed,
                    Clock* clock)
      : watcher_(std::move(watcher)), feed_(std::move(feed)), clock_(clock) {}
  ~KernelTreeWatcher() override { feed_.reset(); }  // its reader first

  Result<ReconcileStats> Start() override { return Begin([this] { return watcher_->Start(); }); }

  Status Turn() override {
    auto taken = feed_->Feed(100);
    const bool quiet = taken && *taken == 0;
    Status s = taken ? Status::Ok() : taken.error();
    if (s.ok() && retry_.exchange(false)) s = watcher_->Retry();
    if (s.ok()) s = watcher_->Tick();
    // Settling is for the next start, never urgent: it waits for a quiet
    // turn (or a second), so that a burst does not pay for its stats and
    // leases while the writer runs.
    const int64_t now = clock_->MonotonicNanos();
    if (s.ok() && (quiet || now - last_settle_ns_ >= kSettleEveryNs)) {
      last_settle_ns_ = now;
      s = watcher_->Settle([this] { return feed_->CaughtUp(); });
    }
    return s;
  }

  Status FeedError() const override {
    Status err = feed_->error();
    return err.ok() ? err
                    : Status::IOError(std::string("the ") + feed_->name() +
                                      " reader stopped: " + err.message());
  }

  void FeedStopped(std::string why) override { watcher_->RecordsStopped(std::move(why)); }

  Result<ReconcileStats> Rebuild() override {
    // What was read before the feed stopped; the rescan covers what was lost.
    (void)feed_->Drain();
    return Begin([this] { return watcher_->Rebuild(); });
  }

  Status Stop() override { return feed_->Drain(); }

  void RequestRetry() override { retry_ = true; }
  WatcherStatus status() const override { return watcher_->status(); }

 private:
  // The kernel source, then the reconcile `start`, with the reader started
  // before it or after it as the backend needs.
  template <typename F>
  Result<ReconcileStats> Begin(F start) {
    Status opened = feed_->Open();
    if (!opened.ok()) {
      watcher_->RecordsStopped(opened.message() + "; retried");
      return opened;
    }
    if (feed_->ReadsDuringStart()) FERRY_RETURN_IF_ERROR(feed_->StartReader());
    auto stats = start();
    if (!stats) return stats;
    if (!feed_->ReadsDuringStart()) FERRY_RETURN_IF_ERROR(feed_->StartReader());
    return stats;
  }

  static constexpr int64_t kSettleEveryNs = 1'000'000'000;

  std::unique_ptr<Watcher> watcher_;
  std::unique_ptr<ChangeFeed> feed_;
  Clock* clock_;
  int64_t last_settle_ns_ = 0;
  std::atomic<bool> retry_{false};
};

}  // namespace

Result<BackendChoice> ChooseBackend(WatcherBackend asked, const std::string& source) {
  if (asked == WatcherBackend::kInotify) return BackendChoice{asked, "watcher = inotify"};
  const Status usable = FanotifyUsable(source);
  if (asked == WatcherBackend::kFanotify) {
    if (!usable.ok()) return Status::InvalidArgument("watcher = fanotify: " + usable.message());
    return BackendChoice{asked, "watcher = fanotify"};
  }
  if (usable.ok()) {
    return BackendChoice{WatcherBackend::kFanotify,
                         "watcher = auto: fanotify can mark the source's filesystem (one mark, "
                         "no watch per directory)"};
  }
  return BackendChoice{WatcherBackend::kInotify,
                       "watcher = auto: inotify, since " + usable.message()};
}

Result<std::unique_ptr<TreeWatcher>> CreateTreeWatcher(WatcherOptions options, Journal* journal,
                                                       Clock* clock) {
  auto watcher = Watcher::Create(options, journal, clock);
  if (!watcher) return watcher.error();
  auto feed = MakeChangeFeed(watcher->get(), options);
  if (!feed) return feed.error();
  return std::unique_ptr<TreeWatcher>(
      std::make_unique<KernelTreeWatcher>(std::move(*watcher), std::move(*feed), clock));
}

}  // namespace ferry
