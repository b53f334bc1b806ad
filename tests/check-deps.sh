#!/bin/sh
# Layering rules (see HACKING.md, "The folder graph"): fail when a source
# file includes what its folder may not: a library outside its folder, or
# another folder's header against the graph.
status=0
bad() { echo "check-deps: $1" >&2; status=1; }
inc() { grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($2)" "$1"; }

for f in src/*/*.c src/*/*.h include/weft/*.h; do
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
    case "$f" in src/eval/*) ;; *)
        inc "$f" 'lapacke|lapack\.h|cblas' >/dev/null && bad "$f includes LAPACKE (only src/eval may, for the map)";;
    esac
done
# The folder graph: a folder may use its own headers and those of folders
# below it, never a sibling's or one above.  Ranks, low to high:
#   core 0;  io 1, lm 1 (siblings);  data 2;  steer 3;  eval 4;  tui 5, cli 5
# and one edge between siblings: cli may include tui (`weft tui` and a
# plain `weft FILE` start the loom from the command line).
rank_of() {
    case "$1" in
    core) echo 0;; io|lm) echo 1;; data) echo 2;; steer) echo 3;;
    eval) echo 4;; tui|cli) echo 5;; *) echo "";;
    esac
}
may_use() { # FOLDER USED-FOLDER
    [ "$1" = "$2" ] && return 0
    [ "$1" = cli ] && [ "$2" = tui ] && return 0
    [ "$(rank_of "$2")" -lt "$(rank_of "$1")" ]
}
# A public header include/weft/X.h belongs to the folder holding src/*/X.c;
# a header with no same-named .c is placed by the map below (a module split
# into several files, add a line when adding such a header).  The map is
# only asked when no src/*/X.c exists.
header_map="cli=cli config=lm evalrun=eval lm=lm score=eval session=io tui=tui"
find_folder() {
    for c in src/*/"$1".c; do
        [ -f "$c" ] && { basename "$(dirname "$c")"; return; }
    done
    for m in $header_map; do
        [ "${m%%=*}" = "$1" ] && { echo "${m#*=}"; return; }
    done
}
# Each header's folder, worked out once (hf_NAME=FOLDER) and then looked up.
for h in include/weft/*.h; do
    [ -f "$h" ] || continue
    x=$(basename "$h" .h)
    case "$x" in *[!a-z0-9_]*) bad "$h: a header's name is lower-case letters, digits and _"; continue;; esac
    eval "hf_$x=\$(find_folder "\$x")"
done
folder_of_header() {
    case "$1" in *[!a-z0-9_]*) folder=""; return;; esac
    eval "folder=\${hf_$1-}"
}
quoted() { sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]+)".*/\1/p' "$1"; }

for d in src/*/; do
    d=$(basename "$d")
    [ -n "$(rank_of "$d")" ] || bad "src/$d is not in the folder graph (add it to tests/check-deps.sh and HACKING.md)"
done
for h in include/weft/*.h; do
    [ -f "$h" ] || continue
    x=$(basename "$h" .h)
    folder_of_header "$x"
    [ -n "$folder" ] ||
        bad "$h has no src/*/$x.c: name its folder in header_map in tests/check-deps.sh"
done
for f in src/*/*.c src/*/*.h include/weft/*.h; do
    [ -f "$f" ] || continue
    case "$f" in
    include/*) folder_of_header "$(basename "$f" .h)"; self=$folder;;
    *) self=$(basename "$(dirname "$f")");;
    esac
    [ -n "$self" ] && [ -n "$(rank_of "$self")" ] || continue
    grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<weft/' "$f" >/dev/null &&
        bad "$f includes <weft/...>: weft's headers are included with quotes, \"weft/NAME.h\""
    for h in $(quoted "$f"); do
        case "$h" in
        weft/*.h)
            folder_of_header "$(basename "$h" .h)"; used=$folder
            if [ -z "$used" ] || [ -z "$(rank_of "$used")" ]; then
                bad "$f includes $h, which is no header of a folder in the graph"
            elif ! may_use "$self" "$used"; then
                bad "$f includes $h: src/$self may not use src/$used (see HACKING.md, \"The folder graph\")"
            fi;;
        */*)
            bad "$f includes \"$h\": include a public header as weft/NAME.h, a private one as \"NAME.h\" beside it";;
        *)
            case "$f" in
            include/*) bad "$f includes \"$h\": a public header includes only weft/*.h";;
            *) [ -f "$(dirname "$f")/$h" ] ||
                bad "$f includes \"$h\", which is not in $(dirname "$f") (private headers are used only by their own folder)";;
            esac;;
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
grep -nE 'pragma.*(diagnostic|warning).*-Wformat' src/*/*.c src/*/*.h include/weft/*.h tests/unit/*.c &&
    bad "a pragma turns format warnings off"
fmt_funcs=$(grep -hoE '[a-z_]+\([^()]*const char \*fmt, (\.\.\.|va_list [a-z]+)\)' \
    src/*/*.c src/*/*.h include/weft/*.h | sed 's/(.*//' | sort -u)
for fn in $fmt_funcs; do
    grep -hA1 -E "[ *]$fn\(" src/*/*.c src/*/*.h include/weft/*.h | grep -q 'format(printf' ||
        bad "$fn takes a format but is not declared __attribute__((format(printf, ...)))"
done
[ $status = 0 ] && echo "check-deps: ok"
exit $status
