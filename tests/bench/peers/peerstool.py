#!/usr/bin/python3
"""Helpers for tests/bench/peers/run.sh (Debian's python3-minimal is enough).

  peerstool.py wait SRC DST --t0 EPOCH [--timeout S] [--interval S] [--pids P,..]
               [--counter FILE] [--stuck S] [--stall S] [--diffs FILE]
      Polls until DST is identical to SRC (see `same_tree` below for what "identical" means),
      the deadline passes, or (with --pids) the syncer has been idle for --stuck seconds while
      the trees still differ, or (--stall) the first 1000 differences and the target side's
      stat of each have not changed for --stall seconds (checked every 5 s): the syncer may be
      busy, but it is not changing the target.
      Prints: "converged|timeout|stuck|stalled SECONDS_SINCE_T0 SCANS".
      On failure, the differences (at most 50) go to --diffs.
  peerstool.py idle --pids P,.. --counter FILE [--quiet S] [--max S]
      Waits until the syncer is idle: no rsync descendant alive, the rsync counter file
      unchanged, and the syncer's CPU (own + reaped children) grown by < 2% of the window,
      all for --quiet seconds. Prints "idle SECONDS" or "busy SECONDS" (hit --max).
  peerstool.py stats P,..       -> "OWN_CPU_S CHILD_CPU_S HWM_KIB" summed over the pids
  peerstool.py descendants PID  -> the pids of PID's descendants, one a line
  peerstool.py child PID COMM   -> the first child of PID whose comm is COMM
  peerstool.py freeport         -> a free TCP port on 127.0.0.1
  peerstool.py waitport PORT [S]
  peerstool.py diff SRC DST     -> every difference (at most 200), exit 1 if any
  peerstool.py summarize RAW.tsv [--md]   -> the per-(syncer, target, workload) medians

"Identical", as checked here: the same set of names in every directory (names are bytes: a
\\xff or a newline in a name is fine), and for every entry the same type, permission bits,
uid and gid; regular files the same size and the same bytes (read and compared in full);
symlinks the same target (not followed); devices the same rdev. Modification times are NOT
compared (a syncer that forgets a directory's mtime has still delivered the data), and the
attributes of the two top directories themselves are not compared.

Cost: a scan stops at the first difference, and the next poll first re-checks that entry
alone, so polling a tree that is far from converged is cheap. Contents are read only once the
whole structure matches; a file pair whose stat (ino, size, mtime, ctime) has not changed
since it was last read equal, and whose ctimes were then > 50 ms old, is not read again.
"""
import os
import stat
import sys
import time
import socket

CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- tree comparison

def _sig(st, path):
    mode = st.st_mode
    kind = stat.S_IFMT(mode)
    perms = 0 if stat.S_ISLNK(mode) else stat.S_IMODE(mode)
    s = (kind, perms, st.st_uid, st.st_gid)
    if stat.S_ISREG(mode):
        return s + (st.st_size,)
    if stat.S_ISLNK(mode):
        return s + (os.readlink(path),)
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return s + (st.st_rdev,)
    return s


def _kind_name(st):
    if st is None:
        return "missing"
    m = st.st_mode
    return {stat.S_IFREG: "file", stat.S_IFDIR: "dir", stat.S_IFLNK: "symlink"}.get(
        stat.S_IFMT(m), "special")


def _lstat(p):
    try:
        return os.lstat(p)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None


def _listdir(p):
    try:
        return set(os.listdir(p))
    except (FileNotFoundError, NotADirectoryError):
        return None


def _same_bytes(a, b):
    try:
        with open(a, "rb") as fa, open(b, "rb") as fb:
            while True:
                x = fa.read(1 << 20)
                y = fb.read(1 << 20)
                if x != y:
                    return False
                if not x:
                    return True
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return False


class TreeCmp:
    def __init__(self, src, dst):
        self.src = os.fsencode(src).rstrip(b"/")
        self.dst = os.fsencode(dst).rstrip(b"/")
        self.cache = {}      # rel -> (src key, dst key) known equal
        self.last = None     # rel of the last difference found

    @staticmethod
    def _key(st):
        return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    def _content_equal(self, rel, sst, dst_st):
        key = (self._key(sst), self._key(dst_st))
        if self.cache.get(rel) == key:
            return True
        now = time.time_ns()
        same = _same_bytes(self.src + rel, self.dst + rel)
        if same and now - max(sst.st_ctime_ns, dst_st.st_ctime_ns) > 50_000_000:
            self.cache[rel] = key
        return same

    def check_entry(self, rel):
        """None if rel is the same on both sides (not recursive beyond the listing)."""
        s, d = self.src + rel, self.dst + rel
        ss, ds = _lstat(s), _lstat(d)
        if ss is None and ds is None:
            return None
        if ss is None or ds is None:
            return (rel, "only in " + ("target" if ss is None else "source"))
        try:
            if _sig(ss, s) != _sig(ds, d):
                return (rel, "differs: %s %s vs %s %s" % (
                    _kind_name(ss), _sig(ss, s)[1:], _kind_name(ds), _sig(ds, d)[1:]))
        except FileNotFoundError:
            return (rel, "vanished")
        if stat.S_ISDIR(ss.st_mode):
            if _listdir(s) != _listdir(d):
                return (rel, "directory listings differ")
        elif stat.S_ISREG(ss.st_mode) and not self._content_equal(rel, ss, ds):
            return (rel, "content differs (same size)")
        return None

    def scan(self, limit=1):
        """Differences, at most `limit` (structure first, then contents)."""
        diffs = []
        files = []
        stack = [b""]
        while stack:
            rel = stack.pop()
            ls, ld = _listdir(self.src + rel), _listdir(self.dst + rel)
            if ls is None or ld is None:
                diffs.append((rel or b"/", "directory vanished"))
                if len(diffs) >= limit:
                    return diffs
                continue
            for name in sorted(ls ^ ld):
                diffs.append((rel + b"/" + name, "only in " + ("source" if name in ls else "target")))
                if len(diffs) >= limit:
                    return diffs
            for name in sorted(ls & ld, reverse=True):
                r = rel + b"/" + name
                s, d = self.src + r, self.dst + r
                ss, ds = _lstat(s), _lstat(d)
                if ss is None or ds is None:
                    diffs.append((r, "vanished during the scan"))
                    if len(diffs) >= limit:
                        return diffs
                    continue
                try:
                    same = _sig(ss, s) == _sig(ds, d)
                except FileNotFoundError:
                    same = False
                if not same:
                    e = self.check_entry(r) or (r, "differs")
                    diffs.append(e)
                    if len(diffs) >= limit:
                        return diffs
                    continue
                if stat.S_ISDIR(ss.st_mode):
                    stack.append(r)
                elif stat.S_ISREG(ss.st_mode):
                    files.append((r, ss, ds))
        if diffs:
            return diffs
        for r, ss, ds in files:
            if not self._content_equal(r, ss, ds):
                diffs.append((r, "content differs (same size)"))
                if len(diffs) >= limit:
                    return diffs
        return diffs

    def progress_signature(self):
        """The first 1000 differences with the target side's stat: unchanged = no progress."""
        out = []
        for rel, what in self.scan(1000):
            st = _lstat(self.dst + rel) if rel != b"/" else None
            out.append((rel, what, None if st is None else self._key(st)))
        return out

    def converged(self):
        if self.last is not None:
            if self.check_entry(self.last) is not None:
                return False
            self.last = None
        d = self.scan(1)
        if d:
            self.last = d[0][0] if d[0][0] != b"/" else None
            return False
        return True


def fmt_diff(rel, what):
    return "%r: %s" % (rel, what)


# ---------------------------------------------------------------- /proc helpers

def proc_stat(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    rp = data.rindex(b")")
    comm = data[data.index(b"(") + 1:rp]
    fields = data[rp + 2:].split()
    # fields[0] is state (field 3); utime is field 14 -> index 11
    return {
        "comm": comm.decode("utf-8", "replace"),
        "ppid": int(fields[1]),
        "utime": int(fields[11]), "stime": int(fields[12]),
        "cutime": int(fields[13]), "cstime": int(fields[14]),
    }


def hwm_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def stats(pids):
    own = child = hwm = 0
    for p in pids:
        s = proc_stat(p)
        if s is None:
            continue
        own += s["utime"] + s["stime"]
        child += s["cutime"] + s["cstime"]
        hwm += hwm_kib(p)
    return own / CLK_TCK, child / CLK_TCK, hwm


def all_procs():
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            s = proc_stat(int(d))
            if s is not None:
                out[int(d)] = s
    return out


def descendants(root, procs=None):
    procs = procs if procs is not None else all_procs()
    kids = {}
    for p, s in procs.items():
        kids.setdefault(s["ppid"], []).append(p)
    out, stack = [], [root]
    while stack:
        for c in kids.get(stack.pop(), []):
            out.append(c)
            stack.append(c)
    return out


def rsync_busy(pids):
    procs = all_procs()
    for p in pids:
        for d in descendants(p, procs):
            if procs[d]["comm"] in ("rsync", "sh", "bash"):
                return True
    return False


def counter_size(path):
    try:
        return os.path.getsize(path)
    except FileNotFoundError:
        return 0


class IdleWatch:
    """Tracks how long the syncer has been idle."""

    def __init__(self, pids, counter):
        self.pids, self.counter = pids, counter
        self.since = time.monotonic()
        self.sig = None

    def idle_for(self):
        own, child, _ = stats(self.pids)
        cpu = own + child
        now = time.monotonic()
        cnt = counter_size(self.counter) if self.counter else 0
        busy = rsync_busy(self.pids)
        if self.sig is None or busy or cnt != self.sig[0]:
            self.sig = (cnt, cpu, now)
            self.since = now
            return 0.0
        # CPU growth above 2% of the elapsed window counts as activity
        if cpu - self.sig[1] > 0.02 * (now - self.sig[2]) + 1.0 / CLK_TCK:
            self.sig = (cnt, cpu, now)
            self.since = now
            return 0.0
        return now - self.since


# ---------------------------------------------------------------- commands

def opt(args, name, default=None, conv=str):
    if name in args:
        i = args.index(name)
        v = args[i + 1]
        del args[i:i + 2]
        return conv(v)
    return default


def pidlist(s):
    return [int(x) for x in s.split(",") if x] if s else []


def cmd_wait(args):
    t0 = opt(args, "--t0", None, float)
    timeout = opt(args, "--timeout", 300.0, float)
    interval = opt(args, "--interval", 0.1, float)
    pids = opt(args, "--pids", [], pidlist)
    counter = opt(args, "--counter", None)
    stuck = opt(args, "--stuck", 0.0, float)
    stall = opt(args, "--stall", 0.0, float)
    diffs_file = opt(args, "--diffs", None)
    src, dst = args
    if t0 is None:
        t0 = time.time()
    deadline = t0 + timeout
    tc = TreeCmp(src, dst)
    watch = IdleWatch(pids, counter) if pids and stuck > 0 else None
    scans = 0
    result = None
    stall_sig, stall_since, stall_next = None, time.monotonic(), time.monotonic() + 5
    while True:
        a = time.time()
        ok = tc.converged()
        scans += 1
        b = time.time()
        if ok:
            result = "converged"
            break
        if b >= deadline:
            result = "timeout"
            break
        if watch is not None and watch.idle_for() >= stuck:
            result = "stuck"
            break
        if stall > 0 and time.monotonic() >= stall_next:
            sig = tc.progress_signature()
            now = time.monotonic()
            if sig != stall_sig:
                stall_sig, stall_since = sig, now
            elif now - stall_since >= stall:
                result = "stalled"
                break
            stall_next = now + 5
        # keep the checker under ~50% of a CPU on big trees
        time.sleep(max(interval, min(b - a, 2.0)))
    print("%s %.3f %d" % (result, b - t0, scans))
    if result != "converged" and diffs_file:
        with open(diffs_file, "w") as f:
            for rel, what in TreeCmp(src, dst).scan(50):
                f.write(fmt_diff(rel, what) + "\n")
    return 0 if result == "converged" else 1


def cmd_idle(args):
    pids = opt(args, "--pids", [], pidlist)
    counter = opt(args, "--counter", None)
    quiet = opt(args, "--quiet", 2.0, float)
    mx = opt(args, "--max", 60.0, float)
    w = IdleWatch(pids, counter)
    start = time.monotonic()
    while True:
        idle = w.idle_for()
        el = time.monotonic() - start
        if idle >= quiet:
            print("idle %.2f" % el)
            return 0
        if el >= mx:
            print("busy %.2f" % el)
            return 1
        time.sleep(0.2)


def cmd_summarize(args):
    md = "--md" in args
    if md:
        args.remove("--md")
    path = args[0]
    rows = []
    with open(path, encoding="utf-8", errors="replace") as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            if line.strip():
                rows.append(dict(zip(header, line.rstrip("\n").split("\t"))))
    groups = {}
    order = []
    for r in rows:
        k = (r["syncer"], r["target"], r["workload"])
        if k not in groups:
            groups[k] = []
            order.append(k)
        groups[k].append(r)

    def median(xs):
        xs = sorted(xs)
        n = len(xs)
        if n == 0:
            return None
        return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2

    def num(v):
        try:
            return float(v.rstrip("+"))
        except (ValueError, AttributeError):
            return None

    cols = ["syncer", "target", "workload", "converge_s", "after_end_s", "rsync_runs",
            "peak_rss_MiB", "cpu_s", "rsync_cpu_s", "converged", "load1"]
    out = []
    for k in order:
        g = groups[k]
        n = len(g)
        conv = [r for r in g if r["converged"] == "yes"]
        times = [num(r["converge_s"]) if r["converged"] == "yes" else float("inf") for r in g]
        m = median(times)
        if m == float("inf"):
            failed = [r for r in g if r["converged"] != "yes"]
            if k[0] == "rsync-once":
                cs = "no"
            elif all(r["result"] == "timeout" for r in failed):
                cs = ">%s" % g[0].get("timeout", "?")
            else:
                cs = "DNF"
        else:
            cs = "%.2f" % m
        def med(col, fmt):
            vals = [num(r[col]) for r in g if num(r[col]) is not None]
            if not vals:
                return "-"
            plus = any(r[col].endswith("+") for r in g)
            return (fmt % median(vals)) + ("+" if plus else "")
        lags = [num(r["converge_s"]) - num(r["workload_s"]) if r["converged"] == "yes"
                else float("inf") for r in g]
        lag = median(lags)
        lag = "-" if lag is None or lag == float("inf") else "%.2f" % lag
        out.append([k[0], k[1], k[2], cs, lag, med("rsync_runs", "%.0f"),
                    med("peak_rss_mib", "%.1f"),
                    med("cpu_s", "%.2f"), med("rsync_cpu_s", "%.2f"),
                    "%d/%d" % (len(conv), n), med("load1", "%.1f")])
    if md:
        print("| " + " | ".join(cols) + " |")
        print("|" + "|".join(["---"] * 3 + ["---:"] * 6 + ["---", "---:"]) + "|")
        for r in out:
            print("| " + " | ".join(r) + " |")
    else:
        print("\t".join(cols))
        for r in out:
            print("\t".join(r))
    return 0


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 64
    c = args.pop(0)
    if c == "wait":
        return cmd_wait(args)
    if c == "idle":
        return cmd_idle(args)
    if c == "stats":
        own, child, hwm = stats(pidlist(args[0]))
        print("%.2f %.2f %d" % (own, child, hwm))
        return 0
    if c == "descendants":
        for p in descendants(int(args[0])):
            print(p)
        return 0
    if c == "child":
        procs = all_procs()
        for p, s in sorted(procs.items()):
            if s["ppid"] == int(args[0]) and s["comm"] == args[1]:
                print(p)
                return 0
        return 1
    if c == "freeport":
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])
        s.close()
        return 0
    if c == "waitport":
        port = int(args[0])
        end = time.time() + (float(args[1]) if len(args) > 1 else 10)
        while time.time() < end:
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                return 0
            except OSError:
                time.sleep(0.1)
        return 1
    if c == "diff":
        d = TreeCmp(args[0], args[1]).scan(200)
        for rel, what in d:
            print(fmt_diff(rel, what))
        return 1 if d else 0
    if c == "summarize":
        return cmd_summarize(args)
    print("unknown command " + c, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main())
