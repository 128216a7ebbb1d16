#include "watch/change_feed.h"

#include <unistd.h>

#include <utility>
#include <vector>

#include "watch/fanotify_changes.h"
#include "watch/fanotify_probe.h"

namespace ferry {
namespace {

// What both feeds do with their reader thread; Hand() passes what it read on.
template <typename Kernel>
class ReaderFeed : public ChangeFeed {
 public:
  using Record = typename Kernel::Record;
  Result<size_t> Feed(int timeout_ms) override { return Hand(reader_->Take(timeout_ms)); }
  bool CaughtUp() const override { return reader_->CaughtUp(); }
  Status error() const override { return reader_ ? reader_->error() : Status::Ok(); }
  Status Drain() override {
    if (!reader_) return Status::Ok();
    reader_->Stop();
    auto handed = Hand(reader_->Take(0));
    reader_.reset();
    return handed ? Status::Ok() : handed.error();
  }
  const char* name() const override { return Kernel::kName; }

 protected:
  explicit ReaderFeed(KernelReaderOptions options) : options_(options) {}
  Status StartReaderOn(int fd,
                      std::function<void(std::vector<Record>*)> prefilter = nullptr) {
    reader_ = std::make_unique<KernelReader<Kernel>>(fd, options_);
    if (prefilter) reader_->SetPrefilter(std::move(prefilter));
    return reader_->Start();
  }
  virtual Result<size_t> Hand(const std::vector<Record>& records) = 0;

  KernelReaderOptions options_;
  std::unique_ptr<KernelReader<Kernel>> reader_;
};

class InotifyChangeFeed final : public ReaderFeed<InotifyFeed> {
 public:
  InotifyChangeFeed(Watcher* watcher, KernelReaderOptions options)
      : ReaderFeed(options), watcher_(watcher) {}

  Status Open() override { return Status::Ok(); }  // the Watcher makes its instance
  bool ReadsDuringStart() const override { return false; }
  Status StartReader() override { return StartReaderOn(watcher_->fd()); }

 private:
  Result<size_t> Hand(const std::vector<InotifyRecord>& records) override {
    FERRY_RETURN_IF_ERROR(watcher_->Process(records));
    return records.size();
  }

  Watcher* watcher_;
};

class FanotifyChangeFeed final : public ReaderFeed<FanotifyFeed> {
 public:
  FanotifyChangeFeed(Watcher* watcher, FanotifyChanges changes, std::string root, bool modify,
                     KernelReaderOptions options)
      : ReaderFeed(options),
        watcher_(watcher),
        changes_(std::move(changes)),
        root_(std::move(root)),
        modify_(modify) {}
  ~FanotifyChangeFeed() override {
    reader_.reset();
    if (fd_ >= 0) close(fd_);
  }

  Status Open() override {
    reader_.reset();
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    auto fd = OpenFanotifyGroup(root_, modify_);
    if (!fd) return fd.error();
    fd_ = *fd;
    changes_.Clear();  // what was cached may have changed unseen
    return Status::Ok();
  }
  bool ReadsDuringStart() const override { return true; }
  Status StartReader() override {
    return StartReaderOn(fd_, [keys = changes_.elsewhere()](auto* records) {
      keys->DropKnown(records);
    });
  }

 private:
  Result<size_t> Hand(const std::vector<FanotifyRecord>& records) override {
    changes_buffer_.clear();
    changes_.Translate(records, &changes_buffer_);
    FERRY_RETURN_IF_ERROR(watcher_->Process(changes_buffer_));
    return records.size();
  }

  Watcher* watcher_;
  FanotifyChanges changes_;
  std::string root_;
  bool modify_;
  int fd_ = -1;
  std::vector<ChangeRecord> changes_buffer_;
};

}  // namespace

Result<std::unique_ptr<ChangeFeed>> MakeChangeFeed(Watcher* watcher,
                                                   const WatcherOptions& watcher_options,
                                                   const KernelReaderOptions* options) {
  if (watcher_options.backend != WatcherBackend::kFanotify) {
    return std::unique_ptr<ChangeFeed>(
        std::make_unique<InotifyChangeFeed>(watcher, options ? *options : KernelReaderOptions{}));
  }
  auto changes = FanotifyChanges::Open(watcher_options.root, watcher_options.filter);
  if (!changes) return changes.error();
  KernelReaderOptions fan;
  // ~200 bytes a record with its two handles and names: about 50 MB at most.
  fan.max_queued = 250'000;
  return std::unique_ptr<ChangeFeed>(std::make_unique<FanotifyChangeFeed>(
      watcher, std::move(*changes), watcher_options.root,
      (watcher_options.events & kSelectModify) != 0, options ? *options : fan));
}

}  // namespace ferry
