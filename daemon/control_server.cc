#include "daemon/control_server.h"

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace ferry {
namespace {

constexpr size_t kMaxRequest = 1 << 20;  // one line; a longer one is refused
constexpr size_t kMaxClients = 64;

Result<sockaddr_un> Address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return Status::InvalidArgument("control socket path \"" + path + "\" must be 1 to " +
                                   std::to_string(sizeof addr.sun_path - 1) + " bytes long");
  }
  path.copy(addr.sun_path, path.size());
  return addr;
}

// True when a process accepts connections at `path`.
bool Live(const sockaddr_un& addr) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool live = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return live;
}

bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

nlohmann::json ControlError(const std::string& message) {
  return {{"ok", false}, {"error", message}};
}

Result<std::unique_ptr<ControlServer>> ControlServer::Start(ControlOptions options,
                                                            Handler handler) {
  auto addr = Address(options.path);
  if (!addr) return addr.error();
  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(options.path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return ErrnoStatus(ec.value(), "mkdir", parent.string());

  struct stat st;
  if (lstat(options.path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return Status::InvalidArgument("control socket path " + options.path +
                                     " exists and is not a socket; remove it or set "
                                     "[control] socket to another path");
    }
    if (Live(*addr)) {
      return Status::InvalidArgument("another process (a running ferryd?) listens on " +
                                     options.path + "; stop it or set [control] socket");
    }
    unlink(options.path.c_str());  // stale, from a process that died
  }

  // Bound under a temporary name, given its mode, then renamed into place.
  const std::string temp = options.path + ".tmp" + std::to_string(getpid());
  auto temp_addr = Address(temp);
  if (!temp_addr) return temp_addr.error();
  unlink(temp.c_str());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return ErrnoStatus(errno, "socket", options.path);
  auto fail = [&](const char* call) {
    Status s = ErrnoStatus(errno, call, options.path);
    close(fd);
    unlink(temp.c_str());
    return s;
  };
  if (bind(fd, reinterpret_cast<const sockaddr*>(&*temp_addr), sizeof *temp_addr) != 0) {
    return fail("bind");
  }
  if (chmod(temp.c_str(), options.mode) != 0) return fail("chmod");
  if (listen(fd, 16) != 0) return fail("listen");
  if (rename(temp.c_str(), options.path.c_str()) != 0) return fail("rename");
  int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) return fail("eventfd");
  std::unique_ptr<ControlServer> server(
      new ControlServer(std::move(options), std::move(handler), fd, wake));
  server->thread_ = std::thread([s = server.get()] { s->Run(); });
  for (int i = 0; i < kHandlerThreads; ++i) {
    server->pool_.emplace_back([s = server.get()] { s->RunHandlers(); });
  }
  return server;
}

ControlServer::ControlServer(ControlOptions options, Handler handler, int listen_fd, int wake_fd)
    : options_(std::move(options)),
      handler_(std::move(handler)),
      listen_fd_(listen_fd),
      wake_fd_(wake_fd) {}

ControlServer::~ControlServer() {
  {
    std::lock_guard lock(jobs_mu_);
    stop_ = true;
  }
  jobs_cv_.notify_all();
  Wake();
  if (thread_.joinable()) thread_.join();
  for (std::thread& t : pool_) t.join();  // a running request finishes first
  close(listen_fd_);
  close(wake_fd_);
  unlink(options_.path.c_str());
}

void ControlServer::Wake() {
  uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof one) < 0) {
    // The eventfd cannot be full; nothing else can fail here.
  }
}

bool ControlServer::Allowed(const ControlPeer& peer, std::string* refusal) const {
  if (peer.uid == 0 || peer.uid == geteuid()) return true;
  if ((options_.mode & 0060) && peer.gid == getegid()) return true;
  if (options_.mode & 0006) return true;
  *refusal = "permission denied: uid " + std::to_string(peer.uid) + " (pid " +
             std::to_string(peer.pid) +
             ") may not use ferryd's control socket; only root and uid " +
             std::to_string(geteuid()) + " may (see [control] mode)";
  return false;
}

std::string ControlServer::Serve(const std::string& line, const ControlPeer& peer) {
  nlohmann::json reply;
  auto request = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded() || !request.is_object()) {
    reply = ControlError("bad request: each line must be one JSON object, like {\"verb\": \"status\"}");
  } else {
    try {
      reply = handler_(request, peer);
    } catch (const std::exception& e) {  // a malformed field the handler tripped on
      reply = ControlError(std::string("bad request: ") + e.what());
    }
  }
  // Paths may hold bytes that are not UTF-8: replace rather than throw.
  return reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void ControlServer::RunHandlers() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(jobs_mu_);
      jobs_cv_.wait(lock, [&] { return stop_ || !todo_.empty(); });
      if (stop_) return;
      job = std::move(todo_.front());
      todo_.pop_front();
    }
    job.line = Serve(job.line, job.peer);
    {
      std::lock_guard lock(jobs_mu_);
      done_.push_back(std::move(job));
    }
    Wake();
  }
}

void ControlServer::Run() {
  struct Client {
    ControlPeer peer;
    std::string buffer;  // bytes read but not yet a whole line
    bool busy = false;   // a request of it is with the handlers
  };
  std::map<int, Client> clients;
  // Hands the client's next whole line to the handlers; false when it must
  // be closed (a line over the limit).
  auto next = [&](int fd, Client& c) {
    const size_t nl = c.buffer.find('\n');
    if (nl == std::string::npos) {
      if (c.buffer.size() <= kMaxRequest) return true;
      WriteAll(fd, ControlError("request longer than 1 MiB").dump() + "\n");
      return false;
    }
    Job job{.fd = fd, .peer = c.peer, .line = c.buffer.substr(0, nl)};
    c.buffer.erase(0, nl + 1);
    c.busy = true;
    {
      std::lock_guard lock(jobs_mu_);
      todo_.push_back(std::move(job));
    }
    jobs_cv_.notify_one();
    return true;
  };
  auto drop = [&](int fd) {
    close(fd);
    clients.erase(fd);
  };
  while (!stop_) {
    std::vector<pollfd> fds{{wake_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    for (const auto& [fd, c] : clients) {
      if (!c.busy) fds.push_back({fd, POLLIN, 0});
    }
    if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) {
      // ENOMEM, the only error left: wait and serve again rather than leave
      // ferryctl without an answer for the rest of ferryd's life.
      spdlog::error("control socket: poll: {}; serving again in 1 s", strerror(errno));
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    if (fds[0].revents & POLLIN) {
      uint64_t count;
      if (read(wake_fd_, &count, sizeof count) < 0) {
        // EAGAIN: another wake-up took it; the replies are read below anyway.
      }
      std::deque<Job> done;
      {
        std::lock_guard lock(jobs_mu_);
        done.swap(done_);
      }
      for (Job& job : done) {
        Client& c = clients[job.fd];
        c.busy = false;
        if (!WriteAll(job.fd, job.line) || !next(job.fd, c)) drop(job.fd);
      }
    }
    if (fds[1].revents & POLLIN) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      ucred cred{};
      socklen_t len = sizeof cred;
      std::string refusal;
      if (fd < 0) {
        // EAGAIN or a client that went away meanwhile.
      } else if (clients.size() >= kMaxClients) {
        WriteAll(fd, ControlError("too many control connections; try again").dump() + "\n");
        close(fd);
      } else if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        WriteAll(fd, ControlError("cannot read the peer's credentials").dump() + "\n");
        close(fd);
      } else if (ControlPeer peer{.uid = cred.uid, .gid = cred.gid, .pid = cred.pid};
                 !Allowed(peer, &refusal)) {
        spdlog::warn("control socket: refused a client: {}", refusal);
        WriteAll(fd, ControlError(refusal).dump() + "\n");
        close(fd);
      } else {
        timeval timeout{.tv_sec = 5, .tv_usec = 0};  // a client that stops reading
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
        clients[fd].peer = peer;
      }
    }
    for (size_t i = 2; i < fds.size(); ++i) {
      if (!fds[i].revents) continue;
      const int fd = fds[i].fd;
      Client& c = clients[fd];
      char chunk[65536];
      ssize_t n = read(fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        drop(fd);
        continue;
      }
      c.buffer.append(chunk, static_cast<size_t>(n));
      if (!next(fd, c)) drop(fd);
    }
  }
  for (const auto& [fd, c] : clients) close(fd);
}

}  // namespace ferry
