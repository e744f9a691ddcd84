#!/bin/sh
# Edits made behind the node's back — with the sqlite3 shell on the database,
# or by damaging an object file of the history — are reported by `verify`
# (exit 1), naming the table, the key and the column. Undoing the edit makes
# verify pass again, and an untouched node never raises a false alarm.
. "$TS_TOP/tests/e2e/lib.sh"

pristine=$work/pristine
ts init "$pristine" --tier street --id bj.dc.jingshan --author "王伟" >/dev/null
case_id=$(ts -C "$pristine" case new --category small_ads --source patrol --address "景山前街 4号")
other_case=$(ts -C "$pristine" case new --category outdoor_bbq --source complaint --address "景山后街 12号")
ts -C "$pristine" case dispatch "$case_id" --officer "李娜" >/dev/null
ts -C "$pristine" commit -m "立案并派遣" >/dev/null
run ts -C "$pristine" verify
check "the untouched node verifies" exit_is 0

# Each scenario works on its own copy of the node.
fresh_copy() {
	rm -rf "$work/node"
	cp -a "$pristine" "$work/node"
	printf '%s\n' "$work/node"
}

# verify_reports DESCRIPTION TEXT...: verify exits 1 with one line on stderr,
# and its report on stdout names each TEXT.
verify_reports() {
	what=$1
	shift
	run ts -C "$node" verify
	check "$what: verify exits 1" exit_is 1
	check "$what: verify says so in one line on stderr" stderr_is_one_line
	for text in "$@"; do
		check "$what: the report names '$text'" stdout_has "$text"
	done
}

# --- a status changed with the sqlite3 shell ---------------------------------
node=$(fresh_copy)
db "$node" "UPDATE cases SET status = 'closed' WHERE id = '$case_id'"
verify_reports "a case closed with sqlite3" cases "$case_id" status
run ts -C "$node" verify --json
check "verify --json on the tampered node exits 1" exit_is 1
check "verify --json on the tampered node is valid JSON" json_valid "$work/out"
check "verify --json says ok=false" is "$(json_get "$work/out" '$.ok')" 0
check "verify --json names the table" is "$(json_get "$work/out" '$.problems[0].table')" cases
check "verify --json names the case" is "$(json_get "$work/out" '$.problems[0].key')" "$case_id"
check "verify --json names the column" is "$(json_get "$work/out" '$.problems[0].column')" status
check "verify --json gives history's value" is "$(json_get "$work/out" '$.problems[0].expected')" dispatched
check "verify --json gives the database's value" is "$(json_get "$work/out" '$.problems[0].actual')" closed
check "verify --json reports exactly one problem" is "$(json_length "$work/out" '$.problems')" 1
db "$node" "UPDATE cases SET status = 'dispatched' WHERE id = '$case_id'"
run ts -C "$node" verify
check "undoing the edit makes verify pass again" exit_is 0

# --- the same value written back is no change --------------------------------
node=$(fresh_copy)
db "$node" "UPDATE cases SET status = status, officer = officer"
run ts -C "$node" verify
check "rewriting the same values is not reported" exit_is 0

# --- NULL and the empty string are different values ---------------------------
node=$(fresh_copy)
db "$node" "UPDATE cases SET description = '' WHERE id = '$other_case'"
verify_reports "a NULL description made empty" cases "$other_case" description

# --- a number stored as text is a different value ----------------------------
node=$(fresh_copy)
db "$node" "UPDATE categories SET deadline_days = deadline_days + 1 WHERE code = 'small_ads'"
verify_reports "a category's deadline changed" categories small_ads deadline_days

# --- a row inserted behind the node's back --------------------------------------
node=$(fresh_copy)
db "$node" "INSERT INTO sources (code, name_zh) VALUES ('drone', '无人机')"
verify_reports "a source inserted with sqlite3" sources drone
db "$node" "DELETE FROM sources WHERE code = 'drone'"
run ts -C "$node" verify
check "removing the inserted row makes verify pass again" exit_is 0

# --- a row deleted behind the node's back --------------------------------------
node=$(fresh_copy)
db "$node" "DELETE FROM categories WHERE code = 'open_burning'"
verify_reports "a category deleted with sqlite3" categories open_burning

node=$(fresh_copy)
db "$node" "PRAGMA foreign_keys = OFF; DELETE FROM cases WHERE id = '$other_case'"
verify_reports "a case deleted with sqlite3" cases "$other_case"

# --- several edits are all reported ----------------------------------------------
node=$(fresh_copy)
db "$node" "UPDATE cases SET status = 'closed' WHERE id = '$case_id';
	INSERT INTO sources (code, name_zh) VALUES ('drone', '无人机');
	DELETE FROM categories WHERE code = 'open_burning';"
run ts -C "$node" verify --json
check "three edits: verify exits 1" exit_is 1
check "three edits: three problems reported" is "$(json_length "$work/out" '$.problems')" 3

# --- staged work is not tampering, an edit on top of it is ---------------------
node=$(fresh_copy)
ts -C "$node" case update "$case_id" --set description="三处小广告" --author "李娜" >/dev/null
run ts -C "$node" verify
check "a staged update is not tampering" exit_is 0
db "$node" "UPDATE cases SET description = '两处小广告' WHERE id = '$case_id'"
verify_reports "a staged value overwritten with sqlite3" cases "$case_id" description
run ts -C "$node" verify --json
check "  ...expected is the staged value" is "$(json_get "$work/out" '$.problems[0].expected')" "三处小广告"
check "  ...actual is the sqlite3 value" is "$(json_get "$work/out" '$.problems[0].actual')" "两处小广告"

# --- damage to history's object files ---------------------------------------------
# Whether the store keeps loose objects or packs, the damaged file is saved
# first and put back after, so that "restored" means byte for byte.
#
# Objects that a power loss could still take (written since the last
# checkpoint) are restored from the database's journal when the node opens;
# damage to objects already made durable is tampering, and verify reports
# it. So first commit until a checkpoint (every 128 commits) has made the
# head durable: the journal is then empty.
node=$(fresh_copy)
round=0
while [ "$(sqlite3 "$node/tiersync.db" 'SELECT count(*) FROM ts_journal')" != 0 ] && [ $round -lt 140 ]; do
	round=$((round + 1))
	ts -C "$node" case update "$other_case" --set description="巡查 $round" --author "李娜" >/dev/null
	ts -C "$node" commit -m "巡查 $round" >/dev/null
done
check "a checkpoint made the head durable within 140 commits" test "$round" -lt 140
case_path=$(row_path "$node" cases "$case_id")
blob=$(on_git "$node" rev-parse "HEAD:$case_path")
home=$(object_home "$node" "$blob" || true)
check "the case's row blob is stored in history.git/objects" test -n "$home"
cp -p "$home" "$work/saved-object"
damage_object "$node" "$blob"
check_not "stock git fsck sees the damaged object" on_git "$node" fsck --strict
run ts -C "$node" verify
check "a damaged row blob: verify exits 1" exit_is 1
check "a damaged row blob: one line on stderr" stderr_is_one_line
check "a damaged row blob: the report names the row" stdout_has "$case_path"
run ts -C "$node" verify --json
check "a damaged row blob: verify --json is valid JSON" json_valid "$work/out"
check "a damaged row blob: verify --json says ok=false" is "$(json_get "$work/out" '$.ok')" 0
cp -p "$work/saved-object" "$home"
run ts -C "$node" verify
check "the object restored: verify exits 0" exit_is 0
check "the object restored: stock git fsck is clean" fsck_clean "$node"

# A well-formed object file in place of another (zlib fine, hash wrong) can
# only be staged with loose objects; packs are covered by the damage above.
case $home in
*.pack) ;;
*)
	other_blob=$(on_git "$node" rev-parse "HEAD:$(row_path "$node" cases "$other_case")")
	cp "$(object_home "$node" "$other_blob")" "$home"
	run ts -C "$node" verify
	check "a row blob swapped for another case's: verify exits 1" exit_is 1
	check "a row blob swapped for another case's: the report names the row" stdout_has "$case_path"
	cp -p "$work/saved-object" "$home"
	;;
esac

# The head commit itself.
head=$(on_git "$node" rev-parse HEAD)
home=$(object_home "$node" "$head")
cp -p "$home" "$work/saved-commit"
damage_object "$node" "$head"
run ts -C "$node" verify
check "a damaged head commit: verify exits 1" exit_is 1
check "a damaged head commit: one line on stderr" stderr_is_one_line
check "a damaged head commit: the output names the commit" output_has "$head"
cp -p "$work/saved-commit" "$home"
run ts -C "$node" verify
check "the commit restored: verify exits 0" exit_is 0
check "the commit restored: stock git fsck is clean" fsck_clean "$node"
