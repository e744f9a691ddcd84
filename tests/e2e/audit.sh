#!/bin/sh
# The auditor's view: the full history of one case, field by field, with
# real names. Two cases are found and worked by different officers; then
# `log --case`, `diff` and `blame` must name the right people, commits and
# values, agree with stock git on the same history, answer valid JSON, and
# refuse bad revisions and unknown tables with one clear line.
. "$TS_TOP/tests/e2e/lib.sh"

node=$work/jingshan

ts init "$node" --tier street --id bj.dc.jingshan --author "王伟" >/dev/null

# --- a day's work: two cases, five commits, five officers -------------------
a=$(ts -C "$node" case new --category small_ads --source patrol --address "景山前街 4号" --author "王伟")
ts -C "$node" commit -m "立案 小广告" --author "王伟" >/dev/null
b=$(ts -C "$node" case new --category outdoor_bbq --source complaint --address "景山后街 9号" --author "李娜")
ts -C "$node" commit -m "立案 露天烧烤" --author "李娜" >/dev/null
ts -C "$node" case dispatch "$a" --officer "张强" --author "张强" >/dev/null
ts -C "$node" commit -m "派遣 小广告" --author "张强" >/dev/null
ts -C "$node" case dispatch "$b" --officer "赵六" --author "赵六" >/dev/null
ts -C "$node" commit -m "认领 露天烧烤" --author "赵六" >/dev/null
ts -C "$node" case dispatch "$a" --officer "钱七" --author "钱七" >/dev/null
ts -C "$node" commit -m "认领 小广告" --author "钱七" >/dev/null

path_a=$(row_path "$node" cases "$a")
path_b=$(row_path "$node" cases "$b")
check "stock git finds the first case's row in history" test -n "$path_a"
check "stock git finds the second case's row in history" test -n "$path_b"
snapshot "$node" "$work/before"

# listed LIST: the lines of stdout after PREFIX, e.g. listed '^Author: '.
listed() {
	sed -n "s/$1//p" "$work/out"
}

# --- log --case: exactly the commits that touched the case -------------------
run ts -C "$node" log --case "$a"
check "log --case succeeds" exit_is 0
check "log --case: nothing on stderr" stderr_is_empty
listed '^commit ' >"$work/ours"
on_git "$node" log --format=%H -- "$path_a" >"$work/theirs"
check "log --case lists the commits stock git finds for the case's row" same_files "$work/ours" "$work/theirs"
check "log --case lists three commits" test "$(wc -l <"$work/ours")" -eq 3
listed '^Author: ' >"$work/ours"
printf '%s\n' "钱七" "张强" "王伟" >"$work/want"
check "log --case names the officers, newest first" same_files "$work/ours" "$work/want"
on_git "$node" log --format=%an -- "$path_a" >"$work/theirs"
check "stock git log agrees on the authors" same_files "$work/ours" "$work/theirs"
check "log --case names the node that recorded each change" \
	test "$(listed '^Node: *' | sort -u)" = "bj.dc.jingshan"
check "stock git has the node as the authors' e-mail part" \
	test "$(on_git "$node" log --format=%ae -- "$path_a" | sort -u)" = "bj.dc.jingshan"
check "log times are ISO-8601 with the +08:00 offset" \
	test "$(listed '^Date: *' | grep -c '^[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00$')" -eq 3
check "log --case lists the case's row as changed" stdout_has "cases $a (update)"
check "log --case lists the case's events too" stdout_has "case_events "
check "log --case shows each commit's message" stdout_has "派遣 小广告"
check "log --case leaves out the other case's commits" sh -c "! grep -q '露天烧烤' '$work/out'"

run ts -C "$node" log --case "$b"
listed '^Author: ' >"$work/ours"
on_git "$node" log --format=%an -- "$path_b" >"$work/theirs"
check "log --case of the other case: its own officers, as stock git says" same_files "$work/ours" "$work/theirs"

run ts -C "$node" log
check "log succeeds" exit_is 0
check "log lists every commit" test "$(listed '^commit ' | wc -l)" -eq "$(on_git "$node" rev-list --count HEAD)"
check "log counts the rows each commit changed" stdout_has "Rows:   1 inserted, 1 updated, 0 deleted"
run ts -C "$node" log -n 2
check "log -n 2 lists two commits" test "$(listed '^commit ' | wc -l)" -eq 2

run ts -C "$node" log --case "$a" --json
check "log --case --json succeeds" exit_is 0
check "log --case --json is valid JSON" json_valid "$work/out"
check "log --case --json has three commits" test "$(json_length "$work/out" '$.commits')" = 3
check "log --case --json: the newest is 钱七's" test "$(json_get "$work/out" '$.commits[0].author')" = "钱七"
check "log --case --json: the oldest is 王伟's" test "$(json_get "$work/out" '$.commits[2].author')" = "王伟"
check "log --case --json names the node" test "$(json_get "$work/out" '$.commits[1].node')" = "bj.dc.jingshan"
check "log --case --json lists the changed rows" \
	test "$(json_get "$work/out" '$.commits[1].rows[1].key')" = "$a"
run ts -C "$node" log --json
check "log --json is valid JSON" json_valid "$work/out"

# --- diff: old -> new, column by column ----------------------------------------
run ts -C "$node" diff HEAD~1 HEAD
check "diff HEAD~1 HEAD succeeds" exit_is 0
check "diff names the changed row" stdout_has "cases $a (update)"
check "diff shows the officer set" stdout_has "officer: \"张强\" -> \"钱七\""
check "diff leaves out the other case" sh -c "! grep -q '$b' '$work/out'"
cp "$work/out" "$work/last"
run ts -C "$node" diff
check "diff with no revisions is HEAD~1 against HEAD" same_files "$work/out" "$work/last"

run ts -C "$node" diff HEAD~3 HEAD~2
check "diff of the dispatch shows status old -> new" stdout_has "status: \"discovered\" -> \"dispatched\""
check "stock git diff shows the same old status" \
	sh -c "git --git-dir '$node/history.git' diff HEAD~3 HEAD~2 -- '$path_a' | grep -qx '.status \"discovered\"'"
check "stock git diff shows the same new status" \
	sh -c "git --git-dir '$node/history.git' diff HEAD~3 HEAD~2 -- '$path_a' | grep -qx '+status \"dispatched\"'"

run ts -C "$node" diff HEAD~2
check "diff REV compares REV with HEAD" stdout_has "officer: NULL -> \"赵六\""
check "  ...and takes in every commit since" stdout_has "officer: \"张强\" -> \"钱七\""

run ts -C "$node" diff HEAD~3 HEAD~2 --json
check "diff --json succeeds" exit_is 0
check "diff --json is valid JSON" json_valid "$work/out"
json_column() {
	sqlite3 :memory: "SELECT coalesce(c.value ->> '$2', 'null:' || json_type(c.value, '\$.$2'))
		FROM json_each(CAST(readfile('$work/out') AS TEXT), '\$.rows') AS r,
		     json_each(r.value, '\$.columns') AS c
		WHERE r.value ->> 'table' = 'cases' AND c.value ->> 'column' = '$1'"
}
check "diff --json: the status's old value" test "$(json_column status old)" = "discovered"
check "diff --json: the status's new value" test "$(json_column status new)" = "dispatched"
run ts -C "$node" diff HEAD~3 HEAD~2 --json
check "diff --json: a NULL is JSON null" test "$(json_column officer old)" = "null:null"

# --- blame: who set each column's current value --------------------------------
run ts -C "$node" blame cases "$a"
check "blame succeeds" exit_is 0
check "blame: nothing on stderr" stderr_is_empty
blamed() {
	grep "  $1 = " "$work/out"
}
check "blame names 张强 for the status" sh -c "grep '  status = \"dispatched\"\$' '$work/out' | grep -q '  张强  '"
check "blame names 王伟 for the address" sh -c "grep '  address = \"景山前街 4号\"\$' '$work/out' | grep -q '  王伟  '"
check "blame names 钱七 for the officer" sh -c "grep '  officer = \"钱七\"\$' '$work/out' | grep -q '  钱七  '"
status_commit=$(blamed status | cut -c1-12)
git_status_commit=$(on_git "$node" log --format=%H -S 'status "dispatched"' -- "$path_a" | cut -c1-12)
check "stock git's pickaxe finds the same commit for the status" test "$status_commit" = "$git_status_commit"
check "stock git names the same author for that commit" \
	test "$(on_git "$node" log -1 --format=%an "$status_commit")" = "张强"
check "blame lists every column of the row" \
	test "$(wc -l <"$work/out")" -eq "$(db "$node" "SELECT count(*) FROM pragma_table_info('cases')")"

run ts -C "$node" blame cases "$a" --json
check "blame --json succeeds" exit_is 0
check "blame --json is valid JSON" json_valid "$work/out"
check "blame --json names 张强 for the status" test "$(sqlite3 :memory: \
	"SELECT value ->> 'author' FROM json_each(CAST(readfile('$work/out') AS TEXT), '\$.columns')
	 WHERE value ->> 'column' = 'status'")" = "张强"
check "blame --json gives a NULL as JSON null" test "$(sqlite3 :memory: \
	"SELECT json_type(value, '\$.value') FROM json_each(CAST(readfile('$work/out') AS TEXT), '\$.columns')
	 WHERE value ->> 'column' = 'stage'")" = "null"

# --- bad input: one clear line, exit 1 (refused) or 2 (usage) ------------------
run ts -C "$node" diff foo
check "diff of a bad revision: exit 1" exit_is 1
check "  ...with one line on stderr" stderr_is_one_line
check "  ...naming the revision" stderr_has "unknown revision 'foo'"
check "  ...and nothing on stdout" test ! -s "$work/out"
run ts -C "$node" diff HEAD~1 HEAD~99
check "diff past the first commit: exit 1" exit_is 1
check "  ...with one line on stderr" stderr_is_one_line
run ts -C "$node" diff HEAD~1 HEAD --json foo
check "diff with three revisions: exit 2" exit_is 2

run ts -C "$node" blame nope "$a"
check "blame of an unknown table: exit 1" exit_is 1
check "  ...with one line on stderr" stderr_is_one_line
check "  ...naming the table" stderr_has "'nope'"
run ts -C "$node" blame cases bj.dc.jingshan-c19990101-0001
check "blame of an unknown row: exit 1" exit_is 1
check "  ...with one line on stderr" stderr_is_one_line
run ts -C "$node" blame cases
check "blame without a key: exit 2" exit_is 2
run ts -C "$node" log --case bj.dc.jingshan-c19990101-0001
check "log --case of a case history never saw: exit 1" exit_is 1
check "  ...with one line on stderr" stderr_is_one_line
check "  ...and nothing on stdout" test ! -s "$work/out"
run ts -C "$node" log -n many
check "log -n with no number: exit 2" exit_is 2
run ts -C "$node" log --bogus
check "log with an unknown option: exit 2" exit_is 2

# --- the auditor reads, never writes ----------------------------------------
snapshot "$node" "$work/after"
check "log, diff and blame change nothing" same_files "$work/before" "$work/after"
check "the history is still sound" fsck_clean "$node"
