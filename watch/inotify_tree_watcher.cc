// The inotify backend of TreeWatcher (tree_watcher.h).
#include <atomic>

#include "watch/inotify_reader.h"
#include "watch/tree_watcher.h"

namespace ferry {
namespace {

class InotifyTreeWatcher final : public TreeWatcher {
 public:
  InotifyTreeWatcher(std::unique_ptr<Watcher> watcher, Clock* clock)
      : watcher_(std::move(watcher)), clock_(clock) {}
  ~InotifyTreeWatcher() override {
    if (reader_) reader_->Stop();
  }

  Result<ReconcileStats> Start() override {
    auto stats = watcher_->Start();
    if (!stats) return stats;
    FERRY_RETURN_IF_ERROR(StartReader());
    return stats;
  }

  Status Turn() override {
    std::vector<InotifyRecord> records = reader_->Take(100);
    const bool quiet = records.empty();
    Status s = watcher_->Process(records);
    if (s.ok() && retry_.exchange(false)) s = watcher_->Retry();
    if (s.ok()) s = watcher_->Tick();
    // Settling is for the next start, never urgent: it waits for a quiet
    // turn (or a second), so that a burst does not pay for its stats and
    // leases while the writer runs.
    const int64_t now = clock_->MonotonicNanos();
    if (s.ok() && (quiet || now - last_settle_ns_ >= kSettleEveryNs)) {
      last_settle_ns_ = now;
      s = watcher_->Settle([this] { return reader_->CaughtUp(); });
    }
    return s;
  }

  Status FeedError() const override {
    Status err = reader_ ? reader_->error() : Status::Ok();
    return err.ok() ? err : Status::IOError("the inotify reader stopped: " + err.message());
  }

  void FeedStopped(std::string why) override { watcher_->RecordsStopped(std::move(why)); }

  Result<ReconcileStats> Rebuild() override {
    // What was read before the feed stopped; the rescan covers what was lost.
    (void)DrainReader();
    auto stats = watcher_->Rebuild();
    if (!stats) return stats;
    FERRY_RETURN_IF_ERROR(StartReader());
    return stats;
  }

  Status Stop() override { return DrainReader(); }

  void RequestRetry() override { retry_ = true; }
  WatcherStatus status() const override { return watcher_->status(); }

 private:
  Status StartReader() {
    reader_ = std::make_unique<InotifyReader>(watcher_->fd());
    return reader_->Start();
  }
  // Stops the reader and journals what it had read.
  Status DrainReader() {
    if (!reader_) return Status::Ok();
    reader_->Stop();
    Status s = watcher_->Process(reader_->Take(0));
    reader_.reset();
    return s;
  }

  static constexpr int64_t kSettleEveryNs = 1'000'000'000;

  std::unique_ptr<Watcher> watcher_;
  Clock* clock_;
  std::unique_ptr<InotifyReader> reader_;
  int64_t last_settle_ns_ = 0;
  std::atomic<bool> retry_{false};
};

}  // namespace

Result<std::unique_ptr<TreeWatcher>> CreateInotifyTreeWatcher(WatcherOptions options,
                                                              Journal* journal, Clock* clock) {
  auto watcher = Watcher::Create(std::move(options), journal, clock);
  if (!watcher) return watcher.error();
  return std::unique_ptr<TreeWatcher>(std::make_unique<InotifyTreeWatcher>(std::move(*watcher), clock));
}

}  // namespace ferry
