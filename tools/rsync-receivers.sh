#!/bin/sh
# tools/rsync-receivers.sh DIR: puts the rsync receivers of the compatibility
# test (tests/integration/rsync_compat_test.cc) in DIR, as DIR/rsync-VERSION:
#   3.0.9 3.1.3 3.2.3 3.4.1  built from the upstream release tarballs in
#                            tests/data/rsync-src (about 15 s each; needs gcc,
#                            make, autoconf, automake, perl: tools/deps.sh)
#   3.2.7-deb12u6            Debian 12's point release, without the security
#                            suite's 3.5.0 (apt-get download; its broken
#                            --delete-missing-args is what issue 13 is about)
# The five are had at the same time (configure is serial; this halves the
# wait on 2 cores). Idempotent: what is there is kept. A receiver that cannot be had is reported
# and left out; the test skips it and says why.
set -u
dir=${1:?usage: tools/rsync-receivers.sh DIR}
here=$(cd "$(dirname "$0")/.." && pwd)
src="$here/tests/data/rsync-src"
mkdir -p "$dir"
for v in 3.0.9 3.1.3 3.2.3 3.4.1; do
  { "$src/build.sh" "$v" "$dir" || echo "rsync-receivers: rsync $v could not be built" >&2; } &
done
deb=3.2.7-1+deb12u6
if [ ! -x "$dir/rsync-3.2.7-deb12u6" ]; then
  work=$(mktemp -d "${TMPDIR:-/var/tmp}/rsync-deb.XXXXXX")
  if (cd "$work" && apt-get download "rsync=$deb" >/dev/null 2>&1 &&
      dpkg-deb -x rsync_*.deb x && cp x/usr/bin/rsync "$dir/rsync-3.2.7-deb12u6.tmp"); then
    mv "$dir/rsync-3.2.7-deb12u6.tmp" "$dir/rsync-3.2.7-deb12u6"
  else
    echo "rsync-receivers: apt-get download rsync=$deb failed (no Debian archive?)" >&2
  fi
  rm -rf "$work"
fi
wait
exit 0
