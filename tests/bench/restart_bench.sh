#!/bin/bash
# tests/bench/restart_bench.sh: what a live burst of N small files costs ferryd,
# and what a restart right after it costs.
#
# Per run, in a fresh directory under ${TMPDIR:-/var/tmp} (not /tmp: file
# creation there is much slower on the reference machine):
#   1. starts ferryd (one destination SRC, one local target DST,
#      [replay] batch_delay = 10ms) and waits for `ferryctl status` ready;
#   2. creates N files live in SRC (100 dirs x N/100 files, a python3 writer
#      doing open/write/close per file), timed;
#   3. waits until DST has all N files, destinations[0].unsettled == 0 and
#      every target's cursor == head; records the time from the writer's end
#      until unsettled == 0 (and until fully synced), destinations[0].settled,
#      ferryd's CPU seconds (utime+stime) and peak RSS (VmHWM);
#   4. SIGTERM, restart: time until ready, events journaled by the restart
#      (head at ready - head before the stop; also 2 s after ready), and the
#      "reconciled ... N new, N changed, N gone" part of the log line;
#   5. the same once more after a SIGKILL instead of a SIGTERM.
# Prints a table per run and the medians over RUNS.
#
# Run from the repository root (needs jq, python3, rsync):
#   N=100000 RUNS=3 tests/bench/restart_bench.sh
#   FERRYD=/path/ferryd FERRYCTL=/path/ferryctl N=2000 RUNS=1 tests/bench/restart_bench.sh
# KEEP=1 keeps each run's directory (logs, journal) instead of removing it.
# Only the ferryd this script starts is ever signalled (by its PID).
set -eu

FERRYD=${FERRYD:-build/daemon/ferryd}
FERRYCTL=${FERRYCTL:-build/tools/ferryctl}
N=${N:-100000}
RUNS=${RUNS:-3}
DEADLINE=${DEADLINE:-900}        # seconds any wait may take before the run fails
base=${TMPDIR:-/var/tmp}

for b in "$FERRYD" "$FERRYCTL"; do
  [ -x "$b" ] || { echo "restart_bench: $b is not executable (set FERRYD/FERRYCTL)" >&2; exit 64; }
done
command -v jq >/dev/null || { echo "restart_bench: needs jq" >&2; exit 69; }
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3 || true)}
[ -n "$PYTHON" ] || { echo "restart_bench: needs python3" >&2; exit 69; }

hz=$(getconf CLK_TCK)
now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }

pid=
work=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  pid=
  [ -n "$work" ] && rm -rf "$work"
  work=
}
trap cleanup EXIT
trap 'exit 130' INT TERM

st() { "$FERRYCTL" --config "$work/ferry.conf" status -o json 2>/dev/null || true; }

# start_ferryd LOG: starts ferryd, waits until ready; sets pid and ready_s.
start_ferryd() {
  local t0 t1 j
  t0=$(now)
  "$FERRYD" --config "$work/ferry.conf" >"$1" 2>&1 &
  pid=$!
  while :; do
    j=$(st)
    if [ -n "$j" ] && [ "$(jq -r --argjson p "$pid" '(.ready == true) and (.pid == $p) and (.daemon == "running")' <<<"$j" 2>/dev/null)" = true ]; then
      break
    fi
    kill -0 "$pid" 2>/dev/null || { echo "restart_bench: ferryd exited at start; log:" >&2; cat "$1" >&2; exit 70; }
    [ $(( ($(now) - t0) / 1000000000 )) -lt "$DEADLINE" ] || { echo "restart_bench: not ready after ${DEADLINE}s" >&2; exit 70; }
    sleep 0.02
  done
  t1=$(now)
  ready_s=$(secs "$t0" "$t1")
}

stop_ferryd() {  # stop_ferryd SIGNAL
  kill "-$1" "$pid"
  wait "$pid" 2>/dev/null || true
  pid=
}

head_of() { jq -r '.head' <<<"$(st)"; }
reconciled() { grep -o '[0-9]* new, [0-9]* changed, [0-9]* gone' "$1" | tail -1 || echo '?'; }
# seconds between ferryd's first log line (journal opened) and its "ready" line
log_span() { awk -F'[][ :]' '/\[info\]/ { t = $3 * 3600 + $4 * 60 + $5; if (!s) s = t } / ready$/ { printf "%.3f", t - s; exit }' "$1"; }
cpu_s() { awk -v hz="$hz" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$pid/stat"; }
hwm_mib() { awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status"; }

cat >"$base/ferry-restart-writer.$$.py" <<'PY'
import os, sys, time
src, n = sys.argv[1], int(sys.argv[2])
dirs = 100 if n >= 100 else 1
per = n // dirs
t = time.monotonic()
k = 0
for d in range(dirs):
    p = os.path.join(src, "d%03d" % d)
    os.mkdir(p)
    cnt = per if d < dirs - 1 else n - per * (dirs - 1)
    for i in range(cnt):
        fd = os.open(os.path.join(p, "f%06d" % i), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, b"x" * 100)
        os.close(fd)
        k += 1
print("%.3f" % (time.monotonic() - t))
PY
writer="$base/ferry-restart-writer.$$.py"
trap 'cleanup; rm -f "$writer"' EXIT

echo "restart_bench: N=$N RUNS=$RUNS ferryd=$FERRYD; $(nproc) cores, $(uname -r), $base on $(df -T "$base" | awk 'NR==2 {print $2}')"
results=()

# Stops ferryd with signal $1 and starts it again logging to $2; sets
# r_ready (s to ready), r_head (head before), r_ev / r_ev2 (events journaled
# at ready and 2 s later), r_rec (the reconcile line) and r_span.
restart_once() {
  r_head=$(head_of)
  stop_ferryd "$1"
  start_ferryd "$2"
  r_ready=$ready_s
  local h1 h1b
  h1=$(head_of); sleep 2; h1b=$(head_of)
  r_ev=$((h1 - r_head)); r_ev2=$((h1b - r_head))
  r_rec=$(reconciled "$2"); r_span=$(log_span "$2")
}

for run in $(seq "$RUNS"); do
  work=$(mktemp -d "$base/ferry-restart.XXXXXX")
  mkdir -p "$work/src" "$work/dst"
  cat >"$work/ferry.conf" <<CONF
[journal]
dir = $work/journal

[replay]
batch_delay = 10ms

[control]
socket = $work/ferryd.sock

[destination.bench]
source = $work/src

[target.local]
destination = bench
url = $work/dst
CONF

  # 1. first start
  start_ferryd "$work/log.1"
  ready0=$ready_s

  # 2. the burst
  tw0=$(now)
  write_in=$("$PYTHON" "$writer" "$work/src" "$N")
  tw1=$(now)
  write_s=$(secs "$tw0" "$tw1")

  # 3. wait for settle and delivery
  t_settled=; t_synced=; prev_uns=-1
  while :; do
    j=$(st)
    t=$(now)
    if [ -n "$j" ]; then
      read -r uns cur_ok <<<"$(jq -r '[.destinations[0].unsettled, (.head as $h | all(.targets[]; .cursor == $h) | tostring)] | @tsv' <<<"$j")"
      if [ "$uns" -eq 0 ] && { [ "$prev_uns" -ne 0 ] || [ -z "$t_settled" ]; }; then t_settled=$t; fi
      [ "$uns" -ne 0 ] && t_settled=
      prev_uns=$uns
      if [ "$cur_ok" = true ] && [ "$(find "$work/dst" -type f | wc -l)" -eq "$N" ]; then
        [ -n "$t_synced" ] || t_synced=$t
        if [ "$uns" -eq 0 ]; then
          # the find took a while: confirm nothing moved meanwhile
          j2=$(st)
          if [ "$(jq -r '(.destinations[0].unsettled == 0) and (.head as $h | all(.targets[]; .cursor == $h))' <<<"$j2" 2>/dev/null)" = true ]; then
            break
          fi
        fi
      fi
    fi
    [ $(( (t - tw1) / 1000000000 )) -lt "$DEADLINE" ] || { echo "restart_bench: run $run not settled after ${DEADLINE}s: $j" >&2; exit 70; }
    sleep 0.05
  done
  settle_s=$(secs "$tw1" "$t_settled")
  sync_s=$(secs "$tw1" "$t_synced")
  settled=$(jq -r '.destinations[0].settled' <<<"$j2")
  cpu=$(cpu_s); hwm=$(hwm_mib)

  # 4. SIGTERM restart, 5. SIGKILL restart
  restart_once TERM "$work/log.2"
  term_ready=$r_ready term_ev=$r_ev term_ev2=$r_ev2 term_rec=$r_rec term_span=$r_span h0=$r_head
  restart_once KILL "$work/log.3"
  kill_ready=$r_ready kill_ev=$r_ev kill_ev2=$r_ev2 kill_rec=$r_rec kill_span=$r_span

  cat <<TABLE
--- run $run/$RUNS (N=$N) ---
first start: ready in                  ${ready0} s
writer (wall / in-process)             ${write_s} s / ${write_in} s
writer end -> unsettled == 0           ${settle_s} s
writer end -> all N in DST, cursor=head ${sync_s} s (first poll seeing it)
destinations[0].settled                ${settled}
ferryd CPU (utime+stime) at settle     ${cpu} s
ferryd peak RSS (VmHWM)                ${hwm} MiB
head before SIGTERM                    ${h0}
SIGTERM restart: ready in              ${term_ready} s (log: journal open -> ready ${term_span} s)
  events journaled (at ready / +2 s)   ${term_ev} / ${term_ev2}
  reconciled                           ${term_rec}
SIGKILL restart: ready in              ${kill_ready} s (log: journal open -> ready ${kill_span} s)
  events journaled (at ready / +2 s)   ${kill_ev} / ${kill_ev2}
  reconciled                           ${kill_rec}
TABLE
  if [ "$term_ev2" -ne 0 ] || [ "$kill_ev2" -ne 0 ]; then
    echo "  note: the restarts journaled events; what they were:"
    "$FERRYCTL" --config "$work/ferry.conf" log -o cat 2>/dev/null | tail -n +"$((h0 + 1))" | head -10 | sed 's/^/    /' || true
    grep -h 'reconciled' "$work/log.2" "$work/log.3" | sed 's/^/    /'
  fi
  results+=("$ready0 $write_s $settle_s $sync_s $settled $cpu $hwm $term_ready $term_ev2 $kill_ready $kill_ev2")

  stop_ferryd KILL
  if [ -n "${KEEP:-}" ]; then echo "kept $work"; work=; fi
  cleanup
done

echo "--- medians over $RUNS runs (N=$N) ---"
printf '%s\n' "${results[@]}" | awk '
  { for (i = 1; i <= NF; i++) v[i, NR] = $i; nf = NF }
  END {
    split("first-start-ready_s writer_s settle_s synced_s settled cpu_s peak_rss_MiB term-restart-ready_s term-events kill-restart-ready_s kill-events", name, " ")
    for (i = 1; i <= nf; i++) {
      n = 0; for (r = 1; r <= NR; r++) a[++n] = v[i, r]
      for (x = 1; x <= n; x++) for (y = x + 1; y <= n; y++) if (a[y] + 0 < a[x] + 0) { t = a[x]; a[x] = a[y]; a[y] = t }
      m = (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
      printf "%-24s %s\n", name[i], m
    }
  }'
