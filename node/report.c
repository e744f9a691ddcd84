/*
 * Figures (考核评议): each tier computes the plan's figures from its own
 * merged database for its own jurisdiction, in total and per child unit.
 *
 * A unit's jurisdiction is its id and every id below it: jurisdiction =
 * :scope OR jurisdiction GLOB :scope || '.*', written as a range on the
 * index cases_jurisdiction (jurisdiction, reported_at):
 *
 *     jurisdiction = :scope
 *     OR (jurisdiction >= :scope || '.' AND jurisdiction < :scope || '/')
 *
 * '/' is the byte after '.', and text compares byte by byte (BINARY), so
 * the range holds exactly the texts that start with :scope || '.', as the
 * GLOB does (a node id holds no GLOB wildcard: ts_node_id_valid). Not LIKE:
 * LIKE reads '_' in an id as a wildcard and ignores case. A case recorded on
 * a device belongs to the device's street (its jurisdiction, set at intake).
 *
 * The cases of a period are those reported in it (:from <= reported_at <
 * :to); every case figure counts what has happened to them since, whenever
 * it happened. Each figure is defined by one query returning (value, base)
 * for one unit, ts_report_figures[].sql; the same queries, written out, are
 * in docs/REPORT.md.
 *
 * A report computes every unit at once, in a few passes over the scope
 * (docs/REPORT.md, "How the report computes them"): each pass is a GROUP
 * BY of the scope's rows by their unit (the scope itself, or the child
 * unit named by the next id label), whose columns are the figures'
 * aggregates. The total is the sum of the units' rows, the scope's own
 * included; the distinct phone numbers, which do not add up, are counted
 * from one row per (phone, unit), and a complaint baseline (常量) is its
 * unit's own row, prorated over the period, not a sum. The period's cases are found on the
 * index and read in the table's order, so a report costs about two reads
 * of the scope's cases of the period (and of the year before), whatever the
 * number of units, and a unit's figures what its cases cost. The figures
 * are returned as plain structs (tiersync/cases.h); the CLI writes them out
 * (tools/cmd_report.c).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "node.h"
#include "tiersync.h"

#define SCOPE(col) "(" col " = :scope OR (" col " >= :scope || '.' AND " col " < :scope || '/'))"

/* INDEXED BY: without statistics the planner would rather take the index
 * on source for a figure of complaints, and read every complaint of every
 * year and unit. */
#define CASES "FROM cases INDEXED BY cases_jurisdiction WHERE " SCOPE("jurisdiction") \
	" AND reported_at >= :from AND reported_at < :to"
#define CASES_LAST "FROM cases INDEXED BY cases_jurisdiction WHERE " SCOPE("jurisdiction") \
	" AND reported_at >= :last_from AND reported_at < :last_to"

/* The complaints of the dust and muck campaign (施工扬尘, 渣土运输遗撒,
 * 不达标车辆运输). */
#define DUST_MUCK "category IN ('construction_dust', 'muck_spill', 'muck_vehicle')"
#define SATISFIED "satisfaction IN ('satisfied', 'basically_satisfied')"

/* The complaint baseline (常量) of :scope for a subject, prorated over the
 * period: for each calendar year the period touches, the year's baseline
 * times the days of the period in that year over the days of the year,
 * summed; NULL unless every such year has its row. The period's bounds are
 * midnights, so the days are whole. */
#define LAST_DAY "date(substr(:to, 1, 10), '-1 day')"
#define BASELINE_YEARS "year >= substr(:from, 1, 4) AND year <= substr(" LAST_DAY ", 1, 4)"
#define PRORATED "CASE WHEN count(*) = CAST(substr(" LAST_DAY ", 1, 4) AS INTEGER) - " \
	"CAST(substr(:from, 1, 4) AS INTEGER) + 1 THEN sum(complaints * " \
	"(julianday(min(substr(:to, 1, 10), (year + 1) || '-01-01')) - julianday(max(substr(:from, 1, 10), year || '-01-01'))) " \
	"/ (julianday((year + 1) || '-01-01') - julianday(year || '-01-01'))) END"
#define BASELINE(subject) "SELECT " PRORATED " FROM complaint_baselines " \
	"WHERE scope = :scope AND subject = '" subject "' AND " BASELINE_YEARS

#define ITEMS_TO "FROM supervision_items i WHERE " SCOPE("i.target_node") \
	" AND i.issued_at >= :from AND i.issued_at < :to"
/* Answered on time: the first answer (三级反馈) at or before due_at; any
 * answer when the item has no due_at. */
#define ON_TIME "(SELECT min(f.at) FROM supervision_feedback f WHERE f.item_id = i.id) <= coalesce(i.due_at, '9999')"

/* The zones in a key area whose duties a check of the period found not met,
 * each with its last such check. */
#define FAILED_ZONES "SELECT z.jurisdiction AS jurisdiction, k.zone_id AS zone_id, max(k.checked_at) AS failed_at " \
	"FROM responsibility_checks k JOIN responsibility_zones z ON z.id = k.zone_id " \
	"WHERE " SCOPE("z.jurisdiction") " AND k.checked_at >= :from AND k.checked_at < :to " \
	"AND k.met = 0 AND z.key_area_id IS NOT NULL GROUP BY k.zone_id"
/* ...put right: a later check found them met. */
#define RECTIFIED "EXISTS (SELECT 1 FROM responsibility_checks l WHERE l.zone_id = f.zone_id " \
	"AND l.checked_at > f.failed_at AND l.met = 1)"

const ts_report_figure ts_report_figures[] = {
	{ "cases_found", "cases found 执法查处量", TS_FIGURE_COUNT, 0,
	  "SELECT count(*), NULL " CASES, NULL },
	{ "cases_filed", "cases filed 立案", TS_FIGURE_COUNT, 0,
	  "SELECT count(*), NULL " CASES " AND filed_at IS NOT NULL", NULL },
	{ "cases_penalised", "cases penalised 处罚决定", TS_FIGURE_COUNT, 0,
	  "SELECT count(*), NULL " CASES " AND decided_at IS NOT NULL", NULL },
	{ "penalties_fen", "penalties, fen 罚款(分)", TS_FIGURE_COUNT, 0,
	  "SELECT coalesce(sum(penalty_amount), 0), NULL " CASES " AND decided_at IS NOT NULL", NULL },
	{ "cases_transferred", "cases transferred 案件移送量", TS_FIGURE_COUNT, 0,
	  "SELECT count(*), NULL " CASES " AND transferred_at IS NOT NULL", NULL },
	{ "major_cases_filed_up", "major cases filed up 重大案件备案", TS_FIGURE_RATE, 0,
	  "SELECT count(filed_up_at), count(*) " CASES " AND major = 1", NULL },
	{ "complaints", "complaints vs last year 投诉量同比", TS_FIGURE_DROP, 0,
	  "SELECT (SELECT count(*) " CASES " AND source = 'complaint'), "
	  "(SELECT count(*) " CASES_LAST " AND source = 'complaint')", NULL },
	{ "complaints_key_areas", "complaints in key areas 重点地区群众举报", TS_FIGURE_DROP, 15,
	  "SELECT (SELECT count(*) " CASES " AND source = 'complaint' AND key_area_id IS NOT NULL), "
	  "(SELECT count(*) " CASES_LAST " AND source = 'complaint' AND key_area_id IS NOT NULL)",
	  BASELINE("key_areas") },
	{ "complaints_dust_muck", "dust and muck complaints, key areas 扬尘渣土举报", TS_FIGURE_DROP, 15,
	  "SELECT (SELECT count(*) " CASES " AND source = 'complaint' AND key_area_id IS NOT NULL AND " DUST_MUCK "), "
	  "(SELECT count(*) " CASES_LAST " AND source = 'complaint' AND key_area_id IS NOT NULL AND " DUST_MUCK ")",
	  BASELINE("dust_muck") },
	{ "complaints_outdoor_bbq", "outdoor barbecue complaints 露天烧烤举报", TS_FIGURE_DROP, 15,
	  "SELECT (SELECT count(*) " CASES " AND source = 'complaint' AND category = 'outdoor_bbq'), "
	  "(SELECT count(*) " CASES_LAST " AND source = 'complaint' AND category = 'outdoor_bbq')",
	  BASELINE("outdoor_bbq") },
	{ "complaints_small_ads", "small-ad complaints 非法小广告举报", TS_FIGURE_DROP, 15,
	  "SELECT (SELECT count(*) " CASES " AND source = 'complaint' AND category = 'small_ads'), "
	  "(SELECT count(*) " CASES_LAST " AND source = 'complaint' AND category = 'small_ads')",
	  BASELINE("small_ads") },
	{ "cases_closed_rate", "cases closed 办结率", TS_FIGURE_RATE, 0,
	  "SELECT count(closed_at), count(*) " CASES " AND transferred_at IS NULL", NULL },
	{ "zones_rectified_key_areas", "key-area zones put right 问题整改率(重点地区)", TS_FIGURE_RATE, 100,
	  "SELECT count(*) FILTER (WHERE " RECTIFIED "), count(*) FROM (" FAILED_ZONES ") f", NULL },
	{ "supervision_received", "supervision items received 监管事项", TS_FIGURE_COUNT, 0,
	  "SELECT count(*), NULL " ITEMS_TO, NULL },
	{ "supervision_issued", "supervision items issued 监管事项派发数量", TS_FIGURE_COUNT, 0,
	  "SELECT count(*), NULL FROM supervision_items WHERE " SCOPE("issued_by_node")
	  " AND issued_at >= :from AND issued_at < :to", NULL },
	{ "supervision_answered_on_time", "supervision answered on time 三级反馈", TS_FIGURE_RATE, 0,
	  "SELECT count(*) FILTER (WHERE " ON_TIME "), count(*) " ITEMS_TO, NULL },
	{ "supervision_closed", "supervision items closed 督办整改(闭合管理)", TS_FIGURE_RATE, 0,
	  "SELECT count(*) FILTER (WHERE i.status = 'closed'), count(*) " ITEMS_TO, NULL },
	{ "return_visits", "complaints handled and visited 回访率", TS_FIGURE_RATE, 0,
	  "SELECT count(visited_at), count(*) " CASES " AND source = 'complaint' AND status IN ('feedback', 'closed')", NULL },
	{ "satisfaction", "return-visit satisfaction 回访满意度", TS_FIGURE_RATE, 90,
	  "SELECT count(*) FILTER (WHERE " SATISFIED "), "
	  "count(satisfaction) " CASES " AND source = 'complaint' AND visited_at IS NOT NULL", NULL },
	{ "satisfaction_small_ads", "small-ad hotline satisfaction 热线回访满意度(小广告)", TS_FIGURE_RATE, 90,
	  "SELECT count(*) FILTER (WHERE " SATISFIED "), "
	  "count(satisfaction) " CASES " AND source = 'complaint' AND category = 'small_ads' AND visited_at IS NOT NULL",
	  NULL },
	{ "small_ad_phones_warned", "small-ad phone numbers warned 违法电话号码警示率", TS_FIGURE_RATE, 90,
	  "SELECT count(*) FILTER (WHERE warned), count(*) FROM (SELECT phone, min(outcome IS 'warned') AS warned "
	  "FROM small_ad_phones WHERE case_id IN (SELECT id " CASES ") GROUP BY phone)", NULL },
	{ "notices_issued", "notices issued 告知书发放率", TS_FIGURE_RATE, 100,
	  "SELECT count(*) FILTER (WHERE notice_issued_at < :to), count(*) "
	  "FROM responsibility_zones WHERE " SCOPE("jurisdiction"), NULL },
	{ "responsibility_met_key_areas", "responsibilities met, key areas 责任落实率(重点地区)", TS_FIGURE_RATE, 90,
	  "SELECT count(*) FILTER (WHERE k.met = 1), count(*) "
	  "FROM responsibility_checks k JOIN responsibility_zones z ON z.id = k.zone_id "
	  "WHERE " SCOPE("z.jurisdiction") " AND k.checked_at >= :from AND k.checked_at < :to "
	  "AND z.key_area_id IS NOT NULL", NULL },
	{ "responsibility_met_elsewhere", "responsibilities met, elsewhere 责任落实率(其他)", TS_FIGURE_RATE, 80,
	  "SELECT count(*) FILTER (WHERE k.met = 1), count(*) "
	  "FROM responsibility_checks k JOIN responsibility_zones z ON z.id = k.zone_id "
	  "WHERE " SCOPE("z.jurisdiction") " AND k.checked_at >= :from AND k.checked_at < :to "
	  "AND z.key_area_id IS NULL", NULL },
	{ "deadline_adherence", "closed by the deadline 限时办结率", TS_FIGURE_RATE, 0,
	  "SELECT count(*) FILTER (WHERE closed_at <= deadline), count(*) " CASES " AND closed_at IS NOT NULL", NULL },
	{ "major_event_cases", "cases in major events 重大活动街面问题", TS_FIGURE_ZERO, 0,
	  "SELECT count(*), NULL " CASES " AND event_id IN (SELECT id FROM major_events)", NULL },
	{ "media_exposures", "cases found by the media 媒体曝光", TS_FIGURE_COUNT, 0,
	  "SELECT count(*), NULL " CASES " AND source = 'media'", NULL },
	{ "exposures_made", "exposures made 主动曝光", TS_FIGURE_COUNT, 0,
	  "SELECT count(*), NULL FROM exposures WHERE " SCOPE("jurisdiction")
	  " AND published_at >= :from AND published_at < :to", NULL },
};

const size_t ts_report_nfigures = sizeof(ts_report_figures) / sizeof(ts_report_figures[0]);

static int days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/* Writes the first second of the day y-m-d (normalised: day 32 rolls over). */
static void day_start(char out[32], int y, int m, int d)
{
	struct tm tm;
	time_t t;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	t = timegm(&tm);
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT00:00:00+08:00", &tm);
}

/* Parses YYYY, YYYY-MM or YYYY-MM-DD; the parts not given are 0. */
static int parse_date(int *y, int *m, int *d, const char *s, size_t len)
{
	size_t i;
	*y = *m = *d = 0;
	if (len != 4 && len != 7 && len != 10)
		return -1;
	for (i = 0; i < len; i++)
		if ((i == 4 || i == 7) ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
			return -1;
	*y = atoi(s);
	if (*y < 1970 || *y > 9998)
		return -1;
	if (len >= 7 && ((*m = (s[5] - '0') * 10 + (s[6] - '0')) < 1 || *m > 12))
		return -1;
	if (len == 10 && ((*d = (s[8] - '0') * 10 + (s[9] - '0')) < 1 || *d > days_in_month(*y, *m)))
		return -1;
	return 0;
}

int ts_report_period(char from[32], char to[32], const char *spec)
{
	const char *dots, *second;
	size_t first_len;
	int y1, m1, d1, y2, m2, d2;

	if (!spec || !*spec)
		return ts_error_set(TS_EINVALID, "an empty period; give e.g. 2015-01..2015-12");
	dots = strstr(spec, "..");
	first_len = dots ? (size_t)(dots - spec) : strlen(spec);
	second = dots ? dots + 2 : spec;
	if (parse_date(&y1, &m1, &d1, spec, first_len) < 0 ||
	    parse_date(&y2, &m2, &d2, second, strlen(second)) < 0)
		return ts_error_set(TS_EINVALID, "bad period '%s': give FROM..TO, each YYYY, YYYY-MM or "
			"YYYY-MM-DD, e.g. 2015-01..2015-12", spec);
	day_start(from, y1, m1 ? m1 : 1, d1 ? d1 : 1);
	if (d2)
		day_start(to, y2, m2, d2 + 1);
	else if (m2)
		day_start(to, y2, m2 + 1, 1);
	else
		day_start(to, y2 + 1, 1, 1);
	if (strcmp(from, to) >= 0)
		return ts_error_set(TS_EINVALID, "bad period '%s': it ends before it starts", spec);
	return 0;
}

void ts_report_this_year(char from[32], char to[32])
{
	char now[32];
	ts_time_format(now, ts_node__now());
	day_start(from, atoi(now), 1, 1);
	day_start(to, atoi(now) + 1, 1, 1);
}

/* The same instant a year earlier (29 February becomes 1 March). */
static void year_before(char out[32], const char *t)
{
	day_start(out, atoi(t) - 1, atoi(t + 5), atoi(t + 8));
}

static void bind_params(sqlite3_stmt *st, const ts_report *r, const char *scope)
{
	const char *names[] = { ":scope", ":from", ":to", ":last_from", ":last_to" };
	const char *values[] = { scope, r->from, r->to, r->last_from, r->last_to };
	size_t i;
	for (i = 0; i < 5; i++) {
		int idx = sqlite3_bind_parameter_index(st, names[i]);
		if (idx > 0)
			sqlite3_bind_text(st, idx, values[i], -1, SQLITE_STATIC);
	}
}

static int query_error(sqlite3 *db, const char *what)
{
	return ts_sqlite__error(db, "report: %s", what);
}

/* ---- the passes: every unit at once --------------------------------- */

/* The unit a row of the scope counts in: the scope itself, or the child
 * unit, the scope's id and the next label of `col`. */
#define UNIT(col) "substr(" col ", 1, length(:scope) + instr(substr(" col ", length(:scope) + 2) || '.', '.'))"
#define BELOW(col) col " >= :scope || '.' AND " col " < :scope || '/'"

/* The rows of the scope's cases reported in the period (in the year
 * before): their rowids found on the index, then read in rowid order, the
 * order they lie in the table, not in the index's order (by unit, then
 * time), which would come back to the same pages once per unit. */
#define PERIOD_ROWS(from, to) "rowid IN (SELECT rowid FROM cases INDEXED BY cases_jurisdiction WHERE " \
	SCOPE("jurisdiction") " AND reported_at >= " from " AND reported_at < " to ")"

/* Where the passes' aggregates are summed, per unit: one slot each. */
enum {
	/* the period's cases (cases_sql), after unit_id, category, source */
	S_FOUND, S_FILED, S_PENALISED, S_PENALTIES, S_TRANSFERRED, S_MAJOR_FILED_UP, S_MAJOR,
	S_COMPLAINTS, S_COMPLAINTS_KEY, S_KEPT_CLOSED, S_KEPT, S_HANDLED_VISITED, S_HANDLED,
	S_SATISFIED, S_MARKED, S_CLOSED_ON_TIME, S_CLOSED, S_MEDIA,
	S_COMPLAINTS_DUST, S_COMPLAINTS_BBQ, S_COMPLAINTS_ADS, S_ADS_SATISFIED, S_ADS_MARKED, S_MAJOR_EVENT,
	S_CASES_END,
	/* last year's complaints (unit_passes[]) */
	S_COMPLAINTS_LAST = S_CASES_END, S_COMPLAINTS_KEY_LAST, S_DUST_LAST, S_BBQ_LAST, S_ADS_LAST,
	/* responsibility zones and their checks */
	S_NOTICES, S_ZONES, S_MET_KEY, S_CHECKS_KEY, S_MET_ELSEWHERE, S_CHECKS_ELSEWHERE,
	S_ZONES_RECTIFIED, S_ZONES_FAILED,
	/* supervision items to the units, and by them */
	S_ITEMS_TO, S_ITEMS_ON_TIME, S_ITEMS_CLOSED, S_ITEMS_BY,
	/* the service's own exposures */
	S_EXPOSURES,
	/* small-ad phone numbers (phones_sql, counted here) */
	S_PHONES_WARNED, S_PHONES,
	NSLOTS,
	S_NONE = -1
};

/* The period's cases, one row per unit, category, source and major event
 * (few cases have one, so the event adds few rows). */
static const char cases_sql[] =
	"SELECT " UNIT("jurisdiction") " AS unit_id, category, source, "
	"count(*), count(filed_at), count(decided_at), "
	"coalesce(sum(penalty_amount) FILTER (WHERE decided_at IS NOT NULL), 0), count(transferred_at), "
	"count(filed_up_at) FILTER (WHERE major = 1), count(*) FILTER (WHERE major = 1), "
	"count(*) FILTER (WHERE source = 'complaint'), "
	"count(*) FILTER (WHERE source = 'complaint' AND key_area_id IS NOT NULL), "
	"count(closed_at) FILTER (WHERE transferred_at IS NULL), count(*) FILTER (WHERE transferred_at IS NULL), "
	"count(visited_at) FILTER (WHERE source = 'complaint' AND status IN ('feedback', 'closed')), "
	"count(*) FILTER (WHERE source = 'complaint' AND status IN ('feedback', 'closed')), "
	"count(*) FILTER (WHERE source = 'complaint' AND visited_at IS NOT NULL "
	"AND satisfaction IN ('satisfied', 'basically_satisfied')), "
	"count(satisfaction) FILTER (WHERE source = 'complaint' AND visited_at IS NOT NULL), "
	"count(*) FILTER (WHERE closed_at <= deadline), count(closed_at), "
	"count(*) FILTER (WHERE source = 'media'), "
	"count(*) FILTER (WHERE source = 'complaint' AND key_area_id IS NOT NULL AND " DUST_MUCK "), "
	"count(*) FILTER (WHERE source = 'complaint' AND category = 'outdoor_bbq'), "
	"count(*) FILTER (WHERE source = 'complaint' AND category = 'small_ads'), "
	"count(*) FILTER (WHERE source = 'complaint' AND category = 'small_ads' AND visited_at IS NOT NULL "
	"AND " SATISFIED "), "
	"count(satisfaction) FILTER (WHERE source = 'complaint' AND category = 'small_ads' AND visited_at IS NOT NULL), "
	"count(*) FILTER (WHERE event_id IN (SELECT id FROM major_events)), event_id "
	"FROM cases WHERE " PERIOD_ROWS(":from", ":to") " GROUP BY unit_id, category, source, event_id";

/* The passes whose rows are (unit_id, aggregates...), summed into slots. */
static const struct {
	const char *what, *sql;
	int first_slot, nslots;
} unit_passes[] = {
	{ "last year's complaints",
	  "SELECT " UNIT("jurisdiction") " AS unit_id, count(*), count(key_area_id), "
	  "count(*) FILTER (WHERE key_area_id IS NOT NULL AND " DUST_MUCK "), "
	  "count(*) FILTER (WHERE category = 'outdoor_bbq'), count(*) FILTER (WHERE category = 'small_ads') "
	  "FROM cases WHERE " PERIOD_ROWS(":last_from", ":last_to") " AND source = 'complaint' GROUP BY unit_id",
	  S_COMPLAINTS_LAST, 5 },
	{ "responsibility zones",
	  "SELECT " UNIT("jurisdiction") " AS unit_id, count(*) FILTER (WHERE notice_issued_at < :to), count(*) "
	  "FROM responsibility_zones WHERE " SCOPE("jurisdiction") " GROUP BY unit_id",
	  S_NOTICES, 2 },
	{ "responsibility checks",
	  "SELECT " UNIT("z.jurisdiction") " AS unit_id, "
	  "count(*) FILTER (WHERE k.met = 1 AND z.key_area_id IS NOT NULL), "
	  "count(*) FILTER (WHERE z.key_area_id IS NOT NULL), "
	  "count(*) FILTER (WHERE k.met = 1 AND z.key_area_id IS NULL), count(*) FILTER (WHERE z.key_area_id IS NULL) "
	  "FROM responsibility_checks k JOIN responsibility_zones z ON z.id = k.zone_id "
	  "WHERE " SCOPE("z.jurisdiction") " AND k.checked_at >= :from AND k.checked_at < :to GROUP BY unit_id",
	  S_MET_KEY, 4 },
	{ "zones put right",
	  "SELECT " UNIT("jurisdiction") " AS unit_id, count(*) FILTER (WHERE " RECTIFIED "), count(*) "
	  "FROM (" FAILED_ZONES ") f GROUP BY unit_id",
	  S_ZONES_RECTIFIED, 2 },
	{ "supervision items to the units",
	  "SELECT " UNIT("i.target_node") " AS unit_id, count(*), count(*) FILTER (WHERE " ON_TIME "), "
	  "count(*) FILTER (WHERE i.status = 'closed') " ITEMS_TO " GROUP BY unit_id",
	  S_ITEMS_TO, 3 },
	{ "supervision items by the units",
	  "SELECT " UNIT("issued_by_node") " AS unit_id, count(*) FROM supervision_items "
	  "WHERE " SCOPE("issued_by_node") " AND issued_at >= :from AND issued_at < :to GROUP BY unit_id",
	  S_ITEMS_BY, 1 },
	{ "exposures",
	  "SELECT " UNIT("jurisdiction") " AS unit_id, count(*) FROM exposures "
	  "WHERE " SCOPE("jurisdiction") " AND published_at >= :from AND published_at < :to GROUP BY unit_id",
	  S_EXPOSURES, 1 },
};

/* The complaint baselines of the scope and of each child unit, one row per
 * unit and subject, prorated over the period (NULL: not every year of the
 * period has its row). A baseline is its unit's own: the total's is the
 * row of the scope, not the children's sum. */
static const char baselines_sql[] =
	"SELECT scope, subject, " PRORATED " FROM complaint_baselines "
	"WHERE " SCOPE("scope") " AND " BASELINE_YEARS " GROUP BY scope, subject";

/* The subjects of complaint_baselines, in the order of tally.baseline. */
static const char *const subjects[] = { "key_areas", "dust_muck", "outdoor_bbq", "small_ads" };
#define NSUBJECTS 4

/* The phone numbers of the period's small-ad cases: one row per number and
 * unit, 1 if every sighting of it there was warned; in number order. CROSS
 * JOIN: from the sightings (few) to their cases by key, not from every
 * case of the scope to its sightings. */
static const char phones_sql[] =
	"SELECT p.phone, " UNIT("c.jurisdiction") " AS unit_id, min(p.outcome IS 'warned') "
	"FROM small_ad_phones p CROSS JOIN cases c ON c.id = p.case_id "
	"WHERE " SCOPE("c.jurisdiction") " AND c.reported_at >= :from AND c.reported_at < :to "
	"GROUP BY p.phone, unit_id ORDER BY p.phone";

/* The child units: every unit named below the scope by a case or a
 * responsibility zone, in any period. The cases' jurisdictions are read by
 * skipping from one to the next on the index, not by reading every case. */
static const char children_sql[] =
	"WITH RECURSIVE below(jurisdiction) AS ("
	"SELECT min(jurisdiction) FROM cases WHERE " BELOW("jurisdiction") " "
	"UNION ALL SELECT (SELECT min(c.jurisdiction) FROM cases c WHERE c.jurisdiction > below.jurisdiction "
	"AND c.jurisdiction < :scope || '/') FROM below WHERE below.jurisdiction IS NOT NULL) "
	"SELECT DISTINCT " UNIT("jurisdiction") " AS unit_id FROM ("
	"SELECT jurisdiction FROM below WHERE jurisdiction IS NOT NULL "
	"UNION SELECT jurisdiction FROM responsibility_zones WHERE " BELOW("jurisdiction") " "
	"UNION SELECT target_node FROM supervision_items WHERE " BELOW("target_node") " "
	"UNION SELECT issued_by_node FROM supervision_items WHERE " BELOW("issued_by_node") " "
	"UNION SELECT jurisdiction FROM exposures WHERE " BELOW("jurisdiction") ") "
	"ORDER BY unit_id";

/* Each figure's value and base (S_NONE: no base), and the subject of its
 * baseline (-1: none; subjects[]), in ts_report_figures[] order. */
static const struct {
	const char *name;
	int value, base, subject;
} figure_slots[] = {
	{ "cases_found", S_FOUND, S_NONE, -1 },
	{ "cases_filed", S_FILED, S_NONE, -1 },
	{ "cases_penalised", S_PENALISED, S_NONE, -1 },
	{ "penalties_fen", S_PENALTIES, S_NONE, -1 },
	{ "cases_transferred", S_TRANSFERRED, S_NONE, -1 },
	{ "major_cases_filed_up", S_MAJOR_FILED_UP, S_MAJOR, -1 },
	{ "complaints", S_COMPLAINTS, S_COMPLAINTS_LAST, -1 },
	{ "complaints_key_areas", S_COMPLAINTS_KEY, S_COMPLAINTS_KEY_LAST, 0 },
	{ "complaints_dust_muck", S_COMPLAINTS_DUST, S_DUST_LAST, 1 },
	{ "complaints_outdoor_bbq", S_COMPLAINTS_BBQ, S_BBQ_LAST, 2 },
	{ "complaints_small_ads", S_COMPLAINTS_ADS, S_ADS_LAST, 3 },
	{ "cases_closed_rate", S_KEPT_CLOSED, S_KEPT, -1 },
	{ "zones_rectified_key_areas", S_ZONES_RECTIFIED, S_ZONES_FAILED, -1 },
	{ "supervision_received", S_ITEMS_TO, S_NONE, -1 },
	{ "supervision_issued", S_ITEMS_BY, S_NONE, -1 },
	{ "supervision_answered_on_time", S_ITEMS_ON_TIME, S_ITEMS_TO, -1 },
	{ "supervision_closed", S_ITEMS_CLOSED, S_ITEMS_TO, -1 },
	{ "return_visits", S_HANDLED_VISITED, S_HANDLED, -1 },
	{ "satisfaction", S_SATISFIED, S_MARKED, -1 },
	{ "satisfaction_small_ads", S_ADS_SATISFIED, S_ADS_MARKED, -1 },
	{ "small_ad_phones_warned", S_PHONES_WARNED, S_PHONES, -1 },
	{ "notices_issued", S_NOTICES, S_ZONES, -1 },
	{ "responsibility_met_key_areas", S_MET_KEY, S_CHECKS_KEY, -1 },
	{ "responsibility_met_elsewhere", S_MET_ELSEWHERE, S_CHECKS_ELSEWHERE, -1 },
	{ "deadline_adherence", S_CLOSED_ON_TIME, S_CLOSED, -1 },
	{ "major_event_cases", S_MAJOR_EVENT, S_NONE, -1 },
	{ "media_exposures", S_MEDIA, S_NONE, -1 },
	{ "exposures_made", S_EXPOSURES, S_NONE, -1 },
};

/* What a report holds while its passes run: per unit (0 the total, k + 1
 * the child k) the slots' sums; the codes of categories and sources. */
typedef struct {
	ts_report *r;
	const char *scope;
	int64_t (*sums)[NSLOTS];
	double (*baseline)[NSUBJECTS];    /* per unit and subject, if has_baseline */
	int (*has_baseline)[NSUBJECTS];
	char **categories, **sources;
	size_t ncategories, nsources;
	char **event_ids, **event_names;  /* the major events, in id order */
	size_t nevents, nevent_names;
	int64_t *event_cases;             /* per unit (nevents each): the cases of each event */
} tally;

static int by_code(const void *key, const void *elem)
{
	return strcmp(key, *(char *const *)elem);
}

static int by_unit(const void *key, const void *elem)
{
	return strcmp(key, ((const ts_report_unit *)elem)->unit);
}

/* The child a unit_id counts in: 1 + its index, 0 for the scope itself. */
static int unit_index(size_t *out, const tally *t, const unsigned char *unit_id)
{
	const ts_report_unit *child;
	if (!unit_id)
		return ts_error_set(TS_ERROR, "report: a row without its unit");
	if (!strcmp((const char *)unit_id, t->scope)) {
		*out = 0;
		return 0;
	}
	if (!(child = bsearch(unit_id, t->r->children, t->r->nchildren, sizeof(*child), by_unit)))
		return ts_error_set(TS_ERROR, "report: '%s' is among no child units", (const char *)unit_id);
	*out = (size_t)(child - t->r->children) + 1;
	return 0;
}

static ts_report_unit *unit_at(const tally *t, size_t k)
{
	return k ? &t->r->children[k - 1] : &t->r->total;
}

/* The codes of `sql` (SELECT code ... ORDER BY code), malloc'ed. */
static int load_codes(char ***out, size_t *n, sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	char **codes = NULL, **grown;
	int rc, error = 0;

	*n = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return query_error(db, "codes");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!(grown = realloc(codes, (*n + 1) * sizeof(*codes))) ||
		    !(grown[*n] = strdup((const char *)sqlite3_column_text(st, 0)))) {
			codes = grown ? grown : codes;
			error = ts_error_set(TS_ERROR, "out of memory");
			goto done;
		}
		codes = grown;
		(*n)++;
	}
	if (rc != SQLITE_DONE)
		error = query_error(db, "codes");
done:
	sqlite3_finalize(st);
	*out = codes;
	return error;
}

static void free_codes(char **codes, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		free(codes[i]);
	free(codes);
}

/* Gives a unit its id, its figures and every code of its groups, at zero. */
static int unit_init(ts_report_unit *u, const char *id, const tally *t)
{
	size_t i;
	if (!(u->unit = strdup(id)) || !(u->values = calloc(ts_report_nfigures, sizeof(*u->values))) ||
	    !(u->categories = calloc(t->ncategories ? t->ncategories : 1, sizeof(*u->categories))) ||
	    !(u->sources = calloc(t->nsources ? t->nsources : 1, sizeof(*u->sources))))
		return ts_error_set(TS_ERROR, "out of memory");
	for (i = 0; i < t->ncategories; i++, u->ncategories++)
		if (!(u->categories[i].code = strdup(t->categories[i])))
			return ts_error_set(TS_ERROR, "out of memory");
	for (i = 0; i < t->nsources; i++, u->nsources++)
		if (!(u->sources[i].code = strdup(t->sources[i])))
			return ts_error_set(TS_ERROR, "out of memory");
	return 0;
}

static void add_group(ts_report_group *g, const int64_t *row)
{
	g->found += row[S_FOUND];
	g->filed += row[S_FILED];
	g->penalised += row[S_PENALISED];
	g->transferred += row[S_TRANSFERRED];
	g->closed += row[S_CLOSED];
}

/* Adds one row of cases_sql to its unit, and to the total. */
static int add_cases_row(tally *t, sqlite3_stmt *st)
{
	const char *category = (const char *)sqlite3_column_text(st, 1);
	const char *source = (const char *)sqlite3_column_text(st, 2);
	int64_t row[S_CASES_END];
	const char *event = (const char *)sqlite3_column_text(st, 3 + S_CASES_END);
	char **code, **ev = NULL;
	size_t k, units[2], n = 1, j;
	int i, error;

	if ((error = unit_index(&units[1], t, sqlite3_column_text(st, 0))) < 0)
		return error;
	units[0] = 0;
	if (units[1])
		n = 2;
	for (i = 0; i < S_CASES_END; i++)
		row[i] = sqlite3_column_int64(st, 3 + i);
	if (event)
		ev = bsearch(event, t->event_ids, t->nevents, sizeof(char *), by_code);
	for (j = 0; j < n; j++) {
		if (ev)
			t->event_cases[units[j] * t->nevents + (size_t)(ev - t->event_ids)] += row[S_MAJOR_EVENT];
		ts_report_unit *u = unit_at(t, units[j]);
		for (i = 0; i < S_CASES_END; i++)
			t->sums[units[j]][i] += row[i];
		/* a case whose code is not in the table is in no group, as the
		 * figures' LEFT JOIN from the codes has it */
		if (category && (code = bsearch(category, t->categories, t->ncategories, sizeof(char *), by_code))) {
			k = (size_t)(code - t->categories);
			add_group(&u->categories[k], row);
		}
		if (source && (code = bsearch(source, t->sources, t->nsources, sizeof(char *), by_code))) {
			k = (size_t)(code - t->sources);
			add_group(&u->sources[k], row);
		}
	}
	return 0;
}

/* Runs one pass: rows of (unit_id, ...) for cases_sql and unit_passes[]. */
static int run_pass(tally *t, sqlite3 *db, const char *what, const char *sql, int first_slot, int nslots)
{
	sqlite3_stmt *st = NULL;
	size_t k;
	int rc, i, error = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return query_error(db, what);
	bind_params(st, t->r, t->scope);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (first_slot < 0) {
			if ((error = add_cases_row(t, st)) < 0)
				goto done;
			continue;
		}
		if ((error = unit_index(&k, t, sqlite3_column_text(st, 0))) < 0)
			goto done;
		for (i = 0; i < nslots; i++) {
			int64_t v = sqlite3_column_int64(st, 1 + i);
			t->sums[0][first_slot + i] += v;
			if (k)
				t->sums[k][first_slot + i] += v;
		}
	}
	if (rc != SQLITE_DONE)
		error = query_error(db, what);
done:
	sqlite3_finalize(st);
	return error;
}

/* The distinct phone numbers: per unit from its rows; for the total, a
 * number is warned when it was in every unit. */
static int count_phones(tally *t, sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	char *phone = NULL;
	int phone_len = -1, all_warned = 0, rc, error = 0;
	size_t k;

	if (sqlite3_prepare_v2(db, phones_sql, -1, &st, NULL) != SQLITE_OK)
		return query_error(db, "small-ad phone numbers");
	bind_params(st, t->r, t->scope);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const void *p = sqlite3_column_blob(st, 0);
		int len = sqlite3_column_bytes(st, 0), warned = sqlite3_column_int(st, 2) != 0;
		if ((error = unit_index(&k, t, sqlite3_column_text(st, 1))) < 0)
			goto done;
		if (len != phone_len || (len && memcmp(p, phone, (size_t)len))) {
			if (phone_len >= 0) {
				t->sums[0][S_PHONES]++;
				t->sums[0][S_PHONES_WARNED] += all_warned;
			}
			free(phone);
			if (!(phone = malloc((size_t)len + 1))) {
				error = ts_error_set(TS_ERROR, "out of memory");
				goto done;
			}
			memcpy(phone, p, (size_t)len);
			phone_len = len;
			all_warned = 1;
		}
		all_warned &= warned;
		if (k) {
			t->sums[k][S_PHONES]++;
			t->sums[k][S_PHONES_WARNED] += warned;
		}
	}
	if (rc != SQLITE_DONE) {
		error = query_error(db, "small-ad phone numbers");
		goto done;
	}
	if (phone_len >= 0) {
		t->sums[0][S_PHONES]++;
		t->sums[0][S_PHONES_WARNED] += all_warned;
	}
done:
	free(phone);
	sqlite3_finalize(st);
	return error;
}

/* The baselines of the scope and of its children (a baseline of a unit
 * further below is no unit's of this report). */
static int load_baselines(tally *t, sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int rc, error = 0;

	if (sqlite3_prepare_v2(db, baselines_sql, -1, &st, NULL) != SQLITE_OK)
		return query_error(db, "complaint baselines");
	bind_params(st, t->r, t->scope);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *scope = (const char *)sqlite3_column_text(st, 0);
		const char *subject = (const char *)sqlite3_column_text(st, 1);
		const ts_report_unit *child = NULL;
		size_t k, s;
		if (!scope || !subject || sqlite3_column_type(st, 2) == SQLITE_NULL)
			continue;
		if (!strcmp(scope, t->scope))
			k = 0;
		else if ((child = bsearch(scope, t->r->children, t->r->nchildren, sizeof(*child), by_unit)))
			k = (size_t)(child - t->r->children) + 1;
		else
			continue;
		for (s = 0; s < NSUBJECTS && strcmp(subjects[s], subject); s++)
			;
		if (s == NSUBJECTS)
			continue;
		t->baseline[k][s] = sqlite3_column_double(st, 2);
		t->has_baseline[k][s] = 1;
	}
	if (rc != SQLITE_DONE)
		error = query_error(db, "complaint baselines");
	sqlite3_finalize(st);
	return error;
}

/* The verdict of a figure's goal: 1 met, 0 missed, -1 none (no goal, or
 * nothing to measure). */
static int goal_met(const ts_report_figure *f, const ts_report_value *v)
{
	if (f->kind == TS_FIGURE_ZERO)
		return v->value == 0;
	if (!f->goal_percent || v->base <= 0)
		return -1;
	if (f->kind == TS_FIGURE_DROP)
		return v->value * 100 <= v->base * (100 - f->goal_percent);
	return v->value * 100 >= v->base * f->goal_percent;
}

/* The child units, each with its id and zeros. */
static int list_children(tally *t, sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	ts_report *r = t->r;
	ts_report_unit *grown;
	int rc, error = 0;

	if (sqlite3_prepare_v2(db, children_sql, -1, &st, NULL) != SQLITE_OK)
		return query_error(db, "child units");
	bind_params(st, r, t->scope);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!(grown = realloc(r->children, (r->nchildren + 1) * sizeof(*grown)))) {
			error = ts_error_set(TS_ERROR, "out of memory");
			goto done;
		}
		r->children = grown;
		memset(&r->children[r->nchildren], 0, sizeof(*grown));
		r->nchildren++;
		if ((error = unit_init(&r->children[r->nchildren - 1], (const char *)sqlite3_column_text(st, 0), t)) < 0)
			goto done;
	}
	if (rc != SQLITE_DONE)
		error = query_error(db, "child units");
done:
	sqlite3_finalize(st);
	return error;
}

/* Gives each unit its major events with cases, in id order. */
static int fill_events(tally *t)
{
	size_t k, e;
	for (k = 0; k <= t->r->nchildren; k++) {
		ts_report_unit *u = unit_at(t, k);
		const int64_t *cases = &t->event_cases[k * t->nevents];
		if (!(u->events = calloc(t->nevents ? t->nevents : 1, sizeof(*u->events))))
			return ts_error_set(TS_ERROR, "out of memory");
		for (e = 0; e < t->nevents; e++) {
			ts_report_event *ev = &u->events[u->nevents];
			if (!cases[e])
				continue;
			if (!(ev->id = strdup(t->event_ids[e])) || !(ev->name = strdup(t->event_names[e]))) {
				free(ev->id);
				return ts_error_set(TS_ERROR, "out of memory");
			}
			ev->cases = cases[e];
			u->nevents++;
		}
	}
	return 0;
}

/* Every unit's figures from the slots' sums. */
static void fill_values(tally *t)
{
	size_t k, i;
	for (k = 0; k <= t->r->nchildren; k++) {
		ts_report_unit *u = unit_at(t, k);
		for (i = 0; i < ts_report_nfigures; i++) {
			u->values[i].value = t->sums[k][figure_slots[i].value];
			u->values[i].base = figure_slots[i].base == S_NONE ? 0 : t->sums[k][figure_slots[i].base];
			u->values[i].met = goal_met(&ts_report_figures[i], &u->values[i]);
			u->values[i].met_baseline = -1;
			if (figure_slots[i].subject >= 0 && t->has_baseline[k][figure_slots[i].subject]) {
				double b = t->baseline[k][figure_slots[i].subject];
				u->values[i].has_baseline = 1;
				u->values[i].baseline = b;
				/* below the baseline by goal_percent or more */
				if (b > 0)
					u->values[i].met_baseline = (double)u->values[i].value * 100 <=
						b * (100 - ts_report_figures[i].goal_percent);
			}
		}
	}
}

/* All the passes, in one read transaction (every figure reads the same data). */
static int compute_all(tally *t, sqlite3 *db)
{
	size_t i;
	int error;

	if ((error = load_codes(&t->categories, &t->ncategories, db, "SELECT code FROM categories ORDER BY code")) < 0 ||
	    (error = load_codes(&t->sources, &t->nsources, db, "SELECT code FROM sources ORDER BY code")) < 0 ||
	    (error = load_codes(&t->event_ids, &t->nevents, db, "SELECT id FROM major_events ORDER BY id")) < 0 ||
	    (error = load_codes(&t->event_names, &t->nevent_names, db, "SELECT name FROM major_events ORDER BY id")) < 0 ||
	    (error = unit_init(&t->r->total, t->scope, t)) < 0 ||
	    (error = list_children(t, db)) < 0)
		return error;
	if (!(t->sums = calloc(t->r->nchildren + 1, sizeof(*t->sums))) ||
	    !(t->baseline = calloc(t->r->nchildren + 1, sizeof(*t->baseline))) ||
	    !(t->has_baseline = calloc(t->r->nchildren + 1, sizeof(*t->has_baseline))) ||
	    !(t->event_cases = calloc((t->r->nchildren + 1) * (t->nevents ? t->nevents : 1), sizeof(int64_t))))
		return ts_error_set(TS_ERROR, "out of memory");
	if (t->nevent_names != t->nevents)
		return ts_error_set(TS_ERROR, "report: the major events changed while read");
	if ((error = run_pass(t, db, "cases", cases_sql, -1, 0)) < 0)
		return error;
	for (i = 0; i < sizeof(unit_passes) / sizeof(unit_passes[0]); i++)
		if ((error = run_pass(t, db, unit_passes[i].what, unit_passes[i].sql, unit_passes[i].first_slot,
				unit_passes[i].nslots)) < 0)
			return error;
	if ((error = count_phones(t, db)) < 0 || (error = load_baselines(t, db)) < 0)
		return error;
	fill_values(t);
	return fill_events(t);
}

static int in_jurisdiction(const char *scope, const char *node_id)
{
	size_t n = strlen(node_id);
	return !strcmp(scope, node_id) || (!strncmp(scope, node_id, n) && scope[n] == '.');
}

int ts_report_compute(ts_report **out, ts_node *node, const char *scope,
	const char *from, const char *to)
{
	sqlite3 *db = ts_node_db(node);
	ts_report *r = NULL;
	tally t;
	size_t i;
	int error = 0;

	*out = NULL;
	if (!scope)
		scope = ts_node_id(node);
	if (!ts_node_id_valid(scope) || !in_jurisdiction(scope, ts_node_id(node)))
		return ts_error_set(TS_EINVALID, "'%s' is not %s or a unit below it", scope, ts_node_id(node));
	if (!from || !to || strlen(from) != 25 || strlen(to) != 25 || strcmp(from, to) >= 0)
		return ts_error_set(TS_EINVALID, "report: a period needs from < to, as YYYY-MM-DDTHH:MM:SS+08:00");
	for (i = 0; i < ts_report_nfigures; i++)
		if (i >= sizeof(figure_slots) / sizeof(figure_slots[0]) ||
		    strcmp(figure_slots[i].name, ts_report_figures[i].name))
			return ts_error_set(TS_ERROR, "report: the figure %s has no slots", ts_report_figures[i].name);
	if (!(r = calloc(1, sizeof(*r))))
		return ts_error_set(TS_ERROR, "out of memory");
	memcpy(r->from, from, 26);
	memcpy(r->to, to, 26);
	year_before(r->last_from, from);
	year_before(r->last_to, to);
	memset(&t, 0, sizeof(t));
	t.r = r;
	t.scope = scope;
	/* one snapshot: every figure reads the same data */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		error = query_error(db, "reading");
		goto done;
	}
	error = compute_all(&t, db);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
done:
	free(t.sums);
	free(t.baseline);
	free(t.has_baseline);
	free(t.event_cases);
	free_codes(t.event_ids, t.nevents);
	free_codes(t.event_names, t.nevent_names);
	free_codes(t.categories, t.ncategories);
	free_codes(t.sources, t.nsources);
	if (error < 0)
		ts_report_free(r);
	else
		*out = r;
	return error;
}

static void free_unit(ts_report_unit *u)
{
	size_t i;
	free(u->unit);
	free(u->values);
	for (i = 0; i < u->nevents; i++) {
		free(u->events[i].id);
		free(u->events[i].name);
	}
	free(u->events);
	for (i = 0; i < u->ncategories; i++)
		free(u->categories[i].code);
	for (i = 0; i < u->nsources; i++)
		free(u->sources[i].code);
	free(u->categories);
	free(u->sources);
}

void ts_report_free(ts_report *r)
{
	size_t i;
	if (!r)
		return;
	free_unit(&r->total);
	for (i = 0; i < r->nchildren; i++)
		free_unit(&r->children[i]);
	free(r->children);
	free(r);
}
