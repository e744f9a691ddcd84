/*
 * Schema comparison: does a database's schema — its tables, indexes,
 * triggers and views as sqlite_master lists them — equal the schema of a
 * reference database that the application provides?
 */
#ifndef TS_SYNC_SCHEMA_COMPARE_H
#define TS_SYNC_SCHEMA_COMPARE_H

#include <sqlite3.h>

#include "tiersync.h"

/* The schema of a reference database, read once. */
typedef struct ts_schema_ref ts_schema_ref;

/*
 * Reads the schema of `reference` (e.g. an in-memory database built with
 * the same steps as a fresh one). SQLite's internal objects (names starting
 * with "sqlite_", such as sqlite_sequence and sqlite_stat1) are left out
 * here and everywhere below. Free with ts_schema__ref_free().
 */
int ts_schema__ref_new(ts_schema_ref **out, sqlite3 *reference);
void ts_schema__ref_free(ts_schema_ref *ref);

/*
 * A reference from rows the application already holds (e.g. read from a
 * reference database when the program was built): `n` objects of four
 * fields each, type, name, tbl_name and sql (NULL for none), in the order
 * of their creation. The strings are copied.
 */
int ts_schema__ref_from(ts_schema_ref **out, const char *const (*rows)[4], size_t n);

/* The reference's objects, in the order of their creation: how many, and
 * field `f` (0 type, 1 name, 2 tbl_name, 3 sql; NULL for none) of the
 * `i`th. */
size_t ts_schema__ref_count(const ts_schema_ref *ref);
const char *ts_schema__ref_field(const ts_schema_ref *ref, size_t i, int f);

/*
 * The quick check, meant for every commit: one read of `db`'s schema,
 * compared in place with the reference's. Returns 0 when equal,
 * else TS_ECORRUPT with one line naming the first object that differs.
 */
int ts_schema__check(const ts_schema_ref *ref, sqlite3 *db);

/*
 * Every difference, each as a ts_verify_problem: table "schema", key the
 * object's name, problem e.g. "trigger added outside tiersync", "index
 * dropped", "table definition changed", expected/actual its SQL. A
 * non-zero return of `cb` stops early. Writes the number of differences
 * to *problems; returns 0, or an error when `db` cannot be read.
 */
int ts_schema__compare(int *problems, const ts_schema_ref *ref, sqlite3 *db,
	int (*cb)(const ts_verify_problem *p, void *payload), void *payload);

#endif
