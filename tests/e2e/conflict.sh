#!/bin/sh
# A street office and its district (both may write the street's case)
# edit the same case column offline to different values. The district's
# merge keeps both in one conflict, the administrator resolves it, and after
# syncing every node (the other street too) holds the resolved value, while
# the other value stays readable in the conflict record and in history.
. "$TS_TOP/tests/e2e/lib.sh"

dc=$work/dc
a=$work/jingshan
b=$work/donghuamen
ts init "$dc" --tier district --id bj.dc --author "张敏" >/dev/null
city_above "$dc" bj.dc
ts init "$a" --tier street --id bj.dc.jingshan --upstream "$dc" >/dev/null
ts init "$b" --tier street --id bj.dc.donghuamen --upstream "$dc/history.git" >/dev/null
enroll "$dc" bj.dc.jingshan "$a/id_ed25519.pub"
enroll "$dc" bj.dc.donghuamen "$b/id_ed25519.pub"

# street a records a case; it reaches the district and street b
case_id=$(ts -C "$a" case new --category small_ads --source patrol --address "景山前街 4号" --author "王伟")
ts -C "$a" commit -m "patrol" --author "王伟" >/dev/null
run ts -C "$a" sync
check "street a syncs" exit_is 0
run ts -C "$dc" merge --submissions
check "the district merges a's submission" exit_is 0
check "  ...and says whose" stdout_has "bj.dc.jingshan"
run ts -C "$b" sync
check "street b syncs" exit_is 0
check "street b has the case" is "$(db "$b" "SELECT count(*) FROM cases WHERE id = '$case_id'")" 1
ts -C "$a" pull >/dev/null

# offline, street a and the district dispatch it to different officers
ts -C "$a" case dispatch "$case_id" --officer "李娜" --author "王伟" >/dev/null
ts -C "$a" commit -m "dispatch to 李娜" >/dev/null
ts -C "$dc" case dispatch "$case_id" --officer "陈刚" --author "张敏" >/dev/null
ts -C "$dc" commit -m "dispatch to 陈刚" >/dev/null
ts -C "$a" push >/dev/null

run ts -C "$dc" merge --submissions --json
check "the submissions merge, the conflict does not stop them" exit_is 0
check "merge --json is valid JSON" json_valid "$work/out"
# b's earlier submission is up to date; a's holds the conflict, and the
# first-contact officer, set by both first dispatches, settled to the
# lower node's by its policy (schema/0011_duties.sql)
check "  ...with two conflicts among them" is "$(sqlite3 :memory: "SELECT json_extract(x, '\$[0].conflicts') +
	json_extract(x, '\$[1].conflicts') FROM (SELECT CAST(readfile('$work/out') AS TEXT) AS x)")" 2

run ts -C "$dc" conflicts --json
check "conflicts --json is valid JSON" json_valid "$work/out"
check "one open conflict" is "$(json_length "$work/out" '$')" 1
check "  ...about cases.officer" is "$(json_get "$work/out" '$[0].column_name')" officer
# the district's own value is ours, the street's submission theirs
check "  ...keeping the district's value" is "$(json_get "$work/out" '$[0].ours')" '"陈刚"'
check "  ...and a's value" is "$(json_get "$work/out" '$[0].theirs')" '"李娜"'
check "  ...and where theirs came from" is "$(json_get "$work/out" '$[0].theirs_node')" bj.dc.jingshan
conflict=$(json_get "$work/out" '$[0].id')
run ts -C "$dc" conflicts
check "conflicts lists it for people" stdout_has "$conflict"

# the review queue is data: sqlite3 reads it, and so does history
check "sqlite3 sees the record" is "$(db "$dc" "SELECT status FROM sync_conflicts WHERE column_name = 'officer'")" open
check "sqlite3 sees the first-contact officer settled to the street's" \
	is "$(db "$dc" "SELECT status || ' ' || theirs_node FROM sync_conflicts WHERE column_name = 'first_officer'")" \
	"settled bj.dc.jingshan"
check "  ...and the district holds it" \
	is "$(db "$dc" "SELECT first_officer FROM cases WHERE id = '$case_id'")" "李娜"
check "the district's history holds the record" \
	sh -c "git --git-dir '$dc/history.git' ls-tree -r --name-only HEAD | grep -q '^sync_conflicts/'"
run ts -C "$dc" verify
check "the district verifies" exit_is 0

run ts -C "$dc" resolve "$conflict" --take theirs
check "resolve without --author on a node with identity works" exit_is 0
check "the district holds the chosen value" \
	is "$(db "$dc" "SELECT officer FROM cases WHERE id = '$case_id'")" "李娜"
check "the commit names the administrator" is "$(on_git "$dc" log -1 --format=%an)" "张敏"
run ts -C "$dc" resolve "$conflict" --take ours
check "a resolved conflict is not resolved again" exit_is 1
check "  ...with one line" stderr_is_one_line
run ts -C "$dc" resolve nosuch --take ours
check "an unknown conflict is refused" exit_is 1
check "  ...in one line" stderr_is_one_line
check "  ...that says so" stderr_has "no conflict nosuch in the review queue"
check "  ...and where to find the open ones" stderr_has "'tiersync conflicts' lists the open ones"
run ts -C "$dc" resolve "$conflict"
check "resolve needs --take or --value" exit_is 2
check "  ...naming them" stderr_has "give --take ours, --take theirs or --value V"
run ts -C "$dc" resolve "$conflict" --take mine
check "--take takes ours or theirs only" exit_is 2
check "  ...in one line naming --take" stderr_has "--take takes ours or theirs, not 'mine'"

for n in "$a" "$b"; do
	run ts -C "$n" sync
	check "$(basename "$n") syncs after the resolution" exit_is 0
done
run ts -C "$dc" merge --submissions
check "the district merges again" exit_is 0
for n in "$a" "$b"; do
	ts -C "$n" pull >/dev/null
done

tree_dc=$(on_git "$dc" rev-parse 'HEAD^{tree}')
for n in "$a" "$b"; do
	name=$(basename "$n")
	check "$name has the district's tree" is "$(on_git "$n" rev-parse 'HEAD^{tree}')" "$tree_dc"
	check "$name holds the resolved value" is "$(db "$n" "SELECT officer FROM cases WHERE id = '$case_id'")" "李娜"
	check "$name keeps the losing value in the record" \
		is "$(db "$n" "SELECT ours FROM sync_conflicts WHERE id = '$conflict'")" '"陈刚"'
	check "$name sees the conflict resolved" \
		is "$(db "$n" "SELECT status || ' by ' || resolved_by FROM sync_conflicts WHERE id = '$conflict'")" \
		"resolved by 张敏"
	run ts -C "$n" verify
	check "$name verifies" exit_is 0
	check "$name: stock git fsck" fsck_sound "$n"
done
run ts -C "$a" log --case "$case_id"
check "the case's log shows the losing dispatch" stdout_has "dispatch to 李娜"
check "  ...and the winning one" stdout_has "dispatch to 陈刚"
check "  ...and the resolution" stdout_has "resolve conflict"
