#!/bin/sh
# A street office's cases through their whole lifecycle, on the command
# line: closed on education, penalized, a major case with legal review and
# filing-up, a transfer, a complaint with its return visit. Every forbidden
# step is refused with one line saying why, and changes nothing. The
# district sets the rules (a street may not); they reach the street and its
# device by pull. sqlite3, stock git and `tiersync verify` judge.
. "$TS_TOP/tests/e2e/lib.sh"

district=$work/dc
street=$work/jingshan
device=$work/d07
ts init "$district" --tier district --id bj.dc --author "张敏" >/dev/null
city_above "$district" bj.dc
ts init "$street" --tier street --id bj.dc.jingshan --upstream "$district" --author "值班员" >/dev/null
ts init "$device" --tier device --id bj.dc.jingshan.d07 --upstream "$street" --author "王伟" >/dev/null
enroll "$district" bj.dc.jingshan "$street/id_ed25519.pub"
enroll "$street" bj.dc.jingshan.d07 "$device/id_ed25519.pub"

# misused DESCRIPTION FLAG NODE COMMAND...: bad usage (exit 2), one line on
# stderr that names FLAG, and the node exactly as before.
misused() {
	_misused=$1
	_flag=$2
	_node=$3
	shift 3
	snapshot "$_node" "$work/before"
	run "$@"
	check "$_misused: bad usage (exit 2)" exit_is 2
	check "$_misused: one line on stderr" stderr_is_one_line
	check "$_misused: names $_flag" stderr_has "$_flag"
	snapshot "$_node" "$work/after"
	check "$_misused: changes nothing" same_files "$work/before" "$work/after"
}

# step ID VERB [ARGS...]: one step at the street, committed on its own so
# that history names its officer.
step() {
	_id=$1
	_verb=$2
	shift 2
	run ts -C "$street" case "$_verb" "$_id" "$@"
	check "$_verb $_id" exit_is 0
	ts -C "$street" commit -m "$_verb" >/dev/null
}

# events ID: the kinds of the case's events, oldest first, as sqlite3 reads them.
events() {
	db "$street" "SELECT group_concat(kind, ' ') FROM (SELECT kind FROM case_events
		WHERE case_id = '$1' ORDER BY at, id)"
}

# --- the rules: the district's, not the street's ------------------------------
forbidden "a street setting the major-case threshold" "city or a district" "$street" \
	ts -C "$street" case rules --major-threshold 5000 --author "值班员"
run ts -C "$district" case rules --major-threshold 5000 --deadline small_ads=5 --author "张敏"
check "the district sets the threshold and a deadline" exit_is 0
check "sqlite3: the district's rules, in fen, by name" \
	is "$(db "$district" "SELECT group_concat(rule || ':' || category || ':' || value || ':' || set_by, ' ')
		FROM (SELECT * FROM case_rules WHERE scope = 'bj.dc' ORDER BY rule)")" \
	"deadline_days:small_ads:5:张敏 major_threshold::500000:张敏"
ts -C "$district" commit -m "案件规则" >/dev/null
run ts -C "$street" pull
check "the street pulls the rules" exit_is 0
run ts -C "$street" case rules --json
check "case rules --json is valid JSON" json_valid "$work/out"
check "  ...the street works under the district's threshold" is "$(json_get "$work/out" '$.major_threshold.fen')" 500000
check "  ...and says whose it is" is "$(json_get "$work/out" '$.major_threshold.scope')" bj.dc
check "  ...small ads: 5 days" is "$(sqlite3 :memory: "SELECT json_extract(value, '\$.deadline_days')
	FROM json_each(CAST(readfile('$work/out') AS TEXT), '\$.categories')
	WHERE json_extract(value, '\$.category') = 'small_ads'")" 5
check "  ...new illegal building is penalized at once" is "$(sqlite3 :memory: "SELECT json_extract(value, '\$.immediate_penalty')
	FROM json_each(CAST(readfile('$work/out') AS TEXT), '\$.categories')
	WHERE json_extract(value, '\$.category') = 'illegal_building'")" 1
run ts -C "$street" case rules
check "case rules for people names the jurisdiction" stdout_has "bj.dc.jingshan"

# --- 1. small ads, closed on education ---------------------------------------
ads=$(ts -C "$street" case new --category small_ads --source patrol --address "景山前街 4号" --author "王伟")
ts -C "$street" commit -m "发现" >/dev/null
check "sqlite3: small ads' deadline is the district's 5 days" \
	is "$(db "$street" "SELECT julianday(substr(deadline, 1, 19)) - julianday(substr(reported_at, 1, 19))
		FROM cases WHERE id = '$ads'")" 5.0
misused "dispatching without an officer" "needs --officer NAME" "$street" \
	ts -C "$street" case dispatch "$ads" --author "张敏"
forbidden "educating an undispatched case" "not dispatched" "$street" \
	ts -C "$street" case educate "$ads" --author "李娜"
step "$ads" dispatch --officer "李娜" --author "张敏"
forbidden "penalizing small ads before educating" "neither educated nor warned" "$street" \
	ts -C "$street" case penalize "$ads" --author "李娜"
forbidden "warning before educating" "not been educated" "$street" \
	ts -C "$street" case warn "$ads" --author "李娜"
step "$ads" educate --note "当事人自行清除" --author "李娜"
forbidden "closing before the feedback" "no feedback" "$street" \
	ts -C "$street" case close "$ads" --author "李娜"
step "$ads" feedback --author "李娜"
step "$ads" close --author "李娜"
check "sqlite3: closed on education" \
	is "$(db "$street" "SELECT status || ' ' || stage || ' ' || (closed_at IS NOT NULL) FROM cases WHERE id = '$ads'")" \
	"closed educate 1"
check "sqlite3: its events" is "$(events "$ads")" "intake dispatch educate feedback close"
forbidden "editing a closed case" "closed" "$street" \
	ts -C "$street" case update "$ads" --set description="补记" --author "李娜"
forbidden "stepping a closed case" "closed" "$street" \
	ts -C "$street" case warn "$ads" --author "李娜"

# --- 2. a store's outside trading, penalized ----------------------------------
store=$(ts -C "$street" case new --category outside_store --source video --address "景山后街 9号" --author "王伟")
ts -C "$street" commit -m "发现" >/dev/null
step "$store" dispatch --officer "陈刚" --author "张敏"
step "$store" educate --author "陈刚"
step "$store" warn --author "陈刚"
forbidden "deciding a penalty before the penalize step" "not being penalized" "$street" \
	ts -C "$street" case decide "$store" --basis "条例" --amount 200 --author "陈刚"
step "$store" penalize --author "陈刚"
forbidden "deciding a penalty on an unfiled case" "not filed" "$street" \
	ts -C "$street" case decide "$store" --basis "条例" --amount 200 --author "陈刚"
forbidden "executing an undecided penalty" "no penalty decision" "$street" \
	ts -C "$street" case execute "$store" --author "陈刚"
step "$store" file --author "陈刚"
misused "deciding a penalty without its legal basis" "needs --basis TEXT" "$street" \
	ts -C "$street" case decide "$store" --amount 200 --author "陈刚"
forbidden "an amount with three decimals" "yuan" "$street" \
	ts -C "$street" case decide "$store" --basis "条例" --amount 200.001 --author "陈刚"
step "$store" decide --basis "《北京市市容环境卫生条例》第五十条" --amount 200.50 --author "陈刚"
step "$store" execute --author "陈刚"
step "$store" feedback --author "陈刚"
step "$store" close --author "陈刚"
check "sqlite3: 200.50 yuan is stored as 20050 fen, not major" \
	is "$(db "$street" "SELECT penalty_amount || ' ' || major || ' ' || status FROM cases WHERE id = '$store'")" \
	"20050 0 closed"
check "sqlite3: its events" is "$(events "$store")" \
	"intake dispatch educate warn penalize file decide execute feedback close"

# --- 3. new illegal building: major, reviewed, filed up -----------------------
building=$(ts -C "$street" case new --category illegal_building --source patrol --address "景山东街 2号院" --author "王伟")
ts -C "$street" commit -m "发现" >/dev/null
step "$building" dispatch --officer "李娜" --author "张敏"
step "$building" penalize --note "新生违建, 零容忍" --author "李娜"
step "$building" file --author "李娜"
step "$building" decide --basis "《城乡规划法》第六十四条" --amount 8000 --author "李娜"
check "sqlite3: 8000 yuan reaches the district's 5000: major, review pending" \
	is "$(db "$street" "SELECT major || ' ' || review_status FROM cases WHERE id = '$building'")" "1 pending"
forbidden "executing a major penalty before its review" "pending" "$street" \
	ts -C "$street" case execute "$building" --author "李娜"
forbidden "a legal review at the street" "made at the district (bj.dc)" "$street" \
	ts -C "$street" case review "$building" --approve --reviewer "赵法" --author "赵法"
# the legal staff are at the district: the decision goes up, the review comes down
up_and_back() {
	run ts -C "$street" push
	check "the street pushes the decision" exit_is 0
	run ts -C "$district" merge --submissions
	check "the district merges it" exit_is 0
	sleep 1
	run ts -C "$district" case review "$building" $2 --reviewer "赵法" --author "赵法"
	check "review $2 at the district" exit_is 0
	ts -C "$district" commit -m "$1" >/dev/null
	run ts -C "$street" pull
	check "the street pulls the review" exit_is 0
	# events order by their time, to the second: the review after the decision
	# on another node, and the next step after the review
	sleep 1
}
up_and_back "法制审核" --reject
step "$building" decide --basis "《城乡规划法》第六十四条" --amount 6000 --author "李娜"
up_and_back "法制审核" --approve
step "$building" execute --note "已拆除" --author "李娜"
step "$building" feedback --author "李娜"
forbidden "closing a major case not filed up" "not filed up" "$street" \
	ts -C "$street" case close "$building" --author "李娜"
step "$building" file-up --author "张敏"
step "$building" close --author "张敏"
check "sqlite3: approved by 赵法, filed up, closed" \
	is "$(db "$street" "SELECT review_status || ' ' || reviewer || ' ' || (filed_up_at IS NOT NULL) || ' ' || status
		FROM cases WHERE id = '$building'")" "approved 赵法 1 closed"
check "sqlite3: its events" is "$(events "$building")" \
	"intake dispatch penalize file decide review decide review execute feedback file_up close"

# --- 4. gas at a stall, transferred -------------------------------------------
gas=$(ts -C "$street" case new --category gas_safety --source referral --address "景山西街 1号" --author "王伟")
ts -C "$street" commit -m "发现" >/dev/null
step "$gas" dispatch --officer "陈刚" --author "张敏"
step "$gas" educate --author "陈刚"
misused "a transfer that names no department" "needs --to DEPARTMENT" "$street" \
	ts -C "$street" case transfer "$gas" --author "陈刚"
step "$gas" transfer --to "区燃气办" --author "陈刚"
forbidden "stepping a transferred case" "transferred" "$street" \
	ts -C "$street" case warn "$gas" --author "陈刚"
forbidden "editing a transferred case" "transferred" "$street" \
	ts -C "$street" case update "$gas" --set description="补记" --author "陈刚"
check "sqlite3: transferred to 区燃气办" \
	is "$(db "$street" "SELECT status || ' ' || transfer_to FROM cases WHERE id = '$gas'")" "transferred 区燃气办"

# --- 5. a complaint about a stall, with its return visit ----------------------
stall=$(ts -C "$street" case new --category unlicensed_vending --source complaint --address "地安门内大街 23号" \
	--set complainant_phone=13800138000 --author "王伟")
ts -C "$street" commit -m "12345 工单" >/dev/null
step "$stall" dispatch --officer "李娜" --author "张敏"
step "$stall" educate --author "李娜"
step "$stall" feedback --author "李娜"
forbidden "closing a complaint case without its return visit" "return visit" "$street" \
	ts -C "$street" case close "$stall" --author "李娜"
misused "a return visit without the satisfaction" "needs --satisfaction satisfied|basically_satisfied|dissatisfied" \
	"$street" ts -C "$street" case visit "$stall" --author "张敏"
forbidden "a return visit with a satisfaction of its own" "satisfied, basically_satisfied or dissatisfied" "$street" \
	ts -C "$street" case visit "$stall" --satisfaction happy --author "张敏"
step "$stall" visit --satisfaction satisfied --author "张敏"
step "$stall" close --author "张敏"
check "sqlite3: visited, satisfied, closed" \
	is "$(db "$street" "SELECT satisfaction || ' ' || (visited_at IS NOT NULL) || ' ' || status
		FROM cases WHERE id = '$stall'")" "satisfied 1 closed"

# --- lifecycle columns are not edited by hand --------------------------------
open_case=$(ts -C "$street" case new --category signboard --source media --address "五四大街 1号" --author "王伟")
ts -C "$street" commit -m "发现" >/dev/null
forbidden "a return visit of a case the media found" "not a complaint" "$street" \
	ts -C "$street" case visit "$open_case" --satisfaction satisfied --author "张敏"
forbidden "setting the officer with update" "only through the dispatch step" "$street" \
	ts -C "$street" case update "$open_case" --set officer="李娜"
forbidden "setting the status with update" "close" "$street" \
	ts -C "$street" case update "$open_case" --set status=closed
forbidden "setting the fine with update" "only through the decide step" "$street" \
	ts -C "$street" case update "$open_case" --set penalty_amount=100
forbidden "setting the officer at intake" "officer" "$street" \
	ts -C "$street" case new --category signboard --source media --address "五四大街 2号" --set officer="李娜"
misused "setting the category at intake with --set" "takes its category from --category" "$street" \
	ts -C "$street" case new --category signboard --source media --address "五四大街 2号" --set category=small_ads
run ts -C "$street" case update "$open_case" --set description="牌匾破损" --set lng=116.40 --author "王伟"
check "other columns stay editable while the case is open" exit_is 0
run ts -C "$street" case educate "$open_case" --officer "李娜"
check "an option the step does not take is bad usage" exit_is 2

# --- show, verify, log ----------------------------------------------------------
run ts -C "$street" case show "$building" --json
check "case show --json is valid JSON" json_valid "$work/out"
check "  ...with every event sqlite3 counts" is "$(json_length "$work/out" '$.events')" \
	"$(db "$street" "SELECT count(*) FROM case_events WHERE case_id = '$building'")"
check "  ...the fine in fen" is "$(json_get "$work/out" '$.case.penalty_amount')" 600000
run ts -C "$street" case show "$building"
check "case show lists the events with the reviewer" stdout_has "review       赵法"
check "each event names its officer and its node: the reviews the district's" \
	is "$(db "$street" "SELECT count(*) FROM case_events WHERE officer = '' OR
		node <> CASE kind WHEN 'review' THEN 'bj.dc' ELSE 'bj.dc.jingshan' END")" 0
run ts -C "$street" verify
check "the street verifies" exit_is 0
check "stock git finds the history sound" fsck_sound "$street"
run ts -C "$street" log --case "$building"
check "log --case succeeds" exit_is 0
for officer in 王伟 张敏 李娜 赵法; do
	check "log --case names $officer" stdout_has "Author: $officer"
done
run ts -C "$street" log --case "$store"
check "log --case of the penalized case names 陈刚" stdout_has "Author: 陈刚"
check "stock git agrees: the officers of the major case's commits" \
	is "$(git --git-dir "$street/history.git" log --format=%an -- "$(row_path "$street" cases "$building")" | sort -u | tr '\n' ' ')" \
	"$(printf '%s\n' 张敏 李娜 王伟 赵法 | sort -u | tr '\n' ' ')"

# --- deadlines: case list --overdue ------------------------------------------
# A fixed clock: TIERSYNC_NOW (seconds since the epoch) is the node's now.
now=$(date +%s)
late=$(TIERSYNC_NOW=$((now - 10 * 86400)) ts -C "$street" case new --category muck_spill --source patrol \
	--address "景山前街 8号" --author "王伟")
run ts -C "$street" case list --overdue --json
check "case list --overdue --json is valid JSON" json_valid "$work/out"
check "  ...lists the open case past its deadline, and only it" is "$(json_get "$work/out" '$[0].id') $(json_length "$work/out" '$')" "$late 1"
check "sqlite3 agrees on what is overdue" \
	is "$(db "$street" "SELECT group_concat(id) FROM cases WHERE status NOT IN ('closed', 'transferred')
		AND deadline < strftime('%Y-%m-%dT%H:%M:%S+08:00', 'now', '+8 hours')")" "$late"
run ts -C "$street" case list --overdue
check "case list --overdue for people" stdout_has "$late"
TIERSYNC_NOW=$((now - 10 * 86400)) ts -C "$street" case dispatch "$late" --officer "陈刚" --author "张敏" >/dev/null
run ts -C "$street" case list --overdue --status dispatched --json
check "  ...combines with --status" is "$(json_length "$work/out" '$')" 1
for verb in educate feedback close; do
	TIERSYNC_NOW=$((now - 10 * 86400)) ts -C "$street" case "$verb" "$late" --author "陈刚" >/dev/null
done
run ts -C "$street" case list --overdue --json
check "  ...once closed it is no longer overdue" is "$(json_length "$work/out" '$')" 0
check "  ...though its deadline has passed" \
	is "$(db "$street" "SELECT status || ' ' || (deadline < strftime('%Y-%m-%dT%H:%M:%S+08:00', 'now', '+8 hours'))
		FROM cases WHERE id = '$late'")" "closed 1"
ts -C "$street" commit -m "渣土遗撒" >/dev/null

# --- a device's cases belong to its street; the rules reach it ------------------
run ts -C "$device" pull
check "the device pulls" exit_is 0
run ts -C "$device" case rules --json
check "the device works under the district's threshold too" is "$(json_get "$work/out" '$.major_threshold.fen')" 500000
forbidden "a device setting a rule" "city or a district" "$device" \
	ts -C "$device" case rules --deadline small_ads=1 --author "王伟"
pad=$(ts -C "$device" case new --category small_ads --source patrol --address "景山前街 12号" --author "王伟")
check "sqlite3: the device's case belongs to the street" \
	is "$(db "$device" "SELECT jurisdiction || ' ' || created_by_node FROM cases WHERE id = '$pad'")" \
	"bj.dc.jingshan bj.dc.jingshan.d07"

# --- up to the district ----------------------------------------------------------
run ts -C "$street" push
check "the street pushes" exit_is 0
run ts -C "$district" merge --submissions
check "the district merges" exit_is 0
check "sqlite3: the district holds every event of the major case" \
	is "$(db "$district" "SELECT count(*) FROM case_events WHERE case_id = '$building'")" \
	"$(db "$street" "SELECT count(*) FROM case_events WHERE case_id = '$building'")"
run ts -C "$district" verify
check "the district verifies" exit_is 0
