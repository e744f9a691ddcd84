#!/bin/sh
# A hostile street office, path remotes. A district enrolls two streets; a
# case of street B, a key area of the district, a supervision item to street
# A and a case of A with a photo have gone up and down, so every node holds
# them. Then street A, with its own key and stock git only, writes commits
# its own commands would never write (B's case changed or deleted, the
# district's rows rewritten, trees and modes git allows but the format does
# not, evidence swapped, a 100 MB row, bad signatures) and offers each one
# as a submission. Each is refused by `merge --submissions` with one line
# naming the commit and the rule, and leaves the district (refs, database,
# verify) and street B (after a pull) exactly as they were. Last, a district
# whose main holds a bad tree: street A's pull refuses it.
. "$TS_TOP/tests/e2e/lib.sh"

command -v ssh-keygen >/dev/null || { echo "skipped: ssh-keygen is not installed"; exit 0; }

dc=$work/dongcheng
a=$work/street_a
b=$work/street_b

# --- the tiers and what they share ------------------------------------------------
ts init "$dc" --tier district --id bj.dc --author "张敏" >/dev/null
ts init "$a" --tier street --id bj.dc.a --author "王伟" --upstream "$dc" >/dev/null
ts init "$b" --tier street --id bj.dc.b --author "赵强" --upstream "$dc" >/dev/null
run ts -C "$dc" enroll --node bj.dc.a --key "$a/id_ed25519.pub" --authorized-keys "$work/authorized_keys"
check "the district enrolls street A" exit_is 0
run ts -C "$dc" enroll --node bj.dc.b --key "$b/id_ed25519.pub" --authorized-keys "$work/authorized_keys"
check "the district enrolls street B" exit_is 0

case_b=$(ts -C "$b" case new --category small_ads --source patrol --address "王府井大街 1号")
ts -C "$b" commit -m "巡查发现小广告" >/dev/null
ts -C "$b" push >/dev/null
run ts -C "$dc" merge --submissions
check "the district merges B's case" exit_is 0
area=$(ts -C "$dc" area add "景山公园周边" --zone "景山前街以北" --reason "游客多")
item=$(ts -C "$dc" supervise issue --to bj.dc.a --subject "清理小广告")
ts -C "$dc" commit -m "重点地区与督办" >/dev/null
case_a=$(ts -C "$a" case new --category outdoor_bbq --source patrol --address "景山后街 2号")
head -c 4096 /dev/urandom >"$work/photo.jpg"
ts -C "$a" evidence add "$case_a" "$work/photo.jpg" --kind photo --author "王伟" >/dev/null
ts -C "$a" commit -m "露天烧烤" --author "王伟" >/dev/null
ts -C "$a" push >/dev/null
run ts -C "$dc" merge --submissions
check "the district merges A's case and its photo" exit_is 0
run ts -C "$a" pull
check "street A pulls" exit_is 0
run ts -C "$b" pull
check "street B pulls" exit_is 0
base=$(on_git "$dc" rev-parse refs/heads/main)
check "all three nodes hold the same head" \
	is "$(on_git "$a" rev-parse HEAD) $(on_git "$b" rev-parse HEAD)" "$base $base"
check "street B holds the district's key area and A's case" \
	is "$(db "$b" "SELECT count(*) FROM key_areas WHERE id = '$area'") $(db "$b" "SELECT count(*) FROM cases WHERE id = '$case_a'")" "1 1"

# --- crafting with stock git in A's history ------------------------------------------
# fanout NAME: the f1/f2/f3/f4 of a key name (docs/FORMAT.md, "Fan-out"):
# FNV-1a-64 times 0x9e3779b97f4a7c15, top 16 bits (shell arithmetic is 64-bit
# and wraps)
fanout() {
	_h=-3750763034362895579   # 0xcbf29ce484222325
	for _b in $(printf '%s' "$1" | od -An -v -tu1); do
		_h=$(((_h ^ _b) * 1099511628211))
	done
	_h=$(((_h * -7046029254386353131 >> 48) & 65535))
	printf '%04x\n' "$_h" | sed 's#\(.\)\(.\)\(.\)\(.\)#\1/\2/\3/\4#'
}
check "fanout gives the path of FORMAT.md's worked example" \
	is "$(fanout bj.dc.jingshan.d07-c20150522-3)" 8/9/0/b

path_of() { # path_of TABLE KEYNAME: where that row is in the shared head
	on_git "$a" ls-tree -r --name-only "$base" | grep -x "$1/././././$2"
}
p_case_b=$(path_of cases "$case_b")
p_case_a=$(path_of cases "$case_a")
p_area=$(path_of key_areas "$area")
p_item=$(path_of supervision_items "$item")
p_rule=$(path_of case_rules '%,major_threshold,%')
p_policy=$(path_of sync_policies 'cases,status')
p_owner=$(path_of sync_ownership 'cases,%2A,jurisdiction')
p_signer_b=$(path_of sync_signers bj.dc.b)
p_file=$(on_git "$a" ls-tree -r --name-only "$base" | grep '^_tiersync/files/')
check "the shared head holds every row the attacks aim at" \
	test -n "$p_case_b" -a -n "$p_case_a" -a -n "$p_area" -a -n "$p_item" -a -n "$p_rule" \
	-a -n "$p_policy" -a -n "$p_owner" -a -n "$p_signer_b" -a -n "$p_file"

mkdir -p "$work/empty"
ga() { # stock git in A's history, with a scratch index and an empty work tree
	GIT_INDEX_FILE=$work/index git --git-dir "$a/history.git" --work-tree "$work/empty" "$@"
}
row() { ga cat-file blob "$base:$1"; }               # row PATH: a row of the shared head
blob() { ga hash-object -w --stdin; }                # blob < CONTENT: its id
edit() { rm -f "$work/index"; ga read-tree "$base"; } # starts a tree from the shared head
put() { ga update-index --add --replace --cacheinfo "$1,$2,$3"; } # put MODE ID PATH
drop() { ga update-index --force-remove "$1"; }
tree() { ga write-tree; }
# forge TREE [KEY [NODE]]: a commit on the shared head, made as A's commits
# are (author, committer, +0800, ssh signature); KEY "none": unsigned
forge() {
	_key=${2:-$a/id_ed25519}
	_node=${3:-bj.dc.a}
	_date="$(date +%s) +0800"
	_sign="-S"
	[ "$_key" != none ] || _sign=""
	GIT_AUTHOR_NAME="王伟" GIT_AUTHOR_EMAIL=$_node GIT_AUTHOR_DATE=$_date \
		GIT_COMMITTER_NAME=$_node GIT_COMMITTER_EMAIL=$_node GIT_COMMITTER_DATE=$_date \
		ga -c gpg.format=ssh -c user.signingkey="$_key" commit-tree $_sign -p "$base" -m "巡查" "$1"
}
# with_row PATH CONTENT-FILTER...: the shared tree with one row rewritten by sed
with_row() {
	_p=$1
	shift
	edit
	put 100644 "$(row "$_p" | sed "$@" | blob)" "$_p"
	tree
}
# deliver COMMIT [REF]: stock git pushes it into the district's repository
deliver() {
	git --git-dir "$a/history.git" push -q -f "$dc/history.git" "$1:${2:-refs/submissions/bj.dc.a}"
}

# --- what "refused and nothing changed" means ----------------------------------------
dump_hash() { db "$1" .dump | sha256sum; }
dc_dump=$(dump_hash "$dc")
b_dump=$(dump_hash "$b")
a_sub=$(on_git "$dc" rev-parse refs/submissions/bj.dc.a)
b_sub=$(on_git "$dc" rev-parse refs/submissions/bj.dc.b)
cp -a "$dc" "$work/dc.saved"
cp -a "$b" "$work/b.saved"
other_refs() { on_git "$dc" for-each-ref | grep -v "[[:space:]]$1\$"; }
timer=""

# refused WHAT COMMIT RULE [REF]: COMMIT is offered as REF (default A's
# submission); merge --submissions must refuse it with one line naming
# the submission, the commit and RULE, and the district and street B stay
# as they were.
refused() {
	r_what=$1 r_commit=$2 r_rule=$3 r_ref=${4:-refs/submissions/bj.dc.a}
	r_refs=$(other_refs "$r_ref")
	check "$r_what: the offered commit's tree differs from the shared head's" \
		sh -c '[ "$(git --git-dir "$1" rev-parse "$2^{tree}")" != "$(git --git-dir "$1" rev-parse "$3^{tree}")" ]' \
		- "$a/history.git" "$r_commit" "$base"
	deliver "$r_commit" "$r_ref"
	run $timer "$TIERSYNC" -C "$dc" merge --submissions
	printf '%s: %s\n' "$r_what" "$(cat "$work/err")"
	check "$r_what: merge --submissions exits 1" exit_is 1
	check "$r_what: ...one line on stderr" stderr_is_one_line
	check "$r_what: ...naming the submission" stderr_has "submission of ${r_ref#refs/submissions/} not merged"
	case $r_ref in
	refs/submissions/bj.dc.?) check "$r_what: ...and the commit" stderr_has "commit $(printf %.12s "$r_commit")" ;;
	esac
	check "$r_what: ...and the rule ($r_rule)" stderr_has "$r_rule"
	check "$r_what: git: the district's main has not moved" is "$(on_git "$dc" rev-parse refs/heads/main)" "$base"
	check "$r_what: git: no ref but $r_ref moved" is "$(other_refs "$r_ref")" "$r_refs"
	check "$r_what: sqlite3: the district's database is unchanged" is "$(dump_hash "$dc")" "$dc_dump"
	run ts -C "$dc" verify
	check "$r_what: the district verifies" exit_is 0
	run ts -C "$b" pull
	check "$r_what: street B pulls" exit_is 0
	check "$r_what: sqlite3: street B's database is unchanged" is "$(dump_hash "$b")" "$b_dump"
	# whatever happened, the next attack starts from the same district and B
	if [ "$(on_git "$dc" rev-parse refs/heads/main)" != "$base" ] || [ "$(dump_hash "$dc")" != "$dc_dump" ]; then
		rm -rf "$dc" "$b"
		cp -a "$work/dc.saved" "$dc"
		cp -a "$work/b.saved" "$b"
	fi
	on_git "$dc" update-ref refs/submissions/bj.dc.a "$a_sub"
	on_git "$dc" update-ref refs/submissions/bj.dc.b "$b_sub"
	on_git "$dc" update-ref -d refs/submissions/bj 2>/dev/null || true
}

# A control: a commit made this way that only changes A's own case is taken,
# on a copy of the district (so the machinery above is not what refuses).
cp -a "$dc" "$work/dc.control"
good=$(forge "$(with_row "$p_case_a" 's/^description null$/description "摊主已离开"/')")
git --git-dir "$a/history.git" push -q -f "$work/dc.control/history.git" "$good:refs/submissions/bj.dc.a"
run ts -C "$work/dc.control" merge --submissions
check "control: a crafted, signed change of A's own case is merged" exit_is 0
check "control: ...the row changed" \
	is "$(db "$work/dc.control" "SELECT description FROM cases WHERE id = '$case_a'")" "摊主已离开"
rm -rf "$work/dc.control"

not_b="it belongs to bj.dc.b, outside the jurisdiction of bj.dc.a"
upper="only nodes of depth 2 or less (the upper tiers) write it"
fixed="it is fixed by the schema's migrations"
stamp='"2026-12-05T23:00:00+08:00"'

# --- 1. street B's case ------------------------------------------------------------------
refused "1a B's case changed" \
	"$(forge "$(with_row "$p_case_b" 's/^address .*/address "别处"/')")" \
	"bj.dc.a may not change cases.address of row $case_b: $not_b"
refused "1b B's case closed" \
	"$(forge "$(with_row "$p_case_b" -e 's/^status .*/status "closed"/' -e "s/^closed_at null\$/closed_at $stamp/")")" \
	"bj.dc.a may not change cases.status of row $case_b: $not_b"
edit
drop "$p_case_b"
refused "1c B's case deleted" "$(forge "$(tree)")" \
	"bj.dc.a may not delete cases row $case_b: $not_b"
refused "1d B's case moved into A's jurisdiction" \
	"$(forge "$(with_row "$p_case_b" 's/^jurisdiction .*/jurisdiction "bj.dc.a"/')")" \
	"bj.dc.a may not change cases.jurisdiction of row $case_b: $not_b"

# --- 2. another node's submission ref ----------------------------------------------------
# Through a path remote a street can write any ref of the district; the
# commits' signatures say who made them.
closed_b=$(with_row "$p_case_b" 's/^status .*/status "closed"/')
refused "2a A's key, B's name, as B's submission" "$(forge "$closed_b" "$a/id_ed25519" bj.dc.b)" \
	"is signed by a key not enrolled for bj.dc.b" refs/submissions/bj.dc.b
refused "2b A's own signed commit, as B's submission" "$(forge "$closed_b")" \
	"was made by bj.dc.a, which is neither bj.dc.b nor a node below it" refs/submissions/bj.dc.b
refused "2c A's commit as the city's submission" "$(forge "$(with_row "$p_case_a" 's/^description null$/description "x"/')")" \
	"refs/submissions/bj names no node below bj.dc" refs/submissions/bj

# --- 3. the district's rows and the declarations ----------------------------------------------
new_area=bj.dc-k20261205-9999
edit
put 100644 "$(row "$p_area" | sed "s/^id .*/id \"$new_area\"/" | blob)" "key_areas/$(fanout "$new_area")/$new_area"
refused "3a a district key area added" "$(forge "$(tree)")" \
	"bj.dc.a may not insert key_areas row $new_area: $upper"
refused "3b the district's key area delisted" \
	"$(forge "$(with_row "$p_area" -e "s/^delisted_at null\$/delisted_at $stamp/" -e 's/^delist_reason null$/delist_reason "x"/')")" \
	"bj.dc.a may not change key_areas.delisted_at of row $area: $upper"
edit
drop "$p_area"
refused "3c the district's key area deleted" "$(forge "$(tree)")" \
	"bj.dc.a may not delete key_areas row $area: $upper"
refused "3d the district's supervision item closed (status and closed_at)" \
	"$(forge "$(with_row "$p_item" -e 's/^status .*/status "closed"/' -e "s/^closed_at null\$/closed_at $stamp/")")" \
	"bj.dc.a may not change supervision_items.status of row $item: under this rule status may only be set to answered"
# the target may write the item's status (to answer it), never close it
refused "3e the district's supervision item closed (status only)" \
	"$(forge "$(with_row "$p_item" 's/^status .*/status "closed"/')")" \
	"bj.dc.a may not change supervision_items.status of row $item: under this rule status may only be set to answered"
refused "3f a city-wide case_rules row changed" \
	"$(forge "$(with_row "$p_rule" 's/^value .*/value 1/')")" \
	"bj.dc.a may not change case_rules.value of row scope=, rule=major_threshold, category=: $upper"
new_rule='bj.dc.a,major_threshold,%'
edit
put 100644 "$(printf 'scope "bj.dc.a"\nrule "major_threshold"\ncategory ""\nvalue 1\nset_by null\nset_at null\n' | blob)" \
	"case_rules/$(fanout "$new_rule")/$new_rule"
refused "3g a case_rules row for A's own scope" "$(forge "$(tree)")" \
	"bj.dc.a may not insert case_rules row scope=bj.dc.a, rule=major_threshold, category=: $upper"
refused "3h a sync_policies row changed" \
	"$(forge "$(with_row "$p_policy" 's/^settles 1$/settles 0/')")" \
	"bj.dc.a may not change sync_policies.settles of row table_name=cases, column_name=status: $fixed"
refused "3i sync_ownership changed" \
	"$(forge "$(with_row "$p_owner" 's/^reach 3$/reach null/')")" \
	"bj.dc.a may not change sync_ownership.reach of row table_name=cases, column_name=*, scope_column=jurisdiction: $fixed"
refused "3j B's signing key replaced by A's" \
	"$(forge "$(with_row "$p_signer_b" "s#^public_key .*#public_key \"$(cut -d' ' -f1-2 "$a/id_ed25519.pub")\"#")")" \
	"bj.dc.a may not change sync_signers.public_key of row bj.dc.b: $not_b"

# A conflict planted in the review queue: a record is written only by a
# node that may write the row it is about (its row_path), so A cannot put
# before the district an open conflict over B's case for an administrator
# to "take theirs" on, nor mark one resolved.
conflict_row() {   # id row_key row_path status
	printf '%s\n' "id \"$1\"" 'kind "column"' 'table_name "cases"' "row_key \"$2\"" \
		"row_path \"$3\"" 'column_name "status"' 'base "\"discovered\""' 'ours "\"discovered\""' \
		'theirs "\"closed\""' 'provisional "\"discovered\""' 'ours_commit null' 'ours_node "bj.dc"' \
		'theirs_commit null' 'theirs_node "bj.dc.a"' "status \"$4\"" 'resolution "theirs"' \
		'resolved_value "\"closed\""' 'resolved_by "张敏"' "resolved_at $stamp"
}
conflict=kbj.dc.a.0000001
edit
put 100644 "$(conflict_row "$conflict" "$case_b" "$p_case_b" resolved | blob)" "sync_conflicts/$(fanout "$conflict")/$conflict"
refused "3k a resolved sync_conflicts row about B's case" "$(forge "$(tree)")" \
	"bj.dc.a may not insert sync_conflicts row $conflict: it concerns cases row $case_b, which bj.dc.a may not write (it belongs to bj.dc.b, outside the jurisdiction of bj.dc.a)"
edit
put 100644 "$(conflict_row "$conflict" "$case_b" "$p_case_b" open | blob)" "sync_conflicts/$(fanout "$conflict")/$conflict"
refused "3l an open sync_conflicts row about B's case" "$(forge "$(tree)")" \
	"bj.dc.a may not insert sync_conflicts row $conflict: it concerns cases row $case_b"
edit
put 100644 "$(conflict_row "$conflict" "$case_a" "not/a/row" open | blob)" "sync_conflicts/$(fanout "$conflict")/$conflict"
refused "3m a sync_conflicts row naming no row's path" "$(forge "$(tree)")" \
	"bj.dc.a may not insert sync_conflicts row $conflict: its row_path is not the path of a row"

# A record about A's own case is A's to write: on a copy of the district,
# it merges and the district still verifies.
edit
put 100644 "$(conflict_row "$conflict" "$case_a" "$p_case_a" open | blob)" "sync_conflicts/$(fanout "$conflict")/$conflict"
planted=$(forge "$(tree)")
cp -a "$dc" "$work/dc.conflict"
git --git-dir "$a/history.git" push -q -f "$work/dc.conflict/history.git" "$planted:refs/submissions/bj.dc.a"
run ts -C "$work/dc.conflict" merge --submissions
check "3n a conflict record about A's own case merges" exit_is 0
check "3n ...into the district's review queue" \
	is "$(db "$work/dc.conflict" "SELECT status || ' ' || row_key FROM sync_conflicts WHERE id = '$conflict'")" "open $case_a"
run ts -C "$work/dc.conflict" verify
check "3n ...and the district still verifies" exit_is 0
rm -rf "$work/dc.conflict"

# --- 4. a valid row under another key's path -------------------------------------------------
edit
put 100644 "$(row "$p_case_a" | blob)" "$p_case_b"
refused "4a A's case stored at B's case's path" "$(forge "$(tree)")" \
	"$p_case_b: the row is not stored at its own key's path"
spare=bj.dc.a-c20261205-9999
edit
put 100644 "$(row "$p_case_a" | blob)" "cases/$(fanout "$spare")/$spare"
refused "4b A's case stored at the path of another key of A's" "$(forge "$(tree)")" \
	"cases/$(fanout "$spare")/$spare: the row is not stored at its own key's path"

# --- 5. modes, trees and paths git allows but the format does not -------------------------
case_a_blob=$(ga rev-parse "$base:$p_case_a")
only_files="only regular files and trees are taken"
edit
put 160000 "$base" "$p_case_a"
refused "5a a gitlink at a row path" "$(forge "$(tree)")" "$p_case_a: mode 160000: $only_files"
edit
put 120000 "$case_a_blob" "$p_case_a"
refused "5b a symlink at a row path" "$(forge "$(tree)")" "$p_case_a: mode 120000: $only_files"
edit
put 100755 "$case_a_blob" "$p_case_a"
refused "5c an executable blob at a row path" "$(forge "$(tree)")" "$p_case_a: mode 100755: $only_files"
edit
drop "$p_case_a"
put 100644 "$case_a_blob" "$p_case_a/row"
refused "5d a tree where a row's blob belongs" "$(forge "$(tree)")" "$p_case_a/row: not the path of a row"
edit
put 100644 "$case_a_blob" "no_such_table/$(fanout x)/x"
refused "5e an unknown table" "$(forge "$(tree)")" "no_such_table/$(fanout x)/x: no such table on this node"
edit
put 100644 "$(printf 'x\n' | blob)" "_tiersync/evil"
refused "5f an unknown _tiersync/ path" "$(forge "$(tree)")" "_tiersync/evil: not a path of the engine"
refused "5g a non-canonical row (two spaces)" \
	"$(forge "$(with_row "$p_case_a" 's/^status /status  /')")" "$p_case_a: not a row encoding"
refused "5h a non-canonical row (columns out of order)" \
	"$(forge "$(with_row "$p_case_a" '1{h;d};2{G}')")" "$p_case_a: not the canonical encoding of a row of its table"
edit
put 100644 "$(printf '1\n' | blob)" "_tiersync/schema-version"
refused "5i another schema version" "$(forge "$(tree)")" \
	"_tiersync/schema-version: the schema version differs from this node's"

# --- 6. evidence files ------------------------------------------------------------------------
edit
put 100644 "$(printf 'other bytes\n' | blob)" "$p_file"
refused "6a an evidence file replaced by other bytes" "$(forge "$(tree)")" \
	"$p_file: a file's bytes were changed: files are immutable"
edit
drop "$p_file"
refused "6b an evidence file deleted" "$(forge "$(tree)")" "$p_file: a file was removed: files are immutable"

# --- 7. a 100 MB row ----------------------------------------------------------------------------
{
	row "$p_case_a" | sed -n '1,/^jurisdiction /p'
	printf 'description "'
	head -c 104857600 /dev/zero | tr '\0' a
	printf '"\n'
	row "$p_case_a" | sed -n '/^status /,$p'
} | blob >"$work/big.id"
big_size=$(ga cat-file -s "$(cat "$work/big.id")")
check "7 the row blob is over 100 MB" test "$big_size" -gt 104857600
edit
put 100644 "$(cat "$work/big.id")" "$p_case_a"
timer="/usr/bin/time -v -o $work/time.txt"
refused "7 a 100 MB row" "$(forge "$(tree)")" \
	"$p_case_a: a row of $big_size bytes, over the limit of 1048576 (sync_limits.row_bytes)"
timer=""
rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.txt")
printf '7 a 100 MB row: merge --submissions peak RSS %s KB\n' "$rss"
check "7 the refused merge's peak memory stays within the 64 MB budget, under the 100 MB row, sanitizers included ($rss KB)" test "$rss" -lt 65536

# --- 8. signatures --------------------------------------------------------------------------------
edited=$(with_row "$p_case_a" 's/^description null$/description "摊主已离开"/')
refused "8a an unsigned commit" "$(forge "$edited" none)" "is unsigned"
refused "8b a commit signed with B's key, committed as A" "$(forge "$edited" "$b/id_ed25519")" \
	"is signed by a key not enrolled for bj.dc.a"
signed=$(forge "$edited")
other=$(with_row "$p_case_a" 's/^description null$/description "改过"/')
ga cat-file commit "$signed" | sed "1s/^tree .*/tree $other/" >"$work/altered"
altered=$(ga hash-object -t commit -w "$work/altered")
check "8c the altered commit carries the signature made for other content" \
	sh -c 'git --git-dir "$1" cat-file commit "$2" | grep -q "^gpgsig "' - "$a/history.git" "$altered"
refused "8c a commit changed after it was signed" "$altered" "its signature does not match its bytes"

# --- a pull of a bad tree -------------------------------------------------------------------------
# The district's main made, in its own history, a tree with a gitlink at a
# row path, signed with the district's key; street A must not take it.
gd() { GIT_INDEX_FILE=$work/index git --git-dir "$dc/history.git" --work-tree "$work/empty" "$@"; }
rm -f "$work/index"
gd read-tree "$base"
gd update-index --add --replace --cacheinfo "160000,$base,$p_case_b"
date_now="$(date +%s) +0800"
bad=$(GIT_AUTHOR_NAME="张敏" GIT_AUTHOR_EMAIL=bj.dc GIT_AUTHOR_DATE=$date_now \
	GIT_COMMITTER_NAME=bj.dc GIT_COMMITTER_EMAIL=bj.dc GIT_COMMITTER_DATE=$date_now \
	gd -c gpg.format=ssh -c user.signingkey="$dc/id_ed25519" commit-tree -S -p "$base" -m "巡查" "$(gd write-tree)")
gd update-ref refs/heads/main "$bad"
db "$dc" "UPDATE ts_meta SET value = '$bad' WHERE key = 'head'"
a_refs=$(on_git "$a" for-each-ref)
a_dump=$(dump_hash "$a")
run ts -C "$a" pull
printf 'pull of a bad tree: %s\n' "$(cat "$work/err")"
check "pull of a gitlink at a row path: exits 1" exit_is 1
check "...one line on stderr" stderr_is_one_line
check "...naming the commit, the path and the rule" \
	stderr_has "commit $(printf %.12s "$bad"): $p_case_b: mode 160000: $only_files"
check "git: street A's refs are unchanged" is "$(on_git "$a" for-each-ref)" "$a_refs"
check "sqlite3: street A's database is unchanged" is "$(dump_hash "$a")" "$a_dump"
run ts -C "$a" verify
check "street A verifies" exit_is 0
check "git fsck on street A" fsck_sound "$a"
