#!/usr/bin/env bash
# Checks the bash completions in conf/ferryctl.bash-completion and
# conf/ferryd.bash-completion by calling _ferryctl / _ferryd with COMP_WORDS
# set as bash would, against a fake ferryctl that prints a canned
# `status -o json`. Exits 1 when a check fails.
#
# Usage: tests/completion_test.sh [PATH/TO/ferryctl]
# With a real ferryctl, also checks that a failing `status` stays quiet.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
real_ferryctl=${1:-}
# shellcheck source=/dev/null
source "$here/conf/ferryctl.bash-completion" || exit 1
# shellcheck source=/dev/null
source "$here/conf/ferryd.bash-completion" || exit 1

scratch=$(mktemp -d "${TMPDIR:-/tmp}/ferry-completion.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT

# A ferryctl whose status has two destinations and three targets; one
# last_error holds a quoted "name" that must not be taken for a target.
fake=$scratch/bin/ferryctl
mkdir -p "$scratch/bin"
cat >"$fake" <<'EOF'
#!/bin/sh
for a in "$@"; do
  if [ "$a" = status ]; then
    printf '%s\n' '{"config":"/etc/ferry/ferry.conf","daemon":"running","destinations":[{"message":"","name":"www","source":"/var/www","state":"watching","watches":3},{"message":"","name":"data.v2","source":"/srv/data","state":"watching","watches":1}],"head":7,"journal":{"dir":"/var/lib/ferry","newest_seq":7,"oldest_seq":1},"ok":true,"ready":true,"targets":[{"cursor":7,"destination":"www","last_error":"","name":"backup1","state":"ok","url":"rsync://u@h/m"},{"cursor":5,"destination":"www","last_error":"refused {\"name\":\"evil\"}","name":"mirror","state":"retrying","url":"/srv/mirror"},{"cursor":7,"destination":"data.v2","last_error":"","name":"off-site_2","state":"ok","url":"b@o:/srv"}]}'
    exit 0
  fi
done
exit 64
EOF
# A ferryctl that fails, for the config-file fallback.
broken=$scratch/bin/broken-ferryctl
printf '#!/bin/sh\necho "ferryctl status: no journal" >&2\nexit 69\n' >"$broken"
chmod +x "$fake" "$broken"

conf=$scratch/ferry.conf
cat >"$conf" <<'EOF'
[journal]
dir = /var/lib/ferry
[destination.www]   # the web tree
source = /var/www
[target.from-conf]
destination = www
url = /srv/a
  [target.second.one]
destination = www
url = /srv/b
EOF
mkdir -p "$scratch/files/sub"
touch "$scratch/files/confxml.xml" "$scratch/files/confother.xml"

failures=0
checks=0

# check FUNC "EXPECTED WORDS" WORD... : the last WORD is the one being completed.
check() {
    local func=$1 expected=$2
    shift 2
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    local err
    err=$("$func" 2>&1 >/dev/null)  # in a subshell: stderr only
    "$func" 2>/dev/null
    local got want words
    read -r -a words <<<"$expected"
    got=$(printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort | tr '\n' ' ')
    want=$(printf '%s\n' "${words[@]}" | sed '/^$/d' | sort | tr '\n' ' ')
    checks=$((checks + 1))
    if [[ $got != "$want" ]]; then
        echo "FAIL: $func [$*]: expected [$want], got [$got]"
        failures=$((failures + 1))
    elif [[ -n $err ]]; then
        echo "FAIL: $func [$*]: printed on stderr: $err"
        failures=$((failures + 1))
    fi
}

verbs="log status metrics replay pause resume resync dlq reload verify check-path import-sersync"

# Verbs and global options.
check _ferryctl "$verbs" ferryctl ""
check _ferryctl "dlq" ferryctl dl
check _ferryctl "replay reload resume resync" ferryctl re
check _ferryctl "--config --journal --socket --help --version" ferryctl --
check _ferryctl "--journal" ferryctl --jo
check _ferryctl "$verbs" ferryctl --journal /tmp/j ""
check _ferryctl "status" ferryctl -c /etc/ferry/ferry.conf --socket /run/x.sock sta

# Options of each verb.
check _ferryctl "--help --output --wait-synced --timeout" ferryctl status --
check _ferryctl "--target --help" ferryctl pause --
check _ferryctl "--target --from-seq --since --execute --full-sync --help" ferryctl replay --
check _ferryctl "--full-sync --from-seq" ferryctl replay --target backup1 --f
check _ferryctl "--target --verbose --help" ferryctl verify --
check _ferryctl "--help" ferryctl metrics --
check _ferryctl "--help" ferryctl reload -
check _ferryctl "--since --show-cursor" ferryctl log --s
check _ferryctl "--cursor-file --cursor" ferryctl log --cursor
check _ferryctl "--action --target --seq --all --output --help" ferryctl dlq list --

# Output formats.
check _ferryctl "short short-iso json json-pretty cat verbose" ferryctl log -o ""
check _ferryctl "json json-pretty" ferryctl status -o js
check _ferryctl "json json-pretty" ferryctl status --output js
check _ferryctl "json json-pretty" ferryctl status --output = js
check _ferryctl "json json-pretty" ferryctl status --output=js
check _ferryctl "short json" ferryctl dlq list -o ""
check _ferryctl "json-pretty" ferryctl log --since "1h ago" -o json-

# Event kinds, also in a comma list.
check _ferryctl "delete" ferryctl log --kind del
check _ferryctl "create,modify create,move" ferryctl log --kind create,mo

# dlq actions: first argument only.
check _ferryctl "list show retry drop" ferryctl dlq ""
check _ferryctl "retry" ferryctl dlq re
check _ferryctl "" ferryctl dlq list ""
check _ferryctl "list show retry drop" ferryctl dlq --action ""
check _ferryctl "" ferryctl dlq --action list ""

# Target and destination names from `ferryctl status -o json`, with and
# without jq.
for jq in jq none; do
    if [[ $jq == jq ]] && ! type -P jq >/dev/null 2>&1; then
        echo "note: jq is not installed; its path is not checked"
        continue
    fi
    export FERRYCTL_COMPLETION_JQ=$jq
    check _ferryctl "backup1 mirror off-site_2" "$fake" pause --target ""
    check _ferryctl "backup1 mirror off-site_2" "$fake" pause ""
    check _ferryctl "" "$fake" pause backup1 ""
    check _ferryctl "" "$fake" pause --target backup1 ""
    check _ferryctl "mirror" "$fake" --journal /tmp/j resync -t mi
    check _ferryctl "off-site_2" "$fake" replay --target=off
    check _ferryctl "backup1" "$fake" dlq retry --target b
    check _ferryctl "backup1 mirror off-site_2" "$fake" verify -t ""
    check _ferryctl "mirror" "$fake" log --pending m
    check _ferryctl "www data.v2" "$fake" log --destination ""
    check _ferryctl "data.v2" "$fake" log --destination d
done
unset FERRYCTL_COMPLETION_JQ

# ferryctl failing: names from the --config file, quietly; nothing without one.
check _ferryctl "from-conf second.one" "$broken" --config "$conf" pause --target ""
check _ferryctl "www" "$broken" -c "$conf" log --destination ""
check _ferryctl "" "$broken" --config "$scratch/missing.conf" pause --target ""
check _ferryctl "" "$scratch/bin/no-such-ferryctl" --config "$scratch/missing.conf" pause --target ""

# A real ferryctl with no journal: no names and nothing on stderr.
if [[ -n $real_ferryctl ]]; then
    check _ferryctl "" "$real_ferryctl" --journal "$scratch/no-journal" pause --target ""
    check _ferryctl "" "$real_ferryctl" --journal "$scratch/no-journal" log --destination ""
fi

# Files and directories.
check _ferryctl "$scratch/files/confxml.xml $scratch/files/confother.xml" \
    ferryctl import-sersync "$scratch/files/conf"
check _ferryctl "" ferryctl import-sersync "$scratch/files/confxml.xml" "$scratch/files/conf"
check _ferryctl "$scratch/ferry.conf" ferryctl --config "$scratch/ferry.c"
check _ferryctl "$scratch/files/sub" ferryctl --journal "$scratch/files/s"
check _ferryctl "$scratch/files/sub $scratch/files/confxml.xml $scratch/files/confother.xml" \
    ferryctl check-path /var/www/a "$scratch/files/"
check _ferryctl "$scratch/files/confxml.xml" ferryctl log --cursor-file "$scratch/files/confx"

# Unknown verbs complete nothing.
check _ferryctl "" ferryctl frobnicate --

# ferryd.
check _ferryd "--help --version --config --check-config --log-level --source --target --journal" ferryd ""
check _ferryd "--check-config --config" ferryd --c
check _ferryd "debug" ferryd --log-level d
check _ferryd "trace debug info warn error critical" ferryd --log-level=
check _ferryd "$scratch/ferry.conf" ferryd -c "$scratch/ferry.c"
check _ferryd "$scratch/files/sub" ferryd --source "$scratch/files/"
check _ferryd "$scratch/files/sub" ferryd --journal "$scratch/files/"

if ((failures > 0)); then
    echo "$failures of $checks completion checks failed"
    exit 1
fi
echo "all $checks completion checks passed"
