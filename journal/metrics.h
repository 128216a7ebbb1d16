// The status ferryd reports (and ferryctl rebuilds from a stopped daemon's
// journal) as Prometheus text exposition, version 0.0.4. Shared by
// `ferryctl metrics` and ferryd's /metrics endpoint, so both say the same.
//
// The input is the "status" JSON of the control socket (daemon/ferryd.h,
// documented in the README); missing fields are left out, never invented.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace ferry {

std::string MetricsText(const nlohmann::json& status);


}  // namespace ferry
