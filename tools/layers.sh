#!/bin/sh
# The layering of docs/ARCHITECTURE.md, checked on the built objects and the
# sources:
#
#  1. the programs in tools/ (the CLI, bench, generator) include only the
#     public headers (include/), their own headers and the system's;
#  2. no circle of calls between the library's files: "a.c calls b.c" is an
#     undefined symbol of a.o defined in b.o, and tsort(1) names every loop;
#  3. sync/ (the generic engine) calls nothing of node/ (the application).
#
# Usage: sh tools/layers.sh BUILD_DIR   (after make; prints what is wrong,
# exits 1 if anything is).
set -u
B=${1:-build/rel}
status=0
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2

# 1. private includes in tools/
own=$(for h in tools/*.h; do printf '%s\n' "${h#tools/}"; done)
for f in tools/*.c; do
	grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | while IFS= read -r line; do
		h=$(printf '%s\n' "$line" | sed 's/.*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/')
		case $h in
		tiersync.h|tiersync/*.h) continue ;;
		esac
		if printf '%s\n' "$own" | grep -qx "$h"; then continue; fi
		echo "$f:${line%%:*}: includes the private header \"$h\"; the programs in tools/ use include/ only"
	done
done >"$B/layers.includes"
if [ -s "$B/layers.includes" ]; then
	cat "$B/layers.includes"
	status=1
fi

# 2 and 3. calls between the library's files, from its objects
objs=
for c in sync/*.c node/*.c; do
	o=$B/$(basename "${c%.c}").o
	[ -f "$o" ] || { echo "layers: $o is missing: run make first" >&2; exit 2; }
	objs="$objs $o"
done
for o in $objs; do
	nm --defined-only -g "$o" | awk -v f="$(basename "$o" .o)" '$2 ~ /^[TDBR]$/ { print $3, f }'
done | sort -k1,1 >"$B/layers.defs"
for o in $objs; do
	nm -u "$o" | awk -v f="$(basename "$o" .o)" '{ print $NF, f }'
done | sort -k1,1 >"$B/layers.uses"
# "caller callee" for each symbol a file uses that another file defines
join "$B/layers.uses" "$B/layers.defs" | awk '$2 != $3 { print $2, $3 }' | sort -u >"$B/layers.calls"

dir_of() {
	if [ -f "sync/$1.c" ]; then echo sync; else echo node; fi
}
while read -r caller callee; do
	if [ "$(dir_of "$caller")" = sync ] && [ "$(dir_of "$callee")" = node ]; then
		echo "sync/$caller.c calls node/$callee.c: the generic engine knows nothing of the application"
		status=1
	fi
done <"$B/layers.calls"

tsort "$B/layers.calls" >/dev/null 2>"$B/layers.loops"
if [ -s "$B/layers.loops" ]; then
	echo "circles of calls between files (tsort names the files of each loop):"
	sed -n 's/^tsort: //p' "$B/layers.loops"
	status=1
fi
exit $status
