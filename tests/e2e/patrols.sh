#!/bin/sh
# A day at a street office: two officers patrol the district's key area
# (人盯车巡), find an outside-store case on the way and record it on the
# patrol, end the patrol; another officer patrols with his device, offline,
# and the street merges it; the office adds a shop's responsibility zone
# (门前三包), hands over its notice (告知书) and checks its duties. What may
# not be done is refused in one line and changes nothing. The street pushes,
# the district merges and sees it all, and counts the notice in its report.
# sqlite3 and stock git judge.
. "$TS_TOP/tests/e2e/lib.sh"

dc=$work/dc
st=$work/jingshan
ts init "$dc" --tier district --id bj.dc --author "张敏" >/dev/null
city_above "$dc" bj.dc
ts init "$st" --tier street --id bj.dc.jingshan --upstream "$dc" --author "李街" >/dev/null
enroll "$dc" bj.dc.jingshan "$st/id_ed25519.pub"

# the district's key area reaches the street
area=$(ts -C "$dc" area add "景山" --zone "景山前街" --reason "店外经营反复")
ts -C "$dc" commit -m "list 景山" >/dev/null
ts -C "$st" pull >/dev/null

# --- the patrol ---------------------------------------------------------------
run ts -C "$st" patrol start --area "景山前街" --officer "王伟" --officer "李娜" --key-area "$area" --author "王伟"
check "two officers start a patrol of the key area" exit_is 0
patrol=$(cat "$work/out")
check "  ...recorded with both names, the street and the key area" \
	is "$(db "$st" "SELECT officers || '|' || jurisdiction || '|' || key_area_id || '|' || (ended_at IS NULL) || '|' || found FROM patrols WHERE id = '$patrol'")" \
	"王伟、李娜|bj.dc.jingshan|$area|1|0"

run ts -C "$st" case new --patrol "$patrol" --category outside_store --address "景山前街 12号" --author "李娜"
check "a case found on the patrol is recorded on it" exit_is 0
case_id=$(cat "$work/out")
check "  ...with the source patrol and the link" \
	is "$(db "$st" "SELECT source || '|' || patrol_id FROM cases WHERE id = '$case_id'")" "patrol|$patrol"
check "  ...counted in the patrol's found" is "$(db "$st" "SELECT found FROM patrols WHERE id = '$patrol'")" 1
check "  ...and its intake event names the patrol" \
	is "$(db "$st" "SELECT count(*) FROM case_events WHERE case_id = '$case_id' AND kind = 'intake' AND detail LIKE '%$patrol%'")" 1
run ts -C "$st" patrol show "$patrol" --json
check "patrol show --json is valid JSON" json_valid "$work/out"
check "  ...and lists the case found" is "$(json_get "$work/out" '$.cases[0].id'),$(json_get "$work/out" '$.patrol.found')" "$case_id,1"

snapshot "$st" "$work/st.before"
run ts -C "$st" case new --patrol "$patrol" --source complaint --category outside_store --address "景山前街 14号"
check "a complaint is not found on a patrol" exit_is 1
check "  ...said in one line" stderr_is_one_line
run ts -C "$st" case new --patrol "bj.dc.jingshan-r-nosuch" --category outside_store --address "景山前街 14号"
check "an unknown patrol is refused" exit_is 1
check "  ...pointing to the list" stderr_has "tiersync patrol list"
run ts -C "$st" patrol start --area "景山后街" --key-area "bj.dc-k-nosuch"
check "a patrol of an unknown key area is refused" exit_is 1
check "  ...in one line" stderr_is_one_line
run ts -C "$st" patrol end "$patrol" --at "2000-01-01 08:00"
check "a patrol cannot end before it started" exit_is 1
check "  ...in one line" stderr_is_one_line
run ts -C "$st" patrol end "$patrol" --at "not a time"
check "a time that is not one is bad usage" exit_is 2
run ts -C "$st" case update "$case_id" --set patrol_id=NULL
check "a case is not moved off its patrol by an edit" exit_is 1
snapshot "$st" "$work/st.after"
check "  ...and none of that changed anything" same_files "$work/st.before" "$work/st.after"

run ts -C "$st" patrol end "$patrol" --route "景山前街—陟山门街—景山后街" --notes "店外经营一处" --author "王伟"
check "the patrol ends" exit_is 0
check "  ...with its end, route and notes" \
	is "$(db "$st" "SELECT ended_at >= started_at, route, notes FROM patrols WHERE id = '$patrol'")" "1|景山前街—陟山门街—景山后街|店外经营一处"
run ts -C "$st" patrol end "$patrol"
check "a patrol ends once" exit_is 1
check "  ...in one line" stderr_is_one_line
check "  ...saying so" stderr_has "already ended"
run ts -C "$st" patrol list --key-area "$area" --json
check "patrol list --json shows the patrol of the key area" \
	is "$(json_length "$work/out" '$'),$(json_get "$work/out" '$[0].id'),$(json_get "$work/out" '$[0].under_way')" "1,$patrol,0"

# --- the responsibility zone -------------------------------------------------------
run ts -C "$st" zone add "景山便利店" --address "景山前街 6号" --key-area "$area" --author "李娜"
check "the office adds a shop's zone in the key area" exit_is 0
zone=$(cat "$work/out")
snapshot "$st" "$work/st.before"
run ts -C "$st" zone check "$zone" --met
check "a zone without its notice is not checked" exit_is 1
check "  ...in one line" stderr_is_one_line
check "  ...saying why" stderr_has "no notice"
run ts -C "$st" zone check "bj.dc.jingshan-z-nosuch" --met
check "a check of an unknown zone is refused" exit_is 1
check "  ...in one line" stderr_is_one_line
run ts -C "$st" zone check "$zone" --not-met
check "a failed check without a note is bad usage" exit_is 2
snapshot "$st" "$work/st.after"
check "  ...and none of that changed anything" same_files "$work/st.before" "$work/st.after"

run ts -C "$st" zone notice "$zone" --author "李娜"
check "the notice is handed over" exit_is 0
run ts -C "$st" zone notice "$zone" --author "王伟"
check "the notice is issued once" exit_is 1
check "  ...in one line" stderr_is_one_line
run ts -C "$st" zone check "$zone" --met --author "王伟"
check "the zone is checked: duties met" exit_is 0
check "  ...as sqlite3 reads the zone and its check" \
	is "$(db "$st" "SELECT z.notice_issued_by || '|' || k.met || '|' || k.checker FROM responsibility_zones z JOIN responsibility_checks k ON k.zone_id = z.id WHERE z.id = '$zone'")" \
	"李娜|1|王伟"
run ts -C "$st" zone list --json
check "zone list --json is valid JSON" json_valid "$work/out"
check "  ...with the notice and the last check" \
	is "$(json_get "$work/out" '$[0].notice_issued_by'),$(json_get "$work/out" '$[0].last_check.met')" "李娜,1"
run ts -C "$st" zone checks "$zone" --json
check "zone checks --json lists the check" is "$(json_length "$work/out" '$'),$(json_get "$work/out" '$[0].checker')" "1,王伟"

ts -C "$st" commit -m "景山前街: patrol, zone" >/dev/null
author=$(on_git "$st" log -1 --format=%an)
check "stock git names both officers as the day's authors" \
	is "$(printf '%s\n' "$author" | grep -c '王伟' ),$(printf '%s\n' "$author" | grep -c '李娜')" "1,1"
check "stock git finds the street's history sound" fsck_clean "$st"

# --- a device's patrol, offline, merged at the street ---------------------------------
d07=$work/d07
ts init "$d07" --tier device --id bj.dc.jingshan.d07 --upstream "$st" --author "赵强" >/dev/null
enroll "$st" bj.dc.jingshan.d07 "$d07/id_ed25519.pub"
ts -C "$d07" pull >/dev/null
run ts -C "$d07" patrol start --area "景山后街"
check "an officer patrols alone with his device" exit_is 0
dpatrol=$(cat "$work/out")
dcase=$(ts -C "$d07" case new --patrol "$dpatrol" --category small_ads --address "景山后街 3号")
ts -C "$d07" patrol end "$dpatrol" --notes "小广告" >/dev/null
ts -C "$d07" commit -m "景山后街" >/dev/null
check "  ...the patrol is the street's, recorded by the device, its officer named" \
	is "$(db "$d07" "SELECT jurisdiction || '|' || officers || '|' || found FROM patrols WHERE id = '$dpatrol'")" "bj.dc.jingshan|赵强|1"
ts -C "$d07" push >/dev/null
run ts -C "$st" merge --submissions
check "the street merges the device's patrol" exit_is 0
check "  ...and holds it with its case" \
	is "$(db "$st" "SELECT p.found || '|' || c.created_by_node FROM patrols p JOIN cases c ON c.patrol_id = p.id WHERE p.id = '$dpatrol' AND c.id = '$dcase'")" "1|bj.dc.jingshan.d07"

# --- up to the district ------------------------------------------------------------
ts -C "$st" push >/dev/null
run ts -C "$dc" merge --submissions
check "the district merges the street's day" exit_is 0
check "the district holds the patrol and its case" \
	is "$(db "$dc" "SELECT p.found || '|' || c.id FROM patrols p JOIN cases c ON c.patrol_id = p.id WHERE p.id = '$patrol'")" "1|$case_id"
check "  ...and the zone with its notice and check" \
	is "$(db "$dc" "SELECT count(*) FROM responsibility_zones z JOIN responsibility_checks k ON k.zone_id = z.id WHERE z.id = '$zone' AND z.notice_issued_at IS NOT NULL")" 1
run ts -C "$dc" patrol list --in bj.dc.jingshan --json
check "the district lists the street's patrols, the device's too" \
	is "$(json_length "$work/out" '$'),$(json_get "$work/out" '$[0].id'),$(json_get "$work/out" '$[1].id')" "2,$patrol,$dpatrol"
run ts -C "$dc" report --json
check "the district's report counts the notice: 1 of 1" \
	is "$(json_get "$work/out" '$.total.figures.notices_issued.count'),$(json_get "$work/out" '$.total.figures.notices_issued.of')" "1,1"
run ts -C "$dc" zone add "东城商场" --address "东直门 1号"
check "a district does not add a zone: a zone belongs to a street" exit_is 1
check "  ...in one line" stderr_is_one_line
check "the district's database equals its history" ts -C "$dc" verify

run ts -C "$st" patrol --help
check "patrol --help" exit_is 0
run ts -C "$st" zone frobnicate
check "an unknown verb is bad usage" exit_is 2
