#!/bin/sh
# A hostile street office behind the gate: stock OpenSSH on 127.0.0.1, a
# district enrolls two streets, each street's upstream is the district over
# ssh://. Street A crafts commits with stock git (B's case deleted, a gitlink
# at a row path, an unknown path, an unsigned commit), makes each its main
# and pushes it with tiersync (as its changes, through the exchange: the
# gitlink cannot be sent at all), and pushes them with stock git through the
# same gate; so too an urgent commit pushed as B's (refs/urgent/bj.dc.b) and
# one that changes a case along with its report. The gate runs admission before the ref moves: the
# push prints the refusal line, the district's refs/submissions/bj.dc.a
# stays where it was, no other ref, object or row of the district moves,
# and street B pulls nothing new.
. "$TS_TOP/tests/e2e/lib.sh"
. "$TS_TOP/tests/e2e/lib_sshd.inc"

sshd_skip_unless_installed
command -v ssh-keygen >/dev/null || { echo "skipped: ssh-keygen is not installed"; exit 0; }
sshd_setup
check "sshd starts on 127.0.0.1" sshd_start
port=$sshd_port
keys=$sshd_dir/authorized_keys

dc=$work/dongcheng
a=$work/street_a
b=$work/street_b
url="ssh://127.0.0.1:$port$dc/history.git"

ts init "$dc" --tier district --id bj.dc --author "张敏" >/dev/null
ts init "$a" --tier street --id bj.dc.a --author "王伟" --upstream "$url" >/dev/null
ts init "$b" --tier street --id bj.dc.b --author "赵强" --upstream "$url" >/dev/null
ts -C "$a" remote trust >/dev/null
ts -C "$b" remote trust >/dev/null
run ts -C "$dc" enroll --node bj.dc.a --key "$a/id_ed25519.pub" --authorized-keys "$keys"
check "the district enrolls street A's key" exit_is 0
run ts -C "$dc" enroll --node bj.dc.b --key "$b/id_ed25519.pub" --authorized-keys "$keys"
check "the district enrolls street B's key" exit_is 0

# a case of each street, up through the gate and down again
case_b=$(ts -C "$b" case new --category small_ads --source patrol --address "王府井大街 1号")
ts -C "$b" commit -m "巡查发现小广告" >/dev/null
run ts -C "$b" push
check "B pushes through the gate" exit_is 0
case_a=$(ts -C "$a" case new --category outdoor_bbq --source patrol --address "景山后街 2号")
ts -C "$a" commit -m "露天烧烤" >/dev/null
run ts -C "$a" push
check "A pushes through the gate" exit_is 0
run ts -C "$dc" merge --submissions
check "the district merges both submissions" exit_is 0
run ts -C "$a" pull
check "A pulls through the gate" exit_is 0
run ts -C "$b" pull
check "B pulls through the gate" exit_is 0
base=$(on_git "$dc" rev-parse refs/heads/main)
check "all three nodes hold the same head" \
	is "$(on_git "$a" rev-parse HEAD) $(on_git "$b" rev-parse HEAD)" "$base $base"
run ts -C "$a" push
check "A's submission is the shared head" is "$(on_git "$dc" rev-parse refs/submissions/bj.dc.a)" "$base"

p_case_a=$(on_git "$a" ls-tree -r --name-only "$base" | grep -x "cases/././././$case_a")
p_case_b=$(on_git "$a" ls-tree -r --name-only "$base" | grep -x "cases/././././$case_b")
check "the shared head holds both cases" test -n "$p_case_a" -a -n "$p_case_b"

# --- crafting with stock git in A's history ---------------------------------------
mkdir -p "$work/empty"
ga() {
	GIT_INDEX_FILE=$work/index git --git-dir "$a/history.git" --work-tree "$work/empty" "$@"
}
edit() { rm -f "$work/index"; ga read-tree "$base"; }
forge() { # forge TREE: a commit on the shared head, made and signed as A's commits are
	_date="$(date +%s) +0800"
	GIT_AUTHOR_NAME="王伟" GIT_AUTHOR_EMAIL=bj.dc.a GIT_AUTHOR_DATE=$_date \
		GIT_COMMITTER_NAME=bj.dc.a GIT_COMMITTER_EMAIL=bj.dc.a GIT_COMMITTER_DATE=$_date \
		ga -c gpg.format=ssh -c user.signingkey="$a/id_ed25519" commit-tree -S -p "$base" -m "巡查" "$1"
}
edit
ga update-index --force-remove "$p_case_b"
deleted=$(forge "$(ga write-tree)")
edit
ga update-index --add --replace --cacheinfo "160000,$base,$p_case_a"
gitlink=$(forge "$(ga write-tree)")
edit
ga update-index --add --replace --cacheinfo "100644,$(printf 'x\n' | ga hash-object -w --stdin),_tiersync/evil"
evil=$(forge "$(ga write-tree)")
# a change A may make, in a commit without a signature
edit
ga update-index --add --replace --cacheinfo \
	"100644,$(ga cat-file blob "$base:$p_case_a" | sed 's/^description null$/description "x"/' | ga hash-object -w --stdin),$p_case_a"
_date="$(date +%s) +0800"
unsigned=$(GIT_AUTHOR_NAME="王伟" GIT_AUTHOR_EMAIL=bj.dc.a GIT_AUTHOR_DATE=$_date \
	GIT_COMMITTER_NAME=bj.dc.a GIT_COMMITTER_EMAIL=bj.dc.a GIT_COMMITTER_DATE=$_date \
	ga commit-tree -p "$base" -m "巡查" "$(ga write-tree)")

# make_main NODE COMMIT: COMMIT becomes the node's main (ref and recorded
# head), as if the node had written it
make_main() {
	on_git "$1" update-ref refs/heads/main "$2"
	db "$1" "UPDATE ts_meta SET value = '$2' WHERE key = 'head'"
}

dump_hash() { db "$1" .dump | sha256sum; }
dc_refs=$(on_git "$dc" for-each-ref)
dc_dump=$(dump_hash "$dc")
b_dump=$(dump_hash "$b")

# gate_refused WHAT COMMIT RULE [WHO]: what the last push printed and left;
# WHO says who refused ("tiersync gate: " unless given)
gate_refused() {
	printf '%s: %s\n' "$1" "$(cat "$work/err")"
	check "$1: the push exits 1" exit_is 1
	check "$1: ...with the refusal of ${4:-the gate}" stderr_has "${4:-tiersync gate: }"
	check "$1: ...naming the commit and the rule" stderr_has "$(printf %.12s "$2")"
	check "$1: ...and the rule ($3)" stderr_has "$3"
	check "$1: git: the district's refs/submissions/bj.dc.a has not moved" \
		is "$(on_git "$dc" rev-parse refs/submissions/bj.dc.a)" "$base"
	check "$1: git: no ref of the district moved" is "$(on_git "$dc" for-each-ref)" "$dc_refs"
	check "$1: git: the district does not hold the offered commit" \
		sh -c '! git --git-dir "$1/history.git" cat-file -e "$2" 2>/dev/null' - "$dc" "$2"
	check "$1: sqlite3: the district's database is unchanged" is "$(dump_hash "$dc")" "$dc_dump"
	run ts -C "$dc" verify
	check "$1: the district verifies" exit_is 0
	run ts -C "$b" pull
	check "$1: street B pulls" exit_is 0
	check "$1: sqlite3: street B's database is unchanged" is "$(dump_hash "$b")" "$b_dump"
}

# --- tiersync push of a crafted main --------------------------------------------------
make_main "$a" "$deleted"
run ts -C "$a" push
check "B's case deleted: the push is one line" stderr_is_one_line
gate_refused "B's case deleted (tiersync push)" "$deleted" \
	"bj.dc.a may not delete cases row $case_b: it belongs to bj.dc.b, outside the jurisdiction of bj.dc.a"

# tiersync push sends each commit as its changes (the exchange): a gitlink
# cannot even be written as one, and the street refuses to send it
make_main "$a" "$gitlink"
run ts -C "$a" push
check "a gitlink at a row path: the push is one line" stderr_is_one_line
gate_refused "a gitlink at a row path (tiersync push)" "$gitlink" \
	"$p_case_a: mode 160000: only regular files and trees are taken" "cannot be sent"

# the rest travel as changes, are rebuilt at the district to the same ids,
# and its admission refuses them there
make_main "$a" "$evil"
run ts -C "$a" push
check "an unknown _tiersync/ path: the push is one line" stderr_is_one_line
gate_refused "an unknown _tiersync/ path (tiersync push)" "$evil" "_tiersync/evil: not a path of the engine"
make_main "$a" "$unsigned"
run ts -C "$a" push
gate_refused "an unsigned commit (tiersync push)" "$unsigned" "is unsigned"
make_main "$a" "$base"

# --- stock git push through the same gate ---------------------------------------------------
export GIT_SSH_COMMAND="ssh -F /dev/null -i $a/id_ed25519 -p $port -o UserKnownHostsFile=$a/known_hosts -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o BatchMode=yes"
run git --git-dir "$a/history.git" push "$url" "+$evil:refs/submissions/bj.dc.a"
gate_refused "an unknown _tiersync/ path (git push)" "$evil" "_tiersync/evil: not a path of the engine"
run git --git-dir "$a/history.git" push "$url" "+$gitlink:refs/submissions/bj.dc.a"
gate_refused "a gitlink at a row path (git push)" "$gitlink" \
	"$p_case_a: mode 160000: only regular files and trees are taken"
run git --git-dir "$a/history.git" push "$url" "+$deleted:refs/submissions/bj.dc.a"
gate_refused "B's case deleted (git push)" "$deleted" \
	"bj.dc.a may not delete cases row $case_b"

run git --git-dir "$a/history.git" push "$url" "+$unsigned:refs/submissions/bj.dc.a"
gate_refused "an unsigned commit (git push)" "$unsigned" "is unsigned"

# --- urgent refs through the gate -------------------------------------------------------------
# A records an urgent report; its urgent commit stands on the shared head
run ts -C "$a" urgent new --subject "景山后街液化气罐泄漏" --author "王伟"
check "A records an urgent report" exit_is 0
report=$(cat "$work/out")
p_report=$(on_git "$a" ls-tree -r --name-only HEAD | grep "^urgent_reports/.*/$report\$")
edit
ga update-index --add --cacheinfo "100644,$(on_git "$a" rev-parse "HEAD:$p_report"),$p_report"
honest=$(forge "$(ga write-tree)")
# the same report with A's case changed along with it
ga update-index --add --replace --cacheinfo \
	"100644,$(ga cat-file blob "$base:$p_case_a" | sed 's/^description null$/description "x"/' | ga hash-object -w --stdin),$p_case_a"
smuggled=$(forge "$(ga write-tree)")

# as B's urgent ref: refused before any check of its content
run git --git-dir "$a/history.git" push "$url" "+$honest:refs/urgent/bj.dc.b"
check "A's urgent commit as B's (git push): refused" exit_is 1
check "  ...by the gate, naming the refs A may push" \
	stderr_has "refused refs/urgent/bj.dc.b: bj.dc.a may push only refs/submissions/bj.dc.a or refs/urgent/bj.dc.a"
check "  ...git: no ref of the district moved" is "$(on_git "$dc" for-each-ref)" "$dc_refs"
check "  ...git: the district does not hold the offered commit" \
	sh -c '! git --git-dir "$1/history.git" cat-file -e "$2" 2>/dev/null' - "$dc" "$honest"
check "  ...sqlite3: the district's database is unchanged" is "$(dump_hash "$dc")" "$dc_dump"
run git --git-dir "$a/history.git" push "$url" "+$smuggled:refs/urgent/bj.dc.a"
gate_refused "a case changed in an urgent commit (git push)" "$smuggled" \
	"$p_case_a is changed or removed; an urgent commit only adds urgent reports"
run git --git-dir "$a/history.git" push "$url" ":refs/urgent/bj.dc.a"
check "deleting an urgent ref (git push): refused" exit_is 1
check "  ...git: no ref of the district moved" is "$(on_git "$dc" for-each-ref)" "$dc_refs"

# tiersync's own urgent push goes through, and the district merges it first
run ts -C "$a" push --urgent-only
check "A's push --urgent-only goes through the gate" exit_is 0
urgent_a=$(on_git "$a" rev-parse refs/urgent-out/upstream)
check "git: the district's refs/urgent/bj.dc.a is A's urgent commit, on the shared head" \
	is "$(on_git "$dc" rev-parse refs/urgent/bj.dc.a) $(on_git "$dc" rev-parse refs/urgent/bj.dc.a^)" "$urgent_a $base"
run ts -C "$dc" merge --submissions
check "the district merges it" exit_is 0
check "sqlite3: the report is at the district" \
	is "$(db "$dc" "SELECT count(*) FROM urgent_reports WHERE id = '$report'")" 1

# --- and the honest push still goes through --------------------------------------------------
run ts -C "$a" verify
check "street A, its main put back, verifies" exit_is 0
ts -C "$a" case update "$case_a" --set description="摊主已离开" >/dev/null
ts -C "$a" commit -m "复查" >/dev/null
run ts -C "$a" push
check "A's own next commit goes through the gate" exit_is 0
check "git: the district's refs/submissions/bj.dc.a is A's head" \
	is "$(on_git "$dc" rev-parse refs/submissions/bj.dc.a)" "$(on_git "$a" rev-parse HEAD)"
check "git fsck on the district" fsck_sound "$dc"

sshd_stop
check "sshd is stopped" test -z "$sshd_pid"
