/*
 * Unit tests of the errors (sync/error.c): SQLite's failures become
 * tiersync's codes by one table, and ts_error_last_code() reports the code
 * of the last failure with its message.
 */
#include "harness.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "error.h"
#include "node.h"
#include "tiersync.h"

static int new_node(ts_node **out, const char *path, ts_tier tier, const char *id)
{
	ts_init_options opts = { TS_INIT_OPTIONS_VERSION, tier, id, NULL, "王伟", NULL };
	return ts_node_init(out, path, &opts);
}

static long long query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long long value = LLONG_MIN;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		value = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return value;
}

/* A row only the top node writes: the node of the test is a city. */
static int add_source(sqlite3 *db, void *payload)
{
	(void)payload;
	if (sqlite3_exec(db, "INSERT INTO sources (code, name_zh) VALUES ('drone', '无人机')",
			NULL, NULL, NULL) != SQLITE_OK)
		return ts_sqlite__error(db, "adding a source");
	return 0;
}

static int break_a_check(sqlite3 *db, void *payload)
{
	const char *id = payload;
	char sql[256];

	snprintf(sql, sizeof(sql), "UPDATE cases SET status = 'bogus' WHERE id = '%s'", id);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return ts_sqlite__error(db, "updating case %s", id);
	return 0;
}

static void *last_code_of_a_new_thread(void *payload)
{
	int *out = payload;
	out[0] = ts_error_last_code();
	out[1] = ts_error_last() == NULL;
	ts_error_set(TS_ENET, "only this thread's");
	out[2] = ts_error_last_code();
	return NULL;
}

void test_error__last_code_goes_with_the_message(void)
{
	pthread_t thread;
	int seen[3] = { -1, -1, -1 };

	test_equal_i(ts_error_set(TS_ECONFLICT, "conflict %d", 1), TS_ECONFLICT);
	test_equal_i(ts_error_last_code(), TS_ECONFLICT);
	test_equal_s(ts_error_last(), "conflict 1");
	test_equal_i(ts_error_set(TS_ERROR, "plain"), TS_ERROR);
	test_equal_i(ts_error_last_code(), TS_ERROR);

	/* per thread: a thread that has not failed has no code */
	test_assert(pthread_create(&thread, NULL, last_code_of_a_new_thread, seen) == 0);
	test_assert(pthread_join(thread, NULL) == 0);
	test_equal_i(seen[0], TS_OK);
	test_equal_i(seen[1], 1);
	test_equal_i(seen[2], TS_ENET);
	test_equal_i(ts_error_last_code(), TS_ERROR);
	test_equal_s(ts_error_last(), "plain");
}

void test_error__sqlite_codes_by_the_table(void)
{
	static const struct { int rc, code; } table[] = {
		{ SQLITE_BUSY, TS_EBUSY },
		{ SQLITE_BUSY_SNAPSHOT, TS_EBUSY },
		{ SQLITE_BUSY_TIMEOUT, TS_EBUSY },
		{ SQLITE_LOCKED, TS_EBUSY },
		{ SQLITE_LOCKED_SHAREDCACHE, TS_EBUSY },
		{ SQLITE_CORRUPT, TS_ECORRUPT },
		{ SQLITE_CORRUPT_INDEX, TS_ECORRUPT },
		{ SQLITE_NOTADB, TS_ECORRUPT },
		{ SQLITE_CONSTRAINT, TS_EINVALID },
		{ SQLITE_CONSTRAINT_CHECK, TS_EINVALID },
		{ SQLITE_CONSTRAINT_FOREIGNKEY, TS_EINVALID },
		{ SQLITE_CONSTRAINT_TRIGGER, TS_EINVALID },
		{ SQLITE_NOMEM, TS_ERROR },
		{ SQLITE_ERROR, TS_ERROR },
		{ SQLITE_IOERR_WRITE, TS_ERROR },
		{ SQLITE_READONLY, TS_ERROR },
		{ SQLITE_FULL, TS_ERROR },
	};
	char want[256];
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		test_equal_i(ts_sqlite__error_rc(table[i].rc, "step %d", (int)i), table[i].code);
		test_equal_i(ts_error_last_code(), table[i].code);
		snprintf(want, sizeof(want), "step %d: %s", (int)i,
			table[i].rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errstr(table[i].rc));
		test_equal_s(ts_error_last(), want);
	}

	/* a code of the caller's for what the table has none for, and only that */
	test_equal_i(ts_sqlite__error_as(TS_EINVALID, NULL, "x"), TS_ERROR);   /* no memory */
	test_equal_s(ts_error_last(), "x: out of memory");
	test_equal_i(ts_sqlite__error(NULL, "opening %s", "n"), TS_ERROR);
	test_equal_s(ts_error_last(), "opening n: out of memory");
}

void test_error__sqlite_message_and_code_from_the_connection(void)
{
	sqlite3 *db = NULL;

	test_assert(sqlite3_open(":memory:", &db) == SQLITE_OK);
	test_assert(sqlite3_exec(db, "CREATE TABLE t (n INTEGER CHECK (n > 0))", NULL, NULL, NULL) == SQLITE_OK);

	test_assert(sqlite3_exec(db, "SELECT nope FROM t", NULL, NULL, NULL) != SQLITE_OK);
	test_equal_i(ts_sqlite__error(db, "reading %s", "t"), TS_ERROR);
	test_equal_s(ts_error_last(), "reading t: no such column: nope");
	test_equal_i(ts_sqlite__error_as(TS_EINVALID, db, "reading t"), TS_EINVALID);
	test_equal_i(ts_error_last_code(), TS_EINVALID);

	test_assert(sqlite3_exec(db, "INSERT INTO t VALUES (0)", NULL, NULL, NULL) != SQLITE_OK);
	test_equal_i(ts_sqlite__error(db, "writing t"), TS_EINVALID);
	test_equal_s(ts_error_last(), "writing t: CHECK constraint failed: n > 0");
	test_equal_i(ts_sqlite__error_as(TS_ENOTFOUND, db, "writing t"), TS_EINVALID);
	sqlite3_close(db);
}

void test_error__locked_database_is_busy(void)
{
	ts_node *node = NULL;
	sqlite3 *other = NULL;

	test_ok(new_node(&node, "n", TS_TIER_CITY, "bj"));
	/* The node waits 5 s for a lock (node.c, busy_timeout); the test
	 * needs the refusal, not the wait. */
	sqlite3_busy_timeout(ts_node_db(node), 200);

	test_assert(sqlite3_open("n/tiersync.db", &other) == SQLITE_OK);
	test_assert(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
	test_equal_i(ts_node_write(node, NULL, "a source", add_source, NULL), TS_EBUSY);
	test_equal_i(ts_error_last_code(), TS_EBUSY);
	test_assert(strstr(ts_error_last(), "starting a write: ") == ts_error_last());
	test_assert(strstr(ts_error_last(), "database is locked") != NULL);

	/* the lock gone, the same write goes through */
	test_assert(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK);
	test_ok(ts_node_write(node, NULL, "a source", add_source, NULL));
	test_equal_i(query_int(ts_node_db(node), "SELECT count(*) FROM sources WHERE code = 'drone'"), 1);
	test_equal_i(query_int(ts_node_db(node), "SELECT count(*) FROM ts_staged"), 1);
	sqlite3_close(other);
	ts_node_free(node);
}

void test_error__check_constraint_is_invalid_input(void)
{
	ts_node *node = NULL;
	ts_field bogus = { "status", "bogus" };
	char *id = NULL;
	long long staged;

	test_ok(new_node(&node, "n", TS_TIER_STREET, "bj.dc.jingshan"));
	test_ok(ts_case_new(&id, node, "王伟", "small_ads", "patrol", "景山前街 4号", NULL, 0));
	staged = query_int(ts_node_db(node), "SELECT count(*) FROM ts_staged");
	test_assert(staged > 0);

	/* a write of the caller's own, reporting through the converter */
	test_equal_i(ts_node_write(node, NULL, "break it", break_a_check, id), TS_EINVALID);
	test_equal_i(ts_error_last_code(), TS_EINVALID);
	test_assert(strstr(ts_error_last(), "updating case ") == ts_error_last());
	test_assert(strstr(ts_error_last(), ": CHECK constraint failed: ") != NULL);

	/* the library's own: a case update reports the refused value */
	test_equal_i(ts_case_update(node, "王伟", id, &bogus, 1), TS_EINVALID);
	test_equal_i(ts_error_last_code(), TS_EINVALID);
	test_assert(strstr(ts_error_last(), "updating the case refused: CHECK constraint failed") == ts_error_last());

	/* neither wrote anything */
	test_equal_i(query_int(ts_node_db(node), "SELECT count(*) FROM cases WHERE status = 'bogus'"), 0);
	test_equal_i(query_int(ts_node_db(node), "SELECT count(*) FROM ts_staged"), staged);
	free(id);
	ts_node_free(node);
}

void test_error__not_a_database_is_corrupt(void)
{
	ts_node *node = NULL;
	FILE *f;
	int i;

	test_ok(new_node(&node, "n", TS_TIER_STREET, "bj.dc.jingshan"));
	ts_node_free(node);
	node = NULL;
	remove("n/tiersync.db-wal");   /* a closed node leaves none; be sure */
	remove("n/tiersync.db-shm");
	test_assert((f = fopen("n/tiersync.db", "w")) != NULL);
	for (i = 0; i < 512; i++)
		fputs("not a database, ", f);
	fclose(f);
	test_equal_i(ts_node_open(&node, "n"), TS_ECORRUPT);
	test_assert(node == NULL);
	test_equal_i(ts_error_last_code(), TS_ECORRUPT);
	test_assert(strstr(ts_error_last(), "file is not a database") != NULL);
}
