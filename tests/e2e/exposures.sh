#!/bin/sh
# The records the plan's figures need beyond the cases: the city sets the
# complaint baselines (常量) of a district and a street; a street records an
# exposure it made in the press (主动曝光) about one of its cases, and one
# without a case from an officer's device; what may not be done is refused
# in one line and changes nothing. The records travel up and down with the
# history; sqlite3 judges.
. "$TS_TOP/tests/e2e/lib.sh"

city=$work/bj
dc=$work/dc
st=$work/jingshan
dev=$work/d07
ts init "$city" --tier city --id bj --author "刘洋" >/dev/null
ts init "$dc" --tier district --id bj.dc --upstream "$city" --author "张敏" >/dev/null
enroll "$city" bj.dc "$dc/id_ed25519.pub"
ts -C "$dc" pull >/dev/null
ts init "$st" --tier street --id bj.dc.jingshan --upstream "$dc" --author "李街" >/dev/null
enroll "$dc" bj.dc.jingshan "$st/id_ed25519.pub"
ts init "$dev" --tier device --id bj.dc.jingshan.d07 --upstream "$st" --author "王伟" >/dev/null
enroll "$st" bj.dc.jingshan.d07 "$dev/id_ed25519.pub"

# --- baselines ------------------------------------------------------------------
run ts -C "$city" baseline set --unit bj.dc --subject key_areas --year 2015 --complaints 1200 --author "刘洋"
check "the city sets a district's key-area baseline" exit_is 0
run ts -C "$city" baseline set --unit bj.dc.jingshan --subject small_ads --year 2015 --complaints 80 --json
check "  ...and a street's small-ads baseline (--json)" json_valid "$work/out"
check "  ...which says it is staged" is "$(json_get "$work/out" '$.staged')" 1
run ts -C "$city" baseline set --unit bj.dc --subject key_areas --year 2015 --complaints 1100 --author "刘洋"
check "setting it again changes it" exit_is 0
check "  ...one row, the new value, the setter's name" \
	is "$(db "$city" "SELECT count(*) || '|' || max(complaints) || '|' || max(set_by) FROM complaint_baselines WHERE scope = 'bj.dc' AND subject = 'key_areas'")" "1|1100|刘洋"
run ts -C "$city" baseline list --json
check "baseline list --json lists both" is "$(json_length "$work/out" '$')" 2
check "  ...in order of year, unit, subject" is "$(json_get "$work/out" '$[1].unit'),$(json_get "$work/out" '$[1].complaints')" "bj.dc.jingshan,80"
ts -C "$city" commit -m "baselines 2015" >/dev/null

forbidden "a district sets no baseline" "only the city" "$dc" \
	ts -C "$dc" baseline set --unit bj.dc --subject key_areas --year 2015 --complaints 1 --author "张敏"
forbidden "an unknown subject" "unknown baseline subject" "$city" \
	ts -C "$city" baseline set --unit bj.dc --subject noise --year 2015 --complaints 1
forbidden "a unit outside the city" "not 'sh.pd'" "$city" \
	ts -C "$city" baseline set --unit sh.pd --subject small_ads --year 2015 --complaints 1
forbidden "a year that is not one" "four digits" "$city" \
	ts -C "$city" baseline set --unit bj.dc --subject small_ads --year 15 --complaints 1
run ts -C "$city" baseline set --unit bj.dc --subject small_ads --year 2015 --complaints -3
check "a negative count is bad usage" exit_is 2
run ts -C "$city" baseline set --unit bj.dc --subject small_ads --year 2015
check "set without --complaints is bad usage" exit_is 2
check "  ...naming the flag" stderr_has "--complaints"
run ts -C "$city" baseline list --at now
check "an option list does not take is bad usage" exit_is 2
forbidden "removing a baseline that is not there" "no outdoor_bbq baseline" "$city" \
	ts -C "$city" baseline remove --unit bj.dc --subject outdoor_bbq --year 2015 --author "刘洋"

# the baselines reach the district and the street with the city's history
ts -C "$dc" pull >/dev/null
ts -C "$st" pull >/dev/null
check "the district holds the city's baselines after a pull" \
	is "$(db "$dc" "SELECT group_concat(scope || ':' || complaints, ',') FROM (SELECT * FROM complaint_baselines ORDER BY scope)")" "bj.dc:1100,bj.dc.jingshan:80"
run ts -C "$st" baseline list
check "the street lists only those of its jurisdiction" is "$(grep -c . "$work/out")" 1
check "  ...its own" stdout_has "bj.dc.jingshan"

# --- exposures ------------------------------------------------------------------
case_id=$(ts -C "$st" case new --category small_ads --source patrol --address "景山前街 4号" --author "李娜")
run ts -C "$st" exposure add --outlet "北京日报" --title "景山前街小广告屡禁不止" --case "$case_id" \
	--at "2015-06-01 09:00" --url "https://example.org/a/1" --author "李娜"
check "a street records an exposure about its case" exit_is 0
x1=$(cat "$work/out")
check "  ...of its jurisdiction, by its maker, at the time given" \
	is "$(db "$st" "SELECT jurisdiction || '|' || case_id || '|' || made_by || '|' || published_at FROM exposures WHERE id = '$x1'")" \
	"bj.dc.jingshan|$case_id|李娜|2015-06-01T09:00:00+08:00"
check "  ...and the case's record notes it" \
	is "$(db "$st" "SELECT count(*) FROM case_events WHERE case_id = '$case_id' AND kind = 'note' AND detail LIKE '%北京日报%$x1%'")" 1

run ts -C "$dev" exposure add --outlet "东城区城管微博" --title "夜查露天烧烤" --at "2015-07-02 22:00" --json
check "a device records one for its street (--json)" json_valid "$work/out"
x2=$(json_get "$work/out" '$.id')
check "  ...under the street's jurisdiction" is "$(db "$dev" "SELECT jurisdiction FROM exposures WHERE id = '$x2'")" bj.dc.jingshan

run ts -C "$st" exposure add --outlet "北京日报" --title ""
check "an exposure without a title is bad usage" exit_is 2
forbidden "an unknown case" "no case" "$st" ts -C "$st" exposure add --outlet X --title Y --case bj.dc.jingshan-c20150101-99
forbidden "a URL that is not http(s)" "http://" "$st" ts -C "$st" exposure add --outlet X --title Y --url "file:///etc/passwd"
forbidden "a publication in the future" "future" "$st" ts -C "$st" exposure add --outlet X --title Y --at "2999-01-01"
forbidden "a title over two lines" "one line" "$st" ts -C "$st" exposure add --outlet X --title "a
b"
run ts -C "$st" exposure add --title Y
check "no --outlet is bad usage" exit_is 2
check "  ...naming the flag" stderr_has "--outlet"

run ts -C "$st" exposure list --from 2015-06-01 --to 2015-06-30 --json
check "list --from/--to keeps June's" is "$(json_length "$work/out" '$'),$(json_get "$work/out" '$[0].id')" "1,$x1"
run ts -C "$st" exposure list --case "$case_id"
check "list --case keeps the case's" stdout_has "$x1"

ts -C "$st" commit -m "exposures" --author "李娜" >/dev/null
ts -C "$dev" commit -m "exposure" >/dev/null
ts -C "$dev" push >/dev/null
run ts -C "$st" merge --submissions
check "the street merges its device's exposure" exit_is 0
ts -C "$st" push >/dev/null
run ts -C "$dc" merge --submissions
check "the district merges the street's" exit_is 0
check "the district holds both, unchanged" \
	is "$(db "$dc" "SELECT count(*) || '|' || group_concat(made_by, ',') FROM (SELECT * FROM exposures ORDER BY published_at)")" "2|李娜,王伟"
check "the district's database equals its history" sh -c '"$1" -C "$2" verify >/dev/null' sh "$TIERSYNC" "$dc"

# the district's own exposure and case reach the street, which may not touch them
dcase=$(ts -C "$dc" case new --category signboard --source patrol --address "东直门内大街 1号" --author "张敏")
x3=$(ts -C "$dc" exposure add --outlet "北京晚报" --title "违规牌匾集中整治" --case "$dcase" --author "张敏")
ts -C "$dc" commit -m "district exposure" >/dev/null
ts -C "$st" pull >/dev/null
check "the street holds the district's exposure after a pull" \
	is "$(db "$st" "SELECT jurisdiction FROM exposures WHERE id = '$x3'")" bj.dc
forbidden "a street exposes no case of the district's own" "bj.dc" "$st" \
	ts -C "$st" exposure add --outlet X --title Y --case "$dcase"
forbidden "a street removes no exposure of the district's" "may remove only" "$st" \
	ts -C "$st" exposure remove "$x3" --author "李街"
forbidden "an unknown exposure" "no exposure" "$st" ts -C "$st" exposure remove bj.dc.jingshan-x20150101-9
run ts -C "$dc" exposure remove "$x1" --author "张敏"
check "the district removes a street's exposure recorded in error" exit_is 0
check "  ...gone from its database" is "$(db "$dc" "SELECT count(*) FROM exposures WHERE id = '$x1'")" 0
check "  ...and the case's record says so" \
	is "$(db "$dc" "SELECT count(*) FROM case_events WHERE case_id = '$case_id' AND detail LIKE '%$x1 removed%'")" 1
ts -C "$dc" commit -m "remove an exposure recorded in error" >/dev/null
check "the district's history is sound" fsck_clean "$dc"
run ts -C "$st" exposure --help
check "exposure --help" exit_is 0
run ts -C "$st" baseline frobnicate
check "an unknown verb is bad usage" exit_is 2
