# Workloads for tests/bench/peers/run.sh (sourced by it; bash).
#
# Each workload NAME has pre_NAME SRC (builds what must exist before the syncer starts; the
# target gets a copy of it) and wl_NAME SRC (the timed part). Both run with SRC as the source
# root. Files are written with bash builtins (printf) so the workload itself is fast.
# Sizes: N_FILES (10000; 2000 with --quick), N_BIG (100000, --big only).
#
# The rename and delete workloads never write a file's contents, so their pre-created trees (in
# the source, and the target's copy) are hard-linked copies (cp -al) of one template tree made
# once per script run in $TEMPLATE: creating 10k files costs 5-10 s on the reference VM, every
# run. Directory watches get no event when another link's count changes (checked), and the
# comparison ignores link counts, so syncers see the same thing as with fresh files.
LINK_PRECOPY=" rename delete "

: "${N_FILES:=10000}"
: "${N_BIG:=100000}"
PAD=$(printf '%01000d' 0)   # 1000 bytes of '0'

# make_tree DIR N: N small files (50..1049 bytes) in ceil(N/100) subdirectories of 100.
make_tree() {
  local dir=$1 n=$2 i d
  for ((d = 0; d * 100 < n; d++)); do mkdir -p "$dir/d$d"; done
  for ((i = 0; i < n; i++)); do
    printf 'file %d %s\n' "$i" "${PAD:0:$(((i * 37) % 1000 + 40))}" >"$dir/d$((i / 100))/f$i.txt"
  done
}

# link_tree DIR: DIR becomes a hard-linked copy of the N_FILES-file template.
link_tree() {
  if [[ ! -d $TEMPLATE/t$N_FILES ]]; then
    rm -rf "$TEMPLATE/tmp" && make_tree "$TEMPLATE/tmp" "$N_FILES" && mv "$TEMPLATE/tmp" "$TEMPLATE/t$N_FILES"
  fi
  cp -al "$TEMPLATE/t$N_FILES" "$1"
}

# --- create: N_FILES new small files in 100-file directories
pre_create() { :; }
wl_create() { make_tree "$1/new" "$N_FILES"; }

# --- create100k: the same with N_BIG files (--big)
pre_create100k() { :; }
wl_create100k() { make_tree "$1/new" "$N_BIG"; }

# --- rewrite: 100 files, each rewritten 50 times at the same size (2048 bytes), as fast as
# bash can: every version has the same size and almost always the same mtime second as the
# one before, rsync's quick-check trap (size + mtime equal => "unchanged").
pre_rewrite() {
  local f
  mkdir -p "$1/rw"
  for ((f = 0; f < 100; f++)); do printf '%-2047s\n' "file $f version 0" >"$1/rw/r$f.dat"; done
}
wl_rewrite() {
  local v f
  for ((v = 1; v <= 50; v++)); do
    for ((f = 0; f < 100; f++)); do printf '%-2047s\n' "file $f version $v" >"$1/rw/r$f.dat"; done
  done
}

# --- rename: a directory of N_FILES files (pre-created) renamed with one mv
pre_rename() { link_tree "$1/old"; }
wl_rename() { mv "$1/old" "$1/renamed"; }

# --- delete: a tree of N_FILES files (pre-created) removed with rm -rf
pre_delete() { link_tree "$1/doomed"; echo keep >"$1/keep.txt"; }
wl_delete() { rm -rf "$1/doomed"; }

# --- mixed: odd names, renames of files and directories, deletes, symlinks, chmods.
# "$(touch /var/tmp/pwned)" cannot be one name (it has slashes): it is created as the path
# '$(touch ' / var / tmp / 'pwned)', so a syncer that hands the path to a shell runs it.
ODD_NAMES=(
  $'new\nline' 'hash#tag' 'semi;colon' '-leading-dash' '--delete' '-rf' $'bad\xffbyte'
  'with  two spaces' ' leading space' 'trailing space ' '*star?' $'tab\there' "quote'\"s"
  'back\slash' '.hidden' 'ünïcødé' '[brackets]' 'a:colon' '~tilde' '@at' '%percent'
)
pre_mixed() {
  local m=$1/mx i n
  mkdir -p "$m"
  make_tree "$m/base" 300            # base/d0 d1 d2, f0..f299
  for ((i = 0; i < ${#ODD_NAMES[@]}; i++)); do
    n=${ODD_NAMES[i]}
    printf 'pre %d\n' "$i" >"$m/pre-$n"
  done
  mkdir -p "$m/olddir;#" && printf 'x\n' >"$m/olddir;#/inside"
  ln -s "pre-${ODD_NAMES[0]}" "$m/link-pre"
}
wl_mixed() {
  local m=$1/mx i n
  mkdir -p "$m/\$(touch /var/tmp" && printf 'pwn\n' >"$m/\$(touch /var/tmp/pwned)"
  for ((i = 0; i < ${#ODD_NAMES[@]}; i++)); do
    n=${ODD_NAMES[i]}
    printf 'new %d %s\n' "$i" "${PAD:0:i*10}" >"$m/$n"           # create
    mkdir -p "$m/dir $n" && printf 'in %d\n' "$i" >"$m/dir $n/f $n"
    ln -s -- "$n" "$m/link $n"                                  # symlink to an odd name
  done
  for ((i = 0; i < ${#ODD_NAMES[@]}; i += 2)); do               # rename files
    n=${ODD_NAMES[i]}
    mv -- "$m/$n" "$m/renamed $n"
    mv -- "$m/pre-$n" "$m/base/d1/moved-pre-$n"
  done
  for ((i = 1; i < ${#ODD_NAMES[@]}; i += 2)); do               # rename / move directories
    n=${ODD_NAMES[i]}
    mv -- "$m/dir $n" "$m/base/d0/moved dir $n"
  done
  for ((i = 3; i < ${#ODD_NAMES[@]}; i += 4)); do rm -f -- "$m/pre-${ODD_NAMES[i]}"; done
  mv "$m/olddir;#" "$m/newdir;#"                                # rename a pre-existing dir
  mv "$m/base/d2" "$m/base/d1/d2 moved"                         # move a populated subtree
  rm -rf "$m/base/d1/d2 moved/f25"*                             # delete in the moved tree
  rm -f "$m/base/d0/f1"*                                        # delete files
  mv -f "$m/base/d0/f5.txt" "$m/base/d0/f6.txt"                 # rename over a file
  chmod 600 "$m/base/d0/f7.txt" "$m/hash#tag"                   # attribute-only changes
  chmod 700 "$m/base/d0"
  printf 'short\n' >"$m/base/d0/f8.txt"                         # shrink a file
  ln -s /nonexistent/target "$m/dangling"                       # dangling symlink
  ln -sfn "base/d0" "$m/link-pre"                               # retarget a symlink
  mkdir -p "$m/tmpdir/a/b" && printf 't\n' >"$m/tmpdir/a/b/t"   # short-lived tree
  rm -rf "$m/tmpdir"
  printf 'gone\n' >"$m/flash" && rm -f "$m/flash"               # created and deleted
  mkdir -p "$m/deep/1/2/3/4/5/6/7/8" && printf 'deep\n' >"$m/deep/1/2/3/4/5/6/7/8/leaf"
  mv "$m/deep" "$m/deep renamed"
}

# --- editor: 200 saves over 10 files the way editors do it: vim's 4913 probe, then the new
# content written to a temp file (.NAME.swp or a gedit-like .goutputstream-XXXX) and renamed
# over the real file.
pre_editor() {
  local i
  mkdir -p "$1/ed"
  for ((i = 0; i < 10; i++)); do printf 'doc %d v0\n' "$i" >"$1/ed/doc$i.txt"; done
}
wl_editor() {
  local i f tmp e=$1/ed
  for ((i = 1; i <= 200; i++)); do
    f=doc$((i % 10)).txt
    : >"$e/4913" && rm -f "$e/4913"
    if ((i % 2)); then tmp=$e/.$f.swp; else tmp=$e/.goutputstream-$((RANDOM))$i; fi
    printf 'doc %d save %d %s\n' "$((i % 10))" "$i" "${PAD:0:i}" >"$tmp"
    mv -f "$tmp" "$e/$f"
  done
}
