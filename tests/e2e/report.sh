#!/bin/sh
# A district's generated year of work travels up the tiers, and each tier's
# figures agree with the data: a device and two streets get a year of cases
# from tiersync-gen; the device pushes to its street, the streets to the
# district, the district to the city, each upper node merging. At every
# node, every figure of `report --json`, in total and for each child unit,
# equals a query written here and run by the stock sqlite3 shell; the
# queries docs/REPORT.md gives give the same numbers; and each tier's row
# for a child is that child's own report.
. "$TS_TOP/tests/e2e/lib.sh"

# the generator is built beside the binary under test (make builds both)
gen=$(dirname "$TIERSYNC")/tiersync-gen
[ -x "$gen" ] || gen=$TS_TOP/build/rel/tiersync-gen
[ -x "$gen" ] || { echo "no tiersync-gen beside $TIERSYNC (make builds it)"; exit 1; }

city=$work/city
dc=$work/dc
js=$work/jingshan
dhm=$work/donghuamen
dev=$work/d07
ts init "$city" --tier city --id bj --author "李建国" >/dev/null
ts init "$dc" --tier district --id bj.dc --upstream "$city" --author "张敏" >/dev/null
ts init "$js" --tier street --id bj.dc.jingshan --upstream "$dc" --author "王伟" >/dev/null
ts init "$dhm" --tier street --id bj.dc.donghuamen --upstream "$dc" --author "赵强" >/dev/null
ts init "$dev" --tier device --id bj.dc.jingshan.d07 --upstream "$js" --author "李娜" >/dev/null
enroll "$city" bj.dc "$dc/id_ed25519.pub"
enroll "$dc" bj.dc.jingshan "$js/id_ed25519.pub"
enroll "$dc" bj.dc.donghuamen "$dhm/id_ed25519.pub"
enroll "$js" bj.dc.jingshan.d07 "$dev/id_ed25519.pub"

# ---- the generator refuses what it cannot do, and changes nothing then
run "$gen" --street "$js"
check "tiersync-gen without --district is bad usage" exit_is 2
run "$gen" --district "$dc" --street "$js" --cases many
check "tiersync-gen --cases many is bad usage" exit_is 2
run "$gen" --help
check "tiersync-gen --help" exit_is 0
check "  ...names its options" stdout_has "--commit-every"
lone=$work/lone
ts init "$lone" --tier street --id bj.dc.lone >/dev/null
snapshot "$dc" "$work/dc.before"
snapshot "$lone" "$work/lone.before"
run "$gen" --district "$dc" --street "$lone"
check "a street without an upstream is refused" exit_is 1
check "  ...with one line" stderr_is_one_line
check "  ...that says why" stderr_has "no upstream"
snapshot "$dc" "$work/dc.after"
snapshot "$lone" "$work/lone.after"
check "  ...and the district is unchanged" same_files "$work/dc.before" "$work/dc.after"
check "  ...and the street too" same_files "$work/lone.before" "$work/lone.after"
run "$gen" --district "$js" --street "$dhm"
check "a street given as the district is refused" exit_is 1
run "$gen" --district "$dc" --street "$js" --device "$dev" --device "$dev"
check "a node given twice is refused" exit_is 1

# ---- a year of work
run "$gen" --district "$dc" --street "$js" --street "$dhm" --device "$dev" --year 2015 --cases 1200 \
	--seed 5 --commit-every 14
check "tiersync-gen writes the year" exit_is 0
check "the year has 1200 cases over the streets and the device" \
	is "$(($(db "$js" "SELECT count(*) FROM cases WHERE reported_at >= '2015'") + \
		$(db "$dhm" "SELECT count(*) FROM cases WHERE reported_at >= '2015'") + \
		$(db "$dev" "SELECT count(*) FROM cases WHERE reported_at >= '2015'")))" 1200
check "the year before has complaints only" \
	is "$(db "$js" "SELECT count(*) FROM cases WHERE reported_at < '2015' AND source <> 'complaint'")" 0
check "  ...and some" sh -c "[ $(db "$js" "SELECT count(*) FROM cases WHERE reported_at < '2015'") -gt 20 ]"
check "barbecue is a summer problem" sh -c "[ $(db "$dhm" "SELECT count(*) FROM cases WHERE category =
	'outdoor_bbq' AND substr(reported_at, 6, 2) BETWEEN '06' AND '08'") -gt $(db "$dhm" "SELECT 3 * count(*)
	FROM cases WHERE category = 'outdoor_bbq' AND substr(reported_at, 6, 2) IN ('12', '01', '02')") ]"
check "unlicensed coal is a winter one" is "$(db "$dhm" "SELECT count(*) FROM cases WHERE category =
	'coal_unlicensed' AND substr(reported_at, 6, 2) BETWEEN '05' AND '09'")" 0
check "every case has its intake event" is "$(db "$js" "SELECT count(*) FROM cases c WHERE NOT EXISTS
	(SELECT 1 FROM case_events e WHERE e.case_id = c.id AND e.kind = 'intake')")" 0
check "every closed case has its close event, at closed_at" is "$(db "$js" "SELECT count(*) FROM cases c
	WHERE status = 'closed' AND NOT EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = c.id AND
	e.kind = 'close' AND e.at = c.closed_at)")" 0
check "every penalty decided was filed first" is "$(db "$dhm" "SELECT count(*) FROM cases WHERE decided_at
	IS NOT NULL AND (filed_at IS NULL OR filed_at > decided_at OR stage <> 'penalize')")" 0
check "every closed major penalty was reviewed after its decision and filed up" is "$(db "$dhm" "SELECT
	count(*) FROM cases WHERE major = 1 AND status = 'closed' AND (review_status IS NOT 'approved' OR
	reviewed_at < decided_at OR filed_up_at IS NULL OR filed_up_at < reviewed_at)")" 0
check "  ...and there are some" sh -c "[ $(db "$dhm" "SELECT count(*) FROM cases WHERE major = 1") -gt 0 ]"
check "every closed penalty was executed first" is "$(db "$dhm" "SELECT count(*) FROM cases WHERE status =
	'closed' AND stage = 'penalize' AND (executed_at IS NULL OR executed_at > closed_at)")" 0
check "every closed complaint had its return visit first" is "$(db "$js" "SELECT count(*) FROM cases WHERE
	status = 'closed' AND source = 'complaint' AND (visited_at IS NULL OR visited_at > closed_at)")" 0
check "a complaint's return visit has a mark" is "$(db "$js" "SELECT count(*) FROM cases WHERE visited_at
	IS NOT NULL AND (satisfaction IS NULL OR source <> 'complaint')")" 0
check "dispatched cases name their officer" is "$(db "$js" "SELECT count(*) FROM cases WHERE status <>
	'discovered' AND officer IS NULL")" 0
check "the device's cases are its street's, recorded by the device" is "$(db "$dev" "SELECT count(*) FROM cases
	WHERE jurisdiction <> 'bj.dc.jingshan' OR created_by_node <> 'bj.dc.jingshan.d07'")" 0
check "the patrols found what the cases say was found on patrol" is "$(db "$js" "SELECT sum(found) FROM patrols
	WHERE jurisdiction = 'bj.dc.jingshan'")" "$(db "$js" "SELECT count(*) FROM cases WHERE source = 'patrol'
	AND jurisdiction = 'bj.dc.jingshan'")"
check "  ...and went mostly to key areas" sh -c "[ $(db "$js" "SELECT 2 * count(key_area_id) > count(*)
	FROM patrols")  = 1 ]"
check "the streets hold the district's key areas" is "$(db "$js" "SELECT count(*) FROM key_areas")" 3
check "history names several officers" sh -c "[ $(on_git "$js" log --format=%an | sort -u | wc -l) -ge 4 ]"
check "  ...a commit every two simulated weeks" sh -c "[ $(on_git "$js" rev-list --count HEAD) -ge 52 ]"
check "  ...at the simulated time" is "$(on_git "$js" log -1 --format=%ad --date=format:%Y)" 2015
for n in "$dc" "$js" "$dhm" "$dev"; do
	run ts -C "$n" verify
	check "$(basename "$n") verifies after generation" exit_is 0
	check "$(basename "$n"): stock git fsck" fsck_sound "$n"
done

# ---- up the tiers
ts -C "$dev" push >/dev/null
run ts -C "$js" merge --submissions
check "jingshan merges its device's work" exit_is 0
ts -C "$dev" pull >/dev/null
for n in "$js" "$dhm"; do
	ts -C "$n" push >/dev/null
done
run ts -C "$dc" merge --submissions
check "the district merges both streets" exit_is 0
for n in "$js" "$dhm"; do
	ts -C "$n" pull >/dev/null
done
ts -C "$dc" push >/dev/null
run ts -C "$city" merge --submissions
check "the city merges the district" exit_is 0
ts -C "$dc" pull >/dev/null
check "no conflicts at the district" is "$(db "$dc" "SELECT count(*) FROM sync_conflicts")" 0
check "the city holds every case of the streets and the device" is "$(db "$city" "SELECT count(*) FROM cases")" \
	"$(($(db "$js" "SELECT count(*) FROM cases WHERE created_by_node = 'bj.dc.jingshan'") + \
		$(db "$dhm" "SELECT count(*) FROM cases WHERE created_by_node = 'bj.dc.donghuamen'") + \
		$(db "$dev" "SELECT count(*) FROM cases WHERE created_by_node = 'bj.dc.jingshan.d07'")))"

# ---- the records of the plan's figures, made with their commands
# Complaint baselines (the city's), supervision items issued, answered on
# time and late, and closed, and exposures, on top of what the generator
# made; the clock is set to the day each was made (TIERSYNC_NOW). Then a
# full sync round, so that every node holds the same rows.
on() {
	_when=$(date -d "$1 +0800" +%s)
	shift
	TIERSYNC_NOW=$_when ts "$@"
}
item() {
	db "$1" "SELECT id FROM supervision_items WHERE subject = '$2'"
}
sync_round() {
	ts -C "$dev" push >/dev/null &&
	ts -C "$js" merge --submissions >/dev/null && ts -C "$js" push >/dev/null &&
	ts -C "$dhm" push >/dev/null &&
	ts -C "$dc" merge --submissions >/dev/null && ts -C "$dc" push >/dev/null &&
	ts -C "$city" merge --submissions >/dev/null &&
	ts -C "$dc" pull >/dev/null && ts -C "$js" pull >/dev/null && ts -C "$dhm" pull >/dev/null &&
	ts -C "$dev" pull >/dev/null
}
for b in "bj key_areas 2015 900" "bj.dc key_areas 2015 400" "bj.dc small_ads 2015 120" \
	"bj.dc.jingshan outdoor_bbq 2015 10" "bj.dc.jingshan key_areas 2015 50" "bj.dc.donghuamen dust_muck 2014 5"; do
	set -- $b
	on "2015-01-05 09:00" -C "$city" baseline set --unit "$1" --subject "$2" --year "$3" --complaints "$4" \
		--author "李建国" >/dev/null
done
on "2015-05-01 09:00" -C "$city" supervise issue --to bj.dc --subject "渣土遗撒e2e" --due "2015-05-03 09:00" \
	--author "李建国" >/dev/null
on "2015-05-01 09:00" -C "$city" supervise issue --to bj.dc.jingshan --subject "小广告e2e" --due "2015-05-03 09:00" \
	--author "李建国" >/dev/null
ts -C "$city" commit -m "baselines and supervision" --author "李建国" >/dev/null
ts -C "$dc" pull >/dev/null
on "2015-07-01 09:00" -C "$dc" supervise issue --to bj.dc.donghuamen --subject "露天烧烤e2e" --author "张敏" >/dev/null
on "2015-08-01 09:00" -C "$dc" supervise issue --to bj.dc.jingshan --subject "占道经营e2e" --due "2015-08-03 09:00" \
	--author "张敏" >/dev/null
on "2015-05-03 09:00" -C "$dc" supervise answer "$(item "$dc" 渣土遗撒e2e)" --text "已处理" --author "张敏" >/dev/null
ts -C "$dc" exposure add --outlet "北京电视台" --title "东城区渣土车" --at "2015-09-12 09:00" --author "张敏" >/dev/null
ts -C "$dc" commit -m "supervision and an exposure" --author "张敏" >/dev/null
ts -C "$js" pull >/dev/null
ts -C "$dhm" pull >/dev/null
on "2015-05-04 09:00" -C "$js" supervise answer "$(item "$js" 小广告e2e)" --text "晚了一天" --author "王伟" >/dev/null
ts -C "$js" exposure add --outlet "北京日报" --title "景山街道整治小广告" --at "2015-06-02 09:00" --author "王伟" >/dev/null
ts -C "$js" commit -m "answer and exposure" --author "王伟" >/dev/null
on "2015-07-08 09:00" -C "$dhm" supervise answer "$(item "$dhm" 露天烧烤e2e)" --text "已整改" --author "赵强" >/dev/null
ts -C "$dhm" exposure add --outlet "北京晚报" --title "去年的曝光" --at "2014-09-12 09:00" --author "赵强" >/dev/null
ts -C "$dhm" commit -m "answer and exposure" --author "赵强" >/dev/null
check "a sync round brings the answers up" sync_round
on "2015-07-09 09:00" -C "$dc" supervise close "$(item "$dc" 露天烧烤e2e)" --author "张敏" >/dev/null
ts -C "$dc" commit -m "close" --author "张敏" >/dev/null
ts -C "$dc" push >/dev/null
ts -C "$city" merge --submissions >/dev/null
on "2015-05-06 09:00" -C "$city" supervise close "$(item "$city" 渣土遗撒e2e)" --author "李建国" >/dev/null
ts -C "$city" commit -m "close" --author "李建国" >/dev/null
check "  ...and another the closings down" sync_round
check "every node holds the baselines" is "$(db "$dev" "SELECT count(*) FROM complaint_baselines")" 6
check "  ...and the items, answers and closings made here" \
	is "$(db "$dev" "SELECT group_concat(status, ',') FROM (SELECT status FROM supervision_items
		WHERE subject GLOB '*e2e' ORDER BY issued_at)")" "closed,answered,closed,open"
check "  ...the same at the city" \
	is "$(db "$city" "SELECT group_concat(status, ',') FROM (SELECT status FROM supervision_items
		WHERE subject GLOB '*e2e' ORDER BY issued_at)")" "closed,answered,closed,open"
check "no conflicts anywhere" is "$(for n in "$city" "$dc" "$js" "$dhm" "$dev"; do
	db "$n" "SELECT count(*) FROM sync_conflicts WHERE status = 'open'"; done | sort -u)" 0

# ---- the figures
for n in city dc jingshan donghuamen d07; do
	run ts -C "$work/$n" report --period 2015-01..2015-12 --json
	check "$n: report --json" exit_is 0
	cp "$work/out" "$work/$n.json"
	check "$n: the report is valid JSON" json_valid "$work/$n.json"
done

P="reported_at >= '2015-01-01T00:00:00+08:00' AND reported_at < '2016-01-01T00:00:00+08:00'"
L="reported_at >= '2014-01-01T00:00:00+08:00' AND reported_at < '2015-01-01T00:00:00+08:00'"
CHECKS="checked_at >= '2015-01-01T00:00:00+08:00' AND checked_at < '2016-01-01T00:00:00+08:00'"
ISSUED="issued_at >= '2015-01-01T00:00:00+08:00' AND issued_at < '2016-01-01T00:00:00+08:00'"
PUBLISHED="published_at >= '2015-01-01T00:00:00+08:00' AND published_at < '2016-01-01T00:00:00+08:00'"
DUST="category IN ('construction_dust', 'muck_spill', 'muck_vehicle')"

# mine UNIT [COLUMN]: the unit's own rows, written another way than the report's.
mine() {
	echo "substr(${2:-jurisdiction} || '.', 1, length('$1') + 1) = '$1.'"
}

# independent_sql UNIT FIGURE: this test's own query of one figure, giving
# "value base" (base empty for a count); "'none'" if it has none.
independent_sql() {
	_m=$(mine "$1")
	case $2 in
	cases_found) _q="SELECT count(*), '' FROM cases WHERE $_m AND $P" ;;
	cases_filed) _q="SELECT count(*), '' FROM cases WHERE $_m AND $P AND filed_at NOT NULL" ;;
	cases_penalised) _q="SELECT count(*), '' FROM cases WHERE $_m AND $P AND decided_at NOT NULL" ;;
	penalties_fen) _q="SELECT total(penalty_amount * (decided_at NOT NULL)), '' FROM cases WHERE $_m AND $P" ;;
	cases_transferred) _q="SELECT count(*), '' FROM cases WHERE $_m AND $P AND transferred_at NOT NULL" ;;
	major_cases_filed_up) _q="SELECT total(filed_up_at NOT NULL), count(*) FROM cases WHERE $_m AND $P AND major" ;;
	complaints) _q="SELECT total($P), total($L) FROM cases WHERE $_m AND source = 'complaint'" ;;
	complaints_key_areas) _q="SELECT total($P), total($L) FROM cases WHERE $_m AND source = 'complaint'
		AND key_area_id NOT NULL" ;;
	complaints_dust_muck) _q="SELECT total($P), total($L) FROM cases WHERE $_m AND source = 'complaint'
		AND key_area_id NOT NULL AND $DUST" ;;
	complaints_outdoor_bbq) _q="SELECT total($P), total($L) FROM cases WHERE $_m AND source = 'complaint'
		AND category = 'outdoor_bbq'" ;;
	complaints_small_ads) _q="SELECT total($P), total($L) FROM cases WHERE $_m AND source = 'complaint'
		AND category = 'small_ads'" ;;
	cases_closed_rate) _q="SELECT total(closed_at NOT NULL), count(*) FROM cases WHERE $_m AND $P
		AND transferred_at IS NULL" ;;
	zones_rectified_key_areas) _q="SELECT total(EXISTS (SELECT 1 FROM responsibility_checks l
		WHERE l.zone_id = z.id AND l.met AND l.checked_at > (SELECT max(checked_at) FROM responsibility_checks k
		WHERE k.zone_id = z.id AND NOT k.met AND $CHECKS))), count(*) FROM responsibility_zones z
		WHERE $_m AND key_area_id NOT NULL AND EXISTS (SELECT 1 FROM responsibility_checks k
		WHERE k.zone_id = z.id AND NOT k.met AND $CHECKS)" ;;
	supervision_received) _q="SELECT count(*), '' FROM supervision_items WHERE $(mine "$1" target_node)
		AND $ISSUED" ;;
	supervision_issued) _q="SELECT count(*), '' FROM supervision_items WHERE $(mine "$1" issued_by_node)
		AND $ISSUED" ;;
	supervision_answered_on_time) _q="SELECT total(EXISTS (SELECT 1 FROM supervision_feedback f
		WHERE f.item_id = i.id AND (i.due_at IS NULL OR f.at <= i.due_at))), count(*) FROM supervision_items i
		WHERE $(mine "$1" target_node) AND $ISSUED" ;;
	supervision_closed) _q="SELECT total(status = 'closed'), count(*) FROM supervision_items
		WHERE $(mine "$1" target_node) AND $ISSUED" ;;
	satisfaction_small_ads) _q="SELECT total(satisfaction IN ('satisfied', 'basically_satisfied')), count(*)
		FROM cases WHERE $_m AND $P AND source = 'complaint' AND category = 'small_ads' AND visited_at NOT NULL
		AND satisfaction NOT NULL" ;;
	major_event_cases) _q="SELECT total(event_id IN (SELECT id FROM major_events)), '' FROM cases
		WHERE $_m AND $P" ;;
	exposures_made) _q="SELECT count(*), '' FROM exposures WHERE $_m AND $PUBLISHED" ;;
	return_visits) _q="SELECT total(visited_at NOT NULL), count(*) FROM cases WHERE $_m AND $P
		AND source = 'complaint' AND (status = 'feedback' OR status = 'closed')" ;;
	satisfaction) _q="SELECT total(satisfaction IN ('satisfied', 'basically_satisfied')), count(*) FROM cases
		WHERE $_m AND $P AND source = 'complaint' AND visited_at NOT NULL AND satisfaction NOT NULL" ;;
	small_ad_phones_warned) _q="SELECT total(n = 0), count(*) FROM (SELECT total(coalesce(outcome, '') <>
		'warned') AS n FROM small_ad_phones WHERE case_id IN (SELECT id FROM cases WHERE $_m AND $P)
		GROUP BY phone)" ;;
	notices_issued) _q="SELECT total(notice_issued_at < '2016-01-01T00:00:00+08:00'), count(*)
		FROM responsibility_zones WHERE $_m" ;;
	responsibility_met_key_areas) _q="SELECT total(met), count(*) FROM responsibility_checks WHERE $CHECKS
		AND zone_id IN (SELECT id FROM responsibility_zones WHERE $_m AND key_area_id NOT NULL)" ;;
	responsibility_met_elsewhere) _q="SELECT total(met), count(*) FROM responsibility_checks WHERE $CHECKS
		AND zone_id IN (SELECT id FROM responsibility_zones WHERE $_m AND key_area_id IS NULL)" ;;
	deadline_adherence) _q="SELECT total(closed_at <= deadline), total(closed_at NOT NULL) FROM cases
		WHERE $_m AND $P" ;;
	media_exposures) _q="SELECT count(*), '' FROM cases WHERE $_m AND $P AND source = 'media'" ;;
	*) echo "'none'"; return ;;
	esac
	echo "(WITH q(v, b) AS ($_q)
		SELECT CAST(v AS INTEGER) || ' ' || coalesce(CAST(nullif(b, '') AS INTEGER), '') FROM q)"
}

# reported_sql FILE PATH: the query of "value base" of one figure of a report.
reported_sql() {
	echo "(SELECT CASE json_type(x, '$2') WHEN 'integer' THEN json_extract(x, '$2') || ' '
		ELSE json_extract(x, '$2.count') || ' ' || coalesce(json_extract(x, '$2.of'),
		json_extract(x, '$2.last_year'), '') END FROM (SELECT CAST(readfile('$1') AS TEXT) AS x))"
}

# reported FILE PATH: "value base" of one figure of a report.
reported() {
	sqlite3 :memory: "SELECT $(reported_sql "$1" "$2")"
}

# check_unit NODE FILE PATH: every figure of one unit of a report against
# this test's own query of it, all in one sqlite3 process: a line
# "figure|sqlite3's|the report's" each.
check_unit() {
	_unit=$(json_get "$2" "$3.unit")
	_sql=""
	for _f in $(sqlite3 :memory: "SELECT key FROM json_each(CAST(readfile('$2') AS TEXT), '$3.figures')"); do
		_sql="$_sql${_sql:+ UNION ALL }SELECT '$_f', $(independent_sql "$_unit" "$_f"),
			$(reported_sql "$2" "$3.figures.$_f")"
	done
	_bad=$(db "$1" "$_sql" | awk -F'|' '$2 != $3 { printf " %s(report \047%s\047, sqlite3 \047%s\047)", $1, $3, $2 }')
	[ -n "$_sql" ] && [ -z "$_bad" ] || { echo "$_unit:${_bad:- no figures}"; return 1; }
}

# baselines_agree NODE FILE PATH: each complaint figure's baseline (a whole year: the unit's own row for
# 2015, or null) and its verdict, against sqlite3.
baselines_agree() {
	_unit=$(json_get "$2" "$3.unit")
	_bad=""
	for _s in key_areas dust_muck outdoor_bbq small_ads; do
		_want=$(db "$1" "SELECT coalesce((SELECT printf('%.4f', complaints) FROM complaint_baselines
			WHERE scope = '$_unit' AND subject = '$_s' AND year = '2015'), 'null')")
		_got=$(sqlite3 :memory: "SELECT CASE WHEN b IS NULL THEN 'null' ELSE printf('%.4f', b) END
			FROM (SELECT json_extract(CAST(readfile('$2') AS TEXT), '$3.figures.complaints_$_s.baseline') AS b)")
		_met=$(sqlite3 :memory: "SELECT coalesce(json_extract(f, '\$.met_baseline'), 'null') || ' ' ||
			CASE WHEN json_extract(f, '\$.baseline') > 0 THEN json_extract(f, '\$.count') <=
			0.85 * json_extract(f, '\$.baseline') ELSE 'null' END
			FROM (SELECT json_extract(CAST(readfile('$2') AS TEXT), '$3.figures.complaints_$_s') AS f)")
		[ "$_want" = "$_got" ] || _bad="$_bad $_s(report '$_got', sqlite3 '$_want')"
		case $_met in "1 1"|"0 0"|"null null") ;; *) _bad="$_bad $_s(verdict '$_met')" ;; esac
	done
	[ -z "$_bad" ] || { echo "$_unit:$_bad"; return 1; }
}

# by_category/by_source of the total against sqlite3.
groups_of_report() {
	sqlite3 -separator ' ' :memory: "SELECT key, json_extract(value, '\$.found'), json_extract(value,
		'\$.filed'), json_extract(value, '\$.penalised'), json_extract(value, '\$.transferred'),
		json_extract(value, '\$.closed') FROM json_each(CAST(readfile('$1') AS TEXT), '\$.total.$2')
		ORDER BY key"
}
groups_of_db() {
	_m=$(mine "$2")
	db "$1" -separator ' ' "SELECT code, (SELECT count(*) FROM cases WHERE $3 = code AND $_m AND $P),
		(SELECT count(*) FROM cases WHERE $3 = code AND $_m AND $P AND filed_at NOT NULL),
		(SELECT count(*) FROM cases WHERE $3 = code AND $_m AND $P AND decided_at NOT NULL),
		(SELECT count(*) FROM cases WHERE $3 = code AND $_m AND $P AND transferred_at NOT NULL),
		(SELECT count(*) FROM cases WHERE $3 = code AND $_m AND $P AND closed_at NOT NULL)
		FROM $4 ORDER BY code"
}

for n in city dc jingshan donghuamen d07; do
	node=$work/$n
	unit=$(json_get "$work/$n.json" '$.unit')
	check "$n: the report is for the node's jurisdiction" is "$unit" "$(db "$node" "SELECT '$unit'")"
	check "$n: every figure of the total equals sqlite3's" check_unit "$node" "$work/$n.json" '$.total'
	check "$n: the total's baselines are its own rows" baselines_agree "$node" "$work/$n.json" '$.total'
	nchildren=$(json_length "$work/$n.json" '$.children')
	i=0
	while [ "$i" -lt "$nchildren" ]; do
		check "$n: every figure of child $(json_get "$work/$n.json" "\$.children[$i].unit") equals sqlite3's" \
			check_unit "$node" "$work/$n.json" "\$.children[$i]"
		check "  ...and its baselines are its own rows" baselines_agree "$node" "$work/$n.json" "\$.children[$i]"
		i=$((i + 1))
	done
	check "$n: per category, as sqlite3 counts" is "$(groups_of_report "$work/$n.json" by_category)" \
		"$(groups_of_db "$node" "$unit" category categories)"
	check "$n: per source, as sqlite3 counts" is "$(groups_of_report "$work/$n.json" by_source)" \
		"$(groups_of_db "$node" "$unit" source sources)"
done

check "the data is worth reporting: the district's year has 1200 cases" \
	is "$(json_get "$work/dc.json" '$.total.figures.cases_found')" 1200
check "  ...and last year's complaints to compare with" \
	sh -c "[ $(json_get "$work/dc.json" '$.total.figures.complaints.last_year') -gt 100 ]"
check "  ...and checks in key areas" \
	sh -c "[ $(json_get "$work/dc.json" '$.total.figures.responsibility_met_key_areas.of') -gt 10 ]"
check "  ...and supervision items, some answered on time and some not" sh -c "[ $(json_get "$work/dc.json" \
	'$.total.figures.supervision_answered_on_time.count') -gt 0 ] && [ $(json_get "$work/dc.json" \
	'$.total.figures.supervision_answered_on_time.count') -lt $(json_get "$work/dc.json" \
	'$.total.figures.supervision_answered_on_time.of') ]"
check "  ...and exposures made" sh -c "[ $(json_get "$work/city.json" '$.total.figures.exposures_made') -gt 2 ]"
check "  ...and cases in major events, a goal missed" \
	is "$(json_get "$work/dc.json" '$.total.figures.major_event_cases.met')" 0
check "  ...some" sh -c "[ $(json_get "$work/dc.json" '$.total.figures.major_event_cases.count') -gt 0 ]"
check "  ...listed per event as sqlite3 counts them" is "$(sqlite3 :memory: "SELECT group_concat(
	json_extract(value, '\$.id') || ':' || json_extract(value, '\$.cases'), ' ') FROM json_each(CAST(readfile(
	'$work/dc.json') AS TEXT), '\$.total.figures.major_event_cases.events')")" "$(db "$dc" "SELECT group_concat(
	id || ':' || n, ' ') FROM (SELECT e.id AS id, count(*) AS n FROM major_events e JOIN cases c ON c.event_id = e.id
	WHERE $(mine bj.dc c.jurisdiction) AND c.$P GROUP BY e.id ORDER BY e.id)")"
check "  ...and key-area zones found failing" \
	sh -c "[ $(json_get "$work/dc.json" '$.total.figures.zones_rectified_key_areas.of') -gt 0 ]"
check "a unit without a baseline has none, not a made-up one" \
	is "$(json_get "$work/dc.json" '$.children[0].figures.complaints_key_areas.baseline')" ""
check "  ...nor for a year that is not the period's" \
	is "$(json_get "$work/donghuamen.json" '$.total.figures.complaints_dust_muck.met_baseline')" ""
check "the district's baseline for key areas is its own row" \
	is "$(json_get "$work/dc.json" '$.total.figures.complaints_key_areas.baseline')" 400.0
check "a goal's verdict follows its numbers" is "$(sqlite3 :memory: "SELECT json_extract(f, '\$.met') =
	(json_extract(f, '\$.count') >= 0.9 * json_extract(f, '\$.of')) FROM (SELECT json_extract(CAST(readfile(
	'$work/dc.json') AS TEXT), '\$.total.figures.satisfaction') AS f)")" 1

# ---- the children: each tier's row for a child is the child's own report
check "the city's children: the district" is "$(json_get "$work/city.json" '$.children[0].unit')" bj.dc
check "the district's children: its two streets" is "$(sqlite3 :memory: "SELECT group_concat(json_extract(value,
	'\$.unit'), ' ') FROM json_each(CAST(readfile('$work/dc.json') AS TEXT), '\$.children')")" \
	"bj.dc.donghuamen bj.dc.jingshan"
check "jingshan has no units below it: its device's cases are its own" \
	is "$(json_length "$work/jingshan.json" '$.children')" 0
check "  ...counted in its figures" is "$(json_get "$work/jingshan.json" '$.total.figures.cases_found')" \
	"$(db "$js" "SELECT count(*) FROM cases WHERE created_by_node IN ('bj.dc.jingshan', 'bj.dc.jingshan.d07')
		AND reported_at >= '2015'")"
check "  ...and the device counts none of its own" is "$(json_get "$work/d07.json" '$.total.figures.cases_found')" 0
check "the district's row for donghuamen is donghuamen's report" \
	is "$(json_get "$work/dc.json" '$.children[0]')" "$(json_get "$work/donghuamen.json" '$.total')"
check "the district's row for jingshan is jingshan's report" \
	is "$(json_get "$work/dc.json" '$.children[1]')" "$(json_get "$work/jingshan.json" '$.total')"
check "the city's row for the district is the district's report" \
	is "$(json_get "$work/city.json" '$.children[0]')" "$(json_get "$work/dc.json" '$.total')"
run ts -C "$dc" report --period 2015 --unit bj.dc.jingshan --json
check "report --unit gives a child's figures" \
	is "$(json_get "$work/out" '$.total')" "$(json_get "$work/jingshan.json" '$.total')"

# a quarter's baseline: 91 of 2015's 365 days of the district's row, as awk prorates it
run ts -C "$dc" report --period 2015-04..2015-06 --json
check "a quarter's baseline is the year's prorated by its days" \
	is "$(sqlite3 :memory: "SELECT printf('%.4f', json_extract(CAST(readfile('$work/out') AS TEXT),
		'\$.total.figures.complaints_key_areas.baseline'))")" "$(awk 'BEGIN { printf "%.4f", 400 * 91 / 365 }')"
cp "$work/out" "$work/dc.q2.json"

# ---- the queries of docs/REPORT.md give the report's numbers
doc_sql() {
	awk -v h="### \`$1\`" '$0 == h { f = 1; next } f && /^```sql/ { g = 1; next } g && /^```/ { exit } g { print }' \
		"$TS_TOP/docs/REPORT.md"
}
doc_run() {
	{
		printf '.param set :scope "'"'"'%s'"'"'"\n' "$2"
		printf '.param set :from "'"'"'2015-01-01T00:00:00+08:00'"'"'"\n'
		printf '.param set :to "'"'"'2016-01-01T00:00:00+08:00'"'"'"\n'
		printf '.param set :last_from "'"'"'2014-01-01T00:00:00+08:00'"'"'"\n'
		printf '.param set :last_to "'"'"'2015-01-01T00:00:00+08:00'"'"'"\n'
		doc_sql "$3"
		echo ";"
	} | sqlite3 -separator ' ' "$1/tiersync.db"
}
doc_matches() {
	_bad=""
	for _f in $(sqlite3 :memory: "SELECT key FROM json_each(CAST(readfile('$2') AS TEXT), '\$.total.figures')"); do
		[ -n "$(doc_sql "$_f")" ] || { _bad="$_bad $_f(not in the docs)"; continue; }
		_got=$(doc_run "$1" "$(json_get "$2" '$.unit')" "$_f")
		[ "$_got" = "$(reported "$2" "\$.total.figures.$_f")" ] || _bad="$_bad $_f(docs '$_got')"
	done
	[ -z "$_bad" ] || { echo "$_bad"; return 1; }
}
# doc_baseline FIGURE: the second sql block after the figure's heading, its baseline query.
doc_baseline() {
	awk -v h="### \`$1\`" '$0 == h { f = 1; next } f && /^```sql/ { n++; if (n == 2) { g = 1; next } }
		g && /^```/ { exit } g { print }' "$TS_TOP/docs/REPORT.md"
}
# doc_baselines NODE FILE FROM TO: the baseline queries of docs/REPORT.md, against the report's.
doc_baselines() {
	_bad=""
	for _s in key_areas dust_muck outdoor_bbq small_ads; do
		[ -n "$(doc_baseline "complaints_$_s")" ] || { _bad="$_bad $_s(not in the docs)"; continue; }
		_got=$({
			printf '.param set :scope "'"'"'%s'"'"'"\n' "$(json_get "$2" '$.unit')"
			printf '.param set :from "'"'"'%s'"'"'"\n' "$3"
			printf '.param set :to "'"'"'%s'"'"'"\n' "$4"
			echo "WITH q(b) AS ("
			doc_baseline "complaints_$_s"
			echo ") SELECT CASE WHEN b IS NULL THEN 'null' ELSE printf('%.4f', b) END FROM q;"
		} | sqlite3 "$1/tiersync.db")
		_want=$(sqlite3 :memory: "SELECT CASE WHEN b IS NULL THEN 'null' ELSE printf('%.4f', b) END FROM (SELECT
			json_extract(CAST(readfile('$2') AS TEXT), '\$.total.figures.complaints_$_s.baseline') AS b)")
		[ "$_got" = "$_want" ] || _bad="$_bad $_s(docs '$_got', report '$_want')"
	done
	[ -z "$_bad" ] || { echo "$_bad"; return 1; }
}
check "the district: every figure's query in docs/REPORT.md gives the report's number" doc_matches "$dc" "$work/dc.json"
check "jingshan: the same" doc_matches "$js" "$work/jingshan.json"
check "the district: the baseline queries in docs/REPORT.md give the report's baselines" \
	doc_baselines "$dc" "$work/dc.json" 2015-01-01T00:00:00+08:00 2016-01-01T00:00:00+08:00
check "  ...over a quarter too" \
	doc_baselines "$dc" "$work/dc.q2.json" 2015-04-01T00:00:00+08:00 2015-07-01T00:00:00+08:00
check "jingshan: the same" \
	doc_baselines "$js" "$work/jingshan.json" 2015-01-01T00:00:00+08:00 2016-01-01T00:00:00+08:00

# ---- the report's own passes: docs/REPORT.md's queries, run by sqlite3, give its numbers
# doc_pass HEAD: the sql block after the paragraph of docs/REPORT.md that starts with HEAD.
doc_pass() {
	awk -v h="$1" 'index($0, h) == 1 { f = 1; next } f && /^```sql/ { g = 1; next } g && /^```/ { exit } g { print }' \
		"$TS_TOP/docs/REPORT.md"
}
# pass_units NODE SCOPE: per unit and for the total, from the pass over the period's cases: found, filed,
# penalties, closed by the deadline, closed.
pass_units() {
	{
		printf '.param set :scope "'"'"'%s'"'"'"\n' "$2"
		printf '.param set :from "'"'"'2015-01-01T00:00:00+08:00'"'"'"\n'
		printf '.param set :to "'"'"'2016-01-01T00:00:00+08:00'"'"'"\n'
		doc_pass "The period's cases, one row per unit"
		echo ";"
	} | sqlite3 -separator ' ' "$1/tiersync.db" | awk -v scope="$2" '
		{ n[$1] += $4; f[$1] += $5; p[$1] += $7; t[$1] += $19; c[$1] += $20
		  N += $4; F += $5; P += $7; T += $19; C += $20 }
		END { printf "total %.0f %.0f %.0f %.0f %.0f\n", N, F, P, T, C
		      for (u in n) if (u != scope) printf "%s %.0f %.0f %.0f %.0f %.0f\n", u, n[u], f[u], p[u], t[u], c[u] }' |
		sort
}
# report_units FILE: the same numbers from a report.
report_units() {
	sqlite3 -separator ' ' :memory: "WITH r(x) AS (SELECT CAST(readfile('$1') AS TEXT)),
		u(name, f) AS (SELECT 'total', json_extract(x, '\$.total.figures') FROM r
			UNION ALL SELECT json_extract(value, '\$.unit'), json_extract(value, '\$.figures')
			FROM r, json_each(x, '\$.children') WHERE json_extract(value, '\$.figures.cases_found') > 0)
		SELECT name, json_extract(f, '\$.cases_found'), json_extract(f, '\$.cases_filed'),
			json_extract(f, '\$.penalties_fen'), json_extract(f, '\$.deadline_adherence.count'),
			json_extract(f, '\$.deadline_adherence.of') FROM u" | sort
}
check "the district: the pass over the period's cases in docs/REPORT.md gives the report's numbers" \
	is "$(pass_units "$dc" bj.dc)" "$(report_units "$work/dc.json")"
check "the city: the same" is "$(pass_units "$city" bj)" "$(report_units "$work/city.json")"
check "  ...and the pass found cases in both of the district's streets" \
	sh -c "[ $(pass_units "$dc" bj.dc | wc -l) -eq 3 ]"

# the scope as a range holds exactly the cases the GLOB holds, for every unit the city reports
range_is_glob() {
	for _u in bj bj.dc bj.dc.jingshan bj.dc.donghuamen bj.dc.jingshan.d07 bj.d bj.dc.jingsha; do
		_glob=$(db "$city" "SELECT count(*) FROM cases WHERE jurisdiction = '$_u' OR jurisdiction GLOB '$_u.*'")
		_range=$(db "$city" "SELECT count(*) FROM cases WHERE jurisdiction = '$_u' OR
			(jurisdiction >= '$_u.' AND jurisdiction < '$_u/')")
		[ "$_glob" = "$_range" ] || { echo "$_u: GLOB $_glob, range $_range"; return 1; }
	done
}
check "the range of a scope is its GLOB" range_is_glob

# stock sqlite3 plans every figure's query over cases through the index on jurisdiction
plans_use_index() {
	_bad=""
	for _f in $(sqlite3 :memory: "SELECT key FROM json_each(CAST(readfile('$work/dc.json') AS TEXT), '\$.total.figures')"); do
		doc_sql "$_f" | grep -q "FROM cases" || continue
		_plan=$({ echo "EXPLAIN QUERY PLAN"; doc_sql "$_f"; echo ";"; } | sqlite3 "$dc/tiersync.db")
		case $_plan in
		*"SCAN cases"*) _bad="$_bad $_f(scans)" ;;
		*"INDEX cases_jurisdiction"*) ;;
		*) _bad="$_bad $_f(no index)" ;;
		esac
	done
	[ -z "$_bad" ] || { echo "$_bad"; return 1; }
}
check "every figure's query over cases searches the index cases_jurisdiction" plans_use_index

# ---- for people, and bad input
run ts -C "$dc" report --period 2015
check "report for people" exit_is 0
check "  ...has a column per street" stdout_has "donghuamen"
check "  ...and the figures" stdout_has "satisfaction"
check "  ...with the complaints against the baselines" stdout_has "vs baseline 常量 (-15%)"
check "  ...and the major events' goal" stdout_has "重大活动街面问题 (=0)"
check "  ...and the cases of each major event" stdout_has "per major event"
run ts -C "$dc" report --period 2015-13
check "a bad period is bad usage" exit_is 2
check "  ...with one line" stderr_is_one_line
run ts -C "$dc" report --period 2015-12..2015-01
check "a period that ends before it starts is bad usage" exit_is 2
run ts -C "$js" report --unit bj.dc.donghuamen
check "another street's unit is refused" exit_is 1
check "  ...with one line" stderr_is_one_line
run ts -C "$dc" report extra
check "an extra argument is bad usage" exit_is 2
run ts -C "$dc" report --help
check "report --help" exit_is 0
check "  ...points to the definitions" stdout_has "docs/REPORT.md"
for n in "$city" "$dc" "$js" "$dhm" "$dev"; do
	run ts -C "$n" verify
	check "$(basename "$n") verifies after the reports" exit_is 0
done

# ---- the same seed gives the same rows, another seed others
# (the same keys too: commits are signed, and a new node would make a new key)
ssh-keygen -q -t ed25519 -N '' -f "$work/dc_key"
ssh-keygen -q -t ed25519 -N '' -f "$work/st_key"
for r in a b c; do
	mkdir -p "$work/r$r"
	TIERSYNC_NOW=1420070400 ts init "$work/r$r/dc" --tier district --id bj.dc --identity "$work/dc_key" >/dev/null
	TIERSYNC_NOW=1420070400 ts init "$work/r$r/st" --tier street --id bj.dc.jingshan --upstream "$work/r$r/dc" \
		--identity "$work/st_key" >/dev/null
	seed=21
	[ "$r" = c ] && seed=22
	"$gen" --district "$work/r$r/dc" --street "$work/r$r/st" --cases 150 --seed "$seed" >/dev/null
done
rows() {
	for t in cases case_events small_ad_phones responsibility_zones responsibility_checks key_areas major_events; do
		db "$1" "SELECT * FROM $t ORDER BY 1"
	done
}
rows "$work/ra/st" >"$work/rows.a"
rows "$work/rb/st" >"$work/rows.b"
rows "$work/rc/st" >"$work/rows.c"
check "the same seed gives the same rows" same_files "$work/rows.a" "$work/rows.b"
check "  ...and the same history" is "$(on_git "$work/ra/st" rev-parse HEAD)" "$(on_git "$work/rb/st" rev-parse HEAD)"
check_not "another seed gives other rows" same_files "$work/rows.a" "$work/rows.c"
