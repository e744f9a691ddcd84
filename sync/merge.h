/*
 * Merge: the three-way merge of two states' trees against their merge
 * base, row by row and column by column (DESIGN.md, "Between nodes").
 *
 * Works on any history written by the store (store.h): row blobs at the
 * paths of rowcodec.h and engine metadata under _tiersync/. Nothing here
 * knows what the tables mean; what goes on while a conflict waits is the
 * caller's policy, and every conflict is handed to the caller to record.
 *
 * Rules, on the entries of each tree level:
 *   - ours and theirs the same: ours.
 *   - base the same as ours: theirs (a subtree is taken by walking only
 *     where ours and theirs differ); base the same as theirs: ours.
 *   - all three differ: a subtree is descended into; a blob is merged as a
 *     row (below), or for _tiersync/schema-version refused (TS_EINVALID,
 *     "schema versions differ"); any other path is not a row (TS_ECORRUPT).
 *   A row changed on both sides:
 *   - both present with a base: per column, in the merged row's column
 *     order (a column missing on a side counts as NULL there): changed on
 *     one side only -> that side; the same change on both -> it; different
 *     changes -> a TS_MERGE_COLUMN conflict, the value from the policy.
 *   - no base (inserted on both sides, differently): columns equal on both
 *     are kept, each differing column is a TS_MERGE_INSERT conflict.
 *   - deleted on one side, changed on the other: a TS_MERGE_UPDATE_DELETE or
 *     TS_MERGE_DELETE_UPDATE conflict; the policy keeps or deletes the row.
 *   A row deleted on one side and unchanged on the other is deleted.
 *   Files kept in history (files.h, under _tiersync/files/) are no rows:
 *   the result holds the union of both sides' files, taken by blob id
 *   without reading them; one name with two different blobs is TS_ECORRUPT.
 *
 * Determinism: the result depends only on (base, ours, theirs) and the
 * policy's answers, so every node gets the same tree id. Under the default
 * policy merging theirs into ours gives the same tree as ours into theirs:
 * the merged row's columns are ordered without regard to which side is
 * ours (the order of the side with more columns, ties broken by the
 * bytewise greater list of names, then the other side's extra columns in
 * its order), and the default choice is symmetric.
 */
#ifndef TS_SYNC_MERGE_H
#define TS_SYNC_MERGE_H

#include <stddef.h>
#include <git2.h>

#include "diffmemo.h"
#include "progress.h"
#include "rowcodec.h"
#include "store.h"
#include "tables.h"

/* What a conflict is about. */
typedef enum {
	TS_MERGE_COLUMN = 1,    /* both sides changed one column to different values */
	TS_MERGE_INSERT,        /* both sides inserted the key with different rows: reported per
	                         * differing column, base absent */
	TS_MERGE_UPDATE_DELETE, /* ours updated the row, theirs deleted it */
	TS_MERGE_DELETE_UPDATE  /* ours deleted it, theirs updated it */
} ts_merge_kind;

/* "column", "insert", "update/delete", "delete/update". */
const char *ts_merge__kind_name(ts_merge_kind kind);

/*
 * One conflict, as the merge hands it to on_conflict. Everything is owned
 * by the merge and valid only during the callback.
 */
typedef struct {
	ts_merge_kind kind;
	const char *table;
	const char *path;           /* the row's path in the tree */
	const char *key;            /* the key, readable: as verify prints it when
	                             * ts_merge_options.tables knows the table ("a=1, b=x"
	                             * for keys of several columns), else read back from
	                             * the key name ("1, x") */
	const char *column;         /* NULL for the two delete kinds */
	const ts_value *base, *ours, *theirs;   /* column kinds; NULL = that side has no row
	                                         * (a column missing from a side's row is a
	                                         * NULL value there) */
	const ts_value *chosen;     /* the provisional value the merge put in (column kinds) */
	const ts_row *base_row, *ours_row, *theirs_row;   /* the whole rows, NULL where absent:
	                                                   * what review needs, above all for
	                                                   * the delete kinds */
	int row_kept;               /* delete kinds: 1 if the merged tree keeps the updated row */
	int settled;                /* the policy settled it: no review needed */
} ts_merge_conflict;

/*
 * A policy decides what goes on while a conflict waits. For a column
 * conflict (TS_MERGE_COLUMN, TS_MERGE_INSERT; base NULL for the latter), set
 * *chosen to one of base/ours/theirs, or to another value owned by the
 * payload and alive until the merge returns, and *settles; for a delete
 * conflict (column and values NULL) set *keep_row and *settles. On entry
 * *chosen is NULL, *keep_row 1 and *settles 0. Return 0, or < 0 to abort
 * the merge (which then returns that value).
 */
typedef int (*ts_merge_policy)(void *payload, ts_merge_kind kind, const char *table,
	const char *column, const ts_value *base, const ts_value *ours, const ts_value *theirs,
	const ts_value **chosen, int *keep_row, int *settles);

/*
 * The default policy (used when ts_merge_options.policy is NULL): a column
 * conflict takes whichever of ours and theirs has the bytewise greater
 * value encoding (ts_rowcodec__put_value), so the outcome does not depend on
 * which node merges; a delete conflict keeps the row. Nothing is settled.
 */
int ts_merge__default_policy(void *payload, ts_merge_kind kind, const char *table,
	const char *column, const ts_value *base, const ts_value *ours, const ts_value *theirs,
	const ts_value **chosen, int *keep_row, int *settles);

typedef struct {
	ts_merge_policy policy;      /* NULL: ts_merge__default_policy */
	void *policy_payload;
	/* Called for every conflict, in path order then column order. May be
	 * NULL; a non-zero return aborts the merge, which returns it (a
	 * positive value as TS_ERROR). */
	int (*on_conflict)(const ts_merge_conflict *c, void *payload);
	void *conflict_payload;
	/* The synced tables, to print keys as verify does; may be NULL. Only
	 * column names are read; the merge itself never looks at a schema. */
	ts_tables *tables;
	/* The walk's progress, phase "merging trees": rows decided so far
	 * (taken from theirs or merged). May be NULL. */
	ts_progress_meter *progress;
	/* Keeps the walk of each directory taken whole from theirs (its
	 * changes against ours, diffmemo.h), for the apply that follows.
	 * May be NULL. */
	ts_diffmemo *memo;
} ts_merge_options;

typedef struct {
	size_t rows_taken_theirs;    /* rows written or deleted as theirs has them (changed there only) */
	size_t rows_merged;          /* rows changed on both sides, merged row by row */
	size_t conflicts;            /* conflicts reported (one per column, or per deleted row) */
	size_t settled;              /* of which the policy settled */
	size_t trees_read;           /* trees the walk looked up: follows the changes, not the size
	                              * (building the result then reads ours' trees on the
	                              * updated paths, in ts_store__tree_update) */
} ts_merge_stats;

/*
 * Merges `theirs_tree` into `ours_tree` against `base_tree` (NULL when there
 * is no common ancestor: the empty tree). Writes the merged tree's id to
 * *out; new objects go to the store's batch and the caller flushes them.
 * `opts` and `stats` may be NULL. On failure *out is zeroed. Objects are
 * written only once every conflict is decided, so an abort (a policy, the
 * callback, a refused schema version, a damaged tree) adds nothing to the
 * batch; should writing itself fail, ts_store__discard() drops what it left.
 */
int ts_merge__trees(git_oid *out, ts_merge_stats *stats, ts_store *store, const git_oid *base_tree,
	const git_oid *ours_tree, const git_oid *theirs_tree, const ts_merge_options *opts);

#endif
