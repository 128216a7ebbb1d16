// The file-system checks of the settings, apart from their parsing (which
// stats nothing): what ferryd checks once at start and reload, and what a
// lane checks before each run.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "settings/config.h"

namespace ferry {

// rsync refuses a password file that others can read or write ("password
// file must not be other-accessible") and fails every run with exit 1.
// InvalidArgument saying so and how to fix it, NotFound if it is missing.
Status CheckPasswordFile(const std::string& path);

// Whether `source` is still a directory on `device` (its st_dev when
// ferryd started). An unmounted
// source leaves an empty mount point on another device, and a send from it
// would delete the target's copies: Retry saying so.
Status CheckSource(const std::string& source, uint64_t device);

// Every check of a parsed config that needs the file system: each
// destination's source is a directory, each password file is usable.
// InvalidArgument with the config's one-line message (file, line, section,
// key, what is wrong and how to fix it).
Status CheckConfig(const Config& config);

}  // namespace ferry
