#!/bin/bash
# tests/bench/rsync_probe_cost.sh [RSYNCD]: what the receiver probe's steps
# (replay/rsync_probe.h) cost against one real delete run, to a loopback rsync
# daemon served by RSYNCD (default /usr/bin/rsync; old ones from
# tools/rsync-receivers.sh). Medians of 7 runs, in ms. Run as root.
set -eu
srv=${1:-/usr/bin/rsync}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/ferry-probe.XXXXXX")
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/src" "$work/mod"
printf 'ferry:pw\n' >"$work/secrets"; printf 'pw\n' >"$work/pw"; chmod 600 "$work/secrets" "$work/pw"
cat >"$work/rsyncd.conf" <<CONF
use chroot = false
uid = root
gid = root
[data]
  path = $work/mod
  read only = false
  auth users = ferry
  secrets file = $work/secrets
CONF
port=$(( 20000 + RANDOM % 20000 ))
"$srv" --daemon --no-detach --config="$work/rsyncd.conf" --address=127.0.0.1 --port=$port &
pid=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
ms() { local s; s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; echo $(( ($(date +%s%N) - s) / 1000000 )); }
med() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
dest=rsync://ferry@127.0.0.1:$port/data/
base="rsync -a --force --stats --timeout=100 --contimeout=30 --password-file=$work/pw --from0"
ver=$(for _ in $(seq 7); do ms rsync --version; done | med)
dry=$(for _ in $(seq 7); do ms sh -c "printf './.ferry-probe\0' | $base --dry-run --files-from=- --ignore-missing-args --debug=PROTO $work/src/ $dest"; done | med)
del=$(for _ in $(seq 7); do ms sh -c "printf '/gone\0/gone/***\0' | $base --include-from=- --exclude='*' --recursive --delete $work/src/ $dest"; done | med)
echo "receiver $("$srv" --version | head -1 | awk '{print $3}'): rsync --version ${ver} ms, one dry run ${dry} ms, one delete run ${del} ms"
