#!/bin/sh
# The README's test command, and exactly what CI runs (.ci/run):
#   1. installs the dependencies and builds ./build (tools/build.sh: g++,
#      -O2 -g, the build the demo and the package use);
#   2. runs every test there except the long `soak` label and, when step 3
#      runs, the `integration` label;
#   3. runs the unit and integration labels, built with clang under
#      AddressSanitizer + UndefinedBehaviorSanitizer (./build-asan) and under
#      ThreadSanitizer (./build-tsan). Any sanitizer report ends the process
#      it happens in, so the test fails.
# The whole command must stay under 20 minutes on 2 cores, so: unity builds,
# one precompiled header for the tests, the sanitizer builds compiling at
# low priority while step 2 runs, and the integration tests run under the
# two sanitizers only (the -O2 ferryd is run end to end by the fault and
# compat labels), so ./build does not even compile them then; the receivers
# of the compat label are built in parallel. FERRY_SANITIZERS=no skips step 3 (a quick local
# run); arguments go to step 2's ctest. Test scratch directories go to
# $TMPDIR (default /var/tmp: creating files in /tmp is far slower on the
# project's machines).
set -eu
cd "$(dirname "$0")/.."
sanitizers="${FERRY_SANITIZERS:-yes}"
if [ "$sanitizers" != no ]; then
  tools/build.sh -DFERRY_INTEGRATION_IN_ALL=OFF  # built and run in step 3 only
else
  tools/build.sh -DFERRY_INTEGRATION_IN_ALL=ON
fi
export TMPDIR="${TMPDIR:-/var/tmp}"

# clang compiles these about twice as fast as g++; -O1 with line tables keeps
# reports naming file and line; FERRY_PCH precompiles the tests' headers.
configure() {  # configure DIR SANITIZERS
  CC=clang CXX=clang++ cmake -S . -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=None \
    -DCMAKE_CXX_FLAGS="-O1 -g1" -DSANITIZE="$2" -DFERRY_PCH=ON -DFERRY_WERROR=ON \
    -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16 >/dev/null
}
builder=""
skip=soak
if [ "$sanitizers" != no ]; then
  skip='soak|integration'
  configure build-asan address,undefined
  configure build-tsan thread
  nice -n 19 sh -c 'cmake --build build-asan --target unit_integration_tests &&
    cmake --build build-tsan --target unit_integration_tests' >build-sanitizers.log 2>&1 &
  builder=$!
fi

status=0
ctest --test-dir build --output-on-failure --timeout 600 -j2 -LE "$skip" -E '_NOT_BUILT$' "$@" ||
  status=$?
[ -z "$builder" ] && exit "$status"
if ! wait "$builder"; then
  cat build-sanitizers.log
  echo "ferry: the sanitizer builds failed (above)" >&2
  exit 1
fi
[ "$status" -eq 0 ] || exit "$status"

# -j3: a sanitized test spends much of its time waiting on rsync and inotify.
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure --timeout 900 -j3 -L 'unit|integration'
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ignore_noninstrumented_modules=1 \
suppressions=$PWD/tests/tsan-rocksdb.supp" \
  ctest --test-dir build-tsan --output-on-failure --timeout 900 -j3 -L 'unit|integration'
