#!/bin/sh
# The gate on an upper host: stock OpenSSH on 127.0.0.1, the district enrolls
# two street offices' keys, and each key may then only fetch the district's
# main and push its own refs/submissions/<id>. Every other command, ref,
# path or quoting trick is refused with the district's refs unchanged, and a
# revoked key can do nothing at all.
. "$TS_TOP/tests/e2e/lib.sh"
. "$TS_TOP/tests/e2e/lib_sshd.inc"

sshd_skip_unless_installed
sshd_setup
ssh-keygen -q -t ed25519 -N '' -C "street a" -f "$work/key_a"
ssh-keygen -q -t ed25519 -N '' -C "street b" -f "$work/key_b"
ssh-keygen -q -t rsa -b 2048 -N '' -C "rsa" -f "$work/key_rsa"
check "sshd starts on 127.0.0.1" sshd_start
port=$sshd_port
keys=$sshd_dir/authorized_keys

district=$work/dongcheng
street_a=$work/jingshan
street_b=$work/donghuamen
ts init "$district" --tier district --id bj.dc --author "张三" >/dev/null
ts init "$street_a" --tier street --id bj.dc.jingshan --author "王伟" \
	--upstream "ssh://127.0.0.1:$port$district/history.git" --identity "$work/key_a" >/dev/null
ts init "$street_b" --tier street --id bj.dc.donghuamen --author "赵强" \
	--upstream "ssh://127.0.0.1:$port$district/history.git" --identity "$work/key_b" >/dev/null
ts -C "$street_a" remote trust >/dev/null
ts -C "$street_b" remote trust >/dev/null

# a line of the host's own that enrollment must leave alone
printf '%s\n' "$(cat "$work/key_rsa.pub")" >>"$keys"
other_line=$(cat "$keys")

# --- enroll ---------------------------------------------------------------------
run ts -C "$district" enroll --node bj.dc.jingshan --key "$work/key_a.pub" --authorized-keys "$keys"
check "enroll street A" exit_is 0
run ts -C "$district" enroll --node bj.dc.donghuamen --key "$work/key_b.pub" --authorized-keys "$keys" --json
check "enroll street B (--json)" json_valid "$work/out"
check "the host's own line is still the first line" is "$(head -n 1 "$keys")" "$other_line"
check "one line per enrolled node" is "$(grep -c 'tiersync:bj.dc' "$keys")" 2
check "A's line has the forced command, its key's fingerprint (as ssh-keygen -l prints it) and restrict" \
	file_has "$keys" "command=\"$TIERSYNC -C $district gate --node bj.dc.jingshan --key $(ssh-keygen -lf "$work/key_a.pub" | awk '{ print $2 }')\",restrict ssh-ed25519 $(awk '{ print $2 }' "$work/key_a.pub") tiersync:bj.dc.jingshan"
check "sqlite3: both keys are in sync_signers, in force, enrolled by the district" \
	is "$(db "$district" "SELECT count(*) FROM sync_signers WHERE enrolled_by = 'bj.dc' AND revoked_at IS NULL")" 2
check "git: the enrollment is committed" sh -c 'git --git-dir "$1/history.git" log --format=%s | grep -q "^enroll bj.dc.donghuamen$"' - "$district"
run ts -C "$district" enroll --node bj.dc.jingshan --key "$work/key_a.pub" --authorized-keys "$keys"
check "enrolling again replaces the line" is "$(grep -c 'tiersync:bj.dc.jingshan$' "$keys")" 1
run ts -C "$district" enroll --node bj.xc.x --key "$work/key_a.pub" --authorized-keys "$keys"
check "a node outside the district's jurisdiction is refused" exit_is 1
run ts -C "$district" enroll --node bj.dc.x --key "$work/key_rsa.pub" --authorized-keys "$keys"
check "an RSA key is refused (Ed25519 only)" exit_is 1
check "that refusal is one line" stderr_is_one_line

# --- the node's own push and fetch -------------------------------------------------
ts -C "$street_a" case new --category small_ads --source patrol --address "景山前街 4号" >/dev/null
ts -C "$street_a" commit -m "巡查发现小广告" >/dev/null
run ts -C "$street_a" push
check "A's tiersync push through the gate succeeds" exit_is 0
check "git: refs/submissions/bj.dc.jingshan is A's HEAD" \
	is "$(on_git "$district" rev-parse refs/submissions/bj.dc.jingshan)" "$(on_git "$street_a" rev-parse HEAD)"
run ts -C "$street_a" fetch
check "A's tiersync fetch through the gate succeeds" exit_is 0
check "A fetched the district's main" is "$(cat "$work/out")" "$(on_git "$district" rev-parse HEAD)"
ts -C "$street_b" case new --category outside_store --source patrol --address "王府井大街 1号" >/dev/null
ts -C "$street_b" commit -m "店外经营" >/dev/null
run ts -C "$street_b" push
check "B's push succeeds" exit_is 0

# --- stock git with A's key -------------------------------------------------------------
export GIT_SSH_COMMAND="ssh -F /dev/null -i $work/key_a -p $port -o UserKnownHostsFile=$street_a/known_hosts -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o BatchMode=yes"
url="ssh://127.0.0.1:$port$district/history.git"
refs_before=$(on_git "$district" for-each-ref)
a_head=$(on_git "$street_a" rev-parse HEAD)

refs_unchanged() {
	is "$(on_git "$district" for-each-ref)" "$refs_before"
}
push_refused() {
	_what=$1
	shift
	run git --git-dir "$street_a/history.git" push "$@"
	check "git push $_what is refused" sh -c '[ "$1" != 0 ]' - "$rc"
	check "...and the district's refs are unchanged" refs_unchanged
}

push_refused "to B's submission" "$url" "+$a_head:refs/submissions/bj.dc.donghuamen"
push_refused "to refs/heads/main (forced)" "$url" "+$a_head:refs/heads/main"
check "...the refusal names the ref and the rule (remote: ...)" \
	stderr_has "remote: tiersync gate: refused refs/heads/main: bj.dc.jingshan may push only refs/submissions/bj.dc.jingshan"
push_refused "to refs/tags/x" "$url" "+$a_head:refs/tags/x"
push_refused "of two refs, its own among them" "$url" "$a_head:refs/submissions/bj.dc.jingshan" "$a_head:refs/heads/other"
push_refused "deleting its own submission" "$url" ":refs/submissions/bj.dc.jingshan"
check "git: A's submission is still there" \
	is "$(on_git "$district" rev-parse refs/submissions/bj.dc.jingshan)" "$a_head"

run git ls-remote "$url"
check "git ls-remote with A's key works" exit_is 0
check "A sees the district's main" stdout_has "refs/heads/main"
check "A does not see B's submission" sh -c '! grep -q donghuamen "$1"' - "$work/out"
run git clone -q --bare "$url" "$work/a_clone.git"
check "git clone (a fetch) with A's key works" exit_is 0
check "the clone's main is the district's" \
	is "$(git --git-dir "$work/a_clone.git" rev-parse refs/heads/main)" "$(on_git "$district" rev-parse HEAD)"

# --- commands that are not the two git services ----------------------------------------
a_ssh() {
	ssh -F /dev/null -i "$work/key_a" -p "$port" -o "UserKnownHostsFile=$street_a/known_hosts" \
		-o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes \
		-o BatchMode=yes 127.0.0.1 "$1" </dev/null
}
ssh_refused() {
	run a_ssh "$1"
	check "ssh '$2' is refused" sh -c '[ "$1" != 0 ]' - "$rc"
	check "...with the gate's line" stderr_has "tiersync gate:"
	check "...and prints nothing on stdout" is "$(cat "$work/out")" ""
}
ssh_refused "git-receive-pack '../other.git'" "another repository"
ssh_refused "git-upload-pack '$street_b/history.git'" "another node's history"
ssh_refused "sh -c id" "a shell"
ssh_refused "id" "another command"
ssh_refused "" "an interactive login"
ssh_refused "git-upload-pack '$district' extra" "an extra argument"
ssh_refused "git-upload-pack $district" "an unquoted path"
ssh_refused "git-upload-pack '$district';id" "a command after the path"
ssh_refused "git-upload-pack '$district'\$(id)" "\$(...) after the path"
ssh_refused "git-upload-pack '\$(id)'" "\$(...) as the path"
ssh_refused "git-upload-pack '\`id\`'" "backticks"
ssh_refused "git-upload-pack '$district'
id" "a newline"
ssh_refused "git-upload-pack '$district/'\\''x'" "an escaped quote in a path that is not there"
check "no file was created by the tricks" test ! -e "$work/x"
check "...and the district's refs are unchanged" refs_unchanged

# --- a refusal from the pre-receive check reaches tiersync push -----------------------------
# (A's node pushing with B's key: the gate takes it for B, whose only ref it is not)
ts -C "$street_a" remote add as_b "ssh://127.0.0.1:$port$district" --identity "$work/key_b"
run ts -C "$street_a" push as_b
check "tiersync push of a ref the key may not move is refused" exit_is 1
check "...in one line" stderr_is_one_line
check "...naming the ref and the rule" \
	stderr_has "tiersync gate: refused refs/submissions/bj.dc.jingshan: bj.dc.donghuamen may push only refs/submissions/bj.dc.donghuamen"

# --- revocation ----------------------------------------------------------------------------
a_line=$(grep 'tiersync:bj.dc.jingshan$' "$keys")
run ts -C "$district" enroll --revoke bj.dc.jingshan --authorized-keys "$keys"
check "enroll --revoke A" exit_is 0
check "A's line is gone" sh -c '! grep -q "tiersync:bj.dc.jingshan" "$1"' - "$keys"
check "B's line and the host's own line stay" is "$(grep -c 'tiersync:bj.dc.donghuamen$\|^ssh-rsa' "$keys")" 2
refs_before=$(on_git "$district" for-each-ref)   # the revocation is a commit on main
check "sqlite3: A's key is marked revoked" \
	sh -c '[ -n "$(sqlite3 "$1/tiersync.db" "SELECT revoked_at FROM sync_signers WHERE node_id = '"'bj.dc.jingshan'"'")" ]' - "$district"
run ts -C "$district" enroll --list --json
check "enroll --list --json shows the revocation" is "$(json_get "$work/out" '$[1].node')/$(json_get "$work/out" '$[1].revoked_at' | cut -c1-2)" "bj.dc.jingshan/20"
ts -C "$street_a" case new --category signboard --source patrol --address "景山后街 2号" >/dev/null
ts -C "$street_a" commit -m "招牌" >/dev/null
run ts -C "$street_a" push
check "after revocation A cannot push" exit_is 1
run ts -C "$street_a" fetch
check "after revocation A cannot fetch" exit_is 1
run git ls-remote "$url"
check "after revocation stock git with A's key gets nothing" sh -c '[ "$1" != 0 ]' - "$rc"
# a key line left behind (an old copy of authorized_keys) still meets a closed gate
printf '%s\n' "$a_line" >>"$keys"
run ts -C "$street_a" push
check "a stale key line of a revoked node: push refused" exit_is 1
check "...with the gate's reason, in one line" stderr_has "tiersync gate: the key of bj.dc.jingshan was revoked at bj.dc"
run ts -C "$street_a" fetch
check "a stale key line of a revoked node: fetch refused" exit_is 1
check "the district's refs are as before" refs_unchanged

# B enrolled again with a new key, signing-only (it will come by bundle): its
# old line stays in authorized_keys, but names the old key's fingerprint,
# and the gate opens only for the key in force.
ssh-keygen -q -t ed25519 -N '' -C "street b, new" -f "$work/key_b2"
run ts -C "$district" enroll --node bj.dc.donghuamen --key "$work/key_b2.pub" --signing-only
check "B enrolled again, signing-only, with a new key" exit_is 0
check "B's old line is still there" file_has "$keys" "tiersync:bj.dc.donghuamen"
refs_before=$(on_git "$district" for-each-ref)
ts -C "$street_b" case new --category signboard --source patrol --address "东华门大街 3号" >/dev/null
ts -C "$street_b" commit -m "招牌" >/dev/null
run ts -C "$street_b" push
check "B's old key, through its left-over line: push refused" exit_is 1
check "...naming the key and the node, in one line" \
	stderr_has "tiersync gate: the key $(ssh-keygen -lf "$work/key_b.pub" | awk '{ print $2 }') is not the one enrolled for bj.dc.donghuamen at bj.dc"
run ts -C "$street_b" fetch
check "B's old key: fetch refused" exit_is 1
check "the district's refs are as before" refs_unchanged
check "git fsck --strict on the district" fsck_sound "$district"

sshd_stop
check "sshd is stopped" test -z "$sshd_pid"
