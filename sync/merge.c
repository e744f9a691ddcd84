/*
 * Merge: the three-way merge of two trees against their merge base (see
 * merge.h for the rules).
 *
 * The walk. The entries of a tree level in base, ours and theirs are read
 * side by side in git's order (names as bytes, a tree's as if it ended in
 * '/'), which is also the order of full paths, so conflicts come out in
 * path order. An entry whose id is the same in ours and in theirs, or in
 * base and ours, or in base and theirs, is decided by its id alone: the
 * walk goes below only where all three differ, and a one-row change on
 * each side reads the trees on those two rows' paths.
 *
 * The result. The merged tree is ours plus a list of updates (a blob to
 * put or a path to remove), built at the end by ts_store__tree_update(),
 * which rewrites only the trees on the updated paths. Taking theirs' side
 * of a subtree that only theirs changed becomes the updates that turn
 * ours' subtree into theirs', found by a two-way walk that again goes
 * below only where ids differ. Nothing reaches the store's batch before
 * the whole merge is decided, so a policy or callback that aborts leaves
 * nothing behind.
 *
 * Rows. A row blob changed on both sides is decoded and merged column by
 * column. A column missing from a side's row is NULL there when values are
 * compared; whether the merged row has the column at all is merged the
 * same three-way way (present in base, ours, theirs), and a column that
 * ends up with a non-NULL value is always present. The merged row's
 * column order is that of the side with more columns (ties: the bytewise
 * greater list of names), followed by the other side's extra columns, so
 * it does not depend on which side is ours.
 *
 * Files. The files kept in history (files.h) are not walked: the result
 * keeps ours' files directory, plus every file of theirs that ours lacks
 * (ts_files__missing()), put by blob id without reading a file. A file is
 * thus never lost, and the same name must mean the same blob.
 */
#include "merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "treediff.h"
#include "tiersync.h"

#define META_PREFIX TS_STORE_META_DIR "/"

/* An update of the merged tree: owned copies. */
typedef struct {
	char *path;
	char *data;        /* NULL: remove the path */
	size_t len;
} pending;

typedef struct {
	ts_store *store;
	git_repository *repo;
	const ts_merge_options *opts;
	ts_merge_policy policy;
	void *policy_payload;
	ts_merge_stats stats;
	ts_buf path;       /* the path being walked */
	ts_buf key;        /* scratch: the readable key of a conflicting row */
	pending *updates;
	size_t nupdates, capupdates;
} merger;

/* A row changed on both sides, as the merge sees it. */
typedef struct {
	const char *table;
	const char *name;  /* the encoded key name (the path's last component) */
	const char *key;   /* readable; filled at the row's first conflict */
	const git_blob *ours_blob, *theirs_blob;
	const ts_row *base, *ours, *theirs;
} row_merge;

static const ts_value null_value = { SQLITE_NULL, 0, 0.0, NULL, 0 };

const char *ts_merge__kind_name(ts_merge_kind kind)
{
	switch (kind) {
	case TS_MERGE_COLUMN: return "column";
	case TS_MERGE_INSERT: return "insert";
	case TS_MERGE_UPDATE_DELETE: return "update/delete";
	case TS_MERGE_DELETE_UPDATE: return "delete/update";
	}
	return "?";
}

static int out_of_memory(void)
{
	return ts_error_set(TS_ERROR, "out of memory");
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

/*
 * The default policy.
 */

/* Compares the row-blob encodings of two values bytewise (a prefix first). */
static int encoding_cmp(int *cmp, const ts_value *a, const ts_value *b)
{
	ts_buf ea = TS_BUF_INIT, eb = TS_BUF_INIT;
	size_t n;
	int error;

	if ((error = ts_rowcodec__put_value(&ea, a->type, a->i, a->r, a->p, a->n)) < 0 ||
	    (error = ts_rowcodec__put_value(&eb, b->type, b->i, b->r, b->p, b->n)) < 0)
		goto done;
	n = ea.size < eb.size ? ea.size : eb.size;
	*cmp = n ? memcmp(ea.ptr, eb.ptr, n) : 0;
	if (!*cmp)
		*cmp = ea.size < eb.size ? -1 : ea.size > eb.size;
done:
	ts_buf__dispose(&ea);
	ts_buf__dispose(&eb);
	return error;
}

int ts_merge__default_policy(void *payload, ts_merge_kind kind, const char *table,
	const char *column, const ts_value *base, const ts_value *ours, const ts_value *theirs,
	const ts_value **chosen, int *keep_row, int *settles)
{
	int cmp = 0, error = 0;

	(void)payload;
	(void)table;
	(void)column;
	(void)base;
	*settles = 0;
	if (kind == TS_MERGE_UPDATE_DELETE || kind == TS_MERGE_DELETE_UPDATE) {
		*keep_row = 1;
		goto done;
	}
	if ((error = encoding_cmp(&cmp, ours, theirs)) < 0)
		goto done;
	*chosen = cmp >= 0 ? ours : theirs;
done:
	return error;
}

/*
 * Readable keys.
 */

/* Fills m->key with the readable key of the row `r`. */
static int put_row_key(merger *m, const row_merge *r)
{
	const ts_row *row = r->ours ? r->ours : r->theirs ? r->theirs : r->base;
	ts_table *t = m->opts && m->opts->tables ? ts_tables__find(m->opts->tables, r->table) : NULL;
	int k, complete = t && row && t->npk > 0;

	ts_buf__clear(&m->key);
	for (k = 0; complete && k < t->npk; k++)
		if (!ts_row__get(row, t->cols[t->pk[k]]))
			complete = 0;
	if (complete)
		ts_table__put_key(&m->key, t, row);
	else if (!ts_rowcodec__key_name_readable(&m->key, r->name))
		ts_buf__puts(&m->key, r->name);
	ts_buf__puts(&m->key, "");   /* an empty key still reads as "" */
	return ts_buf__oom(&m->key) ? TS_ERROR : 0;
}

/*
 * Updates and reads.
 */

/* Records an update of the current path: put `data` (copied), or remove it
 * when NULL; with `len` TS_STORE_LINK (TS_STORE_LINK_TREE), `data` is the
 * id of a blob (a tree) the store holds, copied too. */
static int add_update(merger *m, const char *data, size_t len)
{
	size_t copy = len == TS_STORE_LINK || len == TS_STORE_LINK_TREE ? sizeof(git_oid) : len;
	pending *p;
	int error = 0;

	if (m->nupdates == m->capupdates) {
		size_t cap = m->capupdates ? m->capupdates * 2 : 64;
		pending *grown = realloc(m->updates, cap * sizeof(*grown));
		if (!grown) {
			error = out_of_memory();
			goto done;
		}
		m->updates = grown;
		m->capupdates = cap;
	}
	p = &m->updates[m->nupdates];
	memset(p, 0, sizeof(*p));
	if (!(p->path = strdup(m->path.ptr))) {
		error = out_of_memory();
		goto done;
	}
	if (data) {
		if (!(p->data = malloc(copy ? copy : 1))) {
			free(p->path);
			error = out_of_memory();
			goto done;
		}
		if (copy)
			memcpy(p->data, data, copy);
		p->len = len;
	}
	m->nupdates++;
done:
	return error;
}

/* One more row decided, for the progress of the walk. */
static void row_decided(merger *m)
{
	ts_progress__update(m->opts ? m->opts->progress : NULL, m->stats.rows_taken_theirs + m->stats.rows_merged);
}

static int is_row_path(const char *path)
{
	return strncmp(path, META_PREFIX, strlen(META_PREFIX)) != 0;
}

static int lookup_tree(git_tree **out, merger *m, const git_tree_entry *e)
{
	*out = NULL;
	if (!e)
		return 0;
	m->stats.trees_read++;
	if (git_tree_lookup(out, m->repo, git_tree_entry_id(e)) < 0)
		return ts_store__git_error(TS_ECORRUPT, m->path.ptr);
	return 0;
}

static int lookup_blob(git_blob **out, merger *m, const git_tree_entry *e)
{
	*out = NULL;
	if (!e)
		return 0;
	if (git_blob_lookup(out, m->repo, git_tree_entry_id(e)) < 0)
		return ts_store__git_error(TS_ECORRUPT, m->path.ptr);
	return 0;
}

/* 1 when two entries (either may be NULL) hold the same object. */
static int same_entry(const git_tree_entry *a, const git_tree_entry *b)
{
	if (!a || !b)
		return a == b;
	return git_oid_equal(git_tree_entry_id(a), git_tree_entry_id(b));
}

/*
 * git's order keeps a tree "x" apart from a blob "x", so the walk sees them
 * as two names; a name that is a directory on one side and a file on
 * another is not a tree the store writes. `trees` lacks an entry under e's
 * name and kind; TS_ECORRUPT if one of them has the name as the other kind.
 */
static int check_kind(merger *m, const git_tree_entry *e, git_tree *const *trees,
	const git_tree_entry *const *entries, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!entries[i] && trees[i] && git_tree_entry_byname(trees[i], git_tree_entry_name(e)))
			return ts_error_set(TS_ECORRUPT, "%s is a file on one side and a directory on another",
				m->path.ptr);
	return 0;
}

static int push_name(merger *m, const git_tree_entry *e)
{
	ts_buf__puts(&m->path, git_tree_entry_name(e));
	if (git_tree_entry_type(e) == GIT_OBJECT_TREE)
		ts_buf__putc(&m->path, '/');
	return ts_buf__oom(&m->path) ? TS_ERROR : 0;
}

static void pop_name(merger *m, size_t size)
{
	m->path.size = size;
	m->path.ptr[size] = '\0';
}

/* 1 when `e`, below the current path, is the directory of files. */
static int is_files_dir(merger *m, const git_tree_entry *e)
{
	return git_tree_entry_type(e) == GIT_OBJECT_TREE && !strcmp(m->path.ptr, META_PREFIX) &&
		!strcmp(git_tree_entry_name(e), &TS_FILES_DIR[strlen(META_PREFIX)]);
}

static int unknown_entry_at(const char *path)
{
	return ts_error_set(TS_ECORRUPT, "%s is neither a row nor a directory", path);
}

static int unknown_entry(merger *m)
{
	return unknown_entry_at(m->path.ptr);
}

/*
 * Taking theirs: the updates that turn ours' entry into theirs' (either
 * may be NULL) at the current path plus its name; below a tree, by a
 * two-way walk (treediff.h) whose paths start with the tree's.
 */

/* Below the current path: the files kept in history are taken apart
 * (their union), and each tree the walk reads is counted. */
static int take_theirs_enter(const char *path, const git_tree_entry *eo, const git_tree_entry *et, void *payload)
{
	merger *m = payload;

	if (ts_files__is_dir(path))
		return 0;
	m->stats.trees_read += (eo != NULL) + (et != NULL);
	return 1;
}

/* Their blob goes in by its id, unread: the store holds it (admission read
 * it); their lack of one removes ours. */
static int take_theirs_blob(merger *m, const git_tree_entry *eo, const git_tree_entry *et)
{
	const git_tree_entry *e = et ? et : eo;
	int error;

	if (git_tree_entry_type(e) != GIT_OBJECT_BLOB)
		return unknown_entry(m);
	error = et ? add_update(m, (const char *)git_tree_entry_id(et), TS_STORE_LINK) : add_update(m, NULL, 0);
	if (!error && is_row_path(m->path.ptr)) {
		m->stats.rows_taken_theirs++;
		row_decided(m);
	}
	return error;
}

static int take_theirs_path(const char *path, const git_tree_entry *eo, const git_tree_entry *et, void *payload)
{
	merger *m = payload;
	size_t size = m->path.size;
	int error;

	/* the walk's paths start with the current one */
	ts_buf__clear(&m->path);
	ts_buf__puts(&m->path, path);
	error = ts_buf__oom(&m->path) ? TS_ERROR : take_theirs_blob(m, eo, et);
	pop_name(m, size);
	return error;
}

/* A row that a tree taken whole changes: counted, and checked to be a
 * row (their tree goes in as it is, so a mode the store would not write
 * is refused, not carried in). */
static int count_theirs_path(const char *path, const git_tree_entry *eo, const git_tree_entry *et, void *payload)
{
	merger *m = payload;

	if (et ? git_tree_entry_filemode_raw(et) != GIT_FILEMODE_BLOB : git_tree_entry_type(eo) != GIT_OBJECT_BLOB)
		return unknown_entry_at(path);
	if (m->opts)
		ts_diffmemo__add(m->opts->memo, path, eo ? git_tree_entry_id(eo) : NULL, et ? git_tree_entry_id(et) : NULL);
	m->stats.rows_taken_theirs++;
	row_decided(m);
	return 0;
}

/* Makes the entry at the current path (plus its name) what theirs has. A
 * directory of rows goes in whole, by their tree's id, once the walk from
 * ours (none, on a first pull) has counted and checked the rows it
 * changes: the trees below are theirs already, not rebuilt row by row. */
static int take_theirs(merger *m, const git_tree_entry *eo, const git_tree_entry *et)
{
	ts_treediff__callbacks cbs = { take_theirs_enter, take_theirs_path, m, TS_TREEDIFF_KINDS };
	ts_treediff__callbacks count = { take_theirs_enter, count_theirs_path, m, TS_TREEDIFF_KINDS };
	const git_tree_entry *e = et ? et : eo;
	git_tree *ours = NULL, *theirs = NULL;
	size_t size = m->path.size;
	int error;

	if (is_files_dir(m, e))
		return 0;   /* the union of files is taken apart */
	if ((error = push_name(m, e)) < 0)
		goto done;
	if (git_tree_entry_type(e) != GIT_OBJECT_TREE)
		error = take_theirs_blob(m, eo, et);
	else if (et && is_row_path(m->path.ptr)) {
		ts_diffmemo *memo = m->opts ? m->opts->memo : NULL;
		ts_diffmemo__begin(memo, m->path.ptr, eo ? git_tree_entry_id(eo) : NULL, git_tree_entry_id(et));
		if ((error = lookup_tree(&ours, m, eo)) == 0 && (error = lookup_tree(&theirs, m, et)) == 0 &&
		    (error = ts_treediff__walk(m->repo, ours, theirs, m->path.ptr, &count)) == 0) {
			pop_name(m, m->path.size - 1);   /* the tree's path, without its slash */
			error = add_update(m, (const char *)git_tree_entry_id(et), TS_STORE_LINK_TREE);
		}
		ts_diffmemo__end(memo, error == 0);
	} else if ((error = lookup_tree(&ours, m, eo)) == 0 && (error = lookup_tree(&theirs, m, et)) == 0)
		error = ts_treediff__walk(m->repo, ours, theirs, m->path.ptr, &cbs);
done:
	git_tree_free(ours);
	git_tree_free(theirs);
	pop_name(m, size);
	return error;
}

/*
 * Conflicts.
 */

static int report(merger *m, row_merge *r, ts_merge_kind kind, const char *column,
	const ts_value *base, const ts_value *ours, const ts_value *theirs,
	const ts_value *chosen, int row_kept, int settled)
{
	ts_merge_conflict c;
	int error = 0;

	m->stats.conflicts++;
	if (settled)
		m->stats.settled++;
	if (!m->opts || !m->opts->on_conflict)
		goto done;
	if (!r->key) {
		if ((error = put_row_key(m, r)) < 0)
			goto done;
		r->key = m->key.ptr;
	}
	memset(&c, 0, sizeof(c));
	c.kind = kind;
	c.table = r->table;
	c.path = m->path.ptr;
	c.key = r->key;
	c.column = column;
	c.base = base;
	c.ours = ours;
	c.theirs = theirs;
	c.chosen = chosen;
	c.base_row = r->base;
	c.ours_row = r->ours;
	c.theirs_row = r->theirs;
	c.row_kept = row_kept;
	c.settled = settled;
	if ((error = m->opts->on_conflict(&c, m->opts->conflict_payload)) > 0)
		error = ts_error_set(TS_ERROR, "the conflict callback stopped the merge at %s", m->path.ptr);
done:
	return error;
}

/* One side deleted the row, the other changed it. */
static int merge_delete(merger *m, row_merge *r, ts_merge_kind kind)
{
	const ts_value *chosen = NULL;
	int keep = 1, settles = 0, error;

	if ((error = m->policy(m->policy_payload, kind, r->table, NULL, NULL, NULL, NULL,
			&chosen, &keep, &settles)) < 0)
		goto done;
	keep = keep != 0;
	settles = settles != 0;
	if (kind == TS_MERGE_DELETE_UPDATE && keep)
		error = add_update(m, git_blob_rawcontent(r->theirs_blob),
			(size_t)git_blob_rawsize(r->theirs_blob));
	else if (kind == TS_MERGE_UPDATE_DELETE && !keep)
		error = add_update(m, NULL, 0);
	if (error < 0)
		goto done;
	error = report(m, r, kind, NULL, NULL, NULL, NULL, NULL, keep, settles);
done:
	return error;
}

/* Compares the column-name lists of two rows (longer first, then bytewise). */
static int names_cmp(const ts_row *a, const ts_row *b)
{
	int c, cmp;

	if (a->ncol != b->ncol)
		return a->ncol > b->ncol ? 1 : -1;
	for (c = 0; c < a->ncol; c++)
		if ((cmp = strcmp(a->names[c], b->names[c])) != 0)
			return cmp;
	return 0;
}

/* The merged row's columns: see the top of the file. */
static int merged_columns(const char ***out, int *n, const ts_row *ours, const ts_row *theirs)
{
	const ts_row *first = names_cmp(ours, theirs) >= 0 ? ours : theirs;
	const ts_row *second = first == ours ? theirs : ours;
	const char **names;
	int c;

	*out = NULL;
	*n = 0;
	if (!(names = malloc(((size_t)first->ncol + (size_t)second->ncol + 1) * sizeof(*names))))
		return out_of_memory();
	for (c = 0; c < first->ncol; c++)
		names[(*n)++] = first->names[c];
	for (c = 0; c < second->ncol; c++)
		if (!ts_row__get(first, second->names[c]))
			names[(*n)++] = second->names[c];
	*out = names;
	return 0;
}

/* Both sides have the row (and base has it unless both inserted it). */
static int merge_columns(merger *m, row_merge *r)
{
	const char **names = NULL;
	ts_value *values = NULL;
	ts_buf blob = TS_BUF_INIT;
	int ncol = 0, nout = 0, c, error;
	ts_merge_kind kind = r->base ? TS_MERGE_COLUMN : TS_MERGE_INSERT;

	if ((error = merged_columns(&names, &ncol, r->ours, r->theirs)) < 0)
		goto done;
	if (!(values = calloc((size_t)ncol + 1, sizeof(*values)))) {
		error = out_of_memory();
		goto done;
	}
	for (c = 0; c < ncol; c++) {
		const ts_value *vb = ts_row__get(r->base, names[c]), *vo = ts_row__get(r->ours, names[c]);
		const ts_value *vt = ts_row__get(r->theirs, names[c]);
		const ts_value *b = vb ? vb : &null_value, *o = vo ? vo : &null_value;
		const ts_value *t = vt ? vt : &null_value, *chosen = NULL;
		int pb = vb != NULL, po = vo != NULL, pt = vt != NULL, present, keep = 1, settles = 0;

		if (ts_value__equal(o, t))
			chosen = o;
		else if (r->base && ts_value__equal(b, o))
			chosen = t;
		else if (r->base && ts_value__equal(b, t))
			chosen = o;
		else {
			if ((error = m->policy(m->policy_payload, kind, r->table, names[c],
					r->base ? b : NULL, o, t, &chosen, &keep, &settles)) < 0)
				goto done;
			if (!chosen) {
				error = ts_error_set(TS_EINVALID, "the merge policy chose no value for %s.%s",
					r->table, names[c]);
				goto done;
			}
			if ((error = report(m, r, kind, names[c], r->base ? b : NULL, o, t, chosen,
					0, settles != 0)) < 0)
				goto done;
		}
		/* whether the column exists merges like a value; a value needs its column */
		present = po == pt ? po : pb == po ? pt : po;
		if (present || chosen->type != SQLITE_NULL) {
			names[nout] = names[c];
			values[nout++] = *chosen;
		}
	}
	if ((error = ts_rowcodec__encode_values(&blob, nout, names, values)) < 0) {
		error = error_with_context(error, m->path.ptr);
		goto done;
	}
	if (blob.size != (size_t)git_blob_rawsize(r->ours_blob) ||
	    (blob.size && memcmp(blob.ptr, git_blob_rawcontent(r->ours_blob), blob.size)))
		error = add_update(m, blob.ptr ? blob.ptr : "", blob.size);
done:
	ts_buf__dispose(&blob);
	free(values);
	free(names);
	return error;
}

static int decode_row(ts_row **out, const git_blob *blob, const char *path)
{
	int error;

	*out = NULL;
	if (!blob)
		return 0;
	if ((error = ts_rowcodec__decode(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob))) < 0)
		return error_with_context(error, path);
	return 0;
}

/* A blob that differs in all three trees (absent in at most one). */
static int merge_blob(merger *m, const git_tree_entry *eb, const git_tree_entry *eo,
	const git_tree_entry *et)
{
	git_blob *bb = NULL, *bo = NULL, *bt = NULL;
	ts_row *base = NULL, *ours = NULL, *theirs = NULL;
	ts_buf table = TS_BUF_INIT;
	row_merge r;
	const char *name = NULL;
	int error;

	if (!strcmp(m->path.ptr, TS_STORE_SCHEMA_PATH)) {
		error = ts_error_set(TS_EINVALID, "schema versions differ: both sides changed %s",
			TS_STORE_SCHEMA_PATH);
		goto done;
	}
	if ((error = ts_rowcodec__path_split(&table, &name, m->path.ptr)) < 0)
		goto done;
	if ((error = lookup_blob(&bb, m, eb)) < 0 || (error = lookup_blob(&bo, m, eo)) < 0 ||
	    (error = lookup_blob(&bt, m, et)) < 0)
		goto done;
	if ((error = decode_row(&base, bb, m->path.ptr)) < 0 ||
	    (error = decode_row(&ours, bo, m->path.ptr)) < 0 ||
	    (error = decode_row(&theirs, bt, m->path.ptr)) < 0)
		goto done;
	memset(&r, 0, sizeof(r));
	r.table = table.ptr;
	r.name = name;
	r.ours_blob = bo;
	r.theirs_blob = bt;
	r.base = base;
	r.ours = ours;
	r.theirs = theirs;
	m->stats.rows_merged++;
	row_decided(m);
	if (!ours)
		error = merge_delete(m, &r, TS_MERGE_DELETE_UPDATE);
	else if (!theirs)
		error = merge_delete(m, &r, TS_MERGE_UPDATE_DELETE);
	else
		error = merge_columns(m, &r);
done:
	ts_row__free(base);
	ts_row__free(ours);
	ts_row__free(theirs);
	git_blob_free(bb);
	git_blob_free(bo);
	git_blob_free(bt);
	ts_buf__dispose(&table);
	return error;
}

/*
 * The three-way walk.
 */

static int merge_trees(merger *m, git_tree *base, git_tree *ours, git_tree *theirs);

/* One name and kind in any of the three trees, below the current path. */
static int merge_entry(merger *m, git_tree *const *trees, const git_tree_entry *const *entries)
{
	const git_tree_entry *eb = entries[0], *eo = entries[1], *et = entries[2];
	const git_tree_entry *e = eo ? eo : et ? et : eb;
	git_tree *sb = NULL, *so = NULL, *st = NULL;
	size_t size = m->path.size;
	int error = 0;

	if (same_entry(eo, et) || same_entry(eb, et) || is_files_dir(m, e))
		goto done;                          /* ours already is the result */
	if ((error = check_kind(m, e, trees, entries, 3)) < 0)
		goto done;
	if (same_entry(eb, eo)) {
		error = take_theirs(m, eo, et);
		goto done;
	}
	if ((error = push_name(m, e)) < 0)
		goto done;
	if (git_tree_entry_type(e) == GIT_OBJECT_TREE) {
		if ((error = lookup_tree(&sb, m, eb)) < 0 || (error = lookup_tree(&so, m, eo)) < 0 ||
		    (error = lookup_tree(&st, m, et)) < 0)
			goto done;
		error = merge_trees(m, sb, so, st);
	} else if (git_tree_entry_type(e) == GIT_OBJECT_BLOB)
		error = merge_blob(m, eb, eo, et);
	else
		error = unknown_entry(m);
done:
	git_tree_free(sb);
	git_tree_free(so);
	git_tree_free(st);
	pop_name(m, size);
	return error;
}

static int merge_trees(merger *m, git_tree *base, git_tree *ours, git_tree *theirs)
{
	git_tree *trees[3] = { base, ours, theirs };
	size_t at[3] = { 0, 0, 0 }, count[3];
	int s, error = 0;

	for (s = 0; s < 3; s++)
		count[s] = trees[s] ? git_tree_entrycount(trees[s]) : 0;
	for (;;) {
		const git_tree_entry *head[3], *least = NULL;

		for (s = 0; s < 3; s++) {
			head[s] = at[s] < count[s] ? git_tree_entry_byindex(trees[s], at[s]) : NULL;
			if (head[s] && (!least || git_tree_entry_cmp(head[s], least) < 0))
				least = head[s];
		}
		if (!least)
			break;
		for (s = 0; s < 3; s++) {
			if (head[s] && git_tree_entry_cmp(head[s], least) != 0)
				head[s] = NULL;
			at[s] += head[s] != NULL;
		}
		if ((error = merge_entry(m, trees, head)) < 0)
			break;
	}
	return error;
}

/* The root tree `id` (NULL or the empty tree: *out NULL, nothing read). */
static int lookup_root(git_tree **out, merger *m, const git_oid *id, const git_oid *empty)
{
	*out = NULL;
	if (!id || git_oid_equal(id, empty))
		return 0;
	m->stats.trees_read++;
	if (git_tree_lookup(out, m->repo, id) < 0)
		return ts_store__git_error(TS_ECORRUPT, "reading a tree to merge");
	return 0;
}

int ts_merge__trees(git_oid *out, ts_merge_stats *stats, ts_store *store, const git_oid *base_tree,
	const git_oid *ours_tree, const git_oid *theirs_tree, const ts_merge_options *opts)
{
	merger m;
	git_oid empty;
	git_tree *base = NULL, *ours = NULL, *theirs = NULL;
	ts_store_update *updates = NULL;
	ts_file *files = NULL;
	char (*paths)[TS_FILES_PATH_SIZE] = NULL;
	const git_oid *kept = NULL;
	size_t nfiles = 0, i;
	int error = 0;

	memset(out, 0, sizeof(*out));
	memset(&m, 0, sizeof(m));
	if (!store || !ours_tree || !theirs_tree) {
		error = ts_error_set(TS_EINVALID, "a merge needs a store and both sides' trees");
		goto done;
	}
	m.store = store;
	m.repo = ts_store__repo(store);
	m.opts = opts;
	m.policy = opts && opts->policy ? opts->policy : ts_merge__default_policy;
	m.policy_payload = opts && opts->policy ? opts->policy_payload : NULL;
	if (git_odb_hash(&empty, "", 0, GIT_OBJECT_TREE) < 0) {
		error = ts_store__git_error(TS_ERROR, "hashing the empty tree");
		goto done;
	}
	if (!base_tree)
		base_tree = &empty;
	if (git_oid_equal(ours_tree, theirs_tree)) {
		git_oid_cpy(out, ours_tree);
		goto done;
	}
	/* one side is the result: it takes what files the other adds */
	if (git_oid_equal(base_tree, theirs_tree) || git_oid_equal(base_tree, ours_tree)) {
		const git_oid *result = git_oid_equal(base_tree, theirs_tree) ? ours_tree : theirs_tree;
		const git_oid *other = result == ours_tree ? theirs_tree : ours_tree;
		git_oid_cpy(out, result);
		if (git_oid_equal(other, &empty) || git_oid_equal(result, &empty))
			goto done;
		kept = result;
		if ((error = ts_files__missing(&files, &nfiles, store, result, other)) < 0 ||
		    !(paths = calloc(nfiles ? nfiles : 1, sizeof(*paths))) ||
		    !(updates = calloc(nfiles ? nfiles : 1, sizeof(*updates)))) {
			error = error < 0 ? error : out_of_memory();
			goto done;
		}
		for (i = 0; i < nfiles; i++)
			ts_files__link(&updates[i], paths[i], &files[i]);
		if (nfiles && (error = ts_store__tree_update(out, store, kept, updates, nfiles)) < 0)
			memset(out, 0, sizeof(*out));
		goto done;
	}
	ts_buf__puts(&m.path, "");
	if (ts_buf__oom(&m.path)) {
		error = TS_ERROR;
		goto done;
	}
	if ((error = lookup_root(&base, &m, base_tree, &empty)) < 0 ||
	    (error = lookup_root(&ours, &m, ours_tree, &empty)) < 0 ||
	    (error = lookup_root(&theirs, &m, theirs_tree, &empty)) < 0)
		goto done;
	ts_progress__begin(opts ? opts->progress : NULL, "merging trees", 0);
	error = merge_trees(&m, base, ours, theirs);
	ts_progress__end(opts ? opts->progress : NULL);
	if (error < 0)
		goto done;
	/* the result keeps ours' files and takes those only theirs holds */
	if (theirs && (error = ts_files__missing(&files, &nfiles, store, ours_tree, theirs_tree)) < 0)
		goto done;
	if (!(updates = calloc(m.nupdates + nfiles + 1, sizeof(*updates))) ||
	    !(paths = calloc(nfiles + 1, sizeof(*paths)))) {
		error = out_of_memory();
		goto done;
	}
	for (i = 0; i < m.nupdates; i++) {
		updates[i].path = m.updates[i].path;
		updates[i].data = m.updates[i].data;
		updates[i].len = m.updates[i].len;
	}
	for (i = 0; i < nfiles; i++)
		ts_files__link(&updates[m.nupdates + i], paths[i], &files[i]);
	if ((error = ts_store__tree_update(out, store, ours ? ours_tree : NULL, updates, m.nupdates + nfiles)) < 0)
		memset(out, 0, sizeof(*out));
done:
	if (stats)
		*stats = m.stats;
	for (i = 0; i < m.nupdates; i++) {
		free(m.updates[i].path);
		free(m.updates[i].data);
	}
	free(m.updates);
	free(updates);
	free(files);
	free(paths);
	git_tree_free(base);
	git_tree_free(ours);
	git_tree_free(theirs);
	ts_buf__dispose(&m.path);
	ts_buf__dispose(&m.key);
	return error < 0 ? error : 0;
}
