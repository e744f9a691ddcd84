#!/bin/sh
# Urgent reports (信息报送) ahead of a backlog: a street office, a day
# offline, holds many committed cases and then an urgent report. Its push to
# the district (a plain path remote) sends the report first, as one small
# commit on top of what the district had, to refs/urgent/<street>; with
# --urgent-only nothing else goes. The district merges it before any
# submission: the report is there, the backlog not yet. A full push and
# merge then bring the rest, without a conflict, and the district receives
# the report. A device reports for its street. A crafted urgent commit that
# adds a case no report names is refused whole by the merge. Stock git and
# sqlite3 judge.
. "$TS_TOP/tests/e2e/lib.sh"

dc=$work/dongcheng
st=$work/jingshan
dev=$work/d07
ts init "$dc" --tier district --id bj.dc --author "张敏" >/dev/null
ts init "$st" --tier street --id bj.dc.jingshan --upstream "$dc" --author "李街" >/dev/null
enroll "$dc" bj.dc.jingshan "$st/id_ed25519.pub"

# the street starts from the district's main
run ts -C "$st" pull
check "the street pulls the district's main" exit_is 0
dc_main=$(on_git "$dc" rev-parse refs/heads/main)

# --- usage and refusals -----------------------------------------------------------
run ts -C "$st" urgent --help
check "urgent --help" exit_is 0
check "  ...shows the verbs" stdout_has "tiersync urgent receive ID"
run ts -C "$st" urgent new --author "王伟"
check "a report without --subject is bad usage" exit_is 2
run ts -C "$st" urgent frobnicate
check "an unknown verb is bad usage" exit_is 2
run ts -C "$st" urgent list --pending --received
check "--pending with --received is bad usage" exit_is 2
run ts -C "$st" urgent new --subject "$(printf '两行\n标题')" --author "王伟"
check "a subject of two lines is bad usage" exit_is 2
forbidden "a report of a case that does not exist" "no case bj.dc.jingshan-c0" "$st" \
	ts -C "$st" urgent new --subject "燃气泄漏" --case bj.dc.jingshan-c0 --author "王伟"
forbidden "a report that occurred in the future" "lies in the future" "$st" \
	ts -C "$st" urgent new --subject "燃气泄漏" --occurred-at "2999-01-01 08:00" --author "王伟"

# --- a day offline: a backlog of committed cases ----------------------------------
i=1
while [ "$i" -le 24 ]; do
	ts -C "$st" case new --category small_ads --source patrol --address "景山前街 $i 号" --author "王伟" >/dev/null
	if [ $((i % 4)) -eq 0 ]; then
		ts -C "$st" commit -m "巡查 $i" >/dev/null
	fi
	i=$((i + 1))
done
gas=$(ts -C "$st" case new --category gas_safety --source patrol --address "景山后街 9号" --author "王伟")
ts -C "$st" commit -m "燃气安全" >/dev/null
check "git: the street holds a backlog of commits the district lacks" \
	test "$(on_git "$st" rev-list --count refs/heads/main "^$dc_main")" -ge 7

run ts -C "$st" urgent new --subject "景山后街液化气罐泄漏" --detail "已疏散周边商户" --case "$gas" \
	--occurred-at "$(date -d '-1 hour' '+%Y-%m-%d %H:%M')" --author "王伟" --json
check "the street records an urgent report" exit_is 0
check "  ...--json is valid JSON" json_valid "$work/out"
report=$(json_get "$work/out" '$.id')
check "  ...with a minted id" is "${report%%-u*}" "bj.dc.jingshan"
check "  ...committed at once" is "$(json_get "$work/out" '$.commit')" "$(on_git "$st" rev-parse HEAD)"
check "  ...the case's record has a note about it" \
	is "$(db "$st" "SELECT count(*) FROM case_events WHERE case_id = '$gas' AND kind = 'note' AND detail LIKE '%$report%'")" 1
run ts -C "$st" urgent list --pending --json
check "urgent list --pending shows it" is "$(json_get "$work/out" '$[0].id') $(json_length "$work/out" '$')" "$report 1"
check "  ...with its unit and reporter" \
	is "$(json_get "$work/out" '$[0].jurisdiction') $(json_get "$work/out" '$[0].reporter') $(json_get "$work/out" '$[0].status')" \
	"bj.dc.jingshan 王伟 pending"

# --- only the urgent commit goes --------------------------------------------------
run ts -C "$st" push --urgent-only --json
check "push --urgent-only" exit_is 0
check "  ...--json is valid JSON" json_valid "$work/out"
check "  ...says one report went first" is "$(json_get "$work/out" '$.urgent.reports')" 1
urgent=$(json_get "$work/out" '$.urgent.commit')
check "  ...on the district's main" is "$(json_get "$work/out" '$.urgent.parent')" "$dc_main"
check "  ...and no submission" is "$(json_get "$work/out" '$.commit')" ""
check "git: the district has refs/urgent/bj.dc.jingshan at that commit" \
	is "$(on_git "$dc" for-each-ref --format='%(refname) %(objectname)' refs/urgent/)" "refs/urgent/bj.dc.jingshan $urgent"
check "git: ...and no submission of the street" is "$(on_git "$dc" for-each-ref refs/submissions/)" ""
check "git: the urgent commit is one commit on top of the district's main" \
	is "$(on_git "$dc" rev-list --count refs/urgent/bj.dc.jingshan "^refs/heads/main") $(on_git "$dc" rev-parse refs/urgent/bj.dc.jingshan^)" \
	"1 $dc_main"
on_git "$dc" diff-tree -r --name-status "$urgent^" "$urgent" >"$work/added"
check "git: its tree is its parent's plus the report and its case, added" \
	is "$(cut -f1 "$work/added" | sort | uniq -c | tr -s ' ') $(cut -f2 "$work/added" | sed 's,/.*/,/,' | sort | tr '\n' ' ')" \
	" 2 A cases/$gas urgent_reports/$report "
check "git: the district's history is sound" fsck_sound "$dc"
check "git: the urgent commit is signed" \
	sh -c 'git --git-dir "$1/history.git" cat-file commit "$2" | grep -q "^gpgsig "' - "$dc" "$urgent"
run ts -C "$st" push --urgent-only
check "pushing it again sends nothing new" exit_is 0
check "  ...and says so" stdout_has "already there"
check "  ...the same commit" is "$(on_git "$st" rev-parse refs/urgent-out/upstream)" "$urgent"

run ts -C "$dc" merge --submissions --json
check "the district merges the urgent reports" exit_is 0
check "  ...marked urgent" is "$(json_get "$work/out" '$[0].urgent')" 1
check "sqlite3: the report is in the district's database" \
	is "$(db "$dc" "SELECT subject || '|' || jurisdiction || '|' || reporter FROM urgent_reports WHERE id = '$report'")" \
	"景山后街液化气罐泄漏|bj.dc.jingshan|王伟"
check "sqlite3: ...with its case" is "$(db "$dc" "SELECT category FROM cases WHERE id = '$gas'")" "gas_safety"
check "sqlite3: ...but none of the backlog's other cases" \
	is "$(db "$dc" "SELECT count(*) FROM cases WHERE jurisdiction = 'bj.dc.jingshan'")" 1
run ts -C "$dc" urgent list --pending
check "the district lists it as pending" stdout_has "$report"

# --- then the backlog, without a conflict ----------------------------------------
run ts -C "$st" push --json
check "a full push" exit_is 0
check "  ...the urgent commit did not change: nothing new went first" \
	is "$(json_get "$work/out" '$.urgent.commit') $(json_get "$work/out" '$.urgent.updated')" "$urgent 0"
check "  ...then main" is "$(json_get "$work/out" '$.commit')" "$(on_git "$st" rev-parse HEAD)"
run ts -C "$dc" merge --submissions
check "the district merges the urgent ref and the submission" exit_is 0
check "sqlite3: the backlog is at the district" \
	is "$(db "$dc" "SELECT count(*) FROM cases WHERE jurisdiction = 'bj.dc.jingshan'")" 25
check "sqlite3: the report once" is "$(db "$dc" "SELECT count(*) FROM urgent_reports WHERE id = '$report'")" 1
run ts -C "$dc" conflicts --all
check "no conflict recorded, not even settled" stdout_has "no conflicts recorded"
run ts -C "$dc" verify
check "the district verifies" exit_is 0

run ts -C "$dc" urgent new --subject "东城区暴雨积水" --author "张敏"
check "a district reports to the city too" exit_is 0
# (that report stays at the district: no city above it here)

# --- the district receives it ------------------------------------------------------
forbidden "the street receiving its own report" "only a node above it takes it in" "$st" \
	ts -C "$st" urgent receive "$report" --author "李街"
run ts -C "$dc" urgent receive "$report" --author "张敏" --json
check "the district receives the report" exit_is 0
check "  ...--json is valid JSON" json_valid "$work/out"
ts -C "$dc" commit -m "收到紧急信息" >/dev/null
check "sqlite3: received by whom" \
	is "$(db "$dc" "SELECT received_by, received_at IS NOT NULL FROM urgent_reports WHERE id = '$report'")" "张敏|1"
forbidden "receiving it twice" "received already" "$dc" \
	ts -C "$dc" urgent receive "$report" --author "张敏"
forbidden "receiving a report that does not exist" "no urgent report" "$dc" \
	ts -C "$dc" urgent receive bj.dc.jingshan-u0 --author "张敏"
run ts -C "$st" pull
check "the street pulls" exit_is 0
check "sqlite3: the street sees it received" \
	is "$(db "$st" "SELECT received_by FROM urgent_reports WHERE id = '$report'")" "张敏"
run ts -C "$st" urgent list --pending
check "  ...and pending no more" stdout_has "no pending urgent reports"
run ts -C "$st" push --urgent-only --json
check "with nothing new, push --urgent-only sends nothing" is "$(json_get "$work/out" '$.urgent.reports')" 0

# --- a device reports for its street ----------------------------------------------
ts init "$dev" --tier device --id bj.dc.jingshan.d07 --upstream "$st" --author "赵强" >/dev/null
enroll "$st" bj.dc.jingshan.d07 "$dev/id_ed25519.pub"
run ts -C "$dev" pull
check "the device pulls its street" exit_is 0
run ts -C "$dev" urgent new --subject "地安门外大街井盖缺失" --author "赵强"
check "the device records an urgent report" exit_is 0
dev_report=$(cat "$work/out")
run ts -C "$dev" push --urgent-only
check "the device sends it alone" exit_is 0
check "  ...and says so" stdout_has "pushed 1 urgent report first"
run ts -C "$st" merge --submissions
check "the street merges it" exit_is 0
check "sqlite3: the report is of the street, recorded on the device" \
	is "$(db "$st" "SELECT jurisdiction || '|' || node FROM urgent_reports WHERE id = '$dev_report'")" \
	"bj.dc.jingshan|bj.dc.jingshan.d07"
forbidden "the street receiving a report of its own unit" "only a node above it takes it in" "$st" \
	ts -C "$st" urgent receive "$dev_report" --author "李街"
run ts -C "$st" push
check "the street passes it up" exit_is 0
check "  ...first" stdout_has "pushed 1 urgent report first"
run ts -C "$dc" merge --submissions
check "the district merges it" exit_is 0
run ts -C "$dc" urgent receive "$dev_report" --author "张敏"
check "the district receives the device's report" exit_is 0
ts -C "$dc" commit -m "收到紧急信息" >/dev/null

# --- a node that never fetched its upper node's main --------------------------------
ts init "$work/new" --tier street --id bj.dc.donghuamen --upstream "$dc" --author "孙" >/dev/null
ts -C "$work/new" urgent new --subject "东华门大街火情" --author "孙" >/dev/null
forbidden "push --urgent-only with no commit known to be held above" "never fetched" "$work/new" \
	ts -C "$work/new" push --urgent-only
check "  ...and says what to run" stderr_has "run 'tiersync fetch upstream' first"

# --- a crafted urgent commit -----------------------------------------------------------
run ts -C "$st" pull
check "the street pulls again" exit_is 0
base=$(on_git "$dc" rev-parse refs/heads/main)
other=$(ts -C "$st" case new --category outdoor_bbq --source patrol --address "景山东街 3号" --author "王伟")
ts -C "$st" commit -m "露天烧烤" >/dev/null
run ts -C "$st" urgent new --subject "景山东街聚集" --author "王伟"
sneaky_report=$(cat "$work/out")
head=$(on_git "$st" rev-parse HEAD)
mkdir -p "$work/empty"
ga() { GIT_INDEX_FILE=$work/index git --git-dir "$st/history.git" --work-tree "$work/empty" "$@"; }
rm -f "$work/index"
ga read-tree "$base"
for p in $(on_git "$st" ls-tree -r --name-only "$head" | grep -e "/$sneaky_report\$" -e "/$other\$"); do
	ga update-index --add --cacheinfo "100644,$(on_git "$st" rev-parse "$head:$p"),$p"
done
when="$(date +%s) +0800"
crafted=$(GIT_AUTHOR_NAME="王伟" GIT_AUTHOR_EMAIL=bj.dc.jingshan GIT_AUTHOR_DATE=$when \
	GIT_COMMITTER_NAME=bj.dc.jingshan GIT_COMMITTER_EMAIL=bj.dc.jingshan GIT_COMMITTER_DATE=$when \
	ga -c gpg.format=ssh -c user.signingkey="$st/id_ed25519" commit-tree -S -p "$base" -m "紧急" "$(ga write-tree)")
check "git: the crafted commit adds a report and a case it does not name" \
	is "$(on_git "$st" diff-tree -r --name-only "$base" "$crafted" | wc -l)" 2
git --git-dir "$st/history.git" push -q -f "$dc/history.git" "$crafted:refs/urgent/bj.dc.jingshan"
forbidden "a crafted urgent commit" "is a case no urgent report in it names" "$dc" \
	ts -C "$dc" merge --submissions
check "  ...naming the commit" stderr_has "$(printf %.12s "$crafted")"
check "git: the district's main has not moved" is "$(on_git "$dc" rev-parse refs/heads/main)" "$base"
check "sqlite3: the district holds neither row" \
	is "$(db "$dc" "SELECT count(*) FROM cases WHERE id = '$other'")$(db "$dc" "SELECT count(*) FROM urgent_reports WHERE id = '$sneaky_report'")" "00"

# the street's own push puts the honest urgent commit there again
run ts -C "$st" push --urgent-only
check "the street's own push replaces it" exit_is 0
run ts -C "$dc" merge --submissions
check "  ...and the district merges that" exit_is 0
check "sqlite3: the report arrived, the other case not yet" \
	is "$(db "$dc" "SELECT count(*) FROM urgent_reports WHERE id = '$sneaky_report'")$(db "$dc" "SELECT count(*) FROM cases WHERE id = '$other'")" "10"
