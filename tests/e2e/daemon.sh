#!/bin/sh
# The autosync daemon: a city, a district and two street offices, each with
# its daemon running at a 1 s interval, and nobody typing a sync command.
# Officers keep committing cases on both streets; the streets' link to the
# district is cut for several intervals (their remote is a path that is
# removed, then put back), and the daemons log "link down" with a growing
# wait; once the link is back every node reaches one tree, and verify holds
# everywhere. A second daemon on a node is refused naming the first's PID;
# SIGTERM ends each with exit 0 and a "stopping" line. Stock git and
# sqlite3 judge.
. "$TS_TOP/tests/e2e/lib.sh"

city=$work/city
dc=$work/dc
s1=$work/jingshan
s2=$work/donghua
link=$work/to-dc     # the streets' way to the district: a path that can vanish
ts init "$city" --tier city --id bj --author "王城" >/dev/null
ts init "$dc" --tier district --id bj.dc --upstream "$city" --author "张区" >/dev/null
ts init "$s1" --tier street --id bj.dc.jingshan --upstream "$dc" --author "李街" >/dev/null
ts init "$s2" --tier street --id bj.dc.donghua --upstream "$dc" --author "赵街" >/dev/null
enroll "$city" bj.dc "$dc/id_ed25519.pub"
enroll "$dc" bj.dc.jingshan "$s1/id_ed25519.pub"
enroll "$dc" bj.dc.donghua "$s2/id_ed25519.pub"
ln -s "$dc" "$link"
ts -C "$s1" config remote.upstream.url "$link" >/dev/null
ts -C "$s2" config remote.upstream.url "$link" >/dev/null

# --- usage and refusals -------------------------------------------------------
run ts -C "$s1" daemon --interval 0
check "--interval 0 is bad usage (exit 2)" exit_is 2
check "  ...in one line" stderr_is_one_line
run ts -C "$s1" daemon --bogus
check "an unknown option is bad usage (exit 2)" exit_is 2
run ts -C "$s1" daemon --once --remote nowhere
check "a remote the node lacks is refused (exit 1)" exit_is 1
check "  ...in one line" stderr_is_one_line
check "  ...naming it" stderr_has "nowhere"
run ts -C "$work/no-such-node" daemon --once
check "a folder that is no node is refused (exit 1)" exit_is 1
check "  ...in one line" stderr_is_one_line
run ts daemon --help
check "daemon --help works" exit_is 0
check "  ...and tells of the lock" stdout_has "daemon.lock"

# --- one round, for cron ------------------------------------------------------
first=$(ts -C "$s1" case new --category small_ads --source patrol --address "景山前街 1号" --author "王伟")
ts -C "$s1" commit -m "before the daemons" >/dev/null
run ts -C "$s1" daemon --once
check "daemon --once: one round, exit 0" exit_is 0
check "  ...it pushed the commit" stderr_has "push upstream: sent"
check "  ...and says it stops" stderr_has "bj.dc.jingshan stopping"
check "  ...the district holds the submission (stock git)" \
	is "$(on_git "$dc" rev-parse refs/submissions/bj.dc.jingshan)" "$(on_git "$s1" rev-parse main)"
check "  ...the lock is released: a second --once runs" ts -C "$s1" daemon --once
run ts -C "$s1" daemon --once --syslog
check "daemon --once --syslog: exit 0" exit_is 0
check "  ...and nothing on stderr: the lines went to syslog" stderr_is_empty

# a street whose upstream is swapped for an impostor of the district (same
# id, another key): what it offers is refused, which no retry will change
s5=$work/hepingli
ts init "$work/impostor" --tier district --id bj.dc --author "假冒" >/dev/null
ts -C "$work/impostor" case new --category small_ads --source patrol --address "假地址 1号" >/dev/null
ts -C "$work/impostor" commit -m "bait" >/dev/null
ts init "$s5" --tier street --id bj.dc.hepingli --upstream "$dc" --author "孙街" >/dev/null
ts -C "$s5" pull >/dev/null
ts -C "$s5" config remote.upstream.url "$work/impostor" >/dev/null

# --- the daemons --------------------------------------------------------------
start_daemon() {
	"$TIERSYNC" -C "$1" daemon --interval 1 2>"$work/log.$2" &
	eval "pid_$2=\$!"
	started "$!"
}
start_daemon "$city" city
start_daemon "$dc" dc
start_daemon "$s1" s1
start_daemon "$s2" s2
start_daemon "$s5" s5

# wait_for SECONDS COMMAND...: polls every 0.2 s until the command holds.
wait_for() {
	_limit=$(($1 * 5))
	shift
	_n=0
	until "$@" >/dev/null 2>&1; do
		_n=$((_n + 1))
		[ "$_n" -lt "$_limit" ] || return 1
		sleep 0.2
	done
}
logged() { grep -qF -- "$2" "$work/log.$1"; }
count_logged() { grep -cF -- "$2" "$work/log.$1" || true; }

check "every daemon starts" wait_for 10 sh -c \
	"grep -q starting '$work/log.city' && grep -q starting '$work/log.dc' &&
	 grep -q starting '$work/log.s1' && grep -q starting '$work/log.s2'"
check "the city's first case reached the city with nobody typing sync" \
	wait_for 20 sh -c "[ \"\$(sqlite3 '$city/tiersync.db' \"SELECT count(*) FROM cases WHERE id = '$first'\")\" = 1 ]"

run ts -C "$s1" daemon --once
check "a second daemon on the node is refused (exit 1)" exit_is 1
check "  ...in one line" stderr_is_one_line
check "  ...naming the running one's PID" stderr_has "PID $pid_s1"
check "  ...which the lock file holds" is "$(cat "$s1/daemon.lock")" "$pid_s1"

# officers record and commit cases, as they would all day; a merge that
# brings something from above commits their staged case first, so their
# own commit may find nothing left to commit
cases=1
officers() {
	_i=0
	while [ "$_i" -lt "$1" ]; do
		ts -C "$s1" case new --category small_ads --source patrol --address "景山前街 $cases 号" \
			--author "王伟" >/dev/null
		ts -C "$s1" commit -m "patrol $cases" --author "王伟" >/dev/null 2>&1 || true
		ts -C "$s2" case new --category small_ads --source complaint --address "东华门大街 $cases 号" \
			--author "刘芳" >/dev/null
		ts -C "$s2" commit -m "complaint $cases" --author "刘芳" >/dev/null 2>&1 || true
		cases=$((cases + 1))
		_i=$((_i + 1))
		sleep 0.5
	done
}
officers 3
check "a street's commit reaches the district soon, within the interval" \
	wait_for 10 sh -c "[ \"\$(sqlite3 '$dc/tiersync.db' \"SELECT count(*) FROM cases WHERE address = '东华门大街 3 号'\")\" = 1 ]"
check "the district logs the submissions it merged" logged dc "merged submission bj.dc.donghua"

# a street the district never enrolled: its submission is refused, logged
# once, and not tried again while it stays the same, though other
# submissions keep coming
s3=$work/beixinqiao
ts init "$s3" --tier street --id bj.dc.beixinqiao --upstream "$dc" --author "钱街" >/dev/null
ts -C "$s3" case new --category small_ads --source patrol --address "北新桥 1号" --author "钱进" >/dev/null
ts -C "$s3" commit -m "patrol" >/dev/null
run ts -C "$s3" daemon --once
check "the street no one enrolled pushes all the same (exit 0)" exit_is 0
check "the district logs that it did not merge it" \
	wait_for 10 logged dc "submission bj.dc.beixinqiao not merged: "
officers 2
check "  ...while the other streets' new cases are merged" \
	wait_for 10 sh -c "[ \"\$(sqlite3 '$dc/tiersync.db' \"SELECT count(*) FROM cases WHERE address = '东华门大街 $((cases - 1)) 号'\")\" = 1 ]"
check "  ...it is logged once" \
	is "$(count_logged dc "submission bj.dc.beixinqiao not merged")" 1

# SIGTERM at any moment, in a round or between: the daemon ends with exit 0
# once the transfer in flight is done, and a new one takes over the lock
for delay in 0.1 0.3 0.7; do
	officers 1
	sleep "$delay"
	kill -TERM "$pid_s2"
	rc=0
	wait "$pid_s2" || rc=$?
	finished "$pid_s2"
	check "SIGTERM $delay s after a commit: the donghua daemon exits 0" exit_is 0
	mv "$work/log.s2" "$work/log.s2.$delay"
	start_daemon "$s2" s2
done
check "  ...and the restarted daemon runs" wait_for 10 logged s2 "starting"

# --- the link goes down ---------------------------------------------------------
rm "$link"
officers 4
check "the streets' daemons see the link down three times" \
	wait_for 25 sh -c "[ \$(grep -c 'link down' '$work/log.s1') -ge 3 ] && [ \$(grep -c 'link down' '$work/log.s2') -ge 3 ]"
ln -s "$dc" "$link"
officers 1

# the gap between attempts grows: the waits the log announces, and the
# times of the attempts themselves
waits=$(grep 'link down' "$work/log.s1" | sed -n 's/.*next try in \([0-9]*\) s$/\1/p' | head -n 3 | tr '\n' ' ')
check "  ...announcing longer and longer waits" is "$waits" "2 4 8 "
epochs=$(grep 'link down' "$work/log.s1" | head -n 3 | while read -r when _rest; do date -d "$when" +%s; done | tr '\n' ' ')
gaps_grow() {
	set -- $epochs
	[ $(($3 - $2)) -gt $(($2 - $1)) ] || { echo "attempts at $*"; return 1; }
}
check "  ...and the attempts do come further apart" gaps_grow
check "  ...each line says which node and why" logged s2 "bj.dc.donghua link down: remote upstream: no repository at"

# --- back: every node reaches one tree, nobody typing anything ------------------
trees() {
	for n in "$city" "$dc" "$s1" "$s2"; do
		on_git "$n" rev-parse 'main^{tree}'
	done | sort -u | wc -l
}
one_tree() { [ "$(trees)" -eq 1 ]; }
check "every node reaches one tree id within 60 s" wait_for 60 one_tree
check "the streets' daemons say the link is back" sh -c \
	"grep -q 'link back' '$work/log.s1' && grep -q 'link back' '$work/log.s2'"
made=$(( (cases - 1) * 2 + 1 ))
check "the city holds every case the officers made ($made)" \
	is "$(db "$city" "SELECT count(*) FROM cases")" "$made"
check "  ...as does each street" is "$(db "$s1" "SELECT count(*) FROM cases"):$(db "$s2" "SELECT count(*) FROM cases")" "$made:$made"
for n in "$city" "$dc" "$s1" "$s2"; do
	check "verify passes at $(basename "$n")" ts -C "$n" verify
	check "  ...and stock git finds its history sound" fsck_sound "$n"
done
check "other commands ran beside the daemons: the officers' commits are in history" \
	sh -c "git --git-dir '$city/history.git' log --format=%an main | grep -q 刘芳"

# --- SIGTERM --------------------------------------------------------------------
check "the impostor's main is refused, and logged once though the daemon kept trying" \
	is "$(count_logged s5 "refused: ")" 1
check "  ...saying why" logged s5 "bj.dc.hepingli refused: commit "
check "  ...and the street took nothing of it" is "$(db "$s5" "SELECT count(*) FROM cases")" 0
for name in s1 s2 s5 dc city; do
	eval "pid=\$pid_$name"
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	finished "$pid"
	check "SIGTERM ends the $name daemon with exit 0" exit_is 0
	check "  ...its last line says it stops" sh -c "tail -n 1 '$work/log.$name' | grep -q ' stopping\$'"
done
check "the lock is free once it stopped" ts -C "$s1" daemon --once

# a long sleep is cut short by SIGTERM at once, not at the end of the interval
"$TIERSYNC" -C "$s1" daemon --interval 600 2>"$work/log.long" &
pid=$!
started "$pid"
check "a daemon at a 600 s interval starts" wait_for 10 logged long "starting"
sleep 1   # its first round is done: it sleeps now
t0=$(date +%s)
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
finished "$pid"
check "  ...SIGTERM ends it with exit 0" exit_is 0
check "  ...within 2 s" sh -c "[ $(( $(date +%s) - t0 )) -le 2 ]"
check "  ...saying it stops" sh -c "tail -n 1 '$work/log.long' | grep -q ' stopping\$'"
