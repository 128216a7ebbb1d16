#!/bin/sh
# Installs the dependencies, then configures and builds ferry in ./build
# (warnings are errors, as in CI). Extra arguments go to cmake's configure step.
set -eu
cd "$(dirname "$0")/.."
tools/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFERRY_WERROR=ON "$@" >/dev/null
cmake --build build
