#!/bin/sh
# The README's first command: installs the dependencies, builds, and shows
# ferry's journal at work (until ferryd lands, this is the journal demo and a
# quick durable-append measurement). State goes to ./demo/journal.
set -eu
cd "$(dirname "$0")/.."
tools/build.sh
exec build/tools/ferry-journal-demo --journal demo/journal "$@"
