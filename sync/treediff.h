/*
 * Tree diff: the entries that differ between two git trees, found by
 * walking both side by side and going below only where a subtree's id
 * differs.
 *
 * libgit2's git_diff_tree_to_tree() expands every subtree of both trees
 * (libgit2 1.5 compares leaf entries even under subtrees whose ids are
 * equal: about 0.25 s for one changed row among 200,000), so anything that
 * reads history commit by commit would pay the size of the tables for each
 * commit. This walk merges the two sorted entry lists of each tree level:
 * a one-row change reads the six trees on that row's path.
 */
#ifndef TS_SYNC_TREEDIFF_H
#define TS_SYNC_TREEDIFF_H

#include <git2.h>

typedef struct {
	/*
	 * Called for each subtree whose id differs on the two sides (either
	 * entry may be NULL), before the walk goes below it; `path` ends in
	 * '/'. Returns 1 to go below, 0 to pass it by, < 0 to stop the walk
	 * with that error. NULL: always go below.
	 */
	int (*enter)(const char *path, const git_tree_entry *old_entry, const git_tree_entry *new_entry,
		void *payload);
	/*
	 * Called for each entry that is not a tree (a blob, a link, a
	 * submodule commit) and differs by id or by mode, or is on one side
	 * only (the other entry NULL). A non-zero return stops the walk and
	 * is returned.
	 */
	int (*entry)(const char *path, const git_tree_entry *old_entry, const git_tree_entry *new_entry,
		void *payload);
	void *payload;
	/* TS_TREEDIFF_KINDS: a name that is a tree on one side and not a tree
	 * on the other is TS_ECORRUPT ("PATH is a file on one side and a
	 * directory on another"), not two entries */
	unsigned flags;
} ts_treediff__callbacks;

#define TS_TREEDIFF_KINDS 1u

/*
 * Walks what differs from `old_tree` to `new_tree` (either NULL: the empty
 * tree) in git's path order (a tree "x" sorts as "x/", apart from a blob
 * "x", so the two are different entries, unless TS_TREEDIFF_KINDS). The
 * paths given to the callbacks start with `prefix` (NULL: none; the trees'
 * own path, ending in '/', when they are subtrees). The entries and paths
 * given to the callbacks are valid only during the call. A subtree that cannot be
 * read is TS_ECORRUPT, naming its path.
 */
int ts_treediff__walk(git_repository *repo, const git_tree *old_tree, const git_tree *new_tree,
	const char *prefix, const ts_treediff__callbacks *cbs);

#endif
