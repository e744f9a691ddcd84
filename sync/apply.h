/*
 * Apply: bring the working database from one tree to another, row by row,
 * as a merge or a pull decided. The trees are compared with the walk of
 * audit.h, which skips identical subtrees, so the cost follows the change.
 */
#ifndef TS_SYNC_APPLY_H
#define TS_SYNC_APPLY_H

#include <git2.h>
#include <sqlite3.h>

#include "tables.h"

#define TS_APPLY_MAX_TABLES 256

typedef struct {
	size_t upserts;
	size_t deletes;
	/* which of the tables (by index in ts_tables) had rows written */
	unsigned char touched[TS_APPLY_MAX_TABLES];
} ts_apply_stats;

/*
 * Writes into `db` every row that differs between `from_tree` (NULL: the
 * empty tree) and `to_tree`: a row present in `to_tree` is inserted or
 * replaced column by column, a row absent from it is deleted. Runs inside
 * the caller's transaction and captures nothing: applied rows are not local
 * writes. A row whose columns do not match its table, or a schema version
 * other than the database's, is refused (TS_ECORRUPT / TS_EINVALID) and the
 * caller rolls back.
 */
int ts_apply(ts_apply_stats *stats, sqlite3 *db, git_repository *repo, ts_tables *tables,
	const git_oid *from_tree, const git_oid *to_tree);

/* Writes one whole row of `t` (inserted or replaced), or, with `row` NULL,
 * deletes the row whose key `key_row` holds. Inside the caller's
 * transaction; captured if the caller captures. */
int ts_apply_one(sqlite3 *db, const ts_table *t, const ts_row *row, const ts_row *key_row);

#endif
