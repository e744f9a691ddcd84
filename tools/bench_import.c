/*
 * bench_import.c: (c) import, against a plain SQLite insert of the same
 * rows: import_rows_per_s, import_ms, import_write_ms, import_commit_ms,
 * sqlite_insert_rows_per_s, sqlite_insert_ms, sqlite_insert_wal_rows_per_s
 * and import_vs_sqlite_ratio; and the peak RSS of the import child, which
 * main() prints as (d)'s peak_rss_c_kb.
 *
 * The node: a fresh ts_node_init (not timed), then one ts_node_write()
 * whose callback inserts the 100,000 cases, then one ts_node_commit(),
 * timed from the call of the write to the return of the commit. Plain
 * SQLite: fresh databases with the node's schema (rollback journal, and
 * WAL), the same INSERTs timed from BEGIN to the return of COMMIT. Those
 * databases stay as the baselines of (a). child_build() also builds the
 * nodes of (b) in batches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* The node's side of (c), and how (b) builds its nodes (build_args in
 * bench.h). */
void child_build(int fd, const void *arg)
{
	const build_args *a = arg;
	ts_init_options opts = { TS_INIT_OPTIONS_VERSION, TS_TIER_DISTRICT, NODE_ID, NULL, AUTHOR, NULL };
	ts_node *node = NULL;
	char head[41], msg[96];
	double start = now_ms();
	uint64_t from;

	if (ts_node_init(&node, a->dir, &opts) < 0)
		ts_die("ts_node_init");
	for (from = 0; from < a->n; from += a->batch) {
		range r = { from, from + a->batch < a->n ? from + a->batch : a->n };
		double t0 = now_ms(), t1, t2, v[2];
		snprintf(msg, sizeof(msg), "import cases %llu..%llu",
			(unsigned long long)r.from + 1, (unsigned long long)r.to);
		if (ts_node_write(node, AUTHOR, msg, insert_cb, &r) != 0)
			ts_die("ts_node_write (import)");
		t1 = now_ms();
		if (ts_node_commit(head, node, msg, NULL) < 0)
			ts_die("ts_node_commit (import)");
		t2 = now_ms();
		v[0] = t1 - t0;
		v[1] = t2 - t1;
		put(fd, v, 2);
		if (a->n > a->batch) {
			char rss[128];
			describe_rss(rss, sizeof(rss));
			fprintf(stderr, "bench: %s: %llu/%llu cases (write %.0f ms, commit %.0f ms, %.0f s so far; %s)\n",
				a->label, (unsigned long long)r.to, (unsigned long long)a->n, v[0], v[1],
				(now_ms() - start) / 1e3, rss);
		}
	}
	ts_node_free(node);
}

/* ---- plain SQLite baselines ------------------------------------------ */

sqlite3 *open_plain(const char *path, const char *journal_mode)
{
	sqlite3 *db = NULL;
	char sql[128];

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
		die("opening %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
	snprintf(sql, sizeof(sql), "PRAGMA journal_mode = %s; PRAGMA synchronous = FULL; "
		"PRAGMA foreign_keys = ON;", journal_mode);
	exec_or_die(db, sql);
	return db;
}

/* Gives `db` the synced tables of a fresh node, with their indexes,
 * triggers and reference rows (sources, categories), read from the node's
 * own database, so the baseline has exactly the product's schema. */
static void copy_schema(sqlite3 *db, const char *node_db)
{
	sqlite3_stmt *st = NULL;
	char **sql = NULL, **tables = NULL, *attach;
	size_t nsql = 0, ntables = 0, i;

	attach = sqlite3_mprintf("ATTACH %Q AS src", node_db);
	exec_or_die(db, attach);
	sqlite3_free(attach);
	if (sqlite3_prepare_v2(db,
			"SELECT type, name, sql FROM src.sqlite_master WHERE sql IS NOT NULL "
			"AND tbl_name NOT LIKE 'ts\\_%' ESCAPE '\\' AND tbl_name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
			"AND tbl_name NOT LIKE '\\_tiersync%' ESCAPE '\\' "
			"ORDER BY type <> 'table', rowid", -1, &st, NULL) != SQLITE_OK)
		sql_die(db, "reading the node's schema");
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (!(sql = realloc(sql, (nsql + 1) * sizeof(*sql))) ||
		    !(sql[nsql++] = strdup((const char *)sqlite3_column_text(st, 2))))
			die("out of memory");
		if (!strcmp((const char *)sqlite3_column_text(st, 0), "table")) {
			if (!(tables = realloc(tables, (ntables + 1) * sizeof(*tables))) ||
			    !(tables[ntables++] = strdup((const char *)sqlite3_column_text(st, 1))))
				die("out of memory");
		}
	}
	sqlite3_finalize(st);
	exec_or_die(db, "BEGIN");
	for (i = 0; i < nsql; i++) {
		exec_or_die(db, sql[i]);
		free(sql[i]);
	}
	for (i = 0; i < ntables; i++) {
		char *copy = sqlite3_mprintf("INSERT INTO main.\"%w\" SELECT * FROM src.\"%w\"", tables[i], tables[i]);
		exec_or_die(db, copy);
		sqlite3_free(copy);
		free(tables[i]);
	}
	exec_or_die(db, "COMMIT");
	exec_or_die(db, "DETACH src");
	free(sql);
	free(tables);
	if (ntables == 0)
		die("the node's database has no tables to copy");
}

/* (c) baseline: fresh databases with the node's schema, n cases inserted in
 * one transaction, timed from BEGIN to the end of COMMIT; once with the
 * default rollback journal, once in WAL mode. The databases stay, as the
 * baselines of (a). Writes: rollback ms, WAL ms. */
typedef struct {
	const char *scratch;
	uint64_t n;
} insert_args;

static void child_sqlite_insert(int fd, const void *arg)
{
	const insert_args *a = arg;
	ts_init_options opts = { TS_INIT_OPTIONS_VERSION, TS_TIER_DISTRICT, NODE_ID, NULL, AUTHOR, NULL };
	static const char *const modes[2][2] = { { "base-rollback.db", "DELETE" }, { "base-wal.db", "WAL" } };
	char *tmpl = path_in(a->scratch, "template"), *tmpl_db;
	ts_node *node = NULL;
	double v[2];
	int m;

	/* a fresh node, only to read its schema */
	if (ts_node_init(&node, tmpl, &opts) < 0)
		ts_die("ts_node_init (template)");
	ts_node_free(node);
	tmpl_db = path_in(tmpl, "tiersync.db");
	for (m = 0; m < 2; m++) {
		char *path = path_in(a->scratch, modes[m][0]);
		sqlite3 *db = open_plain(path, modes[m][1]);
		double t0;
		copy_schema(db, tmpl_db);
		t0 = now_ms();
		exec_or_die(db, "BEGIN");
		if (insert_cases(db, 0, a->n) < 0)
			die("plain SQLite insert failed");
		exec_or_die(db, "COMMIT");
		v[m] = now_ms() - t0;
		sqlite3_close(db);
		free(path);
	}
	put(fd, v, 2);
	free(tmpl_db);
	free(tmpl);
}

/* ---- (c): the run and its figures ------------------------------------ */

void bench_import(const char *dir_100k, long *rss_c, double *sqlite_insert_ms)
{
	child_result res;
	double import_write, import_commit, import_ms, plain_ms, plain_wal_ms;

	fprintf(stderr, "bench: (c) importing %llu cases into a fresh node in one commit\n", (unsigned long long)n_100k);
	{
		build_args b = { dir_100k, "import", n_100k, n_100k };
		run_child(&res, "the import", child_build, &b);
		if (res.n != 2)
			die("the import reported %zu values", res.n);
		import_write = res.v[0];
		import_commit = res.v[1];
		import_ms = import_write + import_commit;
		*rss_c = res.ru.ru_maxrss;
		free(res.v);
	}
	fprintf(stderr, "bench: (c) plain SQLite insert of the same rows\n");
	{
		insert_args b = { scratch, n_100k };
		run_child(&res, "the plain SQLite insert", child_sqlite_insert, &b);
		if (res.n != 2)
			die("the plain SQLite insert reported %zu values", res.n);
		*sqlite_insert_ms = plain_ms = res.v[0];
		plain_wal_ms = res.v[1];
		free(res.v);
	}
	printf("# (c) import of %llu cases in one commit\n", (unsigned long long)n_100k);
	figure("import_rows_per_s", (double)n_100k / (import_ms / 1e3));
	figure("sqlite_insert_rows_per_s", (double)n_100k / (plain_ms / 1e3));
	figure("import_vs_sqlite_ratio", plain_ms / import_ms);
	figure("import_ms", import_ms);
	figure("import_write_ms", import_write);
	figure("import_commit_ms", import_commit);
	figure("sqlite_insert_ms", plain_ms);
	figure("sqlite_insert_wal_rows_per_s", (double)n_100k / (plain_wal_ms / 1e3));
}
