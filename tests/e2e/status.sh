#!/bin/sh
# Where a node stands, at a glance: a street's last push and fetch and the
# commits waiting on either side, a district's submissions waiting to be
# merged (urgent ones first) and its open conflicts, then the staged writes.
# Stock git counts the same commits.
. "$TS_TOP/tests/e2e/lib.sh"

dc=$work/dongcheng
st=$work/jingshan
district_and_street

run ts -C "$st" status --json
check "a new street: status --json is valid JSON" json_valid "$work/out"
check "  ...one remote, never pushed nor fetched" \
	is "$(json_get "$work/out" '$.remotes[0].name')|$(json_get "$work/out" '$.remotes[0].pushed')|$(json_get "$work/out" '$.remotes[0].fetched')" "upstream||"
check "  ...its whole history to push" is "$(json_get "$work/out" '$.remotes[0].to_push')" "$(on_git "$st" rev-list --count main)"

ts -C "$st" pull >/dev/null
for a in "景山前街 4号" "景山前街 6号"; do
	ts -C "$st" case new --category small_ads --source patrol --address "$a" >/dev/null
	ts -C "$st" commit -m "$a" >/dev/null
done
run ts -C "$st" status --json
check "after a pull and two commits: the fetch is recorded" \
	is "$(json_get "$work/out" '$.remotes[0].fetched')" "$(on_git "$st" rev-parse refs/remotes/upstream/main)"
check "  ...with its time" sh -c "[ -n \"$(json_get "$work/out" '$.remotes[0].fetched_at')\" ]"
check "  ...and the commits to push are those stock git finds above it" \
	is "$(json_get "$work/out" '$.remotes[0].to_push')" "$(on_git "$st" rev-list --count main ^refs/remotes/upstream/main)"
ts -C "$st" case new --category small_ads --source patrol --address "景山前街 8号" >/dev/null
run ts -C "$st" status
check "the text says what waits to go up" stdout_has "commits to push"
check "  ...and lists the staged write" stdout_has "1 staged write"

ts -C "$st" push >/dev/null
run ts -C "$st" status --json
check "after a push: the push is recorded" is "$(json_get "$work/out" '$.remotes[0].pushed')" "$(on_git "$st" rev-parse main)"
check "  ...and nothing waits to go up" is "$(json_get "$work/out" '$.remotes[0].to_push')" 0

ts -C "$dc" case new --category signboard --source patrol --address "东直门内大街 1号" >/dev/null
ts -C "$dc" commit -m "district's own" >/dev/null
run ts -C "$dc" status --json
check "the district: the street's submission waits" \
	is "$(json_get "$work/out" '$.submissions[0].node')|$(json_get "$work/out" '$.submissions[0].urgent')" "bj.dc.jingshan|0"
check "  ...with the commits stock git finds missing from main" \
	is "$(json_get "$work/out" '$.submissions[0].commits')" \
	"$(on_git "$dc" rev-list --count refs/submissions/bj.dc.jingshan ^main)"
check "  ...and no conflict open" is "$(json_get "$work/out" '$.conflicts_open')" 0
run ts -C "$dc" status
check "the text names the submission and how to merge it" stdout_has "merge --submissions"
ts -C "$dc" merge --submissions >/dev/null
run ts -C "$dc" status --json
check "once merged, nothing waits" is "$(json_length "$work/out" '$.submissions')" 0
ts -C "$st" fetch >/dev/null
run ts -C "$st" status --json
check "the street, after a fetch: the merge is there to take" \
	is "$(json_get "$work/out" '$.remotes[0].to_take')" "$(on_git "$st" rev-list --count refs/remotes/upstream/main ^main)"
run ts -C "$st" status extra
check "an extra argument is bad usage" exit_is 2

# What a status process opens, traced where strace is installed: not the
# system's CA bundle (libgit2 over mbedTLS would parse it at start for the
# HTTPS tiersync never speaks), and on a node with no remote, whose status
# reads no commit, each pack and index of its history once at most, though
# several commits since the last checkpoint each wrote one and the opening
# checks them all for a power loss's damage.
if command -v strace >/dev/null 2>&1; then
	solo=$work/solo
	ts init "$solo" --tier district --id bj.xc --author "李娜" >/dev/null
	for a in "西单北大街 10号" "西单北大街 12号" "西单北大街 14号"; do
		ts -C "$solo" case new --category small_ads --source patrol --address "$a" >/dev/null
		ts -C "$solo" commit -m "$a" >/dev/null
	done
	# (LeakSanitizer, in a make check build, cannot run under ptrace)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		run strace -f -e trace=open,openat -o "$work/trace" "$TIERSYNC" -C "$solo" status
	check "traced, status still answers" exit_is 0
	check "  ...having read the packs of its commits" \
		sh -c "[ \$(grep -c 'objects/pack/pack-[0-9a-f]*\.pack\"' '$work/trace') -ge 4 ]"
	check "  ...each pack and index once at most" \
		is "$(grep -o 'objects/pack/pack-[0-9a-f]*\.\(pack\|idx\)' "$work/trace" | sort | uniq -d)" ""
	check_not "  ...and not the system's CA certificates" \
		grep -E 'ca-certificates|/etc/ssl/certs|ca-bundle' "$work/trace"
else
	printf 'skip: strace is not installed, so what status opens is not traced\n'
fi
