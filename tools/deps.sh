#!/bin/sh
# Installs the Debian 12 packages ferry needs to build and test. Idempotent:
# does nothing when everything is installed; otherwise runs `apt-get update`
# once and installs what is missing. Works as root or through sudo.
set -eu

PACKAGES="
  g++ cmake ninja-build pkg-config dpkg-dev
  librocksdb-dev liburing-dev libboost-program-options-dev libspdlog-dev
  libre2-dev libsystemd-dev nlohmann-json3-dev libpugixml-dev libcivetweb-dev go-md2man
  libgtest-dev libgmock-dev libbenchmark-dev
  rsync openssh-server openssh-client jq python3
  autoconf automake make perl gcc
  clang libclang-rt-14-dev llvm
"

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1; then
  as_root="sudo"
else
  echo "ferry: need root or sudo to install:$missing" >&2
  exit 1
fi
echo "ferry: installing:$missing"
$as_root apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends $missing
