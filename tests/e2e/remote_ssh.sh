#!/bin/sh
# A street office syncing with its district over SSH: a real OpenSSH server
# on 127.0.0.1, stock git-receive-pack and git-upload-pack behind it. The
# host key must be trusted before anything is sent; a changed host key and a
# key the server does not accept are refused with a clear line.
. "$TS_TOP/tests/e2e/lib.sh"
. "$TS_TOP/tests/e2e/lib_sshd.inc"

sshd_skip_unless_installed
sshd_setup
ssh-keygen -q -t ed25519 -N '' -C "jingshan" -f "$work/street_key"
ssh-keygen -q -t ed25519 -N '' -C "stranger" -f "$work/stranger_key"
sshd_authorize "$work/street_key.pub"
check "sshd starts on 127.0.0.1" sshd_start
port=$sshd_port
me=$(id -un)

district=$work/dongcheng
street=$work/jingshan
ts init "$district" --tier district --id bj.dc --author "张三" >/dev/null
ts init "$street" --tier street --id bj.dc.jingshan --author "王伟" >/dev/null
ts -C "$street" case new --category small_ads --source patrol --address "景山前街 4号" >/dev/null
ts -C "$street" commit -m "巡查发现小广告" >/dev/null
street_head=$(on_git "$street" rev-parse HEAD)

# the fingerprint the server's own tools give, as an independent judge
host_print=$(ssh-keygen -lf "$sshd_dir/host_key.pub" | awk '{ print $2 }')

run ts -C "$street" remote add upstream "ssh://127.0.0.1:$port$district" --identity "$work/street_key"
check "remote add takes an ssh:// URL with a key" exit_is 0
run ts -C "$street" remote list --json
check "the key file is recorded" is "$(json_get "$work/out" '$[0].identity')" "$work/street_key"

# --- an unknown host key is refused ------------------------------------------
run ts -C "$street" push
check "push to an unknown host is refused" exit_is 1
check "the refusal is one line" stderr_is_one_line
check "the refusal shows the host key's fingerprint, as ssh-keygen -l does" stderr_has "$host_print"
check "the refusal says how to trust it" stderr_has "run 'tiersync remote trust upstream'"
check "nothing reached the district" \
	sh -c '! git --git-dir "$1/history.git" rev-parse -q --verify refs/submissions/bj.dc.jingshan' - "$district"
check "no known_hosts was written by the refusal" test ! -e "$street/known_hosts"

# --- trust, then push and fetch --------------------------------------------------
run ts -C "$street" remote trust upstream --expect "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
check "trust refuses a key whose fingerprint is not the expected one" exit_is 1
check "that refusal shows the real fingerprint" stderr_has "$host_print"
run ts -C "$street" remote trust upstream --expect "$host_print"
check "remote trust succeeds" exit_is 0
check "remote trust shows the fingerprint" stdout_has "$host_print"
check "ssh-keygen finds the key in the node's known_hosts under [127.0.0.1]:$port" \
	sh -c 'ssh-keygen -F "[127.0.0.1]:$2" -f "$1/known_hosts" | grep -q ssh-ed25519' - "$street" "$port"
check "stock ssh accepts the node's known_hosts with strict checking" \
	ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$street/known_hosts" \
		-o GlobalKnownHostsFile=/dev/null -o IdentitiesOnly=yes -i "$work/street_key" -p "$port" "$me@127.0.0.1" true
run ts -C "$street" remote trust upstream --json
check "trusting again: valid JSON" json_valid "$work/out"
check "trusting again finds the key known" is "$(json_get "$work/out" '$.status')" known
check "trusting again adds no line" is "$(wc -l <"$street/known_hosts")" 1

run ts -C "$street" push
check "push over ssh succeeds" exit_is 0
check "push over ssh: nothing on stderr off a terminal" stderr_is_empty
check "git on the server side: the submission is the street's HEAD" \
	is "$(on_git "$district" rev-parse refs/submissions/bj.dc.jingshan)" "$street_head"
check "git fsck --strict on the server side" fsck_clean "$district"

ts -C "$district" case new --category outside_store --source complaint --address "东四北大街 1号" >/dev/null
ts -C "$district" commit -m "区级受理" >/dev/null
district_head=$(on_git "$district" rev-parse HEAD)
run ts -C "$street" fetch
check "fetch over ssh succeeds" exit_is 0
check "fetch over ssh prints the district's HEAD" is "$(cat "$work/out")" "$district_head"
check "git: refs/remotes/upstream/main is the district's HEAD" \
	is "$(on_git "$street" rev-parse refs/remotes/upstream/main)" "$district_head"
check "git fsck --strict on the street after the fetch" fsck_clean "$street"

# the user named in the URL, and the history.git path given in full
run ts -C "$street" remote add named "ssh://$me@127.0.0.1:$port$district/history.git" --identity "$work/street_key"
run ts -C "$street" fetch named
check "fetch with user@ and the full history.git path" is "$(cat "$work/out")" "$district_head"

# a path the remote shell must not split or expand: a space, a quote, a '$'
odd="$work/o'neil \$HOME dist"
# a node above the street: a fetch takes only what a node above it signed
ts init "$odd" --tier city --id bj >/dev/null
odd_head=$(on_git "$odd" rev-parse HEAD)
run ts -C "$street" remote add odd "ssh://127.0.0.1:$port$odd" --identity "$work/street_key"
run ts -C "$street" fetch odd
check "fetch from a path with a space, a quote and a \$ in it" is "$(cat "$work/out")" "$odd_head"
run ts -C "$street" remote add oddpct "ssh://127.0.0.1:$port$work/o%27neil%20%24HOME%20dist" --identity "$work/street_key"
run ts -C "$street" fetch oddpct
check "the same path written with %XX escapes" is "$(cat "$work/out")" "$odd_head"

# ssh-agent instead of a key file
if command -v ssh-agent >/dev/null 2>&1; then
	eval "$(ssh-agent -s -a "$work/agent.sock")" >/dev/null
	started "$SSH_AGENT_PID"
	ssh-add -q "$work/street_key" 2>/dev/null
	run ts -C "$street" remote add viaagent "ssh://127.0.0.1:$port$district"
	run ts -C "$street" fetch viaagent
	check "without an identity, ssh-agent's key is used" is "$(cat "$work/out")" "$district_head"
	kill "$SSH_AGENT_PID" 2>/dev/null || true
	finished "$SSH_AGENT_PID"
	unset SSH_AGENT_PID
fi
run env -u SSH_AUTH_SOCK "$TIERSYNC" -C "$street" fetch viaagent
check "without an identity or an agent: refused" exit_is 1
check "without an identity or an agent: says what to do" stderr_has "--identity KEYFILE"

# --- a key the server does not accept ----------------------------------------------
run ts -C "$street" remote add stranger "ssh://127.0.0.1:$port$district" --identity "$work/stranger_key"
run ts -C "$street" push stranger
check "a key the server does not accept is refused" exit_is 1
check "that refusal is one line" stderr_is_one_line
check "that refusal says the upper node refused this node's key, naming it" \
	stderr_has "the upper node refused this node's key ($work/stranger_key)"

# --- a repository that is not there ---------------------------------------------------
run ts -C "$street" remote add nothere "ssh://127.0.0.1:$port$work/nothere" --identity "$work/street_key"
run ts -C "$street" push nothere
check "push to a missing repository fails" exit_is 1
check "that failure is one line" stderr_is_one_line
check "that failure passes on what git on the server said" stderr_has "does not appear to be a git repository"

# --- a host that takes connections and never answers ----------------------------------
# (a listener that never accepts: the kernel completes the TCP handshake and
# nothing more happens). `timeout` only keeps a hang from stalling the suite.
if command -v python3 >/dev/null 2>&1; then
	python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(40)' "$work/silent_port" &
	silent_pid=$!
	started "$silent_pid"
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		[ -s "$work/silent_port" ] && break
		sleep 0.2
	done
	silent_port=$(cat "$work/silent_port" 2>/dev/null || echo 1)
	ts -C "$street" remote add silent "ssh://127.0.0.1:$silent_port/x" --identity "$work/street_key"
	began=$(date +%s)
	run timeout 20 "$TIERSYNC" -C "$street" push silent --timeout 1
	check "push to a host that never answers fails" exit_is 1
	check "push to a silent host says it got no answer in time" stderr_has "no answer within 1 s"
	run timeout 20 "$TIERSYNC" -C "$street" remote trust silent --timeout 1
	check "remote trust of a silent host fails" exit_is 1
	check "remote trust of a silent host names the remote" stderr_has "remote silent:"
	check "both gave up within their timeouts (under 6 s together)" test $(($(date +%s) - began)) -lt 6

	# local work never waits for the network: a commit goes through while a
	# fetch is stuck waiting for the silent host
	timeout 20 "$TIERSYNC" -C "$street" fetch silent --timeout 4 >/dev/null 2>&1 &
	fetch_pid=$!
	started "$fetch_pid"
	sleep 0.5
	began=$(date +%s)
	ts -C "$street" case new --category signboard --source patrol --address "景山后街 2号" >/dev/null
	run ts -C "$street" commit -m "招牌"
	check "a commit succeeds while a fetch waits on the network" exit_is 0
	check "...and does not wait for it (under 3 s)" test $(($(date +%s) - began)) -lt 3
	check "the fetch was still running meanwhile" kill -0 "$fetch_pid"
	wait "$fetch_pid" 2>/dev/null || true
	finished "$fetch_pid"
	kill "$silent_pid" 2>/dev/null || true
	wait "$silent_pid" 2>/dev/null || true
	finished "$silent_pid"
fi

# --- the server's host key changes ---------------------------------------------------
sshd_stop
run ts -C "$street" push --timeout 2
check "push with the server down fails" exit_is 1
check "the server down: one line naming the remote and the cause" stderr_has "remote upstream: cannot connect"
sshd_new_host_key
check "sshd restarts with a new host key on the same port" sshd_start
new_print=$(ssh-keygen -lf "$sshd_dir/host_key.pub" | awk '{ print $2 }')
ts -C "$street" case dispatch "$(ts -C "$street" sql "SELECT id FROM cases" | tail -n 1)" \
	--officer "李娜" --author "李娜" >/dev/null
ts -C "$street" commit -m "派遣" >/dev/null
run ts -C "$street" push
check "a changed host key is refused" exit_is 1
check "the changed-key refusal is one line" stderr_is_one_line
check "the changed-key refusal is loud" stderr_has "HAS CHANGED"
check "the changed-key refusal warns of an attack" stderr_has "attack"
check "the changed-key refusal shows the new fingerprint" stderr_has "$new_print"
check "nothing new reached the district" \
	is "$(on_git "$district" rev-parse refs/submissions/bj.dc.jingshan)" "$street_head"
run ts -C "$street" fetch
check "fetch refuses the changed key too" exit_is 1
run ts -C "$street" remote trust upstream
check "remote trust refuses a changed key without --replace" exit_is 1
check "remote trust says how to replace it" stderr_has "--replace"
run ts -C "$street" remote trust upstream --replace --expect "$new_print"
check "remote trust --replace takes the confirmed new key" exit_is 0
check "known_hosts holds only the new key for the host" is "$(wc -l <"$street/known_hosts")" 1
run ts -C "$street" push
check "push works again after the confirmed change" exit_is 0
check "git: the district has the street's new HEAD" \
	is "$(on_git "$district" rev-parse refs/submissions/bj.dc.jingshan)" "$(on_git "$street" rev-parse HEAD)"

# --- progress on a terminal -------------------------------------------------------------
if command -v script >/dev/null 2>&1; then
	ts -C "$district" case new --category signboard --source patrol --address "东四北大街 9号" >/dev/null
	ts -C "$district" commit -m "招牌" >/dev/null
	script -qec "\"$TIERSYNC\" -C \"$street\" fetch" /dev/null >"$work/tty" 2>&1 || true
	check "on a terminal, fetch over ssh shows objects, bytes and rate" \
		sh -c 'tr "\r" "\n" <"$1" | grep -q "^fetch upstream: .*objects, .*B, .*B/s"' - "$work/tty"
fi

sshd_stop
check "sshd is stopped" test -z "$sshd_pid"
