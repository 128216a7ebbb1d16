#!/bin/bash
# tests/bench/writer_bench.sh: does ferryd slow the application that writes,
# and does its journal keep pace with the kernel? (issue 16, goals 2 and 3)
#
#   writer  the writer's own time for N new small files (the peer benchmark's
#           make_tree: 100-file directories, 50..1049 bytes, bash printf),
#           unwatched and watched by ferryd, alternating within one run. The
#           source and the journal share one filesystem, FS (a mounted
#           directory; MKLOOP=1 makes a loop-mounted ext4 there, as root).
#           The target is TARGET=paused (default: a local target, paused
#           before the workload, so no rsync competes with the writer) or
#           TARGET=local (a local directory under ${TMPDIR:-/var/tmp}, on
#           another filesystem, replicating while the writer runs). SYNC
#           sets [journal] sync (default group).
#           Prints each round's two times and their ratio, then the medians.
#   ingest  with the target paused, WRITERS processes (2, python) each create
#           N/2 empty files (1000-file directories) on a tmpfs (FS; MKLOOP=1
#           mounts a tmpfs there). Timed from the start until both writers
#           are done (create_s) and until the journal's head (polled on
#           /metrics every 100 ms while the writers run, then every 10 ms)
#           reached its final value (journaled_s). The
#           journal is in JOURNAL_FS (default ${TMPDIR:-/var/tmp}, a disk;
#           JOURNAL_FS=same puts it on the tmpfs too). Prints the ratio.
#
# Run from the repository root, as root for MKLOOP:
#   MKLOOP=1 FS=/var/tmp/wfs RUNS=5 tests/bench/writer_bench.sh writer
#   MKLOOP=1 FS=/var/tmp/ifs RUNS=5 tests/bench/writer_bench.sh ingest
#   FERRYD=build/daemon/ferryd FERRYCTL=build/tools/ferryctl N=10000 RUNS=1 \
#       FS=/var/tmp/x tests/bench/writer_bench.sh writer
#   FERRYDS="old=/tmp/ferryd.old new=build/daemon/ferryd" ... runs each build in
#   every round (writer: plain, old, new; ingest: old, new), in turn.
#   A build's path may end in @inotify or @fanotify, its destination's
#   `watcher` (default auto), to compare the backends:
#   FERRYDS="inotify=build/daemon/ferryd@inotify fanotify=build/daemon/ferryd@fanotify"
#   OUTSIDE=1 with writer: the files go next to the (quiet) source, on its
#   filesystem, not into it: what a busy filesystem around the source costs.
# MKLOOP unmounts what it mounted at exit. Only the ferryd this script starts
# is ever signalled (by its PID).
set -eu

MODE=${1:-writer}
FERRYD=${FERRYD:-build/daemon/ferryd}
FERRYCTL=${FERRYCTL:-build/tools/ferryctl}
RUNS=${RUNS:-5}
TARGET=${TARGET:-paused}
WRITERS=${WRITERS:-2}
JOURNAL_FS=${JOURNAL_FS:-${TMPDIR:-/var/tmp}}
DEADLINE=${DEADLINE:-300}
base=${TMPDIR:-/var/tmp}
case $MODE in
  writer) N=${N:-100000} FS=${FS:-$base/ferry-wfs} ;;
  ingest) N=${N:-200000} FS=${FS:-$base/ferry-ifs} ;;
  *) echo "usage: $0 writer|ingest" >&2; exit 64 ;;
esac
for b in "${FERRYDS:-$FERRYD}" "$FERRYCTL"; do
  [ -x "${b#*=}" ] || [ -n "${FERRYDS:-}" ] || { echo "writer_bench: $b is not executable (set FERRYD/FERRYCTL)" >&2; exit 64; }
done
PYTHON=${PYTHON:-$(command -v python3)}
FERRYCTL=$(realpath "$FERRYCTL")
# FERRYDS="a=/path/ferryd b=/other/ferryd" compares builds within each round.
declare -A BINS=() WATCHERS=() cpu=()
if [ -n "${FERRYDS:-}" ]; then
  for kv in $FERRYDS; do
    name=${kv%%=*} path=${kv#*=} watcher=auto
    case $path in *@*) watcher=${path##*@} path=${path%@*} ;; esac
    BINS[$name]=$(realpath "$path") WATCHERS[$name]=$watcher
  done
else
  BINS[ferryd]=$(realpath "$FERRYD")
fi

now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
median() { sort -g | awk '{ a[NR] = $1 } END { printf "%.3f", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

pid= work= mounted= img=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; wait "$pid" 2>/dev/null || true; fi
  pid=
  [ -n "$work" ] && rm -rf "$work"
  work=
  if [ -n "$mounted" ]; then umount "$mounted" && rmdir "$mounted"; mounted=; fi
  [ -n "$img" ] && rm -f "$img"
  img=
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "${MKLOOP:-}" ]; then
  mkdir -p "$FS"
  if [ "$MODE" = writer ]; then
    img=$FS.img
    truncate -s 4G "$img" && mkfs.ext4 -q -F -N 1000000 -E lazy_itable_init=0,lazy_journal_init=0 "$img" && mount -o loop "$img" "$FS"
  else
    mount -t tmpfs -o size=2G tmpfs "$FS"
  fi
  mounted=$FS
fi
[ -d "$FS" ] || { echo "writer_bench: FS=$FS is not a directory" >&2; exit 64; }

# make_tree DIR N: the peer benchmark's workload, the same bytes
# shellcheck source=peers/workloads.sh
source "$(dirname "$0")/peers/workloads.sh"

# start_ferryd CONF LOG: starts ferryd, waits until ready, pauses its target
# unless TARGET=local.
start_ferryd() {
  local t0=$(now)
  "$FERRYD" --config "$1" >"$2" 2>&1 &
  pid=$!
  until "$FERRYCTL" --config "$1" status -o json 2>/dev/null | grep -q '"ready": *true'; do
    kill -0 "$pid" 2>/dev/null || { echo "writer_bench: ferryd exited; log:" >&2; cat "$2" >&2; exit 70; }
    [ $(( ($(now) - t0) / 1000000000 )) -lt "$DEADLINE" ] || { echo "writer_bench: not ready" >&2; exit 70; }
    sleep 0.05
  done
  if [ "$TARGET" != local ]; then "$FERRYCTL" --config "$1" pause t >/dev/null; fi
}
stop_ferryd() {
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  pid=
}
# write_conf DIR JOURNAL SOURCE TARGET [METRICS_PORT]
write_conf() {
  cat >"$1/ferry.conf" <<CONF
[journal]
dir = $2
sync = ${SYNC:-group}
[control]
socket = $1/ferryd.sock
[metrics]
listen = ${5:+127.0.0.1:$5}
[destination.d]
source = $3
watcher = ${WATCHER:-auto}
[target.t]
destination = d
url = $4
CONF
}
# settle: let the filesystem finish the last run's work before timing
settle() { sync; sleep 1; }

echo "writer_bench $MODE: N=$N RUNS=$RUNS TARGET=$TARGET FS=$FS ($(df -T "$FS" | awk 'NR==2 {print $2}')); $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg); ferryd ${FERRYDS:-$FERRYD}"

if [ "$MODE" = writer ]; then
  rows=()
  for run in $(seq "$RUNS"); do
    work=$(mktemp -d "$FS/writer.XXXXXX")
    dst=$(mktemp -d "$base/writer-dst.XXXXXX")
    mkdir -p "$work/plain"
    # Alternate which goes first, so that neither always meets a fresher filesystem.
    order="plain ${!BINS[*]}"; ((run % 2)) || order="${!BINS[*]} plain"
    line="run $run:" row=
    declare -A took=()
    for what in $order; do
      settle
      if [ "$what" = plain ]; then
        t0=$(now); make_tree "$work/plain/new" "$N"; t1=$(now)
        took[plain]=$(secs "$t0" "$t1")
        continue
      fi
      FERRYD=${BINS[$what]} WATCHER=${WATCHERS[$what]:-auto}
      mkdir -p "$work/$what/src" "$dst/$what"
      write_conf "$work/$what" "$work/$what/journal" "$work/$what/src" "$dst/$what"
      start_ferryd "$work/$what/ferry.conf" "$work/$what/ferryd.log"
      into=$work/$what/src/new; [ -z "${OUTSIDE:-}" ] || into=$work/$what/beside/new
      t0=$(now); make_tree "$into" "$N"; t1=$(now)
      took[$what]=$(secs "$t0" "$t1")
      cpu[$what]=$(awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$pid/stat")
      stop_ferryd
    done
    line+=" unwatched ${took[plain]} s"
    row=${took[plain]}
    for b in "${!BINS[@]}"; do
      ratio=$(awk -v a="${took[$b]}" -v b="${took[plain]}" 'BEGIN { printf "%.3f", a / b }')
      line+=", watched$( ((${#BINS[@]} > 1)) && echo " by $b") ${took[$b]} s (ferryd CPU ${cpu[$b]} s): ${ratio}x"
      row+=" ${took[$b]} $ratio"
    done
    echo "$line"
    rows+=("$row")
    rm -rf "$work" "$dst"
    work=
  done
  line="median of $RUNS: unwatched $(printf '%s\n' "${rows[@]}" | cut -d' ' -f1 | median) s"
  col=2
  for b in "${!BINS[@]}"; do
    line+=", watched$( ((${#BINS[@]} > 1)) && echo " by $b") $(printf '%s\n' "${rows[@]}" | cut -d' ' -f$col | median) s"
    line+=" ratio $(printf '%s\n' "${rows[@]}" | cut -d' ' -f$((col + 1)) | median)x"
    col=$((col + 2))
  done
  echo "$line (goal <= 1.1x)"
  exit 0
fi

# ingest
declare -A rows=()
for run in $(seq "$RUNS"); do
 order="${!BINS[*]}"; ((run % 2)) || order=$(printf '%s\n' $order | tac | tr '\n' ' ')
 for b in $order; do
  FERRYD=${BINS[$b]} WATCHER=${WATCHERS[$b]:-auto}
  work=$(mktemp -d "$FS/ingest.XXXXXX")
  jdir=$work/journal
  [ "$JOURNAL_FS" = same ] || jdir=$(mktemp -d "$JOURNAL_FS/ingest-journal.XXXXXX")
  port=$((20000 + RANDOM % 20000))
  mkdir -p "$work/src"
  write_conf "$work" "$jdir" "$work/src" "$work/dst" "$port"
  settle
  start_ferryd "$work/ferry.conf" "$work/ferryd.log"
  out=$("$PYTHON" - "$port" "$work/src" "$N" "$WRITERS" "$DEADLINE" <<'PY'
import http.client, re, subprocess, sys, time
port, src, n, writers, deadline = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
conn = None
def head():
    global conn
    for _ in range(3):
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/metrics")
            body = conn.getresponse().read().decode()
            return int(re.search(r"^ferry_journal_head_seq(?:\{[^}]*\})? (\d+)", body, re.M).group(1))
        except (OSError, http.client.HTTPException):
            conn = None
    raise SystemExit("no /metrics on port %d" % port)
start_head = head()
t0 = time.monotonic()
# A writer: N empty files in 1000-file directories, open(O_CREAT) + close each
# (IN_CREATE, IN_CLOSE_WRITE). Python, not bash: bash's `: >f` is 10x slower.
writer = """
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
os.mkdir(d)
for i in range(n):
    if i % 1000 == 0:
        sub = "%s/d%d" % (d, i // 1000)
        os.mkdir(sub)
    os.close(os.open("%s/f%d" % (sub, i), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
"""
procs = [subprocess.Popen([sys.executable, "-c", writer, "%s/w%d" % (src, w), str(n // writers)])
         for w in range(writers)]
samples, created = [], None
while True:
    samples.append((time.monotonic(), head()))
    if created is None and all(p.poll() is not None for p in procs):
        created = time.monotonic()
    if created is not None:
        # done when the head has not moved for 2 s after the writers ended
        if samples[-1][0] - created > 2 and all(h == samples[-1][1] for t, h in samples if t > samples[-1][0] - 2):
            break
    if time.monotonic() - t0 > deadline:
        raise SystemExit("head still moving after %.0f s" % deadline)
    # Each poll builds ferryd's whole status: rarely while the writers run
    # (it would take their CPU), often after.
    time.sleep(0.01 if created is not None else 0.1)
final = samples[-1][1]
reached = next(t for t, h in samples if h == final)
print("%.3f %.3f %d" % (created - t0, reached - t0, final - start_head))
PY
)
  read -r create_s journal_s events <<<"$out"
  cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$pid/stat")
  stop_ferryd
  ratio=$(awk -v a="$journal_s" -v b="$create_s" 'BEGIN { printf "%.3f", a / b }')
  rate=$(awk -v e="$events" -v t="$journal_s" 'BEGIN { printf "%.0f", e / t }')
  echo "run $run$( ((${#BINS[@]} > 1)) && echo " $b"): created in ${create_s} s, all ${events} events journaled at ${journal_s} s (${rate} events/s, ferryd CPU ${cpu} s): ${ratio}x"
  rows[$b]+="$create_s $journal_s $ratio"$'\n'
  [ "$JOURNAL_FS" = same ] || rm -rf "$jdir"
  rm -rf "$work"
  work=
 done
done
for b in "${!BINS[@]}"; do
  echo "median of $RUNS$( ((${#BINS[@]} > 1)) && echo " $b"): created $(printf '%s' "${rows[$b]}" | cut -d' ' -f1 | median) s," \
    "journaled $(printf '%s' "${rows[$b]}" | cut -d' ' -f2 | median) s," \
    "ratio $(printf '%s' "${rows[$b]}" | cut -d' ' -f3 | median)x (goal <= 1.25x)"
done
