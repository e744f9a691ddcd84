/*
 * Unit tests of the schema check (sync/schema_compare.c, node/schema_check.c):
 * a trigger, index or view added, dropped or changed behind the node's back,
 * or a table definition edited through PRAGMA writable_schema, is listed by
 * verify and stops commits until the schema is what the migrations made.
 */
#include "harness.h"

#include <stdlib.h>

#include <git2.h>
#include <sqlite3.h>

#include "history.h"
#include "schema.h"
#include "schema_compare.h"
#include "tiersync.h"

#define NODE_ID "bj.dc.jingshan"

static int new_node(ts_node **out, const char *path)
{
	ts_init_options opts = { TS_INIT_OPTIONS_VERSION, TS_TIER_STREET, NODE_ID, NULL, "王伟", NULL };
	return ts_node_init(out, path, &opts);
}

/* Runs `sql` on the node's database through a connection of its own, as
 * the sqlite3 shell would. */
static int behind_the_back(const char *node_path, const char *sql)
{
	char path[512];
	sqlite3 *db = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/tiersync.db", node_path);
	if (sqlite3_open(path, &db) != SQLITE_OK) {
		sqlite3_close(db);
		return -1;
	}
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		fprintf(stderr, "    %s\n", sqlite3_errmsg(db));
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

typedef struct {
	int n;
	int schema;             /* problems whose table is "schema" */
	char key[128];          /* of the first schema problem */
	char problem[128];
	int has_expected, has_actual;
	char actual[4096];
} problems;

static int collect(const ts_verify_problem *p, void *payload)
{
	problems *ps = payload;
	ps->n++;
	if (p->table && !strcmp(p->table, "schema") && ps->schema++ == 0) {
		snprintf(ps->key, sizeof(ps->key), "%s", p->key);
		snprintf(ps->problem, sizeof(ps->problem), "%s", p->problem);
		ps->has_expected = p->expected != NULL;
		ps->has_actual = p->actual != NULL;
		snprintf(ps->actual, sizeof(ps->actual), "%s", p->actual ? p->actual : "");
	}
	return 0;
}

static int set_description(ts_node *node, const char *case_id, const char *text)
{
	ts_field f = { "description", text };
	return ts_case_update(node, "李娜", case_id, &f, 1);
}

static long long count_rows(ts_node *node, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long long n = -1;
	if (sqlite3_prepare_v2(ts_node_db(node), sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

void test_schema_check__fresh_node_matches(void)
{
	ts_node *node = NULL;
	char *id = NULL, commit[41];
	problems ps = { 0 };

	test_ok(new_node(&node, "n"));
	test_equal_i(ts_node_verify(node, collect, &ps), 0);
	test_equal_i(ps.n, 0);
	test_ok(ts_case_new(&id, node, "王伟", "small_ads", "patrol", "景山前街 4号", NULL, 0));
	test_ok(ts_node_commit(commit, node, "one case", NULL));
	ts_node_free(node);
	/* statistics are SQLite's own (sqlite_stat1): not part of the schema */
	test_ok(behind_the_back("n", "ANALYZE;"));
	test_ok(ts_node_open(&node, "n"));
	test_equal_i(ts_node_verify(node, collect, &ps), 0);
	test_ok(set_description(node, id, "seen"));
	test_ok(ts_node_commit(commit, node, "after analyze", NULL));
	free(id);
	ts_node_free(node);
}

void test_schema_check__planted_trigger_refused_and_listed(void)
{
	ts_node *node = NULL;
	char *id = NULL, head[41], after[41], commit[41];
	problems ps = { 0 };
	long long patrols_before;

	test_ok(new_node(&node, "n"));
	test_ok(ts_case_new(&id, node, "王伟", "small_ads", "patrol", "景山前街 4号", NULL, 0));
	test_ok(ts_node_commit(head, node, "one case", NULL));
	patrols_before = count_rows(node, "SELECT count(*) FROM patrols");
	ts_node_free(node);
	test_ok(behind_the_back("n", "CREATE TRIGGER planted AFTER UPDATE ON cases BEGIN "
		"INSERT INTO patrols (id, officers, jurisdiction, started_at) VALUES "
		"('planted_' || new.rowid, 'x', new.jurisdiction, '2015-01-01T00:00:00+08:00'); END;"));
	test_ok(ts_node_open(&node, "n"));

	test_ok(set_description(node, id, "changed"));
	test_equal_i(count_rows(node, "SELECT count(*) FROM patrols"), patrols_before + 1);   /* it fired */
	test_equal_i(ts_node_commit(commit, node, "with the trigger's write", NULL), TS_ECORRUPT);
	test_assert(strstr(ts_error_last(), "planted") && strstr(ts_error_last(), "trigger"));
	test_assert(strstr(ts_error_last(), "verify lists"));
	test_assert(!strchr(ts_error_last(), '\n'));
	test_ok(ts_node_head(after, node));
	test_equal_s(after, head);   /* nothing recorded */

	test_equal_i(ts_node_verify(node, collect, &ps), TS_ECORRUPT);
	test_equal_i(ps.schema, 1);
	test_equal_s(ps.key, "planted");
	test_equal_s(ps.problem, "trigger added outside tiersync");
	test_assert(!ps.has_expected && ps.has_actual && strstr(ps.actual, "CREATE TRIGGER planted"));
	test_assert(strstr(ts_error_last(), "schema"));
	free(id);
	ts_node_free(node);
}

void test_schema_check__index_view_and_table_changes_listed(void)
{
	ts_node *node = NULL;
	problems ps = { 0 };

	test_ok(new_node(&node, "n"));
	ts_node_free(node);

	test_ok(behind_the_back("n", "DROP INDEX cases_status;"));
	test_ok(ts_node_open(&node, "n"));
	test_equal_i(ts_node_verify(node, collect, &ps), TS_ECORRUPT);
	test_equal_i(ps.schema, 1);
	test_equal_s(ps.key, "cases_status");
	test_equal_s(ps.problem, "index dropped");
	test_assert(ps.has_expected && !ps.has_actual);
	ts_node_free(node);

	/* put back as it was: nothing to report */
	test_ok(behind_the_back("n", "CREATE INDEX cases_status ON cases (status);"));
	test_ok(ts_node_open(&node, "n"));
	memset(&ps, 0, sizeof(ps));
	test_equal_i(ts_node_verify(node, collect, &ps), 0);
	ts_node_free(node);

	test_ok(behind_the_back("n", "CREATE VIEW open_cases AS SELECT id FROM cases WHERE status <> 'closed';"));
	test_ok(ts_node_open(&node, "n"));
	memset(&ps, 0, sizeof(ps));
	test_equal_i(ts_node_verify(node, collect, &ps), TS_ECORRUPT);
	test_equal_s(ps.key, "open_cases");
	test_equal_s(ps.problem, "view added outside tiersync");
	ts_node_free(node);
	test_ok(behind_the_back("n", "DROP VIEW open_cases;"));

	/* a CHECK taken out of a table's definition through writable_schema */
	test_ok(behind_the_back("n", "PRAGMA writable_schema = ON; UPDATE sqlite_master SET sql = "
		"replace(sql, 'CHECK (satisfaction IN (''satisfied'', ''basically_satisfied'', ''dissatisfied''))', '') "
		"WHERE name = 'cases'; PRAGMA writable_schema = OFF;"));
	test_ok(ts_node_open(&node, "n"));
	memset(&ps, 0, sizeof(ps));
	test_equal_i(ts_node_verify(node, collect, &ps), TS_ECORRUPT);
	test_equal_i(ps.schema, 1);
	test_equal_s(ps.key, "cases");
	test_equal_s(ps.problem, "table definition changed");
	test_assert(ps.has_expected && ps.has_actual && !strstr(ps.actual, "basically_satisfied"));
	ts_node_free(node);
}

void test_schema_check__commit_again_once_restored(void)
{
	ts_node *node = NULL;
	char *id = NULL, commit[41];

	test_ok(new_node(&node, "n"));
	test_ok(ts_case_new(&id, node, "王伟", "small_ads", "patrol", "景山前街 4号", NULL, 0));
	ts_node_free(node);
	test_ok(behind_the_back("n", "DROP TRIGGER evidence_no_update;"));
	test_ok(ts_node_open(&node, "n"));
	test_equal_i(ts_node_commit(commit, node, "refused", NULL), TS_ECORRUPT);
	test_assert(strstr(ts_error_last(), "evidence_no_update") && strstr(ts_error_last(), "dropped"));
	ts_node_free(node);
	test_ok(behind_the_back("n", "CREATE TRIGGER evidence_no_update BEFORE UPDATE ON evidence "
		"BEGIN SELECT RAISE(ABORT, 'x'); END;"));
	test_ok(ts_node_open(&node, "n"));
	/* same name, other body: still not the migrations' trigger */
	test_equal_i(ts_node_commit(commit, node, "refused", NULL), TS_ECORRUPT);
	test_assert(strstr(ts_error_last(), "trigger definition changed"));
	ts_node_free(node);
	test_ok(behind_the_back("n", "DROP TRIGGER evidence_no_update;"));
	test_ok(ts_node_open(&node, "n"));
	{
		/* the migration's own text, read from a fresh node */
		ts_node *fresh = NULL;
		sqlite3_stmt *st = NULL;
		char sql[1024] = "";
		test_ok(new_node(&fresh, "fresh"));
		test_assert(sqlite3_prepare_v2(ts_node_db(fresh), "SELECT sql FROM sqlite_master WHERE "
			"name = 'evidence_no_update'", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW);
		snprintf(sql, sizeof(sql), "%s;", (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		ts_node_free(fresh);
		test_assert(sqlite3_exec(ts_node_db(node), sql, NULL, NULL, NULL) == SQLITE_OK);
	}
	test_ok(ts_node_commit(commit, node, "the schema is whole again", NULL));
	test_equal_i(ts_node_verify(node, NULL, NULL), 0);
	free(id);
	ts_node_free(node);
}

/* The engine's comparison alone: creation order does not matter, SQLite's
 * internal objects are left out, and each difference is one problem. */
void test_schema_check__compare_generic(void)
{
	sqlite3 *a = NULL, *b = NULL;
	ts_schema_ref *ref = NULL;
	problems ps = { 0 };
	int n = -1;

	test_assert(sqlite3_open(":memory:", &a) == SQLITE_OK && sqlite3_open(":memory:", &b) == SQLITE_OK);
	test_assert(sqlite3_exec(a, "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT UNIQUE);"
		"CREATE TABLE u (k TEXT PRIMARY KEY);"
		"CREATE INDEX t_v ON t (v);", NULL, NULL, NULL) == SQLITE_OK);
	test_assert(sqlite3_exec(b, "CREATE TABLE u (k TEXT PRIMARY KEY);"
		"CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT UNIQUE);"
		"CREATE INDEX t_v ON t (v); INSERT INTO t (v) VALUES ('x'); ANALYZE;", NULL, NULL, NULL) == SQLITE_OK);
	test_ok(ts_schema__ref_new(&ref, a));
	test_equal_i(ts_schema__check(ref, b), 0);
	test_ok(ts_schema__compare(&n, ref, b, collect, &ps));
	test_equal_i(n, 0);

	test_assert(sqlite3_exec(b, "DROP INDEX t_v; CREATE INDEX t_v ON t (v DESC);"
		"CREATE TRIGGER w AFTER INSERT ON t BEGIN DELETE FROM u; END; DROP TABLE u;", NULL, NULL, NULL) == SQLITE_OK);
	test_equal_i(ts_schema__check(ref, b), TS_ECORRUPT);
	test_assert(strstr(ts_error_last(), ", and more)"));
	test_ok(ts_schema__compare(&n, ref, b, collect, &ps));
	test_equal_i(n, 3);   /* t_v changed, u dropped, w added */
	test_equal_i(ps.schema, 3);
	ts_schema__ref_free(ref);
	sqlite3_close(a);
	sqlite3_close(b);
}

/* The rows the build compiled in (schema/expected_gen.c) are those the
 * engine's setup and the migrations make in this process: the same
 * objects, in the same order, byte for byte, at the newest version. */
void test_schema_check__compiled_rows_are_what_migrations_make(void)
{
	sqlite3 *db = NULL;
	ts_schema_ref *made = NULL, *compiled = NULL;
	size_t i;
	int version = 0, problems = -1, f, differ = 0;

	test_assert(sqlite3_open(":memory:", &db) == SQLITE_OK);
	test_ok(ts_history__setup(db));
	test_ok(ts_schema__migrate(db, &version));
	test_equal_i(ts_schema_expected_version, version);
	test_equal_i(ts_schema_expected_version, ts_schema__latest());
	test_ok(ts_schema__ref_new(&made, db));
	test_ok(ts_schema__ref_from(&compiled, ts_schema_expected, ts_schema_expected_count));
	test_equal_i((int)ts_schema__ref_count(compiled), (int)ts_schema__ref_count(made));
	test_assert(ts_schema__ref_count(made) > 50);
	for (i = 0; i < ts_schema__ref_count(made); i++)
		for (f = 0; f < 4; f++) {
			const char *a = ts_schema__ref_field(made, i, f), *b = ts_schema__ref_field(compiled, i, f);
			if (a != b && (!a || !b || strcmp(a, b))) {
				if (differ++ == 0)
					fprintf(stderr, "    object %zu field %d: made %s, compiled %s\n", i, f,
						a ? a : "NULL", b ? b : "NULL");
			}
		}
	test_equal_i(differ, 0);
	/* and the check itself takes them as equal, in order */
	test_ok(ts_schema__check(compiled, db));
	test_ok(ts_schema__compare(&problems, compiled, db, NULL, NULL));
	test_equal_i(problems, 0);

	/* a trigger more is a difference to the compiled rows too */
	test_assert(sqlite3_exec(db, "CREATE TRIGGER planted AFTER INSERT ON cases BEGIN SELECT 1; END",
		NULL, NULL, NULL) == SQLITE_OK);
	test_equal_i(ts_schema__check(compiled, db), TS_ECORRUPT);

	ts_schema__ref_free(made);
	ts_schema__ref_free(compiled);
	sqlite3_close(db);
}
