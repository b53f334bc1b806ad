#!/bin/sh
# Builds every tests/fuzz/fuzz_*.c as a libFuzzer target (clang,
# -fsanitize=fuzzer,address,undefined) and runs each for FUZZ_SECONDS
# (default 60) on its seed corpus tests/fuzz/corpus/NAME, into a scratch
# copy under build/fuzz.  Crashes are left in build/fuzz/NAME/ as crash-*;
# turn each into a regression test.
set -eu
cd "$(dirname "$0")/../.."
seconds=${FUZZ_SECONDS:-60}
only=${FUZZ_ONLY:-}
CC=${FUZZ_CC:-clang}
# the Makefile passes its PKGS, so a library it adds is linked here too
PKGS=${WEFT_PKGS:-"ncursesw libcurl libcjson libpcre2-8 lapacke"}
out=build/fuzz
mkdir -p "$out"
lib_src=$(ls src/*/*.c | grep -v '^src/cli/main.c$')
flags="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -D_XOPEN_SOURCE_EXTENDED -g -O1 \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Iinclude \
  -DWEFT_VERSION=\"$(cat VERSION 2>/dev/null || echo 0.0.0)\""
# shellcheck disable=SC2086
cflags=$(pkg-config --cflags $PKGS)
# shellcheck disable=SC2086
libs=$(pkg-config --libs $PKGS)
status=0
for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    [ -n "$only" ] && [ "$name" != "$only" ] && continue
    echo "== $name: building"
    # shellcheck disable=SC2086
    $CC $flags $cflags "$src" $lib_src $libs -lm -o "$out/$name"
    mkdir -p "$out/$name.corpus"
    [ -d "tests/fuzz/corpus/$name" ] && cp -n tests/fuzz/corpus/"$name"/* "$out/$name.corpus/" 2>/dev/null || true
    echo "== $name: running ${seconds}s"
    if ! (cd "$out" && "./$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
            -print_final_stats=1 "$name.corpus" 2>"$name.log"); then
        echo "== $name: FOUND A PROBLEM, see $out/$name.log and $out/crash-*"
        status=1
    fi
    grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$out/$name.log" | sed "s/^/   $name /"
done
exit $status
