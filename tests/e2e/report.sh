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

# mine UNIT [COLUMN]: the unit's own rows, written another way than the report's.
mine() {
	echo "substr(${2:-jurisdiction} || '.', 1, length('$1') + 1) = '$1.'"
}

# independent NODE UNIT FIGURE: "value base" (base empty for a count), by
# this test's own query; "none" if the test has no query for the figure.
independent() {
	_m=$(mine "$2")
	case $3 in
	cases_found) _q="SELECT count(*), '' FROM cases WHERE $_m AND $P" ;;
	cases_filed) _q="SELECT count(*), '' FROM cases WHERE $_m AND $P AND filed_at NOT NULL" ;;
	cases_penalised) _q="SELECT count(*), '' FROM cases WHERE $_m AND $P AND decided_at NOT NULL" ;;
	penalties_fen) _q="SELECT total(penalty_amount * (decided_at NOT NULL)), '' FROM cases WHERE $_m AND $P" ;;
	cases_transferred) _q="SELECT count(*), '' FROM cases WHERE $_m AND $P AND transferred_at NOT NULL" ;;
	major_cases_filed_up) _q="SELECT total(filed_up_at NOT NULL), count(*) FROM cases WHERE $_m AND $P AND major" ;;
	complaints) _q="SELECT total($P), total($L) FROM cases WHERE $_m AND source = 'complaint'" ;;
	complaints_key_areas) _q="SELECT total($P), total($L) FROM cases WHERE $_m AND source = 'complaint'
		AND key_area_id NOT NULL" ;;
	rectification_rate) _q="SELECT total(closed_at NOT NULL), count(*) FROM cases WHERE $_m AND $P
		AND transferred_at IS NULL" ;;
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
	*) echo none; return ;;
	esac
	db "$1" "WITH q(v, b) AS ($_q)
		SELECT CAST(v AS INTEGER) || ' ' || coalesce(CAST(nullif(b, '') AS INTEGER), '') FROM q"
}

# reported FILE PATH: "value base" of one figure of a report.
reported() {
	sqlite3 :memory: "SELECT CASE json_type(x, '$2') WHEN 'integer' THEN json_extract(x, '$2') || ' '
		ELSE json_extract(x, '$2.count') || ' ' || coalesce(json_extract(x, '$2.of'),
		json_extract(x, '$2.last_year')) END FROM (SELECT CAST(readfile('$1') AS TEXT) AS x)"
}

# check_unit NODE FILE PATH: every figure of one unit of a report.
check_unit() {
	_unit=$(json_get "$2" "$3.unit")
	_bad=""
	for _f in $(sqlite3 :memory: "SELECT key FROM json_each(CAST(readfile('$2') AS TEXT), '$3.figures')"); do
		_want=$(independent "$1" "$_unit" "$_f")
		_got=$(reported "$2" "$3.figures.$_f")
		[ "$_want" = "$_got" ] || _bad="$_bad $_f(report '$_got', sqlite3 '$_want')"
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
	nchildren=$(json_length "$work/$n.json" '$.children')
	i=0
	while [ "$i" -lt "$nchildren" ]; do
		check "$n: every figure of child $(json_get "$work/$n.json" "\$.children[$i].unit") equals sqlite3's" \
			check_unit "$node" "$work/$n.json" "\$.children[$i]"
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
check "the district: every figure's query in docs/REPORT.md gives the report's number" doc_matches "$dc" "$work/dc.json"
check "jingshan: the same" doc_matches "$js" "$work/jingshan.json"

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
