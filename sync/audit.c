/*
 * Audit: reading history back as rows and columns (see audit.h). What
 * changed between two trees comes from treediff.h, which goes below only
 * where subtree ids differ: a one-row commit reads the six trees on that
 * row's path.
 *
 * Blame. Every column of the row starts at the start commit. A commit C
 * that holds a set of unsettled columns looks at its parents in order: a
 * column passes to the first parent whose row has the same value (the
 * whole set passes when the parent's blob id is the same), and stays with
 * C when no parent has it. A column that passes still has the start
 * commit's value, so a parent reached from several children simply merges
 * their sets. Commits come from a topological revwalk (children before
 * parents), so each commit's set is complete when it is handled; the walk
 * ends as soon as no column is unsettled.
 */
#include "audit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diffmemo.h"
#include "error.h"
#include "files.h"
#include "store.h"
#include "tiersync.h"
#include "treediff.h"

#define META_PREFIX TS_STORE_META_DIR "/"

const char *ts_audit__op_name(ts_audit_op op)
{
	switch (op) {
	case TS_AUDIT_INSERT: return "insert";
	case TS_AUDIT_UPDATE: return "update";
	case TS_AUDIT_DELETE: return "delete";
	}
	return "?";
}

/* Re-raises the last error with `what` in front (the message is copied first:
 * ts_error_set() writes into the buffer ts_error_last() reads from). */
static int error_with_context(int code, const char *what)
{
	char msg[512];
	const char *last = ts_error_last();

	snprintf(msg, sizeof(msg), "%s", last ? last : "failed");
	return ts_error_set(code, "%s: %s", what, msg);
}

static int out_of_memory(void)
{
	return ts_error_set(TS_ERROR, "out of memory");
}

int ts_audit__resolve(git_commit **out, git_repository *repo, const char *rev)
{
	git_object *obj = NULL, *peeled = NULL;
	int error;

	*out = NULL;
	if (!rev || !*rev)
		return ts_error_set(TS_EINVALID, "an empty revision");
	if ((error = git_revparse_single(&obj, repo, rev)) < 0) {
		if (error == GIT_EAMBIGUOUS)
			return ts_error_set(TS_EINVALID, "ambiguous revision '%s'; give more of the commit id", rev);
		return ts_error_set(TS_ENOTFOUND, "unknown revision '%s'", rev);
	}
	if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
		error = ts_error_set(TS_EINVALID, "revision '%s' does not name a commit", rev);
		goto done;
	}
	*out = (git_commit *)peeled;
	peeled = NULL;
	error = 0;
done:
	git_object_free(obj);
	git_object_free(peeled);
	return error;
}

/*
 * Tree diff.
 */

/* One change as the walk builds it; `pub` points into the rest. */
typedef struct {
	ts_audit_change pub;
	git_oid old_id, new_id;
	ts_buf path, table, key;
	git_blob *old_blob, *new_blob;
	ts_row *old_row, *new_row;
} change_rec;

static void change_free(change_rec *c)
{
	if (!c)
		return;
	ts_buf__dispose(&c->path);
	ts_buf__dispose(&c->table);
	ts_buf__dispose(&c->key);
	git_blob_free(c->old_blob);
	git_blob_free(c->new_blob);
	ts_row__free(c->old_row);
	ts_row__free(c->new_row);
	free(c);
}

typedef struct {
	git_repository *repo;
	ts_tables *tables;
	unsigned flags;
	/* Gets each change; may keep it by taking *rec (setting it NULL).
	 * A non-zero return stops the walk. */
	int (*sink)(change_rec **rec, void *payload);
	void *payload;
	const ts_diffmemo *memo;   /* walks kept already (NULL: none) */
	int stopped;               /* what the sink stopped a kept walk's changes with */
} tree_walk;

static int load_blob(git_blob **out, const char **data, size_t *len, git_repository *repo,
	const git_oid *id, const char *path)
{
	if (git_blob_lookup(out, repo, id) < 0)
		return ts_store__git_error(TS_ECORRUPT, path);
	*data = git_blob_rawcontent(*out);
	*len = (size_t)git_blob_rawsize(*out);
	return 0;
}

static int decode_row(ts_row **out, const char *data, size_t len, const char *path)
{
	int error = ts_rowcodec__decode(out, data, len);
	if (error < 0)
		return error_with_context(error, path);
	return 0;
}

/* Fills rec->key with the readable key of a row change. */
static void put_row_key(change_rec *rec, ts_tables *tables, const char *name)
{
	const ts_row *row = rec->new_row ? rec->new_row : rec->old_row;
	ts_table *t = tables ? ts_tables__find(tables, rec->table.ptr) : NULL;
	int k, complete = t && row;

	for (k = 0; complete && k < t->npk; k++)
		if (!ts_row__get(row, t->cols[t->pk[k]]))
			complete = 0;
	if (complete)
		ts_table__put_key(&rec->key, t, row);
	else if (!ts_rowcodec__key_name_readable(&rec->key, name))
		ts_buf__puts(&rec->key, name);
}

/* The change at `path` from blob `a` to blob `b` (either NULL: none). */
static int emit_change(tree_walk *w, const char *path, const git_oid *a, const git_oid *b)
{
	change_rec *rec;
	const char *name = NULL;
	int error = 0, is_row = 0, load, load_old;

	if (!(rec = calloc(1, sizeof(*rec))))
		return out_of_memory();
	rec->pub.op = !a ? TS_AUDIT_INSERT : !b ? TS_AUDIT_DELETE : TS_AUDIT_UPDATE;
	ts_buf__puts(&rec->path, path);
	if (a)
		git_oid_cpy(&rec->old_id, a);
	if (b)
		git_oid_cpy(&rec->new_id, b);
	if (!strncmp(path, META_PREFIX, strlen(META_PREFIX)))
		ts_buf__puts(&rec->key, path + strlen(META_PREFIX));
	else if (ts_rowcodec__path_split(&rec->table, &name, path) == 0)
		is_row = 1;
	else
		ts_buf__puts(&rec->key, path);
	load = !is_row || (w->flags & TS_AUDIT_ROWS);
	/* an updated row's old side may be the caller's to read */
	load_old = a && !(is_row && b && (w->flags & TS_AUDIT_NEW_ONLY));
	if (load && load_old && (error = load_blob(&rec->old_blob, &rec->pub.old_data, &rec->pub.old_len,
			w->repo, &rec->old_id, path)) < 0)
		goto done;
	if (load && b && (error = load_blob(&rec->new_blob, &rec->pub.new_data, &rec->pub.new_len,
			w->repo, &rec->new_id, path)) < 0)
		goto done;
	if (is_row && (w->flags & TS_AUDIT_ROWS)) {
		if (load_old && (error = decode_row(&rec->old_row, rec->pub.old_data, rec->pub.old_len, path)) < 0)
			goto done;
		if (b && !(w->flags & TS_AUDIT_NEW_BYTES) &&
		    (error = decode_row(&rec->new_row, rec->pub.new_data, rec->pub.new_len, path)) < 0)
			goto done;
	}
	if (is_row)
		put_row_key(rec, w->tables, name);
	if (ts_buf__oom(&rec->path) || ts_buf__oom(&rec->table) || ts_buf__oom(&rec->key)) {
		error = TS_ERROR;
		goto done;
	}
	/* the buffers are final: point the public view into them */
	rec->pub.path = rec->path.ptr;
	rec->pub.table = is_row ? rec->table.ptr : NULL;
	rec->pub.key = rec->key.ptr;
	rec->pub.old_id = a ? &rec->old_id : NULL;
	rec->pub.new_id = b ? &rec->new_id : NULL;
	rec->pub.old_row = rec->old_row;
	rec->pub.new_row = rec->new_row;
	error = w->sink(&rec, w->payload);
done:
	change_free(rec);
	return error;
}

/* The files kept in history are no rows (files.h), and may be large. A
 * subtree whose walk is kept gives its changes unread. */
static int enter_dir(const char *path, const git_tree_entry *a, const git_tree_entry *b, void *payload)
{
	tree_walk *w = payload;
	size_t first, n, i;
	int error = 0;

	if (ts_files__is_dir(path))
		return 0;
	if (!b || !ts_diffmemo__find(&first, &n, w->memo, path, a ? git_tree_entry_id(a) : NULL,
			git_tree_entry_id(b)))
		return 1;
	for (i = first; !error && i < first + n; i++) {
		ts_diffmemo_change c;
		ts_diffmemo__change(&c, w->memo, i);
		error = emit_change(w, c.path, c.old_id, c.new_id);
	}
	if (error > 0)
		w->stopped = error;   /* the walk stops with an error; run_walk returns this */
	return error ? (error < 0 ? error : TS_ERROR) : 0;
}

static int walk_blob(const char *path, const git_tree_entry *a, const git_tree_entry *b, void *payload)
{
	const git_tree_entry *e = a ? a : b;

	/* anything but a blob (a submodule link) holds no rows; a change of
	 * mode alone changes no row */
	if (git_tree_entry_type(e) != GIT_OBJECT_BLOB ||
	    (a && b && git_oid_equal(git_tree_entry_id(a), git_tree_entry_id(b))))
		return 0;
	return emit_change(payload, path, a ? git_tree_entry_id(a) : NULL, b ? git_tree_entry_id(b) : NULL);
}

static int run_walk(git_repository *repo, const git_tree *old_tree, const git_tree *new_tree,
	ts_tables *tables, unsigned flags, const ts_diffmemo *memo,
	int (*sink)(change_rec **rec, void *payload), void *payload)
{
	tree_walk w = { repo, tables, flags, sink, payload, memo, 0 };
	ts_treediff__callbacks cbs = { enter_dir, walk_blob, &w, 0 };
	int error = ts_treediff__walk(repo, old_tree, new_tree, NULL, &cbs);

	return w.stopped ? w.stopped : error;
}

typedef struct {
	int (*cb)(const ts_audit_change *change, void *payload);
	void *payload;
} diff_sink;

static int diff_one(change_rec **rec, void *payload)
{
	diff_sink *d = payload;
	return d->cb(&(*rec)->pub, d->payload);
}

int ts_audit__diff(git_repository *repo, const git_tree *old_tree, const git_tree *new_tree,
	ts_tables *tables, unsigned flags, const ts_diffmemo *memo,
	int (*cb)(const ts_audit_change *change, void *payload), void *payload)
{
	diff_sink d = { cb, payload };
	return run_walk(repo, old_tree, new_tree, tables, flags, memo, diff_one, &d);
}

int ts_audit__new_row(ts_row **out, const ts_audit_change *change)
{
	return decode_row(out, change->new_data, change->new_len, change->path);
}

int ts_audit__columns(const ts_audit_change *change,
	int (*cb)(const ts_audit_column *column, void *payload), void *payload)
{
	const ts_row *old = change->old_row, *new = change->new_row;
	ts_audit_column col;
	int c, error;

	if (new)
		for (c = 0; c < new->ncol; c++) {
			col.column = new->names[c];
			col.old_value = old ? ts_row__get(old, col.column) : NULL;
			col.new_value = &new->values[c];
			if (col.old_value && ts_value__equal(col.old_value, col.new_value))
				continue;
			if ((error = cb(&col, payload)) != 0)
				return error;
		}
	if (old)
		for (c = 0; c < old->ncol; c++) {
			if (new && ts_row__get(new, old->names[c]))
				continue;
			col.column = old->names[c];
			col.old_value = &old->values[c];
			col.new_value = NULL;
			if ((error = cb(&col, payload)) != 0)
				return error;
		}
	return 0;
}

static int holds_text(const ts_row *row, const char *column, const char *text)
{
	const ts_value *v = ts_row__get(row, column);
	size_t n = strlen(text);
	return v && v->type == SQLITE_TEXT && v->n == n && (n == 0 || !memcmp(v->p, text, n));
}

int ts_audit__change_concerns(const ts_audit_change *change, const char *table,
	const char *column, const char *key)
{
	if (!change->table || !key)
		return 0;
	if (table && !strcmp(change->table, table) && change->key && !strcmp(change->key, key))
		return 1;
	return column && (holds_text(change->old_row, column, key) || holds_text(change->new_row, column, key));
}

/*
 * Log.
 */

typedef struct {
	int (*filter)(const ts_audit_change *change, void *payload);
	void *payload;
	size_t inserts, updates, deletes;
	change_rec **kept;
	size_t nkept, akept;
} log_commit;

static int log_one(change_rec **rec, void *payload)
{
	log_commit *lc = payload;
	change_rec *c = *rec;
	int keep;

	if (!c->pub.table)
		return 0;   /* metadata is not a row */
	switch (c->pub.op) {
	case TS_AUDIT_INSERT: lc->inserts++; break;
	case TS_AUDIT_UPDATE: lc->updates++; break;
	case TS_AUDIT_DELETE: lc->deletes++; break;
	}
	if (!lc->filter)
		return 0;
	if ((keep = lc->filter(&c->pub, lc->payload)) <= 0)
		return keep;
	if (lc->nkept == lc->akept) {
		size_t na = lc->akept ? lc->akept * 2 : 8;
		change_rec **grown = realloc(lc->kept, na * sizeof(*grown));
		if (!grown)
			return out_of_memory();
		lc->kept = grown;
		lc->akept = na;
	}
	lc->kept[lc->nkept++] = c;
	*rec = NULL;
	return 0;
}

/* The first line of a commit message. */
static void put_first_line(ts_buf *out, const char *message)
{
	const char *nl = message ? strchr(message, '\n') : NULL;
	if (message)
		ts_buf__put(out, message, nl ? (size_t)(nl - message) : strlen(message));
	else
		ts_buf__puts(out, "");
}

/* Diffs one commit against its first parent and reports it if wanted. */
static int log_commit_one(git_repository *repo, const git_oid *id, ts_tables *tables,
	int (*filter)(const ts_audit_change *change, void *payload),
	int (*cb)(const ts_audit_entry *entry, void *payload), void *payload)
{
	git_commit *commit = NULL, *parent = NULL;
	git_tree *tree = NULL, *parent_tree = NULL;
	log_commit lc;
	ts_audit_entry entry;
	ts_audit_change *changes = NULL;
	ts_buf summary = TS_BUF_INIT;
	const git_signature *author, *committer;
	size_t k;
	int error;

	memset(&lc, 0, sizeof(lc));
	lc.filter = filter;
	lc.payload = payload;
	if (git_commit_lookup(&commit, repo, id) < 0 || git_commit_tree(&tree, commit) < 0 ||
	    (git_commit_parentcount(commit) > 0 &&
	     (git_commit_parent(&parent, commit, 0) < 0 || git_commit_tree(&parent_tree, parent) < 0))) {
		error = ts_store__git_error(TS_ECORRUPT, git_oid_tostr_s(id));
		goto done;
	}
	if ((error = run_walk(repo, parent_tree, tree, tables, filter ? TS_AUDIT_ROWS : 0, NULL, log_one, &lc)) != 0)
		goto done;
	if (filter && lc.nkept == 0)
		goto done;
	if (lc.nkept && !(changes = calloc(lc.nkept, sizeof(*changes)))) {
		error = out_of_memory();
		goto done;
	}
	for (k = 0; k < lc.nkept; k++)
		changes[k] = lc.kept[k]->pub;
	author = git_commit_author(commit);
	committer = git_commit_committer(commit);
	put_first_line(&summary, git_commit_message(commit));
	if (ts_buf__oom(&summary)) {
		error = TS_ERROR;
		goto done;
	}
	memset(&entry, 0, sizeof(entry));
	entry.id = git_commit_id(commit);
	entry.commit = commit;
	entry.author = author->name;
	entry.node = author->email;
	entry.committer = committer->name;
	entry.time = (int64_t)author->when.time;
	entry.offset = author->when.offset;
	entry.summary = summary.ptr;
	entry.nparents = git_commit_parentcount(commit);
	entry.inserts = lc.inserts;
	entry.updates = lc.updates;
	entry.deletes = lc.deletes;
	entry.changes = changes;
	entry.nchanges = lc.nkept;
	error = cb(&entry, payload);
done:
	for (k = 0; k < lc.nkept; k++)
		change_free(lc.kept[k]);
	free(lc.kept);
	free(changes);
	ts_buf__dispose(&summary);
	git_tree_free(parent_tree);
	git_tree_free(tree);
	git_commit_free(parent);
	git_commit_free(commit);
	return error;
}

int ts_audit__log(git_repository *repo, const char *start, ts_tables *tables,
	int (*filter)(const ts_audit_change *change, void *payload),
	int (*cb)(const ts_audit_entry *entry, void *payload), void *payload)
{
	git_commit *head = NULL;
	git_revwalk *walk = NULL;
	git_oid id;
	int error;

	if ((error = ts_audit__resolve(&head, repo, start ? start : "HEAD")) < 0)
		goto done;
	if (git_revwalk_new(&walk, repo) < 0 ||
	    git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME) < 0 ||
	    git_revwalk_push(walk, git_commit_id(head)) < 0) {
		error = ts_store__git_error(TS_ECORRUPT, "walking the history");
		goto done;
	}
	while ((error = git_revwalk_next(&id, walk)) == 0)
		if ((error = log_commit_one(repo, &id, tables, filter, cb, payload)) != 0)
			goto done;
	if (error == GIT_ITEROVER)
		error = 0;
	else
		error = ts_store__git_error(TS_ECORRUPT, "walking the history");
done:
	git_revwalk_free(walk);
	git_commit_free(head);
	return error;
}

/*
 * Blame.
 */

/* A commit with columns waiting to be settled. */
typedef struct {
	git_oid id;
	unsigned char *cols;   /* one flag per column of the blamed row */
} pending;

typedef struct {
	pending *v;
	size_t n, alloc;
	int ncol;
} pending_set;

static pending *pending_find(pending_set *s, const git_oid *id)
{
	size_t k;
	for (k = 0; k < s->n; k++)
		if (git_oid_equal(&s->v[k].id, id))
			return &s->v[k];
	return NULL;
}

/* The entry of `id`, added with no columns when missing. */
static pending *pending_get(pending_set *s, const git_oid *id)
{
	pending *p = pending_find(s, id);

	if (p)
		return p;
	if (s->n == s->alloc) {
		size_t na = s->alloc ? s->alloc * 2 : 8;
		pending *grown = realloc(s->v, na * sizeof(*grown));
		if (!grown)
			return NULL;
		s->v = grown;
		s->alloc = na;
	}
	p = &s->v[s->n];
	if (!(p->cols = calloc((size_t)s->ncol, 1)))
		return NULL;
	git_oid_cpy(&p->id, id);
	s->n++;
	return p;
}

/* Takes the columns of `p` into `cols` and drops the entry. */
static void pending_take(pending_set *s, pending *p, unsigned char *cols)
{
	memcpy(cols, p->cols, (size_t)s->ncol);
	free(p->cols);
	*p = s->v[--s->n];
}

static void pending_clear(pending_set *s)
{
	size_t k;
	for (k = 0; k < s->n; k++)
		free(s->v[k].cols);
	free(s->v);
}

/* The blob id at `path` in a commit's tree: 1 found, 0 absent, < 0 error. */
static int row_blob_id(git_oid *out, git_commit *commit, const char *path)
{
	git_tree *tree = NULL;
	git_tree_entry *entry = NULL;
	int found = 0, error;

	if (git_commit_tree(&tree, commit) < 0)
		return ts_store__git_error(TS_ECORRUPT, "reading a commit's tree");
	error = git_tree_entry_bypath(&entry, tree, path);
	if (error == 0 && git_tree_entry_type(entry) == GIT_OBJECT_BLOB) {
		git_oid_cpy(out, git_tree_entry_id(entry));
		found = 1;
	} else if (error < 0 && error != GIT_ENOTFOUND)
		found = ts_store__git_error(TS_ECORRUPT, path);
	git_tree_entry_free(entry);
	git_tree_free(tree);
	return found;
}

static int read_row(ts_row **out, git_repository *repo, const git_oid *id, const char *path)
{
	git_blob *blob = NULL;
	const char *data = NULL;
	size_t len = 0;
	int error;

	*out = NULL;
	if ((error = load_blob(&blob, &data, &len, repo, id, path)) < 0)
		return error;
	error = decode_row(out, data, len, path);
	git_blob_free(blob);
	return error;
}

/* Hands the columns of commit `c` (set in `cols`) to its parents where they
 * hold the same values; clears those flags. */
static int pass_to_parents(pending_set *s, git_repository *repo, git_commit *c, const char *path,
	const ts_row *row, unsigned char *cols)
{
	git_commit *parent = NULL;
	ts_row *prow = NULL;
	git_oid own, pid;
	unsigned k, np = git_commit_parentcount(c);
	int col, found, error = 0;

	if ((found = row_blob_id(&own, c, path)) <= 0)
		return found < 0 ? found : ts_error_set(TS_ECORRUPT, "%s is missing from commit %s",
			path, git_oid_tostr_s(git_commit_id(c)));
	for (k = 0; k < np; k++) {
		pending *p = NULL;
		int same;

		if (git_commit_parent(&parent, c, k) < 0) {
			error = ts_store__git_error(TS_ECORRUPT, "reading a parent commit");
			goto done;
		}
		if ((found = row_blob_id(&pid, parent, path)) < 0) {
			error = found;
			goto done;
		}
		same = found && git_oid_equal(&pid, &own);
		if (found && !same && (error = read_row(&prow, repo, &pid, path)) < 0)
			goto done;
		for (col = 0; found && col < row->ncol; col++) {
			const ts_value *pv;
			if (!cols[col])
				continue;
			if (!same && (!(pv = ts_row__get(prow, row->names[col])) || !ts_value__equal(pv, &row->values[col])))
				continue;
			if (!p && !(p = pending_get(s, git_commit_id(parent)))) {
				error = out_of_memory();
				goto done;
			}
			p->cols[col] = 1;
			cols[col] = 0;
		}
		ts_row__free(prow);
		prow = NULL;
		git_commit_free(parent);
		parent = NULL;
	}
done:
	ts_row__free(prow);
	git_commit_free(parent);
	return error;
}

/* Reports the settled columns, in the row's order. */
static int blame_report(git_repository *repo, const ts_row *row, const git_oid *who,
	int (*cb)(const ts_audit_blame_line *line, void *payload), void *payload)
{
	git_commit *commit = NULL;
	ts_buf summary = TS_BUF_INIT;
	ts_audit_blame_line line;
	int col, error = 0;

	for (col = 0; col < row->ncol && !error; col++) {
		const git_signature *author;
		if (!commit || !git_oid_equal(git_commit_id(commit), &who[col])) {
			git_commit_free(commit);
			commit = NULL;
			if (git_commit_lookup(&commit, repo, &who[col]) < 0) {
				error = ts_store__git_error(TS_ECORRUPT, "reading a commit");
				break;
			}
			ts_buf__clear(&summary);
			put_first_line(&summary, git_commit_message(commit));
			if (ts_buf__oom(&summary)) {
				error = TS_ERROR;
				break;
			}
		}
		author = git_commit_author(commit);
		line.column = row->names[col];
		line.value = &row->values[col];
		line.commit = git_commit_id(commit);
		line.author = author->name;
		line.node = author->email;
		line.time = (int64_t)author->when.time;
		line.offset = author->when.offset;
		line.summary = summary.ptr;
		error = cb(&line, payload);
	}
	git_commit_free(commit);
	ts_buf__dispose(&summary);
	return error;
}

int ts_audit__blame(git_repository *repo, const char *start, const char *path,
	int (*cb)(const ts_audit_blame_line *line, void *payload), void *payload)
{
	git_commit *head = NULL, *c = NULL;
	git_revwalk *walk = NULL;
	pending_set set = { NULL, 0, 0, 0 };
	unsigned char *cols = NULL;
	git_oid *who = NULL, id, blob;
	ts_row *row = NULL;
	pending *p;
	int unsettled, col, found, error;

	if (!start)
		start = "HEAD";
	if ((error = ts_audit__resolve(&head, repo, start)) < 0)
		goto done;
	if ((found = row_blob_id(&blob, head, path)) <= 0) {
		error = found < 0 ? found : ts_error_set(TS_ENOTFOUND, "no row %s in %s", path, start);
		goto done;
	}
	if ((error = read_row(&row, repo, &blob, path)) < 0)
		goto done;
	if ((unsettled = set.ncol = row->ncol) == 0)
		goto done;
	who = calloc((size_t)row->ncol, sizeof(*who));
	cols = calloc((size_t)row->ncol, 1);
	if (!who || !cols || !(p = pending_get(&set, git_commit_id(head)))) {
		error = out_of_memory();
		goto done;
	}
	memset(p->cols, 1, (size_t)row->ncol);
	if (git_revwalk_new(&walk, repo) < 0 ||
	    git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME) < 0 ||
	    git_revwalk_push(walk, git_commit_id(head)) < 0) {
		error = ts_store__git_error(TS_ECORRUPT, "walking the history");
		goto done;
	}
	while (unsettled > 0 && (error = git_revwalk_next(&id, walk)) == 0) {
		if (!(p = pending_find(&set, &id)))
			continue;
		pending_take(&set, p, cols);
		if (git_commit_lookup(&c, repo, &id) < 0) {
			error = ts_store__git_error(TS_ECORRUPT, "reading a commit");
			goto done;
		}
		if ((error = pass_to_parents(&set, repo, c, path, row, cols)) < 0)
			goto done;
		for (col = 0; col < row->ncol; col++)
			if (cols[col]) {
				git_oid_cpy(&who[col], &id);
				unsettled--;
			}
		git_commit_free(c);
		c = NULL;
	}
	if (error < 0 && error != GIT_ITEROVER) {
		error = ts_store__git_error(TS_ECORRUPT, "walking the history");
		goto done;
	}
	if (unsettled > 0) {
		error = ts_error_set(TS_ECORRUPT, "the history of %s ends before every column is accounted for", path);
		goto done;
	}
	error = blame_report(repo, row, who, cb, payload);
done:
	git_commit_free(c);
	git_commit_free(head);
	git_revwalk_free(walk);
	pending_clear(&set);
	free(cols);
	free(who);
	ts_row__free(row);
	return error;
}

/*
 * Row paths from a table name and a key as typed.
 */

/* 1 when the declared type gives INTEGER affinity (SQLite's first rule). */
static int integer_affinity(const char *type)
{
	const char *p;
	for (p = type; p && *p; p++)
		if ((p[0] == 'I' || p[0] == 'i') && (p[1] == 'N' || p[1] == 'n') && (p[2] == 'T' || p[2] == 't'))
			return 1;
	return 0;
}

/* Parses a plain decimal integer that fits in 64 bits. */
static int parse_integer(int64_t *out, const char *s)
{
	const char *p = s;
	uint64_t v = 0, limit;
	int negative = 0;

	if (*p == '-') {
		negative = 1;
		p++;
	}
	if (!*p || (*p == '0' && p[1]))
		return 0;
	limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || v > (limit - (uint64_t)(*p - '0')) / 10)
			return 0;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (negative && v == 0)
		return 0;   /* "-0" is not how a key is written */
	*out = negative ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
	return 1;
}

int ts_audit__row_path(ts_buf *out, sqlite3 *db, ts_tables *tables, const char *table, const char *key)
{
	sqlite3_stmt *st = NULL;
	ts_table *t = ts_tables__find(tables, table);
	ts_value v;
	int error = 0, integer = 0;

	memset(&v, 0, sizeof(v));
	if (!t) {
		ts_buf names = TS_BUF_INIT;
		int k;
		for (k = 0; k < tables->n; k++)
			ts_buf__printf(&names, "%s%s", k ? ", " : "", tables->list[k].name);
		error = ts_error_set(TS_ENOTFOUND, "no synced table '%s' (tables: %s)", table, ts_buf__cstr(&names));
		ts_buf__dispose(&names);
		return error;
	}
	if (t->npk != 1)
		return ts_error_set(TS_EINVALID, "table %s has a key of %d columns; only single-column keys "
			"can be named here", table, t->npk);
	if (sqlite3_prepare_v2(db, "SELECT type FROM pragma_table_info(?1) WHERE name = ?2", -1, &st, NULL) != SQLITE_OK) {
		error = ts_sqlite__error(db, "reading table %s", table);
		goto done;
	}
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, t->cols[t->pk[0]], -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		integer = integer_affinity((const char *)sqlite3_column_text(st, 0));
	if (integer && parse_integer(&v.i, key))
		v.type = SQLITE_INTEGER;
	else {
		v.type = SQLITE_TEXT;
		v.p = (char *)key;
		v.n = strlen(key);
	}
	error = ts_rowcodec__key_path_values(out, table, 1, &v);
done:
	sqlite3_finalize(st);
	return error;
}

/*
 * Rendering.
 */

void ts_audit__time_format(char out[32], int64_t time, int offset_minutes)
{
	time_t t = (time_t)(time + (int64_t)offset_minutes * 60);
	int off = offset_minutes < 0 ? -offset_minutes : offset_minutes;
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm) != 19) {
		snprintf(out, 32, "@%lld", (long long)time);
		return;
	}
	snprintf(out + 19, 13, "%c%02d:%02d", offset_minutes < 0 ? '-' : '+', (off / 60) % 100, off % 60);
}

void ts_audit__put_value(ts_buf *out, const ts_value *v)
{
	if (!v || v->type == SQLITE_NULL)
		ts_buf__puts(out, "NULL");
	else if (ts_rowcodec__put_value(out, v->type, v->i, v->r, v->p, v->n) < 0)
		ts_buf__puts(out, "nan");   /* the only value the encoding refuses */
}

