#!/bin/sh
# make test: the unit tests and the end-to-end tests, then one closing line
# with the totals of both.
# Usage: run-all.sh UNIT_BINARY TIERSYNC_BINARY
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp)
unit_status=$(mktemp)
# the unit tests run beside the end-to-end scripts (two cores: the scripts
# mostly wait on processes, sshd and fsync); their lines follow the scripts'
unit_out=$(mktemp)
{ "$1" >"$unit_out" 2>&1; echo $? > "$unit_status"; } &
unit_pid=$!
sh "$top/tests/run-e2e.sh" "$2" | tee "$out"
wait "$unit_pid"
tee -a "$out" <"$unit_out"
rm -f "$unit_out"
passed=0 failed=0
for line in $(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1:\2/p' "$out"); do
	passed=$((passed + ${line%%:*}))
	failed=$((failed + ${line##*:}))
done
# a unit binary that died (a sanitizer's abort, a crash) is a failure too,
# whatever it printed before
if [ "$(cat "$unit_status")" != 0 ] && ! grep -q '^[0-9]* passed, [1-9][0-9]* failed$' "$out"; then
	echo "FAIL unit tests: the binary exited with status $(cat "$unit_status") before its summary"
	failed=$((failed + 1))
fi
rm -f "$out" "$unit_status"
echo "total: $passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
