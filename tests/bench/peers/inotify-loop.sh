#!/bin/bash
# The classic "inotifywait | while read; do rsync; done" replicator, as found in countless
# blog posts and wikis: one full `rsync -a --delete SRC/ DST/` per event line, one at a time.
# usage: inotify-loop.sh SRC DST [extra rsync options, e.g. --password-file=FILE]
# Differences from the usual one-liner: no -q (so inotifywait prints "Watches established."
# on stderr, which run.sh waits for) and `lastpipe`, so the loop runs in this script's own
# process (run.sh reads its CPU time, and the rsync children it reaps, from /proc/$PID).
shopt -s lastpipe
src=$1 dst=$2
shift 2
inotifywait -mr -e modify,create,delete,move,attrib,close_write "$src" |
  while read -r _; do
    rsync -a --delete "$@" "$src/" "$dst/"
  done
