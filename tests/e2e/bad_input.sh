#!/bin/sh
# Bad input gets one clear line on stderr, exit 1 (refused) or 2 (usage),
# and changes nothing: not the history, not the staged writes, not the data.
. "$TS_TOP/tests/e2e/lib.sh"

named=$work/jingshan      # has an identity: commands may omit --author
anonymous=$work/donghua   # has none: every write must name its officer

ts init "$named" --tier street --id bj.dc.jingshan --author "张三" >/dev/null
ts init "$anonymous" --tier street --id bj.dc.donghua >/dev/null
case_id=$(ts -C "$named" case new --category small_ads --source patrol --address "景山前街 4号")
ts -C "$named" commit -m "立案" >/dev/null
other_case=$(ts -C "$anonymous" case new --category outdoor_bbq --source complaint --address "东华门大街 1号" --author "王伟")
ts -C "$anonymous" commit -m "立案" >/dev/null

exit_refused() {
	[ "$rc" = 1 ] || [ "$rc" = 2 ] || { echo "exit status $rc, wanted 1 or 2"; cat "$work/err"; return 1; }
}

# refused NODE DESCRIPTION COMMAND...: the command is refused with one line
# on stderr and the node is exactly as before.
refused() {
	target=$1
	what=$2
	shift 2
	snapshot "$target" "$work/before"
	run "$@"
	check "$what: refused with exit 1 or 2" exit_refused
	check "$what: exactly one line on stderr" stderr_is_one_line
	snapshot "$target" "$work/after"
	check "$what: changes nothing" same_files "$work/before" "$work/after"
}

# --- values the schema does not allow ----------------------------------------
refused "$named" "unknown category" \
	ts -C "$named" case new --category flying_saucer --source patrol --address "景山前街 5号"
check "  ...the message names the category" stderr_has "flying_saucer"

refused "$named" "unknown source" \
	ts -C "$named" case new --category small_ads --source rumour --address "景山前街 5号"
check "  ...the message names the source" stderr_has "rumour"

refused "$named" "unknown column in --set" \
	ts -C "$named" case update "$case_id" --set colour=red
check "  ...the message names the column" stderr_has "colour"

refused "$named" "unknown column in --set of a new case" \
	ts -C "$named" case new --category small_ads --source patrol --address "景山前街 5号" --set colour=red
check "  ...the message names the column" stderr_has "colour"

refused "$named" "a number column given letters" \
	ts -C "$named" case update "$case_id" --set penalty_amount=abc
check "  ...the message names the column" stderr_has "penalty_amount"

refused "$named" "a status outside its enumeration" \
	ts -C "$named" case update "$case_id" --set status=bogus
check "  ...the message names the column" stderr_has "status"

refused "$named" "a stage outside its enumeration" \
	ts -C "$named" case update "$case_id" --set stage=scold
check "  ...the message names the column" stderr_has "stage"

refused "$named" "a negative penalty" \
	ts -C "$named" case update "$case_id" --set penalty_amount=-5

refused "$named" "changing a case's id" \
	ts -C "$named" case update "$case_id" --set id=bj.dc.jingshan-c19990101-0001

refused "$named" "--set without '='" \
	ts -C "$named" case update "$case_id" --set status

refused "$named" "an author with an e-mail address" \
	ts -C "$named" case update "$case_id" --set description="门前" --author "李娜 <lina@example.cn>"

# --- who, which node, which case ---------------------------------------------
refused "$anonymous" "case new without --author on a node with no identity" \
	ts -C "$anonymous" case new --category small_ads --source patrol --address "东华门大街 2号"
check "  ...the message says no one is named" stderr_has "no author: name the officer, or set the node's identity"
check "  ...and asks for --author" stderr_has "this node has no identity: give --author NAME"

refused "$anonymous" "case update without --author on a node with no identity" \
	ts -C "$anonymous" case update "$other_case" --set description="门前"
check "  ...the message asks for --author" stderr_has "give --author NAME"

run ts -C "$work/not-a-node" status
check "-C a missing directory: refused" exit_refused
check "-C a missing directory: one line on stderr" stderr_is_one_line
check "-C a missing directory: not created" test ! -e "$work/not-a-node"
mkdir "$work/empty"
run ts -C "$work/empty" status
check "-C an empty directory: refused" exit_refused
check "-C an empty directory: one line on stderr" stderr_is_one_line
check "-C an empty directory: left empty" test -z "$(ls -A "$work/empty")"

refused "$named" "updating a case that does not exist" \
	ts -C "$named" case update bj.dc.jingshan-c19990101-0001 --set description="门前"
check "  ...the message names the case" stderr_has "bj.dc.jingshan-c19990101-0001"

refused "$named" "showing a case that does not exist" \
	ts -C "$named" case show bj.dc.jingshan-c19990101-0001

# --- commit --------------------------------------------------------------------
refused "$named" "commit with nothing staged" ts -C "$named" commit -m "空提交"
check "  ...the message says nothing is staged" stderr_has "nothing staged"

refused "$anonymous" "commit with nothing staged, on a node with no identity" \
	ts -C "$anonymous" commit -m "空提交"
check "  ...the message says nothing is staged (not that an author is missing)" stderr_has "nothing staged"

# with work staged, a refused commit must leave it staged and uncommitted
ts -C "$named" case dispatch "$case_id" --officer "李娜" >/dev/null
refused "$named" "commit without -m" ts -C "$named" commit
refused "$named" "commit with an empty message" ts -C "$named" commit -m ""
refused "$named" "commit with a stray argument" ts -C "$named" commit -m "派遣" extra
check "the staged write is still there after the refused commits" \
	is "$(db "$named" 'SELECT count(*) FROM ts_staged')" 1
ts -C "$named" commit -m "派遣" >/dev/null

# --- init ------------------------------------------------------------------------
ls "$work" >"$work/.listing-before"

mkdir "$work/occupied"
echo "办公室的文件" >"$work/occupied/notes.txt"
run ts init "$work/occupied" --tier street --id bj.dc.jingshan
check "init into a non-empty directory: refused" exit_refused
check "init into a non-empty directory: one line on stderr" stderr_is_one_line
check "init into a non-empty directory: the file is untouched" \
	is "$(cat "$work/occupied/notes.txt")" "办公室的文件"
check "init into a non-empty directory: nothing added there" is "$(ls -A "$work/occupied")" notes.txt

run ts init "$named" --tier street --id bj.dc.jingshan
check "init over an existing node: refused" exit_refused
check "init over an existing node: one line on stderr" stderr_is_one_line

for bad_id in "BJ..x" "bj..x" "bj/dc" ""; do
	run ts init "$work/fresh" --tier street --id "$bad_id"
	check "init with bad node id '$bad_id': refused" exit_refused
	check "init with bad node id '$bad_id': one line on stderr" stderr_is_one_line
	check "init with bad node id '$bad_id': no node made" test ! -e "$work/fresh"
done

run ts init "$work/fresh" --tier village --id bj.dc.jingshan
check "init with a bad tier: refused" exit_refused
check "init with a bad tier: one line on stderr" stderr_is_one_line
check "  ...the message names the tier" stderr_has "village"
check "init with a bad tier: no node made" test ! -e "$work/fresh"

run ts init "$work/fresh" --id bj.dc.jingshan
check "init without --tier: refused" exit_refused
check "init without --tier: one line on stderr" stderr_is_one_line

rm -r "$work/occupied"
ls "$work" >"$work/.listing-after"
check "no failed init left anything behind (no half node, no temp dir)" \
	same_files "$work/.listing-before" "$work/.listing-after"

# --- commands that do not exist -------------------------------------------------
refused "$named" "an unknown subcommand" ts -C "$named" frobnicate
check "  ...the message names it" stderr_has "frobnicate"
refused "$named" "an unknown verb of case" ts -C "$named" case frobnicate
refused "$named" "an unknown option" ts -C "$named" status --frobnicate
refused "$named" "an unknown global option" ts --frobnicate -C "$named" status

# --- a closed case stays closed -------------------------------------------------
ts -C "$named" case educate "$case_id" --author "李娜" >/dev/null
ts -C "$named" case feedback "$case_id" --author "李娜" >/dev/null
run ts -C "$named" case close "$case_id" --author "李娜"
check "closing a case works" exit_is 0
refused "$named" "editing a closed case (staged)" \
	ts -C "$named" case update "$case_id" --set description="补记"
check "  ...the message says the case is closed" stderr_has "closed"
ts -C "$named" commit -m "结案" >/dev/null
refused "$named" "editing a closed case (committed)" \
	ts -C "$named" case update "$case_id" --set description="再补记"
refused "$named" "reopening a closed case by setting its status" \
	ts -C "$named" case update "$case_id" --set status=discovered

run ts -C "$named" verify
check "after all that the node still verifies" exit_is 0
check "and its history is sound" fsck_clean "$named"
run ts -C "$anonymous" verify
check "the node without identity still verifies" exit_is 0
