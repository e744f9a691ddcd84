#!/bin/sh
# Power cuts: what a command acknowledged survives losing every write no
# fsync had made durable.
#
# tests/faults/powercut.c (the shim powercut.so and powercut-restore, see
# docs/FAULTS-POWER.md) records, for one node, what each file and directory
# looked like at its last durable point (strict POSIX: a file's content after
# fsync of it, a name after fsync of its directory, everything after syncfs),
# and kills the command just before its Nth call that changes the node's
# files. The restore then rewrites the node as a power cut could leave it:
# each write since the last durable point lost, torn or kept by a seed,
# every name not made durable undone.
#
# Part 1 checks the model itself with stock tools. Part 2 runs trials of
# `commit`, `pull` from a local-path upstream and `merge --submissions`, each
# cut at a random call (some after the command ended: the power fails just
# after it answered). After each restore the node reopens, `verify` passes,
# every commit acknowledged before the cut (its line printed) is in history,
# nothing staged before the trial is lost, and stock git fsck finds no error.
#
#   TS_POWERCUT_TRIALS=N   trials in part 2 (default 21; make powercut: 200)
#   TS_POWERCUT_SEED=S     repeats a campaign (printed at its start)
#   TS_POWERCUT_ONLY=I     runs trial I of the campaign alone (with its seed)
#   TS_POWERCUT_KEEP=DIR   keeps a failed trial's node and record in DIR
#   TS_POWERCUT_AT=N       cuts every trial at call N
#   TS_POWERCUT_FIRST_PULL=1  adds trials of a street's first pull, which
#                          writes its config without fsync (docs/FAULTS-POWER.md)
. "$TS_TOP/tests/e2e/lib.sh"

trials=${TS_POWERCUT_TRIALS:-21}
# (at most 9 digits: mawk's srand takes no more)
seed=${TS_POWERCUT_SEED:-$(($(od -An -N4 -tu4 /dev/urandom) % 1000000000))}

# The shim and the restore tool: beside the binary under test (the Makefile
# builds them there), else built here.
bin_dir=$(dirname "$TIERSYNC")
shim=$bin_dir/powercut.so
restore_tool=$bin_dir/powercut-restore
if [ ! -f "$shim" ] || [ ! -x "$restore_tool" ]; then
	flags="-O1 -g -U_FORTIFY_SOURCE -D_GNU_SOURCE -std=c11 -Wall -Wno-unused-parameter"
	shim=$work/powercut.so
	restore_tool=$work/powercut-restore
	${CC:-cc} $flags -fPIC -shared -o "$shim" "$TS_TOP/tests/faults/powercut.c" -ldl -lpthread
	${CC:-cc} $flags -DPOWERCUT_TOOL -o "$restore_tool" "$TS_TOP/tests/faults/powercut.c"
fi

# Lines printed before a kill must not wait in a stdio buffer: the command's
# stdout is line-buffered (coreutils stdbuf) when stdbuf is there.
line_buffered=""
if command -v stdbuf >/dev/null 2>&1; then
	line_buffered="stdbuf -oL"
fi

# A binary built with AddressSanitizer (make check) wants its runtime first
# among the libraries loaded; the shim, preloaded, comes before it. Its
# runtime then finds its interceptors by the shim all the same.
asan_options=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

# under_cut RECORD AT COMMAND...: runs COMMAND with the shim watching the
# node recorded in RECORD, cut before call AT (0: never); its status in $rc.
under_cut() {
	_record=$1
	_at=$2
	shift 2
	rc=0
	LD_PRELOAD=$shim TS_POWERCUT_DIR=$_record TS_POWERCUT_AT=$_at ASAN_OPTIONS=$asan_options \
		$line_buffered "$@" >"$work/out" 2>"$work/err" || rc=$?
}

# ============================================================================
# Part 1: the model, judged with stock tools
# ============================================================================
model=$work/model
mkdir -p "$model"
echo old >"$model/kept"
echo old >"$model/renamed"
"$restore_tool" snap "$work/record-model" "$model"
under_cut "$work/record-model" 0 sh -c '
	cd "$1"
	echo file and directory synced >both && sync both
	echo new >tmp && sync tmp && mv tmp renamed
	echo appended >>kept
	echo directory only >dir-only
	sync .
	echo after >>kept
	echo never synced >lost
	mkdir sub && echo x >sub/f && sync sub/f sub
' sh "$model"
check "the model: the shell session ran under the shim" exit_is 0
check "the model: the shim counted its calls" test "$(cat "$work/record-model/count")" -gt 5
run "$restore_tool" restore "$work/record-model" 1
check "the model: the restore runs" exit_is 0
check "the model: a file and its directory synced survives" \
	is "$(cat "$model/both" 2>&1)" "file and directory synced"
check "the model: a rename before the directory's last fsync survives" \
	is "$(cat "$model/renamed" 2>&1)" "new"
check "the model: the renamed file's old name is gone" test ! -e "$model/tmp"
check "the model: a name made durable holds at most what was written" \
	sh -c 'case "directory only
" in "$(cat "$1")"*) exit 0 ;; esac; exit 1' sh "$model/dir-only"
check "the model: a file whose name was never synced is gone" test ! -e "$model/lost"
check "the model: a directory never synced in its parent is gone" test ! -e "$model/sub"
# starts_within FILE HEAD FULL: FILE starts with HEAD and is no longer than
# FULL (what a lost, torn or kept write may leave; a lost write before a kept
# one leaves a hole of zeros).
starts_within() {
	[ "$(head -c "${#2}" "$1")" = "$2" ] && [ "$(wc -c <"$1")" -le "${#3}" ]
}
check "the model: appends never synced are lost, torn or kept, never more" \
	starts_within "$model/kept" "old" "old appended after   "

# the same session cut before its third call: nothing after it ran
rm -rf "$model" "$work/record-cut"
mkdir -p "$model"
echo old >"$model/kept"
"$restore_tool" snap "$work/record-cut" "$model"
under_cut "$work/record-cut" 3 sh -c 'cd "$1"; echo a >a; sync a; echo b >b; sync b .; sync -f .' sh "$model"
check "the model: the cut kills the process (SIGKILL)" exit_is 137
check "the model: the journal says where it cut" grep -q '^X cut before call 3$' "$work/record-cut/journal"
run "$restore_tool" restore "$work/record-cut" 1
check "the model: after the cut, no file the session made survives" \
	is "$(cd "$model" && ls)" "kept"

# syncfs makes everything durable
rm -rf "$model" "$work/record-all"
mkdir -p "$model"
"$restore_tool" snap "$work/record-all" "$model"
under_cut "$work/record-all" 0 sh -c 'cd "$1"; mkdir d; echo x >d/y; sync -f .' sh "$model"
run "$restore_tool" restore "$work/record-all" 1
check "the model: after syncfs, everything survives" is "$(cat "$model/d/y" 2>&1)" "x"

# ============================================================================
# Part 2: commit, pull and merge --submissions cut at random calls
# ============================================================================
# A district and a street below it. The templates each trial copies:
#   commit: the street with a write staged (a new one per trial)
#   merge:  the district with the street's submission waiting (not a
#           fast-forward: the district has a commit of its own)
#   pull:   the street, whose district has merged and committed since
#   combine: the street one commit short of a combining of its packs (every
#           32 journaled commits, without a sync: docs/FORMAT.md), a write
#           staged, so that the trial's commit combines
dc=$work/dc
st=$work/js
ts init "$dc" --tier district --id bj.dc --author "张敏" >/dev/null
ts init "$st" --tier street --id bj.dc.jingshan --upstream "$dc" --author "李娜" >/dev/null
enroll "$dc" bj.dc.jingshan "$st/id_ed25519.pub"
case_id=$(ts -C "$st" case new --category small_ads --source patrol --address "景山前街 4号")
ts -C "$st" commit -m "立案" >/dev/null
for round in 1 2 3; do
	ts -C "$st" case update "$case_id" --set description="v$round" >/dev/null
	ts -C "$st" commit -m "派遣 $round" >/dev/null
done
ts -C "$st" push >/dev/null
ts -C "$dc" case new --category unlicensed_vending --source complaint --address "东华门大街 1号" >/dev/null
ts -C "$dc" commit -m "区级立案" >/dev/null
mkdir -p "$work/templates"
cp -a "$dc" "$work/templates/merge"
# the street's first pull records the district's key in the street's config
# (see "Found" in docs/FAULTS-POWER.md): the pull trials start after it
cp -a "$st" "$work/templates/first_pull"
ts -C "$st" pull >/dev/null
ts -C "$dc" merge --submissions >/dev/null
ts -C "$dc" case new --category unlicensed_vending --source complaint --address "东华门大街 2号" >/dev/null
ts -C "$dc" commit -m "区级立案 2" >/dev/null
cp -a "$st" "$work/templates/pull"
cp -a "$st" "$work/templates/commit"
cp -a "$st" "$work/templates/combine"
n=0
while [ $(($(sqlite3 "$work/templates/combine/tiersync.db" 'SELECT count(*) FROM ts_journal') % 32)) != 31 ] &&
	[ $n -lt 40 ]; do
	n=$((n + 1))
	ts -C "$work/templates/combine" case update "$case_id" --set description="c$n" >/dev/null
	ts -C "$work/templates/combine" commit -m "c$n" >/dev/null
done
check "the combine template is one commit short of combining" \
	is "$(sqlite3 "$work/templates/combine/tiersync.db" 'SELECT count(*) % 32 FROM ts_journal')" 31
dc_head=$(on_git "$dc" rev-parse HEAD)
submission=$(on_git "$work/templates/merge" rev-parse refs/submissions/bj.dc.jingshan)
check "part 2 starts from sound templates" fsck_sound "$work/templates/merge"

# prepare KIND TRIAL NODE: the trial's node, copied from its template, and
# what the command to cut is (in $command).
prepare() {
	rm -rf "$3"
	cp -a "$work/templates/$1" "$3"
	before_head=$(on_git "$3" rev-parse HEAD)
	case $1 in
	commit | combine)
		ts -C "$3" case update "$case_id" --set description="trial $2" >/dev/null
		command="commit -m trial-$2"
		;;
	pull | first_pull) command="pull" ;;
	merge) command="merge --submissions" ;;
	esac
}

# acknowledged KIND: the commit the command's output acknowledged, if any.
acknowledged() {
	case $1 in
	commit | combine) sed -n 's/^committed \([0-9a-f]\{40\}\)$/\1/p' "$work/out" ;;
	pull | first_pull) sed -n 's/^pull upstream: [a-z-]*, head \([0-9a-f]\{12\}\).*/\1/p' "$work/out" ;;
	merge) sed -n 's/^bj\.dc\.jingshan  *[a-z-]*  *\([0-9a-f]\{12\}\) .*/\1/p' "$work/out" ;;
	esac
}

# How many counted calls each command makes uncut: the cut points are drawn
# from 1 to a tenth beyond that (a cut past the end is a power cut just
# after the command answered).
kinds="commit pull merge combine"
[ -z "${TS_POWERCUT_FIRST_PULL:-}" ] || kinds="$kinds first_pull"
set -- $kinds
nkinds=$#
for kind in $kinds; do
	prepare "$kind" 0 "$work/calibrate"
	"$restore_tool" snap "$work/record-calibrate" "$work/calibrate"
	under_cut "$work/record-calibrate" 0 "$TIERSYNC" -C "$work/calibrate" $command
	check "uncut, $kind runs under the shim" exit_is 0
	check "uncut, $kind acknowledges" test -n "$(acknowledged "$kind")"
	eval "calls_$kind=\$(cat \"\$work/record-calibrate/count\")"
	rm -rf "$work/record-calibrate"
done
echo "counted calls uncut: commit $calls_commit, pull $calls_pull, merge $calls_merge, combine $calls_combine${TS_POWERCUT_FIRST_PULL:+, first pull ${calls_first_pull:-}}"
echo "$trials trials from seed $seed (TS_POWERCUT_SEED=$seed repeats them)"
awk -v seed="$seed" -v n="$trials" \
	'BEGIN { srand(seed); for (i = 0; i < n; i++) printf "%.6f %d\n", rand(), int(rand() * 2147483647) }' \
	>"$work/draws"

trial=0 ran=0
cut=0 after=0 acked=0 acked_then_cut=0 repaired=0 lost_writes=0 torn_writes=0
verify_failed=0 fsck_failed=0 ack_lost=0 staged_lost=0 reopen_failed=0
started_at=$(date +%s)
while read -r draw restore_seed; do
	trial=$((trial + 1))
	set -- $kinds
	shift $(((trial - 1) % nkinds))
	kind=$1
	[ -z "${TS_POWERCUT_ONLY:-}" ] || [ "$trial" = "$TS_POWERCUT_ONLY" ] || continue
	ran=$((ran + 1))
	eval "calls=\$calls_$kind"
	at=${TS_POWERCUT_AT:-$(awk -v d="$draw" -v c="$calls" 'BEGIN { print 1 + int(d * (c + c / 10)) }')}
	# the last trial: the power fails just after the command answered
	[ -n "${TS_POWERCUT_AT:-}" ] || [ "$trial" != "$trials" ] || at=$((calls + 1))
	what="trial $trial ($kind, cut before call $at of $calls, restore seed $restore_seed)"
	node=$work/trial
	record=$work/record
	rm -rf "$record"
	prepare "$kind" "$trial" "$node"
	"$restore_tool" snap "$record" "$node"
	under_cut "$record" "$at" "$TIERSYNC" -C "$node" $command
	[ -z "${TS_POWERCUT_DEBUG:-}" ] || echo "$what: status $rc, $(cat "$record/count") calls"
	case $rc in
	137) cut=$((cut + 1)) ;;
	0) after=$((after + 1)) ;;
	*) fail "$what: the command failed (status $rc): $(cat "$work/err")" ;;
	esac
	ack=$(acknowledged "$kind")
	if [ -n "$ack" ]; then
		acked=$((acked + 1))
		[ "$rc" != 137 ] || acked_then_cut=$((acked_then_cut + 1))
	fi
	if ! "$restore_tool" restore "$record" "$restore_seed" >"$work/restore.out" 2>&1; then
		fail "$what: the restore failed: $(cat "$work/restore.out")"
		continue
	fi
	set -- $(sed -n 's/.*: \([0-9]*\) writes lost, \([0-9]*\) torn.*/\1 \2/p' "$work/restore.out")
	lost_writes=$((lost_writes + ${1:-0}))
	torn_writes=$((torn_writes + ${2:-0}))

	# the node reopens (and repairs itself) and verify passes
	run ts -C "$node" verify
	if [ "$rc" != 0 ]; then
		verify_failed=$((verify_failed + 1))
		fail "$what: verify after the restore: $(cat "$work/out" "$work/err" | head -n 5)"
	fi
	! grep -q 'repaired' "$work/err" || repaired=$((repaired + 1))
	if ! fsck_sound "$node" >"$work/fsck.out" 2>&1; then
		fsck_failed=$((fsck_failed + 1))
		fail "$what: git fsck after the restore: $(head -n 5 "$work/fsck.out")"
	fi
	# what was committed before the trial, and what the command acknowledged
	for id in $before_head $ack; do
		if ! on_git "$node" merge-base --is-ancestor "$id" HEAD 2>/dev/null; then
			ack_lost=$((ack_lost + 1))
			fail "$what: commit $id, acknowledged, is not in history"
		fi
	done
	case $kind in
	commit | combine)
		# the write staged before the trial: committed or still staged
		value=$(db "$node" "SELECT description FROM cases WHERE id = '$case_id'" 2>&1)
		if [ "$value" != "trial $trial" ]; then
			staged_lost=$((staged_lost + 1))
			fail "$what: the staged write is lost: the case holds \"$value\""
		fi
		;;
	esac
	# a failed trial's node and record, kept for reading where asked
	if [ -n "${TS_POWERCUT_KEEP:-}" ] && [ -s "$work/.failed" ]; then
		mkdir -p "$TS_POWERCUT_KEEP"
		cp -a "$node" "$TS_POWERCUT_KEEP/trial-$trial"
		cp -a "$record" "$TS_POWERCUT_KEEP/record-$trial"
	fi
	# and the node works on: the command again completes
	case $kind in
	commit | combine) ts -C "$node" case update "$case_id" --set description="again" >/dev/null 2>&1 || true ;;
	esac
	run ts -C "$node" $command
	if [ "$rc" != 0 ] && ! { [ "$kind" = merge ] && grep -q 'no submissions' "$work/out"; }; then
		reopen_failed=$((reopen_failed + 1))
		fail "$what: after the restore, $kind again fails: $(cat "$work/err")"
	fi
done <"$work/draws"
elapsed=$(($(date +%s) - started_at))

echo "$ran trials in $elapsed s: $cut cut while running, $after cut after the command answered;" \
	"$acked acknowledged ($acked_then_cut of them then cut while running);" \
	"$lost_writes writes lost and $torn_writes torn by the restores; $repaired nodes repaired on reopening"
check "all $trials trials ran" is "$trial" "$trials"
[ -z "${TS_POWERCUT_ONLY:-}" ] || exit 0
check "most trials cut a command while it ran" test "$cut" -ge $((trials / 2))
check "some trials cut after an acknowledgement" test "$((after + acked_then_cut))" -ge 1
check "the restores lost or tore some writes" test "$((lost_writes + torn_writes))" -gt 0
check "after every restore, verify passes" is "$verify_failed" 0
check "after every restore, stock git fsck finds no error" is "$fsck_failed" 0
check "no acknowledged commit lost" is "$ack_lost" 0
check "no staged write lost" is "$staged_lost" 0
check "after every restore, the command runs again" is "$reopen_failed" 0
