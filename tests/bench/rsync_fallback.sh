#!/bin/bash
# tests/bench/rsync_fallback.sh [RSYNC]: what ferry's filter-rule deletes
# (for receivers without --delete-missing-args, replay/rsync_features.h) cost
# against --delete-missing-args: N of the 10,000 files of one directory
# deleted in one run to a local target, median of 5 runs each, side by side.
# RSYNC (default rsync) runs both ends. Work files under ${TMPDIR:-/var/tmp}.
set -eu
RSYNC=${1:-rsync}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/ferry-fallback.XXXXXX")
trap 'rm -rf "$work"' EXIT
med() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# run NAME INPUT ARGS...: times one rsync run from src to a fresh copy of full
run() {
  local name=$1 input=$2; shift 2
  rm -rf "$work/dst"; cp -a "$work/full" "$work/dst"
  local t0; t0=$(date +%s%N)
  "$RSYNC" -a --force --from0 "$@" "$work/src/" "$work/dst/" <"$input" >/dev/null 2>&1 || true
  echo $(( ($(date +%s%N) - t0) / 1000000 )) >>"$work/$name"
  diff -r "$work/src" "$work/dst" >/dev/null || echo "$name" >>"$work/wrong"
}
mkdir -p "$work/full/d"
for i in $(seq 10000); do : >"$work/full/d/f$i"; done
for n in 10 1000 5000; do
  rm -rf "$work/src"; cp -a "$work/full" "$work/src"
  rm -f $(seq -f "$work/src/d/f%g" 1 "$n")
  for i in $(seq "$n"); do printf './d/f%d\0' "$i"; done >"$work/list"
  # As replay/transfer.cc FilterRules: one rule pair per name, the whole
  # directory past kMaxRulesPerDirectory (64) names; "naive" is always per name.
  { printf '/d/\0'; for i in $(seq "$n"); do printf '/d/f%d\0/d/f%d/***\0' "$i" "$i"; done; } >"$work/naive"
  if [ "$n" -gt 64 ]; then printf '/d/\0/d/***\0' >"$work/rules"; else cp "$work/naive" "$work/rules"; fi
  rm -f "$work/dma" "$work/filter" "$work/per-name" "$work/wrong"
  for _ in 1 2 3 4 5; do
    run dma "$work/list" --files-from=- --delete-missing-args
    run filter "$work/rules" --include-from=- --exclude='*' --recursive --delete
    run per-name "$work/naive" --include-from=- --exclude='*' --recursive --delete
  done
  d=$(med <"$work/dma"); f=$(med <"$work/filter"); p=$(med <"$work/per-name")
  if grep -qx dma "$work/wrong" 2>/dev/null; then d="(not delivered: no --delete-missing-args)"; fi
  grep -qvx dma "$work/wrong" 2>/dev/null && echo "rsync_fallback: filter rules left a difference" >&2
  ratio() { case $d in *[!0-9]*) echo "-" ;; *) awk "BEGIN {printf \"%.1f\", $1 / ($d > 0 ? $d : 1)}" ;; esac; }
  echo "$n of 10000 deleted: --delete-missing-args ${d} ms; ferry's filter rules ${f} ms ($(ratio "$f")x); a rule pair per name ${p} ms ($(ratio "$p")x)"
done
