#!/bin/sh
# Fails when a folder includes a header from a folder above it.
# Allowed, downwards only:
#   daemon, tools -> watch, replay -> settings -> journal -> base
# (tools reach replay for verify's transfer builder, never the daemon; watch
# and replay know nothing of each other.)
set -u
root=${1:?usage: layering_test.sh PROJECT_ROOT}
cd "$root" || exit 2
status=0
check() {  # check FOLDER FORBIDDEN...
  folder=$1; shift
  for up in "$@"; do
    hits=$(grep -rn --include='*.h' --include='*.cc' "#include \"$up/" "$folder" 2>/dev/null)
    if [ -n "$hits" ]; then
      echo "layering: $folder/ must not include $up/:"; echo "$hits"; status=1
    fi
  done
}
check base journal settings watch replay daemon tools
check journal settings watch replay daemon tools
check settings watch replay daemon tools
check watch replay daemon tools
check replay watch daemon tools
check daemon tools
check tools daemon watch
[ $status -eq 0 ] && echo "layering: ok"
exit $status
