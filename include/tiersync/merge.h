/*
 * tiersync/merge.h — merging another node's work, submissions from below, the review queue of conflicts and their resolution.
 * Part of the public API; include "tiersync.h" for all of it.
 */
#ifndef TIERSYNC_MERGE_H
#define TIERSYNC_MERGE_H

#include <stddef.h>
#include <stdint.h>
#include "tiersync/node.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Merging (node/merge_node.c).
 *
 * A merge brings a commit into the node's main: a fast-forward when the
 * node's history holds nothing the commit lacks, else a three-way merge
 * of rows and columns committed with both parents. A column changed on
 * both sides to different values, an insert of one key on both sides, an
 * update against a delete, and a row left breaking a foreign key are
 * conflicts: each is recorded in the review queue (below) with both
 * values, and the schema's policy decides the value that stands meanwhile
 * (and may settle the conflict outright). A merge never stops on a
 * conflict. Staged local work is committed first, under its own authors.
 *
 * What comes from another node is checked before any of it is written
 * (ts_node_admit()): a submission (refs/submissions/<node id>) as the
 * offer of the node its ref names, a remote's main (refs/remotes/...) as
 * an offer from above.
 */

/* How a merge moved the node's main. */
typedef enum {
	TS_MERGE_UP_TO_DATE = 0,   /* the commit was already in the node's history */
	TS_MERGE_FAST_FORWARD,     /* main moved to the commit */
	TS_MERGE_MERGED            /* a merge commit with both parents */
} ts_merge_result;

/* "up to date", "fast-forward", "merged"; NULL for any other value. The
 * string is static. */
const char *ts_merge_result_name(ts_merge_result result);

/* What one merge did. A plain struct the caller owns; nothing in it to free.
 * (Named for ts_node_merge(): the library's tree merge underneath keeps
 * counts of its own.) */
typedef struct {
	ts_merge_result result;
	size_t rows_written;           /* rows inserted or updated in the database */
	size_t rows_deleted;           /* rows deleted from the database */
	size_t conflicts;              /* column and row conflicts recorded */
	size_t settled;                /* of those, settled by a policy (not for review) */
	size_t constraint_conflicts;   /* rows left breaking a foreign key, recorded for review */
} ts_node_merge_stats;

/*
 * Merges the commit `rev` names (a ref such as refs/submissions/bj.dc.jingshan
 * or refs/remotes/upstream/main, or anything git's rev-parse takes) into
 * the node's main. `author` names who merges (NULL: the node's identity;
 * TS_EINVALID when neither is set); the committer is the node. `message`
 * is the merge commit's message, used as given; NULL gives "merge REV\n".
 * Writes the node's main after the merge (40 hex digits + NUL) to `id_out`
 * and what the merge did to *stats (may be NULL).
 *
 * TS_ENOTFOUND for an unknown revision; TS_EDENIED (or TS_ECORRUPT) when
 * the commit is not admissible, with nothing written.
 */
int ts_node_merge(char id_out[41], ts_node_merge_stats *stats, ts_node *node, const char *rev,
	const char *author, const char *message);

/*
 * Progress of a merge, and of the apply that follows a merge or a
 * fast-forward (the database following the tree), for whatever merges at
 * the node: ts_node_merge(), ts_node_merge_submissions(), a pull's merge,
 * ts_bundle_import(). A long merge or apply goes through phases, each a
 * name that is a static string:
 *
 *   "merging trees"          the three-way walk of a merge (not of a
 *                            fast-forward); current: rows decided so far
 *   "comparing trees"        the rows the apply will write, counted;
 *                            current: rows found so far
 *   "writing rows"           current of total rows written into, or
 *                            deleted from, the database
 *   "checking foreign keys"  current of total rows the apply wrote or
 *                            deleted, checked for broken foreign keys
 *
 * "comparing trees" runs only while a callback is set: it costs a walk of
 * the changed trees, and buys the total of "writing rows".
 */
typedef struct {
	const char *phase;   /* one of the names above */
	size_t current;      /* done so far in this phase */
	size_t total;        /* how many the phase has, when known, else 0 */
	double seconds;      /* since the phase began */
	int done;            /* 1 on the phase's last call, success or not */
} ts_progress;

/* Called when a phase begins (current 0), at most every 0.1 s while it
 * runs, and once with done = 1 when it ends. It must not use the node. */
typedef void (*ts_progress_cb)(const ts_progress *progress, void *payload);

/* Sets the node's progress callback (NULL: none, the default) and the
 * payload passed to it, for every merge from now until the node is freed
 * or another is set. */
void ts_node_set_progress(ts_node *node, ts_progress_cb cb, void *payload);

/*
 * The outcome of merging one submission, passed to the callback of
 * ts_node_merge_submissions(). Its strings live until the callback
 * returns; copy what you keep.
 */
typedef struct {
	const char *node;          /* the submitting node's id */
	char commit[41];           /* the node's main after the merge ("" when it failed) */
	ts_node_merge_stats stats; /* what the merge did (zero when it failed) */
	int error;                 /* 0, or the TS_E* code of this submission's failure */
	const char *message;       /* the failure's message, or NULL */
	int urgent;                /* 1: the node's urgent reports (refs/urgent/<node id>) */
} ts_submission_result;

/*
 * Merges every pending submission, refs/submissions/<node id>, one merge
 * commit each with the message "merge submission of <node id>\n", in the
 * order of the node ids, after every node's urgent reports,
 * refs/urgent/<node id> ("merge urgent reports of <node id>\n"; admitted
 * as ts_node_admit_urgent() says), in the same order (so that every node merging the same submissions
 * makes the same history). One failing does not stop the others. `cb`
 * (may be NULL) hears of each, success or not; a non-zero return stops
 * the merging. `author` as in ts_node_merge(). Returns 0 when every
 * submission merged, else the code of the first that failed.
 */
int ts_node_merge_submissions(ts_node *node, const char *author,
	int (*cb)(const ts_submission_result *result, void *payload), void *payload);

/*
 * The review queue (node/merge_node.c).
 *
 * Every conflict a merge meets is a row of the synced table sync_conflicts:
 * it travels up and down the tiers with the history, and two nodes that
 * merge the same commits record the same conflicts under the same ids. A
 * record is open until an administrator resolves it, or settled when a
 * policy decided it at the merge.
 */

/* A conflict's state; the values are bits, to be combined in a filter. */
typedef enum {
	TS_CONFLICT_OPEN = 1 << 0,       /* waits for review */
	TS_CONFLICT_SETTLED = 1 << 1,    /* a policy decided it at the merge */
	TS_CONFLICT_RESOLVED = 1 << 2    /* an administrator decided it (ts_node_resolve()) */
} ts_conflict_status;

/* Every status, for ts_conflict_filter.status. */
#define TS_CONFLICT_ALL (TS_CONFLICT_OPEN | TS_CONFLICT_SETTLED | TS_CONFLICT_RESOLVED)

/* "open", "settled", "resolved"; NULL for any other value. The string is
 * static. */
const char *ts_conflict_status_name(ts_conflict_status status);

/*
 * One record of the review queue, as a callback sees it. Every string
 * lives until the callback returns; copy what you keep.
 *
 * Values are in their display form, the row-blob encoding of the history
 * (null, 42, 1.5, "text" with quotes, x'0a' for bytes), which keeps their
 * types apart. For the whole-row kinds (update/delete, delete/update) a
 * side is its whole row, one "column value" line each, or NULL where that
 * side deleted it, and `provisional` is "row kept" or "row deleted". For a
 * constraint conflict `theirs` is "names missing <the record>" and
 * `provisional` "row kept".
 */
typedef struct {
	const char *id;              /* "k" and 16 hex digits */
	const char *kind;            /* "column", "insert", "update/delete", "delete/update"
	                              * or "constraint" */
	ts_conflict_status status;
	const char *table;           /* the table of the row in conflict */
	const char *key;             /* the row's primary key, readable */
	const char *column;          /* the column, or NULL for a whole-row conflict */
	const char *base;            /* the value at the merge base, or NULL */
	const char *ours;            /* the merging node's value, or NULL */
	const char *theirs;          /* the merged commit's value, or NULL */
	const char *provisional;     /* the value the merge put in meanwhile, or NULL */
	const char *ours_commit;     /* 40 hex digits, or NULL */
	const char *ours_node;       /* the node that made ours_commit, or NULL */
	const char *theirs_commit;
	const char *theirs_node;
	const char *resolution;      /* "ours", "theirs" or "value" once resolved, else NULL */
	const char *resolved_value;  /* the value taken: a side's display form, or the
	                              * text given with "value"; NULL while not resolved */
	const char *resolved_by;     /* the administrator's name, or NULL */
	const char *resolved_at;     /* "YYYY-MM-DDTHH:MM:SS+08:00", or NULL */
} ts_conflict_info;

#define TS_CONFLICT_FILTER_VERSION 1

/*
 * Which records ts_node_conflicts() passes on. A field left zero or NULL
 * restricts nothing. Set `version` to TS_CONFLICT_FILTER_VERSION, or
 * start from TS_CONFLICT_FILTER_INIT. The caller owns the filter and its
 * strings; they are read only during the call.
 */
typedef struct {
	unsigned int version;
	unsigned int status;         /* ts_conflict_status bits (TS_CONFLICT_ALL), or 0 for all */
	const char *table;           /* only conflicts about rows of this table */
	const char *key;             /* only about the row with this readable key */
} ts_conflict_filter;

#define TS_CONFLICT_FILTER_INIT { TS_CONFLICT_FILTER_VERSION, 0, NULL, NULL }

/*
 * Calls `cb` for each record of the review queue that `filter` lets
 * through (NULL: every record), ordered by table, key, column (whole-row
 * conflicts first) and id. A non-zero return from `cb` stops the walk, and
 * ts_node_conflicts() returns that value. TS_EINVALID for a filter of an
 * unknown version. A caller that wants the queue proper asks for
 * TS_CONFLICT_OPEN, as `tiersync conflicts` does.
 */
int ts_node_conflicts(ts_node *node, const ts_conflict_filter *filter,
	int (*cb)(const ts_conflict_info *conflict, void *payload), void *payload);

/*
 * Calls `cb` once with the record `id`, whatever its status, and returns
 * what `cb` returns. TS_ENOTFOUND when the node has no such record. `cb`
 * may be NULL, to ask only whether the record exists.
 */
int ts_node_conflict(ts_node *node, const char *id,
	int (*cb)(const ts_conflict_info *conflict, void *payload), void *payload);

/*
 * Resolves conflict `conflict` (its id) of the review queue, open or
 * settled: the row's column takes `take` ("ours" or "theirs") or, instead,
 * `value` (text, converted to the column's declared type). A whole-row
 * conflict takes a side only: its row, or its delete. A constraint
 * conflict takes a value only (an existing record, or NULL where the
 * column allows). The change and the record of who decided (`author`,
 * NULL: the node's identity) and when go into one commit, whose id is
 * written to `id_out`; staged local work is committed first.
 *
 * TS_ENOTFOUND for an unknown conflict, TS_EDENIED for one already
 * resolved, TS_EINVALID for a take or value the conflict does not allow.
 */
int ts_node_resolve(char id_out[41], ts_node *node, const char *conflict, const char *take,
	const char *value, const char *author);

#ifdef __cplusplus
}
#endif

#endif
