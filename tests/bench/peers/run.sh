#!/bin/bash
# ferry against its peers: ferryd, lsyncd (4 variants), the classic inotifywait loop and one
# plain rsync after the workload, each on a local-directory target and on a loopback rsync
# daemon, over a set of workloads. See docs/BENCHMARKS-peers.md for results and reading.
#
# usage: tests/bench/peers/run.sh [--quick] [--big] [--runs N] [--syncers a,b] [--targets local,daemon]
#                                 [--workloads a,b] [--out FILE] [--timeout S] [--stuck S]
#                                 [--stall S] [--workdir DIR] [--keep]
#   FERRYD=/path/to/ferryd   use this binary instead of cloning this repo and building it
#   FERRY_SRC=DIR            where to clone and build (default /var/tmp/ferry-bench-src)
#   RSYNCD=/path/to/rsync    the rsync daemon target's rsync (default /usr/bin/rsync), e.g. an
#                            old receiver from tools/rsync-receivers.sh
#
# Per run (syncer x target x workload x run): a fresh source and target; the workload's pre-part
# is created in the source and copied to the target with /usr/bin/rsync -a (cp -al: see workloads.sh); the syncer starts,
# and we wait for its ready signal, for target == source, and for it to be idle (1.5 s without an
# rsync child, a new rsync call, or CPU). Then the workload runs (timed from its start), and
# peerstool.py polls until the target is identical to the source (see peerstool.py: names, type,
# perms, uid/gid, symlink targets, full contents; not mtimes), the --timeout passes, or the
# syncer has been idle for --stuck seconds (default 20) with the trees still different, or the
# differences have not changed for --stall seconds (default 30; the syncer is busy but not
# fixing them; e.g. rsync's quick check skipping same-size files). Afterwards we wait
# (at most 10 s) for the syncer to go idle again, and count what it did: rsync processes
# started (a wrapper `rsync` first in PATH / lsyncd's rsync.binary appends a line to a file),
# the syncer's own CPU time and that of the rsync children it reaped (/proc/PID/stat utime+stime,
# cutime+cstime, deltas over the workload), and its peak RSS (VmHWM). Only processes this script
# started are ever signalled, by PID.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
PY=/usr/bin/python3
TOOL=("$PY" "$HERE/peerstool.py")

ALL_SYNCERS=ferryd,lsyncd-d0-p1,lsyncd-d0-p4,lsyncd-d1-p1,lsyncd-d1-p4,inotifywait,rsync-once
ALL_WORKLOADS=create,rewrite,rename,delete,mixed,editor
SYNCERS=$ALL_SYNCERS
TARGETS=local,daemon
WORKLOADS=$ALL_WORKLOADS
RUNS=3
QUICK=0
BIG=0
OUT=
TIMEOUT=300
STUCK=20
STALL=30
SETTLE_MAX=10
WORKDIR=
KEEP=0
RUNS_SET=0
WORKLOADS_SET=0

ORIG_ARGS="$*"
usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; }

while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    --big) BIG=1 ;;
    --runs) RUNS=$2; RUNS_SET=1; shift ;;
    --syncers) SYNCERS=$2; shift ;;
    --targets) TARGETS=$2; shift ;;
    --workloads) WORKLOADS=$2; WORKLOADS_SET=1; shift ;;
    --out) OUT=$2; shift ;;
    --timeout) TIMEOUT=$2; shift ;;
    --stuck) STUCK=$2; shift ;;
    --stall) STALL=$2; shift ;;
    --workdir) WORKDIR=$2; shift ;;
    --keep) KEEP=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
  esac
  shift
done
if ((QUICK)); then
  N_FILES=2000
  ((RUNS_SET)) || RUNS=1
fi
((BIG && !WORKLOADS_SET)) && WORKLOADS=$WORKLOADS,create100k
: "${N_FILES:=10000}"
N_BIG=100000
export N_FILES N_BIG
# shellcheck source=workloads.sh
source "$HERE/workloads.sh"

WORKDIR=${WORKDIR:-/var/tmp/ferry-peers.$$}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-$WORKDIR/results-$STAMP.md}
mkdir -p "$WORKDIR/logs" || exit 1
RAW=$WORKDIR/raw-$STAMP.tsv
MOD=$WORKDIR/daemon-module
RUN_DIR=$WORKDIR/run
TEMPLATE=$WORKDIR/template

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ------------------------------------------------------------------ processes we started
SYNCER_PID=
RSYNCD_PID=

# kill_tree PID: TERM the process, KILL it after 5 s, then KILL the descendants it had (by PID).
kill_tree() {
  local pid=$1 kids i
  [[ -n $pid ]] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
  kids=$("${TOOL[@]}" descendants "$pid")
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  for i in $kids; do kill -KILL "$i" 2>/dev/null; done
  return 0
}

cleanup() {
  kill_tree "$SYNCER_PID"
  SYNCER_PID=
  kill_tree "$RSYNCD_PID"
  RSYNCD_PID=
  if ((!KEEP)); then rm -rf "$RUN_DIR" "$MOD" "$TEMPLATE"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ dependencies
need_pkgs=()
command -v lsyncd >/dev/null || need_pkgs+=(lsyncd)
command -v inotifywait >/dev/null || need_pkgs+=(inotify-tools)
[[ -x /usr/bin/rsync ]] || need_pkgs+=(rsync)
[[ -x /usr/bin/time ]] || need_pkgs+=(time)
[[ -x $PY ]] || need_pkgs+=(python3-minimal)
if ((${#need_pkgs[@]})); then
  log "installing ${need_pkgs[*]}"
  apt-get install -y -q "${need_pkgs[@]}" >"$WORKDIR/apt.log" 2>&1 ||
    { apt-get update -q >>"$WORKDIR/apt.log" 2>&1 &&
      apt-get install -y -q "${need_pkgs[@]}" >>"$WORKDIR/apt.log" 2>&1; } ||
    { echo "run.sh: apt-get install ${need_pkgs[*]} failed, see $WORKDIR/apt.log" >&2; exit 1; }
fi

if [[ ,$SYNCERS, == *,ferryd,* ]]; then
  if [[ -z ${FERRYD:-} ]]; then
    FERRY_SRC=${FERRY_SRC:-/var/tmp/ferry-bench-src}
    log "building ferryd from $REPO in $FERRY_SRC"
    rm -rf "$FERRY_SRC"
    { git clone -q "$REPO" "$FERRY_SRC" &&
      cmake -S "$FERRY_SRC" -B "$FERRY_SRC/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DBUILD_TESTS=OFF && ninja -C "$FERRY_SRC/build" ferryd; } >"$WORKDIR/build.log" 2>&1 ||
      { echo "run.sh: building ferryd failed, see $WORKDIR/build.log" >&2; exit 1; }
    FERRYD=$FERRY_SRC/build/daemon/ferryd
    FERRY_COMMIT=$(git -C "$FERRY_SRC" rev-parse --short HEAD)
  else
    FERRY_COMMIT="(FERRYD=$FERRYD)"
  fi
  [[ -x $FERRYD ]] || { echo "run.sh: $FERRYD is not executable" >&2; exit 1; }
fi

# ------------------------------------------------------------------ the rsync daemon target
PWFILE=$WORKDIR/rsync.pass
if [[ ,$TARGETS, == *,daemon,* ]]; then
  mkdir -p "$WORKDIR/rsyncd" "$MOD"
  (umask 077 && printf 'ferry:benchpass\n' >"$WORKDIR/rsyncd/secrets" &&
    printf 'benchpass\n' >"$PWFILE")
  chmod 600 "$WORKDIR/rsyncd/secrets" "$PWFILE"
  # the settings of tests/lib/test_servers.cc (RsyncDaemon), plus a log file, except
  # `use chroot = yes` (we are root): without chroot the daemon rewrites symlinks (munged to
  # /rsyncd-munged/..., absolute ones lose their leading /), so no syncer could ever make the
  # target identical to the source
  cat >"$WORKDIR/rsyncd/rsyncd.conf" <<EOF
use chroot = yes
pid file = $WORKDIR/rsyncd/rsyncd.pid
log file = $WORKDIR/logs/rsyncd.log
uid = root
gid = root
[data]
  path = $MOD
  read only = false
  auth users = ferry
  secrets file = $WORKDIR/rsyncd/secrets
EOF
  PORT=$("${TOOL[@]}" freeport)
  "${RSYNCD:-/usr/bin/rsync}" --daemon --no-detach --config="$WORKDIR/rsyncd/rsyncd.conf" \
    --address=127.0.0.1 --port="$PORT" >"$WORKDIR/logs/rsyncd.out" 2>&1 &
  RSYNCD_PID=$!
  "${TOOL[@]}" waitport "$PORT" 10 || { echo "run.sh: rsync daemon did not start" >&2; exit 1; }
  DAEMON_URL=rsync://ferry@127.0.0.1:$PORT/data
fi

# ------------------------------------------------------------------ versions and machine
machine_info() {
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "kernel: $(uname -r); $(. /etc/os-release && echo "$PRETTY_NAME") (debian_version $(cat /etc/debian_version))"
  echo "cpu: nproc=$(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "memory: $(free -g | awk '/^Mem:/ {print $2 " GiB total, " $7 " GiB available"}')"
  echo "/var/tmp: $(df -hT /var/tmp | awk 'NR==2 {print $2 " on " $1 ", " $3 " size, " $5 " free"}')"
  echo "loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "rsync: $(/usr/bin/rsync --version | head -1)"
  echo "rsync daemon target: $("${RSYNCD:-/usr/bin/rsync}" --version | head -1)"
  echo "lsyncd: $(lsyncd --version 2>&1 | head -1) (Debian $(dpkg-query -W -f='${Version}' lsyncd 2>/dev/null))"
  echo "inotifywait: $(inotifywait --help 2>&1 | head -1) (Debian inotify-tools $(dpkg-query -W -f='${Version}' inotify-tools 2>/dev/null))"
  [[ -n ${FERRYD:-} ]] && echo "ferryd: $("$FERRYD" --version) at $FERRY_COMMIT ($FERRYD)"
  echo "python3: $($PY --version 2>&1)"
  echo "settings: runs=$RUNS N_FILES=$N_FILES timeout=${TIMEOUT}s stuck=${STUCK}s stall=${STALL}s syncers=$SYNCERS targets=$TARGETS workloads=$WORKLOADS"
}

# ------------------------------------------------------------------ syncers
# start_SYNCER: starts it in the background; sets SYNCER_PID, PIDS (comma-separated pids whose
# CPU/RSS count as the syncer's) and READY (a command that succeeds once it is ready).
start_ferryd() {
  if [[ $TARGET == local ]]; then
    PATH=$RUN_DIR/bin:$PATH "$FERRYD" --source "$RUN_DIR/src" --target "$DST" \
      --journal "$RUN_DIR/journal" >"$LOG/ferryd.log" 2>&1 &
  else  # quick mode cannot give a password_file: the same thing as a config file
    cat >"$RUN_DIR/ferry.conf" <<EOF
[journal]
dir = $RUN_DIR/journal
[destination.default]
source = $RUN_DIR/src
[target.target1]
destination = default
url = $URL
password_file = $PWFILE
EOF
    cp "$RUN_DIR/ferry.conf" "$LOG/"
    PATH=$RUN_DIR/bin:$PATH "$FERRYD" --config "$RUN_DIR/ferry.conf" >"$LOG/ferryd.log" 2>&1 &
  fi
  SYNCER_PID=$!
  PIDS=$SYNCER_PID
  READY="grep -qE '\bready\$' '$LOG/ferryd.log' 2>/dev/null"
}

start_lsyncd() {  # $1 delay, $2 maxProcesses
  local pw=
  [[ $TARGET == daemon ]] && pw=", password_file = \"$PWFILE\""
  cat >"$LOG/lsyncd.conf" <<EOF
settings {
  logfile = "$LOG/lsyncd.log",
  statusFile = "$LOG/lsyncd.status",
  nodaemon = true,
  insist = true,
  maxProcesses = $2,
}
sync {
  default.rsync,
  source = "$RUN_DIR/src",
  target = "$URL",
  delay = $1,
  maxProcesses = $2,
  delete = true,
  rsync = { binary = "$RUN_DIR/bin/rsync", archive = true$pw },
}
EOF
  lsyncd "$LOG/lsyncd.conf" >"$LOG/lsyncd.out" 2>&1 &
  SYNCER_PID=$!
  PIDS=$SYNCER_PID
  READY="grep -q 'Startup of .* finished' '$LOG/lsyncd.log' 2>/dev/null"
}

start_inotifywait() {
  local extra=()
  [[ $TARGET == daemon ]] && extra=(--password-file="$PWFILE")
  PATH=$RUN_DIR/bin:$PATH "$HERE/inotify-loop.sh" "$RUN_DIR/src" "$URL" "${extra[@]}" \
    >"$LOG/loop.out" 2>"$LOG/loop.err" &
  SYNCER_PID=$!
  PIDS=$SYNCER_PID
  READY="grep -q 'Watches established' '$LOG/loop.err' 2>/dev/null"
}

# ------------------------------------------------------------------ one run
printf 'syncer\ttarget\tworkload\trun\tresult\tconverged\tconverge_s\tworkload_s\trsync_runs\tpeak_rss_mib\tcpu_s\trsync_cpu_s\tsettled\tscans\tnotes\ttimeout\tload1\n' >"$RAW"

wait_for() {  # wait_for SECONDS CMD: true once CMD succeeds; false at the deadline or if the syncer died
  local end=$((SECONDS + $1))
  while ((SECONDS < end)); do
    eval "$2" && return 0
    kill -0 "$SYNCER_PID" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

phase() { printf '%s %s\n' "$(date +%s.%N)" "$1" >>"$LOG/phases"; }

counter_lines() { if [[ -f $COUNTER ]]; then wc -l <"$COUNTER"; else echo 0; fi; }

run_one() {  # run_one SYNCER TARGET WORKLOAD RUN
  SYNCER=$1 TARGET=$2 WORKLOAD=$3
  local run=$4 notes="" load1=- result=error conv_s=- wl_s=- runs=- rss=- cpu=- rcpu=- settled=- scans=-
  LOG=$WORKDIR/logs/$SYNCER.$TARGET.$WORKLOAD.$run
  rm -rf "$RUN_DIR" "$LOG"
  mkdir -p "$RUN_DIR/src" "$RUN_DIR/bin" "$LOG"
  COUNTER=$LOG/rsync-calls
  # one line per call in rsync-calls (counted); the arguments, for reading, in rsync-args
  printf '#!/bin/sh\necho "$$ $PPID" >>"%s"\necho "$$ $*" >>"%s"\nexec /usr/bin/rsync "$@"\n' \
    "$COUNTER" "$LOG/rsync-args" >"$RUN_DIR/bin/rsync"
  chmod +x "$RUN_DIR/bin/rsync"
  local rsync_auth=()
  if [[ $TARGET == local ]]; then
    DST=$RUN_DIR/dst URL=$RUN_DIR/dst
    mkdir -p "$DST"
  else
    DST=$MOD URL=$DAEMON_URL
    rsync_auth=(--password-file="$PWFILE")
    find "$MOD" -mindepth 1 -delete 2>/dev/null || { rm -rf "$MOD" && mkdir -p "$MOD"; }
  fi
  phase pre
  "pre_$WORKLOAD" "$RUN_DIR/src"
  if [[ $LINK_PRECOPY == *" $WORKLOAD "* ]]; then  # see workloads.sh
    cp -al "$RUN_DIR/src/." "$DST/" || notes+="pre-copy failed;"
  else
    /usr/bin/rsync -a --delete "$RUN_DIR/src/" "$DST/" || notes+="pre-copy failed;"
  fi

  phase start
  SYNCER_PID= PIDS=
  case $SYNCER in
    ferryd) start_ferryd ;;
    lsyncd-d*-p*) local d=${SYNCER#lsyncd-d}; start_lsyncd "${d%%-p*}" "${SYNCER##*-p}" ;;
    inotifywait) start_inotifywait ;;
    rsync-once) ;;
    *) echo "run.sh: unknown syncer $SYNCER" >&2; exit 64 ;;
  esac

  local base_runs=0 own0=0 child0=0 ok=1
  if [[ -n $SYNCER_PID ]]; then
    if ! wait_for 60 "$READY"; then
      notes+="not ready after 60s;"
      ok=0
    else
      [[ $SYNCER == inotifywait ]] && PIDS=$SYNCER_PID,$("${TOOL[@]}" child "$SYNCER_PID" inotifywait)
  phase ready
      local r
      r=$("${TOOL[@]}" wait "$RUN_DIR/src" "$DST" --timeout 120 --diffs "$LOG/setup-diffs")
      [[ $r == converged* ]] || { notes+="setup did not converge ($r);"; ok=0; }
  phase setup-converged
      r=$("${TOOL[@]}" idle --pids "$PIDS" --counter "$COUNTER" --quiet 1.5 --max 60)
      [[ $r == idle* ]] || notes+="not idle before the workload ($r);"
    fi
    base_runs=$(counter_lines)
    read -r own0 child0 _ < <("${TOOL[@]}" stats "$PIDS")
  fi

  if ((ok)); then
    rm -f /var/tmp/pwned
    local t0 t1
    load1=$(cut -d' ' -f1 /proc/loadavg)
    phase idle
    t0=$(date +%s.%N)
    "wl_$WORKLOAD" "$RUN_DIR/src"
    t1=$(date +%s.%N)
    wl_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')
    local wait_args=(--t0 "$t0" --timeout "$TIMEOUT" --diffs "$LOG/diffs")
    if [[ $SYNCER == rsync-once ]]; then
      /usr/bin/time -f '%e %U %S %M' -o "$LOG/time" \
        "$RUN_DIR/bin/rsync" -a --delete "${rsync_auth[@]}" "$RUN_DIR/src/" "$URL/" \
        >"$LOG/rsync.out" 2>&1 || notes+="rsync exit $?;"
      wait_args=(--t0 "$t0" --timeout 0 --diffs "$LOG/diffs")   # one check, no waiting
    else
      wait_args+=(--pids "$PIDS" --counter "$COUNTER" --stuck "$STUCK" --stall "$STALL")
    fi
    local w
  phase workload-done
    w=$("${TOOL[@]}" wait "$RUN_DIR/src" "$DST" "${wait_args[@]}")
    read -r result conv_s scans <<<"$w"
    if [[ $SYNCER == rsync-once ]]; then
      local e u s m
      read -r e u s m <"$LOG/time"
      runs=$(($(counter_lines) - base_runs))
      rcpu=$(awk -v u="$u" -v s="$s" 'BEGIN {printf "%.2f", u + s}')
      rss=$(awk -v m="$m" 'BEGIN {printf "%.1f", m / 1024}')
      cpu=-
      settled=yes
    else
      local idle own1 child1 hwm
      idle=$("${TOOL[@]}" idle --pids "$PIDS" --counter "$COUNTER" --quiet 1.5 --max "$SETTLE_MAX")
      settled=${idle%% *}
      read -r own1 child1 hwm < <("${TOOL[@]}" stats "$PIDS")
      runs=$(($(counter_lines) - base_runs))
      [[ $settled == idle ]] || runs+="+"
      cpu=$(awk -v a="$own0" -v b="$own1" 'BEGIN {printf "%.2f", b - a}')
      rcpu=$(awk -v a="$child0" -v b="$child1" 'BEGIN {printf "%.2f", b - a}')
      [[ $settled == idle ]] || { cpu+="+"; rcpu+="+"; }
      rss=$(awk -v m="$hwm" 'BEGIN {printf "%.1f", m / 1024}')
      kill -0 "$SYNCER_PID" 2>/dev/null || notes+="syncer exited;"
    fi
  phase settled
    # cross-check with rsync itself (not timed): anything itemized is a difference
    /usr/bin/rsync -rlpgoD -n -i --delete --checksum "$RUN_DIR/src/" "$DST/" \
      >"$LOG/crosscheck" 2>&1
    if [[ $result == converged && -s $LOG/crosscheck ]]; then
      notes+="rsync cross-check lists $(wc -l <"$LOG/crosscheck") lines after settling;"
    fi
    if [[ $result == converged ]] && ! "${TOOL[@]}" diff "$RUN_DIR/src" "$DST" >"$LOG/final-diffs"; then
      notes+="differs again after settling ($(wc -l <"$LOG/final-diffs") entries);"
    fi
    [[ -e /var/tmp/pwned ]] && { notes+="PWNED: /var/tmp/pwned exists;"; rm -f /var/tmp/pwned; }
  fi
  phase checked
  kill_tree "$SYNCER_PID"
  SYNCER_PID=
  if [[ $TARGET == daemon ]]; then  # let the daemon's children for this run finish
    local i
    for ((i = 0; i < 100; i++)); do
      [[ -z $("${TOOL[@]}" descendants "$RSYNCD_PID") ]] && break
      sleep 0.1
    done
  fi
  phase stopped
  local converged=no
  [[ $result == converged ]] && converged=yes
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$SYNCER" "$TARGET" "$WORKLOAD" "$run" "$result" "$converged" "$conv_s" "$wl_s" "$runs" \
    "$rss" "$cpu" "$rcpu" "$settled" "$scans" "${notes:--}" "$TIMEOUT" "$load1" >>"$RAW"
  log "$SYNCER $TARGET $WORKLOAD #$run: $result ${conv_s}s (workload ${wl_s}s) rsync=$runs cpu=$cpu rsync_cpu=$rcpu rss=${rss}MiB ${notes}"
  if ((!KEEP)); then rm -rf "$RUN_DIR"; fi
}

# ------------------------------------------------------------------ main
START=$SECONDS
INFO=$(machine_info)
echo "$INFO" >&2
IFS=, read -r -a syncers <<<"$SYNCERS"
IFS=, read -r -a targets <<<"$TARGETS"
IFS=, read -r -a workloads <<<"$WORKLOADS"
for w in "${workloads[@]}"; do
  declare -F "wl_$w" >/dev/null || { echo "run.sh: unknown workload $w" >&2; exit 64; }
done
for ((run = 1; run <= RUNS; run++)); do
  for w in "${workloads[@]}"; do
    for t in "${targets[@]}"; do
      for s in "${syncers[@]}"; do
        run_one "$s" "$t" "$w" "$run"
      done
    done
  done
done
ELAPSED=$((SECONDS - START))

{
  echo "# ferry vs peers ($STAMP)"
  echo
  echo '```'
  echo "$INFO"
  echo "command: $0 $ORIG_ARGS"
  echo "elapsed: $((ELAPSED / 60)) min $((ELAPSED % 60)) s"
  echo "workload sizes: create=$N_FILES files, rename/delete trees of $N_FILES files, create100k=$N_BIG"
  echo "raw results and per-run logs: $RAW, $WORKDIR/logs/"
  echo '```'
  echo
  echo "converge_s: median seconds from workload start until the target was identical (runs that did"
  echo "not converge count as infinite; '>T' = timed out, 'DNF' = gave up: syncer idle ${STUCK}s with"
  echo "the trees different, or the differences unchanged for ${STALL}s). rsync_runs / cpu_s / rsync_cpu_s: medians over the workload until the"
  echo "syncer was idle again ('+': still busy after ${SETTLE_MAX}s, a lower bound). peak_rss_MiB: VmHWM"
  echo "of the syncer's processes (rsync-once: rsync's maxrss). after_end_s: median of converge_s minus"
  echo "the workload's own duration. load1: median 1-minute load average at workload start."
  echo
  "${TOOL[@]}" summarize "$RAW" --md
  echo
  awk -F'\t' 'NR > 1 && ($15 != "-" || $6 != "yes") {
      if (!n++) print "Per-run notes (runs that did not converge or had something to say):"
      print "- " $1 " " $2 " " $3 " #" $4 ": " $5 " after " $7 "s; " $15
    }' "$RAW"
} >"$OUT"
cat "$OUT"
log "done in $((ELAPSED / 60)) min $((ELAPSED % 60)) s; results in $OUT"
