#!/bin/sh
# Layering rules (see README "Source layout"): fail when a module includes
# what its layer may not.
status=0
bad() { echo "check-deps: $1" >&2; status=1; }
inc() { grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($2)" "$1"; }

for f in src/*/*.c include/weft/*.h; do
    [ -f "$f" ] || continue
    case "$f" in src/tui/*) ;; *)
        inc "$f" 'n?curses|ncursesw/|term\.h|panel\.h' >/dev/null && bad "$f includes curses (only src/tui may)";;
    esac
    case "$f" in src/lm/*) ;; *)
        inc "$f" 'curl/' >/dev/null && bad "$f includes curl (only src/lm may)";;
    esac
    case "$f" in src/io/*|src/lm/*|src/data/*) ;; *)
        inc "$f" 'cjson/|cJSON' >/dev/null && bad "$f includes cJSON (only src/io, src/lm, src/data may)";;
    esac
    case "$f" in src/data/*) ;; *)
        inc "$f" 'pcre2' >/dev/null && bad "$f includes PCRE2 (only src/data may)";;
    esac
done
# core: libc and core's own headers only (a weft/X.h whose X.c is in src/core).
for f in src/core/*.c include/weft/*.h; do
    [ -f "$f" ] || continue
    case "$f" in include/*) [ -f "src/core/$(basename "$f" .h).c" ] || continue;; esac
    for h in $(sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]+)".*/\1/p' "$f"); do
        case "$h" in
        weft/*) [ -f "src/core/$(basename "$h" .h).c" ] || bad "$f includes $h (core uses only core)";;
        *) bad "$f includes \"$h\" (core uses only libc)";;
        esac
    done
done
# Format strings: text from files or models must never be one.  The
# compiler enforces it (-Wformat=2 has -Wformat-nonliteral and
# -Wformat-security; -Werror) for every function it knows takes a format,
# so check the warnings are on, nobody turns them off, and every function
# of ours taking `fmt, ...` or `fmt, va_list` carries format(printf).
grep -q -- '-Wformat=2' Makefile && grep -q -- '-Werror' Makefile ||
    bad "Makefile: WARN must keep -Wformat=2 and -Werror"
grep -nE 'pragma.*(diagnostic|warning).*-Wformat' src/*/*.c include/weft/*.h tests/unit/*.c &&
    bad "a pragma turns format warnings off"
fmt_funcs=$(grep -hoE '[a-z_]+\([^()]*const char \*fmt, (\.\.\.|va_list [a-z]+)\)' \
    src/*/*.c include/weft/*.h | sed 's/(.*//' | sort -u)
for fn in $fmt_funcs; do
    grep -hA1 -E "[ *]$fn\(" src/*/*.c include/weft/*.h | grep -q 'format(printf' ||
        bad "$fn takes a format but is not declared __attribute__((format(printf, ...)))"
done
[ $status = 0 ] && echo "check-deps: ok"
exit $status
