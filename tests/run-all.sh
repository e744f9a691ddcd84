#!/bin/sh
# make test: the unit tests, then the end-to-end tests, then one closing line
# with the totals of both.
# Usage: run-all.sh UNIT_BINARY TIERSYNC_BINARY
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp)
"$1" | tee "$out"
sh "$top/tests/run-e2e.sh" "$2" | tee -a "$out"
passed=0 failed=0
for line in $(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1:\2/p' "$out"); do
	passed=$((passed + ${line%%:*}))
	failed=$((failed + ${line##*:}))
done
rm -f "$out"
echo "total: $passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
