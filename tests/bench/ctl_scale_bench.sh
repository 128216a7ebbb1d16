#!/bin/bash
# ctl_scale_bench.sh [--events N] [--runs R] FERRYCTL...: how long `ferryctl
# status`, `log -n 10` and `log --since` (the last second) take on a journal of
# N events (default 10M) against an empty one, for each ferryctl given, R
# times (default 5), alternating. Prints medians of wall and CPU time.
# The journals are made by ferry-journal-demo in $TMPDIR (default /var/tmp)
# and kept in $TMPDIR/ferry-ctl-scale for later runs. Issue 16.
set -eu
events=10000000 runs=5
while [ $# -gt 0 ]; do
  case $1 in
    --events) events=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "usage: $0 [--events N] [--runs R] FERRYCTL..." >&2; exit 64; }
here=$(cd "$(dirname "$0")" && pwd)
demo=${FERRY_JOURNAL_DEMO:-$here/../../build/tools/ferry-journal-demo}
dir=${TMPDIR:-/var/tmp}/ferry-ctl-scale; mkdir -p "$dir"
big=$dir/journal-$events small=$dir/journal-empty
[ -d "$big" ] || "$demo" --journal "$big" --bench "$events" | tail -2
[ -d "$small" ] || "$demo" --journal "$small" --bench 0 >/dev/null
last=$("${1}" --journal "$big" log -n 1 -o json |
       python3 -c 'import json,sys; print(json.load(sys.stdin)["time_ns"] // 10**9)')
out=$dir/runs.$$
for run in $(seq "$runs"); do
  for ctl in "$@"; do
    for journal in "$small" "$big"; do
      for verb in "status" "log -n 10" "log --since @$last -n 5"; do
        # shellcheck disable=SC2086
        perf stat -x, -e task-clock "$ctl" --journal "$journal" $verb 2>"$out.err" >/dev/null
        cpu=$(cut -d, -f1 "$out.err" | tail -1)
        start=$(date +%s%N); "$ctl" --journal "$journal" $verb >/dev/null; end=$(date +%s%N)
        echo "$ctl|$(basename "$journal")|${verb% @*}|$(( (end - start) / 1000000 ))|${cpu%.*}"
      done
    done
  done
done >"$out"
python3 - "$out" <<'PY'
import collections, statistics, sys
by = collections.defaultdict(list)
for line in open(sys.argv[1]):
    ctl, journal, verb, wall, cpu = line.strip().split("|")
    by[(ctl, journal, verb)].append((int(wall), int(cpu)))
for (ctl, journal, verb), rows in sorted(by.items()):
    print(f"{ctl} {journal:>16} {verb:<14} wall {statistics.median(r[0] for r in rows):4.0f} ms"
          f"  cpu {statistics.median(r[1] for r in rows):4.0f} ms  (wall: {[r[0] for r in rows]})")
PY
rm -f "$out" "$out.err"
