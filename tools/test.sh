#!/bin/sh
# The README's test command, and exactly what CI runs (.ci/run): installs the
# dependencies, builds, and runs every test except the long `soak` label.
# Test scratch directories go to $TMPDIR (default /var/tmp: creating files in
# /tmp is far slower on the project's machines).
set -eu
cd "$(dirname "$0")/.."
tools/build.sh
export TMPDIR="${TMPDIR:-/var/tmp}"
ctest --test-dir build --output-on-failure --timeout 600 -j2 -LE soak "$@"
