/*
 * The urgent commit: urgent reports sent ahead of a backlog, by a push
 * (node/remote_node.c) or in a bundle (node/bundle_node.c).
 *
 *   parent   a commit the upper node's main is known to hold: for a push,
 *            refs/remotes/<remote>/main as last fetched; for a bundle,
 *            the commit the bundle builds on
 *   tree     the parent's tree, plus each urgent_reports row of this
 *            node's main that the parent lacks (its blob as committed),
 *            plus the cases row each of them names when the parent lacks
 *            it (so that the foreign key holds there)
 *   ref      refs/urgent-out/<remote> here, refs/urgent/<node id> there
 *
 * Merged above against that parent, it brings the reports and nothing
 * else; main, sent next, brings the same rows again with the same
 * bytes, which merge without a conflict. The upper node checks this shape
 * (node/admit_node.c) before it admits the commit as usual.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "node.h"
#include "rowcodec.h"
#include "treediff.h"

#define URGENT_TABLE "urgent_reports"

typedef struct {
	git_repository *repo;
	ts_store_update *updates;
	size_t n, alloc;
	git_oid *ids;              /* the blob each update links */
	size_t ids_alloc;
	size_t reports;
	ts_buf reporters;          /* distinct reporters, joined by ", " */
	ts_buf message;
} urgent_rows;

static void urgent_rows_dispose(urgent_rows *u)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		free((char *)u->updates[i].path);
	free(u->updates);
	free(u->ids);
	ts_buf__dispose(&u->reporters);
	ts_buf__dispose(&u->message);
}

static int urgent_add(urgent_rows *u, const char *path, const git_oid *blob)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		if (!strcmp(u->updates[i].path, path))
			return 0;
	if (u->n == u->ids_alloc) {
		size_t alloc = u->ids_alloc ? u->ids_alloc * 2 : 8;
		git_oid *ids = realloc(u->ids, alloc * sizeof(*ids));
		if (!ids)
			return ts_error_set(TS_ERROR, "out of memory");
		u->ids = ids;
		u->ids_alloc = alloc;
	}
	if (ts_store__update_reserve(&u->updates, u->n, &u->alloc) < 0)
		return TS_ERROR;
	git_oid_cpy(&u->ids[u->n], blob);
	if (!(u->updates[u->n].path = strdup(path)))
		return ts_error_set(TS_ERROR, "out of memory");
	u->updates[u->n].len = TS_STORE_LINK;
	u->n++;
	return 0;
}

static const char *row_text(const ts_row *row, const char *column)
{
	const ts_value *v = ts_row__get(row, column);
	return v && v->type == SQLITE_TEXT ? v->p : NULL;
}

/* 1 when `name` is one of the ", "-separated names of `list`. */
static int name_listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	for (p = list; (p = strstr(p, name)) != NULL; p += n)
		if ((p == list || (p >= list + 2 && !strncmp(p - 2, ", ", 2))) && (!p[n] || !strncmp(p + n, ", ", 2)))
			return 1;
	return 0;
}

/* Each urgent report row of main that the parent lacks. */
static int urgent_entry(const char *path, const git_tree_entry *before, const git_tree_entry *after, void *payload)
{
	urgent_rows *u = payload;
	git_blob *blob = NULL;
	ts_row *row = NULL;
	const char *who, *subject, *id;
	int error;

	if (before || !after || git_tree_entry_type(after) != GIT_OBJECT_BLOB)
		return 0;   /* held above already; what changed since travels with main */
	if ((error = urgent_add(u, path, git_tree_entry_id(after))) < 0)
		return error;
	if (git_blob_lookup(&blob, u->repo, git_tree_entry_id(after)) < 0)
		return ts_store__git_error(TS_ECORRUPT, "reading an urgent report");
	error = ts_rowcodec__decode(&row, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	git_blob_free(blob);
	if (error < 0)
		return error;
	u->reports++;
	id = row_text(row, "id");
	subject = row_text(row, "subject");
	who = row_text(row, "reporter");
	ts_buf__printf(&u->message, "%s: %s\n", id ? id : "?", subject ? subject : "");
	if (who && !name_listed(ts_buf__cstr(&u->reporters), who))
		ts_buf__printf(&u->reporters, "%s%s", u->reporters.size ? ", " : "", who);
	ts_row__free(row);
	return ts_buf__oom(&u->message) || ts_buf__oom(&u->reporters) ? TS_ERROR : 0;
}

/* The case rows the reports name that `parent` lacks, from `head`. */
static int urgent_cases(urgent_rows *u, git_tree *parent, git_tree *head)
{
	size_t i, n = u->n;
	int error = 0;

	for (i = 0; i < n && !error; i++) {
		git_blob *blob = NULL;
		git_tree_entry *e = NULL;
		ts_row *row = NULL;
		ts_buf path = TS_BUF_INIT;
		const ts_value *c;

		if (git_blob_lookup(&blob, u->repo, &u->ids[i]) < 0)
			return ts_store__git_error(TS_ECORRUPT, "reading an urgent report");
		error = ts_rowcodec__decode(&row, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
		git_blob_free(blob);
		if (error < 0)
			return error;
		if ((c = ts_row__get(row, "case_id")) && c->type != SQLITE_NULL &&
		    (error = ts_rowcodec__key_path_values(&path, "cases", 1, c)) == 0) {
			if (parent && git_tree_entry_bypath(&e, parent, path.ptr) == 0)
				git_tree_entry_free(e);     /* held above already */
			else if (git_tree_entry_bypath(&e, head, path.ptr) == 0) {
				error = urgent_add(u, path.ptr, git_tree_entry_id(e));
				git_tree_entry_free(e);
			} else
				error = ts_error_set(TS_ECORRUPT, "urgent report names case %s, which main lacks",
					c->type == SQLITE_TEXT ? c->p : "?");
		}
		ts_row__free(row);
		ts_buf__dispose(&path);
	}
	return error;
}

static int subtree(git_tree **out, git_repository *repo, git_tree *tree, const char *name)
{
	const git_tree_entry *e;

	*out = NULL;
	if (!tree || !(e = git_tree_entry_byname(tree, name)) || git_tree_entry_type(e) != GIT_OBJECT_TREE)
		return 0;
	if (git_tree_lookup(out, repo, git_tree_entry_id(e)) < 0)
		return ts_store__git_error(TS_ECORRUPT, "reading the urgent reports' tree");
	return 0;
}

int ts_urgent_commit__make(ts_urgent_push_stats *urgent, ts_node *node, const git_oid *parent_id,
	const char *ref)
{
	git_repository *repo = ts_store__repo(node->store);
	git_commit *head_c = NULL, *parent_c = NULL, *old = NULL;
	git_tree *head_t = NULL, *parent_t = NULL, *head_u = NULL, *parent_u = NULL;
	ts_treediff__callbacks cbs = { NULL, urgent_entry, NULL, 0 };
	urgent_rows u;
	ts_buf msg = TS_BUF_INIT;
	ts_store_who a, c;
	git_oid head, parent, tree, made;
	size_t i;
	int error, locked = 0;

	memset(&u, 0, sizeof(u));
	u.repo = repo;
	cbs.payload = &u;
	if ((error = ts_store__ref_get(&head, node->store, TS_STORE_MAIN)) < 0)
		goto done;
	if (!parent_id) {
		urgent->no_base = 1;
		goto done;
	}
	git_oid_cpy(&parent, parent_id);
	git_oid_tostr(urgent->parent, sizeof(urgent->parent), &parent);
	if (git_commit_lookup(&head_c, repo, &head) < 0 || git_commit_tree(&head_t, head_c) < 0 ||
	    git_commit_lookup(&parent_c, repo, &parent) < 0 || git_commit_tree(&parent_t, parent_c) < 0) {
		error = ts_store__git_error(TS_ECORRUPT, "reading the commits the urgent commit is made of");
		goto done;
	}
	if ((error = subtree(&head_u, repo, head_t, URGENT_TABLE)) < 0 ||
	    (error = subtree(&parent_u, repo, parent_t, URGENT_TABLE)) < 0 || !head_u)
		goto done;
	if ((error = ts_treediff__walk(repo, parent_u, head_u, URGENT_TABLE "/", &cbs)) < 0 || !u.reports)
		goto done;
	if ((error = urgent_cases(&u, parent_t, head_t)) < 0)
		goto done;
	for (i = 0; i < u.n; i++)
		u.updates[i].data = (const char *)&u.ids[i];
	if ((error = ts_store__lock(node->store)) < 0)
		goto done;
	locked = 1;
	if ((error = ts_store__tree_update(&tree, node->store, git_commit_tree_id(parent_c), u.updates, u.n)) < 0)
		goto done;
	urgent->reports = u.reports;
	/* the same reports on the same parent: the commit made before still serves */
	if (ts_store__ref_get(&made, node->store, ref) == 0 && git_commit_lookup(&old, repo, &made) == 0 &&
	    git_oid_equal(git_commit_tree_id(old), &tree) && git_commit_parentcount(old) == 1 &&
	    git_oid_equal(git_commit_parent_id(old, 0), &parent)) {
		ts_store__discard(node->store);
		git_oid_tostr(urgent->commit, sizeof(urgent->commit), &made);
		goto done;
	}
	ts_buf__printf(&msg, "urgent reports of %s: %zu\n\n%s", node->scope, u.reports, ts_buf__cstr(&u.message));
	if (ts_buf__oom(&msg)) {
		error = TS_ERROR;
		goto done;
	}
	ts_node__who(&a, node->id, u.reporters.size ? u.reporters.ptr : node->id, ts_node__now());
	ts_node__who(&c, node->id, node->id, ts_node__now());
	/* no journal writes this commit again: it is synced before its ref moves */
	if ((error = ts_store__commit(&made, NULL, node->store, &tree, &parent, 1, &a, &c, msg.ptr)) < 0 ||
	    (error = ts_store__flush(node->store)) < 0 ||
	    (error = ts_store__sync(node->store)) < 0 ||
	    (error = ts_store__ref_set(node->store, ref, &made, "urgent reports")) < 0)
		goto done;
	git_oid_tostr(urgent->commit, sizeof(urgent->commit), &made);
done:
	if (error < 0 && locked)
		ts_store__discard(node->store);
	if (locked)
		ts_store__unlock(node->store);
	git_commit_free(old);
	git_commit_free(head_c);
	git_commit_free(parent_c);
	git_tree_free(head_t);
	git_tree_free(parent_t);
	git_tree_free(head_u);
	git_tree_free(parent_u);
	urgent_rows_dispose(&u);
	ts_buf__dispose(&msg);
	return error;
}
