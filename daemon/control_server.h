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
// One thread serves every connection; the handler runs on it, one request at
// a time, so a handler may block for a moment but never for long.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "base/status.h"

namespace ferry {

struct ControlOptions {
  std::string path;
  mode_t mode = 0600;
};

class ControlServer {
 public:
  // Returns the reply; {"ok": false, "error": ...} for a failed request.
  using Handler = std::function<nlohmann::json(const nlohmann::json& request)>;

  // Binds the socket (made under a temporary name, given its mode, then
  // renamed into place, so it is never reachable with a wider mode) and
  // starts serving. The parent directory is created if missing. A stale
  // socket file is replaced; one a live process listens on is an error.
  static Result<std::unique_ptr<ControlServer>> Start(ControlOptions options, Handler handler);
  ~ControlServer();  // stops serving, closes every connection, removes the file

  const std::string& path() const { return options_.path; }

 private:
  ControlServer(ControlOptions options, Handler handler, int listen_fd, int wake_fd);
  void Run();
  bool Allowed(int fd, std::string* refusal) const;
  std::string Serve(const std::string& line);

  ControlOptions options_;
  Handler handler_;
  int listen_fd_;
  int wake_fd_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace ferry
