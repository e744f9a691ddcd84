/*
 * The case schema, compiled into the binary from schema/NNNN_name.sql by
 * tools/embed-schema.sh, and the runner that brings a database up to date.
 */
#ifndef TS_SCHEMA_H
#define TS_SCHEMA_H

#include <stddef.h>
#include <sqlite3.h>

struct ts_migration {
	int version;        /* NNNN of the file name */
	const char *name;   /* file name without .sql */
	const char *sql;
};

/* In version order, ended by an entry whose name is NULL. */
extern const struct ts_migration ts_schema_migrations[];

/* The version the last migration brings a database to. */
int ts_schema__latest(void);

/*
 * Applies, in one transaction per migration, every migration newer than
 * the database's PRAGMA user_version, and records each version there.
 * Writes the resulting version to *version_out (may be NULL).
 */
int ts_schema__migrate(sqlite3 *db, int *version_out);

/*
 * The schema a fresh node has at the newest version, computed when the
 * program was built (schema/expected_gen.c writes schema_expected.c): the
 * rows of its sqlite_master (type, name, tbl_name, sql; NULL for none) in
 * the order they were created, SQLite's own objects left out.
 */
extern const int ts_schema_expected_version;
extern const char *const ts_schema_expected[][4];
extern const size_t ts_schema_expected_count;

#endif
