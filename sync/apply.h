/*
 * Apply: bring the working database from one tree to another, row by row,
 * as a merge or a pull decided. The trees are compared with the walk of
 * audit.h, which skips identical subtrees, so the cost follows the change.
 */
#ifndef TS_SYNC_APPLY_H
#define TS_SYNC_APPLY_H

#include <git2.h>
#include <sqlite3.h>

#include "diffmemo.h"
#include "progress.h"
#include "tables.h"

#define TS_APPLY_MAX_TABLES 256

/* The keys of some rows of one table: `npk` values a row, row after row. */
typedef struct {
	ts_value *v;
	size_t n, alloc;     /* rows */
} ts_apply_keys;

/* A row the apply left because staged writes touched it. */
typedef struct {
	char *path;
	int table;           /* index in ts_tables */
	ts_value *key;       /* its key's values */
	int visited;         /* ts_apply__staged() laid a staged write over it */
} ts_apply_skipped;

typedef struct {
	size_t upserts;
	size_t deletes;
	/* which of the tables (by index in ts_tables) had rows written */
	unsigned char touched[TS_APPLY_MAX_TABLES];
	/* ts_apply__batched: the rows left to staged writes, sorted by path */
	ts_apply_skipped *skipped;
	size_t nskipped, askipped;
	/* ts_apply__batched: per table (by index in ts_tables), the keys of the
	 * rows written and of the rows deleted, for checks by key afterwards */
	ts_apply_keys *written, *removed;
	int ntables;
	ts_tables *tables;
} ts_apply_stats;

/* Frees what ts_apply__batched() put in `stats` (zeroed or filled). */
void ts_apply__stats_dispose(ts_apply_stats *stats);

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

/*
 * Inserted rows are written in the order of their keys, up to this many
 * bytes of their blobs at a time (4 MB; updates and deletes are written as
 * they come): a batch of new rows then lands on neighbouring pages of the
 * key's index. Tests set a small number to see several such runs; 0
 * restores the default.
 */
void ts_apply__set_pending_bytes(size_t bytes);

/*
 * The same for a long apply, in short transactions: the caller has begun a
 * write transaction; every `batch_ms` the apply looks for local writes
 * waiting (ts_capture__writers_waiting); when one waits, or the transaction
 * has run a second, it commits, waits for those writes (ts_capture__yield)
 * and begins another.
 * Rows of staged writes, those staged before and during the apply, are left
 * as they are for ts_apply__staged(). Returns inside a write transaction;
 * what the batches committed is the caller's to finish or undo (the trees
 * tell how: applying to_tree -> from_tree undoes it).
 *
 * `memo` (may be NULL): walks of subtrees from_tree -> to_tree kept already
 * (a merge's, diffmemo.h), taken instead of reading those trees again.
 * `progress` (may be NULL) hears of the phase "writing rows": rows written,
 * deleted or left to staged writes, of `total` (0: not known).
 */
int ts_apply__batched(ts_apply_stats *stats, sqlite3 *db, git_repository *repo, ts_tables *tables,
	const git_oid *from_tree, const git_oid *to_tree, const ts_diffmemo *memo, int batch_ms,
	ts_progress_meter *progress, size_t total);

/*
 * Counts the rows that differ between `from_tree` (NULL: the empty tree)
 * and `to_tree`, the total of an apply's progress, as the phase "comparing
 * trees" of `progress` (may be NULL), with `memo` as ts_apply__batched().
 * Reads trees only, not the row blobs, and takes no lock: call it before
 * the apply's transaction begins.
 */
int ts_apply__count(size_t *out, git_repository *repo, ts_tables *tables, const git_oid *from_tree,
	const git_oid *to_tree, const ts_diffmemo *memo, ts_progress_meter *progress);

/*
 * Lays the staged writes over the rows of `tree`: a staged row takes the
 * tree's row with the columns the writes changed, or is deleted if they
 * deleted it; a row a write updated that the tree lacks is left as the
 * database holds it. With `left` (the stats of ts_apply__batched() to
 * `tree`), only the rows that apply left; the others hold the tree's row
 * with the writes on top already. Inside the caller's transaction;
 * captures nothing. After it, the database equals `tree` plus the staged
 * writes.
 */
int ts_apply__staged(sqlite3 *db, git_repository *repo, ts_tables *tables, const git_oid *tree_id,
	ts_apply_stats *left);

/* Writes one whole row of `t` (inserted or replaced), or, with `row` NULL,
 * deletes the row whose key `key_row` holds. Inside the caller's
 * transaction; captured if the caller captures. */
int ts_apply__one(sqlite3 *db, const ts_table *t, const ts_row *row, const ts_row *key_row);

#endif
