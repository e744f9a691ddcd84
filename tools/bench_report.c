/*
 * bench_report.c: (i) the figures of `tiersync report` (docs/REPORT.md) on
 * a district of 1,000,000 cases.
 *
 * The nodes hold bench_rows.c's cases (two years, 2023 and 2024), their
 * jurisdictions spread evenly over 16 streets (bj.dc.s00 .. bj.dc.s15), and
 * the same cases over 4 streets in a second node. The report only reads,
 * so the cases are written into each fresh node's database by plain SQL,
 * not through ts_node_write(): an INSERT of the rows, then one UPDATE of
 * their jurisdiction (the index on it dropped meanwhile and made again as
 * the schema has it). TS_BENCH_KEEP=1 keeps the nodes.
 *
 * In one forked child, in alternating rounds: ts_report_compute() for
 * 2024 at 16 units, the baseline at 16 units (one plain SQLite
 * `SELECT jurisdiction, category, count(*) ... GROUP BY jurisdiction,
 * category` of the same period, on its own connection), and the report at
 * 4 units. The figures are medians:
 *   report_1m_ms          the report, 16 units
 *   report_vs_scan_ratio  report_1m_ms / the baseline        goal <= 3
 *   report_units_ratio    the report at 16 units / at 4 units goal <= 1.3
 */
#include <sqlite3.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench.h"

#define REPORT_FROM "2024-01-01T00:00:00+08:00"
#define REPORT_TO   "2025-01-01T00:00:00+08:00"
#define REPORT_ROUNDS 5

typedef struct {
	const char *dir;
	uint64_t n;
	int units;
} report_node_args;

/* A fresh district node at dir whose n cases are spread over `units` streets. */
static void child_build_report_node(int fd, const void *arg)
{
	const report_node_args *a = arg;
	ts_init_options o = { TS_INIT_OPTIONS_VERSION, TS_TIER_DISTRICT, NODE_ID, NULL, AUTHOR, NULL };
	ts_node *node = NULL;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *path, *index_sql, *update;
	double t0 = now_ms(), v;

	if (ts_node_init(&node, a->dir, &o) < 0)
		ts_die(a->dir);
	ts_node_free(node);
	path = path_in(a->dir, "tiersync.db");
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		die("opening %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
	if (sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_master WHERE name = 'cases_jurisdiction'", -1, &st,
			NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
		sql_die(db, "the index cases_jurisdiction");
	if (!(index_sql = strdup((const char *)sqlite3_column_text(st, 0))))
		die("out of memory");
	sqlite3_finalize(st);
	exec_or_die(db, "PRAGMA synchronous = OFF");
	exec_or_die(db, "BEGIN");
	exec_or_die(db, "DROP INDEX cases_jurisdiction");
	if (insert_cases(db, 0, a->n) < 0)
		die("inserting the cases");
	update = sqlite3_mprintf("UPDATE cases SET jurisdiction = printf('" NODE_ID ".s%%02d', rowid %% %d)", a->units);
	exec_or_die(db, update);
	exec_or_die(db, index_sql);
	exec_or_die(db, "COMMIT");
	sqlite3_free(update);
	free(index_sql);
	sqlite3_close(db);
	free(path);
	v = now_ms() - t0;
	put(fd, &v, 1);
}

/* One report of 2024 on the node; its time in ms. */
static double time_report(ts_node *node)
{
	ts_report *r = NULL;
	double t0 = now_ms(), t;

	if (ts_report_compute(&r, node, NULL, REPORT_FROM, REPORT_TO) < 0)
		ts_die("ts_report_compute");
	t = now_ms() - t0;
	if (!r->total.values[0].value)
		die("the report found no cases");
	ts_report_free(r);
	return t;
}

/* The baseline: one grouped scan of the period; its time in ms. */
static double time_scan(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	double t0 = now_ms();
	int64_t found = 0;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT jurisdiction, category, count(*) FROM cases "
			"WHERE reported_at BETWEEN ?1 AND ?2 GROUP BY jurisdiction, category", -1, &st, NULL) != SQLITE_OK)
		sql_die(db, "the baseline");
	sqlite3_bind_text(st, 1, REPORT_FROM, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, REPORT_TO, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		found += sqlite3_column_int64(st, 2);
	if (rc != SQLITE_DONE || !found)
		sql_die(db, "the baseline");
	sqlite3_finalize(st);
	return now_ms() - t0;
}

typedef struct {
	const char *dir_16, *dir_4;
} report_time_args;

/* Writes, per round: the report at 16 units, the baseline, the report at 4. */
static void child_time_reports(int fd, const void *arg)
{
	const report_time_args *a = arg;
	ts_node *n16 = open_node(a->dir_16), *n4 = open_node(a->dir_4);
	char *path = path_in(a->dir_16, "tiersync.db");
	sqlite3 *plain = NULL;
	double v[3];
	int round;

	if (sqlite3_open_v2(path, &plain, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		die("opening %s", path);
	/* a first round of each, untimed, reads the pages in */
	time_report(n16);
	time_scan(plain);
	time_report(n4);
	for (round = 0; round < REPORT_ROUNDS; round++) {
		v[0] = time_report(n16);
		v[1] = time_scan(plain);
		v[2] = time_report(n4);
		put(fd, v, 3);
	}
	sqlite3_close(plain);
	free(path);
	ts_node_free(n16);
	ts_node_free(n4);
}

void bench_report_run(report_figures *out, const char *dir)
{
	char *dir_16 = path_in(dir, "node-report-16"), *dir_4 = path_in(dir, "node-report-4");
	report_node_args b16 = { dir_16, n_1m, 16 }, b4 = { dir_4, n_1m, 4 };
	report_time_args t = { dir_16, dir_4 };
	samples r16 = { 0 }, scan = { 0 }, r4 = { 0 };
	child_result res;
	size_t i;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		die("creating %s: %s", dir, strerror(errno));
	fprintf(stderr, "bench: (i) building two report nodes of %llu cases (16 and 4 units)\n",
		(unsigned long long)n_1m);
	run_child(&res, "building the 16-unit report node", child_build_report_node, &b16);
	out->build_ms = res.v[0];
	free(res.v);
	run_child(&res, "building the 4-unit report node", child_build_report_node, &b4);
	out->build_ms += res.v[0];
	free(res.v);
	fprintf(stderr, "bench: (i) the report, %d rounds\n", REPORT_ROUNDS);
	run_child(&res, "the reports", child_time_reports, &t);
	for (i = 0; i + 2 < res.n; i += 3) {
		add(&r16, res.v[i]);
		add(&scan, res.v[i + 1]);
		add(&r4, res.v[i + 2]);
	}
	out->report_ms = quantile(&r16, 0.5);
	out->scan_ms = quantile(&scan, 0.5);
	out->report_4_ms = quantile(&r4, 0.5);
	out->rss_kb = res.ru.ru_maxrss;
	free(res.v);
	free(r16.v);
	free(scan.v);
	free(r4.v);
	if (!getenv("TS_BENCH_KEEP") || !strcmp(getenv("TS_BENCH_KEEP"), "0")) {
		remove_dir(dir_16);
		remove_dir(dir_4);
	}
	free(dir_16);
	free(dir_4);
}

void bench_report_print(const report_figures *f)
{
	printf("# (i) tiersync report of 2024, median of %d rounds, %llu cases over 16 units (and over 4)\n",
		REPORT_ROUNDS, (unsigned long long)n_1m);
	figure("report_1m_ms", f->report_ms);
	figure("report_scan_1m_ms", f->scan_ms);
	figure("report_vs_scan_ratio", f->report_ms / f->scan_ms);
	figure("report_4_units_1m_ms", f->report_4_ms);
	figure("report_units_ratio", f->report_ms / f->report_4_ms);
	figure("report_build_nodes_ms", f->build_ms);
	figure_kb("peak_rss_report_kb", f->rss_kb);
}
