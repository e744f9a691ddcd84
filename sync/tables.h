/*
 * The synced tables of a database: every table with a primary key whose
 * name does not start with "sqlite_", "ts_" or "_tiersync". The engine
 * learns their columns from SQLite itself, so any schema works.
 */
#ifndef TS_SYNC_TABLES_H
#define TS_SYNC_TABLES_H

#include <sqlite3.h>

#include "buf.h"
#include "rowcodec.h"

typedef struct {
	char *name;
	int ncol;
	char **cols;        /* in declaration order */
	int npk;
	int *pk;            /* column indexes of the primary key, in key order */
	sqlite3 *db;        /* the database it was loaded from */
	sqlite3_stmt *get;  /* SELECT cols FROM t WHERE pk = ?..., prepared at the first read */
} ts_table;

typedef struct {
	int n;
	ts_table *list;     /* sorted by name */
} ts_tables;

/* 1 if a table of this name takes part in sync. */
int ts_table__name_synced(const char *name);

/* Loads the synced tables. A synced-looking table without a primary key,
 * or with a name that is not a plain identifier, is TS_EINVALID. */
int ts_tables__load(ts_tables **out, sqlite3 *db);
void ts_tables__free(ts_tables *tables);

ts_table *ts_tables__find(ts_tables *tables, const char *name);

/* The index of column `name` in `t`, or -1. */
int ts_table__col(const ts_table *t, const char *name);

/* Prepares "SELECT <every column> FROM <t>": a scan of the whole table,
 * columns in row-blob order. The caller finalizes it. */
int ts_table__scan(sqlite3_stmt **out, sqlite3 *db, const ts_table *t);

/*
 * Reads the row with the given key values into `blob` (its row encoding).
 * Returns 1 when found, 0 when there is no such row, < 0 on error.
 */
int ts_table__read(ts_buf *blob, sqlite3 *db, ts_table *t, sqlite3_value **key);
int ts_table__read_values(ts_buf *blob, sqlite3 *db, ts_table *t, const ts_value *key);

/* Appends "a=1, b=\"x\"" for the key of `row` (decoded blob of table t). */
void ts_table__put_key(ts_buf *out, const ts_table *t, const ts_row *row);

#endif
