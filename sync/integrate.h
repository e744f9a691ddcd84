/*
 * Integrate: bring another node's commit into this node's history and
 * database. A fast-forward when history allows; otherwise a three-way merge
 * (merge.h) committed with both parents, its conflicts recorded in the
 * review queue (conflicts.h), the result applied to the database (apply.h),
 * all as one durable step. A merge never stops on a conflict.
 */
#ifndef TS_SYNC_INTEGRATE_H
#define TS_SYNC_INTEGRATE_H

#include <git2.h>
#include <sqlite3.h>

#include "merge.h"
#include "store.h"

typedef enum {
	TS_INTEGRATE_UP_TO_DATE = 0,   /* theirs was already in our history */
	TS_INTEGRATE_FAST_FORWARD,     /* our head moved to theirs */
	TS_INTEGRATE_MERGED            /* a merge commit */
} ts_integrate_result;

typedef struct {
	ts_integrate_result result;
	size_t upserts, deletes;       /* rows written into the database */
	size_t conflicts, settled;     /* conflicts recorded, and of those settled by policy */
	size_t constraint_conflicts;   /* rows left breaking a foreign key */
} ts_integrate_stats;

/*
 * Integrates commit `theirs` (its objects already in the store) into the
 * head the database records. The database's write lock is taken only in
 * short transactions, so local writes go on meanwhile; what is staged,
 * before or during it, stays staged, laid over the result (a rebase).
 * `author` names who merges; the committer is the node. `policy` may be
 * NULL (the default policy). Writes the new head to *out. `progress` (may
 * be NULL) hears of the long phases: the merge's walk, the apply's rows
 * (counted first when it reports to someone) and the foreign keys checked
 * after it.
 */
int ts_integrate(git_oid *out, ts_integrate_stats *stats, sqlite3 *db, ts_store *store,
	const git_oid *theirs, const ts_store_who *author, const ts_store_who *committer,
	const char *message, ts_merge_policy policy, void *policy_payload, ts_progress_meter *progress);

/*
 * The tree a merge of `theirs` into `ours` is made against: the best common
 * ancestor's, or with several (criss-cross) a virtual one built as git's
 * recursive strategy does. *found is 0 when there is none (the empty tree).
 */
int ts_integrate__base(git_oid *out, int *found, ts_store *store, const git_oid *ours, const git_oid *theirs);

/*
 * Undoes an integration the process did not live to finish (ts_meta holds
 * the tree its apply was moving to): the database goes back to its head,
 * staged writes laid over it. *recovered is 1 if there was one. Called by
 * open.
 */
int ts_integrate__recover(sqlite3 *db, ts_store *store, int *recovered);

#endif
