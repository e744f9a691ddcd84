#!/bin/sh
# Between the tiers: a city, a district and a street office, chained by file
# remotes. The city lists a key area, which flows down; it issues a
# supervision item to the street, which reaches it through the district;
# the street answers, the answer flows up with the district's own feedback,
# and the issuer closes it. A major event declared by the city marks the
# street's cases after the street pulls. The street is refused what only
# the upper tiers may do. sqlite3 and stock git judge.
. "$TS_TOP/tests/e2e/lib.sh"

city=$work/city
dc=$work/dc
st=$work/jingshan
ts init "$city" --tier city --id bj --author "王城" >/dev/null
ts init "$dc" --tier district --id bj.dc --upstream "$city" --author "张区" >/dev/null
ts init "$st" --tier street --id bj.dc.jingshan --upstream "$dc" --author "李街" >/dev/null
enroll "$city" bj.dc "$dc/id_ed25519.pub"
enroll "$dc" bj.dc.jingshan "$st/id_ed25519.pub"

# up: the street's work reaches the city
up() {
	ts -C "$st" push >/dev/null
	ts -C "$dc" merge --submissions >/dev/null
	ts -C "$dc" push >/dev/null
	ts -C "$city" merge --submissions >/dev/null
}
# down: the city's work reaches the street
down() {
	ts -C "$dc" pull >/dev/null
	ts -C "$st" pull >/dev/null
}

# --- key areas --------------------------------------------------------------
run ts -C "$city" area add "天安门地区" --zone "长安街以北" --reason "游客密集" --in bj.dc --author "刘局"
check "the city lists a key area" exit_is 0
area=$(cat "$work/out")
ts -C "$city" commit -m "list 天安门地区" >/dev/null
check "the commit names who listed it" is "$(on_git "$city" log -1 --format=%an)" "刘局"
down
check "the city's area reached the street" \
	is "$(db "$st" "SELECT level || ':' || owner_node || ':' || name FROM key_areas WHERE id = '$area'")" "city:bj:天安门地区"
check "  ...with the district row that carries it" \
	is "$(db "$st" "SELECT owner_node || ':' || level FROM key_areas WHERE city_key_area_id = '$area'")" "bj.dc:district"
carried=$(db "$st" "SELECT id FROM key_areas WHERE city_key_area_id = '$area'")
run ts -C "$dc" area list --json
check "area list --json is valid JSON" json_valid "$work/out"
check "  ...and the district's list shows the city's area" \
	is "$(json_get "$work/out" '$[0].city_key_area_id')" "$area"
run ts -C "$st" area list
check "the street's list shows its district's areas" stdout_has "$carried"

snapshot "$st" "$work/st.before"
run ts -C "$st" area add "景山" --zone "景山前街"
check "a street cannot list a key area" exit_is 1
check "  ...and says why in one line" stderr_is_one_line
check "  ...naming who may" stderr_has "only the city or a district"
run ts -C "$st" area delist "$carried" --reason "整治完毕"
check "a street cannot delist one" exit_is 1
check "  ...in one line" stderr_is_one_line
snapshot "$st" "$work/st.after"
check "  ...and nothing changed at the street" same_files "$work/st.before" "$work/st.after"

run ts -C "$dc" area delist "$carried" --reason "整治完毕"
check "the district cannot delist the city's area" exit_is 1
check "  ...it is the city's" stderr_has "only the city delists it"
run ts -C "$dc" area add "景山" --zone "景山前街" --reason "占道经营反复"
check "the district lists its own area" exit_is 0
own=$(cat "$work/out")
run ts -C "$dc" area delist "$own" --reason "整治完毕" --author "张区"
check "  ...and delists it" exit_is 0
check "  ...with the date and the reason" \
	is "$(db "$dc" "SELECT delisted_at IS NOT NULL AND delisted_at >= listed_at, delist_reason FROM key_areas WHERE id = '$own'")" "1|整治完毕"
ts -C "$dc" commit -m "景山 listed and delisted" >/dev/null

# --- a supervision item, down and up ------------------------------------------
case_id=$(ts -C "$st" case new --category small_ads --source patrol --address "景山前街 4号" --author "王伟")
ts -C "$st" commit -m "patrol" >/dev/null
up
check "the street's case reached the city" is "$(db "$city" "SELECT count(*) FROM cases WHERE id = '$case_id'")" 1

run ts -C "$city" supervise issue --to bj.dc.jingshan --subject "清理景山前街小广告" --case "$case_id" \
	--due 2999-12-31 --author "刘局"
check "the city issues an item to the street" exit_is 0
item=$(cat "$work/out")
ts -C "$city" commit -m "督办" >/dev/null
down
check "the item reached the street through the district" \
	is "$(db "$st" "SELECT status || ':' || level || ':' || issued_by_node || ':' || issuer || ':' || target_node FROM supervision_items WHERE id = '$item'")" \
	"open:city:bj:刘局:bj.dc.jingshan"
check "  ...and the district holds it too" is "$(db "$dc" "SELECT status FROM supervision_items WHERE id = '$item'")" open
check "the case records that it is supervised" \
	is "$(db "$st" "SELECT officer || ':' || node FROM case_events WHERE case_id = '$case_id' AND kind = 'supervise'")" "刘局:bj"

run ts -C "$st" supervise list --json
check "the item is not overdue" is "$(json_get "$work/out" '$[0].overdue')" 0
run env TIERSYNC_NOW=32600000000 "$TIERSYNC" -C "$st" supervise list
check "  ...until its due date passes unanswered" stdout_has "OVERDUE"

snapshot "$st" "$work/st.before"
run ts -C "$st" supervise close "$item"
check "the street cannot close the item" exit_is 1
check "  ...in one line" stderr_is_one_line
check "  ...only the issuer may" stderr_has "only the issuer"
snapshot "$st" "$work/st.after"
check "  ...and nothing changed" same_files "$work/st.before" "$work/st.after"

run ts -C "$st" supervise answer "$item" --text "已清理 12 处，警示电话 3 个" --author "李街"
check "the street answers" exit_is 0
ts -C "$st" commit -m "答复督办" >/dev/null
up
check "the answer reached the city" \
	is "$(db "$city" "SELECT level || ':' || node || ':' || author FROM supervision_feedback WHERE item_id = '$item'")" \
	"street:bj.dc.jingshan:李街"
check "  ...and the item is answered there" is "$(db "$city" "SELECT status FROM supervision_items WHERE id = '$item'")" answered

run ts -C "$dc" supervise answer "$item" --text "区级已核实" --author "张区"
check "the district adds its feedback" exit_is 0
run ts -C "$dc" supervise close "$item"
check "the district cannot close the city's item" exit_is 1
check "  ...in one line" stderr_is_one_line
ts -C "$dc" commit -m "区级反馈" >/dev/null
ts -C "$dc" push >/dev/null
ts -C "$city" merge --submissions >/dev/null
check "three-level feedback: the city holds both" \
	is "$(db "$city" "SELECT group_concat(level, ',') FROM (SELECT level FROM supervision_feedback WHERE item_id = '$item' ORDER BY level)")" \
	"district,street"

run ts -C "$city" supervise close "$item" --author "刘局"
check "the issuer closes it" exit_is 0
ts -C "$city" commit -m "督办办结" >/dev/null
check "  ...in a commit under the issuer's name" is "$(on_git "$city" log -1 --format=%an)" "刘局"
down
check "the street sees it closed" \
	is "$(db "$st" "SELECT status, closed_at IS NOT NULL FROM supervision_items WHERE id = '$item'")" "closed|1"
run ts -C "$st" supervise list --open
check "  ...and no longer open" stdout_has "no open supervision items"
run ts -C "$st" supervise list --json
check "supervise list --json is valid JSON" json_valid "$work/out"
check "  ...with the item's feedback" is "$(json_length "$work/out" '$[0].feedback')" 2
run ts -C "$st" supervise answer "$item" --text "补充"
check "a closed item takes no more feedback" exit_is 1
check "  ...in one line" stderr_is_one_line

# --- a major event marks the street's cases after pull -----------------------------
today=$(date -u -d '+8 hours' +%F)
yesterday=$(date -u -d '-16 hours' +%F)
tomorrow=$(date -u -d '+32 hours' +%F)
# a case the city does not hold yet: recorded offline at the street
offline=$(ts -C "$st" case new --category outdoor_bbq --source complaint --address "景山后街" --author "王伟")
ts -C "$st" commit -m "complaint" >/dev/null

run ts -C "$st" event add "全国两会" --from "$yesterday" --to "$tomorrow"
check "a street cannot declare a major event" exit_is 1
check "  ...in one line" stderr_is_one_line
run ts -C "$city" event add "全国两会" --from "$yesterday" --to "$tomorrow" --zone "全市" --author "刘局" --json
check "the city declares a major event" exit_is 0
check "  ...and marks the cases it holds" is "$(json_get "$work/out" '$.marked')" 1
event=$(json_get "$work/out" '$.id')
ts -C "$city" commit -m "重大活动保障" >/dev/null
down
check "the event reached the street" is "$(db "$st" "SELECT name || ':' || owner_node FROM major_events WHERE id = '$event'")" "全国两会:bj"
check "  ...with the city's mark on the case it held" \
	is "$(db "$st" "SELECT event_id FROM cases WHERE id = '$case_id'")" "$event"
check "  ...while the offline case is not marked yet" \
	is "$(db "$st" "SELECT event_id IS NULL FROM cases WHERE id = '$offline'")" 1
run ts -C "$st" event mark --author "李街"
check "the street marks its cases" exit_is 0
check "  ...one" stdout_has "marked 1 case"
check "the offline case is marked" is "$(db "$st" "SELECT event_id FROM cases WHERE id = '$offline'")" "$event"
check "  ...as SQL of our own finds: every street case reported in the period" \
	is "$(db "$st" "SELECT count(*) FROM cases c, major_events e WHERE e.id = '$event'
		AND c.reported_at BETWEEN e.starts_at AND e.ends_at AND c.event_id IS NOT e.id")" 0
run ts -C "$st" event list --json
check "event list --json is valid JSON" json_valid "$work/out"
check "  ...counting the street's marked cases" is "$(json_get "$work/out" '$[0].cases')" 2
ts -C "$st" commit -m "mark the event's cases" --author "李街" >/dev/null

# --- small-ad numbers ----------------------------------------------------------------
run ts -C "$st" ads add "$case_id" 138-0013-8000 "139 1234 5678" --author "王伟"
check "the street records the numbers on the ad" exit_is 0
run ts -C "$st" ads add "$offline" 13700000000
check "  ...not on a case of another category" exit_is 1
run ts -C "$st" ads warn 13800138000 --outcome warned --author "赵警"
check "a warning call is recorded" exit_is 0
run ts -C "$st" ads warn 13912345678 --outcome busy
check "  ...with a known outcome only" exit_is 1
check "  ...in one line" stderr_is_one_line
ts -C "$st" commit -m "小广告号码" >/dev/null
run ts -C "$st" ads list --json
check "ads list --json is valid JSON" json_valid "$work/out"
check "  ...with the rate: 1 of 2" is "$(json_get "$work/out" '$.warned'),$(json_get "$work/out" '$.found'),$(json_get "$work/out" '$.rate')" "1,2,0.5"

# the same number called at the street and at the district, offline: the
# street owns the case, so its call wins whole, and the merge settles it
up
down
ts -C "$st" ads warn 13912345678 --outcome unreachable --author "王伟" >/dev/null
ts -C "$st" commit -m "警示电话" >/dev/null
ts -C "$dc" ads warn 13912345678 --outcome warned --author "张区" >/dev/null
ts -C "$dc" commit -m "警示电话" >/dev/null
ts -C "$st" push >/dev/null
run ts -C "$dc" merge --submissions
check "the district merges the street's call" exit_is 0
check "  ...taking the street's call whole" \
	is "$(db "$dc" "SELECT outcome || ':' || warned_by FROM small_ad_phones WHERE phone = '13912345678'")" "unreachable:王伟"
check "  ...settled, with the district's call kept in the record" \
	is "$(db "$dc" "SELECT group_concat(column_name || ':' || status || ':' || ours || ':' || theirs, ' ')
		FROM (SELECT * FROM sync_conflicts WHERE table_name = 'small_ad_phones' AND column_name IN ('outcome', 'warned_by')
		ORDER BY column_name)")" \
	'outcome:settled:"warned":"unreachable" warned_by:settled:"张区":"王伟"'
check "  ...and nothing for review" \
	is "$(db "$dc" "SELECT count(*) FROM sync_conflicts WHERE table_name = 'small_ad_phones' AND status = 'open'")" 0

# --- bad usage and bad input: one clear line, nothing changed ------------------------
for c in area supervise event ads; do
	run ts -C "$dc" "$c" --help
	check "$c --help" exit_is 0
	check "  ...shows its usage" stdout_has "usage: tiersync $c"
	run ts -C "$dc" "$c"
	check "$c without a verb is bad usage" exit_is 2
	run ts -C "$dc" "$c" frob
	check "$c frob is bad usage" exit_is 2
done
snapshot "$dc" "$work/dc.before"
snapshot "$city" "$work/city.before"
run ts -C "$dc" area add "景山"
check "area add without --zone is bad usage" exit_is 2
check "  ...in one line" stderr_is_one_line
check "  ...naming --zone" stderr_has "needs --zone ZONE"
run ts -C "$city" area add "前门" --zone "前门大街"
check "a city's area without --in is bad usage" exit_is 2
check "  ...in one line" stderr_is_one_line
check "  ...naming --in" stderr_has "needs --in DISTRICT for each district it lies in (e.g. --in bj.dc)"
run ts -C "$dc" area add "景山东" --zone "景山东街" --in bj.dc
check "a district's area with --in is bad usage" exit_is 2
check "  ...in one line" stderr_is_one_line
check "  ...naming --in" stderr_has "--in goes with a city's key area"
run ts -C "$dc" area delist "$own"
check "area delist without --reason is bad usage" exit_is 2
check "  ...naming --reason" stderr_has "needs --reason TEXT"
run ts -C "$dc" supervise issue --to bj.dc.jingshan
check "supervise issue without --subject is bad usage" exit_is 2
run ts -C "$dc" supervise issue --to bj.hd.zgc --subject "越界"
check "an item to another district's street is refused" exit_is 1
check "  ...in one line" stderr_is_one_line
run ts -C "$dc" supervise issue --to bj.dc.jingshan --subject "清理" --due 2015-02-30
check "a due date that does not exist is refused" exit_is 1
check "  ...in one line" stderr_is_one_line
check "  ...naming --due" stderr_has "--due: '2015-02-30' is not a date"
run ts -C "$dc" event add "国庆" --from 2015-10-07 --to 2015-10-01
check "a period that ends before it starts is refused" exit_is 1
check "  ...in one line" stderr_is_one_line
run ts -C "$dc" event add "国庆" --from 2015-09-31 --to 2015-10-07
check "a start that is not a date is refused" exit_is 1
check "  ...in one line" stderr_is_one_line
check "  ...naming --from" stderr_has "--from: '2015-09-31' is not a date"
run ts -C "$dc" event add "国庆" --from 2015-10-01 --to "十月七日"
check "an end that is not a date is refused" exit_is 1
check "  ...naming --to" stderr_has "--to: '十月七日' is not a date"
run ts -C "$dc" supervise answer nosuch --text "x"
check "an unknown item is refused" exit_is 1
run ts -C "$dc" supervise answer nosuch
check "an answer without --text is bad usage" exit_is 2
check "  ...naming --text" stderr_has "needs --text TEXT"
run ts -C "$dc" area delist nosuch --reason "x"
check "an unknown area is refused" exit_is 1
run ts -C "$dc" ads warn "13800138000; DROP TABLE cases" --outcome warned
check "a number that is not one is refused" exit_is 1
check "  ...in one line" stderr_is_one_line
snapshot "$dc" "$work/dc.after"
check "  ...and the district is unchanged" same_files "$work/dc.before" "$work/dc.after"
snapshot "$city" "$work/city.after"
check "  ...nor the city" same_files "$work/city.before" "$work/city.after"

# --- everything up, then down: every tier holds the same ---------------------------
up
down
check "the city's count of marked cases agrees" \
	is "$(db "$city" "SELECT count(*) FROM cases WHERE event_id = '$event'")" 2
check "the district's rate agrees with SQL of our own" \
	is "$(db "$dc" "SELECT count(DISTINCT phone) FILTER (WHERE outcome = 'warned') || '/' || count(DISTINCT phone) FROM small_ad_phones")" "1/2"
run ts -C "$dc" ads list
check "  ...and with the district's list" stdout_has "1 of 2 numbers warned = 50.0%"
tree=$(on_git "$city" rev-parse 'HEAD^{tree}')
for n in "$dc" "$st"; do
	check "$(basename "$n") has the city's tree" is "$(on_git "$n" rev-parse 'HEAD^{tree}')" "$tree"
done
check "no conflict waits for review" is "$(db "$city" "SELECT count(*) FROM sync_conflicts WHERE status = 'open'")" 0
for n in "$city" "$dc" "$st"; do
	run ts -C "$n" verify
	check "$(basename "$n") verifies" exit_is 0
	check "$(basename "$n"): stock git fsck" fsck_sound "$n"
done
check "history names who answered" sh -c "git --git-dir '$city/history.git' log --format=%an | grep -qx '李街'"
