#!/bin/sh
# The tour of a street office's first day: set up the node, record a case,
# dispatch it, commit, and check with stock git and sqlite3 that history
# names the officer, the node and the values, and that the database agrees.
. "$TS_TOP/tests/e2e/lib.sh"

node=$work/jingshan
address="景山前街 4号"

run ts init "$node" --tier street --id bj.dc.jingshan
check "init succeeds quietly" exit_is 0
check "init says what it made" stdout_has "bj.dc.jingshan"
check "init: nothing on stderr" stderr_is_empty
check "a new node's history is sound" fsck_clean "$node"

# --- a case is found on patrol and dispatched --------------------------------
run ts -C "$node" case new --category small_ads --source patrol --address "$address" --author "王伟"
check "case new succeeds" exit_is 0
case_id=$(cat "$work/out")
check "case new prints the new id, prefixed with the node id" \
	expr "$case_id" : 'bj\.dc\.jingshan-c[0-9]*-[0-9]*$'

run ts -C "$node" case dispatch "$case_id" --officer "李娜" --author "李娜"
check "case dispatch succeeds" exit_is 0
check "case dispatch: nothing on stderr" stderr_is_empty

run ts -C "$node" status
check "status succeeds" exit_is 0
check "status counts the two staged writes" stdout_has "2 staged writes"
run ts -C "$node" status --json
check "status --json is valid JSON" json_valid "$work/out"
check "status --json lists two staged writes" is "$(json_length "$work/out" '$.staged')" 2
check "the database holds the two staged writes" is "$(db "$node" 'SELECT count(*) FROM ts_staged')" 2

message="派遣李娜处理小广告"
run ts -C "$node" commit -m "$message" --author "李娜"
check "commit succeeds" exit_is 0
check "commit says what it committed" stdout_has "committed "
commit_id=$(sed -n 's/^committed //p' "$work/out")

run ts -C "$node" status
check "after the commit nothing is staged" stdout_has "nothing staged"
run ts -C "$node" status --json
check "status --json after the commit: an empty list" is "$(json_length "$work/out" '$.staged')" 0

# --- stock git judges the history --------------------------------------------
check "the acknowledged commit is HEAD" is "$(on_git "$node" rev-parse HEAD)" "$commit_id"
check "git log names the officer as author, with the message" \
	is "$(on_git "$node" log -1 --format='%an %s')" "李娜 $message"
check "the committer is the node" is "$(on_git "$node" log -1 --format=%cn)" "bj.dc.jingshan"
check "the commit's parent is the init commit" is "$(on_git "$node" rev-list --count HEAD)" 2
check "git fsck --strict finds the history clean" fsck_clean "$node"

case_path=$(row_path "$node" cases "$case_id" || true)
check "the case is one row blob under cases/" test -n "$case_path"
on_git "$node" show "HEAD:$case_path" >"$work/row" 2>&1 || true
check "the row blob is a blob" is "$(on_git "$node" cat-file -t "HEAD:$case_path")" blob
check "the row blob is readable text" grep -qI . "$work/row"
check "the row blob holds the status" file_has "$work/row" 'status "dispatched"'
check "the row blob holds the officer" file_has "$work/row" 'officer "李娜"'
check "the row blob holds the Chinese address" file_has "$work/row" "\"$address\""

check "sqlite3 agrees: the case is dispatched" \
	is "$(db "$node" "SELECT status FROM cases WHERE id = '$case_id'")" dispatched
check "sqlite3 agrees: one case" is "$(db "$node" 'SELECT count(*) FROM cases')" 1

# --- reading: sql, show, list ------------------------------------------------
run ts -C "$node" sql "SELECT status, officer FROM cases WHERE id = '$case_id'"
check "sql reads" exit_is 0
check "sql shows the status" stdout_has "dispatched"
run ts -C "$node" sql "SELECT id, status, address FROM cases" --json
check "sql --json is valid JSON" json_valid "$work/out"
check "sql --json carries the Chinese address intact" \
	is "$(json_get "$work/out" '$[0].address')" "$address"

run ts -C "$node" case show "$case_id" --json
check "case show --json is valid JSON" json_valid "$work/out"
check "case show --json: the status" is "$(json_get "$work/out" '$.case.status')" dispatched
run ts -C "$node" case show "$case_id"
check "case show in text names the officer" stdout_has "李娜"
run ts -C "$node" case list --status dispatched --json
check "case list --json is valid JSON" json_valid "$work/out"
check "case list --status dispatched finds the case" is "$(json_get "$work/out" '$[0].id')" "$case_id"
run ts -C "$node" case list --status closed --json
check "case list --status closed finds nothing" is "$(json_get "$work/out" '$[0].id')" ""

# --- sql never writes ----------------------------------------------------------
snapshot "$node" "$work/before"
sqlite3 "$work/other.db" "CREATE TABLE t (x); INSERT INTO t VALUES (1);"
for query in \
	"UPDATE cases SET status = 'closed'" \
	"DELETE FROM cases" \
	"INSERT INTO sources (code, name_zh) VALUES ('drone', '无人机')" \
	"DROP TABLE cases" \
	"ATTACH DATABASE '$work/other.db' AS other" \
	"SELECT 1; DELETE FROM cases"
do
	run ts -C "$node" sql "$query"
	check "sql refuses: $query" exit_is 1
	check "sql refusal is one line: $query" stderr_is_one_line
done
snapshot "$node" "$work/after"
check "the refused queries changed nothing" same_files "$work/before" "$work/after"

run ts -C "$node" verify
check "verify: the database equals its history" exit_is 0
run ts -C "$node" verify --json
check "verify --json is valid JSON" json_valid "$work/out"
check "verify --json says ok" is "$(json_get "$work/out" '$.ok')" 1
check "verify --json names the head" is "$(json_get "$work/out" '$.head')" "$commit_id"

# --- staged work lives in the database, not in a process ---------------------
run ts -C "$node" case update "$case_id" --set description="门店外墙张贴小广告三处" --author "李娜" --json
check "an update is staged" exit_is 0
check "case update --json is valid JSON" json_valid "$work/out"
# every command below is a fresh process: the staged write must come from the db
run ts -C "$node" status
check "a fresh status sees the staged write" stdout_has "1 staged write"
run ts -C "$node" verify
check "verify accepts the database as history plus the staged write" exit_is 0
check "sqlite3 sees the staged value in the case" \
	is "$(db "$node" "SELECT description FROM cases WHERE id = '$case_id'")" "门店外墙张贴小广告三处"
check "sqlite3 sees one staged changeset" is "$(db "$node" 'SELECT count(*) FROM ts_staged')" 1

run ts -C "$node" commit -m "补充描述" --json
check "commit --json succeeds" exit_is 0
check "commit --json is valid JSON" json_valid "$work/out"
second=$(json_get "$work/out" '$.commit')
check "commit --json names the new HEAD" is "$(on_git "$node" rev-parse HEAD)" "$second"
check "without --author, the staged write's officer is the author" \
	is "$(on_git "$node" log -1 --format=%an)" "李娜"
check "history holds the staged description" \
	sh -c 'git --git-dir "$1/history.git" show "HEAD:$2" | grep -qF "门店外墙张贴小广告三处"' - "$node" "$case_path"
check "the earlier commit still holds the old description (null)" \
	sh -c 'git --git-dir "$1/history.git" show "HEAD~1:$2" | grep -qx "description null"' - "$node" "$case_path"
run ts -C "$node" status
check "nothing staged after the second commit" stdout_has "nothing staged"
run ts -C "$node" verify
check "verify still passes" exit_is 0
check "git fsck --strict still clean" fsck_clean "$node"

# each step is also an append-only case event
check "the case has an intake and two more events" \
	is "$(db "$node" "SELECT count(*) FROM case_events WHERE case_id = '$case_id'")" 3
