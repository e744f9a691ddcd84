/*
 * The engine's metadata (meta.h): the table ts_meta, and the head commit
 * the database records there.
 */
#include "meta.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "statements.h"
#include "tiersync.h"

int ts_meta__setup(sqlite3 *db)
{
	if (sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS ts_meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID",
			NULL, NULL, NULL) != SQLITE_OK)
		return ts_sqlite__error(db, "creating ts_meta");
	return 0;
}

char *ts_meta__get(sqlite3 *db, const char *key)
{
	sqlite3_stmt *st = NULL;
	char *value = NULL;

	if (ts_statements__prepare(db, "SELECT value FROM ts_meta WHERE key = ?1", &st) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		value = strdup((const char *)sqlite3_column_text(st, 0));
	ts_statements__done(st);
	return value;
}

int ts_meta__set(sqlite3 *db, const char *key, const char *value)
{
	sqlite3_stmt *st = NULL;
	int error = 0;

	if (ts_statements__prepare(db, "INSERT OR REPLACE INTO ts_meta (key, value) VALUES (?1, ?2)", &st) != SQLITE_OK)
		return ts_sqlite__error(db, "writing ts_meta");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_sqlite__error(db, "writing ts_meta");
	ts_statements__done(st);
	return error;
}

int ts_history__head(git_oid *out, sqlite3 *db)
{
	char *head = ts_meta__get(db, "head");
	int error = 0;

	if (!head)
		return ts_error_set(TS_ENOTFOUND, "the database records no head commit");
	if (git_oid_fromstr(out, head) < 0)
		error = ts_error_set(TS_ECORRUPT, "the database records a malformed head: %s", head);
	free(head);
	return error;
}

sqlite3_int64 ts_meta__pragma(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	sqlite3_int64 value = -1;
	if (ts_statements__prepare(db, sql, &st) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		value = sqlite3_column_int64(st, 0);
	ts_statements__done(st);
	return value;
}
