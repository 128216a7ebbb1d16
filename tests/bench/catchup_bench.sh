#!/bin/bash
# tests/bench/catchup_bench.sh: how long a returning rsync daemon target takes
# to receive what queued up while it was away, against one plain rsync of the
# same files (issue 16, goal 5: within 1.1x).
#
# Per run, in a fresh directory under ${TMPDIR:-/var/tmp} (not /tmp: file
# creation there is much slower on the reference machine):
#   1. a loopback rsync daemon (auth users, use chroot = yes) with an empty
#      module, and ferryd with one destination SRC and that module as target
#      "backup", [replay] batch_delay = 20ms (the default);
#   2. once the target is ok: `ferryctl pause backup`, then N new files
#      (N/100 directories of 100, 50..1049 bytes, like the peer benchmark's
#      make_tree), and a wait until the journal has them all;
#   3. `ferryctl resume backup`, timed until the target's cursor is the head
#      (`ferryctl status --wait-synced`, which polls every 100 ms): ferry_s.
#      The module is then compared with SRC (diff -r);
#   4. the module emptied, one `rsync -a SRC/ rsync://.../m/` to it, timed:
#      rsync_s. The ratio ferry_s / rsync_s is the run's result.
# Prints each run and the median ratio.
#
# Run from the repository root (needs jq, python3, rsync):
#   N=50000 RUNS=5 tests/bench/catchup_bench.sh
#   FERRYD=/path/ferryd FERRYCTL=/path/ferryctl N=5000 RUNS=1 tests/bench/catchup_bench.sh
# KEEP=1 keeps each run's directory. Only the processes this script starts
# are ever signalled (by PID).
set -eu

FERRYD=$(realpath "${FERRYD:-build/daemon/ferryd}")
FERRYCTL=$(realpath "${FERRYCTL:-build/tools/ferryctl}")
N=${N:-50000}
RUNS=${RUNS:-3}
DEADLINE=${DEADLINE:-600}
base=${TMPDIR:-/var/tmp}
for b in "$FERRYD" "$FERRYCTL"; do
  [ -x "$b" ] || { echo "catchup_bench: $b is not executable (set FERRYD/FERRYCTL)" >&2; exit 64; }
done
command -v jq >/dev/null || { echo "catchup_bench: needs jq" >&2; exit 69; }

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  pids=()
}
trap cleanup EXIT

now() { date +%s.%N; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

make_files() {
  python3 - "$1" "$2" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
pad = "0" * 1000
for d in range((n + 99) // 100):
    os.makedirs(f"{root}/d{d}", exist_ok=True)
for i in range(n):
    with open(f"{root}/d{i // 100}/f{i}.txt", "w") as f:
        f.write(f"file {i} {pad[:(i * 37) % 1000 + 40]}\n")
PY
}

ratios=()
for ((r = 1; r <= RUNS; r++)); do
  work=$(mktemp -d "$base/ferry-catchup.XXXXXX")
  mkdir -p "$work/src" "$work/module"
  port=$(free_port)
  printf 'ferry:s3cret\n' >"$work/secrets" && chmod 600 "$work/secrets"
  printf 's3cret\n' >"$work/password" && chmod 600 "$work/password"
  cat >"$work/rsyncd.conf" <<CONF
use chroot = yes
[m]
path = $work/module
read only = false
uid = root
gid = root
auth users = ferry
secrets file = $work/secrets
CONF
  rsync --daemon --no-detach --config="$work/rsyncd.conf" --address=127.0.0.1 --port="$port" \
    --log-file="$work/rsyncd.log" &
  pids+=($!)
  url=rsync://ferry@127.0.0.1:$port/m
  cat >"$work/ferry.conf" <<CONF
[journal]
dir = $work/journal
[control]
socket = $work/ferryd.sock
[destination.src]
source = $work/src
[target.backup]
destination = src
url = $url
password_file = $work/password
CONF
  "$FERRYD" --config "$work/ferry.conf" >"$work/ferryd.log" 2>&1 &
  pids+=($!)
  ctl() { "$FERRYCTL" --config "$work/ferry.conf" "$@"; }
  st() { ctl status -o json 2>/dev/null || true; }
  wait_for() {  # wait_for JQ_EXPR [interval]: polls status until the expression is true
    local t0 j
    t0=$(now)
    while :; do
      j=$(st)
      [ -n "$j" ] && [ "$(jq -r "$1" <<<"$j" 2>/dev/null)" = true ] && return 0
      if (($(echo "$(now) - $t0 > $DEADLINE" | bc))); then
        echo "catchup_bench: timed out waiting for $1 (see $work/ferryd.log)" >&2
        exit 1
      fi
      sleep "${2:-0.1}"
    done
  }
  wait_for '.ready == true and (.targets[0].state == "ok")'
  ctl pause backup >/dev/null
  wait_for '.targets[0].state == "paused"'
  make_files "$work/src" "$N"
  # Every file journaled: N files and N/100 directories after the head
  # before, and nothing unsettled.
  wait_for "(.destinations[0].unsettled == 0) and (.targets[0].lag_events >= $N + (($N + 99) / 100 | floor))" 0.2
  t0=$(now)
  ctl resume backup >/dev/null
  # One process polling the control socket every 100 ms (a ferryctl + jq
  # pair every 20 ms cost as much CPU as the catch-up itself).
  ctl status --wait-synced -o json >/dev/null
  ferry_s=$(echo "$(now) - $t0" | bc)
  diff -r "$work/src" "$work/module" >/dev/null || { echo "catchup_bench: the module differs from the source ($work)" >&2; exit 1; }
  cleanup
  # The same files, once, by one plain rsync to the emptied module.
  rm -rf "$work/module" && mkdir "$work/module"
  rsync --daemon --no-detach --config="$work/rsyncd.conf" --address=127.0.0.1 --port="$port" &
  pids+=($!)
  for _ in $(seq 100); do rsync --password-file="$work/password" "$url/" >/dev/null 2>&1 && break; sleep 0.05; done
  t0=$(now)
  rsync -a --password-file="$work/password" "$work/src/" "$url/"
  rsync_s=$(echo "$(now) - $t0" | bc)
  cleanup
  ratio=$(echo "scale=3; $ferry_s / $rsync_s" | bc)
  ratios+=("$ratio")
  printf 'run %d: N=%d  ferry from resume %.2f s  one rsync %.2f s  ratio %.2fx  load %s\n' \
    "$r" "$N" "$ferry_s" "$rsync_s" "$ratio" "$(cut -d' ' -f1 /proc/loadavg)"
  [ "${KEEP:-0}" = 1 ] || rm -rf "$work"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}')
echo "median ratio over $RUNS runs: ${median}x (ferry from resume / one rsync)"
