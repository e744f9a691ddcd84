/*
 * Unit tests of the figures (node/report.c) on generated data: the
 * generator (tiersync-gen, built beside this test binary) writes a
 * district's year into a street with a device and a second street; the
 * device's work reaches its street, the streets' the district, the
 * district's the city, each by push and merge. At the street, the district
 * and the city every figure, in total and per child unit, is compared with
 * a query written here, not the report's own. The JSON is the CLI's to
 * write: `tiersync report --json`, built beside this test too, is run on
 * jurisdictions no node id could have.
 */
#include "harness.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "tiersync.h"
#include "nodes.h"
#include "tiersync.h"

#define FROM "2015-01-01T00:00:00+08:00"
#define TO "2016-01-01T00:00:00+08:00"

/* This test's own reading of each figure: one row (value, base). ?1 the
 * unit, ?2..?3 the period, ?4..?5 the year before. A unit's cases are
 * those whose jurisdiction is the unit or starts with "unit.". */
#define MINE "(jurisdiction = ?1 OR substr(jurisdiction, 1, length(?1) + 1) = ?1 || '.')"
#define IN_YEAR "reported_at >= ?2 AND reported_at < ?3"
#define MINE_BY(col) "(" col " = ?1 OR substr(" col ", 1, length(?1) + 1) = ?1 || '.')"
#define ITEMS "FROM supervision_items i WHERE " MINE_BY("target_node") " AND issued_at >= ?2 AND issued_at < ?3"
static const struct { const char *name, *sql; } independent[] = {
	{ "cases_found", "SELECT count(*), 0 FROM cases WHERE " MINE " AND " IN_YEAR },
	{ "cases_filed", "SELECT total(filed_at IS NOT NULL), 0 FROM cases WHERE " MINE " AND " IN_YEAR },
	{ "cases_penalised", "SELECT total(decided_at IS NOT NULL), 0 FROM cases WHERE " MINE " AND " IN_YEAR },
	{ "penalties_fen", "SELECT total(CASE WHEN decided_at IS NULL THEN 0 ELSE penalty_amount END), 0 "
	  "FROM cases WHERE " MINE " AND " IN_YEAR },
	{ "cases_transferred", "SELECT total(transferred_at IS NOT NULL), 0 FROM cases WHERE " MINE " AND " IN_YEAR },
	{ "major_cases_filed_up", "SELECT total(major AND filed_up_at IS NOT NULL), total(major) "
	  "FROM cases WHERE " MINE " AND " IN_YEAR },
	{ "complaints", "SELECT total(reported_at >= ?2 AND reported_at < ?3), total(reported_at >= ?4 AND reported_at < ?5) "
	  "FROM cases WHERE " MINE " AND source = 'complaint'" },
	{ "complaints_key_areas", "SELECT total(reported_at >= ?2 AND reported_at < ?3), "
	  "total(reported_at >= ?4 AND reported_at < ?5) FROM cases WHERE " MINE " AND source = 'complaint' "
	  "AND key_area_id IS NOT NULL" },
	{ "complaints_dust_muck", "SELECT total(reported_at >= ?2 AND reported_at < ?3), "
	  "total(reported_at >= ?4 AND reported_at < ?5) FROM cases WHERE " MINE " AND source = 'complaint' "
	  "AND key_area_id IS NOT NULL AND (category = 'construction_dust' OR category GLOB 'muck_*')" },
	{ "complaints_outdoor_bbq", "SELECT total(reported_at >= ?2 AND reported_at < ?3), "
	  "total(reported_at >= ?4 AND reported_at < ?5) FROM cases WHERE " MINE " AND source = 'complaint' "
	  "AND category = 'outdoor_bbq'" },
	{ "complaints_small_ads", "SELECT total(reported_at >= ?2 AND reported_at < ?3), "
	  "total(reported_at >= ?4 AND reported_at < ?5) FROM cases WHERE " MINE " AND source = 'complaint' "
	  "AND category = 'small_ads'" },
	{ "cases_closed_rate", "SELECT total(closed_at IS NOT NULL AND transferred_at IS NULL), "
	  "total(transferred_at IS NULL) FROM cases WHERE " MINE " AND " IN_YEAR },
	/* a key-area zone found failing in the period; put right if met at a
	 * check after its last failing one of the period */
	{ "zones_rectified_key_areas", "SELECT total(fixed), count(*) FROM (SELECT (SELECT count(*) FROM "
	  "responsibility_checks l WHERE l.zone_id = z.id AND l.met AND l.checked_at > (SELECT max(checked_at) "
	  "FROM responsibility_checks k WHERE k.zone_id = z.id AND NOT k.met AND k.checked_at >= ?2 AND "
	  "k.checked_at < ?3)) > 0 AS fixed FROM responsibility_zones z WHERE " MINE " AND key_area_id IS NOT NULL "
	  "AND EXISTS (SELECT 1 FROM responsibility_checks k WHERE k.zone_id = z.id AND NOT k.met AND "
	  "k.checked_at >= ?2 AND k.checked_at < ?3))" },
	{ "supervision_received", "SELECT count(*), 0 " ITEMS },
	{ "supervision_issued", "SELECT count(*), 0 FROM supervision_items WHERE " MINE_BY("issued_by_node")
	  " AND issued_at >= ?2 AND issued_at < ?3" },
	{ "supervision_answered_on_time", "SELECT total(EXISTS (SELECT 1 FROM supervision_feedback f "
	  "WHERE f.item_id = i.id AND (i.due_at IS NULL OR f.at <= i.due_at))), count(*) " ITEMS },
	{ "supervision_closed", "SELECT total(status = 'closed'), count(*) " ITEMS },
	{ "return_visits", "SELECT total(visited_at IS NOT NULL), total(status = 'closed' OR status = 'feedback') "
	  "FROM cases WHERE " MINE " AND " IN_YEAR " AND source = 'complaint'" },
	{ "satisfaction", "SELECT total(satisfaction <> 'dissatisfied'), total(satisfaction IS NOT NULL) "
	  "FROM cases WHERE " MINE " AND " IN_YEAR " AND source = 'complaint' AND visited_at IS NOT NULL" },
	{ "satisfaction_small_ads", "SELECT total(satisfaction <> 'dissatisfied'), total(satisfaction IS NOT NULL) "
	  "FROM cases WHERE " MINE " AND " IN_YEAR " AND source = 'complaint' AND visited_at IS NOT NULL "
	  "AND category = 'small_ads'" },
	{ "small_ad_phones_warned", "SELECT total(not_warned = 0), count(*) FROM (SELECT p.phone, "
	  "total(p.outcome IS NULL OR p.outcome <> 'warned') AS not_warned FROM small_ad_phones p, cases "
	  "WHERE cases.id = p.case_id AND " MINE " AND " IN_YEAR " GROUP BY p.phone)" },
	{ "notices_issued", "SELECT total(notice_issued_at IS NOT NULL AND notice_issued_at < ?3), count(*) "
	  "FROM responsibility_zones WHERE " MINE },
	{ "responsibility_met_key_areas", "SELECT total(met), count(*) FROM responsibility_checks "
	  "WHERE checked_at >= ?2 AND checked_at < ?3 AND zone_id IN (SELECT id FROM responsibility_zones "
	  "WHERE " MINE " AND key_area_id IS NOT NULL)" },
	{ "responsibility_met_elsewhere", "SELECT total(met), count(*) FROM responsibility_checks "
	  "WHERE checked_at >= ?2 AND checked_at < ?3 AND zone_id IN (SELECT id FROM responsibility_zones "
	  "WHERE " MINE " AND key_area_id IS NULL)" },
	{ "deadline_adherence", "SELECT total(closed_at <= deadline), total(closed_at IS NOT NULL) "
	  "FROM cases WHERE " MINE " AND " IN_YEAR },
	{ "major_event_cases", "SELECT total(EXISTS (SELECT 1 FROM major_events e WHERE e.id = cases.event_id)), 0 "
	  "FROM cases WHERE " MINE " AND " IN_YEAR },
	{ "media_exposures", "SELECT total(source = 'media'), 0 FROM cases WHERE " MINE " AND " IN_YEAR },
	{ "exposures_made", "SELECT count(*), 0 FROM exposures WHERE " MINE " AND published_at >= ?2 AND "
	  "published_at < ?3" },
};
#define NINDEPENDENT (sizeof(independent) / sizeof(independent[0]))

/* Per category (or source): found, filed, penalised, transferred, closed. */
static const char group_sql[] =
	"SELECT count(*), total(filed_at IS NOT NULL), total(decided_at IS NOT NULL), "
	"total(transferred_at IS NOT NULL), total(closed_at IS NOT NULL) FROM cases "
	"WHERE " MINE " AND " IN_YEAR " AND (category = ?4 OR source = ?4)";

static int query2(int64_t *a, int64_t *b, sqlite3 *db, const char *sql, const char *unit, const char *code)
{
	sqlite3_stmt *st = NULL;
	int ok = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "    %s\n", sqlite3_errmsg(db));
		return 0;
	}
	sqlite3_bind_text(st, 1, unit, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, FROM, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, TO, -1, SQLITE_STATIC);
	if (code)
		sqlite3_bind_text(st, 4, code, -1, SQLITE_STATIC);
	else {
		sqlite3_bind_text(st, 4, "2014-01-01T00:00:00+08:00", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, FROM, -1, SQLITE_STATIC);
	}
	if (sqlite3_step(st) == SQLITE_ROW) {
		*a = sqlite3_column_int64(st, 0);
		*b = sqlite3_column_int64(st, 1);
		ok = 1;
	}
	sqlite3_finalize(st);
	return ok;
}

/* The goal's verdict on `value` of `base`: none without a goal or a base;
 * a rate meets its goal at goal% of the base or more, a drop when the fall
 * from last year's `base` is goal% of it or more. */
static int expected_verdict(const ts_report_figure *f, int64_t value, int64_t base)
{
	if (f->kind == TS_FIGURE_ZERO)
		return value == 0;
	if (!f->goal_percent || base == 0)
		return -1;
	if (f->kind == TS_FIGURE_DROP)
		return (base - value) * 100 >= f->goal_percent * base;
	return value * 100 >= f->goal_percent * base;
}

/* Days since 1970-01-01 of a civil date. */
static long day_number(int y, int m, int d)
{
	long era, yoe, doy, doe;
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static long day_of(const char *t)
{
	return day_number(atoi(t), atoi(t + 5), atoi(t + 8));
}

/* This test's own baseline of `unit` for `subject` over [from, to): each
 * year's row times the share of its days in the period; 0 if a year the
 * period touches has no row. */
static int independent_baseline(double *out, sqlite3 *db, const char *unit, const char *subject,
	const char *from, const char *to)
{
	long f = day_of(from), t = day_of(to);
	int y, last = atoi(to) - (day_of(to) == day_number(atoi(to), 1, 1));
	*out = 0;
	for (y = atoi(from); y <= last; y++) {
		sqlite3_stmt *st = NULL;
		char year[8];
		long a = day_number(y, 1, 1), b = day_number(y + 1, 1, 1);
		int found = 0;
		snprintf(year, sizeof(year), "%d", y);
		if (sqlite3_prepare_v2(db, "SELECT complaints FROM complaint_baselines WHERE scope = ?1 AND "
				"subject = ?2 AND year = ?3", -1, &st, NULL) != SQLITE_OK)
			return 0;
		sqlite3_bind_text(st, 1, unit, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, subject, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, year, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			*out += (double)sqlite3_column_int64(st, 0) * (double)((t < b ? t : b) - (f > a ? f : a)) /
				(double)(b - a);
			found = 1;
		}
		sqlite3_finalize(st);
		if (!found) {
			*out = 0;
			return 0;
		}
	}
	return 1;
}

/* Checks a figure's baseline against this test's: whether there is one,
 * its value, its verdict. Returns 1 if they agree. */
static int baseline_agrees(sqlite3 *db, const char *unit, const ts_report_figure *f, const ts_report_value *v,
	const char *from, const char *to)
{
	double want = 0;
	int has;
	if (!f->baseline_sql)
		return !v->has_baseline && v->met_baseline == -1;
	has = independent_baseline(&want, db, unit, f->name + strlen("complaints_"), from, to);
	if (has != v->has_baseline || fabs(want - v->baseline) > 1e-9)
		return 0;
	if (!has || want <= 0)
		return v->met_baseline == -1;
	return v->met_baseline == ((double)v->value * 100 <= want * (100 - f->goal_percent));
}

/* Checks every figure of one unit of a report against this test's queries;
 * returns the number of mismatches (each printed). */
static int check_unit(sqlite3 *db, const ts_report_unit *u)
{
	size_t i, j;
	int bad = 0;

	for (i = 0; i < ts_report_nfigures; i++) {
		const ts_report_figure *f = &ts_report_figures[i];
		int64_t a = -1, b = -1;
		for (j = 0; j < NINDEPENDENT && strcmp(independent[j].name, f->name); j++)
			;
		if (j == NINDEPENDENT) {
			fprintf(stderr, "    figure %s has no independent query in this test\n", f->name);
			bad++;
			continue;
		}
		if (!query2(&a, &b, db, independent[j].sql, u->unit, NULL) ||
		    a != u->values[i].value || (f->kind != TS_FIGURE_COUNT && b != u->values[i].base)) {
			fprintf(stderr, "    %s %s: report %lld/%lld, independent %lld/%lld\n", u->unit, f->name,
				(long long)u->values[i].value, (long long)u->values[i].base, (long long)a, (long long)b);
			bad++;
		} else if (u->values[i].met != expected_verdict(f, a, b)) {
			fprintf(stderr, "    %s %s: %lld/%lld, verdict %d\n", u->unit, f->name, (long long)a,
				(long long)b, u->values[i].met);
			bad++;
		} else if (!baseline_agrees(db, u->unit, f, &u->values[i], FROM, TO)) {
			fprintf(stderr, "    %s %s: baseline %d %.6f, verdict %d\n", u->unit, f->name,
				u->values[i].has_baseline, u->values[i].baseline, u->values[i].met_baseline);
			bad++;
		}
	}
	for (i = 0; i < u->ncategories + u->nsources; i++) {
		const ts_report_group *g = i < u->ncategories ? &u->categories[i] : &u->sources[i - u->ncategories];
		sqlite3_stmt *st = NULL;
		int ok = sqlite3_prepare_v2(db, group_sql, -1, &st, NULL) == SQLITE_OK;
		if (ok) {
			sqlite3_bind_text(st, 1, u->unit, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, FROM, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, TO, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 4, g->code, -1, SQLITE_STATIC);
			ok = sqlite3_step(st) == SQLITE_ROW &&
				sqlite3_column_int64(st, 0) == g->found && sqlite3_column_int64(st, 1) == g->filed &&
				sqlite3_column_int64(st, 2) == g->penalised && sqlite3_column_int64(st, 3) == g->transferred &&
				sqlite3_column_int64(st, 4) == g->closed;
		}
		sqlite3_finalize(st);
		if (!ok) {
			fprintf(stderr, "    %s: the counts of %s differ\n", u->unit, g->code);
			bad++;
		}
	}
	/* the cases of each major event: every event with cases, each once */
	{
		int64_t with_cases = -1, unused = 0, sum = 0;
		query2(&with_cases, &unused, db, "SELECT count(DISTINCT e.id), 0 FROM major_events e, cases "
			"WHERE cases.event_id = e.id AND " MINE " AND " IN_YEAR, u->unit, NULL);
		if ((int64_t)u->nevents != with_cases) {
			fprintf(stderr, "    %s: %zu major events listed, %lld with cases\n", u->unit, u->nevents,
				(long long)with_cases);
			bad++;
		}
		for (i = 0; i < u->nevents; i++) {
			int64_t n = -1;
			query2(&n, &unused, db, "SELECT count(*), 0 FROM cases WHERE " MINE " AND " IN_YEAR
				" AND event_id = ?4", u->unit, u->events[i].id);
			if (n != u->events[i].cases || (i && strcmp(u->events[i - 1].id, u->events[i].id) >= 0)) {
				fprintf(stderr, "    %s: event %s, %lld cases, the test counts %lld\n", u->unit,
					u->events[i].id, (long long)u->events[i].cases, (long long)n);
				bad++;
			}
			sum += u->events[i].cases;
		}
		for (i = 0; i < ts_report_nfigures; i++)
			if (!strcmp(ts_report_figures[i].name, "major_event_cases") && u->values[i].value != sum) {
				fprintf(stderr, "    %s: the events' cases do not add up\n", u->unit);
				bad++;
			}
	}
	/* every category and source is listed, each once */
	{
		int64_t ncat = 0, nsrc = 0;
		query2(&ncat, &nsrc, db, "SELECT (SELECT count(*) FROM categories), (SELECT count(*) FROM sources)",
			u->unit, NULL);
		if ((int64_t)u->ncategories != ncat || (int64_t)u->nsources != nsrc) {
			fprintf(stderr, "    %s: %zu categories, %zu sources listed\n", u->unit, u->ncategories, u->nsources);
			bad++;
		}
	}
	return bad;
}

/* The child units as this test sees them: for each jurisdiction below
 * `unit`, the unit's id plus the next label; sorted, each once. */
static int children_of(char out[16][64], sqlite3 *db, const char *unit)
{
	sqlite3_stmt *st = NULL;
	size_t len = strlen(unit);
	int n = 0, i, j;

	if (sqlite3_prepare_v2(db, "SELECT jurisdiction FROM cases UNION ALL SELECT jurisdiction FROM "
			"responsibility_zones UNION ALL SELECT target_node FROM supervision_items UNION ALL "
			"SELECT issued_by_node FROM supervision_items UNION ALL SELECT jurisdiction FROM exposures",
			-1, &st, NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *j_id = (const char *)sqlite3_column_text(st, 0);
		char child[64];
		const char *dot;
		if (strncmp(j_id, unit, len) || j_id[len] != '.')
			continue;
		dot = strchr(j_id + len + 1, '.');
		snprintf(child, sizeof(child), "%.*s", (int)(dot ? (size_t)(dot - j_id) : strlen(j_id)), j_id);
		for (i = 0; i < n && strcmp(out[i], child); i++)
			;
		if (i == n && n < 16)
			snprintf(out[n++], 64, "%s", child);
	}
	sqlite3_finalize(st);
	for (i = 1; i < n; i++)   /* insertion sort */
		for (j = i; j > 0 && strcmp(out[j - 1], out[j]) > 0; j--) {
			char t[64];
			memcpy(t, out[j], 64);
			memcpy(out[j], out[j - 1], 64);
			memcpy(out[j - 1], t, 64);
		}
	return n;
}

/* Checks a node's whole report: total, the children list, each child. */
static int check_report(ts_node *node, const ts_report *r)
{
	char kids[16][64];
	sqlite3 *db = ts_node_db(node);
	int n = children_of(kids, db, ts_node_id(node)), bad = 0;
	size_t i;

	bad += check_unit(db, &r->total);
	if (n != (int)r->nchildren) {
		fprintf(stderr, "    %s: %zu child units, the test sees %d\n", ts_node_id(node), r->nchildren, n);
		return bad + 1;
	}
	for (i = 0; i < r->nchildren; i++) {
		if (strcmp(kids[i], r->children[i].unit)) {
			fprintf(stderr, "    child %zu: %s, the test sees %s\n", i, r->children[i].unit, kids[i]);
			bad++;
		}
		bad += check_unit(db, &r->children[i]);
	}
	return bad;
}

static int same_unit(const ts_report_unit *a, const ts_report_unit *b)
{
	size_t i;
	if (strcmp(a->unit, b->unit) || a->ncategories != b->ncategories || a->nsources != b->nsources)
		return 0;
	for (i = 0; i < ts_report_nfigures; i++)
		if (a->values[i].value != b->values[i].value || a->values[i].base != b->values[i].base)
			return 0;
	for (i = 0; i < a->ncategories; i++)
		if (memcmp(&a->categories[i].found, &b->categories[i].found, 5 * sizeof(int64_t)))
			return 0;
	for (i = 0; i < a->nsources; i++)
		if (memcmp(&a->sources[i].found, &b->sources[i].found, 5 * sizeof(int64_t)))
			return 0;
	if (a->nevents != b->nevents)
		return 0;
	for (i = 0; i < a->nevents; i++)
		if (strcmp(a->events[i].id, b->events[i].id) || a->events[i].cases != b->events[i].cases)
			return 0;
	return 1;
}

static int init_node(ts_node **out, const char *dir, ts_tier tier, const char *id, const char *upstream)
{
	char path[PATH_MAX], up[PATH_MAX];
	ts_init_options o = { TS_INIT_OPTIONS_VERSION, tier, id, NULL, "测试员", NULL };
	snprintf(path, sizeof(path), "%s/%s", ts_test_dir(), dir);
	if (upstream) {
		snprintf(up, sizeof(up), "%s/%s", ts_test_dir(), upstream);
		o.upstream = up;
	}
	return ts_node_init(out, path, &o);
}

/* Runs `tool` (tiersync-gen or tiersync, built beside this test binary)
 * with `args`, in the case's directory, its stdout to `out` (NULL: none). */
static int run_beside(const char *tool, const char *args, const char *out)
{
	char self[PATH_MAX], cmd[PATH_MAX * 3];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;
	if (n <= 0)
		return -1;
	self[n] = '\0';
	if (!(slash = strrchr(self, '/')))
		return -1;
	*slash = '\0';
	snprintf(cmd, sizeof(cmd), "'%s/%s' %s >'%s'", self, tool, args, out ? out : "/dev/null");
	return system(cmd) == 0 ? 0 : -1;
}

/* Runs the generator beside this test binary. */
static int generate(const char *args)
{
	return run_beside("tiersync-gen", args, NULL);
}

/* Pushes `lower` to its upstream and merges the submission there. */
static int submit(ts_node *lower, ts_node *upper)
{
	char id[41];
	int error;
	if ((error = ts_node_push(id, NULL, lower, NULL, NULL)) < 0)
		return error;
	return ts_node_merge_submissions(upper, "张敏", NULL, NULL);
}

void test_report__figures_match_independent_queries_at_every_tier(void)
{
	ts_node *city = NULL, *dc = NULL, *js = NULL, *dhm = NULL, *dev = NULL;
	ts_report *r_city = NULL, *r_dc = NULL, *r_js = NULL, *r_dhm = NULL, *r_dev = NULL;
	size_t i;
	int bad;

	test_ok(init_node(&city, "city", TS_TIER_CITY, "bj", NULL));
	test_ok(init_node(&dc, "dc", TS_TIER_DISTRICT, "bj.dc", "city"));
	test_ok(init_node(&js, "js", TS_TIER_STREET, "bj.dc.jingshan", "dc"));
	test_ok(init_node(&dhm, "dhm", TS_TIER_STREET, "bj.dc.donghuamen", "dc"));
	test_ok(init_node(&dev, "d07", TS_TIER_DEVICE, "bj.dc.jingshan.d07", "js"));
	/* each node enrolled at its upper node before the year is generated */
	test_ok(ts_test_enroll(city, dc));
	test_ok(ts_test_enroll(dc, js));
	test_ok(ts_test_enroll(dc, dhm));
	test_ok(ts_test_enroll(js, dev));
	ts_node_free(dc); ts_node_free(js); ts_node_free(dhm); ts_node_free(dev);
	dc = js = dhm = dev = NULL;
	test_assert(generate("--district dc --street js --street dhm --device d07 --year 2015 "
		"--cases 600 --seed 11 --commit-every 28") == 0);
	test_ok(ts_node_open(&dc, "dc"));
	test_ok(ts_node_open(&js, "js"));
	test_ok(ts_node_open(&dhm, "dhm"));
	test_ok(ts_node_open(&dev, "d07"));

	/* the device's work reaches its street, the streets' the district, the district's the city */
	test_ok(submit(dev, js));
	test_ok(submit(js, dc));
	test_ok(submit(dhm, dc));
	test_ok(submit(dc, city));

	test_ok(ts_report_compute(&r_dev, dev, NULL, FROM, TO));
	test_ok(ts_report_compute(&r_js, js, NULL, FROM, TO));
	test_ok(ts_report_compute(&r_dhm, dhm, NULL, FROM, TO));
	test_ok(ts_report_compute(&r_dc, dc, NULL, FROM, TO));
	test_ok(ts_report_compute(&r_city, city, NULL, FROM, TO));

	/* the data is worth testing on: every kind of figure has something to count */
	test_equal_i(r_dc->total.values[0].value, 600);
	/* (but the supervision items, which the generator does not write: see
	 * test_report__supervision_items_to_and_by_the_units) */
	for (i = 0; i < ts_report_nfigures; i++)
		if (ts_report_figures[i].kind != TS_FIGURE_COUNT && ts_report_figures[i].kind != TS_FIGURE_ZERO &&
		    strncmp(ts_report_figures[i].name, "supervision_", 12))
			test_assert(r_city->total.values[i].base > 0);
	/* the device's cases are its street's: the device itself has none */
	test_equal_i(r_dev->total.values[0].value, 0);
	{
		int64_t from_device = 0, unused = 0;
		test_assert(query2(&from_device, &unused, ts_node_db(js), "SELECT count(*), 0 FROM cases WHERE "
			"created_by_node = 'bj.dc.jingshan.d07' AND jurisdiction = ?1 AND " IN_YEAR, "bj.dc.jingshan", NULL));
		test_assert(from_device > 0);
	}

	bad = check_report(dev, r_dev) + check_report(js, r_js) + check_report(dhm, r_dhm) +
		check_report(dc, r_dc) + check_report(city, r_city);
	test_equal_i(bad, 0);

	/* the district sees its two streets, the city its district; a street no unit below */
	test_equal_i(r_js->nchildren, 0);
	test_equal_i(r_dev->nchildren, 0);
	test_equal_i(r_dc->nchildren, 2);
	test_equal_s(r_dc->children[0].unit, "bj.dc.donghuamen");
	test_equal_s(r_dc->children[1].unit, "bj.dc.jingshan");
	test_equal_i(r_city->nchildren, 1);

	/* each tier's row for a child is that child's own report */
	test_assert(same_unit(&r_dc->children[0], &r_dhm->total));
	test_assert(same_unit(&r_dc->children[1], &r_js->total));
	test_assert(same_unit(&r_city->children[0], &r_dc->total));

	ts_report_free(r_city); ts_report_free(r_dc); ts_report_free(r_js);
	ts_report_free(r_dhm); ts_report_free(r_dev);
	ts_node_free(city); ts_node_free(dc); ts_node_free(js); ts_node_free(dhm); ts_node_free(dev);
}

void test_report__periods(void)
{
	static const struct { const char *spec, *from, *to; } good[] = {
		{ "2015", "2015-01-01T00:00:00+08:00", "2016-01-01T00:00:00+08:00" },
		{ "2015-01..2015-12", "2015-01-01T00:00:00+08:00", "2016-01-01T00:00:00+08:00" },
		{ "2015-02", "2015-02-01T00:00:00+08:00", "2015-03-01T00:00:00+08:00" },
		{ "2016-02-29", "2016-02-29T00:00:00+08:00", "2016-03-01T00:00:00+08:00" },
		{ "2015-12-31..2016", "2015-12-31T00:00:00+08:00", "2017-01-01T00:00:00+08:00" },
		{ "2014-06..2015-05-20", "2014-06-01T00:00:00+08:00", "2015-05-21T00:00:00+08:00" },
	};
	static const char *const bad[] = { "", "15", "2015-13", "2015-02-29", "2015-1", "2015..",
		"..2015", "2015-12..2015-01", "2015-01-01..2014", "2015/01", "2015-01-01T00", "abcd", "2015...2016" };
	char from[32], to[32];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		test_ok(ts_report_period(from, to, good[i].spec));
		test_equal_s(from, good[i].from);
		test_equal_s(to, good[i].to);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ts_report_period(from, to, bad[i]) != TS_EINVALID) {
			ts_test__fail(__FILE__, __LINE__, "period '%s' was accepted", bad[i]);
			return;
		}
}

void test_report__unit_outside_the_jurisdiction_is_refused(void)
{
	ts_node *js = NULL;
	ts_report *r = NULL;
	static const char *const outside[] = { "bj.dc", "bj", "bj.dc.jingshanx", "bj.dc.donghuamen", "bj.dc.jingshan.",
		"BJ.DC.JINGSHAN", "bj.dc.jingsha_", "" };
	size_t i;

	test_ok(init_node(&js, "js", TS_TIER_STREET, "bj.dc.jingshan", NULL));
	for (i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		test_equal_i(ts_report_compute(&r, js, outside[i], FROM, TO), TS_EINVALID);
		test_assert(r == NULL);
	}
	test_ok(ts_report_compute(&r, js, "bj.dc.jingshan.d07", FROM, TO));
	test_equal_s(r->total.unit, "bj.dc.jingshan.d07");
	test_equal_i(r->total.values[0].value, 0);
	ts_report_free(r);
	ts_node_free(js);
}

/* A case of any jurisdiction, written raw (intake would set the node's). */
typedef struct {
	const char *id, *jurisdiction;
} raw_case;

static int insert_raw_case(sqlite3 *db, void *payload)
{
	const raw_case *c = payload;
	sqlite3_stmt *st = NULL;
	int error = 0;
	if (sqlite3_prepare_v2(db, "INSERT INTO cases (id, source, category, address, jurisdiction, reported_at, "
			"deadline, created_by_node) VALUES (?1, 'patrol', 'small_ads', '景山前街 4号', ?2, "
			"'2015-05-22T09:00:00+08:00', '2015-05-25T09:00:00+08:00', 'bj.dc')", -1, &st, NULL) != SQLITE_OK ||
	    (sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC), sqlite3_bind_text(st, 2, c->jurisdiction, -1,
			SQLITE_STATIC), sqlite3_step(st)) != SQLITE_DONE)
		error = ts_error_set(TS_ERROR, "%s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return error;
}

static int add_raw_case(ts_node *node, const char *id, const char *jurisdiction)
{
	raw_case c = { id, jurisdiction };
	return ts_node_write(node, "王伟", "a case", insert_raw_case, &c);
}

/* A jurisdiction GLOB reads literally: a '_' in an id matches only '_'. */
void test_report__underscore_in_an_id_is_no_wildcard(void)
{
	ts_node *dc = NULL;
	ts_report *r = NULL;

	test_ok(init_node(&dc, "dc", TS_TIER_DISTRICT, "bj.dc", NULL));
	test_ok(add_raw_case(dc, "c1", "bj.dc.a_b"));
	test_ok(add_raw_case(dc, "c2", "bj.dc.axb"));
	test_ok(ts_report_compute(&r, dc, "bj.dc.a_b", FROM, TO));
	test_equal_i(r->total.values[0].value, 1);
	ts_report_free(r);
	test_ok(ts_report_compute(&r, dc, NULL, FROM, TO));
	test_equal_i(r->total.values[0].value, 2);
	test_equal_i(r->nchildren, 2);
	ts_report_free(r);
	ts_node_free(dc);
}

/* A unit is returned as its cases name it, whatever bytes that takes. */
void test_report__odd_jurisdictions_are_kept_as_they_are(void)
{
	ts_node *dc = NULL;
	ts_report *r = NULL;

	test_ok(init_node(&dc, "dc", TS_TIER_DISTRICT, "bj.dc", NULL));
	test_ok(add_raw_case(dc, "c1", "bj.dc.a\"b\\c\n"));
	test_ok(add_raw_case(dc, "c2", "bj.dc.x\xffy\x7f"));
	test_ok(ts_report_compute(&r, dc, NULL, FROM, TO));
	test_equal_i(r->total.values[0].value, 2);
	test_equal_i(r->nchildren, 2);
	test_equal_s(r->children[0].unit, "bj.dc.a\"b\\c\n");
	test_equal_s(r->children[1].unit, "bj.dc.x\xffy\x7f");
	test_equal_i(r->children[0].values[0].value, 1);
	test_equal_i(r->children[1].values[0].value, 1);
	ts_report_free(r);
	ts_node_free(dc);
}

/* Whatever a jurisdiction holds, `tiersync report --json` stays valid JSON
 * and keeps it: control bytes escaped, a byte that is not UTF-8 as \u00HH. */
void test_report__json_is_valid_with_odd_jurisdictions(void)
{
	ts_node *dc = NULL;
	sqlite3 *mem = NULL;
	sqlite3_stmt *st = NULL;
	static char json[65536];
	size_t len;
	FILE *f;

	test_ok(init_node(&dc, "dc", TS_TIER_DISTRICT, "bj.dc", NULL));
	test_ok(add_raw_case(dc, "c1", "bj.dc.a\"b\\c\n"));
	test_ok(add_raw_case(dc, "c2", "bj.dc.x\xffy\x7f"));
	ts_node_free(dc);
	test_assert(run_beside("tiersync", "-C dc report --period 2015 --json", "report.json") == 0);
	test_assert(sqlite3_open(":memory:", &mem) == SQLITE_OK);
	test_assert((f = fopen("report.json", "rb")) != NULL);
	len = fread(json, 1, sizeof(json) - 1, f);
	fclose(f);
	test_assert(len > 0 && len < sizeof(json) - 1);
	json[len] = '\0';
	test_assert(sqlite3_prepare_v2(mem, "SELECT json_valid(?1), json_extract(?1, '$.children[0].unit'), "
		"json_extract(?1, '$.children[1].unit'), json_extract(?1, '$.total.figures.cases_found'), "
		"instr(?1, '\"bj.dc.x\\u00ffy\\u007f\"') > 0", -1, &st, NULL) == SQLITE_OK);
	sqlite3_bind_text(st, 1, json, (int)len, SQLITE_STATIC);
	test_assert(sqlite3_step(st) == SQLITE_ROW);
	test_equal_i(sqlite3_column_int(st, 0), 1);
	test_equal_s((const char *)sqlite3_column_text(st, 1), "bj.dc.a\"b\\c\n");
	test_equal_s((const char *)sqlite3_column_text(st, 2), "bj.dc.x\xc3\xbfy\x7f");  /* \u00ff is U+00FF */
	test_equal_i(sqlite3_column_int(st, 3), 2);
	test_equal_i(sqlite3_column_int(st, 4), 1);
	sqlite3_finalize(st);
	sqlite3_close(mem);
}

/* ---- how the report reads: a few passes, each through the index ------ */

/* The statements a report ran, as prepared (sqlite3_sql). */
typedef struct {
	char *sql[64];
	int n;
} traced;

static int trace_statement(unsigned type, void *payload, void *stmt, void *unused)
{
	traced *t = payload;
	const char *sql = sqlite3_sql(stmt);
	(void)type; (void)unused;
	if (sql && t->n < 64 && !strstr(sql, "BEGIN") && !strstr(sql, "ROLLBACK"))
		t->sql[t->n++] = strdup(sql);
	return 0;
}

static void traced_free(traced *t)
{
	while (t->n > 0)
		free(t->sql[--t->n]);
}

/* The report of `node`, its statements in *t. */
static int report_traced(traced *t, ts_node *node)
{
	ts_report *r = NULL;
	int error;
	sqlite3_trace_v2(ts_node_db(node), SQLITE_TRACE_STMT, trace_statement, t);
	error = ts_report_compute(&r, node, NULL, FROM, TO);
	sqlite3_trace_v2(ts_node_db(node), 0, NULL, NULL);
	ts_report_free(r);
	return error;
}

/* The plan of `sql`, its lines joined by "; ". */
static void plan_of(char *out, size_t size, sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	char *eqp = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", sql);
	size_t len = 0;
	*out = '\0';
	if (sqlite3_prepare_v2(db, eqp, -1, &st, NULL) != SQLITE_OK)
		snprintf(out, size, "(no plan: %s)", sqlite3_errmsg(db));
	else
		while (sqlite3_step(st) == SQLITE_ROW && len < size)
			len += (size_t)snprintf(out + len, size - len, "%s; ", (const char *)sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
	sqlite3_free(eqp);
}

/* A plan reads cases through the index on jurisdiction, or by primary key,
 * never by a scan of the table or of an index whole. */
static int plan_searches_cases(const char *plan)
{
	return !strstr(plan, "SCAN cases") && !strstr(plan, "SCAN c;") && !strstr(plan, "SCAN c ") &&
		(strstr(plan, "INDEX cases_jurisdiction (jurisdiction=?") ||
		 strstr(plan, "INDEX cases_jurisdiction (jurisdiction>?") ||
		 strstr(plan, "INDEX sqlite_autoindex_cases_1 (id=?)"));
}

void test_report__every_query_searches_the_index_and_their_number_is_not_the_units(void)
{
	static const char *const units[] = { "bj.dc.a", "bj.dc.b.d01", "bj.dc.c", "bj.dc.d", "bj.dc.e" };
	ts_node *dc = NULL;
	traced few = { { 0 }, 0 }, more = { { 0 }, 0 };
	char plan[4096], id[16];
	size_t i;
	int j, bad = 0;

	test_ok(init_node(&dc, "dc", TS_TIER_DISTRICT, "bj.dc", NULL));
	test_ok(add_raw_case(dc, "c0", "bj.dc"));
	for (i = 0; i < 2; i++) {
		snprintf(id, sizeof(id), "c%zu", i + 1);
		test_ok(add_raw_case(dc, id, units[i]));
	}
	test_ok(report_traced(&few, dc));
	for (; i < sizeof(units) / sizeof(units[0]); i++) {
		snprintf(id, sizeof(id), "c%zu", i + 1);
		test_ok(add_raw_case(dc, id, units[i]));
	}
	test_ok(report_traced(&more, dc));
	/* more child units, not more statements */
	test_assert(few.n > 0);
	test_equal_i(more.n, few.n);
	for (j = 0; j < more.n; j++) {
		if (!strstr(more.sql[j], " cases ") && !strstr(more.sql[j], " cases\n"))
			continue;
		plan_of(plan, sizeof(plan), ts_node_db(dc), more.sql[j]);
		if (!plan_searches_cases(plan)) {
			fprintf(stderr, "    %s\n    plan: %s\n", more.sql[j], plan);
			bad++;
		}
	}
	/* each figure's own query, for one unit, too */
	for (i = 0; i < ts_report_nfigures; i++) {
		if (!strstr(ts_report_figures[i].sql, "FROM cases"))
			continue;
		plan_of(plan, sizeof(plan), ts_node_db(dc), ts_report_figures[i].sql);
		if (!plan_searches_cases(plan) || !strstr(plan, "SEARCH")) {
			fprintf(stderr, "    %s\n    plan: %s\n", ts_report_figures[i].name, plan);
			bad++;
		}
	}
	test_equal_i(bad, 0);
	traced_free(&few);
	traced_free(&more);
	ts_node_free(dc);
}

/* Whitespace runs as one space, none at the ends. */
static void squeeze(char *s)
{
	char *w = s, *r = s;
	int space = 0;
	for (; *r; r++) {
		if (*r == ' ' || *r == '\n' || *r == '\t') {
			space = w > s;
			continue;
		}
		if (space)
			*w++ = ' ';
		space = 0;
		*w++ = *r;
	}
	*w = '\0';
}

/* docs/REPORT.md of the tree this test binary was built from (build/<mode>/unit). */
static char *read_report_doc(void)
{
	char self[PATH_MAX], path[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash, *text = NULL;
	long len;
	FILE *f;
	if (n <= 0)
		return NULL;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')))
		*slash = '\0';
	snprintf(path, sizeof(path), "%s/../../docs/REPORT.md", self);
	if (!(f = fopen(path, "rb")))
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (text = malloc((size_t)len + 1)) && fread(text, 1, (size_t)len, f) == (size_t)len)
		text[len] = '\0';
	else {
		free(text);
		text = NULL;
	}
	fclose(f);
	return text;
}

/* Whether `sql`, whitespace squeezed, is one of the page's sql blocks. */
static int doc_has_query(const char *doc, const char *sql)
{
	char *want = strdup(sql), *block;
	const char *p = doc, *end;
	int found = 0;
	squeeze(want);
	while (!found && (p = strstr(p, "```sql\n")) && (end = strstr(p + 7, "```"))) {
		if ((block = strndup(p + 7, (size_t)(end - p - 7)))) {
			squeeze(block);
			found = !strcmp(block, want);
			free(block);
		}
		p = end + 3;
	}
	free(want);
	return found;
}

/* docs/REPORT.md gives every query a report runs, as it runs, and each
 * figure's own query. */
void test_report__docs_give_every_query_a_report_runs(void)
{
	ts_node *dc = NULL;
	traced t = { { 0 }, 0 };
	char *doc = read_report_doc();
	size_t i;
	int j, bad = 0;

	test_assert(doc != NULL);
	test_ok(init_node(&dc, "dc", TS_TIER_DISTRICT, "bj.dc", NULL));
	test_ok(add_raw_case(dc, "c1", "bj.dc.a"));
	test_ok(report_traced(&t, dc));
	test_assert(t.n >= 5);
	for (j = 0; j < t.n; j++)
		if (!doc_has_query(doc, t.sql[j])) {
			fprintf(stderr, "    not in docs/REPORT.md: %s\n", t.sql[j]);
			bad++;
		}
	for (i = 0; i < ts_report_nfigures; i++) {
		if (!doc_has_query(doc, ts_report_figures[i].sql)) {
			fprintf(stderr, "    %s's query is not in docs/REPORT.md\n", ts_report_figures[i].name);
			bad++;
		}
		if (ts_report_figures[i].baseline_sql && !doc_has_query(doc, ts_report_figures[i].baseline_sql)) {
			fprintf(stderr, "    %s's baseline query is not in docs/REPORT.md\n", ts_report_figures[i].name);
			bad++;
		}
	}
	test_equal_i(bad, 0);
	traced_free(&t);
	free(doc);
	ts_node_free(dc);
}

/* The range on the index holds what `jurisdiction = unit OR jurisdiction
 * GLOB unit || '.*'` holds, for texts no node id could be: bytes just
 * below and above '.' and '/' after the unit, an empty label, a unit's own
 * id as a prefix without the dot. */
void test_report__the_range_is_the_glob_on_odd_bytes(void)
{
	static const char *const odd[] = { "bj.dc", "bj.dc.a", "bj.dc-x", "bj.dc/y", "bj.dcx", "bj.dc.",
		"bj.dc..z", "bj.dc.a/b", "bj.dc.a-b.c", "bj.dc\x01", "bj.dc.\x7f\xff", "bj.dc0", "bj.d", "bj.dc.a.b" };
	static const char *const units[] = { "bj", "bj.dc", "bj.dc.a" };
	ts_node *city = NULL;
	ts_report *r = NULL;
	char id[16];
	size_t i, u, k;
	int bad = 0;

	test_ok(init_node(&city, "city", TS_TIER_CITY, "bj", NULL));
	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		snprintf(id, sizeof(id), "c%zu", i);
		test_ok(add_raw_case(city, id, odd[i]));
	}
	for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		test_ok(ts_report_compute(&r, city, units[u], FROM, TO));
		for (k = 0; k <= r->nchildren; k++) {
			const ts_report_unit *unit = k ? &r->children[k - 1] : &r->total;
			int64_t glob = -1, unused = 0;
			test_assert(query2(&glob, &unused, ts_node_db(city), "SELECT count(*), 0 FROM cases WHERE "
				"jurisdiction = ?1 OR jurisdiction GLOB ?1 || '.*'", unit->unit, NULL));
			if (unit->values[0].value != glob) {
				fprintf(stderr, "    report %s, unit %s: %lld found, GLOB %lld\n", units[u], unit->unit,
					(long long)unit->values[0].value, (long long)glob);
				bad++;
			}
		}
		ts_report_free(r);
		r = NULL;
	}
	test_equal_i(bad, 0);
	/* the district counts itself and what is below it by whole labels: 8 of them */
	test_ok(ts_report_compute(&r, city, "bj.dc", FROM, TO));
	test_equal_i(r->total.values[0].value, 8);
	ts_report_free(r);
	ts_node_free(city);
}

/* ---- the plan's figures on rows written for the purpose -------------- */

/* Runs `payload` (SQL text) as one write of the node. */
static int exec_write(sqlite3 *db, void *payload)
{
	char *msg = NULL;
	int error = 0;
	if (sqlite3_exec(db, payload, NULL, NULL, &msg) != SQLITE_OK)
		error = ts_error_set(TS_ERROR, "%s", msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return error;
}

static int sql_write(ts_node *node, const char *sql)
{
	return ts_node_write(node, "王伟", "rows for a figure", exec_write, (void *)sql);
}

/* `n` complaint cases of `category` in `jurisdiction`, reported at `at`. */
static int add_complaints(ts_node *node, int n, const char *category, const char *jurisdiction, const char *at)
{
	char *sql = sqlite3_mprintf("WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < %d) "
		"INSERT INTO cases (id, source, category, address, jurisdiction, reported_at, deadline, created_by_node) "
		"SELECT %Q || '-' || %Q || '-' || i, 'complaint', %Q, '景山前街 4号', %Q, %Q, %Q, 'bj' FROM k",
		n, jurisdiction, at, category, jurisdiction, at, at);
	int error = sql_write(node, sql);
	sqlite3_free(sql);
	return error;
}

/* The value of figure `name` in `u`. */
static const ts_report_value *figure(const ts_report_unit *u, const char *name)
{
	size_t i;
	for (i = 0; i < ts_report_nfigures; i++)
		if (!strcmp(ts_report_figures[i].name, name))
			return &u->values[i];
	return NULL;
}

static int report_of(ts_report **r, ts_node *node, const char *scope, const char *period)
{
	char from[32], to[32];
	int error;
	ts_report_free(*r);
	*r = NULL;
	if ((error = ts_report_period(from, to, period)) < 0)
		return error;
	return ts_report_compute(r, node, scope, from, to);
}

/* A baseline is the unit's own row, prorated by the days of the period in
 * each year; none when a year of the period has no row. */
void test_report__baselines_are_prorated_by_days_and_never_made_up(void)
{
	ts_node *city = NULL;
	ts_report *r = NULL;
	const ts_report_value *v;
	double want = 0;

	test_ok(init_node(&city, "city", TS_TIER_CITY, "bj", NULL));
	test_ok(sql_write(city, "INSERT INTO complaint_baselines VALUES "
		"('bj', 'key_areas', '2015', 365, '李建国', '2015-01-05T09:00:00+08:00'), "
		"('bj.dc', 'small_ads', '2015', 100, '李建国', '2015-01-05T09:00:00+08:00'), "
		"('bj.dc', 'small_ads', '2016', 366, '李建国', '2016-01-05T09:00:00+08:00'), "
		"('bj.dc', 'outdoor_bbq', '2015', 50, '李建国', '2015-01-05T09:00:00+08:00'), "
		"('bj.dc.jingshan', 'key_areas', '2015', 1000, '李建国', '2015-01-05T09:00:00+08:00')"));
	test_ok(add_complaints(city, 34, "small_ads", "bj.dc", "2015-12-15T09:00:00+08:00"));

	/* a quarter: 91 of 2015's 365 days */
	test_ok(report_of(&r, city, NULL, "2015-04..2015-06"));
	test_equal_i(r->nchildren, 1);
	v = figure(&r->total, "complaints_key_areas");
	test_equal_i(v->has_baseline, 1);
	test_assert(fabs(v->baseline - 91.0) < 1e-9);
	test_equal_i(v->met_baseline, 1);
	v = figure(&r->total, "complaints_small_ads");   /* the city has no row of its own for small ads */
	test_equal_i(v->has_baseline, 0);
	test_equal_i(v->met_baseline, -1);
	v = figure(&r->children[0], "complaints_small_ads");
	test_equal_i(v->has_baseline, 1);
	test_assert(fabs(v->baseline - 100.0 * 91 / 365) < 1e-9);
	v = figure(&r->children[0], "complaints_key_areas");   /* the street's row is not its district's */
	test_equal_i(v->has_baseline, 0);
	test_equal_i(figure(&r->children[0], "complaints_outdoor_bbq")->has_baseline, 1);
	test_equal_i(figure(&r->total, "complaints")->has_baseline, 0);

	/* across the new year: 31/365 of 2015's row and 31/366 of 2016's */
	test_ok(report_of(&r, city, NULL, "2015-12..2016-01"));
	v = figure(&r->children[0], "complaints_small_ads");
	test_equal_i(v->value, 34);
	test_equal_i(v->has_baseline, 1);
	test_assert(fabs(v->baseline - (100.0 * 31 / 365 + 366.0 * 31 / 366)) < 1e-9);
	test_equal_i(v->met_baseline, 0);   /* 34 > 85% of 39.49 */
	test_assert(independent_baseline(&want, ts_node_db(city), "bj.dc", "small_ads", r->from, r->to));
	test_assert(fabs(v->baseline - want) < 1e-9);
	/* 2016 has no row for barbecue, nor for the city's key areas: no baseline */
	test_equal_i(figure(&r->children[0], "complaints_outdoor_bbq")->has_baseline, 0);
	test_equal_i(figure(&r->children[0], "complaints_outdoor_bbq")->met_baseline, -1);
	test_equal_i(figure(&r->total, "complaints_key_areas")->has_baseline, 0);

	/* the district's own report gives it the same */
	test_ok(report_of(&r, city, "bj.dc", "2015-12..2016-01"));
	test_assert(fabs(figure(&r->total, "complaints_small_ads")->baseline - want) < 1e-9);
	/* one complaint fewer and it is met: 33 <= 33.57 */
	test_ok(sql_write(city, "DELETE FROM cases WHERE id = 'bj.dc-2015-12-15T09:00:00+08:00-34'"));
	test_ok(report_of(&r, city, "bj.dc", "2015-12..2016-01"));
	test_equal_i(figure(&r->total, "complaints_small_ads")->value, 33);
	test_equal_i(figure(&r->total, "complaints_small_ads")->met_baseline, 1);
	/* a whole year is the row itself */
	test_ok(report_of(&r, city, "bj.dc.jingshan", "2015"));
	test_assert(fabs(figure(&r->total, "complaints_key_areas")->baseline - 1000.0) < 1e-9);
	/* and over the year every figure agrees with this test's queries */
	test_ok(report_of(&r, city, NULL, "2015"));
	test_equal_i(check_report(city, r), 0);
	ts_report_free(r);
	ts_node_free(city);
}

/* 问题整改率 in key areas: a zone found failing, then met at a later check. */
void test_report__key_area_zones_found_failing_and_put_right(void)
{
	ts_node *city = NULL;
	ts_report *r = NULL;
	const ts_report_value *v;

	test_ok(init_node(&city, "city", TS_TIER_CITY, "bj", NULL));
	test_ok(sql_write(city, "INSERT INTO key_areas (id, level, owner_node, name, listed_at) VALUES "
		"('ka1', 'city', 'bj', '景山地区', '2015-01-01T00:00:00+08:00');"
		"INSERT INTO responsibility_zones (id, unit, address, jurisdiction, key_area_id) VALUES "
		"('z1', '甲', 'a', 'bj.dc.jingshan', 'ka1'), ('z2', '乙', 'b', 'bj.dc.jingshan', 'ka1'), "
		"('z3', '丙', 'c', 'bj.dc.jingshan', 'ka1'), ('z4', '丁', 'd', 'bj.dc.jingshan', NULL), "
		"('z5', '戊', 'e', 'bj.dc.jingshan', 'ka1'), ('z6', '己', 'f', 'bj.dc.jingshan', 'ka1'), "
		"('z7', '庚', 'g', 'bj.dc.x', 'ka1');"
		"INSERT INTO responsibility_checks (id, zone_id, checked_at, met, checker) VALUES "
		"('k1', 'z1', '2015-02-10T09:00:00+08:00', 0, '王伟'), ('k2', 'z1', '2015-03-10T09:00:00+08:00', 1, '王伟'), "
		"('k3', 'z2', '2015-02-10T09:00:00+08:00', 0, '王伟'), "
		"('k4', 'z3', '2015-01-10T09:00:00+08:00', 1, '王伟'), "
		"('k5', 'z4', '2015-02-10T09:00:00+08:00', 0, '王伟'), ('k6', 'z4', '2015-03-10T09:00:00+08:00', 1, '王伟'), "
		"('k7', 'z5', '2015-01-10T09:00:00+08:00', 1, '王伟'), ('k8', 'z5', '2015-03-10T09:00:00+08:00', 0, '王伟'), "
		"('k9', 'z6', '2015-02-10T09:00:00+08:00', 0, '王伟'), ('k10', 'z6', '2015-03-10T09:00:00+08:00', 1, '王伟'), "
		"('k11', 'z6', '2015-04-10T09:00:00+08:00', 0, '王伟'), "
		"('k12', 'z7', '2015-02-10T09:00:00+08:00', 0, '王伟'), ('k13', 'z7', '2015-06-10T09:00:00+08:00', 1, '王伟');"));

	/* the first quarter: z1, z2, z5, z6 and z7 found failing; z1 and z6 met
	 * in March, z7 in June (after the quarter: what happened since counts) */
	test_ok(report_of(&r, city, "bj.dc", "2015-01..2015-03"));
	test_equal_i(r->nchildren, 2);
	v = figure(&r->total, "zones_rectified_key_areas");
	test_equal_i(v->value, 3);
	test_equal_i(v->base, 5);
	test_equal_i(v->met, 0);
	v = figure(&r->children[1], "zones_rectified_key_areas");   /* bj.dc.x: all put right */
	test_equal_s(r->children[1].unit, "bj.dc.x");
	test_equal_i(v->value, 1);
	test_equal_i(v->base, 1);
	test_equal_i(v->met, 1);
	/* the year: z6 failed again in April, and no check since found it met */
	test_ok(report_of(&r, city, "bj.dc", "2015"));
	v = figure(&r->total, "zones_rectified_key_areas");
	test_equal_i(v->value, 2);
	test_equal_i(v->base, 5);
	test_ok(report_of(&r, city, NULL, "2015"));
	test_equal_i(check_report(city, r), 0);
	ts_report_free(r);
	ts_node_free(city);
}

/* Supervision items: received by the target's unit, issued by the issuer's,
 * answered on time by the first answer, closed by the issuer. */
void test_report__supervision_items_to_and_by_the_units(void)
{
	ts_node *city = NULL;
	ts_report *r = NULL;
	const ts_report_unit *js;

	test_ok(init_node(&city, "city", TS_TIER_CITY, "bj", NULL));
	test_ok(sql_write(city, "INSERT INTO supervision_items (id, issued_by_node, issuer, level, target_node, "
		"subject, issued_at, due_at, status, closed_at) VALUES "
		"('s1', 'bj', '李建国', 'city', 'bj.dc', '渣土遗撒', '2015-05-01T09:00:00+08:00', "
		"'2015-05-03T09:00:00+08:00', 'closed', '2015-05-05T09:00:00+08:00'), "
		"('s2', 'bj', '李建国', 'city', 'bj.dc.jingshan', '小广告', '2015-05-01T09:00:00+08:00', "
		"'2015-05-03T09:00:00+08:00', 'answered', NULL), "
		"('s3', 'bj.dc', '张敏', 'district', 'bj.dc.jingshan', '占道经营', '2015-06-01T09:00:00+08:00', "
		"NULL, 'answered', NULL), "
		"('s4', 'bj.dc', '张敏', 'district', 'bj.dc.donghuamen', '露天烧烤', '2015-07-01T09:00:00+08:00', "
		"'2015-07-03T09:00:00+08:00', 'open', NULL), "
		"('s5', 'bj', '李建国', 'city', 'bj.dc', '去年的', '2014-07-01T09:00:00+08:00', NULL, 'open', NULL);"
		"INSERT INTO supervision_feedback (id, item_id, level, node, at, author, text) VALUES "
		"('f1', 's1', 'district', 'bj.dc', '2015-05-03T09:00:00+08:00', '张敏', '已处理'), "
		"('f2', 's2', 'street', 'bj.dc.jingshan', '2015-05-04T09:00:00+08:00', '王伟', '晚了一天'), "
		"('f3', 's3', 'street', 'bj.dc.jingshan', '2015-06-20T09:00:00+08:00', '王伟', '已整改'), "
		"('f4', 's1', 'street', 'bj.dc.jingshan', '2015-05-09T09:00:00+08:00', '王伟', '补充');"));

	test_ok(report_of(&r, city, NULL, "2015"));
	test_equal_i(figure(&r->total, "supervision_received")->value, 4);
	test_equal_i(figure(&r->total, "supervision_issued")->value, 4);
	/* s1 answered at its due time, s3 with none due; s2 a day late, s4 never */
	test_equal_i(figure(&r->total, "supervision_answered_on_time")->value, 2);
	test_equal_i(figure(&r->total, "supervision_answered_on_time")->base, 4);
	test_equal_i(figure(&r->total, "supervision_closed")->value, 1);
	test_equal_i(r->nchildren, 1);
	test_equal_i(figure(&r->children[0], "supervision_issued")->value, 2);   /* the district's two */
	test_equal_i(check_report(city, r), 0);

	/* the district: its streets appear through the items alone */
	test_ok(report_of(&r, city, "bj.dc", "2015"));
	test_equal_i(r->nchildren, 2);
	js = &r->children[1];
	test_equal_s(js->unit, "bj.dc.jingshan");
	test_equal_i(figure(js, "supervision_received")->value, 2);
	test_equal_i(figure(js, "supervision_answered_on_time")->value, 1);
	test_equal_i(figure(js, "supervision_closed")->value, 0);
	test_equal_i(figure(js, "supervision_issued")->value, 0);
	test_equal_i(figure(&r->total, "supervision_issued")->value, 2);
	test_equal_i(figure(&r->total, "supervision_received")->value, 4);
	/* the year before: only s5 */
	test_ok(report_of(&r, city, "bj.dc", "2014"));
	test_equal_i(figure(&r->total, "supervision_received")->value, 1);
	test_equal_i(figure(&r->total, "supervision_answered_on_time")->value, 0);
	ts_report_free(r);
	ts_node_free(city);
}

/* Major events: a count whose goal is zero; exposures counted by when they
 * were published, under the unit that made them. */
void test_report__major_event_cases_and_exposures(void)
{
	ts_node *city = NULL;
	ts_report *r = NULL;
	const ts_report_value *v;

	test_ok(init_node(&city, "city", TS_TIER_CITY, "bj", NULL));
	test_ok(sql_write(city, "INSERT INTO major_events (id, name, starts_at, ends_at, level, owner_node) VALUES "
		"('ev1', '田径世锦赛', '2015-08-20T00:00:00+08:00', '2015-08-31T00:00:00+08:00', 'city', 'bj');"
		"INSERT INTO cases (id, source, category, address, jurisdiction, reported_at, deadline, created_by_node, "
		"event_id) VALUES ('c1', 'patrol', 'small_ads', 'a', 'bj.dc.jingshan', '2015-08-22T09:00:00+08:00', "
		"'2015-08-25T09:00:00+08:00', 'bj', 'ev1'), ('c2', 'patrol', 'small_ads', 'b', 'bj.xc', "
		"'2015-08-22T09:00:00+08:00', '2015-08-25T09:00:00+08:00', 'bj', NULL), ('c3', 'media', 'small_ads', "
		"'c', 'bj.xc', '2015-03-22T09:00:00+08:00', '2015-03-25T09:00:00+08:00', 'bj', NULL);"
		"INSERT INTO exposures (id, jurisdiction, case_id, outlet, title, published_at, made_by) VALUES "
		"('x1', 'bj.dc.jingshan', 'c1', '北京日报', '景山小广告', '2015-08-25T09:00:00+08:00', '王伟'), "
		"('x2', 'bj.dc', NULL, '北京电视台', '渣土遗撒', '2015-09-01T09:00:00+08:00', '张敏'), "
		"('x3', 'bj.dc', NULL, '北京电视台', '去年', '2014-09-01T09:00:00+08:00', '张敏'), "
		"('x4', 'bj', NULL, '北京晚报', '全市', '2015-10-01T09:00:00+08:00', '李建国');"));

	test_ok(report_of(&r, city, NULL, "2015"));
	test_equal_i(r->nchildren, 2);
	v = figure(&r->total, "major_event_cases");
	test_equal_i(v->value, 1);
	test_equal_i(v->met, 0);
	test_equal_i(r->total.nevents, 1);
	test_equal_s(r->total.events[0].id, "ev1");
	test_equal_s(r->total.events[0].name, "田径世锦赛");
	test_equal_i(r->total.events[0].cases, 1);
	test_equal_i(r->children[1].nevents, 0);
	test_equal_s(r->children[0].unit, "bj.dc");
	test_equal_i(figure(&r->children[0], "major_event_cases")->met, 0);
	test_equal_s(r->children[1].unit, "bj.xc");
	test_equal_i(figure(&r->children[1], "major_event_cases")->value, 0);
	test_equal_i(figure(&r->children[1], "major_event_cases")->met, 1);
	test_equal_i(figure(&r->total, "exposures_made")->value, 3);
	test_equal_i(figure(&r->children[0], "exposures_made")->value, 2);
	test_equal_i(figure(&r->children[1], "exposures_made")->value, 0);
	test_equal_i(figure(&r->children[1], "media_exposures")->value, 1);
	test_equal_i(check_report(city, r), 0);
	/* outside the event's weeks, nothing happened */
	test_ok(report_of(&r, city, NULL, "2015-09..2015-12"));
	test_equal_i(figure(&r->total, "major_event_cases")->met, 1);
	test_equal_i(figure(&r->total, "exposures_made")->value, 2);
	ts_report_free(r);
	ts_node_free(city);
}
