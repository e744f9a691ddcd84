#!/bin/sh
# Separation of duties in a major case, across a street office and its
# district, on the command line: the first-contact officer stays when the
# case is dispatched again; the street decides a 20,000-yuan penalty but
# cannot review it; the district, once the decision has arrived by sync,
# reviews it by someone other than the decider; the street files it up and
# the district lists the filing as pending and acknowledges it. A street
# that writes an approved review by hand, with stock git, is refused at
# the merge. sqlite3, stock git and `tiersync verify` judge.
. "$TS_TOP/tests/e2e/lib.sh"

command -v ssh-keygen >/dev/null || { echo "skipped: ssh-keygen is not installed"; exit 0; }

district=$work/dc
street=$work/jingshan
ts init "$district" --tier district --id bj.dc --author "张敏" >/dev/null
city_above "$district" bj.dc
ts init "$street" --tier street --id bj.dc.jingshan --upstream "$district" --author "值班员" >/dev/null
enroll "$district" bj.dc.jingshan "$street/id_ed25519.pub"

# on NODE VERB ID ARGS...: one step, committed on its own.
on() {
	_node=$1
	_verb=$2
	_id=$3
	shift 3
	run ts -C "$_node" case "$_verb" "$_id" "$@"
	check "$_verb $_id at $(basename "$_node")" exit_is 0
	ts -C "$_node" commit -m "$_verb" >/dev/null
}

up() {
	run ts -C "$street" push
	check "the street pushes" exit_is 0
	run ts -C "$district" merge --submissions
	check "the district merges" exit_is 0
}

# --- 首问负责制: the first officer stays ------------------------------------------
building=$(ts -C "$street" case new --category illegal_building --source patrol --address "景山东街 2号院" --author "王伟")
ts -C "$street" commit -m "发现" >/dev/null
on "$street" dispatch "$building" --officer "李娜" --author "张敏"
on "$street" dispatch "$building" --officer "王强" --note "李娜调岗" --author "张敏"
check "sqlite3: the current officer changed, the first one stayed" \
	is "$(db "$street" "SELECT officer || ' ' || first_officer FROM cases WHERE id = '$building'")" "王强 李娜"
run ts -C "$street" case show "$building"
check "case show names the first officer" stdout_has "first_officer      李娜"
run ts -C "$street" case show "$building" --json
check "case show --json: first_officer" is "$(json_get "$work/out" '$.case.first_officer')" "李娜"
run ts -C "$street" case list --json
check "case list --json: first_officer" is "$(json_get "$work/out" '$[0].first_officer')" "李娜"
forbidden "setting the first officer with update" "dispatch" "$street" \
	ts -C "$street" case update "$building" --set first_officer="陈刚" --author "张敏"

# --- the decision at the street, the review not there ------------------------------
on "$street" penalize "$building" --note "新生违建, 零容忍" --author "王强"
on "$street" file "$building" --author "王强"
on "$street" decide "$building" --basis "《城乡规划法》第六十四条" --amount 20000 --author "王强"
check "sqlite3: 20000 yuan is major, its review pending" \
	is "$(db "$street" "SELECT major || ' ' || review_status FROM cases WHERE id = '$building'")" "1 pending"
forbidden "a legal review at the street" "made at the district (bj.dc), not at a street node (bj.dc.jingshan)" \
	"$street" ts -C "$street" case review "$building" --approve --reviewer "赵法" --author "赵法"
forbidden "executing before the review" "pending" "$street" \
	ts -C "$street" case execute "$building" --author "王强"
forbidden "a street acknowledging a filing" "a district or the city" "$street" \
	ts -C "$street" case file-up-ack "$building" --author "张敏"
forbidden "a street choosing the reviewing tier" "city or a district" "$street" \
	ts -C "$street" case rules --review-tier city --author "张敏"
up

# --- a street that writes the approval by hand, with stock git -----------------------
base=$(on_git "$street" rev-parse refs/heads/main)
path=$(on_git "$street" ls-tree -r --name-only "$base" | grep "^cases/.*/$building\$")
check "the street's head holds the case" test -n "$path"
mkdir -p "$work/empty"
ga() { GIT_INDEX_FILE=$work/index git --git-dir "$street/history.git" --work-tree "$work/empty" "$@"; }
rm -f "$work/index"
ga read-tree "$base"
on_git "$street" cat-file blob "$base:$path" >"$work/row"
check "the case row has its review line" file_has "$work/row" "pending"
sed -e 's/pending/approved/' "$work/row" >"$work/forged"
ga update-index --add --replace --cacheinfo "100644,$(ga hash-object -w "$work/forged"),$path"
when="$(date +%s) +0800"
forged=$(GIT_AUTHOR_NAME="王强" GIT_AUTHOR_EMAIL=bj.dc.jingshan GIT_AUTHOR_DATE=$when \
	GIT_COMMITTER_NAME=bj.dc.jingshan GIT_COMMITTER_EMAIL=bj.dc.jingshan GIT_COMMITTER_DATE=$when \
	ga -c gpg.format=ssh -c user.signingkey="$street/id_ed25519" commit-tree -S -p "$base" -m "审核" \
	"$(ga write-tree)")
git --git-dir "$street/history.git" push -q -f "$district/history.git" "$forged:refs/submissions/bj.dc.jingshan"
dc_main=$(on_git "$district" rev-parse refs/heads/main)
dc_dump=$(db "$district" .dump | sha256sum)
run ts -C "$district" merge --submissions
check "a forged approval: merge --submissions exits 1" exit_is 1
check "  ...one line on stderr" stderr_is_one_line
check "  ...naming the rule" stderr_has "bj.dc.jingshan may not change cases.review_status"
check "  ...git: the district's main has not moved" is "$(on_git "$district" rev-parse refs/heads/main)" "$dc_main"
check "  ...sqlite3: the district's database is unchanged" is "$(db "$district" .dump | sha256sum)" "$dc_dump"
check "  ...sqlite3: the review is still pending at the district" \
	is "$(db "$district" "SELECT review_status FROM cases WHERE id = '$building'")" "pending"

# --- the review at the district ------------------------------------------------------
forbidden "the decider reviewing the decision" "made by 王强" "$district" \
	ts -C "$district" case review "$building" --approve --author "王强"
on "$district" review "$building" --approve --reviewer "赵法" --author "区法制科"
check "sqlite3: approved by 赵法, the event at the district" \
	is "$(db "$district" "SELECT c.review_status || ' ' || c.reviewer || ' ' || e.node FROM cases c
		JOIN case_events e ON e.case_id = c.id AND e.kind = 'review' WHERE c.id = '$building'")" "approved 赵法 bj.dc"
run ts -C "$street" pull
check "the street pulls the review" exit_is 0

# --- filing up, and its acknowledgement ---------------------------------------------
on "$street" execute "$building" --note "已拆除" --author "王强"
on "$street" file-up "$building" --note "报区局备案" --author "张敏"
check "sqlite3: the filing names the district" \
	is "$(db "$street" "SELECT filed_by || ' ' || node || ' ' || filed_with || ' ' || (acked_at IS NULL)
		FROM case_filings WHERE case_id = '$building'")" "张敏 bj.dc.jingshan bj.dc 1"
on "$street" feedback "$building" --author "王强"
on "$street" close "$building" --author "张敏"
up
run ts -C "$district" case filings --pending
check "the district lists the pending filing" stdout_has "$building"
check "  ...as pending" stdout_has "pending"
run ts -C "$district" case filings --pending --json
check "case filings --json is valid JSON" json_valid "$work/out"
check "  ...one filing, with the district" is "$(json_length "$work/out" '$') $(json_get "$work/out" '$[0].filed_with')" "1 bj.dc"
check "  ...and its fine in fen" is "$(json_get "$work/out" '$[0].penalty_fen')" 2000000
on "$district" file-up-ack "$building" --note "已备案" --author "刘局"
forbidden "acknowledging twice" "already acknowledged by 刘局" "$district" \
	ts -C "$district" case file-up-ack "$building" --author "刘局"
run ts -C "$district" case file-up-ack "$building" extra
check "two case ids: bad usage" exit_is 2
run ts -C "$district" case filings --pending --json
check "nothing pending any more" is "$(cat "$work/out")" "[]"
run ts -C "$street" pull
check "the street pulls the acknowledgement" exit_is 0
check "sqlite3: the street holds it" \
	is "$(db "$street" "SELECT acked_by || ' ' || ack_note FROM case_filings WHERE case_id = '$building'")" "刘局 已备案"

# --- the reviewing tier is a rule --------------------------------------------------
run ts -C "$district" case rules --review-tier province --author "张敏"
check "an unknown tier: bad usage" exit_is 2
run ts -C "$district" case rules --review-tier city --author "张敏"
check "the district sends its reviews to the city" exit_is 0
run ts -C "$district" case rules --json
check "  ...case rules --json says so, and whose rule it is" \
	is "$(json_get "$work/out" '$.review_tier.tier') $(json_get "$work/out" '$.review_tier.scope')" "city bj.dc"

# --- the judges ---------------------------------------------------------------
run ts -C "$street" verify
check "the street verifies" exit_is 0
run ts -C "$district" verify
check "the district verifies" exit_is 0
check "stock git finds the district's history sound" fsck_sound "$district"
