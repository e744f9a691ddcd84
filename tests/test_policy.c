/*
 * Unit tests of the declared merge policies (sync/policy.c): loading
 * sync_policies from the migrated case schema and from other schemas,
 * refusing malformed declarations, each policy's choice on values, whole-
 * row conflicts, settling, lookups that fall back to '*' and to the
 * default, symmetry between the two nodes of a merge, and merges of trees
 * through ts_merge__trees with ts_policy__decide.
 */
#include "harness.h"
#include "history.h"

#include <stdint.h>
#include <stdlib.h>

#include <git2.h>
#include <sqlite3.h>

#include "merge.h"
#include "policy.h"
#include "rowcodec.h"
#include "schema.h"
#include "store.h"
#include "tiersync.h"

#define STATUS_ORDER "order:discovered,dispatched,handling,feedback,closed,transferred"

/*
 * Values and decisions.
 */

static ts_value v_null(void)
{
	ts_value v;
	memset(&v, 0, sizeof(v));
	v.type = SQLITE_NULL;
	return v;
}

static ts_value v_int(int64_t i)
{
	ts_value v = v_null();
	v.type = SQLITE_INTEGER;
	v.i = i;
	return v;
}

static ts_value v_real(double r)
{
	ts_value v = v_null();
	v.type = SQLITE_FLOAT;
	v.r = r;
	return v;
}

static ts_value v_text(const char *s)
{
	ts_value v = v_null();
	v.type = SQLITE_TEXT;
	v.p = (char *)s;
	v.n = strlen(s);
	return v;
}

static ts_value v_blob(const char *bytes, size_t n)
{
	ts_value v = v_null();
	v.type = SQLITE_BLOB;
	v.p = (char *)bytes;
	v.n = n;
	return v;
}

/* What ts_policy__decide answered. */
typedef struct {
	int rc;
	const ts_value *chosen;
	int keep_row, settles;
} decision;

static decision decide_kind(ts_policies *p, int ours_is_upper, ts_merge_kind kind, const char *table,
	const char *column, const ts_value *base, const ts_value *ours, const ts_value *theirs)
{
	ts_policy_context ctx;
	decision d;

	ctx.policies = p;
	ctx.ours_is_upper = ours_is_upper;
	d.chosen = NULL;
	d.keep_row = 1;
	d.settles = 0;
	d.rc = ts_policy__decide(&ctx, kind, table, column, base, ours, theirs, &d.chosen, &d.keep_row, &d.settles);
	return d;
}

/* A column conflict (base "b") on table.column. */
static decision decide(ts_policies *p, int ours_is_upper, const char *table, const char *column,
	const ts_value *ours, const ts_value *theirs)
{
	static const ts_value base = { SQLITE_TEXT, 0, 0, "b", 1 };
	return decide_kind(p, ours_is_upper, TS_MERGE_COLUMN, table, column, &base, ours, theirs);
}

/* A whole-row conflict on table. */
static decision decide_row(ts_policies *p, int ours_is_upper, ts_merge_kind kind, const char *table)
{
	return decide_kind(p, ours_is_upper, kind, table, NULL, NULL, NULL, NULL);
}

/* What the default policy takes between ours and theirs. */
static const ts_value *default_choice(const ts_value *ours, const ts_value *theirs)
{
	const ts_value *chosen = NULL;
	int keep = 1, settles = 0;

	if (ts_merge__default_policy(NULL, TS_MERGE_COLUMN, "t", "c", NULL, ours, theirs, &chosen, &keep, &settles) < 0)
		return NULL;
	return chosen;
}

/*
 * Databases with declarations.
 */

/* A database as the node opens it: the engine's tables (the review queue
 * among them), then the schema migrated to the newest version. */
static sqlite3 *open_migrated(void)
{
	sqlite3 *db = NULL;

	if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) != SQLITE_OK ||
	    ts_history__setup(db) < 0 ||
	    ts_schema__migrate(db, NULL) < 0) {
		fprintf(stderr, "    %s\n", ts_error_last());
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

/* The case schema's declarations. */
static int case_policies(ts_policies **out)
{
	sqlite3 *db = open_migrated();
	int error;

	*out = NULL;
	if (!db)
		return -1;
	error = ts_policies__load(out, db);
	sqlite3_close(db);
	return error;
}

/*
 * Declarations of another schema: `rows` is the VALUES list of an INSERT
 * into a sync_policies without the case schema's CHECKs, so that the
 * engine's own checks are what is tested.
 */
static int other_policies(ts_policies **out, const char *rows)
{
	sqlite3 *db = NULL;
	char sql[2048];
	int error = -1;

	*out = NULL;
	snprintf(sql, sizeof(sql), "CREATE TABLE sync_policies (table_name, column_name, policy, settles,"
		" PRIMARY KEY (table_name, column_name)); INSERT INTO sync_policies VALUES %s;", rows);
	if (sqlite3_open(":memory:", &db) == SQLITE_OK && sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
		error = ts_policies__load(out, db);
	else
		fprintf(stderr, "    %s\n", sqlite3_errmsg(db));
	sqlite3_close(db);
	return error;
}

static long long query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long long value = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		value = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return value;
}

/*
 * Loading.
 */

void test_policy__load_from_migrated_schema(void)
{
	sqlite3 *db = open_migrated();
	ts_policies *p = NULL;
	int settles = -1;

	test_assert(db);
	test_equal_i(query_int(db, "PRAGMA user_version"), ts_schema__latest());
	test_equal_i(query_int(db, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	/* every synced table declares what its other columns do (ts_* are the
	 * engine's own, never synced) */
	test_equal_i(query_int(db, "SELECT count(*) FROM sqlite_master m WHERE type = 'table'"
		" AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE 'ts\\_%' ESCAPE '\\'"
		" AND NOT EXISTS (SELECT 1 FROM sync_policies"
		" WHERE table_name = m.name AND column_name = '*')"), 0);
	/* and every declared column exists */
	test_equal_i(query_int(db, "SELECT count(*) FROM sync_policies s WHERE column_name <> '*'"
		" AND NOT EXISTS (SELECT 1 FROM pragma_table_info(s.table_name) WHERE name = s.column_name)"), 0);
	/* the schema refuses what the engine would refuse */
	test_equal_i(sqlite3_exec(db, "INSERT INTO sync_policies VALUES ('cases', 'officer', 'newest', 0)",
		NULL, NULL, NULL), SQLITE_CONSTRAINT);
	test_equal_i(sqlite3_exec(db, "INSERT INTO sync_policies VALUES ('cases', 'officer', 'manual', 1)",
		NULL, NULL, NULL), SQLITE_CONSTRAINT);
	test_equal_i(sqlite3_exec(db, "INSERT INTO sync_policies VALUES ('cases', 'officer', 'order:a,,b', 0)",
		NULL, NULL, NULL), SQLITE_CONSTRAINT);
	test_ok(ts_policies__load(&p, db));
	sqlite3_close(db);

	test_equal_s(ts_policies__lookup(p, "cases", "status", &settles), STATUS_ORDER);
	test_equal_i(settles, 1);
	test_equal_s(ts_policies__lookup(p, "cases", "closed_at", &settles), "max");
	test_equal_i(settles, 1);
	test_equal_s(ts_policies__lookup(p, "cases", "visited_at", &settles), "max");
	test_equal_s(ts_policies__lookup(p, "cases", "address", &settles), "manual");
	test_equal_i(settles, 0);
	test_equal_s(ts_policies__lookup(p, "cases", NULL, &settles), "manual");
	test_equal_s(ts_policies__lookup(p, "case_events", "detail", &settles), "append-only");
	test_equal_s(ts_policies__lookup(p, "evidence", NULL, NULL), "append-only");
	test_equal_s(ts_policies__lookup(p, "key_areas", "delisted_at", &settles), "upper");
	test_equal_i(settles, 1);
	test_equal_s(ts_policies__lookup(p, "major_events", "ends_at", NULL), "upper");
	test_equal_s(ts_policies__lookup(p, "categories", "deadline_days", NULL), "upper");
	test_equal_s(ts_policies__lookup(p, "sources", "name_zh", NULL), "upper");
	test_equal_s(ts_policies__lookup(p, "supervision_items", "status", &settles), "upper");
	test_equal_i(settles, 1);
	test_equal_s(ts_policies__lookup(p, "supervision_items", "due_at", NULL), "upper");
	test_equal_s(ts_policies__lookup(p, "supervision_items", "closed_at", NULL), "upper");
	test_equal_s(ts_policies__lookup(p, "supervision_items", "issuer", &settles), "manual");
	test_equal_i(settles, 0);
	test_equal_s(ts_policies__lookup(p, "supervision_feedback", "text", &settles), "lower");
	test_equal_i(settles, 1);
	test_equal_s(ts_policies__lookup(p, "patrols", "notes", NULL), "manual");
	test_assert(ts_policies__lookup(p, "no_such_table", "x", &settles) == NULL);
	test_equal_i(settles, 0);
	ts_policies__free(p);
}

void test_policy__no_declarations(void)
{
	sqlite3 *db = NULL;
	ts_policies *p = NULL;
	ts_value a = v_text("a"), z = v_text("z");
	decision d;

	/* a schema without sync_policies: every conflict gets the default */
	test_equal_i(sqlite3_open(":memory:", &db), SQLITE_OK);
	test_equal_i(sqlite3_exec(db, "CREATE TABLE t (id TEXT PRIMARY KEY, c)", NULL, NULL, NULL), SQLITE_OK);
	test_ok(ts_policies__load(&p, db));
	sqlite3_close(db);
	test_assert(p != NULL);
	test_assert(ts_policies__lookup(p, "t", "c", NULL) == NULL);
	d = decide(p, 1, "t", "c", &a, &z);
	test_equal_i(d.rc, 0);
	test_assert(d.chosen == default_choice(&a, &z));
	test_equal_i(d.settles, 0);
	ts_policies__free(p);

	/* nor does a context without declarations, nor no context */
	d = decide(NULL, 1, "t", "c", &z, &a);
	test_assert(d.chosen == default_choice(&z, &a));
	test_equal_i(d.settles, 0);
	d.chosen = NULL;
	test_ok(ts_policy__decide(NULL, TS_MERGE_COLUMN, "t", "c", NULL, &a, &z, &d.chosen, &d.keep_row, &d.settles));
	test_assert(d.chosen == default_choice(&a, &z));
	ts_policies__free(NULL);
}

void test_policy__malformed_refused(void)
{
	static const struct {
		const char *rows, *message;
	} bad[] = {
		{ "('t', 'c', 'newest', 0)", "sync_policies: t.c: unknown policy 'newest'" },
		{ "('t', 'c', 'order:', 1)", "sync_policies: t.c: an empty value in 'order:'" },
		{ "('t', 'c', 'order:a,,b', 1)", "sync_policies: t.c: an empty value" },
		{ "('t', 'c', 'order:a,b,', 1)", "sync_policies: t.c: an empty value" },
		{ "('t', 'c', 'order:a,b,a', 1)", "sync_policies: t.c: 'a' is listed twice" },
		{ "('t', '*', 'max', 2)", "sync_policies: t.*: settles must be 0 or 1" },
		{ "('t', '*', 'max', '1')", "sync_policies: t.*: settles must be 0 or 1" },
		{ "('t', '*', 'max', NULL)", "sync_policies: t.*: settles must be 0 or 1" },
		{ "('t', '*', 'manual', 1)", "sync_policies: t.*: manual never settles" },
		{ "('t', '*', 'append-only', 1)", "sync_policies: t.*: append-only never settles" },
		{ "('t', '*', NULL, 0)", "sync_policies: a row whose policy is not text" },
		{ "('t', 7, 'max', 0)", "sync_policies: a row whose column_name is not text" },
		{ "('t', 'c', 'MAX', 0)", "unknown policy 'MAX'" },
		{ "('u', '*', 'upper', 1), ('t', 'c', ' max', 0)", "unknown policy ' max'" },
	};
	static int sentinel;
	ts_policies *p = NULL;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc;
		p = (ts_policies *)&sentinel;   /* *out is NULL on failure */
		rc = other_policies(&p, bad[i].rows);
		if (rc != TS_EINVALID || p != NULL || !strstr(ts_error_last(), bad[i].message))
			ts_test__fail(__FILE__, __LINE__, "%s: %d, \"%s\"", bad[i].rows, rc, ts_error_last());
	}
	/* a table without the expected columns */
	{
		sqlite3 *db = NULL;
		p = (ts_policies *)&sentinel;
		test_equal_i(sqlite3_open(":memory:", &db), SQLITE_OK);
		test_equal_i(sqlite3_exec(db, "CREATE TABLE sync_policies (t PRIMARY KEY, p)", NULL, NULL, NULL), SQLITE_OK);
		test_equal_i(ts_policies__load(&p, db), TS_EINVALID);
		test_assert(p == NULL);
		test_assert(strstr(ts_error_last(), "sync_policies"));
		sqlite3_close(db);
	}
	/* the good ones load */
	test_ok(other_policies(&p, "('t', 'c', 'order:a', 1), ('t', '*', 'min', 0), ('u', '*', 'lower', 1),"
		" ('u', 'x', 'append-only', 0), ('v', '*', 'manual', 0)"));
	test_equal_s(ts_policies__lookup(p, "t", "c", NULL), "order:a");
	ts_policies__free(p);
}

/*
 * Each policy's choice.
 */

void test_policy__order(void)
{
	ts_policies *p = NULL;
	ts_value discovered = v_text("discovered"), dispatched = v_text("dispatched");
	ts_value handling = v_text("handling"), closed = v_text("closed");
	ts_value transferred = v_text("transferred"), lost = v_text("lost"), gone = v_text("gone");
	ts_value null = v_null(), one = v_int(1), two = v_int(2), two_real = v_real(2.0);
	ts_value two_text = v_text("2"), closed_nul = v_text("closed");
	decision d;

	test_ok(case_policies(&p));
	d = decide(p, -1, "cases", "status", &handling, &closed);
	test_equal_i(d.rc, 0);
	test_assert(d.chosen == &closed);
	test_equal_i(d.settles, 1);
	d = decide(p, -1, "cases", "status", &closed, &handling);
	test_assert(d.chosen == &closed);
	test_equal_i(d.settles, 1);
	d = decide(p, 1, "cases", "status", &dispatched, &discovered);
	test_assert(d.chosen == &dispatched);
	d = decide(p, 0, "cases", "status", &closed, &transferred);
	test_assert(d.chosen == &transferred);
	test_equal_i(d.settles, 1);
	/* an unlisted value, NULL included, loses to any listed one */
	d = decide(p, -1, "cases", "status", &lost, &discovered);
	test_assert(d.chosen == &discovered);
	test_equal_i(d.settles, 1);
	d = decide(p, -1, "cases", "status", &discovered, &null);
	test_assert(d.chosen == &discovered);
	/* two unlisted values: the default, not settled */
	d = decide(p, -1, "cases", "status", &lost, &gone);
	test_assert(d.chosen == default_choice(&lost, &gone));
	test_equal_i(d.settles, 0);
	d = decide(p, -1, "cases", "status", &gone, &lost);
	test_assert(d.chosen == default_choice(&gone, &lost));
	test_equal_i(d.settles, 0);
	/* a value matches an item whole, not a prefix of it */
	closed_nul.n = 4;
	d = decide(p, -1, "cases", "status", &closed_nul, &discovered);
	test_assert(d.chosen == &discovered);
	ts_policies__free(p);

	/* integers are listed by their decimal form; reals never are */
	test_ok(other_policies(&p, "('t', 'n', 'order:3,1,2', 0)"));
	d = decide(p, -1, "t", "n", &one, &two);
	test_assert(d.chosen == &two);
	test_equal_i(d.settles, 0);
	d = decide(p, -1, "t", "n", &two_real, &one);
	test_assert(d.chosen == &one);
	/* 2 and "2" are listed alike: the default tells them apart */
	d = decide(p, -1, "t", "n", &two, &two_text);
	test_assert(d.chosen == default_choice(&two, &two_text));
	test_equal_i(d.settles, 0);
	ts_policies__free(p);
}

void test_policy__max_and_min(void)
{
	ts_policies *p = NULL;
	ts_value early = v_text("2015-05-22T09:30:00+08:00"), late = v_text("2015-05-22T18:00:00+08:00");
	ts_value nine = v_int(9), ten = v_int(10), half = v_real(9.5), null = v_null();
	ts_value big = v_int(9007199254740993), big_real = v_real(9007199254740992.0);
	ts_value minus = v_int(-3), minus_real = v_real(-2.5), one = v_int(1), one_real = v_real(1.0);
	ts_value text_nine = v_text("9"), blob_a = v_blob("a\0", 2), blob_b = v_blob("a", 1);
	ts_value huge_real = v_real(1e300), int_max = v_int(INT64_MAX), int_min = v_int(INT64_MIN);
	decision d;

	test_ok(case_policies(&p));
	/* ISO times: max is the latest, and settles */
	d = decide(p, -1, "cases", "closed_at", &early, &late);
	test_assert(d.chosen == &late);
	test_equal_i(d.settles, 1);
	d = decide(p, -1, "cases", "closed_at", &late, &early);
	test_assert(d.chosen == &late);
	/* NULL loses to any value */
	d = decide(p, -1, "cases", "closed_at", &null, &early);
	test_assert(d.chosen == &early);
	d = decide(p, -1, "cases", "visited_at", &early, &null);
	test_assert(d.chosen == &early);
	test_equal_i(d.settles, 1);
	ts_policies__free(p);

	test_ok(other_policies(&p, "('t', 'hi', 'max', 1), ('t', 'lo', 'min', 0)"));
	/* numbers numerically, not as text ("9" > "10") */
	d = decide(p, -1, "t", "hi", &nine, &ten);
	test_assert(d.chosen == &ten);
	test_equal_i(d.settles, 1);
	d = decide(p, -1, "t", "lo", &nine, &ten);
	test_assert(d.chosen == &nine);
	test_equal_i(d.settles, 0);
	d = decide(p, -1, "t", "hi", &half, &nine);
	test_assert(d.chosen == &half);
	d = decide(p, -1, "t", "hi", &ten, &half);
	test_assert(d.chosen == &ten);
	d = decide(p, -1, "t", "lo", &minus_real, &minus);
	test_assert(d.chosen == &minus);
	/* integers against reals exactly: 2^53 + 1 > 2^53 */
	d = decide(p, -1, "t", "hi", &big_real, &big);
	test_assert(d.chosen == &big);
	d = decide(p, -1, "t", "lo", &big, &big_real);
	test_assert(d.chosen == &big_real);
	d = decide(p, -1, "t", "hi", &int_max, &huge_real);
	test_assert(d.chosen == &huge_real);
	d = decide(p, -1, "t", "lo", &huge_real, &int_min);
	test_assert(d.chosen == &int_min);
	/* NULL loses under min too */
	d = decide(p, -1, "t", "lo", &minus, &null);
	test_assert(d.chosen == &minus);
	d = decide(p, -1, "t", "lo", &null, &minus);
	test_assert(d.chosen == &minus);
	/* across types, SQLite's order: numbers < text < blob */
	d = decide(p, -1, "t", "hi", &ten, &text_nine);
	test_assert(d.chosen == &text_nine);
	d = decide(p, -1, "t", "lo", &text_nine, &ten);
	test_assert(d.chosen == &ten);
	d = decide(p, -1, "t", "hi", &blob_b, &text_nine);
	test_assert(d.chosen == &blob_b);
	/* blobs bytewise, a prefix first */
	d = decide(p, -1, "t", "hi", &blob_b, &blob_a);
	test_assert(d.chosen == &blob_a);
	/* equal as numbers (1 and 1.0): the default, not settled */
	d = decide(p, -1, "t", "hi", &one, &one_real);
	test_assert(d.chosen == default_choice(&one, &one_real));
	test_equal_i(d.settles, 0);
	d = decide(p, -1, "t", "hi", &one_real, &one);
	test_assert(d.chosen == default_choice(&one_real, &one));
	ts_policies__free(p);
}

void test_policy__upper_and_lower(void)
{
	ts_policies *p = NULL;
	ts_value city = v_text("closed"), street = v_text("answered");
	ts_value a = v_text("已清理"), b = v_text("未清理");
	decision d;

	test_ok(case_policies(&p));
	/* ours is the district merging a street's submission */
	d = decide(p, 1, "supervision_items", "status", &city, &street);
	test_assert(d.chosen == &city);
	test_equal_i(d.settles, 1);
	/* the street pulling the district's main: theirs is upper */
	d = decide(p, 0, "supervision_items", "status", &street, &city);
	test_assert(d.chosen == &city);
	test_equal_i(d.settles, 1);
	d = decide(p, 0, "key_areas", "name", &a, &b);
	test_assert(d.chosen == &b);
	/* unknown tiers: the default, for review */
	d = decide(p, -1, "supervision_items", "status", &street, &city);
	test_assert(d.chosen == default_choice(&street, &city));
	test_equal_i(d.settles, 0);
	d = decide(p, 7, "key_areas", "name", &a, &b);
	test_assert(d.chosen == default_choice(&a, &b));
	test_equal_i(d.settles, 0);

	/* lower: the answering street's text stands */
	d = decide(p, 1, "supervision_feedback", "text", &a, &b);
	test_assert(d.chosen == &b);
	test_equal_i(d.settles, 1);
	d = decide(p, 0, "supervision_feedback", "text", &a, &b);
	test_assert(d.chosen == &a);
	d = decide(p, -1, "supervision_feedback", "text", &a, &b);
	test_assert(d.chosen == default_choice(&a, &b));
	test_equal_i(d.settles, 0);

	/* whole rows: the winning side's update keeps the row, its delete removes it */
	d = decide_row(p, 1, TS_MERGE_UPDATE_DELETE, "key_areas");   /* upper (ours) updated */
	test_equal_i(d.rc, 0);
	test_equal_i(d.keep_row, 1);
	test_equal_i(d.settles, 1);
	d = decide_row(p, 0, TS_MERGE_UPDATE_DELETE, "key_areas");   /* upper (theirs) deleted */
	test_equal_i(d.keep_row, 0);
	test_equal_i(d.settles, 1);
	d = decide_row(p, 1, TS_MERGE_DELETE_UPDATE, "key_areas");   /* upper (ours) deleted */
	test_equal_i(d.keep_row, 0);
	d = decide_row(p, 0, TS_MERGE_DELETE_UPDATE, "key_areas");   /* upper (theirs) updated */
	test_equal_i(d.keep_row, 1);
	d = decide_row(p, 1, TS_MERGE_UPDATE_DELETE, "supervision_feedback");   /* lower (theirs) deleted */
	test_equal_i(d.keep_row, 0);
	test_equal_i(d.settles, 1);
	d = decide_row(p, 0, TS_MERGE_UPDATE_DELETE, "supervision_feedback");   /* lower (ours) updated */
	test_equal_i(d.keep_row, 1);
	d = decide_row(p, -1, TS_MERGE_UPDATE_DELETE, "key_areas");
	test_equal_i(d.keep_row, 1);
	test_equal_i(d.settles, 0);
	d = decide_row(p, -1, TS_MERGE_DELETE_UPDATE, "supervision_feedback");
	test_equal_i(d.keep_row, 1);
	test_equal_i(d.settles, 0);
	ts_policies__free(p);
}

void test_policy__append_only_refuses(void)
{
	ts_policies *p = NULL;
	ts_value a = v_text("巡查发现"), b = v_text("群众举报");
	decision d;

	test_ok(case_policies(&p));
	d = decide(p, 1, "case_events", "detail", &a, &b);
	test_equal_i(d.rc, TS_ECORRUPT);
	test_equal_s(ts_error_last(), "append-only table case_events changed on both sides");
	d = decide_kind(p, 0, TS_MERGE_INSERT, "evidence", "note", NULL, &a, &b);
	test_equal_i(d.rc, TS_ECORRUPT);
	test_equal_s(ts_error_last(), "append-only table evidence changed on both sides");
	d = decide_row(p, -1, TS_MERGE_DELETE_UPDATE, "evidence");
	test_equal_i(d.rc, TS_ECORRUPT);
	d = decide_row(p, 1, TS_MERGE_UPDATE_DELETE, "case_events");
	test_equal_i(d.rc, TS_ECORRUPT);
	test_equal_s(ts_error_last(), "append-only table case_events changed on both sides");
	ts_policies__free(p);
}

void test_policy__manual_is_the_default(void)
{
	ts_policies *p = NULL;
	ts_value a = v_text("景山前街 4号"), b = v_text("景山前街 6号"), n = v_int(20000), m = v_int(5000);
	decision d;
	int upper;

	test_ok(case_policies(&p));
	for (upper = -1; upper <= 1; upper++) {
		d = decide(p, upper, "cases", "address", &a, &b);
		test_equal_i(d.rc, 0);
		test_assert(d.chosen == default_choice(&a, &b));
		test_equal_i(d.settles, 0);
		d = decide(p, upper, "cases", "penalty_amount", &m, &n);
		test_assert(d.chosen == default_choice(&m, &n));
		test_equal_i(d.settles, 0);
		d = decide(p, upper, "supervision_items", "issuer", &b, &a);
		test_assert(d.chosen == default_choice(&b, &a));
		test_equal_i(d.settles, 0);
		/* a deleted case: kept, for review */
		d = decide_row(p, upper, TS_MERGE_UPDATE_DELETE, "cases");
		test_equal_i(d.keep_row, 1);
		test_equal_i(d.settles, 0);
		d = decide_row(p, upper, TS_MERGE_DELETE_UPDATE, "patrols");
		test_equal_i(d.keep_row, 1);
		test_equal_i(d.settles, 0);
	}
	/* an insert conflict (no base) of a manual column too */
	d = decide_kind(p, 1, TS_MERGE_INSERT, "parties", "name", NULL, &a, &b);
	test_assert(d.chosen == default_choice(&a, &b));
	test_equal_i(d.settles, 0);
	ts_policies__free(p);
}

void test_policy__column_overrides_table(void)
{
	ts_policies *p = NULL;
	ts_value a = v_text("a"), z = v_text("z"), one = v_int(1), two = v_int(2);
	decision d;
	int settles = -1;

	test_ok(other_policies(&p, "('t', '*', 'upper', 1), ('t', 'n', 'min', 0), ('t', 's', 'order:z,a', 1),"
		" ('u', '*', 'max', 1), ('v', 'x', 'upper', 1)"));
	test_equal_s(ts_policies__lookup(p, "t", "n", &settles), "min");
	test_equal_i(settles, 0);
	test_equal_s(ts_policies__lookup(p, "t", "other", &settles), "upper");
	test_equal_i(settles, 1);
	/* the column's row */
	d = decide(p, 1, "t", "n", &two, &one);
	test_assert(d.chosen == &one);
	test_equal_i(d.settles, 0);
	d = decide(p, 1, "t", "s", &a, &z);
	test_assert(d.chosen == &a);
	test_equal_i(d.settles, 1);
	/* the table's '*' row for the others, and for whole rows */
	d = decide(p, 0, "t", "other", &a, &z);
	test_assert(d.chosen == &z);
	test_equal_i(d.settles, 1);
	d = decide_row(p, 0, TS_MERGE_UPDATE_DELETE, "t");
	test_equal_i(d.keep_row, 0);
	test_equal_i(d.settles, 1);
	/* a '*' row that is not upper or lower keeps a row, unsettled */
	d = decide_row(p, 1, TS_MERGE_UPDATE_DELETE, "u");
	test_equal_i(d.keep_row, 1);
	test_equal_i(d.settles, 0);
	/* a table with column rows only: the others, and whole rows, get the default */
	d = decide(p, 1, "v", "y", &z, &a);
	test_assert(d.chosen == default_choice(&z, &a));
	test_equal_i(d.settles, 0);
	d = decide_row(p, 1, TS_MERGE_DELETE_UPDATE, "v");
	test_equal_i(d.keep_row, 1);
	test_equal_i(d.settles, 0);
	/* a table with no rows at all */
	d = decide(p, 1, "w", "x", &a, &z);
	test_assert(d.chosen == default_choice(&a, &z));
	test_equal_i(d.settles, 0);
	ts_policies__free(p);
}

/* Two nodes merging the same commits, one as ours and one as theirs, choose the same value. */
void test_policy__same_choice_on_both_nodes(void)
{
	static const char *const columns[][2] = {
		{ "cases", "status" }, { "cases", "closed_at" }, { "cases", "address" },
		{ "key_areas", "name" }, { "supervision_items", "status" }, { "supervision_feedback", "text" },
		{ "no_such_table", "x" },
	};
	ts_policies *p = NULL;
	ts_value values[8];
	size_t c, i, j;
	int upper;

	values[0] = v_text("closed");
	values[1] = v_text("handling");
	values[2] = v_text("2015-05-22T09:30:00+08:00");
	values[3] = v_null();
	values[4] = v_int(10);
	values[5] = v_real(10.0);
	values[6] = v_text("lost");
	values[7] = v_int(9);
	test_ok(case_policies(&p));
	for (c = 0; c < sizeof(columns) / sizeof(columns[0]); c++)
		for (i = 0; i < 8; i++)
			for (j = 0; j < 8; j++)
				for (upper = -1; upper <= 1; upper++) {
					decision here, there;
					if (i == j)
						continue;
					here = decide(p, upper, columns[c][0], columns[c][1], &values[i], &values[j]);
					there = decide(p, upper < 0 ? -1 : !upper, columns[c][0], columns[c][1],
						&values[j], &values[i]);
					test_equal_i(here.rc, 0);
					test_equal_i(there.rc, 0);
					test_assert(here.chosen == there.chosen);
					test_equal_i(here.settles, there.settles);
				}
	ts_policies__free(p);
}

/*
 * Merges of trees.
 */

#define MAX_EDITS 16

typedef struct {
	size_t n;
	int failed;
	ts_store_update u[MAX_EDITS];
	ts_buf path[MAX_EDITS], blob[MAX_EDITS];
} edits;

/* Puts a row keyed by its first column (text). */
static void put_row(edits *e, const char *table, int ncol, const char *const *names, const ts_value *values)
{
	if (e->n == MAX_EDITS || ts_rowcodec__key_path_values(&e->path[e->n], table, 1, values) < 0 ||
	    ts_rowcodec__encode_values(&e->blob[e->n], ncol, names, values) < 0) {
		e->failed = 1;
		return;
	}
	e->u[e->n].path = e->path[e->n].ptr;
	e->u[e->n].data = e->blob[e->n].ptr;
	e->u[e->n].len = e->blob[e->n].size;
	e->n++;
}

static void del_row(edits *e, const char *table, const char *id)
{
	ts_value key = v_text(id);

	if (e->n == MAX_EDITS || ts_rowcodec__key_path_values(&e->path[e->n], table, 1, &key) < 0) {
		e->failed = 1;
		return;
	}
	e->u[e->n].path = e->path[e->n].ptr;
	e->u[e->n].data = NULL;
	e->u[e->n].len = 0;
	e->n++;
}

static int apply_edits(git_oid *out, ts_store *store, const git_oid *base, edits *e)
{
	size_t i;
	int error = e->failed ? -1 : ts_store__tree_update(out, store, base, e->u, e->n);

	for (i = 0; i < MAX_EDITS; i++) {
		ts_buf__dispose(&e->path[i]);
		ts_buf__dispose(&e->blob[i]);
	}
	memset(e, 0, sizeof(*e));
	return error;
}

static const char *const case_cols[] = { "id", "address", "status", "closed_at" };

static void put_case(edits *e, const char *id, const char *address, const char *status, const char *closed_at)
{
	ts_value v[4];
	v[0] = v_text(id);
	v[1] = v_text(address);
	v[2] = v_text(status);
	v[3] = closed_at ? v_text(closed_at) : v_null();
	put_row(e, "cases", 4, case_cols, v);
}

static const char *const item_cols[] = { "id", "subject", "status" };

static void put_item(edits *e, const char *id, const char *subject, const char *status)
{
	ts_value v[3];
	v[0] = v_text(id);
	v[1] = v_text(subject);
	v[2] = v_text(status);
	put_row(e, "supervision_items", 3, item_cols, v);
}

static const char *const area_cols[] = { "id", "name" };

static void put_area(edits *e, const char *id, const char *name)
{
	ts_value v[2];
	v[0] = v_text(id);
	v[1] = v_text(name);
	put_row(e, "key_areas", 2, area_cols, v);
}

static const char *const event_cols[] = { "id", "kind", "detail" };

static void put_event(edits *e, const char *id, const char *detail)
{
	ts_value v[3];
	v[0] = v_text(id);
	v[1] = v_text("intake");
	v[2] = v_text(detail);
	put_row(e, "case_events", 3, event_cols, v);
}

/* The blob text of `table`'s row `id` in `tree`, "(absent)" or "(error)"; valid until the next call. */
static const char *row_at(ts_store *store, const git_oid *tree, const char *table, const char *id)
{
	static char text[1024];
	ts_buf path = TS_BUF_INIT;
	ts_value key = v_text(id);
	git_tree *t = NULL;
	git_tree_entry *e = NULL;
	git_blob *b = NULL;

	snprintf(text, sizeof(text), "(error)");
	if (ts_rowcodec__key_path_values(&path, table, 1, &key) < 0 ||
	    git_tree_lookup(&t, ts_store__repo(store), tree) < 0)
		goto done;
	if (git_tree_entry_bypath(&e, t, path.ptr) < 0) {
		snprintf(text, sizeof(text), "(absent)");
		goto done;
	}
	if (git_blob_lookup(&b, ts_store__repo(store), git_tree_entry_id(e)) < 0)
		goto done;
	snprintf(text, sizeof(text), "%.*s", (int)git_blob_rawsize(b), (const char *)git_blob_rawcontent(b));
done:
	git_blob_free(b);
	git_tree_entry_free(e);
	git_tree_free(t);
	ts_buf__dispose(&path);
	return text;
}

/* The conflicts a merge reported: "<table>.<column or row> settled|open". */
typedef struct {
	int n;
	char text[16][96];
} seen;

static int see(const ts_merge_conflict *c, void *payload)
{
	seen *s = payload;

	if (s->n == 16)
		return -1;
	snprintf(s->text[s->n++], sizeof(s->text[0]), "%s.%s %s", c->table,
		c->column ? c->column : (c->row_kept ? "(row kept)" : "(row deleted)"), c->settled ? "settled" : "open");
	return 0;
}

typedef struct {
	ts_store *store;
	ts_policies *policies;
	git_oid base;
} fixture;

#define CASE_ID "bj.dc.jingshan.d07-c20150522-1"
#define ITEM_ID "bj.dc-s20150522-1"
#define AREA_ID "bj.dc-k20150110-1"
#define EVENT_ID "bj.dc.jingshan.d07-v20150522-1"

/* A store whose base tree holds a handled case, an open supervision item, a key area and an event. */
static int fixture_open(fixture *f)
{
	edits e;
	int error;

	memset(f, 0, sizeof(*f));
	memset(&e, 0, sizeof(e));
	git_libgit2_init();
	if ((error = case_policies(&f->policies)) < 0 ||
	    (error = ts_store__open(&f->store, "history.git", 1)) < 0)
		return error;
	put_case(&e, CASE_ID, "景山前街 4号", "handling", NULL);
	put_item(&e, ITEM_ID, "景山前街小广告督办", "open");
	put_area(&e, AREA_ID, "景山地区");
	put_event(&e, EVENT_ID, "巡查发现");
	return apply_edits(&f->base, f->store, NULL, &e);
}

static void fixture_close(fixture *f)
{
	ts_policies__free(f->policies);
	ts_store__free(f->store);
	git_libgit2_shutdown();
}

static int merge(git_oid *out, seen *s, ts_merge_stats *st, fixture *f, const git_oid *ours,
	const git_oid *theirs, int ours_is_upper)
{
	ts_policy_context ctx;
	ts_merge_options o;

	ctx.policies = f->policies;
	ctx.ours_is_upper = ours_is_upper;
	memset(&o, 0, sizeof(o));
	o.policy = ts_policy__decide;
	o.policy_payload = &ctx;
	o.on_conflict = see;
	o.conflict_payload = s;
	memset(s, 0, sizeof(*s));
	return ts_merge__trees(out, st, f->store, &f->base, ours, theirs, &o);
}

void test_policy__merge_status_settles_to_later_state(void)
{
	fixture f;
	edits e;
	seen s;
	ts_merge_stats st;
	git_oid ours, theirs, merged, merged_there;

	memset(&e, 0, sizeof(e));
	test_ok(fixture_open(&f));
	/* the device sent feedback; the street office closed it meanwhile, and both moved the address */
	put_case(&e, CASE_ID, "景山前街 4号院", "feedback", NULL);
	test_ok(apply_edits(&ours, f.store, &f.base, &e));
	put_case(&e, CASE_ID, "景山前街 4号门前", "closed", "2015-05-22T18:00:00+08:00");
	test_ok(apply_edits(&theirs, f.store, &f.base, &e));

	test_ok(merge(&merged, &s, &st, &f, &ours, &theirs, 1));
	test_equal_i(st.conflicts, 2);
	test_equal_i(st.settled, 1);
	test_equal_i(s.n, 2);
	test_equal_s(s.text[0], "cases.address open");
	test_equal_s(s.text[1], "cases.status settled");
	/* closed_at changed on one side only: theirs, no conflict */
	test_equal_s(row_at(f.store, &merged, "cases", CASE_ID), "id \"" CASE_ID "\"\n"
		"address \"景山前街 4号院\"\nstatus \"closed\"\nclosed_at \"2015-05-22T18:00:00+08:00\"\n");

	/* the other node, merging the same commits the other way round, gets the same tree */
	test_ok(merge(&merged_there, &s, &st, &f, &theirs, &ours, 0));
	test_assert(git_oid_equal(&merged, &merged_there));
	test_equal_i(st.settled, 1);

	/* both closed, at different times: the later time settles too */
	put_case(&e, CASE_ID, "景山前街 4号", "closed", "2015-05-22T17:00:00+08:00");
	test_ok(apply_edits(&ours, f.store, &f.base, &e));
	test_ok(merge(&merged, &s, &st, &f, &ours, &theirs, -1));
	test_equal_i(s.n, 1);
	test_equal_s(s.text[0], "cases.closed_at settled");
	test_equal_s(row_at(f.store, &merged, "cases", CASE_ID), "id \"" CASE_ID "\"\n"
		"address \"景山前街 4号门前\"\nstatus \"closed\"\nclosed_at \"2015-05-22T18:00:00+08:00\"\n");
	fixture_close(&f);
}

void test_policy__merge_upper_owned_column(void)
{
	fixture f;
	edits e;
	seen s;
	ts_merge_stats st;
	git_oid district, street, merged, merged_there;

	memset(&e, 0, sizeof(e));
	test_ok(fixture_open(&f));
	/* the district closed the item and renamed its key area; the street answered the item and renamed the area too */
	put_item(&e, ITEM_ID, "景山前街小广告督办", "closed");
	put_area(&e, AREA_ID, "景山地区(含北池子)");
	test_ok(apply_edits(&district, f.store, &f.base, &e));
	put_item(&e, ITEM_ID, "景山前街小广告督办", "answered");
	put_area(&e, AREA_ID, "景山前街地区");
	test_ok(apply_edits(&street, f.store, &f.base, &e));

	/* the district merges the street's submission: ours is upper */
	test_ok(merge(&merged, &s, &st, &f, &district, &street, 1));
	test_equal_i(st.conflicts, 2);
	test_equal_i(st.settled, 2);
	test_equal_s(row_at(f.store, &merged, "supervision_items", ITEM_ID),
		"id \"" ITEM_ID "\"\nsubject \"景山前街小广告督办\"\nstatus \"closed\"\n");
	test_equal_s(row_at(f.store, &merged, "key_areas", AREA_ID), "id \"" AREA_ID "\"\nname \"景山地区(含北池子)\"\n");

	/* the street merges the district's main: theirs is upper; the same tree */
	test_ok(merge(&merged_there, &s, &st, &f, &street, &district, 0));
	test_assert(git_oid_equal(&merged, &merged_there));
	test_equal_i(st.settled, 2);

	/* tiers unknown: the same conflicts, left for review */
	test_ok(merge(&merged, &s, &st, &f, &district, &street, -1));
	test_equal_i(st.conflicts, 2);
	test_equal_i(st.settled, 0);

	/* the district delists (deletes) the area the street renamed: the owner's delete stands */
	del_row(&e, "key_areas", AREA_ID);
	test_ok(apply_edits(&district, f.store, &f.base, &e));
	test_ok(merge(&merged, &s, &st, &f, &district, &street, 1));
	test_equal_i(s.n, 1);
	test_equal_s(s.text[0], "key_areas.(row deleted) settled");
	test_equal_s(row_at(f.store, &merged, "key_areas", AREA_ID), "(absent)");
	test_equal_s(row_at(f.store, &merged, "supervision_items", ITEM_ID),
		"id \"" ITEM_ID "\"\nsubject \"景山前街小广告督办\"\nstatus \"answered\"\n");
	test_ok(merge(&merged_there, &s, &st, &f, &street, &district, 0));
	test_assert(git_oid_equal(&merged, &merged_there));
	fixture_close(&f);
}

void test_policy__merge_append_only_aborts(void)
{
	fixture f;
	edits e;
	seen s;
	ts_merge_stats st;
	git_oid ours, theirs, merged, zero;

	memset(&e, 0, sizeof(e));
	memset(&zero, 0, sizeof(zero));
	test_ok(fixture_open(&f));
	put_event(&e, EVENT_ID, "巡查发现(改)");
	put_case(&e, CASE_ID, "景山前街 4号", "closed", NULL);
	test_ok(apply_edits(&ours, f.store, &f.base, &e));
	put_event(&e, EVENT_ID, "群众举报");
	test_ok(apply_edits(&theirs, f.store, &f.base, &e));

	test_equal_i(merge(&merged, &s, &st, &f, &ours, &theirs, 1), TS_ECORRUPT);
	test_equal_s(ts_error_last(), "append-only table case_events changed on both sides");
	test_assert(git_oid_equal(&merged, &zero));

	/* an event added on one side only is no conflict */
	put_event(&e, "bj.dc.jingshan.d07-v20150522-2", "派张伟");
	test_ok(apply_edits(&theirs, f.store, &f.base, &e));
	test_ok(merge(&merged, &s, &st, &f, &ours, &theirs, 1));
	test_equal_s(row_at(f.store, &merged, "case_events", "bj.dc.jingshan.d07-v20150522-2"),
		"id \"bj.dc.jingshan.d07-v20150522-2\"\nkind \"intake\"\ndetail \"派张伟\"\n");
	fixture_close(&f);
}
