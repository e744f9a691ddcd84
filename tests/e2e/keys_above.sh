#!/bin/sh
# Keys from above: what a pull takes of the keys its offer records.
#
# A street pulls from a district. The keys it checks the offer's commits
# with are its own records first; the offer's records count only where a
# commit the street can trust wrote them (a node strictly above the node
# enrolled, signed with the key the street holds for that node). Judged
# here with stock git and sqlite3:
#   - an upper node that rewrites the keys of the city and the district in
#     a commit crafted with stock git, and signs with a key of its own, is
#     refused whole: nothing moves at the street;
#   - another deployment's upper node, same node ids, keys of its own, is
#     refused whole;
#   - a street enrolled anew by the district (its device replaced) is taken:
#     the new device pulls the history the old key signed, and the other
#     street takes the new key's commits; stock git verifies both;
#   - a street that enrolled its device before the district enrolled it
#     (an older commit, on its own branch of history) has that device
#     taken at the other street all the same.
. "$TS_TOP/tests/e2e/lib.sh"

command -v ssh-keygen >/dev/null || { echo "skipped: ssh-keygen is not installed"; exit 0; }

city=$work/bj
district=$work/dc
js=$work/js
jx=$work/jx

ts init "$city" --tier city --id bj --author "刘洋" >/dev/null
ts init "$district" --tier district --id bj.dc --author "张敏" --upstream "$city" >/dev/null
ts init "$js" --tier street --id bj.dc.js --author "赵强" --upstream "$district" >/dev/null
ts init "$jx" --tier street --id bj.dc.jx --author "钱进" --upstream "$district" >/dev/null
enroll "$city" bj.dc "$district/id_ed25519.pub"
ts -C "$district" pull >/dev/null
enroll "$district" bj.dc.js "$js/id_ed25519.pub"
enroll "$district" bj.dc.jx "$jx/id_ed25519.pub"

# one round of work up and down
for street in "$js" "$jx"; do
	ts -C "$street" pull >/dev/null
	ts -C "$street" case new --category small_ads --source patrol --address "景山前街 $(basename "$street")" >/dev/null
	ts -C "$street" commit -m "立案" >/dev/null
	ts -C "$street" push >/dev/null
done
run ts -C "$district" merge --submissions
check "the district merges both streets" exit_is 0
run ts -C "$js" pull
check "the street js pulls the district's merges" exit_is 0
check "sqlite3: js holds the keys of the city, the district and jx" \
	is "$(db "$js" "SELECT group_concat(node_id, ' ') FROM (SELECT node_id FROM sync_signers ORDER BY node_id)")" \
	"bj bj.dc bj.dc.js bj.dc.jx"

# pulled_nothing LABEL REMOTE WHY: a pull from REMOTE is refused in one
# line that says WHY, and js is exactly as before
pulled_nothing() {
	forbidden "$1" "$3" "$js" ts -C "$js" pull "$2"
	run ts -C "$js" verify
	check "$1: js's verify passes" exit_is 0
}

# js_pulls LABEL ID PUBFILE ADDRESS: js pulls the district's main and then
# holds node ID's key as in PUBFILE, and the case at ADDRESS that ID made
js_pulls() {
	run ts -C "$js" pull
	check "$1: js pulls" exit_is 0
	check "$1: sqlite3: js holds the key of $2" \
		is "$(db "$js" "SELECT public_key FROM sync_signers WHERE node_id = '$2'")" "$(cut -d' ' -f1-2 "$3")"
	check "$1: sqlite3: js holds the case $2 made" \
		is "$(db "$js" "SELECT count(*) FROM cases WHERE address = '$4'")" 1
}

# --- an upper node rewrites the keys above it --------------------------------
# A copy of the district, on whose history a commit crafted with stock git
# puts the stranger's key in the records of the city and the district,
# signed with it as the city's; then a case written as the district's.
ssh-keygen -q -t ed25519 -N '' -C stranger -f "$work/stranger"
stranger_pub=$(cut -d' ' -f1-2 "$work/stranger.pub")
evil=$work/evil
cp -a "$district" "$evil"
idx=$work/evil.index
GIT_INDEX_FILE=$idx on_git "$evil" read-tree main
for id in bj bj.dc; do
	path=$(on_git "$evil" ls-tree -r --name-only main -- sync_signers | grep "/$id\$")
	blob=$(on_git "$evil" cat-file blob "main:$path" |
		sed "s|^public_key .*|public_key \"$stranger_pub\"|" | on_git "$evil" hash-object -w --stdin)
	GIT_INDEX_FILE=$idx on_git "$evil" update-index --cacheinfo "100644,$blob,$path"
done
tree=$(GIT_INDEX_FILE=$idx on_git "$evil" write-tree)
signed_commit() {   # signed_commit COMMITTER TREE PARENT MESSAGE
	GIT_AUTHOR_NAME=$1 GIT_AUTHOR_EMAIL=$1 GIT_COMMITTER_NAME=$1 GIT_COMMITTER_EMAIL=$1 \
		on_git "$evil" -c gpg.format=ssh -c user.signingkey="$work/stranger" \
		commit-tree -S "$2" -p "$3" -m "$4"
}
keys_commit=$(signed_commit bj "$tree" "$(on_git "$evil" rev-parse main)" "enroll bj.dc")
check "stock git made the crafted commit, signed" \
	sh -c "git --git-dir '$evil/history.git' cat-file commit '$keys_commit' | grep -q '^gpgsig '"
path=$(on_git "$evil" ls-tree -r --name-only main -- cases | head -n 1)
blob=$(on_git "$evil" cat-file blob "main:$path" | sed 's|^address .*|address "伪造 1号"|' |
	on_git "$evil" hash-object -w --stdin)
GIT_INDEX_FILE=$idx on_git "$evil" update-index --cacheinfo "100644,$blob,$path"
tree=$(GIT_INDEX_FILE=$idx on_git "$evil" write-tree)
case_commit=$(signed_commit bj.dc "$tree" "$keys_commit" "立案")
on_git "$evil" update-ref refs/heads/main "$case_commit"
ts -C "$js" remote add evil "$evil" >/dev/null
pulled_nothing "keys rewritten above" evil \
	"commit $(echo "$keys_commit" | cut -c1-12) is signed by a key not enrolled for bj"

# --- another deployment, same ids --------------------------------------------
ts init "$work/bj2" --tier city --id bj --author "孙城" >/dev/null
ts init "$work/dc2" --tier district --id bj.dc --upstream "$work/bj2" --author "钱区" >/dev/null
enroll "$work/bj2" bj.dc "$work/dc2/id_ed25519.pub"
ts -C "$work/dc2" pull >/dev/null
ts -C "$work/dc2" case new --category outdoor_bbq --source patrol --address "别处 2号" >/dev/null
ts -C "$work/dc2" commit -m "立案" >/dev/null
ts -C "$js" remote add other "$work/dc2" >/dev/null
pulled_nothing "another deployment" other "is signed by a key not enrolled for bj"

# --- a street enrolled anew ----------------------------------------------------
# jx's device is replaced: a new node with the same id and a key of its own,
# enrolled anew by the district; it pulls, works and sends up.
jx2=$work/jx2
ts init "$jx2" --tier street --id bj.dc.jx --author "钱进" --upstream "$district" >/dev/null
enroll "$district" bj.dc.jx "$jx2/id_ed25519.pub"
run ts -C "$jx2" pull
check "the new device pulls the district's history, the old key's commits in it" exit_is 0
ts -C "$jx2" case new --category outdoor_bbq --source patrol --address "交道口 9号" >/dev/null
ts -C "$jx2" commit -m "新设备立案" >/dev/null
ts -C "$jx2" push >/dev/null
run ts -C "$district" merge --submissions
check "the district merges the new device's work" exit_is 0
js_pulls "jx enrolled anew" bj.dc.jx "$jx2/id_ed25519.pub" "交道口 9号"
check "git verify-commit at js accepts jx's new commit" \
	on_git "$js" -c gpg.format=ssh -c gpg.ssh.allowedSignersFile="$js/allowed_signers" verify-commit \
	"$(on_git "$js" log --format=%H --committer=bj.dc.jx -1)"
run ts -C "$district" enroll --list
check "enroll --list at the district says jx is enrolled, one earlier key retired" \
	grep -q "^bj.dc.jx  *enrolled  by bj.dc at [^,]*, 1 earlier key retired\$" "$work/out"
run ts -C "$district" enroll --list --json
check "enroll --list --json lists jx's retired key" \
	is "$(sqlite3 :memory: "SELECT json_extract(value, '\$.retired_keys[0].key') FROM json_each(readfile('$work/out'))
		WHERE json_extract(value, '\$.node') = 'bj.dc.jx'")" "$(cut -d' ' -f1-2 "$jx/id_ed25519.pub")"
run ts -C "$js" verify
check "js's verify passes" exit_is 0
check "the replaced device's pull took the old key's commits (it verifies)" sh -c "'$TIERSYNC' -C '$jx2' verify >/dev/null"
run ts -C "$district" verify
check "the district's verify passes, the old key's commits with it" exit_is 0
check "sqlite3: the district keeps jx's old key as retired, until the new enrolment" \
	is "$(db "$district" "SELECT json_extract(retired_keys, '\$[0].key') = '$(cut -d' ' -f1-2 "$jx/id_ed25519.pub")'
		AND json_extract(retired_keys, '\$[0].until') = enrolled_at FROM sync_signers WHERE node_id = 'bj.dc.jx'")" 1

# --- a device enrolled before its street was -----------------------------------
# The street jc enrolls its device first (a commit on jc's own root), and
# only then does the district enroll jc: in the district's history the
# device's enrolment is not after the street's.
jc=$work/jc
pad=$work/jc-pad
ts init "$jc" --tier street --id bj.dc.jc --author "孙街" --upstream "$district" >/dev/null
ts init "$pad" --tier device --id bj.dc.jc.pad1 --author "周队" --upstream "$jc" >/dev/null
enroll "$jc" bj.dc.jc.pad1 "$pad/id_ed25519.pub"
enroll "$district" bj.dc.jc "$jc/id_ed25519.pub"
ts -C "$pad" case new --category small_ads --source patrol --address "东直门 3号" >/dev/null
ts -C "$pad" commit -m "队员立案" >/dev/null
ts -C "$pad" push >/dev/null
ts -C "$jc" merge --submissions >/dev/null
ts -C "$jc" push >/dev/null
run ts -C "$district" merge --submissions
check "the district merges jc with its device's case" exit_is 0
check "git: in the district's history jc's enrolment of the device is not after the district's of jc" \
	sh -c "! git --git-dir '$district/history.git' merge-base --is-ancestor \
		\$(git --git-dir '$district/history.git' log --format=%H -1 --grep='^enroll bj.dc.jc\$') \
		\$(git --git-dir '$district/history.git' log --format=%H -1 --grep='^enroll bj.dc.jc.pad1\$')"
js_pulls "the device of jc" bj.dc.jc.pad1 "$pad/id_ed25519.pub" "东直门 3号"
run ts -C "$js" verify
check "js's verify passes" exit_is 0
fsck_clean "$js"
