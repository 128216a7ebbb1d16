// MetricsServer: ferryd's /metrics endpoint ([metrics] listen), the status
// as Prometheus text (journal/metrics.h), served by civetweb (an embedded
// HTTP server from Debian; no HTTP parsing of ours). Only GET /metrics is
// answered; everything else is 404. civetweb runs its own threads; the
// status callback is called on them and must be thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"

struct mg_context;
struct mg_connection;

namespace ferry {

class MetricsServer {
 public:
  using StatusFn = std::function<nlohmann::json()>;
  // `listen` is "HOST:PORT" (e.g. 127.0.0.1:9477). InvalidArgument when the
  // address cannot be bound (in use, bad host), naming it.
  static Result<std::unique_ptr<MetricsServer>> Start(const std::string& listen, StatusFn status);
  ~MetricsServer();  // stops serving; waits for requests in flight

 private:
  MetricsServer(StatusFn status) : status_(std::move(status)) {}
  static int Handle(::mg_connection* conn, void* self);

  StatusFn status_;
  mg_context* ctx_ = nullptr;
};

}  // namespace ferry
