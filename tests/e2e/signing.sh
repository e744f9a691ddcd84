#!/bin/sh
# Signed history, judged by stock OpenSSH and git: a city, a district and a
# street (path remotes) record, commit, merge submissions and pull, and every
# commit of every node passes `git verify-commit` with the allowed_signers
# file of the node that made it (and of the node holding it, once that node
# knows the maker's key). The keys are OpenSSH's own format, a key made with
# ssh-keygen can be the node's key, and `tiersync verify` names a commit that
# is unsigned, whose signature no longer matches it, or that another key
# signed.
. "$TS_TOP/tests/e2e/lib.sh"

command -v ssh-keygen >/dev/null || { echo "skipped: ssh-keygen is not installed"; exit 0; }

city=$work/beijing
district=$work/dongcheng
street=$work/jingshan
device=$work/jingshan-pad1

run ts init "$city" --tier city --id bj --author "刘洋"
check "init the city" exit_is 0
run ts init "$district" --tier district --id bj.dc --author "张敏" --upstream "$city"
check "init the district" exit_is 0
run ts init "$street" --tier street --id bj.dc.jingshan --author "赵强" --upstream "$district"
check "init the street" exit_is 0
# each node enrolled at its upper node before anything of it is merged there
enroll "$city" bj.dc "$district/id_ed25519.pub"
# the street comes by path remote, never over SSH: its key is enrolled for
# signing only, and no authorized_keys is written (HOME is the test's own)
mkdir "$work/home"
district_enroll() {
	HOME="$work/home" "$TIERSYNC" -C "$district" enroll "$@"
}
run district_enroll --node bj.dc.jingshan --key "$street/id_ed25519.pub" --signing-only \
	--authorized-keys "$work/home/authorized_keys"
check "enroll --signing-only with --authorized-keys is refused as bad usage" exit_is 2
check "...in one line" stderr_is_one_line
run district_enroll --node bj.dc.jingshan --key "$street/id_ed25519.pub" --signing-only
check "the district enrolls the street --signing-only" exit_is 0
check "...and neither wrote an authorized_keys (HOME is still empty)" is "$(ls -A "$work/home")" ""
check "sqlite3: the street's key is in force in sync_signers, enrolled by the district" \
	is "$(db "$district" "SELECT public_key || ' ' || enrolled_by || ' ' || (revoked_at IS NULL)
		FROM sync_signers WHERE node_id = 'bj.dc.jingshan'")" \
	"$(cut -d' ' -f1-2 "$street/id_ed25519.pub") bj.dc 1"
check "git: the enrollment is a commit of the district" \
	is "$(on_git "$district" log -1 --format=%s)" "enroll bj.dc.jingshan"

# --- keys: OpenSSH's formats --------------------------------------------------
for node in "$city" "$district" "$street"; do
	name=$(basename "$node")
	check "$name: its private key is readable by its owner only" \
		is "$(stat -c %a "$node/id_ed25519")" 600
	check "$name: ssh-keygen derives the public key its .pub holds" \
		is "$(ssh-keygen -y -f "$node/id_ed25519" | cut -d' ' -f1-2)" "$(cut -d' ' -f1-2 "$node/id_ed25519.pub")"
	check "$name: allowed_signers lists its own key" \
		file_has "$node/allowed_signers" "namespaces=\"git\" $(cut -d' ' -f1-2 "$node/id_ed25519.pub")"
done
check "the city's first commit enrolls its own key" \
	is "$(db "$city" "SELECT node_id || ' ' || public_key || ' ' || enrolled_by FROM sync_signers WHERE node_id = 'bj'")" \
	"bj $(cut -d' ' -f1-2 "$city/id_ed25519.pub") bj"
check "the city enrolled the district's key" \
	is "$(db "$city" "SELECT public_key || ' ' || enrolled_by FROM sync_signers WHERE node_id = 'bj.dc'")" \
	"$(cut -d' ' -f1-2 "$district/id_ed25519.pub") bj"
check "a street does not enroll itself" is "$(db "$street" "SELECT count(*) FROM sync_signers WHERE node_id = 'bj.dc.jingshan'")" 0

# --- work up and down the tiers ------------------------------------------------
ts -C "$street" case new --category small_ads --source patrol --address "景山前街 4号" >/dev/null
run ts -C "$street" commit -m "立案"
check "the street commits" exit_is 0
ts -C "$street" push >/dev/null
ts -C "$district" case new --category outdoor_bbq --source complaint --address "东四北大街 8号" >/dev/null
ts -C "$district" commit -m "区级立案" >/dev/null
run ts -C "$district" merge --submissions
check "the district merges the street's submission" exit_is 0
check "the merge made a merge commit" is "$(on_git "$district" rev-list --merges HEAD | wc -l)" 1
ts -C "$district" push >/dev/null
run ts -C "$city" merge --submissions
check "the city merges the district's submission" exit_is 0
run ts -C "$district" pull
check "the district pulls" exit_is 0
run ts -C "$street" pull
check "the street pulls" exit_is 0
ts -C "$street" case new --category outdoor_bbq --source patrol --address "景山后街 12号" >/dev/null
ts -C "$street" commit -m "再立案" >/dev/null

# verified_with NODE COMMIT SIGNERS: stock git accepts COMMIT with SIGNERS
verified_with() {
	on_git "$1" -c gpg.format=ssh -c gpg.ssh.allowedSignersFile="$3" verify-commit "$2"
}

# Every commit each node holds passes git verify-commit with the node's own
# allowed_signers: the city enrolled the district, the district the street,
# and those rows of sync_signers travelled up and down with the merges.
for node in "$city" "$district" "$street"; do
	name=$(basename "$node")
	all=0 bad=0
	for commit in $(on_git "$node" rev-list HEAD); do
		all=$((all + 1))
		maker=$(on_git "$node" log -1 --format=%ce "$commit")
		verified_with "$node" "$commit" "$node/allowed_signers" >/dev/null 2>&1 || {
			bad=$((bad + 1))
			echo "$name: git verify-commit refuses $commit (by $maker)"
		}
	done
	check "$name: all $all commits pass git verify-commit" is "$bad" 0
	run ts -C "$node" verify
	check "$name: tiersync verify passes" exit_is 0
done
check "the street holds commits of all three nodes" \
	is "$(on_git "$street" log --format=%ce HEAD | sort -u | tr '\n' ' ')" "bj bj.dc bj.dc.jingshan "

# --- a key made with ssh-keygen ------------------------------------------------
ssh-keygen -q -t ed25519 -N '' -C pad1 -f "$work/pad1_key"
run ts init "$device" --tier device --id bj.dc.jingshan.pad1 --author "王伟" --upstream "$street" \
	--identity "$work/pad1_key"
check "init a device with a key ssh-keygen made" exit_is 0
check "the device made no key of its own" test ! -e "$device/id_ed25519"
check "the device's allowed_signers lists that key" \
	file_has "$device/allowed_signers" "bj.dc.jingshan.pad1 namespaces=\"git\" $(cut -d' ' -f1-2 "$work/pad1_key.pub")"
check "git verify-commit accepts the device's first commit" \
	verified_with "$device" HEAD "$device/allowed_signers"
ssh-keygen -q -t ed25519 -N secret -f "$work/locked_key"
run ts init "$work/locked" --tier device --id bj.dc.jingshan.pad2 --identity "$work/locked_key"
check "an encrypted key is refused" exit_is 1
check "the refusal says why in one line" stderr_is_one_line
check "the refusal says the key is encrypted" stderr_has "is encrypted: tiersync needs an unencrypted Ed25519 key"
check "the refused init leaves nothing" test ! -e "$work/locked"

# --- an ssh:// upstream logs in with the node's key ------------------------------
run ts init "$work/far" --tier street --id bj.dc.far --upstream "ssh://127.0.0.1:9/nowhere"
check "init with an ssh:// upstream" exit_is 0
run ts -C "$work/far" remote list --json
check "its key is the upstream's identity" is "$(json_get "$work/out" '$[0].identity')" "$work/far/id_ed25519"

# --- commits altered behind the node's back ---------------------------------------
# strip_signature: the commit on stdin without its gpgsig header
strip_signature() {
	awk 'body == 0 && /^$/ { body = 1 }
	     body == 0 && /^gpgsig / { sig = 1; next }
	     body == 0 && sig && /^ / { next }
	     { sig = 0; print }'
}
# with_signature PAYLOAD SIG: the payload with SIG as its gpgsig header, as git places it
with_signature() {
	sed '/^$/,$d' "$1"
	sed -e '1s/^/gpgsig /' -e '2,$s/^/ /' "$2"
	sed -n '/^$/,$p' "$1"
}
# replace_head NODE FILE: FILE becomes the node's head commit (ref and database)
replace_head() {
	_id=$(on_git "$1" hash-object -t commit -w "$2")
	on_git "$1" update-ref refs/heads/main "$_id"
	db "$1" "UPDATE ts_meta SET value = '$_id' WHERE key = 'head'"
	printf '%s\n' "$_id"
}
fresh_copy() {
	rm -rf "$work/copy"
	cp -a "$street" "$work/copy"
	printf '%s\n' "$work/copy"
}
ssh-keygen -q -t ed25519 -N '' -C stranger -f "$work/stranger_key"

# re-signed with another key after its message was changed
node=$(fresh_copy)
on_git "$node" cat-file commit HEAD | strip_signature | sed 's/再立案/再立案（改）/' >"$work/payload"
ssh-keygen -Y sign -n git -f "$work/stranger_key" "$work/payload" >/dev/null 2>&1
with_signature "$work/payload" "$work/payload.sig" >"$work/commit"
forged=$(replace_head "$node" "$work/commit")
run ts -C "$node" verify
check "a commit re-signed with another key: verify exits 1" exit_is 1
check "... naming the commit" stdout_has "history $forged: signed by a key not enrolled for bj.dc.jingshan"
check "... and stock git refuses it too" \
	sh -c '! git --git-dir "$1/history.git" -c gpg.format=ssh -c gpg.ssh.allowedSignersFile="$1/allowed_signers" verify-commit HEAD 2>/dev/null' - "$node"

# changed, its old signature kept
node=$(fresh_copy)
on_git "$node" cat-file commit HEAD | sed 's/再立案/再立案（改）/' >"$work/commit"
altered=$(replace_head "$node" "$work/commit")
run ts -C "$node" verify
check "a commit changed under its signature: verify exits 1" exit_is 1
check "... naming the commit" stdout_has "history $altered: signature does not match"

# unsigned
node=$(fresh_copy)
on_git "$node" cat-file commit HEAD | strip_signature >"$work/commit"
unsigned=$(replace_head "$node" "$work/commit")
run ts -C "$node" verify
check "an unsigned commit: verify exits 1" exit_is 1
check "... naming the commit" stdout_has "history $unsigned: unsigned commit"

# --- revoking a signing-only enrollment --------------------------------------------
# a line the district once wrote for the street over SSH stays through a
# signing-only revocation, which marks the row alone; a plain revoke removes it
run district_enroll --node bj.dc.jingshan --key "$street/id_ed25519.pub"
check "the district enrolls the street for SSH as well" exit_is 0
keys=$work/home/.ssh/authorized_keys
cp "$keys" "$work/authorized_keys.before"
run district_enroll --revoke bj.dc.jingshan --signing-only
check "enroll --revoke --signing-only" exit_is 0
check "...leaves authorized_keys byte for byte" cmp "$work/authorized_keys.before" "$keys"
check "sqlite3: ...and the street's key is revoked" \
	is "$(db "$district" "SELECT revoked_at IS NOT NULL FROM sync_signers WHERE node_id = 'bj.dc.jingshan'")" 1
run district_enroll --revoke bj.dc.jingshan
check "a plain revoke then removes the street's line" is "$(grep -c 'tiersync:bj.dc.jingshan$' "$keys")" 0
