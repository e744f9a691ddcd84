/*
 * Unit tests of the three-way tree merge (sync/merge.c): trees are built
 * directly in a store from encoded rows, merged, and the merged rows and
 * the reported conflicts are checked as text. Covers changes on one side,
 * column merges and conflicts under the default and custom policies,
 * insert/insert, update/delete both ways, columns on one side only, the
 * schema version, broken trees, determinism, symmetry and the cost of a
 * merge on a large tree.
 */
#include "harness.h"

#include <stdint.h>
#include <stdlib.h>

#include <git2.h>
#include <sqlite3.h>

#include "merge.h"
#include "rowcodec.h"
#include "store.h"
#include "tables.h"
#include "tiersync.h"

#define MAX_EDITS 32
#define MAX_SEEN 32

/*
 * Building trees.
 */

static ts_value int_value(int64_t i)
{
	ts_value v;
	memset(&v, 0, sizeof(v));
	v.type = SQLITE_INTEGER;
	v.i = i;
	return v;
}

static ts_value text_value(const char *s)
{
	ts_value v;
	memset(&v, 0, sizeof(v));
	v.type = SQLITE_TEXT;
	v.p = (char *)s;
	v.n = strlen(s);
	return v;
}

static ts_value null_value(void)
{
	ts_value v;
	memset(&v, 0, sizeof(v));
	v.type = SQLITE_NULL;
	return v;
}

/* Changes to make to a tree, with the buffers their paths and blobs live in. */
typedef struct {
	size_t n;
	int failed;
	ts_store_update u[MAX_EDITS];
	ts_buf path[MAX_EDITS], blob[MAX_EDITS];
} edits;

/* Puts a row of `table` whose key is its first `nkey` columns. */
static void put_row_keyed(edits *e, const char *table, int nkey, int ncol, const char *const *names,
	const ts_value *values)
{
	if (e->n == MAX_EDITS || ts_rowcodec__key_path_values(&e->path[e->n], table, nkey, values) < 0 ||
	    ts_rowcodec__encode_values(&e->blob[e->n], ncol, names, values) < 0) {
		e->failed = 1;
		return;
	}
	e->u[e->n].path = e->path[e->n].ptr;
	e->u[e->n].data = e->blob[e->n].ptr;
	e->u[e->n].len = e->blob[e->n].size;
	e->n++;
}

static void put_row(edits *e, const char *table, int ncol, const char *const *names, const ts_value *values)
{
	put_row_keyed(e, table, 1, ncol, names, values);
}

/* The usual row of table t: (id, name, n). */
static const char *const cols3[] = { "id", "name", "n" };

static void put3(edits *e, int64_t id, const char *name, int64_t n)
{
	ts_value v[3];
	v[0] = int_value(id);
	v[1] = text_value(name);
	v[2] = int_value(n);
	put_row(e, "t", 3, cols3, v);
}

static void del_row(edits *e, const char *table, int64_t id)
{
	ts_value key = int_value(id);
	if (e->n == MAX_EDITS || ts_rowcodec__key_path_values(&e->path[e->n], table, 1, &key) < 0) {
		e->failed = 1;
		return;
	}
	e->u[e->n].path = e->path[e->n].ptr;
	e->u[e->n].data = NULL;
	e->u[e->n].len = 0;
	e->n++;
}

/* Puts `data` at any path (metadata, or a path that is not a row's). */
static void put_raw(edits *e, const char *path, const char *data)
{
	if (e->n == MAX_EDITS) {
		e->failed = 1;
		return;
	}
	e->u[e->n].path = path;
	e->u[e->n].data = data;
	e->u[e->n].len = data ? strlen(data) : 0;
	e->n++;
}

/* Writes `base` + the edits as a tree into *out, and forgets the edits. */
static int apply_edits(git_oid *out, ts_store *store, const git_oid *base, edits *e)
{
	size_t i;
	int error = e->failed ? -1 : ts_store__tree_update(out, store, base, e->u, e->n);

	for (i = 0; i < MAX_EDITS; i++) {
		ts_buf__dispose(&e->path[i]);
		ts_buf__dispose(&e->blob[i]);
	}
	memset(e, 0, sizeof(*e));
	return error;
}

/* The blob text at `path` in `tree`, "(absent)", or "(error)"; valid until the next call. */
static const char *blob_at(ts_store *store, const git_oid *tree, const char *path)
{
	static char text[4096];
	git_tree *t = NULL;
	git_tree_entry *e = NULL;
	git_blob *b = NULL;

	snprintf(text, sizeof(text), "(error)");
	if (git_tree_lookup(&t, ts_store__repo(store), tree) < 0)
		goto done;
	if (git_tree_entry_bypath(&e, t, path) < 0) {
		snprintf(text, sizeof(text), "(absent)");
		goto done;
	}
	if (git_blob_lookup(&b, ts_store__repo(store), git_tree_entry_id(e)) < 0)
		goto done;
	snprintf(text, sizeof(text), "%.*s", (int)git_blob_rawsize(b), (const char *)git_blob_rawcontent(b));
done:
	git_blob_free(b);
	git_tree_entry_free(e);
	git_tree_free(t);
	return text;
}

/* The row of `table` keyed by the integer `id`, as blob text. */
static const char *row_at(ts_store *store, const git_oid *tree, const char *table, int64_t id)
{
	ts_buf path = TS_BUF_INIT;
	ts_value key = int_value(id);
	const char *text = "(error)";

	if (ts_rowcodec__key_path_values(&path, table, 1, &key) == 0)
		text = blob_at(store, tree, path.ptr);
	ts_buf__dispose(&path);
	return text;
}

/*
 * What the merge reported.
 */

typedef struct {
	int n;
	char *text[MAX_SEEN];   /* "<kind> <table> <key> <column>: base | ours | theirs -> chosen" */
	char *path[MAX_SEEN];
	int failed;
} seen_conflicts;

static void put_side(ts_buf *out, const ts_value *v)
{
	if (!v)
		ts_buf__puts(out, "-");
	else if (v->type == SQLITE_TEXT) {
		ts_buf__putc(out, '"');
		ts_value__put_display(out, v);
		ts_buf__putc(out, '"');
	} else
		ts_value__put_display(out, v);
}

static int see_conflict(const ts_merge_conflict *c, void *payload)
{
	seen_conflicts *s = payload;
	ts_buf t = TS_BUF_INIT;

	if (s->n == MAX_SEEN) {
		s->failed = 1;
		return -1;
	}
	ts_buf__printf(&t, "%s %s %s", ts_merge__kind_name(c->kind), c->table, c->key);
	if (c->column) {
		ts_buf__printf(&t, " %s: ", c->column);
		put_side(&t, c->base);
		ts_buf__puts(&t, " | ");
		put_side(&t, c->ours);
		ts_buf__puts(&t, " | ");
		put_side(&t, c->theirs);
		ts_buf__puts(&t, " -> ");
		put_side(&t, c->chosen);
	} else
		ts_buf__puts(&t, c->row_kept ? " kept" : " deleted");
	/* a delete conflict carries the rows that review needs */
	if (!c->column && (!c->ours_row) == (!c->theirs_row))
		ts_buf__puts(&t, " (rows wrong)");
	if (c->settled)
		ts_buf__puts(&t, " settled");
	if (ts_buf__oom(&t)) {
		s->failed = 1;
		return -1;
	}
	s->text[s->n] = ts_buf__detach(&t);
	s->path[s->n++] = strdup(c->path);
	return 0;
}

static void seen_free(seen_conflicts *s)
{
	int i;
	for (i = 0; i < s->n; i++) {
		free(s->text[i]);
		free(s->path[i]);
	}
	memset(s, 0, sizeof(*s));
}

/* Options that record every conflict into `s`, with the default policy. */
static ts_merge_options recording(seen_conflicts *s)
{
	ts_merge_options o;
	memset(&o, 0, sizeof(o));
	o.on_conflict = see_conflict;
	o.conflict_payload = s;
	return o;
}

/* A policy that keeps ours (and settles) or deletes rows, by its payload. */
typedef struct {
	int keep_row;
	int settle;
	int calls;
} test_policy;

static int prefer_ours(void *payload, ts_merge_kind kind, const char *table, const char *column,
	const ts_value *base, const ts_value *ours, const ts_value *theirs,
	const ts_value **chosen, int *keep_row, int *settles)
{
	test_policy *p = payload;
	(void)kind; (void)table; (void)column; (void)base; (void)theirs;
	p->calls++;
	if (*chosen != NULL || *keep_row != 1 || *settles != 0)
		return -2;   /* the documented starting values */
	if (column)
		*chosen = ours;
	else
		*keep_row = p->keep_row;
	*settles = p->settle;
	return 0;
}

static int refuse_all(void *payload, ts_merge_kind kind, const char *table, const char *column,
	const ts_value *base, const ts_value *ours, const ts_value *theirs,
	const ts_value **chosen, int *keep_row, int *settles)
{
	(void)payload; (void)kind; (void)table; (void)column; (void)base; (void)ours; (void)theirs;
	(void)chosen; (void)keep_row; (void)settles;
	return ts_error_set(TS_EDENIED, "this policy refuses every conflict");
}

static int stop_at_first(const ts_merge_conflict *c, void *payload)
{
	(void)c;
	(*(int *)payload)++;
	return 1;
}

/*
 * A store with a base tree: t rows (1,"a",5), (2,"b",6), (3,"c",7) and
 * schema version 1.
 */
typedef struct {
	ts_store *store;
	git_oid base;
} fixture;

static int fixture_open(fixture *f, const char *gitdir)
{
	edits e;
	int error;

	memset(f, 0, sizeof(*f));
	memset(&e, 0, sizeof(e));
	git_libgit2_init();
	if ((error = ts_store__open(&f->store, gitdir, 1)) < 0)
		return error;
	put3(&e, 1, "a", 5);
	put3(&e, 2, "b", 6);
	put3(&e, 3, "c", 7);
	put_raw(&e, TS_STORE_SCHEMA_PATH, "1\n");
	return apply_edits(&f->base, f->store, NULL, &e);
}

static void fixture_close(fixture *f)
{
	ts_store__free(f->store);
	f->store = NULL;
	git_libgit2_shutdown();
}

/*
 * Changes on one side, and on both sides in different places.
 */

void test_merge__disjoint_rows(void)
{
	fixture f;
	edits e;
	git_oid ours, theirs, merged;
	ts_merge_stats st;
	seen_conflicts s;
	ts_merge_options o = recording(&s);

	memset(&e, 0, sizeof(e));
	memset(&s, 0, sizeof(s));
	test_ok(fixture_open(&f, "r.git"));
	put3(&e, 1, "A", 5);
	put3(&e, 4, "d", 8);
	test_ok(apply_edits(&ours, f.store, &f.base, &e));
	put3(&e, 2, "B", 6);
	del_row(&e, "t", 3);
	put3(&e, 5, "e", 9);
	test_ok(apply_edits(&theirs, f.store, &f.base, &e));

	test_ok(ts_merge__trees(&merged, &st, f.store, &f.base, &ours, &theirs, &o));
	test_equal_i(s.n, 0);
	test_equal_i(st.conflicts, 0);
	test_equal_i(st.rows_merged, 0);
	test_equal_i(st.rows_taken_theirs, 3);
	test_equal_s(row_at(f.store, &merged, "t", 1), "id 1\nname \"A\"\nn 5\n");
	test_equal_s(row_at(f.store, &merged, "t", 2), "id 2\nname \"B\"\nn 6\n");
	test_equal_s(row_at(f.store, &merged, "t", 3), "(absent)");
	test_equal_s(row_at(f.store, &merged, "t", 4), "id 4\nname \"d\"\nn 8\n");
	test_equal_s(row_at(f.store, &merged, "t", 5), "id 5\nname \"e\"\nn 9\n");
	test_equal_s(blob_at(f.store, &merged, TS_STORE_SCHEMA_PATH), "1\n");
	fixture_close(&f);
}

void test_merge__one_side_changed_takes_that_tree(void)
{
	fixture f;
	edits e;
	git_oid ours, merged;
	ts_merge_stats st;

	memset(&e, 0, sizeof(e));
	test_ok(fixture_open(&f, "r.git"));
	put3(&e, 1, "A", 5);
	test_ok(apply_edits(&ours, f.store, &f.base, &e));

	test_ok(ts_merge__trees(&merged, &st, f.store, &f.base, &ours, &f.base, NULL));
	test_assert(git_oid_equal(&merged, &ours));
	test_equal_i(st.trees_read, 0);
	test_ok(ts_merge__trees(&merged, &st, f.store, &f.base, &f.base, &ours, NULL));
	test_assert(git_oid_equal(&merged, &ours));
	test_equal_i(st.trees_read, 0);
	test_ok(ts_merge__trees(&merged, &st, f.store, &f.base, &ours, &ours, NULL));
	test_assert(git_oid_equal(&merged, &ours));
	test_equal_i(st.trees_read, 0);
	fixture_close(&f);
}

void test_merge__delete_against_unchanged(void)
{
	fixture f;
	edits e;
	git_oid ours, theirs, merged;
	ts_merge_stats st;

	memset(&e, 0, sizeof(e));
	test_ok(fixture_open(&f, "r.git"));
	/* ours deletes 1, theirs deletes 2; each leaves the other's row alone */
	del_row(&e, "t", 1);
	put3(&e, 3, "C", 7);
	test_ok(apply_edits(&ours, f.store, &f.base, &e));
	del_row(&e, "t", 2);
	test_ok(apply_edits(&theirs, f.store, &f.base, &e));

	test_ok(ts_merge__trees(&merged, &st, f.store, &f.base, &ours, &theirs, NULL));
	test_equal_i(st.conflicts, 0);
	test_equal_s(row_at(f.store, &merged, "t", 1), "(absent)");
	test_equal_s(row_at(f.store, &merged, "t", 2), "(absent)");
	test_equal_s(row_at(f.store, &merged, "t", 3), "id 3\nname \"C\"\nn 7\n");
	fixture_close(&f);
}

void test_merge__whole_tables_from_theirs(void)
{
	fixture f;
	edits e;
	git_oid ours, theirs, merged;
	ts_merge_stats st;
	static const char *const cols2[] = { "id", "v" };
	ts_value v[2];
	int i;

	memset(&e, 0, sizeof(e));
	test_ok(fixture_open(&f, "r.git"));
	put3(&e, 1, "A", 5);
	test_ok(apply_edits(&ours, f.store, &f.base, &e));
	/* theirs drops table t but row 1, and creates table u */
	del_row(&e, "t", 2);
	del_row(&e, "t", 3);
	for (i = 1; i <= 3; i++) {
		v[0] = int_value(i);
		v[1] = text_value("new");
		put_row(&e, "u", 2, cols2, v);
	}
	test_ok(apply_edits(&theirs, f.store, &f.base, &e));

	test_ok(ts_merge__trees(&merged, &st, f.store, &f.base, &ours, &theirs, NULL));
	test_equal_i(st.rows_taken_theirs, 5);
	test_equal_s(row_at(f.store, &merged, "t", 1), "id 1\nname \"A\"\nn 5\n");
	test_equal_s(row_at(f.store, &merged, "t", 2), "(absent)");
	test_equal_s(row_at(f.store, &merged, "u", 3), "id 3\nv \"new\"\n");

	/* and a table theirs removes altogether goes, empty trees and all */
	del_row(&e, "t", 1);
	del_row(&e, "t", 2);
	del_row(&e, "t", 3);
	test_ok(apply_edits(&theirs, f.store, &f.base, &e));
	put_raw(&e, TS_STORE_SCHEMA_PATH, "2\n");
	test_ok(apply_edits(&ours, f.store, &f.base, &e));
	test_ok(ts_merge__trees(&merged, &st, f.store, &f.base, &ours, &theirs, NULL));
	test_equal_s(blob_at(f.store, &merged, "t"), "(absent)");
	test_equal_s(blob_at(f.store, &merged, TS_STORE_SCHEMA_PATH), "2\n");
	fixture_close(&f);
}

/* A directory of rows only theirs holds goes in by its tree's id: the
 * merged tree is the one the same rows make when written row by row, every
 * row is counted, and an entry that is no row refuses the merge. */
/* Merges theirs into ours (row `our_id` set to "ours" there) and checks the
 * result: no conflict, `taken` rows from theirs, and the very tree that
 * theirs plus ours' row makes. */
static void merges_to_theirs_and_our_row(git_oid *merged, fixture *f, const git_oid *base,
	const git_oid *ours, const git_oid *theirs, int64_t our_id, int taken)
{
	edits e;
	git_oid direct;
	ts_merge_stats st;

	memset(&e, 0, sizeof(e));
	test_ok(ts_merge__trees(merged, &st, f->store, base, ours, theirs, NULL));
	test_equal_i(st.conflicts, 0);
	test_equal_i(st.rows_taken_theirs, taken);
	put3(&e, our_id, "ours", 1);
	test_ok(apply_edits(&direct, f->store, theirs, &e));
	test_assert(git_oid_equal(merged, &direct));
}

void test_merge__directories_only_theirs_hold_are_linked(void)
{
	fixture f;
	edits e;
	git_oid ours, theirs, merged, odd_dir, odd_root, blob;
	git_treebuilder *tb = NULL;
	git_tree *root = NULL;
	int i, round;

	memset(&e, 0, sizeof(e));
	test_ok(fixture_open(&f, "r.git"));
	put3(&e, 1000, "ours", 1);
	test_ok(apply_edits(&ours, f.store, &f.base, &e));
	theirs = f.base;
	for (round = 0; round < 10; round++) {
		for (i = 0; i < 30; i++)
			put3(&e, 2000 + round * 30 + i, "theirs", i);
		test_ok(apply_edits(&theirs, f.store, &theirs, &e));
	}
	/* no base: every directory ours lacks comes from theirs whole */
	merges_to_theirs_and_our_row(&merged, &f, NULL, &ours, &theirs, 1000, 300);
	test_equal_s(row_at(f.store, &merged, "t", 2299), "id 2299\nname \"theirs\"\nn 29\n");

	/* a directory only theirs holds, with an executable file in it */
	test_ok(git_blob_create_from_buffer(&blob, ts_store__repo(f.store), "id 9\n", 5));
	test_ok(git_treebuilder_new(&tb, ts_store__repo(f.store), NULL));
	test_ok(git_treebuilder_insert(NULL, tb, "x", &blob, GIT_FILEMODE_BLOB_EXECUTABLE));
	test_ok(git_treebuilder_write(&odd_dir, tb));
	git_treebuilder_free(tb);
	test_ok(git_tree_lookup(&root, ts_store__repo(f.store), &theirs));
	test_ok(git_treebuilder_new(&tb, ts_store__repo(f.store), root));
	test_ok(git_treebuilder_insert(NULL, tb, "odd", &odd_dir, GIT_FILEMODE_TREE));
	test_ok(git_treebuilder_write(&odd_root, tb));
	git_treebuilder_free(tb);
	git_tree_free(root);
	test_equal_i(ts_merge__trees(&merged, NULL, f.store, NULL, &ours, &odd_root, NULL), TS_ECORRUPT);
	test_assert(strstr(ts_error_last(), "odd/x is neither a row nor a directory") != NULL);
	fixture_close(&f);
}

void test_merge__directories_only_theirs_changed_are_linked(void)
{
	fixture f;
	edits e;
	git_oid base2, ours, theirs, merged, odd_root, blob;
	git_tree_update up;
	git_tree *root = NULL;
	ts_buf path = TS_BUF_INIT, want = TS_BUF_INIT;
	ts_value key = int_value(3001);
	int i;

	memset(&e, 0, sizeof(e));
	test_ok(fixture_open(&f, "r.git"));
	base2 = f.base;
	for (i = 0; i < 300; i++) {
		put3(&e, 3000 + i, "base", i);
		if (i % 30 == 29)
			test_ok(apply_edits(&base2, f.store, &base2, &e));
	}
	put3(&e, 3000, "ours", 1);
	test_ok(apply_edits(&ours, f.store, &base2, &e));
	theirs = base2;
	for (i = 1; i < 300; i += 3) {
		put3(&e, 3000 + i, "theirs", i);
		if (i % 30 == 28)
			test_ok(apply_edits(&theirs, f.store, &theirs, &e));
	}
	del_row(&e, "t", 3299);
	test_ok(apply_edits(&theirs, f.store, &theirs, &e));

	/* every directory ours left as the base had is theirs, by its id */
	merges_to_theirs_and_our_row(&merged, &f, &base2, &ours, &theirs, 3000, 101);
	test_equal_s(row_at(f.store, &merged, "t", 3001), "id 3001\nname \"theirs\"\nn 1\n");
	test_equal_s(row_at(f.store, &merged, "t", 3299), "(absent)");

	/* theirs puts an executable file in a directory ours kept as the base
	 * had: taken whole, it would carry the mode in; it is refused */
	test_ok(ts_rowcodec__key_path_values(&path, "t", 1, &key));
	*strrchr(path.ptr, '/') = '\0';
	path.size = strlen(path.ptr);
	ts_buf__puts(&want, path.ptr);
	ts_buf__puts(&want, "/x is neither a row nor a directory");
	ts_buf__puts(&path, "/x");
	test_ok(git_blob_create_from_buffer(&blob, ts_store__repo(f.store), "id 9\n", 5));
	test_ok(git_tree_lookup(&root, ts_store__repo(f.store), &theirs));
	memset(&up, 0, sizeof(up));
	up.action = GIT_TREE_UPDATE_UPSERT;
	up.id = blob;
	up.filemode = GIT_FILEMODE_BLOB_EXECUTABLE;
	up.path = path.ptr;
	test_ok(git_tree_create_updated(&odd_root, ts_store__repo(f.store), root, 1, &up));
	test_equal_i(ts_merge__trees(&merged, NULL, f.store, &base2, &ours, &odd_root, NULL), TS_ECORRUPT);
	test_equal_s(ts_error_last(), want.ptr);
	git_tree_free(root);
	ts_buf__dispose(&path);
	ts_buf__dispose(&want);
	fixture_close(&f);
}

void test_merge__no_common_ancestor(void)
{
	fixture f;
	edits e;
	git_oid ours, theirs, merged;
	ts_merge_stats st;

	memset(&e, 0, sizeof(e));
	test_ok(fixture_open(&f, "r.git"));
	put3(&e, 1, "a", 5);
	put3(&e, 2, "b", 6);
	put_raw(&e, TS_STORE_SCHEMA_PATH, "1\n");
	test_ok(apply_edits(&ours, f.store, NULL, &e));
	put3(&e, 2, "b", 6);
	put3(&e, 3, "c", 7);
	put_raw(&e, TS_STORE_SCHEMA_PATH, "1\n");
	test_ok(apply_edits(&theirs, f.store, NULL, &e));

	test_ok(ts_merge__trees(&merged, &st, f.store, NULL, &ours, &theirs, NULL));
	test_equal_i(st.conflicts, 0);
	test_assert(git_oid_equal(&merged, &f.base));   /* the same rows: the same tree */
	fixture_close(&f);
}

/*
 * One row changed on both sides.
 */

void test_merge__same_row_different_columns(void)
{
	fixture f;
	edits e;
	git_oid ours, theirs, merged;
	ts_merge_stats st;
	seen_conflicts s;
	ts_merge_options o = recording(&s);

	memset(&e, 0, sizeof(e));
	memset(&s, 0, sizeof(s));
	test_ok(fixture_open(&f, "r.git"));
	put3(&e, 1, "A", 5);
	test_ok(apply_edits(&ours, f.store, &f.base, &e));
	put3(&e, 1, "a", 50);
	test_ok(apply_edits(&theirs, f.store, &f.base, &e));

	test_ok(ts_merge__trees(&merged, &st, f.store, &f.base, &ours, &theirs, &o));
	test_equal_i(s.n, 0);
	test_equal_i(st.rows_merged, 1);
	test_equal_i(st.conflicts, 0);
	test_equal_s(row_at(f.store, &merged, "t", 1), "id 1\nname \"A\"\nn 50\n");
	fixture_close(&f);
}

void test_merge__same_column_same_value(void)
{
	fixture f;
	edits e;
	git_oid ours, theirs, merged;
	ts_merge_stats st;

	memset(&e, 0, sizeof(e));
	test_ok(fixture_open(&f, "r.git"));
	/* both set n to 9; ours also renames, so the blobs differ */
	put3(&e, 1, "A", 9);
	test_ok(apply_edits(&ours, f.store, &f.base, &e));
	put3(&e, 1, "a", 9);
	test_ok(apply_edits(&theirs, f.store, &f.base, &e));

	test_ok(ts_merge__trees(&merged, &st, f.store, &f.base, &ours, &theirs, NULL));
	test_equal_i(st.rows_merged, 1);
	test_equal_i(st.conflicts, 0);
	test_equal_s(row_at(f.store, &merged, "t", 1), "id 1\nname \"A\"\nn 9\n");
	fixture_close(&f);
}

void test_merge__column_conflict_default_policy(void)
{
	fixture f;
	edits e;
	git_oid ours, theirs, merged;
	ts_merge_stats st;
	seen_conflicts s;
	ts_merge_options o = recording(&s);
	ts_buf path = TS_BUF_INIT;
	ts_value key = int_value(1);

	memset(&e, 0, sizeof(e));
	memset(&s, 0, sizeof(s));
	test_ok(fixture_open(&f, "r.git"));
	put3(&e, 1, "ours", 8);
	test_ok(apply_edits(&ours, f.store, &f.base, &e));
	put3(&e, 1, "theirs", 7);
	test_ok(apply_edits(&theirs, f.store, &f.base, &e));

	test_ok(ts_merge__trees(&merged, &st, f.store, &f.base, &ours, &theirs, &o));
	test_equal_i(s.n, 2);
	/* the greater encoding wins: "theirs" > "ours" and 8 > 7; nothing settled */
	test_equal_s(s.text[0], "column t 1 name: \"a\" | \"ours\" | \"theirs\" -> \"theirs\"");
	test_equal_s(s.text[1], "column t 1 n: 5 | 8 | 7 -> 8");
	test_ok(ts_rowcodec__key_path_values(&path, "t", 1, &key));
	test_equal_s(s.path[0], path.ptr);
	test_equal_s(s.path[1], path.ptr);
	test_equal_i(st.conflicts, 2);
	test_equal_i(st.settled, 0);
	test_equal_s(row_at(f.store, &merged, "t", 1), "id 1\nname \"theirs\"\nn 8\n");
	seen_free(&s);

	/* and the other way round the same values win */
	test_ok(ts_merge__trees(&merged, &st, f.store, &f.base, &theirs, &ours, &o));
	test_equal_s(s.text[0], "column t 1 name: \"a\" | \"theirs\" | \"ours\" -> \"theirs\"");
	test_equal_s(row_at(f.store, &merged, "t", 1), "id 1\nname \"theirs\"\nn 8\n");
	seen_free(&s);
	ts_buf__dispose(&path);
	fixture_close(&f);
}

void test_merge__column_conflict_custom_policy(void)
{
	fixture f;
	edits e;
	git_oid ours, theirs, merged;
	ts_merge_stats st;
	seen_conflicts s;
	ts_merge_options o = recording(&s);
	test_policy p = { 1, 1, 0 };

	memset(&e, 0, sizeof(e));
	memset(&s, 0, sizeof(s));
	test_ok(fixture_open(&f, "r.git"));
	put3(&e, 1, "a", 1);
	test_ok(apply_edits(&ours, f.store, &f.base, &e));
	put3(&e, 1, "a", 9);
	test_ok(apply_edits(&theirs, f.store, &f.base, &e));

	o.policy = prefer_ours;
	o.policy_payload = &p;
	test_ok(ts_merge__trees(&merged, &st, f.store, &f.base, &ours, &theirs, &o));
	test_equal_i(p.calls, 1);
	test_equal_i(s.n, 1);
	test_equal_s(s.text[0], "column t 1 n: 5 | 1 | 9 -> 1 settled");
	test_equal_i(st.conflicts, 1);
	test_equal_i(st.settled, 1);
	/* ours already has the merged row: the merged tree is ours */
	test_assert(git_oid_equal(&merged, &ours));
	seen_free(&s);
	fixture_close(&f);
}

void test_merge__policy_and_callback_abort(void)
{
	fixture f;
	edits e;
	git_oid ours, theirs, merged;
	ts_merge_options o;
	int calls = 0;

	memset(&e, 0, sizeof(e));
	memset(&o, 0, sizeof(o));
	test_ok(fixture_open(&f, "r.git"));
	put3(&e, 1, "a", 1);
	put3(&e, 2, "b", 1);
	test_ok(apply_edits(&ours, f.store, &f.base, &e));
	put3(&e, 1, "a", 9);
	put3(&e, 2, "b", 9);
	test_ok(apply_edits(&theirs, f.store, &f.base, &e));

	o.policy = refuse_all;
	test_equal_i(ts_merge__trees(&merged, NULL, f.store, &f.base, &ours, &theirs, &o), TS_EDENIED);
	test_assert(git_oid_is_zero(&merged));
	o.policy = NULL;
	o.on_conflict = stop_at_first;
	o.conflict_payload = &calls;
	test_equal_i(ts_merge__trees(&merged, NULL, f.store, &f.base, &ours, &theirs, &o), TS_ERROR);
	test_equal_i(calls, 1);
	test_assert(strstr(ts_error_last(), "stopped the merge") != NULL);
	fixture_close(&f);
}

/*
 * Insert/insert, update/delete.
 */

void test_merge__insert_insert(void)
{
	fixture f;
	edits e;
	git_oid ours, theirs, merged;
	ts_merge_stats st;
	seen_conflicts s;
	ts_merge_options o = recording(&s);

	memset(&e, 0, sizeof(e));
	memset(&s, 0, sizeof(s));
	test_ok(fixture_open(&f, "r.git"));
	/* 8: the same row on both sides; 9: the same n, different names */
	put3(&e, 8, "h", 1);
	put3(&e, 9, "ours", 2);
	test_ok(apply_edits(&ours, f.store, &f.base, &e));
	put3(&e, 8, "h", 1);
	put3(&e, 9, "theirs", 2);
	test_ok(apply_edits(&theirs, f.store, &f.base, &e));

	test_ok(ts_merge__trees(&merged, &st, f.store, &f.base, &ours, &theirs, &o));
	test_equal_i(s.n, 1);
	test_equal_s(s.text[0], "insert t 9 name: - | \"ours\" | \"theirs\" -> \"theirs\"");
	test_equal_i(st.rows_merged, 1);
	test_equal_s(row_at(f.store, &merged, "t", 8), "id 8\nname \"h\"\nn 1\n");
	test_equal_s(row_at(f.store, &merged, "t", 9), "id 9\nname \"theirs\"\nn 2\n");
	seen_free(&s);
	fixture_close(&f);
}

void test_merge__update_delete(void)
{
	fixture f;
	edits e;
	git_oid ours, theirs, merged;
	ts_merge_stats st;
	seen_conflicts s;
	ts_merge_options o = recording(&s);
	test_policy p = { 0, 0, 0 };

	memset(&e, 0, sizeof(e));
	memset(&s, 0, sizeof(s));
	test_ok(fixture_open(&f, "r.git"));
	put3(&e, 1, "A", 5);
	test_ok(apply_edits(&ours, f.store, &f.base, &e));
	del_row(&e, "t", 1);
	test_ok(apply_edits(&theirs, f.store, &f.base, &e));

	/* the default keeps the updated row */
	test_ok(ts_merge__trees(&merged, &st, f.store, &f.base, &ours, &theirs, &o));
	test_equal_i(s.n, 1);
	test_equal_s(s.text[0], "update/delete t 1 kept");
	test_equal_i(st.conflicts, 1);
	test_equal_i(st.settled, 0);
	test_equal_s(row_at(f.store, &merged, "t", 1), "id 1\nname \"A\"\nn 5\n");
	seen_free(&s);

	/* a policy may delete it */
	o.policy = prefer_ours;
	o.policy_payload = &p;
	test_ok(ts_merge__trees(&merged, &st, f.store, &f.base, &ours, &theirs, &o));
	test_equal_s(s.text[0], "update/delete t 1 deleted");
	test_equal_s(row_at(f.store, &merged, "t", 1), "(absent)");
	test_equal_s(row_at(f.store, &merged, "t", 2), "id 2\nname \"b\"\nn 6\n");
	seen_free(&s);
	fixture_close(&f);
}

void test_merge__delete_update(void)
{
	fixture f;
	edits e;
	git_oid ours, theirs, merged;
	ts_merge_stats st;
	seen_conflicts s;
	ts_merge_options o = recording(&s);
	test_policy p = { 0, 1, 0 };

	memset(&e, 0, sizeof(e));
	memset(&s, 0, sizeof(s));
	test_ok(fixture_open(&f, "r.git"));
	del_row(&e, "t", 2);
	test_ok(apply_edits(&ours, f.store, &f.base, &e));
	put3(&e, 2, "b", 60);
	test_ok(apply_edits(&theirs, f.store, &f.base, &e));

	test_ok(ts_merge__trees(&merged, &st, f.store, &f.base, &ours, &theirs, &o));
	test_equal_s(s.text[0], "delete/update t 2 kept");
	test_equal_s(row_at(f.store, &merged, "t", 2), "id 2\nname \"b\"\nn 60\n");
	seen_free(&s);

	o.policy = prefer_ours;
	o.policy_payload = &p;
	test_ok(ts_merge__trees(&merged, &st, f.store, &f.base, &ours, &theirs, &o));
	test_equal_s(s.text[0], "delete/update t 2 deleted settled");
	test_equal_i(st.settled, 1);
	test_assert(git_oid_equal(&merged, &ours));
	seen_free(&s);
	fixture_close(&f);
}

/*
 * Columns on one side only.
 */

void test_merge__column_added_on_one_side(void)
{
	fixture f;
	edits e;
	git_oid ours, theirs, merged, back;
	ts_merge_stats st;
	seen_conflicts s;
	ts_merge_options o = recording(&s);
	static const char *const cols4[] = { "id", "name", "n", "note" };
	static const char *const cols4b[] = { "id", "name", "n", "tag" };
	ts_value v[4];

	memset(&e, 0, sizeof(e));
	memset(&s, 0, sizeof(s));
	test_ok(fixture_open(&f, "r.git"));
	/* row 1: ours adds note, theirs changes n: both kept */
	v[0] = int_value(1); v[1] = text_value("a"); v[2] = int_value(5); v[3] = text_value("hi");
	put_row(&e, "t", 4, cols4, v);
	/* row 2: ours adds note as NULL, theirs changes name: note stays, NULL */
	v[0] = int_value(2); v[1] = text_value("b"); v[2] = int_value(6); v[3] = null_value();
	put_row(&e, "t", 4, cols4, v);
	/* row 3: ours adds note, theirs adds tag */
	v[0] = int_value(3); v[1] = text_value("c"); v[2] = int_value(7); v[3] = text_value("x");
	put_row(&e, "t", 4, cols4, v);
	test_ok(apply_edits(&ours, f.store, &f.base, &e));
	put3(&e, 1, "a", 50);
	put3(&e, 2, "B", 6);
	v[0] = int_value(3); v[1] = text_value("c"); v[2] = int_value(7); v[3] = int_value(1);
	put_row(&e, "t", 4, cols4b, v);
	test_ok(apply_edits(&theirs, f.store, &f.base, &e));

	test_ok(ts_merge__trees(&merged, &st, f.store, &f.base, &ours, &theirs, &o));
	test_equal_i(s.n, 0);
	test_equal_i(st.rows_merged, 3);
	test_equal_s(row_at(f.store, &merged, "t", 1), "id 1\nname \"a\"\nn 50\nnote \"hi\"\n");
	test_equal_s(row_at(f.store, &merged, "t", 2), "id 2\nname \"B\"\nn 6\nnote null\n");
	/* same column count: the greater names ("tag" > "note") give the order */
	test_equal_s(row_at(f.store, &merged, "t", 3), "id 3\nname \"c\"\nn 7\ntag 1\nnote \"x\"\n");
	test_ok(ts_merge__trees(&back, &st, f.store, &f.base, &theirs, &ours, &o));
	test_assert(git_oid_equal(&merged, &back));

	/* a column dropped on one side while the other left it alone goes */
	test_ok(ts_merge__trees(&back, &st, f.store, &ours, &f.base, &merged, &o));
	test_equal_s(row_at(f.store, &back, "t", 1), "id 1\nname \"a\"\nn 50\n");
	test_equal_i(s.n, 0);
	fixture_close(&f);
}

void test_merge__column_missing_counts_as_null(void)
{
	fixture f;
	edits e;
	git_oid ours, theirs, merged;
	seen_conflicts s;
	ts_merge_options o = recording(&s);
	static const char *const cols2[] = { "id", "name" };
	ts_value v[3];

	memset(&e, 0, sizeof(e));
	memset(&s, 0, sizeof(s));
	test_ok(fixture_open(&f, "r.git"));
	/* ours drops n from row 1 (NULL), theirs changes it: a conflict against NULL */
	v[0] = int_value(1); v[1] = text_value("a");
	put_row(&e, "t", 2, cols2, v);
	test_ok(apply_edits(&ours, f.store, &f.base, &e));
	put3(&e, 1, "a", 9);
	test_ok(apply_edits(&theirs, f.store, &f.base, &e));

	test_ok(ts_merge__trees(&merged, NULL, f.store, &f.base, &ours, &theirs, &o));
	test_equal_i(s.n, 1);
	test_equal_s(s.text[0], "column t 1 n: 5 | NULL | 9 -> NULL");
	/* "null" > "9": the NULL goes on, and the column with it */
	test_equal_s(row_at(f.store, &merged, "t", 1), "id 1\nname \"a\"\n");
	seen_free(&s);
	fixture_close(&f);
}

/*
 * Metadata and broken trees.
 */

void test_merge__schema_versions(void)
{
	fixture f;
	edits e;
	git_oid ours, theirs, merged;

	memset(&e, 0, sizeof(e));
	test_ok(fixture_open(&f, "r.git"));
	put_raw(&e, TS_STORE_SCHEMA_PATH, "2\n");
	test_ok(apply_edits(&ours, f.store, &f.base, &e));
	put3(&e, 1, "A", 5);
	test_ok(apply_edits(&theirs, f.store, &f.base, &e));

	/* on one side: taken */
	test_ok(ts_merge__trees(&merged, NULL, f.store, &f.base, &ours, &theirs, NULL));
	test_equal_s(blob_at(f.store, &merged, TS_STORE_SCHEMA_PATH), "2\n");
	test_ok(ts_merge__trees(&merged, NULL, f.store, &f.base, &theirs, &ours, NULL));
	test_equal_s(blob_at(f.store, &merged, TS_STORE_SCHEMA_PATH), "2\n");

	/* on both sides, the same: fine; differently: refused */
	put_raw(&e, TS_STORE_SCHEMA_PATH, "2\n");
	test_ok(apply_edits(&theirs, f.store, &theirs, &e));
	test_ok(ts_merge__trees(&merged, NULL, f.store, &f.base, &ours, &theirs, NULL));
	put_raw(&e, TS_STORE_SCHEMA_PATH, "3\n");
	test_ok(apply_edits(&theirs, f.store, &theirs, &e));
	test_equal_i(ts_merge__trees(&merged, NULL, f.store, &f.base, &ours, &theirs, NULL), TS_EINVALID);
	test_assert(strstr(ts_error_last(), "schema versions differ") != NULL);
	test_assert(git_oid_is_zero(&merged));
	fixture_close(&f);
}

void test_merge__broken_trees(void)
{
	fixture f;
	edits e;
	git_oid ours, theirs, merged, base2;
	ts_buf path = TS_BUF_INIT;
	ts_value key = int_value(2);

	memset(&e, 0, sizeof(e));
	test_ok(fixture_open(&f, "r.git"));
	/* a blob changed on both sides at a path that is no row's */
	put_raw(&e, "t/zz", "1");
	test_ok(apply_edits(&base2, f.store, &f.base, &e));
	put_raw(&e, "t/zz", "2");
	test_ok(apply_edits(&ours, f.store, &base2, &e));
	put_raw(&e, "t/zz", "3");
	test_ok(apply_edits(&theirs, f.store, &base2, &e));
	test_equal_i(ts_merge__trees(&merged, NULL, f.store, &base2, &ours, &theirs, NULL), TS_ECORRUPT);

	/* a row blob that does not decode */
	test_ok(ts_rowcodec__key_path_values(&path, "t", 1, &key));
	put_raw(&e, path.ptr, "id 2\nname \"b\nn 6\n");
	test_ok(apply_edits(&ours, f.store, &f.base, &e));
	put3(&e, 2, "B", 6);
	test_ok(apply_edits(&theirs, f.store, &f.base, &e));
	test_equal_i(ts_merge__trees(&merged, NULL, f.store, &f.base, &ours, &theirs, NULL), TS_ECORRUPT);
	test_assert(strstr(ts_error_last(), path.ptr) != NULL);

	/* a name that is a file on one side and a directory on the other */
	put_raw(&e, "x", "1");
	test_ok(apply_edits(&ours, f.store, &f.base, &e));
	put_raw(&e, "x/y", "1");
	test_ok(apply_edits(&theirs, f.store, &f.base, &e));
	test_equal_i(ts_merge__trees(&merged, NULL, f.store, &f.base, &ours, &theirs, NULL), TS_ECORRUPT);
	test_equal_i(ts_merge__trees(&merged, NULL, f.store, &f.base, &theirs, &ours, NULL), TS_ECORRUPT);

	/* the same below a directory only theirs changed, which is taken whole */
	put_raw(&e, "d/x", "1");
	test_ok(apply_edits(&base2, f.store, &f.base, &e));
	put_raw(&e, "z", "1");
	test_ok(apply_edits(&ours, f.store, &base2, &e));
	put_raw(&e, "d/x", NULL);
	test_ok(apply_edits(&theirs, f.store, &base2, &e));
	put_raw(&e, "d/x/y", "1");
	test_ok(apply_edits(&theirs, f.store, &theirs, &e));
	test_equal_i(ts_merge__trees(&merged, NULL, f.store, &base2, &ours, &theirs, NULL), TS_ECORRUPT);
	test_assert(strstr(ts_error_last(), "d/x is a file on one side and a directory on another") != NULL);
	ts_buf__dispose(&path);
	fixture_close(&f);
}

/*
 * Keys, order, determinism.
 */

void test_merge__readable_keys(void)
{
	fixture f;
	edits e;
	git_oid ours, theirs, merged, base2;
	seen_conflicts s;
	ts_merge_options o = recording(&s);
	static const char *const colsm[] = { "a", "b", "v" };
	ts_value v[3];
	sqlite3 *db = NULL;
	ts_tables *tables = NULL;

	memset(&e, 0, sizeof(e));
	memset(&s, 0, sizeof(s));
	test_ok(fixture_open(&f, "r.git"));
	v[0] = int_value(5); v[1] = text_value("x/y z"); v[2] = int_value(0);
	put_row_keyed(&e, "m", 2, 3, colsm, v);
	test_ok(apply_edits(&base2, f.store, &f.base, &e));
	v[2] = int_value(1);
	put_row_keyed(&e, "m", 2, 3, colsm, v);
	test_ok(apply_edits(&ours, f.store, &base2, &e));
	v[2] = int_value(2);
	put_row_keyed(&e, "m", 2, 3, colsm, v);
	test_ok(apply_edits(&theirs, f.store, &base2, &e));

	/* without the tables: read back from the key name */
	test_ok(ts_merge__trees(&merged, NULL, f.store, &base2, &ours, &theirs, &o));
	test_equal_i(s.n, 1);
	test_equal_s(s.text[0], "column m 5, x/y z v: 0 | 1 | 2 -> 2");
	seen_free(&s);

	/* with them: as verify prints it */
	test_equal_i(sqlite3_open(":memory:", &db), SQLITE_OK);
	test_equal_i(sqlite3_exec(db, "CREATE TABLE m(a INTEGER, b TEXT, v INTEGER, PRIMARY KEY(a, b))",
		NULL, NULL, NULL), SQLITE_OK);
	test_ok(ts_tables__load(&tables, db));
	o.tables = tables;
	test_ok(ts_merge__trees(&merged, NULL, f.store, &base2, &ours, &theirs, &o));
	test_equal_s(s.text[0], "column m a=5, b=x/y z v: 0 | 1 | 2 -> 2");
	seen_free(&s);
	ts_tables__free(tables);
	sqlite3_close(db);
	fixture_close(&f);
}

/* A base, ours and theirs with every kind of change, in store `f`. */
static int mixed_sides(git_oid *ours, git_oid *theirs, fixture *f)
{
	static const char *const cols2[] = { "id", "v" };
	static const char *const cols4[] = { "id", "name", "n", "note" };
	edits e;
	ts_value v[4];
	int error;

	memset(&e, 0, sizeof(e));
	put3(&e, 1, "ours", 10);           /* conflicts on both columns */
	put3(&e, 2, "b", 60);              /* updated here, deleted there */
	del_row(&e, "t", 3);               /* deleted here, updated there */
	put3(&e, 7, "seven", 7);           /* inserted on both sides */
	v[0] = int_value(1); v[1] = int_value(-1);
	put_row(&e, "u", 2, cols2, v);     /* a table only here */
	if ((error = apply_edits(ours, f->store, &f->base, &e)) < 0)
		return error;
	v[0] = int_value(1); v[1] = text_value("theirs"); v[2] = int_value(11); v[3] = text_value("n");
	put_row(&e, "t", 4, cols4, v);
	del_row(&e, "t", 2);
	put3(&e, 3, "c", 70);
	put3(&e, 7, "SEVEN", 7);
	put3(&e, 8, "eight", 8);
	return apply_edits(theirs, f->store, &f->base, &e);
}

void test_merge__deterministic_and_symmetric(void)
{
	fixture f, g;
	git_oid ours, theirs, ab, ba, again, ours2, theirs2, other;
	ts_merge_stats st;
	seen_conflicts s;
	ts_merge_options o = recording(&s);
	int i;

	memset(&s, 0, sizeof(s));
	test_ok(fixture_open(&f, "r.git"));
	test_ok(mixed_sides(&ours, &theirs, &f));

	test_ok(ts_merge__trees(&ab, &st, f.store, &f.base, &ours, &theirs, &o));
	/* row 1: name and n; 2: update/delete; 3: delete/update; 7: insert of name */
	test_equal_i(st.conflicts, 5);
	test_equal_i(s.n, 5);
	/* path order (the fan-out's, not the keys'), then column order */
	for (i = 1; i < s.n; i++)
		test_assert(strcmp(s.path[i - 1], s.path[i]) <= 0);
	for (i = 0; i < s.n && strcmp(s.text[i], "column t 1 name: \"a\" | \"ours\" | \"theirs\" -> \"theirs\""); i++)
		;
	test_assert(i + 1 < s.n);
	test_equal_s(s.text[i + 1], "column t 1 n: 5 | 10 | 11 -> 11");
	test_equal_s(row_at(f.store, &ab, "t", 1), "id 1\nname \"theirs\"\nn 11\nnote \"n\"\n");
	test_equal_s(row_at(f.store, &ab, "t", 2), "id 2\nname \"b\"\nn 60\n");
	test_equal_s(row_at(f.store, &ab, "t", 3), "id 3\nname \"c\"\nn 70\n");
	test_equal_s(row_at(f.store, &ab, "t", 7), "id 7\nname \"seven\"\nn 7\n");
	test_equal_s(row_at(f.store, &ab, "t", 8), "id 8\nname \"eight\"\nn 8\n");
	test_equal_s(row_at(f.store, &ab, "u", 1), "id 1\nv -1\n");
	seen_free(&s);

	/* the same merge again, the other way round, and on another node */
	test_ok(ts_merge__trees(&again, NULL, f.store, &f.base, &ours, &theirs, &o));
	test_assert(git_oid_equal(&ab, &again));
	seen_free(&s);
	test_ok(ts_merge__trees(&ba, &st, f.store, &f.base, &theirs, &ours, &o));
	test_assert(git_oid_equal(&ab, &ba));
	test_equal_i(st.conflicts, 5);
	seen_free(&s);

	test_ok(fixture_open(&g, "other.git"));
	test_ok(mixed_sides(&ours2, &theirs2, &g));
	test_ok(ts_merge__trees(&other, NULL, g.store, &g.base, &ours2, &theirs2, NULL));
	test_assert(git_oid_equal(&ab, &other));
	ts_store__free(g.store);
	git_libgit2_shutdown();
	fixture_close(&f);
}

/*
 * Cost.
 */

static int count_subtree(const char *root, const git_tree_entry *entry, void *payload)
{
	(void)root;
	if (git_tree_entry_type(entry) == GIT_OBJECT_TREE)
		(*(size_t *)payload)++;
	return 0;
}

void test_merge__cost_follows_changes(void)
{
	enum { NROWS = 100000 };
	fixture f;
	edits e;
	ts_store_update *all = NULL;
	ts_buf *paths = NULL, *blobs = NULL;
	git_oid big, ours, theirs, merged;
	git_tree *tree = NULL;
	ts_merge_stats st;
	size_t all_trees = 1;
	int i, ok = 1;

	memset(&e, 0, sizeof(e));
	test_ok(fixture_open(&f, "r.git"));
	test_assert((all = calloc(NROWS + 1, sizeof(*all))) != NULL);
	test_assert((paths = calloc(NROWS, sizeof(*paths))) != NULL);
	test_assert((blobs = calloc(NROWS, sizeof(*blobs))) != NULL);
	for (i = 0; i < NROWS && ok; i++) {
		ts_value v[3];
		v[0] = int_value(i);
		v[1] = text_value("row");
		v[2] = int_value(i % 97);
		ok = ts_rowcodec__key_path_values(&paths[i], "t", 1, v) == 0 &&
			ts_rowcodec__encode_values(&blobs[i], 3, cols3, v) == 0;
		all[i].path = paths[i].ptr;
		all[i].data = blobs[i].ptr;
		all[i].len = blobs[i].size;
	}
	all[NROWS].path = TS_STORE_SCHEMA_PATH;
	all[NROWS].data = "1\n";
	all[NROWS].len = 2;
	test_assert(ok);
	test_ok(ts_store__tree_update(&big, f.store, NULL, all, NROWS + 1));
	for (i = 0; i < NROWS; i++) {
		ts_buf__dispose(&paths[i]);
		ts_buf__dispose(&blobs[i]);
	}
	free(paths);
	free(blobs);
	free(all);

	/* three rows on each side, one of them on both */
	put3(&e, 10, "ours", 10 % 97);
	put3(&e, 20, "ours", 20 % 97);
	put3(&e, 30, "ours", 30 % 97);
	test_ok(apply_edits(&ours, f.store, &big, &e));
	put3(&e, 30, "row", 1000);
	del_row(&e, "t", 40);
	put3(&e, NROWS + 1, "new", 0);
	test_ok(apply_edits(&theirs, f.store, &big, &e));

	test_ok(ts_merge__trees(&merged, &st, f.store, &big, &ours, &theirs, NULL));
	/* each changed row has five trees above it (t/, four fan-out levels) and
	 * the merge reads at most the three sides' of them, plus the roots */
	test_assert(st.trees_read <= 3 + 6 * 5 * 3);
	/* where a walk of the whole tree reads tens of thousands */
	test_ok(git_tree_lookup(&tree, ts_store__repo(f.store), &big));
	test_ok(git_tree_walk(tree, GIT_TREEWALK_PRE, count_subtree, &all_trees));
	git_tree_free(tree);
	test_assert(all_trees > 100 * st.trees_read);
	test_equal_i(st.rows_merged, 1);
	test_equal_i(st.rows_taken_theirs, 2);
	test_equal_i(st.conflicts, 0);
	test_equal_s(row_at(f.store, &merged, "t", 20), "id 20\nname \"ours\"\nn 20\n");
	test_equal_s(row_at(f.store, &merged, "t", 30), "id 30\nname \"ours\"\nn 1000\n");
	test_equal_s(row_at(f.store, &merged, "t", 40), "(absent)");
	test_equal_s(row_at(f.store, &merged, "t", NROWS + 1), "id 100001\nname \"new\"\nn 0\n");
	test_equal_s(row_at(f.store, &merged, "t", 41), "id 41\nname \"row\"\nn 41\n");
	fixture_close(&f);
}
