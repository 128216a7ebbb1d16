#!/bin/sh
# Fails when a folder includes a header from a folder above it.
# Allowed: daemon -> replay -> journal -> base; tools -> journal -> base.
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
check base journal replay daemon tools
check journal replay daemon tools
check replay daemon tools
check daemon tools
check tools replay daemon
[ $status -eq 0 ] && echo "layering: ok"
exit $status
