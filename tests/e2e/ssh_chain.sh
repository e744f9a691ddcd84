#!/bin/sh
# The whole chain over a real SSH server, as the offices would run it: a
# device syncs with its street office by plain path; the street syncs with
# its district, and the district with the city, over ssh:// to one OpenSSH
# server on 127.0.0.1 that serves both upper histories (stock
# git-upload-pack and git-receive-pack behind it). Each SSH node trusts the
# server's host key once, after comparing its fingerprint with the one
# ssh-keygen gives; a case a device records reaches the city, something the
# city records reaches every device, and every node ends with the same tree.
# A changed host key and a key the server does not accept are refused with
# one clear line and change nothing.
. "$TS_TOP/tests/e2e/lib.sh"
. "$TS_TOP/tests/e2e/lib_sshd.inc"

sshd_skip_unless_installed
began_all=$(date +%s)
sshd_setup
ssh-keygen -q -t ed25519 -N '' -C "bj.dc" -f "$work/district_key"
ssh-keygen -q -t ed25519 -N '' -C "bj.dc.jingshan" -f "$work/street_key"
ssh-keygen -q -t ed25519 -N '' -C "stranger" -f "$work/stranger_key"
sshd_authorize "$work/district_key.pub"
sshd_authorize "$work/street_key.pub"
check "sshd starts on 127.0.0.1" sshd_start
port=$sshd_port
me=$(id -un)

# the fingerprint the server's own tools give, as an independent judge
host_print=$(ssh-keygen -lf "$sshd_dir/host_key.pub" | awk '{ print $2 }')

# fingerprint_shown: the SHA256: fingerprint the last `run` printed on stderr
fingerprint_shown() {
	grep -o 'SHA256:[A-Za-z0-9+/]*' "$work/err" | head -n 1
}

# head_of NODE, staged_of NODE: what "nothing changed" compares
head_of() {
	on_git "$1" rev-parse HEAD
}
staged_of() {
	db "$1" 'SELECT count(*) FROM ts_staged'
}

city=$work/beijing
district=$work/dongcheng
street=$work/jingshan
device=$work/jingshan-pad1
city_url="ssh://$me@127.0.0.1:$port$city/history.git"
district_url="ssh://$me@127.0.0.1:$port$district/history.git"

run ts init "$city" --tier city --id bj --author "刘洋"
check "init the city" exit_is 0
run ts init "$district" --tier district --id bj.dc --author "张敏" \
	--upstream "$city_url" --identity "$work/district_key"
check "init the district with an ssh:// upstream and its key" exit_is 0
run ts init "$street" --tier street --id bj.dc.jingshan --author "赵强" \
	--upstream "$district_url" --identity "$work/street_key"
check "init the street with an ssh:// upstream and its key" exit_is 0
run ts init "$device" --tier device --id bj.dc.jingshan.pad1 --author "王伟" --upstream "$street"
check "init the device with the street as a plain path" exit_is 0
# each node enrolled at its upper node (sync_signers) before anything of it
# is merged there; the logins stay plain here (the gate has gate.sh), so the
# authorized_keys lines enrollment writes go to a file sshd does not read
enroll "$city" bj.dc "$work/district_key.pub"
enroll "$district" bj.dc.jingshan "$work/street_key.pub"
enroll "$street" bj.dc.jingshan.pad1 "$device/id_ed25519.pub"

run ts -C "$district" remote list --json
check "the district records the city's URL" is "$(json_get "$work/out" '$[0].url')" "$city_url"
check "the district records its key file" is "$(json_get "$work/out" '$[0].identity')" "$work/district_key"
run ts -C "$street" remote list --json
check "the street records the district's URL" is "$(json_get "$work/out" '$[0].url')" "$district_url"
check "the street records its key file" is "$(json_get "$work/out" '$[0].identity')" "$work/street_key"

# --- host keys: unknown until trusted -------------------------------------------
street_head0=$(head_of "$street")
run ts -C "$street" push
check "street: the first push to an unknown host is refused" exit_is 1
check "street: the refusal is one line" stderr_is_one_line
check "street: the refusal shows the fingerprint ssh-keygen -lf gives" is "$(fingerprint_shown)" "$host_print"
check "street: nothing reached the district" \
	sh -c '! git --git-dir "$1/history.git" rev-parse -q --verify refs/submissions/bj.dc.jingshan' - "$district"
check "street: the refusal wrote no known_hosts" test ! -e "$street/known_hosts"
check "street: HEAD unchanged by the refusal" is "$(head_of "$street")" "$street_head0"
run ts -C "$street" remote trust upstream --expect "$host_print"
check "street: remote trust --expect with the right fingerprint" exit_is 0
check "street: ssh-keygen finds the host in the street's known_hosts" \
	sh -c 'ssh-keygen -F "[127.0.0.1]:$2" -f "$1/known_hosts" | grep -q ssh-ed25519' - "$street" "$port"

run ts -C "$district" push
check "district: the first push to an unknown host is refused" exit_is 1
check "district: the refusal is one line" stderr_is_one_line
check "district: the refusal shows the fingerprint ssh-keygen -lf gives" is "$(fingerprint_shown)" "$host_print"
check "district: nothing reached the city" \
	sh -c '! git --git-dir "$1/history.git" rev-parse -q --verify refs/submissions/bj.dc' - "$city"
check "district: the refusal wrote no known_hosts" test ! -e "$district/known_hosts"
run ts -C "$district" remote trust upstream --expect "$host_print"
check "district: remote trust --expect with the right fingerprint" exit_is 0
check "district: ssh-keygen finds the host in the district's known_hosts" \
	sh -c 'ssh-keygen -F "[127.0.0.1]:$2" -f "$1/known_hosts" | grep -q ssh-ed25519' - "$district" "$port"

# --- up: device -> street -> district -> city ----------------------------------------
case_id=$(ts -C "$device" case new --category small_ads --source patrol \
	--address "景山前街 4号" --author "王伟")
run ts -C "$device" commit -m "巡查发现小广告" --author "王伟"
check "device: the case is committed" exit_is 0
run ts -C "$device" sync
check "device: sync with the street (path)" exit_is 0

run ts -C "$street" merge --submissions
check "street: merges the device's submission" exit_is 0
check "street: ...and says whose" stdout_has "bj.dc.jingshan.pad1"
run ts -C "$street" sync
check "street: sync with the district over ssh" exit_is 0
check "street: the district holds the street's HEAD as its submission" \
	is "$(on_git "$district" rev-parse refs/submissions/bj.dc.jingshan 2>&1)" "$(head_of "$street")"

run ts -C "$district" merge --submissions
check "district: merges the street's submission" exit_is 0
check "district: ...and says whose" stdout_has "bj.dc.jingshan"
run ts -C "$district" sync
check "district: sync with the city over ssh" exit_is 0
check "district: the city holds the district's HEAD as its submission" \
	is "$(on_git "$city" rev-parse refs/submissions/bj.dc 2>&1)" "$(head_of "$district")"

run ts -C "$city" merge --submissions
check "city: merges the district's submission" exit_is 0
# sshd's own log: each node logged in with its own key, so the data went over SSH
for who in district street; do
	print=$(ssh-keygen -lf "$work/${who}_key.pub" | awk '{ print $2 }')
	check "sshd's log: the $who's key logged in" \
		sh -c 'grep "Accepted publickey for $2 from 127.0.0.1" "$1" | grep -qF "$3"' - "$sshd_dir/log" "$me" "$print"
done
check "city: ...and says whose" stdout_has "bj.dc"
check "sqlite3: the city has the device's case" \
	is "$(db "$city" "SELECT count(*) FROM cases WHERE id = '$case_id'")" 1
check "sqlite3: the city's case was created by the device" \
	is "$(db "$city" "SELECT created_by_node FROM cases WHERE id = '$case_id'")" bj.dc.jingshan.pad1
check "sqlite3: the city's case has the device's address" \
	is "$(db "$city" "SELECT address FROM cases WHERE id = '$case_id'")" "景山前街 4号"
check "git log on the city names the device's officer" \
	sh -c 'git --git-dir "$1/history.git" log --format=%an | grep -qx "王伟"' - "$city"

# --- down: city -> district -> street -> device --------------------------------------
run ts -C "$city" case dispatch "$case_id" --officer "李娜" --author "刘洋"
check "city: dispatches the case" exit_is 0
city_case=$(ts -C "$city" case new --category outside_store --source supervision \
	--address "东四北大街 1号" --author "刘洋")
run ts -C "$city" commit -m "市级督办"
check "city: commits" exit_is 0
city_tree=$(on_git "$city" rev-parse 'HEAD^{tree}')

run ts -C "$district" pull
check "district: pull from the city over ssh" exit_is 0
run ts -C "$street" pull
check "street: pull from the district over ssh" exit_is 0
run ts -C "$device" pull
check "device: pull from the street (path)" exit_is 0

for n in "$city" "$district" "$street" "$device"; do
	name=$(basename "$n")
	check "$name: HEAD^{tree} is the city's" is "$(on_git "$n" rev-parse 'HEAD^{tree}')" "$city_tree"
	check "$name: the case is dispatched to the city's officer" \
		is "$(db "$n" "SELECT officer FROM cases WHERE id = '$case_id'")" "李娜"
	check "$name: the city's new case is here" \
		is "$(db "$n" "SELECT count(*) FROM cases WHERE id = '$city_case'")" 1
	run ts -C "$n" verify
	check "$name: verify" exit_is 0
	check "$name: git fsck --strict is clean" fsck_clean "$n"
done

# --- the server's host key changes ------------------------------------------------------
# the street has work staged that the refused sync must leave staged
ts -C "$street" case new --category signboard --source patrol --address "景山后街 2号" \
	--author "赵强" >/dev/null
street_head=$(head_of "$street")
street_staged=$(staged_of "$street")
district_sub=$(on_git "$district" rev-parse refs/submissions/bj.dc.jingshan)
check "the street has a staged write before the key change" test "$street_staged" -gt 0
sshd_stop
sshd_new_host_key
check "sshd restarts with a new host key on the same port" sshd_start
new_print=$(ssh-keygen -lf "$sshd_dir/host_key.pub" | awk '{ print $2 }')
began=$(date +%s)
run ts -C "$street" sync
check "street: sync with a changed host key is refused" exit_is 1
check "street: the refusal is one line" stderr_is_one_line
check "street: the refusal names the remote" stderr_has "remote upstream:"
check "street: the refusal says the host key changed" stderr_has "HAS CHANGED"
check "street: the refusal shows the new fingerprint" is "$(fingerprint_shown)" "$new_print"
check "street: the refusal is not retried as a network failure (under 3 s)" \
	test $(($(date +%s) - began)) -lt 3
check "street: HEAD unchanged" is "$(head_of "$street")" "$street_head"
check "street: staged count unchanged" is "$(staged_of "$street")" "$street_staged"
check "street: known_hosts still holds only the old key" \
	sh -c 'ssh-keygen -F "[127.0.0.1]:$2" -f "$1/known_hosts" | grep -c ssh-ed25519 | grep -qx 1 &&
		! ssh-keygen -F "[127.0.0.1]:$2" -f "$1/known_hosts" | grep -qF "$3"' \
		- "$street" "$port" "$(awk '{ print $2 }' "$sshd_dir/host_key.pub")"
check "the district's submission from the street is unchanged" \
	is "$(on_git "$district" rev-parse refs/submissions/bj.dc.jingshan)" "$district_sub"
run ts -C "$district" sync
check "district: sync with the changed host key is refused too" exit_is 1
check "district: that refusal is one line" stderr_is_one_line

# confirmed with the server's administrator: the street takes the new key
run ts -C "$street" remote trust upstream --replace --expect "$new_print"
check "street: remote trust --replace takes the confirmed new key" exit_is 0

# --- a key the server does not accept ---------------------------------------------------
ts -C "$street" remote remove upstream >/dev/null
run ts -C "$street" remote add upstream "$district_url" --identity "$work/stranger_key"
check "street: upstream reconfigured with a key the server does not know" exit_is 0
street_head=$(head_of "$street")
street_staged=$(staged_of "$street")
began=$(date +%s)
run ts -C "$street" sync
check "street: sync with an unauthorized key is refused" exit_is 1
check "street: the refusal is one line" stderr_is_one_line
check "street: the refusal names the remote" stderr_has "remote upstream"
check "street: the refusal says the key was refused, naming it" \
	stderr_has "the upper node refused this node's key ($work/stranger_key)"
check "street: the refusal is not retried as a network failure (under 3 s)" \
	test $(($(date +%s) - began)) -lt 3
check "street: HEAD unchanged by the key refusal" is "$(head_of "$street")" "$street_head"
check "street: staged count unchanged by the key refusal" is "$(staged_of "$street")" "$street_staged"
check "the district's submission from the street is still unchanged" \
	is "$(on_git "$district" rev-parse refs/submissions/bj.dc.jingshan)" "$district_sub"

last_sshd=$sshd_pid
sshd_stop
check "sshd is stopped, by its PID" sh -c '! kill -0 "$1" 2>/dev/null' - "$last_sshd"
check "the whole chain ran in under 60 s" test $(($(date +%s) - began_all)) -lt 60
