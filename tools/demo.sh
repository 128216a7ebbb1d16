#!/bin/sh
# The README's first command: installs the dependencies, builds, and runs
# ferryd in the foreground on a demo default: it watches ./demo/src and
# replicates to ./demo/dst (a local target: no server needed), with its
# journal in ./demo/journal. Stop it with Ctrl-C; start it again and it
# carries on where it stopped.
set -eu
cd "$(dirname "$0")/.."
tools/build.sh
mkdir -p demo/src demo/dst
cat <<'MSG'

ferryd replicates ./demo/src to ./demo/dst. In another terminal, try:
  echo hi > demo/src/a && cat demo/dst/a
  mkdir -p demo/src/x/y && cp -r /etc/default demo/src/x/y/ && ls -R demo/dst/x
  mv demo/src/x demo/src/renamed && ls demo/dst
and see what ferry does:
  build/tools/ferryctl --journal demo/journal status
  build/tools/ferryctl --journal demo/journal log -f
Stop ferryd with Ctrl-C, change demo/src, start this again: the changes made
meanwhile are found and sent (no full resync). Options: build/daemon/ferryd --help

MSG
exec build/daemon/ferryd --source demo/src --target "$PWD/demo/dst" --journal demo/journal "$@"
