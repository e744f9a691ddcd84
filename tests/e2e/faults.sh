#!/bin/sh
# Transfers no fault can leave half-done. A street office reaches its
# district over SSH through faultproxy (tools/faultproxy.c), a loopback
# proxy that cuts the connection at a random byte offset in either
# direction, or stalls it and then cuts or resumes. The district's side is
# the real thing: OpenSSH on 127.0.0.1 and the forced command `tiersync
# gate` from enrollment.
#
# Each round the street records and commits a case (now and then the
# district one of its own), then one transfer is broken: a push up to the
# district's refs/submissions/<street>, or a fetch or a pull down from the
# district's main. After it, judged with stock git: every ref on both sides
# is what it was or what the transfer would make it, never anything else;
# `tiersync verify` passes on both; `git fsck` finds no error. Then the
# proxy passes everything, the same transfer completes, and the district
# merges the submission. At the end both nodes hold the same tree.
#
# TS_FAULT_ROUNDS (default 8) is the number of broken transfers; `make
# faults` runs 100. TS_FAULT_SEED repeats a run's offsets.
. "$TS_TOP/tests/e2e/lib.sh"
. "$TS_TOP/tests/e2e/lib_sshd.inc"

sshd_skip_unless_installed
began=$(date +%s)
. "$TS_TOP/tests/e2e/lib_proxy.inc"
rounds=${TS_FAULT_ROUNDS:-8}
seed=${TS_FAULT_SEED:-$(($$ * 7919 + $(date +%N | sed 's/^0*//;s/^$/0/') % 100000))}
echo "$rounds broken transfers; proxy offsets from seed $seed (TS_FAULT_SEED=$seed repeats them)"
check "faultproxy is built next to tiersync" test -x "$proxy"
[ -x "$proxy" ] || exit 1
run "$proxy" --help
check "faultproxy --help says what it does" stdout_has "loopback TCP proxy"
run "$proxy" --listen 0 --to 10.0.0.1:22
check "faultproxy refuses to reach beyond 127.0.0.1 (exit 2)" exit_is 2
check "...saying so" stderr_has "only 127.0.0.1 is allowed"
run "$proxy" --listen 0.0.0.0:0 --to 22
check "faultproxy refuses to listen beyond 127.0.0.1 (exit 2)" exit_is 2

sshd_setup
ssh-keygen -q -t ed25519 -N '' -C "bj.dc.jingshan" -f "$work/street_key"
check "sshd starts on 127.0.0.1" sshd_start

# --- the nodes ------------------------------------------------------------------
district=$work/dongcheng
street=$work/jingshan
sub=refs/submissions/bj.dc.jingshan
ts init "$district" --tier district --id bj.dc --author "张敏" >/dev/null
city_above "$district" bj.dc
# The store packs its history itself, under the node's lock; git's own
# `gc --auto`, which receive-pack starts in the background after a push once
# 50 packs have gathered, must never run behind its back. With the limit at
# 2, a gc would start after the first push.
on_git "$district" config gc.autoPackLimit 2
ts -C "$district" enroll --node bj.dc.jingshan --key "$work/street_key.pub" \
	--authorized-keys "$sshd_dir/authorized_keys" >/dev/null
check "the enrollment gave the street's key the gate as its forced command" \
	file_has "$sshd_dir/authorized_keys" "gate --node bj.dc.jingshan"

check "faultproxy starts in pass mode" proxy_start pass 0
url="ssh://127.0.0.1:$proxy_port$district/history.git"
ts init "$street" --tier street --id bj.dc.jingshan --author "王伟" \
	--upstream "$url" --identity "$work/street_key" >/dev/null
run ts -C "$street" remote trust upstream --expect "$(ssh-keygen -lf "$sshd_dir/host_key.pub" | awk '{ print $2 }')"
check "the street trusts the district's host key, through the proxy" exit_is 0

# span OP: the bytes each way of the last whole OP through the proxy, the
# bound of the offsets when OP is broken next ("UP,DOWN")
span_push=""
span_fetch=""
learn_span() {
	_line=$(grep ' did=pass ' "$proxy_log" | tail -n 1)
	_up=$(printf '%s\n' "$_line" | sed -n 's/.* up=\([0-9]*\).*/\1/p')
	_down=$(printf '%s\n' "$_line" | sed -n 's/.* down=\([0-9]*\).*/\1/p')
	[ -n "$_up" ] && [ "$_up" -gt 0 ] && [ "$_down" -gt 0 ] || return 0
	case $1 in
	push) span_push="$_up,$_down" ;;
	*) span_fetch="$_up,$_down" ;;
	esac
}

ts -C "$street" case new --category small_ads --source patrol --address "景山前街 1号" >/dev/null
ts -C "$street" commit -m "巡查 0" >/dev/null
run ts -C "$street" push
check "the first push through the proxy and the gate completes" exit_is 0
learn_span push
run ts -C "$district" merge --submissions
check "the district merges it" exit_is 0
run ts -C "$street" pull
check "the first pull through the proxy completes" exit_is 0
learn_span fetch
proxy_stop
echo "a whole push moves $span_push bytes (up,down), a whole fetch $span_fetch"

# --- what a broken transfer may leave ------------------------------------------------
# head_old_or_merged BEFORE THEIRS: the street's main is BEFORE, or a commit
# that holds both BEFORE and THEIRS (what a pull of THEIRS makes)
head_old_or_merged() {
	_now=$(on_git "$street" rev-parse refs/heads/main)
	[ "$_now" = "$1" ] && return 0
	on_git "$street" merge-base --is-ancestor "$1" "$_now" &&
		on_git "$street" merge-base --is-ancestor "$2" "$_now" ||
		{ echo "main is $_now: neither the old $1 nor a merge of $2"; return 1; }
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

# no_git_gc: git's gc never ran on the district's history (it would have
# packed the refs and left its pid or log file)
no_git_gc() {
	for _f in packed-refs gc.pid gc.log; do
		[ ! -e "$district/history.git/$_f" ] || { echo "history.git/$_f: git gc ran"; return 1; }
	done
}

sound() {
	run ts -C "$1" verify
	exit_is 0 && fsck_sound "$1"
}

# --- the rounds -----------------------------------------------------------------------
cuts=0
stalls=0
completions=0
attempts=0
round=0
max_attempts=$((rounds * 4))
while [ "$cuts" -lt "$rounds" ] && [ "$attempts" -lt "$max_attempts" ]; do
	round=$((round + 1))
	# the street keeps working between rounds, and now and then the district
	ts -C "$street" case new --category outside_store --source patrol --address "景山东街 $round号" >/dev/null
	ts -C "$street" commit -m "巡查 $round" >/dev/null
	if [ $((round % 3)) = 0 ]; then
		ts -C "$district" case new --category signboard --source complaint --address "东四北大街 $round号" >/dev/null
		ts -C "$district" commit -m "区级受理 $round" >/dev/null
	fi
	case $((round % 3)) in
	1) op=push span=$span_push ;;
	2) op=fetch span=$span_fetch ;;
	*) op=pull span=$span_fetch ;;
	esac
	mode=cut
	[ $((round % 4)) != 0 ] || mode=stall
	street_main=$(on_git "$street" rev-parse refs/heads/main)
	district_main=$(on_git "$district" rev-parse refs/heads/main)
	refs "$district" "$work/district-refs"
	refs "$street" "$work/street-refs"

	attempts=$((attempts + 1))
	lines=$(wc -l <"$proxy_log")
	proxy_start "$mode" "$((seed + round))" "$span" || break
	took=$(date +%s%N)
	run ts -C "$street" "$op" --timeout 20
	took=$((($(date +%s%N) - took) / 1000000))
	proxy_stop
	what=$(sed -n "$((lines + 1)),\$p" "$proxy_log" | sed -n 's/.* did=\([a-z-]*\) .*/\1/p' | sort -u | tr '\n' ' ')
	case " $what" in
	*" cut "* | *" reset "* | *" stall-cut "*) cuts=$((cuts + 1)) ;;
	esac
	[ "$mode" != stall ] || stalls=$((stalls + 1))
	[ "$rc" != 0 ] || completions=$((completions + 1))
	label="round $round ($op, $mode, seed $((seed + round)): ${what% }, exit $rc, $took ms)"

	# the push's ref on the district; the fetch's and pull's on the street
	check "$label: the district's refs are old or new" \
		refs_old_or_new "$district" "$work/district-refs" "$sub" "$street_main"
	if [ "$op" = push ]; then
		check "$label: the street's refs are unchanged" \
			refs_old_or_new "$street" "$work/street-refs" refs/heads/main "$street_main"
	else
		check "$label: the street's upstream/main is old or the district's main" \
			refs_old_or_new "$street" "$work/street-refs" refs/remotes/upstream/main "$district_main" \
			refs/heads/main
		check "$label: the street's main is old or merged with the district's" \
			head_old_or_merged "$street_main" "$district_main"
	fi
	check "$label: the district's main is unchanged" \
		is "$(on_git "$district" rev-parse refs/heads/main)" "$district_main"
	check "$label: the district is sound (verify, git fsck)" sound "$district"
	check "$label: the street is sound (verify, git fsck)" sound "$street"

	# the link back: the same transfer completes
	proxy_start pass 0 || break
	run ts -C "$street" "$op" --timeout 20
	check "$label: with the link back, $op completes" exit_is 0
	learn_span "$op"
	proxy_stop
	case $op in
	push)
		check "$label: the district holds the street's main as its submission" \
			is "$(on_git "$district" rev-parse "$sub")" "$(on_git "$street" rev-parse refs/heads/main)"
		run ts -C "$district" merge --submissions
		check "$label: the district merges the submission" exit_is 0
		;;
	*)
		check "$label: the street's upstream/main is the district's main" \
			is "$(on_git "$street" rev-parse refs/remotes/upstream/main)" "$district_main"
		;;
	esac
	check "$label: no lock file left in either history" both_unlocked
	check "$label: no git gc ran on the district's history" no_git_gc
	[ "$failures" = 0 ] || break
done

# --- convergence ------------------------------------------------------------------------
proxy_start pass 0
run ts -C "$street" push --timeout 20
check "at the end, the street's push completes" exit_is 0
run ts -C "$district" merge --submissions
check "at the end, the district merges it" exit_is 0
run ts -C "$street" pull --timeout 20
check "at the end, the street's pull completes" exit_is 0
proxy_stop
check "both nodes hold the same tree (main^{tree})" \
	is "$(on_git "$street" rev-parse 'main^{tree}')" "$(on_git "$district" rev-parse 'main^{tree}')"
check "sqlite3: both nodes hold the same cases" \
	is "$(db "$street" 'SELECT id, address FROM cases ORDER BY id')" "$(db "$district" 'SELECT id, address FROM cases ORDER BY id')"
check "sqlite3: every case the street recorded is at the district" \
	is "$(db "$district" "SELECT count(*) FROM cases WHERE address LIKE '景山东街%'")" "$round"
check "the district is sound at the end" sound "$district"
check "the street is sound at the end" sound "$street"

check "$rounds transfers were cut (in $attempts attempts)" test "$cuts" -ge "$rounds"
echo "faults: $round rounds, $cuts cuts, $stalls stalls, $completions completions of a broken transfer," \
	"seed $seed, $(($(date +%s) - began)) s"
sshd_stop
