#!/bin/sh
# build.sh VERSION DESTDIR: builds rsync VERSION (3.0.9, 3.1.3, 3.2.3, 3.4.1) from the tarball
# beside this script and installs the single binary as DESTDIR/rsync-VERSION.  Idempotent: does
# nothing when that binary exists.  Needs gcc, make, autoconf, automake, perl (Debian packages).
# These are the upstream release sources (RsyncProject/rsync tags), kept here so that tests can
# check ferry against the rsync receivers real backup servers run (CentOS 6: 3.0.9, CentOS 7: 3.1.2,
# Debian 10: 3.1.3, Debian 11 and RHEL 8/9: 3.2.3, and 3.4.1). Used by tools/rsync-receivers.sh.
set -eu
v=${1:?usage: build.sh VERSION DESTDIR}; dest=${2:?usage: build.sh VERSION DESTDIR}
here=$(cd "$(dirname "$0")" && pwd)
[ -x "$dest/rsync-$v" ] && exit 0
mkdir -p "$dest"; work=$(mktemp -d "${TMPDIR:-/var/tmp}/rsync-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
tar -xzf "$here/rsync-$v.tar.gz" -C "$work"
cd "$work/rsync-$v"
./prepare-source build >/dev/null 2>&1 || true
flags="--disable-debug"
case $v in 3.2.*|3.4.*) flags="$flags --disable-xxhash --disable-zstd --disable-lz4 --disable-openssl --disable-md2man" ;; esac
CFLAGS="-O2 -fcommon -w" ./configure $flags >/dev/null 2>&1 || { echo "rsync $v: configure failed" >&2; exit 1; }
make -j"$(nproc)" rsync >/dev/null 2>&1 || { echo "rsync $v: make failed" >&2; exit 1; }
cp rsync "$dest/rsync-$v.tmp" && mv "$dest/rsync-$v.tmp" "$dest/rsync-$v"
