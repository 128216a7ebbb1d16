// ControlServer: ferryd's control socket. A unix stream socket; each request
// is one line of JSON and gets one line of JSON back, in order, on the same
// connection (`socat - UNIX-CONNECT:/run/ferry/ferryd.sock` works by hand).
//
// Who may talk: the socket file has `mode` (owner-only 0600 by default), and
// every peer's credentials (SO_PEERCRED) are checked at accept, so a mode
// that is too open does not open the daemon: root and ferryd's own uid may
// always connect; ferryd's group too when `mode` has group bits; anyone only
// when it has other bits. A refused peer gets one error line, naming its uid,
// and is disconnected; the refusal is logged.
//
// One thread reads and writes every connection; the handler runs on a pool
// of kHandlerThreads threads, so a slow request (a reload walking a new
// tree) does not hold up the others. Each connection gets its replies in
// order: its next line is not read until its last reply is written.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/status.h"

namespace ferry {

struct ControlOptions {
  std::string path;
  mode_t mode = 0600;
};

// Who sent a request, from the socket's SO_PEERCRED at accept.
// A refusal, as every verb answers one: {"ok": false, "error": message}.
nlohmann::json ControlError(const std::string& message);

struct ControlPeer {
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t pid = 0;
};

class ControlServer {
 public:
  // Returns the reply; {"ok": false, "error": ...} for a failed request.
  // Runs on any of the pool's threads, several at once.
  using Handler =
      std::function<nlohmann::json(const nlohmann::json& request, const ControlPeer& peer)>;
  static constexpr int kHandlerThreads = 4;

  // Binds the socket (made under a temporary name, given its mode, then
  // renamed into place, so it is never reachable with a wider mode) and
  // starts serving. The parent directory is created if missing. A stale
  // socket file is replaced; one a live process listens on is an error.
  static Result<std::unique_ptr<ControlServer>> Start(ControlOptions options, Handler handler);
  ~ControlServer();  // stops serving, closes every connection, removes the file

  const std::string& path() const { return options_.path; }

 private:
  struct Job {
    int fd;
    ControlPeer peer;
    std::string line;  // the request; the reply, once done
  };

  ControlServer(ControlOptions options, Handler handler, int listen_fd, int wake_fd);
  void Run();
  void RunHandlers();  // a pool thread
  bool Allowed(const ControlPeer& peer, std::string* refusal) const;
  std::string Serve(const std::string& line, const ControlPeer& peer);
  void Wake();

  ControlOptions options_;
  Handler handler_;
  int listen_fd_;
  int wake_fd_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<std::thread> pool_;
  std::mutex jobs_mu_;
  std::condition_variable jobs_cv_;
  std::deque<Job> todo_;  // guarded by jobs_mu_
  std::deque<Job> done_;  // guarded by jobs_mu_; Run writes them out
};

}  // namespace ferry
