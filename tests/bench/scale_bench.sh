#!/bin/bash
# scale_bench.sh [--dirs N] [--runs R] [--watchers "fanotify inotify"] [FERRYD]:
# ferryd's first start on a tree of N directories (default 1,000,000: 1000
# directories of N/1000 subdirectories) on a tmpfs, with each watcher
# backend in turn, R times (default 3), alternating the order. For each run:
# the seconds from exec to "ready" in its log, VmRSS at that moment and the
# peak (VmHWM), then the medians. The tree is made once; each run has a new
# journal (/var/tmp) and a local target, and ends at "ready" (before the
# target's full sync would add rsync's load). inotify needs fs.inotify.max_user_watches above N: the
# script raises it for inotify's runs only and restores it (also on exit);
# fanotify's runs leave every sysctl as it was. Root (tmpfs, fanotify).
# Issue 17; numbers in docs/BENCHMARKS.md.
set -eu
dirs=1000000 runs=3 watchers="fanotify inotify"
while [ $# -gt 0 ]; do
  case $1 in
    --dirs) dirs=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --watchers) watchers=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) break ;;
  esac
done
here=$(cd "$(dirname "$0")" && pwd)
ferryd=$(realpath "${1:-$here/../../build/daemon/ferryd}")
ctl=${FERRYCTL:-$here/../../build/tools/ferryctl}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/ferry-scale.XXXXXX")
mnt=$work/tmpfs; mkdir -p "$mnt"
mount -t tmpfs -o size=1g,nr_inodes=$((dirs * 2 + 100000)) tmpfs "$mnt"
watches_was=$(sysctl -n fs.inotify.max_user_watches)
pid=""
cleanup() {
  [ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; } || true
  sysctl -qw fs.inotify.max_user_watches="$watches_was"
  umount "$mnt"; rm -rf "$work"
}
trap cleanup EXIT
kib() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$pid/status"; }

python3 - "$mnt/src" "$dirs" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
groups = 1000 if n >= 1000 else 1
per = n // groups
os.mkdir(root)
for g in range(groups):
    top = f"{root}/g{g}"
    os.mkdir(top)
    for d in range(per - 1):
        os.mkdir(f"{top}/d{d}")
PY
total=$(find "$mnt/src" -type d | wc -l)
echo "scale_bench: $total directories on tmpfs; $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg); fs.inotify.max_user_watches $watches_was"

declare -A ready=() rss=() hwm=()
for run in $(seq "$runs"); do
  order=$watchers; ((run % 2)) || order=$(printf '%s\n' $watchers | tac | tr '\n' ' ')
  for w in $order; do
    journal=$work/journal dst=$mnt/dst
    rm -rf "$journal" "$dst"; mkdir -p "$dst"
    if [ "$w" = inotify ]; then
      sysctl -qw fs.inotify.max_user_watches=$((total + 100000))
    fi
    sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
    t0=$(date +%s.%N)
    "$ferryd" --source "$mnt/src" --target "$dst" --journal "$journal" --watcher "$w" \
      >"$work/log" 2>&1 &
    pid=$!
    until grep -q '\] ready$' "$work/log"; do
      kill -0 "$pid" 2>/dev/null || { cat "$work/log" >&2; exit 70; }
      sleep 0.02
    done
    t1=$(date +%s.%N)
    r=$(kib VmRSS) h=$(kib VmHWM)
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
    sysctl -qw fs.inotify.max_user_watches="$watches_was"
    secs=$(echo "$t1 - $t0" | bc)
    echo "run $run $w: ready in ${secs} s, VmRSS $((r / 1024)) MiB, VmHWM $((h / 1024)) MiB; $(grep -o 'watched by [a-z]*' "$work/log")"
    ready[$w]+="$secs " rss[$w]+="$r " hwm[$w]+="$h "
  done
done
median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for w in $watchers; do
  echo "median $w: ready $(median "${ready[$w]}") s, VmRSS $(( $(median "${rss[$w]}") / 1024 )) MiB, VmHWM $(( $(median "${hwm[$w]}") / 1024 )) MiB (runs: ${ready[$w]})"
done
