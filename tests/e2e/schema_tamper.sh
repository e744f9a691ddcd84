#!/bin/sh
# The database's own schema is guarded like its rows: a trigger planted with
# the sqlite3 shell fires on the next case update, but `commit` refuses to
# record anything (its write included) while the schema differs from what
# the migrations made, and `verify` names the trigger. An index dropped or a
# CHECK taken out of a table through PRAGMA writable_schema is listed too;
# putting the schema back lets the node commit again.
. "$TS_TOP/tests/e2e/lib.sh"

node=$work/jingshan
ts init "$node" --tier street --id bj.dc.jingshan --author "王伟" >/dev/null
case_id=$(ts -C "$node" case new --category small_ads --source patrol --address "景山前街 4号")
ts -C "$node" commit -m "立案" >/dev/null
run ts -C "$node" verify
check "the untouched node verifies" exit_is 0
head_before=$(on_git "$node" rev-parse HEAD)

# --- a trigger planted with the sqlite3 shell ---------------------------------
db "$node" "CREATE TRIGGER planted AFTER UPDATE ON cases BEGIN
	INSERT INTO patrols (id, officers, jurisdiction, started_at)
	VALUES ('planted', '暗中写入', new.jurisdiction, '2015-01-01T00:00:00+08:00'); END;"
run ts -C "$node" case update "$case_id" --set description=路边摊 --author "李娜"
check "the case update itself goes through (the write is staged)" exit_is 0
check "sqlite3: the planted trigger fired" is "$(db "$node" "SELECT count(*) FROM patrols WHERE id = 'planted'")" 1
run ts -C "$node" commit -m "更新" --author "李娜"
check "commit refuses while the schema differs" exit_is 1
check "  ...with one line" stderr_is_one_line
check "  ...naming the trigger" stderr_has "planted"
check "  ...and saying verify lists the differences" stderr_has "verify lists"
check "git: nothing was recorded" is "$(on_git "$node" rev-parse HEAD)" "$head_before"
check "git: the trigger's row is in no commit" sh -c "! git --git-dir '$node/history.git' grep -q planted HEAD -- patrols"
run ts -C "$node" verify
check "verify exits 1" exit_is 1
check "  ...names the trigger" stdout_has "schema planted: trigger added outside tiersync"
run ts -C "$node" verify --json
check "verify --json is valid JSON" json_valid "$work/out"
check "verify --json: the trigger is a schema problem" \
	is "$(sqlite3 :memory: "SELECT count(*) FROM json_each(json_extract(CAST(readfile('$work/out') AS TEXT), '\$.problems'))
		WHERE json_extract(value, '\$.table') = 'schema' AND json_extract(value, '\$.key') = 'planted'
		AND json_extract(value, '\$.problem') = 'trigger added outside tiersync'
		AND json_extract(value, '\$.actual') LIKE 'CREATE TRIGGER planted%'")" 1

# --- put back: the node commits again ------------------------------------------
db "$node" "DROP TRIGGER planted"
run ts -C "$node" commit -m "更新" --author "李娜"
check "with the trigger gone, commit goes through" exit_is 0

# --- an index dropped; a CHECK removed through writable_schema ----------------
db "$node" "DROP INDEX cases_status"
run ts -C "$node" verify
check "a dropped index: verify exits 1" exit_is 1
check "  ...and names it" stdout_has "schema cases_status: index dropped"
db "$node" "CREATE INDEX cases_status ON cases (status)"
run ts -C "$node" verify
check "the index made again as the migration made it: verify passes" exit_is 0

db "$node" "PRAGMA writable_schema = ON;
	UPDATE sqlite_master SET sql = replace(sql, 'CHECK (satisfaction IN (''satisfied'', ''basically_satisfied'', ''dissatisfied''))', '')
	WHERE name = 'cases';"
run ts -C "$node" verify
check "a CHECK removed through writable_schema: verify exits 1" exit_is 1
check "  ...naming the table" stdout_has "schema cases: table definition changed"
ts -C "$node" case update "$case_id" --set description=再次 --author "李娜" >/dev/null
run ts -C "$node" commit -m "再次" --author "李娜"
check "  ...and commit refuses" exit_is 1
check "  ...naming the table" stderr_has "table definition changed"
