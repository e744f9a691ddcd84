#!/bin/sh
# Runs each libFuzzer target for FUZZ_SECONDS (default 60) on a copy of its
# seed corpus, one after the other, and prints per target the executions
# run and whether a crash was found. Exits 1 if any target crashed.
# Usage: fuzz.sh BUILD_DIR TARGET...   (targets are BUILD_DIR/fuzz_NAME;
# the seeds are tests/fuzz/corpus/NAME/, copied to BUILD_DIR/corpus/NAME)
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$1
shift
seconds=${FUZZ_SECONDS:-60}
crashed=0
for bin in "$@"; do
	name=$(basename "$bin")
	name=${name#fuzz_}
	corpus=$dir/corpus/$name
	log=$dir/$name.log
	rm -rf "$corpus" && mkdir -p "$corpus"
	[ -d "$top/tests/fuzz/corpus/$name" ] && cp "$top/tests/fuzz/corpus/$name"/* "$corpus"/ 2>/dev/null
	rm -f "$dir/$name"-crash-* "$dir/$name"-leak-* "$dir/$name"-timeout-* "$dir/$name"-oom-*
	# bounded three ways: total time, time per input, memory; `timeout`
	# stops a target that ignores its own limit
	timeout -k 10 $((seconds + 120)) "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$dir/$name-" "$corpus" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	if [ "$rc" = 0 ]; then
		echo "fuzz::$name  ${execs:-?} executions in ${seconds}s, no crash"
	else
		crashed=$((crashed + 1))
		echo "fuzz::$name  ${execs:-?} executions, CRASH (exit $rc); input and log:"
		ls "$dir/$name"-crash-* "$dir/$name"-leak-* "$dir/$name"-timeout-* "$dir/$name"-oom-* 2>/dev/null |
			sed 's/^/    /'
		echo "    $log"
		grep -m 1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|deadly signal' "$log" | sed 's/^/    /'
	fi
done
echo "$# fuzz targets, $crashed crashed"
[ "$crashed" = 0 ]
