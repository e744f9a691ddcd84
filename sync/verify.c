/*
 * Verify: does the database equal its history?
 *
 * The expected state is the head tree with the staged writes laid over it.
 * Every row of every synced table is encoded and hashed as the commit would
 * have done; a row whose blob id differs from the tree's, a row the tree
 * lacks and a tree entry with no row are all reported, down to the column.
 * Every blob of the head tree is also read back and re-hashed, so a damaged
 * object is caught too. Files kept in history (files.h) are checked apart,
 * streaming: each against its name, and each column value naming one.
 */
#include "verify.h"

#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "files.h"
#include "history.h"
#include "rowcodec.h"
#include "tables.h"
#include "tiersync.h"

typedef struct {
	char *path;
	git_oid id;
	int seen;
} entry;

typedef struct {
	char *path;
	char *key;           /* the key, readable */
	ts_table *table;
	char *blob;          /* expected row blob, or NULL when staged as deleted */
	size_t len;
	int seen;
	int updated_only;    /* an update of a row the head lacks (a merge deleted
	                      * it while the write waited): the row the database
	                      * holds, which the write's commit brings back */
} staged_row;

typedef struct {
	sqlite3 *db;
	ts_store *store;
	ts_tables *tables;
	git_odb *odb;
	entry *e;
	size_t ne, ae;
	staged_row *s;
	size_t ns, as;
	int (*cb)(const ts_verify_problem *p, void *payload);
	void *payload;
	int problems;
	int stop;
} verifier;

static int report(verifier *v, const char *table, const char *key, const char *column,
	const char *problem, const char *expected, const char *actual)
{
	ts_verify_problem p = { table, key, column, problem, expected, actual };
	v->problems++;
	if (v->cb && v->cb(&p, v->payload))
		v->stop = 1;
	return 0;
}

static int collect_entry(const char *root, const git_tree_entry *te, void *payload)
{
	verifier *v = payload;
	entry *x;

	/* files are no rows, and may be large: ts_files__verify() reads them */
	if (git_tree_entry_type(te) == GIT_OBJECT_TREE && !strcmp(root, TS_STORE_META_DIR "/") &&
	    !strcmp(git_tree_entry_name(te), &TS_FILES_DIR[sizeof(TS_STORE_META_DIR)]))
		return 1;
	if (git_tree_entry_type(te) != GIT_OBJECT_BLOB)
		return 0;
	if (v->ne == v->ae) {
		size_t na = v->ae ? v->ae * 2 : 1024;
		entry *ne = realloc(v->e, na * sizeof(*ne));
		if (!ne)
			return -1;
		v->e = ne;
		v->ae = na;
	}
	x = &v->e[v->ne];
	if (!(x->path = malloc(strlen(root) + strlen(git_tree_entry_name(te)) + 1)))
		return -1;
	strcpy(x->path, root);
	strcat(x->path, git_tree_entry_name(te));
	git_oid_cpy(&x->id, git_tree_entry_id(te));
	x->seen = 0;
	v->ne++;
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const entry *)a)->path, ((const entry *)b)->path);
}

static int staged_cmp(const void *a, const void *b)
{
	return strcmp(((const staged_row *)a)->path, ((const staged_row *)b)->path);
}

static entry *find_entry(verifier *v, const char *path)
{
	entry key;
	key.path = (char *)path;
	return v->ne ? bsearch(&key, v->e, v->ne, sizeof(entry), entry_cmp) : NULL;
}

static staged_row *find_staged(verifier *v, const char *path)
{
	staged_row key;
	key.path = (char *)path;
	return v->ns ? bsearch(&key, v->s, v->ns, sizeof(staged_row), staged_cmp) : NULL;
}

/* Reads a blob of the head tree, checking that its content hashes to its id. */
static int read_blob(git_odb_object **out, verifier *v, const git_oid *id, const char *path)
{
	git_oid check;

	if (git_odb_read(out, v->odb, id) < 0) {
		*out = NULL;
		report(v, NULL, path, NULL, "history object missing or damaged", git_oid_tostr_s(id), NULL);
		return 1;
	}
	git_odb_hash(&check, git_odb_object_data(*out), git_odb_object_size(*out), GIT_OBJECT_BLOB);
	if (!git_oid_equal(&check, id)) {
		report(v, NULL, path, NULL, "history object damaged (content does not match its id)",
			git_oid_tostr_s(id), git_oid_tostr_s(&check));
		git_odb_object_free(*out);
		*out = NULL;
		return 1;
	}
	return 0;
}

/* Applies one combined staged operation to the expected state. */
static int stage_op(verifier *v, sqlite3_changeset_iter *it)
{
	sqlite3_value *key[64];
	const char *tname;
	int ncol, op, indirect, k, c, error = 0;
	ts_buf path = TS_BUF_INIT, blob = TS_BUF_INIT, keytext = TS_BUF_INIT;
	ts_row *row = NULL;
	ts_value *vals = NULL;
	const char **names = NULL;
	staged_row *s;
	ts_table *t;

	sqlite3changeset_op(it, &tname, &ncol, &op, &indirect);
	if (!(t = ts_tables__find(v->tables, tname)) || t->npk > 64 || ncol != t->ncol)
		return ts_error_set(TS_ECORRUPT, "a staged write does not match table %s", tname);
	for (k = 0; k < t->npk; k++)
		if ((op == SQLITE_INSERT ? sqlite3changeset_new(it, t->pk[k], &key[k])
		                         : sqlite3changeset_old(it, t->pk[k], &key[k])) != SQLITE_OK)
			return ts_error_set(TS_ECORRUPT, "a staged write of %s has no key", tname);
	if ((error = ts_rowcodec__key_path(&path, tname, t->npk, key)) < 0)
		goto done;
	for (k = 0; k < t->npk; k++) {
		ts_value kv;
		if ((error = ts_value__from_sqlite(&kv, key[k])) < 0)
			goto done;
		if (t->npk > 1)
			ts_buf__printf(&keytext, "%s%s=", k ? ", " : "", t->cols[t->pk[k]]);
		ts_value__put_display(&keytext, &kv);
		ts_value__dispose(&kv);
	}
	if (op != SQLITE_DELETE) {
		vals = calloc(ncol, sizeof(*vals));
		names = calloc(ncol, sizeof(*names));
		if (!vals || !names) {
			error = ts_error_set(TS_ERROR, "out of memory");
			goto done;
		}
		if (op == SQLITE_UPDATE) {
			/* columns the update leaves alone keep their committed values */
			entry *e = find_entry(v, path.ptr);
			git_odb_object *obj = NULL;
			if (!e)
				goto add;
			if (read_blob(&obj, v, &e->id, path.ptr)) {
				error = ts_error_set(TS_ECORRUPT, "a staged update of %s has no committed row", tname);
				goto done;
			}
			error = ts_rowcodec__decode(&row, git_odb_object_data(obj), git_odb_object_size(obj));
			git_odb_object_free(obj);
			if (error < 0)
				goto done;
		}
		for (c = 0; c < ncol; c++) {
			sqlite3_value *nv = NULL;
			const ts_value *old;
			names[c] = t->cols[c];
			sqlite3changeset_new(it, c, &nv);
			if (nv)
				error = ts_value__from_sqlite(&vals[c], nv);
			else if (row && (old = ts_row__get(row, t->cols[c]))) {
				vals[c] = *old;
				vals[c].p = NULL;
				if (old->p && (vals[c].p = malloc(old->n + 1)))
					memcpy(vals[c].p, old->p, old->n + 1);
			}
			if (error < 0)
				goto done;
		}
		if ((error = ts_rowcodec__encode_values(&blob, ncol, names, vals)) < 0)
			goto done;
	}
add:
	if (v->ns == v->as) {
		size_t na = v->as ? v->as * 2 : 64;
		staged_row *ns = realloc(v->s, na * sizeof(*ns));
		if (!ns) {
			error = ts_error_set(TS_ERROR, "out of memory");
			goto done;
		}
		v->s = ns;
		v->as = na;
	}
	s = &v->s[v->ns++];
	s->table = t;
	s->seen = 0;
	s->len = blob.size;
	s->path = ts_buf__detach(&path);
	s->key = ts_buf__detach(&keytext);
	s->updated_only = op == SQLITE_UPDATE && !row;
	s->blob = op == SQLITE_DELETE ? NULL : ts_buf__detach(&blob);
done:
	if (vals)
		for (c = 0; c < ncol; c++)
			ts_value__dispose(&vals[c]);
	free(vals);
	free(names);
	ts_row__free(row);
	ts_buf__dispose(&path);
	ts_buf__dispose(&blob);
	ts_buf__dispose(&keytext);
	return error;
}

static int add_to_group(const ts_staged_write *w, void *payload)
{
	if (sqlite3changegroup_add(payload, w->size, (void *)w->changeset) != SQLITE_OK)
		return ts_error_set(TS_ECORRUPT, "staged write %lld is damaged", (long long)w->seq);
	return 0;
}

static int load_staged(verifier *v)
{
	sqlite3_changegroup *group = NULL;
	sqlite3_changeset_iter *it = NULL;
	void *all = NULL;
	int size = 0, rc, error;

	if (sqlite3changegroup_new(&group) != SQLITE_OK)
		return ts_error_set(TS_ERROR, "out of memory");
	if ((error = ts_capture__foreach(v->db, add_to_group, group)) < 0)
		goto done;
	if (sqlite3changegroup_output(group, &size, &all) != SQLITE_OK) {
		error = ts_error_set(TS_ECORRUPT, "staged writes do not combine");
		goto done;
	}
	if (sqlite3changeset_start(&it, size, all) != SQLITE_OK) {
		error = ts_error_set(TS_ECORRUPT, "staged writes are damaged");
		goto done;
	}
	while ((rc = sqlite3changeset_next(it)) == SQLITE_ROW)
		if ((error = stage_op(v, it)) < 0)
			goto done;
	if (v->ns)
		qsort(v->s, v->ns, sizeof(staged_row), staged_cmp);
done:
	sqlite3changeset_finalize(it);
	sqlite3_free(all);
	sqlite3changegroup_delete(group);
	return error;
}

static void display(ts_buf *out, const ts_value *v)
{
	ts_buf__clear(out);
	if (v)
		ts_value__put_display(out, v);
	else
		ts_buf__puts(out, "(no such column)");
}

/* Names the columns in which two row blobs differ. */
static int report_columns(verifier *v, ts_table *t, const char *expected, size_t elen,
	const char *actual, size_t alen, const char *problem)
{
	ts_row *want = NULL, *got = NULL;
	ts_buf key = TS_BUF_INIT, a = TS_BUF_INIT, b = TS_BUF_INIT;
	int c, error;

	if ((error = ts_rowcodec__decode(&got, actual, alen)) < 0)
		goto done;
	if (ts_rowcodec__decode(&want, expected, elen) < 0) {
		ts_table__put_key(&key, t, got);
		report(v, t->name, ts_buf__cstr(&key), NULL, "history blob cannot be decoded", NULL, NULL);
		goto done;
	}
	ts_table__put_key(&key, t, got);
	for (c = 0; c < t->ncol && !v->stop; c++) {
		const ts_value *w = ts_row__get(want, t->cols[c]), *g = ts_row__get(got, t->cols[c]);
		if (w && g && ts_value__equal(w, g))
			continue;
		display(&a, w);
		display(&b, g);
		report(v, t->name, ts_buf__cstr(&key), t->cols[c], problem, a.ptr, b.ptr);
	}
done:
	ts_row__free(want);
	ts_row__free(got);
	ts_buf__dispose(&key);
	ts_buf__dispose(&a);
	ts_buf__dispose(&b);
	return error;
}

static int check_row(verifier *v, ts_table *t, const char *path, const ts_buf *blob)
{
	staged_row *s = find_staged(v, path);
	entry *e = find_entry(v, path);
	git_odb_object *obj = NULL;
	git_oid id;
	ts_row *row = NULL;
	ts_buf key = TS_BUF_INIT;
	int error = 0;

	if (e)
		e->seen = 1;
	if (s) {
		s->seen = 1;
		if (s->updated_only)
			return 0;
		if (!s->blob)
			goto extra;
		if (s->len != blob->size || memcmp(s->blob, blob->ptr, blob->size))
			return report_columns(v, t, s->blob, s->len, blob->ptr, blob->size,
				"differs from the staged write (changed outside tiersync)");
		return 0;
	}
	if (!e)
		goto extra;
	git_odb_hash(&id, blob->ptr, blob->size, GIT_OBJECT_BLOB);
	if (git_oid_equal(&id, &e->id))
		return 0;
	if (read_blob(&obj, v, &e->id, path))
		return 0;
	error = report_columns(v, t, git_odb_object_data(obj), git_odb_object_size(obj),
		blob->ptr, blob->size, "changed outside tiersync");
	git_odb_object_free(obj);
	return error;
extra:
	if ((error = ts_rowcodec__decode(&row, blob->ptr, blob->size)) < 0)
		return error;
	ts_table__put_key(&key, t, row);
	report(v, t->name, ts_buf__cstr(&key), NULL, "row added outside tiersync", NULL, "present");
	ts_row__free(row);
	ts_buf__dispose(&key);
	return 0;
}

static int check_table(verifier *v, ts_table *t)
{
	ts_buf path = TS_BUF_INIT, blob = TS_BUF_INIT;
	sqlite3_stmt *all = NULL;
	sqlite3_value *key[64];
	int k, rc, error = 0;

	if ((error = ts_table__scan(&all, v->db, t)) < 0)
		goto done;
	while (!v->stop && (rc = sqlite3_step(all)) == SQLITE_ROW) {
		for (k = 0; k < t->npk; k++)
			key[k] = sqlite3_column_value(all, t->pk[k]);
		ts_buf__clear(&path);
		if ((error = ts_rowcodec__key_path(&path, t->name, t->npk, key)) < 0 ||
		    (error = ts_rowcodec__encode_stmt(&blob, all)) < 0 ||
		    (error = check_row(v, t, path.ptr, &blob)) < 0)
			goto done;
	}
done:
	sqlite3_finalize(all);
	ts_buf__dispose(&path);
	ts_buf__dispose(&blob);
	return error;
}

/* Head-tree rows the database lacks (and that no staged delete explains). */
static int check_missing(verifier *v)
{
	ts_buf table = TS_BUF_INIT, key = TS_BUF_INIT;
	size_t i;
	int error = 0;

	for (i = 0; i < v->ne && !v->stop; i++) {
		entry *e = &v->e[i];
		git_odb_object *obj = NULL;
		ts_row *row = NULL;
		staged_row *s;
		const char *name;
		ts_table *t;

		if (e->seen || !strncmp(e->path, TS_STORE_META_DIR "/", sizeof(TS_STORE_META_DIR)))
			continue;
		if ((s = find_staged(v, e->path)) && !s->blob)
			continue;
		if (read_blob(&obj, v, &e->id, e->path))
			continue;
		if (ts_rowcodec__path_split(&table, &name, e->path) < 0 || !(t = ts_tables__find(v->tables, table.ptr))) {
			report(v, NULL, e->path, NULL, "history holds a path that no table explains", NULL, NULL);
			git_odb_object_free(obj);
			continue;
		}
		ts_buf__clear(&key);
		if (ts_rowcodec__decode(&row, git_odb_object_data(obj), git_odb_object_size(obj)) == 0)
			ts_table__put_key(&key, t, row);
		else
			ts_buf__puts(&key, name);
		report(v, t->name, ts_buf__cstr(&key), NULL, "row deleted outside tiersync", "present", NULL);
		ts_row__free(row);
		git_odb_object_free(obj);
	}
	/* staged inserts the database does not hold */
	for (i = 0; i < v->ns && !v->stop; i++)
		if (!v->s[i].seen && v->s[i].blob)
			report(v, v->s[i].table->name, v->s[i].key, NULL,
				"staged row deleted outside tiersync", "present", NULL);
	ts_buf__dispose(&table);
	ts_buf__dispose(&key);
	return error;
}

/* Every blob of the tree read back once: a damaged object cannot hide. */
static void check_objects(verifier *v)
{
	size_t i;
	for (i = 0; i < v->ne && !v->stop; i++) {
		git_odb_object *obj = NULL;
		if (v->e[i].seen && !read_blob(&obj, v, &v->e[i].id, v->e[i].path))
			git_odb_object_free(obj);
	}
}

/* A problem ts_files__verify() found, reported as verify reports its own. */
static int file_problem(const ts_verify_problem *p, void *payload)
{
	verifier *v = payload;
	report(v, p->table, p->key, p->column, p->problem, p->expected, p->actual);
	return v->stop;
}

int ts_history__verify(sqlite3 *db, ts_store *store,
	int (*cb)(const ts_verify_problem *p, void *payload), void *payload)
{
	verifier v;
	git_oid head, ref, tree;
	git_tree *root = NULL;
	entry *schema;
	ts_buf want = TS_BUF_INIT;
	size_t i;
	int t, file_problems = 0, error;

	memset(&v, 0, sizeof(v));
	v.db = db;
	v.store = store;
	v.cb = cb;
	v.payload = payload;
	if ((error = ts_history__head(&head, db)) < 0)
		return error;
	if (ts_store__ref_get(&ref, store, TS_STORE_MAIN) < 0 || !git_oid_equal(&ref, &head)) {
		char a[GIT_OID_HEXSZ + 1];
		git_oid_tostr(a, sizeof(a), &head);
		report(&v, NULL, TS_STORE_MAIN, NULL, "the branch does not point at the database's head",
			a, ts_store__ref_get(&ref, store, TS_STORE_MAIN) < 0 ? NULL : git_oid_tostr_s(&ref));
	}
	if ((error = git_repository_odb(&v.odb, ts_store__repo(store))) < 0) {
		error = ts_store__git_error(TS_ERROR, "opening the object database");
		goto done;
	}
	if (!ts_store__readable(store, &head) || ts_store__commit_tree(&tree, store, &head) < 0) {
		report(&v, NULL, git_oid_tostr_s(&head), NULL, "the head commit is missing or damaged", NULL, NULL);
		error = ts_error_set(TS_ECORRUPT, "the head commit %s is missing or damaged", git_oid_tostr_s(&head));
		goto done;
	}
	if (git_tree_lookup(&root, ts_store__repo(store), &tree) < 0 ||
	    git_tree_walk(root, GIT_TREEWALK_PRE, collect_entry, &v) < 0) {
		report(&v, NULL, git_oid_tostr_s(&tree), NULL, "the head tree is missing or damaged", NULL, NULL);
		error = ts_error_set(TS_ECORRUPT, "the head tree is missing or damaged");
		goto done;
	}
	if (v.ne)
		qsort(v.e, v.ne, sizeof(entry), entry_cmp);
	if ((error = ts_tables__load(&v.tables, db)) < 0 || (error = load_staged(&v)) < 0)
		goto done;
	ts_history__schema_blob(&want, db);
	schema = find_entry(&v, TS_STORE_SCHEMA_PATH);
	if (!schema) {
		report(&v, NULL, TS_STORE_SCHEMA_PATH, NULL, "history records no schema version", want.ptr, NULL);
	} else {
		git_oid id;
		git_odb_hash(&id, want.ptr, want.size, GIT_OBJECT_BLOB);
		schema->seen = 1;
		if (!git_oid_equal(&id, &schema->id))
			report(&v, NULL, TS_STORE_SCHEMA_PATH, NULL, "schema version differs from history", NULL, want.ptr);
	}
	for (t = 0; t < v.tables->n && !v.stop; t++)
		if ((error = check_table(&v, &v.tables->list[t])) < 0)
			goto done;
	if ((error = check_missing(&v)) < 0)
		goto done;
	check_objects(&v);
	if (!v.stop && (error = ts_files__verify(&file_problems, db, store, &tree, file_problem, &v)) < 0)
		goto done;
	error = v.problems ? TS_ECORRUPT : 0;
	if (error)
		ts_error_set(TS_ECORRUPT, "the database differs from its history (%d problem%s)",
			v.problems, v.problems == 1 ? "" : "s");
done:
	git_tree_free(root);
	git_odb_free(v.odb);
	ts_tables__free(v.tables);
	for (i = 0; i < v.ne; i++)
		free(v.e[i].path);
	free(v.e);
	for (i = 0; i < v.ns; i++) {
		free(v.s[i].path);
		free(v.s[i].key);
		free(v.s[i].blob);
	}
	free(v.s);
	ts_buf__dispose(&want);
	return error;
}
