#!/bin/sh
# Runs every tests/e2e/*.sh against one tiersync binary. Each script is a
# user's session judged by stock tools; it exits 0 when all its checks held.
# Prints "ok"/"FAIL" per script and ends with "N passed, N failed".
# Usage: run-e2e.sh TIERSYNC [name-filter]
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
filter=${2:-}
passed=0 failed=0
for t in "$top"/tests/e2e/*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	[ "$name" = lib ] && continue   # shared helpers, not a test
	case "$name" in *"$filter"*) ;; *) continue ;; esac
	log=$(mktemp)
	if TIERSYNC="$bin" TS_TOP="$top" sh "$t" >"$log" 2>&1; then
		echo "ok   e2e::$name"
		passed=$((passed + 1))
	else
		echo "FAIL e2e::$name"
		sed 's/^/    /' "$log" | tail -n 40
		failed=$((failed + 1))
	fi
	rm -f "$log"
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
