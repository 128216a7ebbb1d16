// The client side of ferryd's control socket (daemon/control_server.h):
// one JSON request line out, one JSON reply line back.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"

namespace ferry {

// Sends `request` to the ferryd listening at `socket_path` and returns its
// reply. NotFound when no ferryd listens there (the caller may then work on
// the journal directly); IOError for other failures, naming the socket; a
// refusal by ferryd (wrong uid) is returned as the reply ("ok": false).
Result<nlohmann::json> ControlCall(const std::string& socket_path, const nlohmann::json& request,
                                   int timeout_ms = 30'000);

}  // namespace ferry
