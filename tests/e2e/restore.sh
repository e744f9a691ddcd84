#!/bin/sh
# An officer takes back staged writes before they are committed: the
# database returns to what it was (sqlite3 judges), `verify` still holds,
# what was taken back is kept and listed, and history never sees it. A
# write a later one builds on is refused alone, in one line, changing
# nothing.
. "$TS_TOP/tests/e2e/lib.sh"

js=$work/js
ts init "$js" --tier street --id bj.dc.jingshan --author "李街" >/dev/null
a=$(ts -C "$js" case new --category small_ads --source patrol --address "景山前街 4号" --author "王伟")
ts -C "$js" commit -m "intake" >/dev/null
head=$(on_git "$js" rev-parse HEAD)
ts -C "$js" case update "$a" --set description="三张小广告" --author "李娜" >/dev/null   # 2
b=$(ts -C "$js" case new --category outdoor_bbq --source patrol --address "北池子" --author "王伟")  # 3
ts -C "$js" case update "$b" --set description="烧烤摊" --author "王伟" >/dev/null   # 4
c=$(ts -C "$js" case new --category outside_store --source patrol --address "南池子" --author "王伟")  # 5
check "five writes staged" is "$(db "$js" 'SELECT group_concat(seq) FROM ts_staged')" "2,3,4,5"

run ts -C "$js" restore 5
check "restore the newest write" exit_is 0
check "  ...says what it took back" stdout_has "took back 5"
check "  ...its case is gone from the database" is "$(db "$js" "SELECT count(*) FROM cases WHERE id = '$c'")" 0
check "  ...with its intake event" is "$(db "$js" "SELECT count(*) FROM case_events WHERE case_id = '$c'")" 0
check "  ...and the write is no longer staged" is "$(db "$js" 'SELECT group_concat(seq) FROM ts_staged')" "2,3,4"
check "  ...but kept, with who took it back" \
	is "$(db "$js" 'SELECT seq || "|" || author || "|" || restored_by FROM ts_restored')" "5|王伟|李街"
check "verify holds after it" ts -C "$js" verify

forbidden "a write a later one builds on, alone" "cannot be taken back alone" "$js" ts -C "$js" restore 3
check "  ...the line names the later write and the flag that helps" stderr_has "write 4"
run ts -C "$js" restore 3
check "  ...and --all" stderr_has "--all"
forbidden "a write that is not staged" "no staged write 1" "$js" ts -C "$js" restore 1

run ts -C "$js" restore 4 3 --author "张敏" --json
check "restore the two together (--json)" exit_is 0
check "  ...valid JSON" json_valid "$work/out"
check "  ...newest first" is "$(json_get "$work/out" '$[0].seq'),$(json_get "$work/out" '$[1].seq')" "4,3"
check "  ...taken back by the named author" is "$(json_get "$work/out" '$[1].restored_by')" "张敏"
check "  ...the case is gone" is "$(db "$js" "SELECT count(*) FROM cases WHERE id = '$b'")" 0
check "verify holds" ts -C "$js" verify

run ts -C "$js" restore 2
check "an update taken back" exit_is 0
check "  ...the column has its committed value again (NULL)" \
	is "$(db "$js" "SELECT coalesce(description, 'NULL') FROM cases WHERE id = '$a'")" "NULL"
check "  ...nothing staged now" is "$(db "$js" 'SELECT count(*) FROM ts_staged')" 0
check "  ...history untouched" is "$(on_git "$js" rev-parse HEAD)" "$head"
check "verify holds" ts -C "$js" verify

run ts -C "$js" restore --list
check "restore --list" exit_is 0
check "  ...shows each write taken back" is "$(grep -c 'taken back' "$work/out")" 4
run ts -C "$js" restore --list --json
check "restore --list --json" is "$(json_length "$work/out" '$')" 4
check "  ...in the order they were taken back" is "$(json_get "$work/out" '$[0].seq')" 5
check "  ...with the write's summary" is "$(json_get "$work/out" '$[3].summary')" "$(db "$js" 'SELECT summary FROM ts_restored WHERE seq = 2')"

run ts -C "$js" restore --all
check "restore --all with nothing staged is refused" exit_is 1
check "  ...in one line" stderr_is_one_line

d=$(ts -C "$js" case new --category small_ads --source patrol --address "景山后街" --author "王伟")
ts -C "$js" case update "$d" --set description="x" --author "王伟" >/dev/null
run ts -C "$js" restore --all
check "restore --all takes back every staged write" exit_is 0
check "  ...nothing staged" is "$(db "$js" 'SELECT count(*) FROM ts_staged')" 0
e=$(ts -C "$js" case new --category small_ads --source patrol --address "地安门" --author "王伟")
ts -C "$js" commit -m "afternoon" >/dev/null
check "the next commit carries only what is still staged (stock git judges)" \
	is "$(on_git "$js" ls-tree -r --name-only HEAD | grep -c "^cases/")" 2
check "  ...the cases kept are there by their ids" is "$(on_git "$js" ls-tree -r --name-only HEAD | grep -c -e "$a" -e "$e")" 2
check "  ...never a case taken back" is "$(on_git "$js" ls-tree -r --name-only HEAD | grep -c -e "$b" -e "$c" -e "$d" || true)" 0
check "verify holds after the commit" ts -C "$js" verify

run ts -C "$js" restore
check "restore with no ID and no --all is bad usage" exit_is 2
run ts -C "$js" restore x1
check "an ID that is no number is bad usage" exit_is 2
run ts -C "$js" restore 2 --all
check "IDs with --all is bad usage" exit_is 2
run ts -C "$js" restore --list 2
check "--list with an ID is bad usage" exit_is 2
run ts -C "$js" restore --help
check "restore --help" stdout_has "ts_restored"
