#!/bin/sh
# What push, pull, merge --submissions and bundle import acknowledged
# survives a SIGKILL at any moment, and nothing is left half-done.
#
# A district and a street office, the street's upstream a plain path. Each
# round one of them does some work and commits it, then one of five
# transfers starts: push, merge --submissions, pull, the import at the
# district of the street's bundle (a submission carried on a USB stick), or
# the import at the street of the district's bundle for it (an update from
# above); a kill -9 interrupts it after a random delay (drawn,
# as crash.sh does for commits, from 0 to 1.2 times what an undisturbed run
# of that command takes). After each kill, judged with stock git: both nodes
# open again and `verify` passes; every commit either node acknowledged is
# still in its main's history; each ref is what it was or what the command
# would have made it, never anything else; `git fsck` finds no error. Then
# the same command, left alone, completes. At the end both hold one tree.
#
# The last TS_KILL_SSH_ROUNDS (default 3) rounds push and pull over SSH
# instead, through a real sshd on 127.0.0.1 and the district's gate, when
# sshd is installed; the rounds before them take the five in turn. Every
# other street's bundle also carries an urgent report (the urgent commit,
# refs/urgent/<street>, merged before the submission), and a push sends
# one whenever the district's main as last fetched lacks a report.
#
# TS_KILL_ROUNDS (default 15) rounds; `make faults` runs 140.
# TS_KILL_SEED repeats a run's delays.
. "$TS_TOP/tests/e2e/lib.sh"
. "$TS_TOP/tests/e2e/lib_sshd.inc"

began=$(date +%s)
rounds=${TS_KILL_ROUNDS:-15}
ssh_rounds=${TS_KILL_SSH_ROUNDS:-3}
[ -x "$sshd_bin" ] || ssh_rounds=0
seed=${TS_KILL_SEED:-$(($$ * 7919 + $(date +%N | sed 's/^0*//;s/^$/0/') % 100000))}
echo "$rounds rounds; kill delays from seed $seed (TS_KILL_SEED=$seed repeats them)"
awk -v seed="$seed" 'BEGIN { srand(seed); for (i = 0; i < 5000; i++) printf "%.4f\n", rand() }' >"$work/draws"

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

district=$work/dongcheng
street=$work/jingshan
sub=refs/submissions/bj.dc.jingshan
urgent_ref=refs/urgent/bj.dc.jingshan
ts init "$district" --tier district --id bj.dc --author "张敏" >/dev/null
city_above "$district" bj.dc
ts init "$street" --tier street --id bj.dc.jingshan --author "王伟" --upstream "$district" >/dev/null
# the same district over SSH too, as remote "gate": the street's key
# enrolled with the gate as its forced command
if [ "$ssh_rounds" -gt 0 ]; then
	sshd_setup
	check "sshd starts on 127.0.0.1" sshd_start
	ts -C "$district" enroll --node bj.dc.jingshan --key "$street/id_ed25519.pub" \
		--authorized-keys "$sshd_dir/authorized_keys" >/dev/null
	ts -C "$street" remote add gate "ssh://127.0.0.1:$sshd_port$district/history.git" \
		--identity "$street/id_ed25519" >/dev/null
	run ts -C "$street" remote trust gate
	check "the street trusts the district's host key" exit_is 0
else
	enroll "$district" bj.dc.jingshan "$street/id_ed25519.pub"
fi
remote=upstream

# acknowledged NODE: the commits NODE acknowledged ("committed <id>", or a
# transfer that exited 0), one per line in $work/acked-<name>
acked_file() {
	printf '%s\n' "$work/acked-$(basename "$1")"
}
: >"$(acked_file "$district")"
: >"$(acked_file "$street")"

# work_on NODE N: records and commits a case there, and notes the commit
work_on() {
	ts -C "$1" case new --category small_ads --source patrol --address "景山前街 $2号" >/dev/null
	ts -C "$1" commit -m "巡查 $2" | sed -n 's/^committed \([0-9a-f]\{40\}\)$/\1/p' >>"$(acked_file "$1")"
}

# report_urgent N: the street records an urgent report, committed at once
report_urgent() {
	ts -C "$street" urgent new --subject "液化气罐泄漏 $1" --author "王伟" --json >"$work/urgent.json"
	json_get "$work/urgent.json" '$.commit' >>"$(acked_file "$street")"
}

# nothing_lost NODE: every commit NODE acknowledged is in its main's history
nothing_lost() {
	on_git "$1" rev-list refs/heads/main | sort >"$work/history"
	sort -u "$(acked_file "$1")" | comm -23 - "$work/history" >"$work/lost"
	[ ! -s "$work/lost" ] || { echo "lost from $1: $(cat "$work/lost")"; return 1; }
}

# no_stale_lock NODE: no lock file left in history.git that would stop the
# next writer (the store's own flock file, tiersync.lock, stays by design;
# a fetch's quarantine is cleaned by the next fetch)
no_stale_lock() {
	find "$1/history.git" -name '*.lock' ! -name tiersync.lock ! -path '*/tiersync-incoming-*' ! -path '*/tiersync-kept-*' >"$work/locks"
	[ ! -s "$work/locks" ] || { echo "left: $(cat "$work/locks")"; return 1; }
}

both_unlocked() {
	no_stale_lock "$street" && no_stale_lock "$district"
}

# main_old_or_merged NODE BEFORE THEIRS: main is BEFORE, or a commit that
# holds both BEFORE and THEIRS, what a merge of THEIRS makes
main_old_or_merged() {
	_now=$(on_git "$1" rev-parse refs/heads/main)
	[ "$_now" = "$2" ] && return 0
	on_git "$1" merge-base --is-ancestor "$2" "$_now" && on_git "$1" merge-base --is-ancestor "$3" "$_now" ||
		{ echo "main is $_now: neither the old $2 nor a merge of $3"; return 1; }
}

# main_old_or_merged_any NODE BEFORE THEIRS...: main is BEFORE, or a merge
# of one of THEIRS (an import merges the urgent commit, then the submission)
main_old_or_merged_any() {
	_node=$1
	_before=$2
	shift 2
	for _theirs; do
		[ -z "$_theirs" ] || ! main_old_or_merged "$_node" "$_before" "$_theirs" >/dev/null || return 0
	done
	echo "main is $(on_git "$_node" rev-parse refs/heads/main): neither the old $_before nor a merge of any of $*"
	return 1
}

# urgent_out_sound REMOTE BEFORE: the street's urgent commit for REMOTE is
# as in BEFORE (refs), or one made now, on the district's main as last
# fetched from there
urgent_out_sound() {
	_out=$(on_git "$street" rev-parse -q --verify "refs/urgent-out/$1") || _out=""
	[ "$_out" != "$(sed -n "s|^refs/urgent-out/$1 ||p" "$2")" ] || return 0
	is "$(on_git "$street" rev-parse "$_out^")" "$(on_git "$street" rev-parse "refs/remotes/$1/main")"
}

# reopens NODE: a command opens the node again (repairing what a kill left)
# and verify passes; stock git fsck finds no error
reopens() {
	run ts -C "$1" status
	exit_is 0 || return 1
	run ts -C "$1" verify
	exit_is 0 && fsck_sound "$1"
}

# the command of an operation, and the node it runs on: bundle_up is the
# district importing the street's submission bundle, bundle_down the street
# importing the district's update bundle for it
node_of() {
	case $1 in merge | bundle_up) echo "$district" ;; *) echo "$street" ;; esac
}
args_of() {
	case $1 in
	merge) echo "merge --submissions" ;;
	bundle_up) echo "bundle import $work/up.bundle" ;;
	bundle_down) echo "bundle import $work/down.bundle" ;;
	*) echo "$1 $remote" ;;
	esac
}

# the bundles on the stick: the street's submission, the district's update
bundle_up() {
	ts -C "$street" bundle create "$work/up.bundle" >/dev/null
}
bundle_down() {
	ts -C "$district" bundle create "$work/down.bundle" --for bj.dc.jingshan >/dev/null
}

# timed OP: runs it undisturbed, and keeps how long it took as the window
# the kills of OP land in (0 to 1.2 times it, at least 30 ms)
timed() {
	_before=$(now_ms)
	# shellcheck disable=SC2046 # the command's words
	run "$TIERSYNC" -C "$(node_of "$1")" $(args_of "$1")
	_took=$(($(now_ms) - _before))
	[ "$_took" -ge 30 ] || _took=30
	eval "window_$1_$remote=$_took"
	[ "$rc" != 0 ] || on_git "$(node_of "$1")" rev-parse refs/heads/main >>"$(acked_file "$(node_of "$1")")"
}

work_on "$street" 0
timed push
check "the first push completes" exit_is 0
timed merge
check "the first merge completes" exit_is 0
work_on "$district" 0
timed pull
check "the first pull completes" exit_is 0
work_on "$street" 000
bundle_up
timed bundle_up
check "the first import of the street's bundle at the district completes" exit_is 0
work_on "$district" 000
bundle_down
timed bundle_down
check "the first import of the district's bundle at the street completes" exit_is 0
echo "undisturbed: push ${window_push_upstream} ms, merge --submissions ${window_merge_upstream} ms," \
	"pull ${window_pull_upstream} ms, bundle import at the district ${window_bundle_up_upstream} ms," \
	"at the street ${window_bundle_down_upstream} ms"
if [ "$ssh_rounds" -gt 0 ]; then
	remote=gate
	work_on "$street" 00
	timed push
	check "the first push over SSH completes" exit_is 0
	ts -C "$district" merge --submissions >/dev/null
	work_on "$district" 00
	timed pull
	check "the first pull over SSH completes" exit_is 0
	echo "undisturbed over SSH: push ${window_push_gate} ms, pull ${window_pull_gate} ms"
	remote=upstream
fi

kills=0
hit_push=0 hit_merge=0 hit_pull=0 hit_bundle_up=0 hit_bundle_down=0 hit_urgent=0
sent=0
completed=0
round=0
while [ "$round" -lt "$rounds" ]; do
	round=$((round + 1))
	if [ "$round" -le $((rounds - ssh_rounds)) ]; then
		turn=$((round % 5))
	else
		# over SSH only what goes over the link: push, merge, pull
		remote=gate
		turn=$(((round - rounds + ssh_rounds) % 3))
	fi
	case $turn in
	1) op=push ;;
	2) op=merge ;;
	3) op=bundle_up ;;
	4) op=bundle_down ;;
	*) op=pull ;;
	esac
	# the work the transfer carries
	case $op in
	push) work_on "$street" "$round" ;;
	merge)
		work_on "$street" "$round"
		ts -C "$street" push >/dev/null
		;;
	pull) work_on "$district" "$round" ;;
	bundle_up)
		work_on "$street" "$round"
		[ $((round % 2)) = 1 ] || report_urgent "$round"
		bundle_up
		;;
	bundle_down)
		work_on "$district" "$round"
		bundle_down
		;;
	esac
	# the urgent commit the street's bundle carries, if any
	carried=""
	[ "$op" != bundle_up ] ||
		carried=$(git bundle list-heads "$work/up.bundle" | awk -v r="$urgent_ref" '$2 == r { print $1 }')
	node=$(node_of "$op")
	street_main=$(on_git "$street" rev-parse refs/heads/main)
	district_main=$(on_git "$district" rev-parse refs/heads/main)
	submission=$(on_git "$district" rev-parse "$sub")
	refs "$street" "$work/street-refs"
	refs "$district" "$work/district-refs"

	eval "window=\${window_${op}_$remote:-\$window_${op}_upstream}"
	delay=$(awk -v r="$(sed -n "${round}p" "$work/draws")" -v w="$window" 'BEGIN { printf "%.3f", r * w * 1.2 / 1000 }')
	# shellcheck disable=SC2046 # the command's words
	"$TIERSYNC" -C "$node" $(args_of "$op") >"$work/op.out" 2>"$work/op.err" &
	pid=$!
	started "$pid"
	sleep "$delay"
	kill -9 "$pid" 2>/dev/null || true
	sent=$((sent + 1))
	status=0
	{ wait "$pid" || status=$?; } 2>/dev/null
	finished "$pid"
	if [ "$status" = 137 ]; then
		kills=$((kills + 1))
		eval "hit_$op=\$((hit_$op + 1))"
		[ -z "$carried" ] || hit_urgent=$((hit_urgent + 1))
		how=killed
	elif [ "$status" = 0 ]; then
		how=finished
		completed=$((completed + 1))
		on_git "$node" rev-parse refs/heads/main >>"$(acked_file "$node")"
	else
		how="failed ($status): $(head -n 1 "$work/op.err")"
	fi
	case $op in
	merge) label="round $round (merge, kill after ${delay}s: $how)" ;;
	bundle_up)
		label="round $round (bundle import at the district${carried:+ with an urgent commit}, kill after ${delay}s: $how)"
		;;
	bundle_down) label="round $round (bundle import at the street, kill after ${delay}s: $how)" ;;
	*) label="round $round ($op $remote, kill after ${delay}s: $how)" ;;
	esac

	check "$label: the street reopens; verify and git fsck pass" reopens "$street"
	check "$label: the district reopens; verify and git fsck pass" reopens "$district"
	check "$label: nothing the street acknowledged is lost" nothing_lost "$street"
	check "$label: nothing the district acknowledged is lost" nothing_lost "$district"
	case $op in
	push)
		# the urgent commit the push made for the remote, if any
		carried=$(on_git "$street" rev-parse -q --verify "refs/urgent-out/$remote" || true)
		check "$label: the district's submission is old or the street's main" \
			refs_old_or_new "$district" "$work/district-refs" "$sub" "$street_main" "$urgent_ref"
		check "$label: the district's urgent ref is old or the street's urgent commit" \
			refs_old_or_new "$district" "$work/district-refs" "$urgent_ref" "${carried:-none}" "$sub"
		check "$label: the street's refs are unchanged but for its urgent commit" \
			refs_old_or_new "$street" "$work/street-refs" refs/heads/main "$street_main" "refs/urgent-out/$remote"
		check "$label: ...which stands on the district's main as last fetched" urgent_out_sound "$remote" "$work/street-refs"
		;;
	merge)
		# (merge --submissions takes an urgent commit first, when one waits)
		check "$label: the district's main is old or a merge of the submission (or of the urgent commit)" \
			main_old_or_merged_any "$district" "$district_main" "$submission" \
			"$(on_git "$district" rev-parse -q --verify "$urgent_ref" || true)"
		check "$label: the district's other refs are unchanged" \
			refs_old_or_new "$district" "$work/district-refs" refs/heads/main -
		check "$label: the street's refs are unchanged" \
			refs_old_or_new "$street" "$work/street-refs" refs/heads/main "$street_main"
		;;
	pull)
		check "$label: the street's upstream/main is old or the district's main" \
			refs_old_or_new "$street" "$work/street-refs" "refs/remotes/$remote/main" "$district_main" \
			refs/heads/main
		check "$label: the street's main is old or a merge of the district's" \
			main_old_or_merged "$street" "$street_main" "$district_main"
		check "$label: the district's refs are unchanged" \
			refs_old_or_new "$district" "$work/district-refs" refs/heads/main "$district_main"
		;;
	bundle_up)
		check "$label: the district's submission is old or the street's main" \
			refs_old_or_new "$district" "$work/district-refs" "$sub" "$street_main" refs/heads/main "$urgent_ref"
		check "$label: the district's urgent ref is old or the bundle's" \
			refs_old_or_new "$district" "$work/district-refs" "$urgent_ref" "${carried:-none}" "$sub" refs/heads/main
		check "$label: the district's main is old or a merge of the street's (or of its urgent commit)" \
			main_old_or_merged_any "$district" "$district_main" "$street_main" "$carried"
		check "$label: the street's refs are unchanged" \
			refs_old_or_new "$street" "$work/street-refs" refs/heads/main "$street_main"
		;;
	bundle_down)
		check "$label: the street's upstream/main is old or the district's main" \
			refs_old_or_new "$street" "$work/street-refs" refs/remotes/upstream/main "$district_main" \
			refs/heads/main
		check "$label: the street's main is old or a merge of the district's" \
			main_old_or_merged "$street" "$street_main" "$district_main"
		check "$label: the district's refs are unchanged" \
			refs_old_or_new "$district" "$work/district-refs" refs/heads/main "$district_main"
		;;
	esac

	# left alone, the same command completes
	timed "$op"
	check "$label: run again, $op completes" exit_is 0
	case $op in
	push)
		check "$label: ...the submission is the street's main" is "$(on_git "$district" rev-parse "$sub")" "$street_main" ;;
	merge)
		check "$label: ...the district's main holds the submission" \
			on_git "$district" merge-base --is-ancestor "$submission" refs/heads/main ;;
	pull | bundle_down)
		check "$label: ...the street's main holds the district's" \
			on_git "$street" merge-base --is-ancestor "$district_main" refs/heads/main ;;
	bundle_up)
		check "$label: ...the submission is the street's main" is "$(on_git "$district" rev-parse "$sub")" "$street_main"
		check "$label: ...the district's main holds it" \
			on_git "$district" merge-base --is-ancestor "$street_main" refs/heads/main
		if [ -n "$carried" ]; then
			check "$label: ...and the urgent commit, as refs/urgent/<street>" \
				is "$(on_git "$district" rev-parse "$urgent_ref")" "$carried"
			check "$label: ...which the district's main holds" \
				on_git "$district" merge-base --is-ancestor "$carried" refs/heads/main
		fi
		;;
	esac
	check "$label: no lock file left in either history" both_unlocked
	[ "$failures" = 0 ] || break
done

# --- convergence -----------------------------------------------------------------------
run ts -C "$street" push
check "at the end, the street's push completes" exit_is 0
run ts -C "$district" merge --submissions
check "at the end, the district merges it" exit_is 0
run ts -C "$street" pull
check "at the end, the street's pull completes" exit_is 0
check "both nodes hold the same tree (main^{tree})" \
	is "$(on_git "$street" rev-parse 'main^{tree}')" "$(on_git "$district" rev-parse 'main^{tree}')"
check "sqlite3: both nodes hold the same cases" \
	is "$(db "$street" 'SELECT id, address FROM cases ORDER BY id')" "$(db "$district" 'SELECT id, address FROM cases ORDER BY id')"
check "nothing the street acknowledged is lost, at the end" nothing_lost "$street"
check "nothing the district acknowledged is lost, at the end" nothing_lost "$district"
# a third of them at least; a short run may be unlucky, but not wholly
need=$((sent / 3))
[ "$sent" -ge 10 ] || need=1
check "at least $need of the $sent kills hit a running command" test "$kills" -ge "$need"
echo "kills: $round rounds, $sent kills sent, $kills hit a running command, $completed finished first," \
	"$ssh_rounds of them over SSH, seed $seed, $(($(date +%s) - began)) s"
echo "kills that hit: push $hit_push, merge --submissions $hit_merge, pull $hit_pull," \
	"bundle import $((hit_bundle_up + hit_bundle_down)) ($hit_bundle_up at the district, $hit_urgent of them" \
	"with an urgent commit; $hit_bundle_down at the street)"
sshd_stop
