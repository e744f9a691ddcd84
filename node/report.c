/*
 * Figures (考核评议): each tier computes the plan's figures from its own
 * merged database for its own jurisdiction, in total and per child unit.
 *
 * A unit's jurisdiction is its id and every id below it: jurisdiction =
 * :scope OR jurisdiction GLOB :scope || '.*' (GLOB, not LIKE: LIKE reads
 * '_' in an id as a wildcard and ignores case). A case recorded on a device
 * belongs to the device's street (its jurisdiction, set at intake).
 *
 * The cases of a period are those reported in it (:from <= reported_at <
 * :to); every case figure counts what has happened to them since, whenever
 * it happened. Each figure is one query returning (value, base); the same
 * queries, written out, are in docs/REPORT.md. The figures are returned as
 * plain structs (tiersync/cases.h); the CLI writes them out (tools/cmd_report.c).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "node.h"
#include "tiersync.h"

#define SCOPE(col) "(" col " = :scope OR " col " GLOB :scope || '.*')"
#define CASES "FROM cases WHERE " SCOPE("jurisdiction") " AND reported_at >= :from AND reported_at < :to"
#define CASES_LAST "FROM cases WHERE " SCOPE("jurisdiction") \
	" AND reported_at >= :last_from AND reported_at < :last_to"

const ts_report_figure ts_report_figures[] = {
	{ "cases_found", "cases found 执法查处量", TS_FIGURE_COUNT, 0,
	  "SELECT count(*), NULL " CASES },
	{ "cases_filed", "cases filed 立案", TS_FIGURE_COUNT, 0,
	  "SELECT count(*), NULL " CASES " AND filed_at IS NOT NULL" },
	{ "cases_penalised", "cases penalised 处罚决定", TS_FIGURE_COUNT, 0,
	  "SELECT count(*), NULL " CASES " AND decided_at IS NOT NULL" },
	{ "penalties_fen", "penalties, fen 罚款(分)", TS_FIGURE_COUNT, 0,
	  "SELECT coalesce(sum(penalty_amount), 0), NULL " CASES " AND decided_at IS NOT NULL" },
	{ "cases_transferred", "cases transferred 案件移送量", TS_FIGURE_COUNT, 0,
	  "SELECT count(*), NULL " CASES " AND transferred_at IS NOT NULL" },
	{ "major_cases_filed_up", "major cases filed up 重大案件备案", TS_FIGURE_RATE, 0,
	  "SELECT count(filed_up_at), count(*) " CASES " AND major = 1" },
	{ "complaints", "complaints vs last year 投诉量同比", TS_FIGURE_DROP, 0,
	  "SELECT (SELECT count(*) " CASES " AND source = 'complaint'), "
	  "(SELECT count(*) " CASES_LAST " AND source = 'complaint')" },
	{ "complaints_key_areas", "complaints in key areas vs last year 重点地区投诉量", TS_FIGURE_DROP, 15,
	  "SELECT (SELECT count(*) " CASES " AND source = 'complaint' AND key_area_id IS NOT NULL), "
	  "(SELECT count(*) " CASES_LAST " AND source = 'complaint' AND key_area_id IS NOT NULL)" },
	{ "rectification_rate", "rectification rate 问题整改率", TS_FIGURE_RATE, 0,
	  "SELECT count(closed_at), count(*) " CASES " AND transferred_at IS NULL" },
	{ "return_visits", "complaints handled and visited 回访率", TS_FIGURE_RATE, 0,
	  "SELECT count(visited_at), count(*) " CASES " AND source = 'complaint' AND status IN ('feedback', 'closed')" },
	{ "satisfaction", "return-visit satisfaction 回访满意度", TS_FIGURE_RATE, 90,
	  "SELECT count(*) FILTER (WHERE satisfaction IN ('satisfied', 'basically_satisfied')), "
	  "count(satisfaction) " CASES " AND source = 'complaint' AND visited_at IS NOT NULL" },
	{ "small_ad_phones_warned", "small-ad phone numbers warned 违法电话号码警示率", TS_FIGURE_RATE, 90,
	  "SELECT count(*) FILTER (WHERE warned), count(*) FROM (SELECT phone, min(outcome IS 'warned') AS warned "
	  "FROM small_ad_phones WHERE case_id IN (SELECT id " CASES ") GROUP BY phone)" },
	{ "notices_issued", "notices issued 告知书发放率", TS_FIGURE_RATE, 100,
	  "SELECT count(*) FILTER (WHERE notice_issued_at < :to), count(*) "
	  "FROM responsibility_zones WHERE " SCOPE("jurisdiction") },
	{ "responsibility_met_key_areas", "responsibilities met, key areas 责任落实率(重点地区)", TS_FIGURE_RATE, 90,
	  "SELECT count(*) FILTER (WHERE k.met = 1), count(*) "
	  "FROM responsibility_checks k JOIN responsibility_zones z ON z.id = k.zone_id "
	  "WHERE " SCOPE("z.jurisdiction") " AND k.checked_at >= :from AND k.checked_at < :to "
	  "AND z.key_area_id IS NOT NULL" },
	{ "responsibility_met_elsewhere", "responsibilities met, elsewhere 责任落实率(其他)", TS_FIGURE_RATE, 80,
	  "SELECT count(*) FILTER (WHERE k.met = 1), count(*) "
	  "FROM responsibility_checks k JOIN responsibility_zones z ON z.id = k.zone_id "
	  "WHERE " SCOPE("z.jurisdiction") " AND k.checked_at >= :from AND k.checked_at < :to "
	  "AND z.key_area_id IS NULL" },
	{ "deadline_adherence", "closed by the deadline 限时办结率", TS_FIGURE_RATE, 0,
	  "SELECT count(*) FILTER (WHERE closed_at <= deadline), count(*) " CASES " AND closed_at IS NOT NULL" },
	{ "media_exposures", "media exposures 媒体曝光", TS_FIGURE_COUNT, 0,
	  "SELECT count(*), NULL " CASES " AND source = 'media'" },
};

const size_t ts_report_nfigures = sizeof(ts_report_figures) / sizeof(ts_report_figures[0]);

/* Per category and per source: every code, with zeros where no case. */
#define GROUP_SQL(table, column) \
	"SELECT g.code, count(c.id), count(c.filed_at), count(c.decided_at), count(c.transferred_at), " \
	"count(c.closed_at) FROM " table " g LEFT JOIN cases c ON c." column " = g.code " \
	"AND " SCOPE("c.jurisdiction") " AND c.reported_at >= :from AND c.reported_at < :to " \
	"GROUP BY g.code ORDER BY g.code"

/* The child units: the first id label below the scope, of every
 * jurisdiction the cases and responsibility zones name. */
static const char children_sql[] =
	"SELECT DISTINCT :scope || '.' || substr(rest, 1, instr(rest || '.', '.') - 1) AS child "
	"FROM (SELECT substr(jurisdiction, length(:scope) + 2) AS rest FROM "
	"  (SELECT jurisdiction FROM cases UNION SELECT jurisdiction FROM responsibility_zones) "
	"  WHERE jurisdiction GLOB :scope || '.*') "
	"ORDER BY child";

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

static int compute_groups(ts_report_group **out, size_t *n, sqlite3 *db, const ts_report *r,
	const char *scope, const char *sql)
{
	sqlite3_stmt *st = NULL;
	ts_report_group *g = NULL, *grown;
	size_t len = 0;
	int rc, error = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		error = query_error(db, "groups");
		goto done;
	}
	bind_params(st, r, scope);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!(grown = realloc(g, (len + 1) * sizeof(*g)))) {
			error = ts_error_set(TS_ERROR, "out of memory");
			goto done;
		}
		g = grown;
		g[len].code = strdup((const char *)sqlite3_column_text(st, 0));
		g[len].found = sqlite3_column_int64(st, 1);
		g[len].filed = sqlite3_column_int64(st, 2);
		g[len].penalised = sqlite3_column_int64(st, 3);
		g[len].transferred = sqlite3_column_int64(st, 4);
		g[len].closed = sqlite3_column_int64(st, 5);
		if (!g[len++].code) {
			error = ts_error_set(TS_ERROR, "out of memory");
			goto done;
		}
	}
	if (rc != SQLITE_DONE)
		error = query_error(db, "groups");
done:
	sqlite3_finalize(st);
	*out = g;
	*n = len;
	return error;
}

/* The verdict of a figure's goal: 1 met, 0 missed, -1 none (no goal, or
 * nothing to measure). */
static int goal_met(const ts_report_figure *f, const ts_report_value *v)
{
	if (!f->goal_percent || v->base <= 0)
		return -1;
	if (f->kind == TS_FIGURE_DROP)
		return v->value * 100 <= v->base * (100 - f->goal_percent);
	return v->value * 100 >= v->base * f->goal_percent;
}

static int compute_unit(ts_report_unit *u, sqlite3 *db, const ts_report *r, const char *scope)
{
	sqlite3_stmt *st = NULL;
	size_t i;
	int error = 0;

	if (!(u->unit = strdup(scope)) || !(u->values = calloc(ts_report_nfigures, sizeof(*u->values))))
		return ts_error_set(TS_ERROR, "out of memory");
	for (i = 0; i < ts_report_nfigures; i++) {
		if (sqlite3_prepare_v2(db, ts_report_figures[i].sql, -1, &st, NULL) != SQLITE_OK) {
			error = query_error(db, ts_report_figures[i].name);
			goto done;
		}
		bind_params(st, r, scope);
		if (sqlite3_step(st) != SQLITE_ROW) {
			error = query_error(db, ts_report_figures[i].name);
			goto done;
		}
		u->values[i].value = sqlite3_column_int64(st, 0);
		u->values[i].base = sqlite3_column_int64(st, 1);
		u->values[i].met = goal_met(&ts_report_figures[i], &u->values[i]);
		sqlite3_finalize(st);
		st = NULL;
	}
	if ((error = compute_groups(&u->categories, &u->ncategories, db, r, scope,
			GROUP_SQL("categories", "category"))) < 0)
		goto done;
	error = compute_groups(&u->sources, &u->nsources, db, r, scope, GROUP_SQL("sources", "source"));
done:
	sqlite3_finalize(st);
	return error;
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
	sqlite3_stmt *st = NULL;
	ts_report *r = NULL;
	ts_report_unit *grown;
	int rc, error = 0;

	*out = NULL;
	if (!scope)
		scope = ts_node_id(node);
	if (!ts_node_id_valid(scope) || !in_jurisdiction(scope, ts_node_id(node)))
		return ts_error_set(TS_EINVALID, "'%s' is not %s or a unit below it", scope, ts_node_id(node));
	if (!from || !to || strlen(from) != 25 || strlen(to) != 25 || strcmp(from, to) >= 0)
		return ts_error_set(TS_EINVALID, "report: a period needs from < to, as YYYY-MM-DDTHH:MM:SS+08:00");
	if (!(r = calloc(1, sizeof(*r))))
		return ts_error_set(TS_ERROR, "out of memory");
	memcpy(r->from, from, 26);
	memcpy(r->to, to, 26);
	year_before(r->last_from, from);
	year_before(r->last_to, to);
	/* one snapshot: every figure reads the same data */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		error = query_error(db, "reading");
		goto done;
	}
	if ((error = compute_unit(&r->total, db, r, scope)) < 0)
		goto rollback;
	if (sqlite3_prepare_v2(db, children_sql, -1, &st, NULL) != SQLITE_OK) {
		error = query_error(db, "child units");
		goto rollback;
	}
	bind_params(st, r, scope);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!(grown = realloc(r->children, (r->nchildren + 1) * sizeof(*grown)))) {
			error = ts_error_set(TS_ERROR, "out of memory");
			goto rollback;
		}
		r->children = grown;
		memset(&r->children[r->nchildren], 0, sizeof(*grown));
		r->nchildren++;
		if ((error = compute_unit(&r->children[r->nchildren - 1], db, r,
				(const char *)sqlite3_column_text(st, 0))) < 0)
			goto rollback;
	}
	if (rc != SQLITE_DONE)
		error = query_error(db, "child units");
rollback:
	sqlite3_finalize(st);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
done:
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
