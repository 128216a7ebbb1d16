// Where a running ferryd's control socket is, recorded in its journal
// directory: `ferryctl --journal DIR` finds the ferryd running on that
// journal whatever its config put in [control] socket.
//
// The file DIR/ferryd.control holds the socket's absolute path and a
// newline. ferryd writes it (mode 0600, replaced atomically) once its
// control socket listens, and leaves it at exit: a stale one names a socket
// that no one listens on, which ferryctl reports as "stopped" anyway.
#pragma once

#include <optional>
#include <string>

#include "base/status.h"

namespace ferry {

std::string ControlLocatorPath(const std::string& journal_dir);
Status WriteControlLocator(const std::string& journal_dir, const std::string& socket);
// The recorded socket path; nullopt when there is no readable record.
std::optional<std::string> ReadControlLocator(const std::string& journal_dir);

}  // namespace ferry
