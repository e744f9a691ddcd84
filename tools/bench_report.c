/*
 * bench_report.c: (i) the figures of `tiersync report` (docs/REPORT.md) on
 * a district of 1,000,000 cases.
 *
 * The nodes hold bench_rows.c's cases (two years, 2023 and 2024), their
 * jurisdictions spread evenly over 16 streets (bj.dc.s00 .. bj.dc.s15), and
 * the same cases over 4 streets in a second node, each in the order of
 * their report time, as a node takes them in. The report only reads, so
 * the cases are written into each fresh node's database by plain SQL, not
 * through ts_node_write(): the rows made once into a temporary table, then
 * one INSERT ... SELECT into each node (the index on jurisdiction dropped
 * meanwhile and made again as the schema has it). TS_BENCH_KEEP=1 keeps
 * the nodes.
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
#define REPORT_ROUNDS 3

typedef struct {
	const char *dir_16, *dir_4;
	uint64_t n;
} report_build_args;

/* "CREATE INDEX schema.name ..." from the schema's own "CREATE INDEX name ...". */
static char *index_in(const char *schema, const char *index_sql)
{
	const char *name = index_sql + strlen("CREATE INDEX ");
	return sqlite3_mprintf("CREATE INDEX %s.%s", schema, name);
}

/* The two fresh district nodes, with the same n cases spread over 16 and
 * over 4 streets, in the order of their report time, as a node takes them
 * in. The rows are made once, into a temporary table that shadows the
 * node's own `cases` for insert_cases(). */
static void child_build_report_nodes(int fd, const void *arg)
{
	const report_build_args *a = arg;
	ts_init_options o = { TS_INIT_OPTIONS_VERSION, TS_TIER_DISTRICT, NODE_ID, NULL, AUTHOR, NULL };
	ts_node *node = NULL;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *path, *path_4, *sql, *index_sql;
	double t0 = now_ms(), v;

	if (ts_node_init(&node, a->dir_16, &o) < 0)
		ts_die(a->dir_16);
	ts_node_free(node);
	if (ts_node_init(&node, a->dir_4, &o) < 0)
		ts_die(a->dir_4);
	ts_node_free(node);
	path = path_in(a->dir_16, "tiersync.db");
	path_4 = path_in(a->dir_4, "tiersync.db");
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		die("opening %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
	if (sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_master WHERE name = 'cases_jurisdiction'", -1, &st,
			NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
		sql_die(db, "the index cases_jurisdiction");
	if (!(index_sql = strdup((const char *)sqlite3_column_text(st, 0))))
		die("out of memory");
	sqlite3_finalize(st);
	sql = sqlite3_mprintf("ATTACH %Q AS four", path_4);
	exec_or_die(db, sql);
	sqlite3_free(sql);
	exec_or_die(db, "PRAGMA main.synchronous = OFF; PRAGMA four.synchronous = OFF");
	exec_or_die(db, "CREATE TEMP TABLE cases AS SELECT * FROM main.cases WHERE 0");
	exec_or_die(db, "BEGIN");
	if (insert_cases(db, 0, a->n) < 0)
		die("inserting the cases");
	exec_or_die(db, "DROP INDEX main.cases_jurisdiction; DROP INDEX four.cases_jurisdiction");
	/* the table made by CREATE ... AS has no defaults: major's is 0 */
	exec_or_die(db, "UPDATE temp.cases SET jurisdiction = printf('" NODE_ID ".s%02d', rowid % 16), "
		"major = coalesce(major, 0)");
	exec_or_die(db, "INSERT INTO main.cases SELECT * FROM temp.cases ORDER BY reported_at");
	exec_or_die(db, "UPDATE temp.cases SET jurisdiction = printf('" NODE_ID ".s%02d', rowid % 4)");
	exec_or_die(db, "INSERT INTO four.cases SELECT * FROM temp.cases ORDER BY reported_at");
	sql = index_in("main", index_sql);
	exec_or_die(db, sql);
	sqlite3_free(sql);
	sql = index_in("four", index_sql);
	exec_or_die(db, sql);
	sqlite3_free(sql);
	exec_or_die(db, "COMMIT");
	free(index_sql);
	sqlite3_close(db);
	free(path);
	free(path_4);
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
	report_build_args b = { dir_16, dir_4, n_1m };
	report_time_args t = { dir_16, dir_4 };
	samples r16 = { 0 }, scan = { 0 }, r4 = { 0 };
	child_result res;
	size_t i;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		die("creating %s: %s", dir, strerror(errno));
	fprintf(stderr, "bench: (i) building two report nodes of %llu cases (16 and 4 units)\n",
		(unsigned long long)n_1m);
	run_child(&res, "building the report nodes", child_build_report_nodes, &b);
	out->build_ms = res.v[0];
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
