#!/bin/sh
# build.sh VERSION DESTDIR: builds rsync VERSION (3.0.9, 3.1.3, 3.2.3, 3.4.1) from the tarball
# beside this script and installs the single binary as DESTDIR/rsync-VERSION.  Idempotent: does
# nothing when that binary exists.  Needs gcc, make, autoconf, automake, perl (Debian packages).
# These are the upstream release sources (RsyncProject/rsync tags), kept here so that tests can
# check ferry against the rsync receivers real backup servers run (CentOS 6: 3.0.9, CentOS 7: 3.1.2,
# Debian 10: 3.1.3, Debian 11 and RHEL 8/9: 3.2.3, and 3.4.1). Used by tools/rsync-receivers.sh.
#
# Built as on the glibc each release shipped with (CentOS 6's 2.12 to Debian 11's 2.31): without
# lchmod(3). glibc 2.32 and later implement it through /proc/self/fd, which a daemon's
# `use chroot = yes` (rsyncd's default) hides, and rsync before 3.4 then fails every chmod with
# "Operation not supported" (exit 23). DESTDIR/rsync-VERSION.build records how a binary was built;
# one built otherwise is built again.
set -eu
v=${1:?usage: build.sh VERSION DESTDIR}; dest=${2:?usage: build.sh VERSION DESTDIR}
here=$(cd "$(dirname "$0")" && pwd)
how="ac_cv_func_lchmod=no"
[ -x "$dest/rsync-$v" ] && [ "$(cat "$dest/rsync-$v.build" 2>/dev/null)" = "$how" ] && exit 0
mkdir -p "$dest"; dest=$(cd "$dest" && pwd); work=$(mktemp -d "${TMPDIR:-/var/tmp}/rsync-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
tar -xzf "$here/rsync-$v.tar.gz" -C "$work"
cd "$work/rsync-$v"
./prepare-source build >/dev/null 2>&1 || true
flags="--disable-debug"
case $v in 3.2.*|3.4.*) flags="$flags --disable-xxhash --disable-zstd --disable-lz4 --disable-openssl --disable-md2man" ;; esac
CFLAGS="-O2 -fcommon -w" ac_cv_func_lchmod=no ./configure $flags >/dev/null 2>&1 || { echo "rsync $v: configure failed" >&2; exit 1; }
make -j"$(nproc)" rsync >/dev/null 2>&1 || { echo "rsync $v: make failed" >&2; exit 1; }
cp rsync "$dest/rsync-$v.tmp" && mv "$dest/rsync-$v.tmp" "$dest/rsync-$v"
echo "$how" >"$dest/rsync-$v.build"
