#!/bin/sh
# What `commit` acknowledged survives a killed process and a power cut.
#
# Part 1 kills commits with SIGKILL at random moments, dozens of times
# (TS_CRASH_KILLS, 25 in make test, 60 in make faults); part
# 2 simulates a power cut that loses the history files no fsync had made
# durable yet. Afterwards any tiersync command reopens the node and repairs
# it from what its database recorded: every acknowledged commit is in
# history, the database equals history, and stock git finds history sound.
. "$TS_TOP/tests/e2e/lib.sh"

# new_node DIR: a street node with one committed case; prints the case id.
new_node() {
	ts init "$1" --tier street --id bj.dc.jingshan --author "李娜" >/dev/null
	ts -C "$1" case new --category small_ads --source patrol --address "景山前街 4号"
	ts -C "$1" commit -m "立案" >/dev/null
}

# description_at NODE REV: N, when the case's description at REV is "vN".
description_at() {
	on_git "$1" show "$2:$case_path" | sed -n 's/^description "v\([0-9]*\)"$/\1/p'
}

# ============================================================================
# Part 1: kill -9 during commits
# ============================================================================
node=$work/jingshan
case_id=$(new_node "$node")
case_path=$(row_path "$node" cases "$case_id")

# now_ms: a clock in milliseconds (GNU date).
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# How long does an undisturbed commit take here? The kills must land all
# over it, from process start to the ref update at its very end: delays
# are drawn from 0 to 1.2 times that, and at least from 0-30 ms.
started_at=$(now_ms)
for round in 1 2 3; do
	ts -C "$node" case update "$case_id" --set description="calibrate $round" >/dev/null
	before=$(now_ms)
	ts -C "$node" commit -m "calibrate $round" >/dev/null
	commit_ms=$(($(now_ms) - before))
done
window_ms=$((commit_ms * 12 / 10))
[ "$window_ms" -ge 30 ] || window_ms=30
seed=${TS_CRASH_SEED:-$$$(date +%N)}
echo "a commit takes ~${commit_ms} ms; kills land 0-${window_ms} ms after its start"
echo "random delays from seed $seed (TS_CRASH_SEED=$seed repeats them)"
awk -v seed="$seed" -v window="$window_ms" \
	'BEGIN { srand(seed); for (i = 0; i < 5000; i++) printf "%.4f\n", rand() * window / 1000 }' \
	>"$work/delays"

# Each round stages "vN" in the case's description and starts a commit that
# a kill -9 interrupts after a random delay; every fifth round is left alone
# so that acknowledged commits are interleaved with the killed ones. A commit
# counts as acknowledged only when it printed "committed <id>" (it does so
# once the commit is durable).
: >"$work/acknowledged"   # "<commit id> <round>" per acknowledged commit
rounds=0
staged=0     # the last round whose update was staged
attempts=0
kills=0
# TS_CRASH_KILLS: the kills wanted (make test 25; make faults 60)
kills_wanted=${TS_CRASH_KILLS:-25}
give_up=$(($(date +%s) + 45))
while [ "$kills" -lt "$kills_wanted" ] && [ "$(date +%s)" -lt "$give_up" ]; do
	rounds=$((rounds + 1))
	run ts -C "$node" case update "$case_id" --set description="v$rounds"
	if [ "$rc" != 0 ]; then
		fail "round $rounds: after the kills the node refused an update: $(cat "$work/err")"
		break
	fi
	staged=$rounds
	# the binary itself in the background, not a shell function: the PID
	# killed must be the commit's own
	"$TIERSYNC" -C "$node" commit -m "round $rounds" >"$work/commit.out" 2>"$work/commit.err" &
	pid=$!
	started "$pid"
	if [ $((rounds % 5)) != 0 ]; then
		sleep "$(sed -n "${rounds}p" "$work/delays")"
		kill -9 "$pid" 2>/dev/null || true
		attempts=$((attempts + 1))
	fi
	status=0
	{ wait "$pid" || status=$?; } 2>/dev/null   # no "Killed" notice from the shell
	finished "$pid"
	# 128 + SIGKILL: the kill found the commit still running
	[ "$status" != 137 ] || kills=$((kills + 1))
	id=$(sed -n 's/^committed \([0-9a-f]\{40\}\)$/\1/p' "$work/commit.out")
	if [ -n "$id" ]; then
		echo "$id $rounds" >>"$work/acknowledged"
	elif [ "$status" != 137 ]; then
		fail "round $rounds: after the kills a commit failed (status $status): $(cat "$work/commit.err")"
		break
	fi
done
acknowledged=$(wc -l <"$work/acknowledged")
echo "$rounds rounds in $((($(now_ms) - started_at) / 1000)) s: $attempts kills sent," \
	"$kills commits killed while running, $acknowledged acknowledged"

check "at least $((kills_wanted * 5 / 6)) kills were sent" test "$attempts" -ge $((kills_wanted * 5 / 6))
check "at least $((kills_wanted * 5 / 6)) kills hit a running commit" test "$kills" -ge $((kills_wanted * 5 / 6))
check "the rounds left alone were acknowledged" test "$acknowledged" -ge $((rounds / 5))

run ts -C "$node" verify
check "after the kills, verify: the database equals history plus staged writes" exit_is 0
check "after the kills, stock git fsck finds no error" fsck_sound "$node"

all_acknowledged_in_history() {
	missing=0
	while read -r id round; do
		if ! on_git "$node" merge-base --is-ancestor "$id" HEAD 2>/dev/null; then
			echo "acknowledged commit $id (round $round) is not in HEAD's history"
			missing=$((missing + 1))
		fi
	done <"$work/acknowledged"
	[ "$missing" = 0 ]
}
check "every acknowledged commit is an ancestor of HEAD" all_acknowledged_in_history

each_holds_its_round() {
	wrong=0
	while read -r id round; do
		value=$(description_at "$node" "$id" 2>/dev/null)
		if [ "$value" != "$round" ]; then
			echo "commit $id of round $round holds description v$value"
			wrong=$((wrong + 1))
		fi
	done <"$work/acknowledged"
	[ "$wrong" = 0 ]
}
check "each acknowledged commit holds the value staged in its round" each_holds_its_round

last_round=$(tail -n 1 "$work/acknowledged" | cut -d' ' -f2)
head_round=$(description_at "$node" HEAD)
check "no committed value lost: HEAD holds v$head_round, at least v${last_round:-0}" \
	test "${head_round:-0}" -ge "${last_round:-0}"
check "the database holds the last staged value, v$staged" \
	is "$(db "$node" "SELECT description FROM cases WHERE id = '$case_id'")" "v$staged"

# One more round, not killed: the node works as before.
final=$((rounds + 1))
run ts -C "$node" case update "$case_id" --set description="v$final"
check "an update after the kills succeeds" exit_is 0
run ts -C "$node" commit -m "after the kills"
check "a commit after the kills succeeds" exit_is 0
check "it holds the new value" is "$(description_at "$node" HEAD)" "$final"
check "and every staged write is committed" is "$(db "$node" 'SELECT count(*) FROM ts_staged')" 0
run ts -C "$node" verify
check "verify passes at the end of part 1" exit_is 0
check "stock git fsck finds no error at the end of part 1" fsck_sound "$node"

# ============================================================================
# Part 2: power cuts that lose what no fsync made durable
# ============================================================================
# A commit writes its history objects without fsync; the durable record is
# the database transaction, which also keeps what is needed to write those
# objects again byte for byte. A power cut may therefore lose, empty or tear
# the object files (and the ref) of recent commits. The simulation touches
# only files whose objects are not reachable from the older history the cut
# goes back to.
power=$work/power
case_id=$(new_node "$power")
case_path=$(row_path "$power" cases "$case_id")
: >"$work/power-acknowledged"
for round in 1 2 3; do
	ts -C "$power" case update "$case_id" --set description="v$round" >/dev/null
	ts -C "$power" commit -m "派遣 $round" | sed -n "s/^committed \\(.*\\)/\\1 $round/p" >>"$work/power-acknowledged"
done
acked_head=$(tail -n 1 "$work/power-acknowledged" | cut -d' ' -f1)
check "part 2 starts with three acknowledged commits" is "$(wc -l <"$work/power-acknowledged")" 3
check "part 2 starts from a sound history" fsck_clean "$power"
on_git "$power" cat-file commit "$acked_head" >"$work/acked-commit-bytes"

# objects_in FILE: the ids of the objects a loose file or a pack holds.
objects_in() {
	case $1 in
	*.pack | *.idx) pack_objects "${1%.*}.pack" ;;
	*) dir=${1%/*} && printf '%s%s\n' "${dir##*/}" "${1##*/}" ;;
	esac
}

# files_only_of NODE N: the files holding objects that the last N commits
# introduced, less any file that the older history still needs (an object
# of it that no other file holds).
files_only_of() {
	on_git "$1" rev-list --objects "HEAD~$2" | cut -c1-40 | sort >"$work/older"
	storage_of "$1" $(on_git "$1" rev-list --objects HEAD "^HEAD~$2" | cut -c1-40) >"$work/candidates"
	find "$1/history.git/objects" -type f \( -path '*/objects/??/*' -o -name 'pack-*.idx' \) |
		grep -vxF -f "$work/candidates" |
		while read -r file; do objects_in "$file"; done | sort -u >"$work/elsewhere"
	while read -r file; do
		objects_in "$file" | sort | comm -12 - "$work/older" | comm -23 - "$work/elsewhere" |
			grep -q . || printf '%s\n' "$file"
	done <"$work/candidates"
}

# power_cut HOW N [REF]: on a fresh copy of the node, the files only the last
# N commits needed are lost (HOW: delete, empty, or half: torn in the
# middle), and the ref is written back N commits, unless REF is "keep-ref".
power_cut() {
	rm -rf "$work/cut"
	cp -a "$power" "$work/cut"
	parent=$(on_git "$work/cut" rev-parse "HEAD~$2")
	files_only_of "$work/cut" "$2" >"$work/lost-files"
	while read -r file; do
		chmod u+w "$file"
		case $1 in
		delete) rm -f "$file" ;;
		empty) : >"$file" ;;
		half) truncate -s $(($(wc -c <"$file") / 2)) "$file" ;;
		esac
	done <"$work/lost-files"
	[ "${3:-}" = keep-ref ] || printf '%s\n' "$parent" >"$work/cut/history.git/refs/heads/main"
}

# history_whole NODE: for stock git, HEAD is the acknowledged commit, readable
# and sound.
history_whole() {
	[ "$(on_git "$1" rev-parse HEAD 2>/dev/null)" = "$acked_head" ] &&
		on_git "$1" cat-file commit "$acked_head" >/dev/null 2>&1 && fsck_sound "$1"
}

# repaired WHAT: any tiersync command reopens and repairs the node; then it
# is exactly the acknowledged history again.
repaired() {
	check "$1: the simulated cut hit some files" test -s "$work/lost-files"
	check_not "$1: before repair, history is not whole" history_whole "$work/cut"
	run ts -C "$work/cut" status
	check "$1: the next command opens and repairs the node" exit_is 0
	check "$1: HEAD is the acknowledged commit again" \
		is "$(on_git "$work/cut" rev-parse HEAD 2>&1)" "$acked_head"
	on_git "$work/cut" cat-file commit "$acked_head" >"$work/repaired-bytes" 2>&1 || true
	check "$1: the commit is rewritten byte for byte" same_files "$work/acked-commit-bytes" "$work/repaired-bytes"
	check "$1: every acknowledged commit is in history" all_power_acknowledged
	run ts -C "$work/cut" verify
	check "$1: verify passes" exit_is 0
	check "$1: stock git fsck finds no error" fsck_sound "$work/cut"
	ts -C "$work/cut" case update "$case_id" --set description="v9" >/dev/null 2>&1 || true
	run ts -C "$work/cut" commit -m "after the power cut"
	check "$1: the node commits again" exit_is 0
	check "$1: on top of the acknowledged commit" \
		is "$(on_git "$work/cut" rev-parse HEAD~1 2>&1)" "$acked_head"
}

all_power_acknowledged() {
	while read -r id round; do
		on_git "$work/cut" merge-base --is-ancestor "$id" HEAD || { echo "lost $id (v$round)"; return 1; }
		[ "$(description_at "$work/cut" "$id")" = "$round" ] || { echo "$id does not hold v$round"; return 1; }
	done <"$work/power-acknowledged"
}

power_cut delete 1
repaired "the last commit's objects lost, the ref one back"

power_cut delete 3
repaired "the last three commits' objects lost, the ref three back"

power_cut delete 1 keep-ref
repaired "the last commit's objects lost, the ref already moved"

power_cut empty 1
repaired "the last commit's object files left empty"

power_cut half 1
repaired "the last commit's object files torn in the middle"

# The ref alone: the objects reached the disk, the ref update did not.
rm -rf "$work/cut"
cp -a "$power" "$work/cut"
printf '%s\n' "$(on_git "$work/cut" rev-parse HEAD~1)" >"$work/cut/history.git/refs/heads/main"
echo "$work/cut/history.git/refs/heads/main" >"$work/lost-files"
repaired "the ref update lost"

rm -rf "$work/cut"
cp -a "$power" "$work/cut"
: >"$work/cut/history.git/refs/heads/main"
repaired "the ref file left empty"

rm -rf "$work/cut"
cp -a "$power" "$work/cut"
rm "$work/cut/history.git/refs/heads/main"
repaired "the ref file lost"
