#!/bin/sh
# The parties of a case (当事人) on the command line: a street office records
# a person found on two of its cases and a business found on three, edits a
# phone, and lists them as repeat offenders (屡查屡犯), checked against a
# query of our own on the street's database; identity numbers are masked
# unless asked for. A bad identity number, an unknown case and another
# street's case are refused with one line and change nothing. The district
# sees the same offenders once the work is merged. sqlite3 and stock git
# judge.
. "$TS_TOP/tests/e2e/lib.sh"

dc=$work/dc
st=$work/jingshan
other=$work/donghuamen
ts init "$dc" --tier district --id bj.dc --author "张区" >/dev/null
city_above "$dc" bj.dc
ts init "$st" --tier street --id bj.dc.jingshan --upstream "$dc" --author "李街" >/dev/null
ts init "$other" --tier street --id bj.dc.donghuamen --upstream "$dc" --author "赵强" >/dev/null
enroll "$dc" bj.dc.jingshan "$st/id_ed25519.pub"
enroll "$dc" bj.dc.donghuamen "$other/id_ed25519.pub"

# valid numbers: 身份证号 and 统一社会信用代码 whose check characters hold
zhang_id=11010519491231002X
shop_code=91350100M000100Y43

# a case of the street, taken to its educate step (教育核录) by 王伟
new_case() {
	_c=$(ts -C "$st" case new --category outside_store --source patrol --address "景山前街 $1号" --author "王伟")
	ts -C "$st" case dispatch "$_c" --officer "王伟" --author "王伟" >/dev/null
	ts -C "$st" case educate "$_c" --author "王伟" >/dev/null
	printf '%s\n' "$_c"
}
c1=$(new_case 1)
c2=$(new_case 2)
c3=$(new_case 3)

# --- recording parties ----------------------------------------------------------
run ts -C "$st" party add "$c1" --kind person --name "张三" --id-number 11010519491231002x --phone "138-0013-8000" --author "王伟"
check "a person is recorded on the first case" exit_is 0
zhang1=$(cat "$work/out")
check "  ...with the number in its normal form and the phone as digits" \
	is "$(db "$st" "SELECT kind || '|' || name || '|' || id_number || '|' || phone FROM parties WHERE id = '$zhang1'")" \
	"person|张三|$zhang_id|13800138000"
check "  ...and a note in the case's record, by the officer, without the number" \
	is "$(db "$st" "SELECT officer || '|' || detail FROM case_events WHERE case_id = '$c1' AND kind = 'note'")" \
	"王伟|party $zhang1 recorded: person 张三"
run ts -C "$st" party add "$c2" --kind person --name "张三" --id-number "$zhang_id" --json --author "王伟"
check "the same person on the second case (--json)" exit_is 0
check "  ...answers JSON" json_valid "$work/out"
zhang2=$(json_get "$work/out" '$.id')
for c in "$c1" "$c2" "$c3"; do
	run ts -C "$st" party add "$c" --kind business --name "景山小卖部" --id-number "$shop_code" --address "景山前街 1号" --author "王伟"
	check "the business on case $c" exit_is 0
done
shop3=$(cat "$work/out")
run ts -C "$st" party add "$c3" --kind person --name "李四" --phone "13900001111" --author "王伟"
check "a person found once, by name and phone" exit_is 0
li=$(cat "$work/out")

run ts -C "$st" party edit "$li" --phone "139 0000 2222" --address "景山后街 9号" --author "王伟"
check "the person's phone and address are edited" exit_is 0
check "  ...in the database" \
	is "$(db "$st" "SELECT phone || '|' || address FROM parties WHERE id = '$li'")" "13900002222|景山后街 9号"
check "  ...and the note names the fields, not the values" \
	is "$(db "$st" "SELECT detail FROM case_events WHERE case_id = '$c3' AND detail LIKE '%edited%'")" \
	"party $li (李四) edited: phone address"

run ts -C "$st" commit -m "当事人" --author "王伟"
check "the parties are committed" exit_is 0
check "git: the commit names the officer" is "$(on_git "$st" log -1 --format=%an)" "王伟"
check "git: a party is a row blob of history" row_path "$st" parties "$shop3"
check "git: the history is sound" fsck_clean "$st"

# --- the list: masked unless asked ----------------------------------------------
run ts -C "$st" party list "$c1"
check "party list shows the case's parties" stdout_has "张三"
check "  ...with the identity number masked" stdout_has "110105********002X"
check "  ...and never whole" sh -c "! grep -q '$zhang_id' '$work/out'"
run ts -C "$st" party list "$c1" --show-id --json
check "party list --show-id --json is valid JSON" json_valid "$work/out"
check "  ...with two parties" is "$(json_length "$work/out" '$')" 2
check "  ...and the number whole" is "$(json_get "$work/out" '$[0].id_number')" "$zhang_id"

# --- repeat offenders, against a query of our own ---------------------------------
year=$(TZ=Asia/Shanghai date +%Y)
run ts -C "$st" party list --repeat --json
check "party list --repeat --json is valid JSON" json_valid "$work/out"
check "  ...two offenders" is "$(json_length "$work/out" '$.offenders')" 2
check "  ...the business first, on three cases" \
	is "$(json_get "$work/out" '$.offenders[0].name')/$(json_get "$work/out" '$.offenders[0].ncases')" "景山小卖部/3"
check "  ...then the person, on two, matched by 身份证号" \
	is "$(json_get "$work/out" '$.offenders[1].name')/$(json_get "$work/out" '$.offenders[1].ncases')/$(json_get "$work/out" '$.offenders[1].matched_by')" \
	"张三/2/id_number"
check "  ...masked" is "$(json_get "$work/out" '$.offenders[1].id_number')" "110105********002X"
check "  ...the period is this year" is "$(json_get "$work/out" '$.period.from')" "$year-01-01T00:00:00+08:00"
sqlite3 :memory: "SELECT json_extract(o.value, '\$.kind') || '|' || json_extract(o.value, '\$.ncases') || '|'
	|| json_extract(k.value, '\$.case_id')
	FROM json_each(CAST(readfile('$work/out') AS TEXT), '\$.offenders') o, json_each(o.value, '\$.cases') k" |
	sort >"$work/repeat.cli"
# ours: group the parties of the year's cases by kind and identity (the
# number, else name with phone or address), two cases or more
db "$st" "WITH x AS (
	SELECT p.kind, p.case_id,
	       coalesce('#' || p.id_number, p.name || '/' || CASE p.kind WHEN 'person' THEN p.phone ELSE p.address END) AS who
	FROM parties p, cases c
	WHERE c.id = p.case_id AND substr(c.reported_at, 1, 4) = '$year'
	  AND (c.jurisdiction = 'bj.dc.jingshan' OR c.jurisdiction LIKE 'bj.dc.jingshan.%')),
	g AS (SELECT kind, who, count(DISTINCT case_id) AS n FROM x WHERE who IS NOT NULL GROUP BY kind, who HAVING n > 1)
	SELECT DISTINCT x.kind || '|' || g.n || '|' || x.case_id FROM x JOIN g ON g.kind = x.kind AND g.who = x.who" |
	sort >"$work/repeat.sql"
check "the offenders and their cases are those sqlite3 finds" same_files "$work/repeat.cli" "$work/repeat.sql"
check "  ...five case rows in all" is "$(wc -l <"$work/repeat.sql" | tr -d ' ')" 5
# and the query docs/PARTIES.md gives, re-run as it stands there
awk '/^## Repeat offenders/ { f = 1 } f && /^```sql/ { g = 1; next } g && /^```/ { exit } g { print }' \
	"$TS_TOP/docs/PARTIES.md" >"$work/doc.sql"
{
	cat <<EOF
.param set :scope "'bj.dc.jingshan'"
.param set :from "'$year-01-01T00:00:00+08:00'"
.param set :to "'$((year + 1))-01-01T00:00:00+08:00'"
.param set :min 2
EOF
	cat "$work/doc.sql"
} | db "$st" -separator '|' |
	awk -F'|' '{ split($2, k, ","); gsub(/[\["]/, "", k[1]); print k[1] "|" $1 "|" $3 }' | sort -u >"$work/repeat.doc"
check "the query of docs/PARTIES.md finds the same" same_files "$work/repeat.cli" "$work/repeat.doc"
run ts -C "$st" party list --repeat --show-id
check "party list --repeat for people shows the number with --show-id" stdout_has "$zhang_id"
check "  ...and the cases" stdout_has "$c2"
run ts -C "$st" party list --repeat --min-cases 3 --json
check "--min-cases 3 leaves the business alone" is "$(json_length "$work/out" '$.offenders')" 1
run ts -C "$st" party list --repeat --period 2015
check "a period without those cases lists none" stdout_has "no repeat offenders"

# --- refusals ---------------------------------------------------------------------
forbidden "a 身份证号 with a wrong check character" "check character" "$st" \
	ts -C "$st" party add "$c3" --kind person --name "王五" --id-number 110105194912310021
forbidden "a credit code with a letter it never has" "统一社会信用代码" "$st" \
	ts -C "$st" party add "$c3" --kind business --name "早点摊" --id-number 91350100M0001O0Y43
forbidden "an unknown case" "no case" "$st" \
	ts -C "$st" party add "bj.dc.jingshan-c20150101-9" --kind person --name "王五"
forbidden "the same business twice on a case" "already a party" "$st" \
	ts -C "$st" party add "$c3" --kind business --name "景山小卖部" --id-number "$shop_code"
forbidden "an edit to a bad 身份证号" "check character" "$st" \
	ts -C "$st" party edit "$li" --id-number 110105194912310021

# a case at the penalize step: its party needs an identity number, and the CLI names the flag
c4=$(new_case 4)
ts -C "$st" case warn "$c4" --author "王伟" >/dev/null
ts -C "$st" case penalize "$c4" --author "王伟" >/dev/null
forbidden "a penalty's party without a number" "needs its 身份证号; give it with --id-number" "$st" \
	ts -C "$st" party add "$c4" --kind person --name "王五" --phone 13700000000
run ts -C "$st" party add "$c4" --kind person --name "王五" --id-number 110101198001011232 --phone 13700000000
check "  ...and with it, recorded" exit_is 0

# another street's case, arrived at this street through the district
oc=$(ts -C "$other" case new --category outside_store --source patrol --address "东华门大街 5号" --author "赵强")
ts -C "$other" commit -m "东华门" >/dev/null
ts -C "$other" push >/dev/null
ts -C "$dc" merge --submissions >/dev/null
ts -C "$st" push >/dev/null
ts -C "$dc" merge --submissions >/dev/null
ts -C "$st" pull >/dev/null
check "the other street's case reached this street" \
	is "$(db "$st" "SELECT jurisdiction FROM cases WHERE id = '$oc'")" "bj.dc.donghuamen"
forbidden "another street's case" "outside this node's jurisdiction" "$st" \
	ts -C "$st" party add "$oc" --kind person --name "王五" --phone 13700000000

# bad usage: exit 2, naming the flag
snapshot "$st" "$work/before"
run ts -C "$st" party add "$c3" --name "王五"
check "a party without --kind is bad usage (exit 2)" exit_is 2
check "  ...naming --kind" stderr_has "--kind"
run ts -C "$st" party list --repeat --period 2015-13
check "a bad period is bad usage (exit 2)" exit_is 2
check "  ...in one line" stderr_is_one_line
run ts -C "$st" party list "$c1" --period 2015
check "--period without --repeat is bad usage (exit 2)" exit_is 2
run ts -C "$st" party edit "$li"
check "an edit of nothing is bad usage (exit 2)" exit_is 2
run ts -C "$st" party
check "no verb is bad usage (exit 2)" exit_is 2
snapshot "$st" "$work/after"
check "  ...and none of it changed anything" same_files "$work/before" "$work/after"
run ts -C "$st" party --help
check "party --help" stdout_has "party list --repeat"

# --- the district sees the same offenders -------------------------------------------
run ts -C "$dc" party list --repeat --json
check "the district lists the street's repeat offenders" is "$(json_length "$work/out" '$.offenders')" 2
check "  ...the business on three cases" is "$(json_get "$work/out" '$.offenders[0].ncases')" 3
run ts -C "$st" verify
check "the street verifies" exit_is 0
