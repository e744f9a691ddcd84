/*
 * Unit tests of the synced tables (sync/tables.c): which tables take part,
 * their columns and keys as SQLite declares them, the tables the engine
 * refuses, and reads by key.
 */
#include "harness.h"

#include <sqlite3.h>

#include "tables.h"
#include "tiersync.h"

static sqlite3 *db_with(const char *sql)
{
	sqlite3 *db = NULL;

	if (sqlite3_open(":memory:", &db) != SQLITE_OK || sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "    %s\n", sqlite3_errmsg(db));
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

void test_tables__columns_and_keys(void)
{
	sqlite3 *db;
	ts_tables *tables = NULL;
	ts_table *t;
	ts_buf blob = TS_BUF_INIT;
	ts_value key[2];

	test_assert((db = db_with(
		"CREATE TABLE zeta (id TEXT PRIMARY KEY, note TEXT);"
		"CREATE TABLE alpha (k1 TEXT, v INTEGER, k2 INTEGER, PRIMARY KEY (k2, k1));"
		"CREATE TABLE ts_engine (a PRIMARY KEY);"
		"CREATE TABLE _tiersync_x (a PRIMARY KEY);"
		"INSERT INTO alpha VALUES ('x', 7, 2);")) != NULL);
	test_ok(ts_tables__load(&tables, db));
	test_equal_i(tables->n, 2);
	test_equal_s(tables->list[0].name, "alpha");
	test_equal_s(tables->list[1].name, "zeta");

	test_assert((t = ts_tables__find(tables, "alpha")) != NULL);
	test_equal_i(t->ncol, 3);
	test_equal_s(t->cols[0], "k1");
	test_equal_s(t->cols[2], "k2");
	test_equal_i(t->npk, 2);
	test_equal_s(t->cols[t->pk[0]], "k2");
	test_equal_s(t->cols[t->pk[1]], "k1");
	test_equal_i(ts_table__col(t, "v"), 1);
	test_assert(ts_tables__find(tables, "ts_engine") == NULL);

	/* a read by key: (k2, k1) = (2, 'x') is there, (3, 'x') is not */
	memset(key, 0, sizeof(key));
	key[0].type = SQLITE_INTEGER;
	key[0].i = 2;
	key[1].type = SQLITE_TEXT;
	key[1].p = (char *)"x";
	key[1].n = 1;
	test_equal_i(ts_table__read_values(&blob, db, t, key), 1);
	test_assert(blob.size > 0);
	test_assert(strstr(ts_buf__cstr(&blob), "7") != NULL);
	key[0].i = 3;
	ts_buf__clear(&blob);
	test_equal_i(ts_table__read_values(&blob, db, t, key), 0);

	ts_buf__dispose(&blob);
	ts_tables__free(tables);
	sqlite3_close(db);
}

void test_tables__refused_tables(void)
{
	static const char *const refused[][2] = {
		{ "CREATE TABLE a (id TEXT PRIMARY KEY); CREATE TABLE b (x TEXT, y TEXT);", "table b has no primary key" },
		{ "CREATE TABLE a (id TEXT PRIMARY KEY, \"odd col\" TEXT);", "column a.\"odd col\" is not a plain identifier" },
		{ "CREATE TABLE \"a b\" (id TEXT PRIMARY KEY);", "table \"a b\" is not a plain identifier" },
	};
	size_t i;

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		sqlite3 *db;
		ts_tables *tables = (ts_tables *)1;
		test_assert((db = db_with(refused[i][0])) != NULL);
		test_equal_i(ts_tables__load(&tables, db), TS_EINVALID);
		test_assert(tables == NULL);
		test_error_says(refused[i][1]);
		sqlite3_close(db);
	}
}
