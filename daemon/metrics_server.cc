#include "daemon/metrics_server.h"

#include <civetweb.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <mutex>

#include "journal/metrics.h"

namespace ferry {

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& listen,
                                                            StatusFn status) {
  static std::once_flag library;
  std::call_once(library, [] { mg_init_library(0); });
  std::unique_ptr<MetricsServer> server(new MetricsServer(std::move(status)));
  const char* options[] = {"listening_ports",    listen.c_str(), "num_threads", "2",
                           "request_timeout_ms", "10000",        nullptr};
  mg_callbacks callbacks;
  std::memset(&callbacks, 0, sizeof callbacks);
  // civetweb's own log lines would go to stderr unformatted; its start
  // error comes back below.
  callbacks.log_message = [](const mg_connection*, const char*) { return 1; };
  mg_init_data init;
  std::memset(&init, 0, sizeof init);
  init.callbacks = &callbacks;
  init.configuration_options = options;
  char why[256] = {};
  mg_error_data error;
  std::memset(&error, 0, sizeof error);
  error.text = why;
  error.text_buffer_size = sizeof why;
  server->ctx_ = mg_start2(&init, &error);
  if (server->ctx_ == nullptr) {
    return Status::InvalidArgument("[metrics] listen = " + listen + ": cannot listen there (" +
                                   why + "); is the port in use?");
  }
  mg_set_request_handler(server->ctx_, "/metrics$", &MetricsServer::Handle, server.get());
  return server;
}

MetricsServer::~MetricsServer() {
  if (ctx_) mg_stop(ctx_);
}

int MetricsServer::Handle(::mg_connection* conn, void* self) {
  const mg_request_info* request = mg_get_request_info(conn);
  if (std::strcmp(request->request_method, "GET") != 0) {
    mg_send_http_error(conn, 405, "only GET");
    return 405;
  }
  std::string body;
  try {
    body = MetricsText(static_cast<MetricsServer*>(self)->status_());
  } catch (const std::exception& e) {  // civetweb's thread must not unwind: answer, log, go on
    spdlog::error("/metrics: cannot build the metrics: {}", e.what());
    mg_send_http_error(conn, 500, "cannot build the metrics: %s", e.what());
    return 500;
  }
  mg_send_http_ok(conn, "text/plain; version=0.0.4; charset=utf-8",
                  static_cast<long long>(body.size()));
  mg_write(conn, body.data(), body.size());
  return 200;
}

}  // namespace ferry
