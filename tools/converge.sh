#!/bin/sh
# The randomised convergence test (tests/test_converge.c) over many seeds,
# one process per seed, a few at a time; a line per seed as it finishes and
# the closing line "N passed, N failed".
#
#   tools/converge.sh [SEEDS [FIRST]]      default: 200 seeds from 1
#
# Environment:
#   UNIT=PATH     the unit-test binary (default build/rel/unit; build it
#                 first: make build/rel/unit, or the sanitizer build)
#   JOBS=N        seeds run at once (default: the number of CPUs)
#   ROUNDS=N      offline rounds per seed (TS_CONVERGE_ROUNDS, default 6)
#   TMPDIR=DIR    where the nodes live; default /dev/shm when writable (the
#                 nodes fsync a lot and tmpfs makes that free)
#
# A failing seed keeps its nodes and trace.txt; the paths are printed.
# Reproduce one: TS_CONVERGE_SEED=N build/rel/unit -s converge
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
seeds=${1:-200}
first=${2:-1}
unit=${UNIT:-$top/build/rel/unit}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

case "$seeds$first$jobs" in
*[!0-9]*) echo "usage: $0 [SEEDS [FIRST]]  (numbers; JOBS a number)" >&2; exit 2 ;;
esac
if [ ! -x "$unit" ]; then
	echo "converge.sh: $unit is not built (make build/rel/unit)" >&2
	exit 2
fi
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
	TMPDIR=/dev/shm
fi
TMPDIR=${TMPDIR:-/tmp}
export TMPDIR
[ -n "${ROUNDS:-}" ] && export TS_CONVERGE_ROUNDS="$ROUNDS"

results=$(mktemp -d "$TMPDIR/converge-XXXXXX") || exit 1
last=$((first + seeds - 1))
echo "converge: seeds $first..$last, $jobs at a time, nodes under $TMPDIR"
start=$(date +%s)

# One seed: its output goes to $results/<seed>.log, its verdict to .ok/.FAIL,
# its figures to .sum.
seq "$first" "$last" | xargs -P "$jobs" -I{} sh -c '
	seed=$1 unit=$2 results=$3 total=$4
	t0=$(date +%s.%N)
	if TS_CONVERGE_SEED=$seed "$unit" -s converge::random_offline_edits_and_partial_syncs \
			> "$results/$seed.log" 2>&1; then
		verdict=ok
	else
		verdict=FAIL
	fi
	grep "^    converge: seeds" "$results/$seed.log" > "$results/$seed.sum"
	touch "$results/$seed.$verdict"
	t1=$(date +%s.%N)
	done=$(ls "$results" | grep -c "\.\(ok\|FAIL\)$")
	secs=$(echo "$t0 $t1" | awk "{ printf \"%.1f\", \$2 - \$1 }")
	figures=$(sed -n "s/.*failed; \([0-9]*\) edits.* \([0-9]*\) merges, \([0-9]*\) conflicts (\([0-9]*\) between.*), \([0-9]*\) stale.*/\1 edits, \2 merges, \3 conflicts, \4 false, \5 stale/p" "$results/$seed.sum" |
		sed "s/, 0 false, 0 stale\$//")
	if [ $verdict = ok ]; then
		echo "seed $seed: ok ($secs s; $figures) [$done/$total]"
	else
		echo "seed $seed: FAIL ($secs s) [$done/$total]"
		sed -n "s/^    /    /p" "$results/$seed.log" | grep -v "^    converge:" | sed "s/^/  /"
		grep "^FAIL" "$results/$seed.log" | sed "s/^/  /"
	fi
' _ {} "$unit" "$results" "$seeds"

passed=$(ls "$results" | grep -c '\.ok$')
failed=$(ls "$results" | grep -c '\.FAIL$')
failing=$(ls "$results" | sed -n 's/\.FAIL$//p' | sort -n | tr '\n' ' ')
# the figures of all seeds, summed
cat "$results"/*.sum 2>/dev/null |
sed -n 's/.*failed; \([0-9]*\) edits, \([0-9]*\) parties, \([0-9]*\) syncs, \([0-9]*\) merges, \([0-9]*\) conflicts (\([0-9]*\) between.*), \([0-9]*\) stale final values, \([0-9]*\) edits checked strictly, \([0-9]*\) records about.*/\1 \2 \3 \4 \5 \6 \7 \8 \9/p' |
awk '{ for (i = 1; i <= 9; i++) t[i] += $i }
	END { printf "converge: %d edits (%d checked strictly), %d parties, %d syncs, %d merges, %d conflicts; " \
		"%d conflicts between an edit and one that knowingly overwrote it, %d stale final values, " \
		"%d records about sync_conflicts rows\n", t[1], t[8], t[2], t[3], t[4], t[5], t[6], t[7], t[9] }'
echo "converge: $(( $(date +%s) - start )) s"
[ "$failed" -gt 0 ] && echo "failing seeds: $failing"
rm -rf "$results"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
