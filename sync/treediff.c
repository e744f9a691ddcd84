/*
 * Tree diff (see treediff.h): two sorted entry lists per tree level,
 * merged; below only where a subtree's id differs.
 */
#include "treediff.h"

#include "buf.h"
#include "store.h"
#include "tiersync.h"

typedef struct {
	git_repository *repo;
	const ts_treediff__callbacks *cbs;
	ts_buf path;
} walk;

static int walk_trees(walk *w, const git_tree *a, const git_tree *b);

static int walk_subtrees(walk *w, const git_tree_entry *a, const git_tree_entry *b)
{
	git_tree *ta = NULL, *tb = NULL;
	int error = 0;

	if ((a && git_tree_lookup(&ta, w->repo, git_tree_entry_id(a)) < 0) ||
	    (b && git_tree_lookup(&tb, w->repo, git_tree_entry_id(b)) < 0))
		error = ts_store__git_error(TS_ECORRUPT, w->path.ptr);
	else
		error = walk_trees(w, ta, tb);
	git_tree_free(ta);
	git_tree_free(tb);
	return error;
}

/* One name present in either tree, in both with the same kind. */
static int walk_entry(walk *w, const git_tree_entry *a, const git_tree_entry *b)
{
	const git_tree_entry *e = a ? a : b;
	size_t base = w->path.size;
	int error;

	ts_buf__puts(&w->path, git_tree_entry_name(e));
	if (git_tree_entry_type(e) == GIT_OBJECT_TREE)
		ts_buf__putc(&w->path, '/');
	if (ts_buf__oom(&w->path))
		return TS_ERROR;
	if (git_tree_entry_type(e) != GIT_OBJECT_TREE)
		error = w->cbs->entry(w->path.ptr, a, b, w->cbs->payload);
	else if ((error = w->cbs->enter ? w->cbs->enter(w->path.ptr, a, b, w->cbs->payload) : 1) > 0)
		error = walk_subtrees(w, a, b);
	w->path.size = base;
	w->path.ptr[base] = '\0';
	return error;
}

static int same(const git_tree_entry *a, const git_tree_entry *b)
{
	return git_oid_equal(git_tree_entry_id(a), git_tree_entry_id(b)) &&
		git_tree_entry_filemode_raw(a) == git_tree_entry_filemode_raw(b);
}

/* TS_TREEDIFF_KINDS: `e`, on one side only, must not have its name in
 * `other` as the other kind. */
static int check_kind(walk *w, const git_tree_entry *e, const git_tree *other)
{
	if (!(w->cbs->flags & TS_TREEDIFF_KINDS) || !other || !git_tree_entry_byname(other, git_tree_entry_name(e)))
		return 0;
	return ts_error_set(TS_ECORRUPT, "%s%s is a file on one side and a directory on another",
		w->path.ptr, git_tree_entry_name(e));
}

static int walk_trees(walk *w, const git_tree *a, const git_tree *b)
{
	size_t i = 0, j = 0, na = a ? git_tree_entrycount(a) : 0, nb = b ? git_tree_entrycount(b) : 0;
	int error = 0;

	while (!error && (i < na || j < nb)) {
		const git_tree_entry *ea = i < na ? git_tree_entry_byindex(a, i) : NULL;
		const git_tree_entry *eb = j < nb ? git_tree_entry_byindex(b, j) : NULL;
		int cmp = !ea ? 1 : !eb ? -1 : git_tree_entry_cmp(ea, eb);

		if (cmp < 0)
			eb = NULL;
		else if (cmp > 0)
			ea = NULL;
		i += ea != NULL;
		j += eb != NULL;
		if ((!ea && (error = check_kind(w, eb, a)) < 0) || (!eb && (error = check_kind(w, ea, b)) < 0))
			break;
		if (!ea || !eb || !same(ea, eb))
			error = walk_entry(w, ea, eb);
	}
	return error;
}

int ts_treediff__walk(git_repository *repo, const git_tree *old_tree, const git_tree *new_tree,
	const char *prefix, const ts_treediff__callbacks *cbs)
{
	walk w = { repo, cbs, TS_BUF_INIT };
	int error;

	ts_buf__puts(&w.path, prefix ? prefix : "");
	if (ts_buf__oom(&w.path))
		return TS_ERROR;
	error = walk_trees(&w, old_tree, new_tree);
	ts_buf__dispose(&w.path);
	return error;
}
