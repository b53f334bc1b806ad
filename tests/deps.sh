#!/bin/sh
# Install the Debian packages weft's build and tests need, when missing.
# Usage: deps.sh PACKAGE...   (called by `make deps`, `make deps-test`, ...)
# apt-get's output is kept out of the way while it works and shown whole
# when it fails, so its own error says what went wrong.
if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "weft: not a Debian system; make sure these (or your system's" \
        "equivalents) are installed: $*" >&2
    exit 0
fi
missing=""
for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "weft needs these Debian packages:$missing" >&2
    echo "run:  sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp "${TMPDIR:-/tmp}/weft-apt.XXXXXX") || exit 1
if ! apt-get update -q >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "weft: apt-get update failed (its output is above)" >&2
    exit 1
fi
# shellcheck disable=SC2086
if ! apt-get install -y -q --no-install-recommends $missing >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "weft: apt-get install failed for:$missing (its output is above)" >&2
    exit 1
fi
rm -f "$log"
