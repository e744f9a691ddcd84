/*
 * Walks kept: for a subtree at a path, from one tree id (or none) to
 * another, the blobs that differ below it, as a two-way walk (treediff.h)
 * found them, in its order.
 *
 * A merge takes a directory theirs changed whole, walking it from ours to
 * count and check the rows it changes; the apply that follows diffs ours
 * against the merged tree and comes to the same two subtrees. It takes the
 * changes kept here instead of reading both trees a second time. A kept
 * walk is found only at its own path and ids, so a subtree the merged tree
 * holds in another version (conflict records added after the merge) is
 * walked as before.
 *
 * Bounded: a walk that would take the memo past its bytes is not kept
 * (nor any later one), and its subtree is walked again.
 */
#ifndef TS_SYNC_DIFFMEMO_H
#define TS_SYNC_DIFFMEMO_H

#include <stddef.h>
#include <git2.h>

typedef struct ts_diffmemo ts_diffmemo;

/* One blob that differs; `old_id` NULL when it is new, `new_id` when gone. */
typedef struct {
	const char *path;
	const git_oid *old_id, *new_id;
} ts_diffmemo_change;

/* A memo of at most `max_bytes` (paths and ids); NULL when out of memory. */
ts_diffmemo *ts_diffmemo__new(size_t max_bytes);
void ts_diffmemo__free(ts_diffmemo *m);

/*
 * Keeping the walk of the subtree at `path` (ending in '/') from `old_id`
 * (NULL: none) to `new_id`: begin, add each blob that differs, end with
 * `complete` 0 to drop it (the walk failed). Any call on a NULL memo does
 * nothing; a failure (memory, the bound) only drops the walk.
 */
void ts_diffmemo__begin(ts_diffmemo *m, const char *path, const git_oid *old_id, const git_oid *new_id);
void ts_diffmemo__add(ts_diffmemo *m, const char *path, const git_oid *old_id, const git_oid *new_id);
void ts_diffmemo__end(ts_diffmemo *m, int complete);

/*
 * The kept walk of the subtree at `path` from `old_id` (NULL: none) to
 * `new_id`: 1 and its changes, the *n from *first on (ts_diffmemo__change()
 * reads one; they stay valid while the memo lives), or 0 when none is kept.
 */
int ts_diffmemo__find(size_t *first, size_t *n, const ts_diffmemo *m, const char *path,
	const git_oid *old_id, const git_oid *new_id);
void ts_diffmemo__change(ts_diffmemo_change *out, const ts_diffmemo *m, size_t i);

#endif
