#include "tools/control_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

namespace ferry {

Result<nlohmann::json> ControlCall(const std::string& socket_path, const nlohmann::json& request,
                                   int timeout_ms) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof addr.sun_path) {
    return Status::InvalidArgument("control socket path \"" + socket_path + "\" is too long");
  }
  socket_path.copy(addr.sun_path, socket_path.size());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus(errno, "socket", socket_path);
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ECONNREFUSED) {
      return Status::NotFound("no ferryd listens on " + socket_path);
    }
    return ErrnoStatus(err, "connect", socket_path);
  }
  const std::string line = request.dump() + "\n";
  for (size_t done = 0; done < line.size();) {
    ssize_t n = send(fd, line.data() + done, line.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    // ferryd answers a peer it refuses at once and closes: its reply ("permission
    // denied: uid N") is still there to read.
    if (n < 0 && errno == EPIPE) break;
    if (n < 0) return ErrnoStatus(errno, "send", socket_path);
    done += static_cast<size_t>(n);
  }
  std::string reply;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (reply.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) {
      return Status::IOError("ferryd at " + socket_path + " did not answer within " +
                             std::to_string(timeout_ms) + " ms");
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) < 0 && errno != EINTR) {
      return ErrnoStatus(errno, "poll", socket_path);
    }
    char buf[65536];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return ErrnoStatus(errno, "read", socket_path);
    if (n == 0) {
      return Status::IOError("ferryd at " + socket_path + " closed the connection without a reply");
    }
    reply.append(buf, static_cast<size_t>(n));
  }
  auto j = nlohmann::json::parse(reply.substr(0, reply.find('\n')), nullptr, false);
  if (j.is_discarded()) return Status::IOError("ferryd at " + socket_path + " sent a bad reply");
  return j;
}

}  // namespace ferry
