/*
 * The review queue: every conflict a merge meets is a row of the synced
 * table sync_conflicts, so it travels up the tiers with the history and is
 * visible to `sql`. A record keeps base, ours, theirs, where each side came
 * from and the value the merge put in meanwhile; nothing is lost.
 *
 * Values are kept in their row-blob encoding (rowcodec.h: null, 42, "text",
 * x'0a'), so their types survive; for a deleted-row conflict the whole rows
 * are kept. A record is a function of the merge's inputs only (no clock, no
 * node of its own), so two nodes merging the same commits write the same
 * records and the same tree.
 */
#ifndef TS_SYNC_CONFLICTS_H
#define TS_SYNC_CONFLICTS_H

#include <git2.h>
#include <sqlite3.h>

#include "merge.h"

#define TS_CONFLICTS_TABLE "sync_conflicts"

/* Creates sync_conflicts if missing. */
int ts_conflicts__setup(sqlite3 *db);

/* Where the two sides of a merge came from. */
typedef struct {
	const char *ours_commit, *theirs_commit;   /* 40 hex digits */
	const char *ours_node, *theirs_node;       /* the nodes that made them */
} ts_conflict_origin;

/*
 * A merge's records wait in a temporary table of the connection, written
 * without the database's write lock: _begin empties it, _keep (inside the
 * caller's write transaction) moves them into sync_conflicts, leaving a
 * record already there as it is.
 */
int ts_conflicts__pending_begin(sqlite3 *db);
int ts_conflicts__pending_keep(sqlite3 *db);

/*
 * Adds to the pending records (ts_conflicts__pending_begin first) the
 * record of one conflict. Its id, "k" and 16 hex digits of a hash of what conflicts, is
 * written to id_out.
 */
int ts_conflicts__record(char id_out[20], sqlite3 *db, const ts_merge_conflict *c,
	const ts_conflict_origin *origin);

/*
 * Adds to the pending records a row that breaks a foreign key after a merge: `table`'s row
 * `key` (at `path`) names a missing `parent` in `column`. The row is kept.
 */
int ts_conflicts__record_constraint(char id_out[20], sqlite3 *db, const char *table,
	const char *path, const char *key, const char *column, const char *parent,
	const ts_conflict_origin *origin);

#endif
