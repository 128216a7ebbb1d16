#!/bin/bash
# memory_bench.sh [--files N] [--runs R] FERRYD...: ferryd's resident memory and
# journal size after N new files (default 100000) with a local target, for
# each binary in turn, R times (default 3), alternating so that every binary
# sees the same load. Prints one line per run, then the medians. The source
# and target are on a tmpfs; the journal in $TMPDIR (default /var/tmp).
# Run as root (it mounts the tmpfs). Issue 16; numbers in docs/BENCHMARKS.md.
set -eu
files=100000 runs=3
while [ $# -gt 0 ]; do
  case $1 in
    --files) files=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "usage: $0 [--files N] [--runs R] FERRYD..." >&2; exit 64; }
here=$(cd "$(dirname "$0")" && pwd)
ctl=${FERRYCTL:-$here/../../build/tools/ferryctl}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/ferry-memory.XXXXXX")
mnt=$work/tmpfs; mkdir -p "$mnt"
mount -t tmpfs -o size=4g tmpfs "$mnt"
pid=""
cleanup() { [ -z "$pid" ] || kill "$pid" 2>/dev/null || true; umount "$mnt"; rm -rf "$work"; }
trap cleanup EXIT
kib() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$pid/status"; }

for run in $(seq "$runs"); do
  for ferryd in "$@"; do
    src=$mnt/src dst=$mnt/dst journal=$work/journal
    rm -rf "$src" "$dst" "$journal"; mkdir -p "$src" "$dst"
    "$ferryd" --source "$src" --target "$dst" --journal "$journal" --log-level warn \
      >"$work/log" 2>&1 &
    pid=$!
    until "$ctl" --journal "$journal" status 2>/dev/null | grep -q watching; do sleep 0.05; done
    empty=$(kib VmRSS)
    python3 - "$src" "$files" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, "d%04d" % (i // 1000))
    if i % 1000 == 0: os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%06d.txt" % i), "w") as f: f.write("x" * 100)
PY
    until diff -rq "$src" "$dst" >/dev/null 2>&1; do sleep 0.2; done
    du_kib=$(du -sk "$journal" | cut -f1)
    # ferryd gives memory back once the journal and its lanes stand still.
    sleep 1.5
    echo "run $run $ferryd: empty ${empty} KiB, after $files files $(kib VmRSS) KiB" \
         "(peak $(kib VmHWM) KiB), journal on disk at convergence ${du_kib} KiB"
    kill "$pid"; wait "$pid" || true; pid=""
  done
done | tee "$work/runs"
python3 - "$work/runs" <<'PY'
import re, statistics, sys, collections
by = collections.defaultdict(list)
for line in open(sys.argv[1]):
    m = re.match(r"run \d+ (\S+): empty (\d+) KiB, after \d+ files (\d+) KiB \(peak (\d+) KiB\), journal on disk at convergence (\d+) KiB", line)
    if m: by[m[1]].append([int(x) for x in m.groups()[1:]])
for b, rows in by.items():
    med = [statistics.median(c) / 1024 for c in zip(*rows)]
    print(f"median {b}: empty {med[0]:.1f} MiB, after {med[1]:.1f} MiB, peak {med[2]:.1f} MiB, journal {med[3]:.1f} MiB")
PY
