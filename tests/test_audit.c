/*
 * Unit tests of the audit engine (sync/audit.c): row and column diffs,
 * metadata and readable keys, the log and its filter by record, blame
 * through linear history and merges, row paths from typed keys, and the
 * rendering of values and times.
 */
#include "harness.h"

#include <math.h>
#include <stdlib.h>

#include <git2.h>
#include <sqlite3.h>

#include "audit.h"
#include "node.h"
#include "rowcodec.h"
#include "store.h"
#include "tables.h"
#include "tiersync.h"

#define NODE_ID "bj.dc.jingshan"
#define MAX_SEEN 64

static int new_node(ts_node **out)
{
	ts_init_options opts = { TS_INIT_OPTIONS_VERSION, TS_TIER_STREET, NODE_ID, NULL, "王伟", NULL };
	return ts_node_init(out, "n", &opts);
}

static git_repository *repo_of(ts_node *node)
{
	return ts_store__repo(node->store);
}

static int new_case(char **id, ts_node *node, const char *author, const char *address)
{
	return ts_case_new(id, node, author, "small_ads", "patrol", address, NULL, 0);
}

static int set_one(ts_node *node, const char *author, const char *id, const char *column, const char *value)
{
	ts_field f = { column, value };
	return ts_case_update(node, author, id, &f, 1);
}

/* What a diff reported, flattened for checking. */
typedef struct {
	int n;
	char *table[MAX_SEEN], *key[MAX_SEEN], *columns[MAX_SEEN];
	ts_audit_op op[MAX_SEEN];
} seen_changes;

static int put_column(const ts_audit_column *col, void *payload)
{
	ts_buf *out = payload;
	ts_buf__printf(out, "%s: ", col->column);
	if (col->old_value)
		ts_audit__put_value(out, col->old_value);
	else
		ts_buf__puts(out, "-");
	ts_buf__puts(out, " -> ");
	if (col->new_value)
		ts_audit__put_value(out, col->new_value);
	else
		ts_buf__puts(out, "-");
	ts_buf__puts(out, "; ");
	return 0;
}

/* Keeps each change as strings; row changes carry "col: old -> new; ..." and
 * metadata "old -> new" of the blob text. */
static int see_change(const ts_audit_change *ch, void *payload)
{
	seen_changes *s = payload;
	ts_buf cols = TS_BUF_INIT;

	if (s->n == MAX_SEEN)
		return -1;
	if (ch->table)
		ts_audit__columns(ch, put_column, &cols);
	else {
		ts_buf__put(&cols, ch->old_data ? ch->old_data : "-", ch->old_data ? ch->old_len : 1);
		ts_buf__puts(&cols, " -> ");
		ts_buf__put(&cols, ch->new_data ? ch->new_data : "-", ch->new_data ? ch->new_len : 1);
	}
	s->table[s->n] = ch->table ? strdup(ch->table) : NULL;
	s->key[s->n] = strdup(ch->key);
	s->columns[s->n] = ts_buf__detach(&cols);
	s->op[s->n] = ch->op;
	s->n++;
	return 0;
}

static void seen_free(seen_changes *s)
{
	int k;
	for (k = 0; k < s->n; k++) {
		free(s->table[k]);
		free(s->key[k]);
		free(s->columns[k]);
	}
	memset(s, 0, sizeof(*s));
}

/* The index of the change of `table` (NULL: metadata) with `key`, or -1. */
static int seen_find(const seen_changes *s, const char *table, const char *key)
{
	int k;
	for (k = 0; k < s->n; k++)
		if (((!table && !s->table[k]) || (table && s->table[k] && !strcmp(table, s->table[k]))) &&
		    !strcmp(key, s->key[k]))
			return k;
	return -1;
}

static int diff_revs(seen_changes *s, git_repository *repo, const char *from, const char *to, ts_tables *tables)
{
	git_commit *a = NULL, *b = NULL;
	git_tree *ta = NULL, *tb = NULL;
	int error;

	if ((error = ts_audit__resolve(&a, repo, from)) < 0 || (error = ts_audit__resolve(&b, repo, to)) < 0)
		goto done;
	if (git_commit_tree(&ta, a) < 0 || git_commit_tree(&tb, b) < 0) {
		error = TS_ERROR;
		goto done;
	}
	error = ts_audit__diff(repo, ta, tb, tables, TS_AUDIT_ROWS, NULL, see_change, s);
done:
	git_tree_free(ta);
	git_tree_free(tb);
	git_commit_free(a);
	git_commit_free(b);
	return error;
}

void test_audit__diff_shows_column_changes(void)
{
	ts_node *node = NULL;
	ts_tables *tables = NULL;
	seen_changes s = { 0 };
	char *id = NULL, c1[41], c2[41];
	int k;

	test_ok(new_node(&node));
	test_ok(new_case(&id, node, "王伟", "景山前街 4号"));
	test_ok(ts_node_commit(c1, node, "立案", "王伟"));
	{
		ts_field sets[] = { { "status", "dispatched" }, { "officer", "李娜" } };
		test_ok(ts_case_update(node, "张强", id, sets, 2));
	}
	test_ok(ts_node_commit(c2, node, "派遣", "张强"));
	test_ok(ts_tables__load(&tables, ts_node_db(node)));

	test_ok(diff_revs(&s, repo_of(node), c1, c2, tables));
	test_equal_i(s.n, 2);   /* the case and its dispatch event */
	test_assert((k = seen_find(&s, "cases", id)) >= 0);
	test_equal_i(s.op[k], TS_AUDIT_UPDATE);
	test_equal_s(s.columns[k], "status: \"discovered\" -> \"dispatched\"; officer: NULL -> \"李娜\"; ");
	for (k = 0; k < s.n; k++)
		if (!strcmp(s.table[k], "case_events"))
			break;
	test_assert(k < s.n);
	test_equal_i(s.op[k], TS_AUDIT_INSERT);
	test_assert(strstr(s.columns[k], "case_id: - -> \"") != NULL);
	test_assert(strstr(s.columns[k], "officer: - -> \"张强\"") != NULL);
	seen_free(&s);

	/* backwards, the same change undone */
	test_ok(diff_revs(&s, repo_of(node), "HEAD", "HEAD~1", tables));
	test_assert((k = seen_find(&s, "cases", id)) >= 0);
	test_equal_s(s.columns[k], "status: \"dispatched\" -> \"discovered\"; officer: \"李娜\" -> NULL; ");
	test_equal_i(s.n, 2);
	for (k = 0; k < s.n; k++)
		if (!strcmp(s.table[k], "case_events"))
			test_equal_i(s.op[k], TS_AUDIT_DELETE);
	seen_free(&s);

	/* a commit against itself: nothing */
	test_ok(diff_revs(&s, repo_of(node), "HEAD", c2, tables));
	test_equal_i(s.n, 0);

	ts_tables__free(tables);
	free(id);
	ts_node_free(node);
}

/* A bare store with rows of a made-up schema, for what the case app never writes. */
static int put_row(ts_store_update *u, ts_buf *path, ts_buf *blob, const char *table,
	int nkey, const ts_value *key, int ncol, const char *const *names, const ts_value *values)
{
	int error;
	if ((error = ts_rowcodec__key_path_values(path, table, nkey, key)) < 0 ||
	    (error = ts_rowcodec__encode_values(blob, ncol, names, values)) < 0)
		return error;
	u->path = path->ptr;
	u->data = blob->ptr;
	u->len = blob->size;
	return 0;
}

static ts_value text_value(const char *s)
{
	ts_value v = { SQLITE_TEXT, 0, 0, (char *)s, strlen(s) };
	return v;
}

static ts_value int_value(int64_t i)
{
	ts_value v = { SQLITE_INTEGER, i, 0, NULL, 0 };
	return v;
}

void test_audit__diff_metadata_and_odd_keys(void)
{
	static const char *const names[] = { "id", "v" };
	ts_store *store = NULL;
	ts_store_update u[3];
	ts_buf p0 = TS_BUF_INIT, b0 = TS_BUF_INIT, p1 = TS_BUF_INIT, b1 = TS_BUF_INIT;
	git_oid t1, t2;
	git_tree *tree1 = NULL, *tree2 = NULL;
	seen_changes s = { 0 };
	ts_value key[2], vals[2];
	int k;

	git_libgit2_init();   /* released below; the node does this for itself */
	test_ok(ts_store__open(&store, "r.git", 1));
	key[0] = text_value("a/b c,.. %");
	vals[0] = key[0];
	vals[1] = int_value(1);
	test_ok(put_row(&u[0], &p0, &b0, "t", 1, key, 2, names, vals));
	key[0] = int_value(5);
	key[1] = text_value("x");
	vals[0] = int_value(5);
	vals[1] = text_value("five");
	test_ok(put_row(&u[1], &p1, &b1, "m", 2, key, 2, names, vals));
	u[2].path = TS_STORE_SCHEMA_PATH;
	u[2].data = "1\n";
	u[2].len = 2;
	test_ok(ts_store__tree_update(&t1, store, NULL, u, 3));
	u[0].path = TS_STORE_SCHEMA_PATH;
	u[0].data = "2\n";
	u[0].len = 2;
	test_ok(ts_store__tree_update(&t2, store, &t1, u, 1));
	test_ok(git_tree_lookup(&tree1, ts_store__repo(store), &t1));
	test_ok(git_tree_lookup(&tree2, ts_store__repo(store), &t2));

	/* from nothing: every row and the metadata, keys read back from their paths */
	test_ok(ts_audit__diff(ts_store__repo(store), NULL, tree1, NULL, TS_AUDIT_ROWS, NULL, see_change, &s));
	test_equal_i(s.n, 3);
	test_assert((k = seen_find(&s, "t", "a/b c,.. %")) >= 0);
	test_equal_i(s.op[k], TS_AUDIT_INSERT);
	test_equal_s(s.columns[k], "id: - -> \"a/b c,.. %\"; v: - -> 1; ");
	test_assert((k = seen_find(&s, "m", "5, x")) >= 0);
	test_assert((k = seen_find(&s, NULL, "schema-version")) >= 0);
	test_equal_s(s.columns[k], "- -> 1\n");
	seen_free(&s);

	/* only the schema version moved: one metadata change, no rows */
	test_ok(ts_audit__diff(ts_store__repo(store), tree1, tree2, NULL, 0, NULL, see_change, &s));
	test_equal_i(s.n, 1);
	test_assert(s.table[0] == NULL);
	test_equal_s(s.key[0], "schema-version");
	test_equal_i(s.op[0], TS_AUDIT_UPDATE);
	test_equal_s(s.columns[0], "1\n -> 2\n");
	seen_free(&s);

	git_tree_free(tree1);
	git_tree_free(tree2);
	ts_buf__dispose(&p0);
	ts_buf__dispose(&b0);
	ts_buf__dispose(&p1);
	ts_buf__dispose(&b1);
	ts_store__free(store);
	git_libgit2_shutdown();
}

static int count_change(const ts_audit_change *ch, void *payload)
{
	(void)ch;
	(*(int *)payload)++;
	return 0;
}

void test_audit__diff_one_row_among_many(void)
{
	static const char *const names[] = { "id", "v" };
	enum { ROWS = 3000 };
	ts_store *store = NULL;
	ts_store_update *u = calloc(ROWS, sizeof(*u));
	ts_buf *paths = calloc(ROWS, sizeof(*paths)), *blobs = calloc(ROWS, sizeof(*blobs));
	git_oid t1, t2;
	git_tree *tree1 = NULL, *tree2 = NULL;
	ts_value vals[2];
	int k, n = 0;

	test_assert(u && paths && blobs);
	git_libgit2_init();   /* released below; the node does this for itself */
	test_ok(ts_store__open(&store, "r.git", 1));
	for (k = 0; k < ROWS; k++) {
		vals[0] = int_value(k);
		vals[1] = int_value(k * 7);
		test_ok(put_row(&u[k], &paths[k], &blobs[k], "t", 1, vals, 2, names, vals));
	}
	test_ok(ts_store__tree_update(&t1, store, NULL, u, ROWS));
	vals[0] = int_value(1234);
	vals[1] = int_value(-1);
	ts_buf__clear(&paths[0]);
	ts_buf__clear(&blobs[0]);
	test_ok(put_row(&u[0], &paths[0], &blobs[0], "t", 1, vals, 2, names, vals));
	test_ok(ts_store__tree_update(&t2, store, &t1, u, 1));
	test_ok(git_tree_lookup(&tree1, ts_store__repo(store), &t1));
	test_ok(git_tree_lookup(&tree2, ts_store__repo(store), &t2));
	test_ok(ts_audit__diff(ts_store__repo(store), tree1, tree2, NULL, 0, NULL, count_change, &n));
	test_equal_i(n, 1);
	n = 0;
	test_ok(ts_audit__diff(ts_store__repo(store), NULL, tree2, NULL, 0, NULL, count_change, &n));
	test_equal_i(n, ROWS);

	git_tree_free(tree1);
	git_tree_free(tree2);
	for (k = 0; k < ROWS; k++) {
		ts_buf__dispose(&paths[k]);
		ts_buf__dispose(&blobs[k]);
	}
	free(paths);
	free(blobs);
	free(u);
	ts_store__free(store);
	git_libgit2_shutdown();
}

void test_audit__columns_across_a_schema_change(void)
{
	static const char old_blob[] = "id \"k\"\na 1\nb \"gone\"\n";
	static const char new_blob[] = "id \"k\"\na 2\nc null\n";
	ts_audit_change ch;
	ts_row *old_row = NULL, *new_row = NULL;
	ts_buf out = TS_BUF_INIT;

	test_ok(ts_rowcodec__decode(&old_row, old_blob, sizeof(old_blob) - 1));
	test_ok(ts_rowcodec__decode(&new_row, new_blob, sizeof(new_blob) - 1));
	memset(&ch, 0, sizeof(ch));
	ch.op = TS_AUDIT_UPDATE;
	ch.table = "t";
	ch.key = "k";
	ch.old_row = old_row;
	ch.new_row = new_row;
	test_ok(ts_audit__columns(&ch, put_column, &out));
	test_equal_s(ts_buf__cstr(&out), "a: 1 -> 2; c: - -> NULL; b: \"gone\" -> -; ");
	ts_buf__dispose(&out);
	ts_row__free(old_row);
	ts_row__free(new_row);
}

/* What a log reported. */
typedef struct {
	const char *case_id;
	int stop_after;          /* 0: never */
	int n;
	char id[MAX_SEEN][41];
	char *author[MAX_SEEN], *node[MAX_SEEN], *rows[MAX_SEEN];
	size_t inserts[MAX_SEEN], updates[MAX_SEEN], deletes[MAX_SEEN];
	int offset[MAX_SEEN];
} seen_log;

static int case_filter(const ts_audit_change *ch, void *payload)
{
	seen_log *s = payload;
	return ts_audit__change_concerns(ch, "cases", "case_id", s->case_id);
}

static int see_entry(const ts_audit_entry *e, void *payload)
{
	seen_log *s = payload;
	ts_buf rows = TS_BUF_INIT;
	size_t k;

	if (s->n == MAX_SEEN)
		return -1;
	git_oid_tostr(s->id[s->n], 41, e->id);
	s->author[s->n] = strdup(e->author);
	s->node[s->n] = strdup(e->node);
	for (k = 0; k < e->nchanges; k++)
		ts_buf__printf(&rows, "%s %s %s; ", ts_audit__op_name(e->changes[k].op), e->changes[k].table,
			e->changes[k].table && !strcmp(e->changes[k].table, "cases") ? e->changes[k].key : "*");
	s->rows[s->n] = ts_buf__detach(&rows);
	s->inserts[s->n] = e->inserts;
	s->updates[s->n] = e->updates;
	s->deletes[s->n] = e->deletes;
	s->offset[s->n] = e->offset;
	s->n++;
	return s->stop_after && s->n >= s->stop_after ? 1 : 0;
}

static void seen_log_free(seen_log *s)
{
	int k;
	for (k = 0; k < s->n; k++) {
		free(s->author[k]);
		free(s->node[k]);
		free(s->rows[k]);
	}
	s->n = 0;
}

void test_audit__log_lists_commits_and_filters_by_case(void)
{
	ts_node *node = NULL;
	ts_tables *tables = NULL;
	seen_log *s = calloc(1, sizeof(*s));
	char *a = NULL, *b = NULL, c1[41], c2[41], c3[41], c4[41], want[256];

	test_assert(s != NULL);
	test_ok(new_node(&node));
	test_ok(new_case(&a, node, "王伟", "景山前街 4号"));
	test_ok(ts_node_commit(c1, node, "立案 A", "王伟"));
	test_ok(new_case(&b, node, "李娜", "景山后街 9号"));
	test_ok(ts_node_commit(c2, node, "立案 B", "李娜"));
	test_ok(set_one(node, "张强", a, "status", "dispatched"));
	test_ok(ts_node_commit(c3, node, "派遣 A", "张强"));
	test_ok(set_one(node, "赵六", b, "officer", "赵六"));
	test_ok(ts_node_commit(c4, node, "认领 B", "赵六"));
	test_ok(ts_tables__load(&tables, ts_node_db(node)));

	/* everything, newest first, counted against the first parent */
	test_ok(ts_audit__log(repo_of(node), NULL, tables, NULL, see_entry, s));
	test_equal_i(s->n, 5);
	test_equal_s(s->id[0], c4);
	test_equal_s(s->id[1], c3);
	test_equal_s(s->id[2], c2);
	test_equal_s(s->id[3], c1);
	test_equal_s(s->author[0], "赵六");
	test_equal_s(s->author[3], "王伟");
	test_equal_s(s->node[0], NODE_ID);
	test_equal_i(s->offset[0], 8 * 60);
	test_equal_i(s->inserts[1], 1);   /* the dispatch event */
	test_equal_i(s->updates[1], 1);   /* the case */
	test_equal_i(s->deletes[1], 0);
	test_equal_i(s->inserts[3], 2);   /* the case and its intake event */
	test_assert(s->inserts[4] > 0);   /* init: the reference data */
	test_equal_s(s->rows[0], "");     /* no filter, no rows listed */
	seen_log_free(s);

	/* one case: exactly the commits that touched it or its records */
	s->case_id = a;
	test_ok(ts_audit__log(repo_of(node), "HEAD", tables, case_filter, see_entry, s));
	test_equal_i(s->n, 2);
	test_equal_s(s->id[0], c3);
	test_equal_s(s->author[0], "张强");
	test_equal_s(s->id[1], c1);
	test_equal_s(s->author[1], "王伟");
	snprintf(want, sizeof(want), "insert case_events *; update cases %s; ", a);
	test_equal_s(s->rows[0], want);
	snprintf(want, sizeof(want), "insert case_events *; insert cases %s; ", a);
	test_equal_s(s->rows[1], want);
	seen_log_free(s);

	s->case_id = b;
	test_ok(ts_audit__log(repo_of(node), NULL, tables, case_filter, see_entry, s));
	test_equal_i(s->n, 2);
	test_equal_s(s->id[0], c4);
	test_equal_s(s->id[1], c2);
	seen_log_free(s);

	/* from an older start, and stopping early */
	s->case_id = NULL;
	s->stop_after = 2;
	test_equal_i(ts_audit__log(repo_of(node), c3, tables, NULL, see_entry, s), 1);
	test_equal_i(s->n, 2);
	test_equal_s(s->id[0], c3);
	test_equal_s(s->id[1], c2);
	seen_log_free(s);

	/* a case nobody touched */
	s->case_id = "bj.dc.jingshan-c19990101-0001";
	s->stop_after = 0;
	test_ok(ts_audit__log(repo_of(node), NULL, tables, case_filter, see_entry, s));
	test_equal_i(s->n, 0);

	ts_tables__free(tables);
	free(a);
	free(b);
	free(s);
	ts_node_free(node);
}

/* What blame reported, by column. */
typedef struct {
	int n;
	char *column[MAX_SEEN], *value[MAX_SEEN], *author[MAX_SEEN];
	char commit[MAX_SEEN][41];
} seen_blame;

static int see_line(const ts_audit_blame_line *l, void *payload)
{
	seen_blame *s = payload;
	ts_buf v = TS_BUF_INIT;

	if (s->n == MAX_SEEN)
		return -1;
	ts_audit__put_value(&v, l->value);
	s->column[s->n] = strdup(l->column);
	s->value[s->n] = ts_buf__detach(&v);
	s->author[s->n] = strdup(l->author);
	git_oid_tostr(s->commit[s->n], 41, l->commit);
	s->n++;
	return 0;
}

static int blame_find(const seen_blame *s, const char *column)
{
	int k;
	for (k = 0; k < s->n; k++)
		if (!strcmp(s->column[k], column))
			return k;
	return -1;
}

static void seen_blame_free(seen_blame *s)
{
	int k;
	for (k = 0; k < s->n; k++) {
		free(s->column[k]);
		free(s->value[k]);
		free(s->author[k]);
	}
	s->n = 0;
}

void test_audit__blame_names_who_set_each_column(void)
{
	ts_node *node = NULL;
	ts_tables *tables = NULL;
	ts_buf path = TS_BUF_INIT;
	seen_blame *s = calloc(1, sizeof(*s));
	char *id = NULL, c1[41], c2[41], c3[41], c4[41], c5[41], c6[41];
	int k;

	test_assert(s != NULL);
	test_ok(new_node(&node));
	test_ok(new_case(&id, node, "王伟", "景山前街 4号"));
	test_ok(ts_node_commit(c1, node, "立案", "王伟"));
	test_ok(set_one(node, "李娜", id, "status", "dispatched"));
	test_ok(ts_node_commit(c2, node, "派遣", "李娜"));
	test_ok(set_one(node, "张强", id, "officer", "张强"));
	test_ok(ts_node_commit(c3, node, "认领", "张强"));
	test_ok(set_one(node, "赵六", id, "status", "handling"));
	test_ok(ts_node_commit(c4, node, "处理", "赵六"));
	/* a value set and then cleared again: the clearing commit owns the NULL */
	test_ok(set_one(node, "钱七", id, "description", "墙上小广告"));
	test_ok(ts_node_commit(c5, node, "描述", "钱七"));
	test_ok(set_one(node, "孙八", id, "description", NULL));
	test_ok(ts_node_commit(c6, node, "清除描述", "孙八"));
	test_ok(ts_tables__load(&tables, ts_node_db(node)));
	test_ok(ts_audit__row_path(&path, ts_node_db(node), tables, "cases", id));

	test_ok(ts_audit__blame(repo_of(node), NULL, path.ptr, see_line, s));
	test_assert(s->n > 10);
	test_equal_s(s->column[0], "id");    /* the row's column order */
	test_equal_s(s->commit[0], c1);
	test_assert((k = blame_find(s, "address")) >= 0);
	test_equal_s(s->commit[k], c1);
	test_equal_s(s->author[k], "王伟");
	test_equal_s(s->value[k], "\"景山前街 4号\"");
	test_assert((k = blame_find(s, "status")) >= 0);
	test_equal_s(s->commit[k], c4);
	test_equal_s(s->author[k], "赵六");
	test_equal_s(s->value[k], "\"handling\"");
	test_assert((k = blame_find(s, "officer")) >= 0);
	test_equal_s(s->commit[k], c3);
	test_equal_s(s->author[k], "张强");
	test_assert((k = blame_find(s, "description")) >= 0);
	test_equal_s(s->commit[k], c6);
	test_equal_s(s->author[k], "孙八");
	test_equal_s(s->value[k], "NULL");
	test_assert((k = blame_find(s, "stage")) >= 0);   /* NULL since the start */
	test_equal_s(s->commit[k], c1);
	seen_blame_free(s);

	/* from an older commit: as it stood then */
	test_ok(ts_audit__blame(repo_of(node), c2, path.ptr, see_line, s));
	test_assert((k = blame_find(s, "status")) >= 0);
	test_equal_s(s->commit[k], c2);
	test_equal_s(s->author[k], "李娜");
	test_equal_s(s->value[k], "\"dispatched\"");
	test_assert((k = blame_find(s, "officer")) >= 0);
	test_equal_s(s->commit[k], c1);
	seen_blame_free(s);

	/* a row history does not have */
	ts_buf__clear(&path);
	test_ok(ts_audit__row_path(&path, ts_node_db(node), tables, "cases", "no-such-case"));
	test_equal_i(ts_audit__blame(repo_of(node), NULL, path.ptr, see_line, s), TS_ENOTFOUND);
	test_equal_i(s->n, 0);

	ts_buf__dispose(&path);
	ts_tables__free(tables);
	free(id);
	free(s);
	ts_node_free(node);
}

/* Commits the row {id "k", a, b, c} with the given parents, authored by `who`. */
static int commit_row(git_oid *out, ts_store *store, const char *who, int a, int b, int c,
	const git_oid *parents, size_t nparents)
{
	static const char *const names[] = { "id", "a", "b", "c" };
	ts_value key = text_value("k"), vals[4];
	ts_buf path = TS_BUF_INIT, blob = TS_BUF_INIT;
	ts_store_update u;
	ts_store_who author = { who, "bj.dc", 1795750200, 480 }, committer = { "bj.dc", "bj.dc", 1795750200, 480 };
	git_oid base, tree;
	int error;

	vals[0] = key;
	vals[1] = int_value(a);
	vals[2] = int_value(b);
	vals[3] = int_value(c);
	if ((error = put_row(&u, &path, &blob, "t", 1, &key, 4, names, vals)) < 0 ||
	    (nparents && (error = ts_store__commit_tree(&base, store, &parents[0])) < 0) ||
	    (error = ts_store__tree_update(&tree, store, nparents ? &base : NULL, &u, 1)) < 0)
		goto done;
	error = ts_store__commit(out, NULL, store, &tree, parents, nparents, &author, &committer, who);
done:
	ts_buf__dispose(&path);
	ts_buf__dispose(&blob);
	return error;
}

void test_audit__blame_through_merges(void)
{
	ts_store *store = NULL;
	seen_blame *s = calloc(1, sizeof(*s));
	ts_value key = text_value("k");
	ts_buf path = TS_BUF_INIT;
	git_oid base, left, right, merged[2], m, m2;
	char hex[41];
	int k;

	test_assert(s != NULL);
	git_libgit2_init();   /* released below; the node does this for itself */
	test_ok(ts_store__open(&store, "r.git", 1));
	test_ok(ts_rowcodec__key_path_values(&path, "t", 1, &key));
	test_ok(commit_row(&base, store, "base", 1, 1, 1, NULL, 0));
	test_ok(commit_row(&left, store, "left", 2, 1, 1, &base, 1));
	test_ok(commit_row(&right, store, "right", 1, 2, 1, &base, 1));
	merged[0] = left;
	merged[1] = right;
	/* the merge takes a from the left, b from the right, and sets c itself */
	test_ok(commit_row(&m, store, "merger", 2, 2, 3, merged, 2));
	test_ok(ts_store__ref_set(store, TS_STORE_MAIN, &m, "test"));

	test_ok(ts_audit__blame(ts_store__repo(store), NULL, path.ptr, see_line, s));
	test_equal_i(s->n, 4);
	test_equal_s(s->author[blame_find(s, "id")], "base");
	test_equal_s(s->author[blame_find(s, "a")], "left");
	test_equal_s(s->author[blame_find(s, "b")], "right");
	test_equal_s(s->author[blame_find(s, "c")], "merger");
	k = blame_find(s, "b");
	test_equal_s(s->commit[k], git_oid_tostr(hex, sizeof(hex), &right));
	seen_blame_free(s);

	/* a value both sides hold: the first parent gets it */
	merged[0] = m;
	merged[1] = right;
	test_ok(commit_row(&m2, store, "merger2", 2, 2, 3, merged, 2));
	test_ok(ts_audit__blame(ts_store__repo(store), git_oid_tostr(hex, sizeof(hex), &m2), path.ptr, see_line, s));
	test_equal_s(s->author[blame_find(s, "b")], "right");
	test_equal_s(s->author[blame_find(s, "c")], "merger");
	test_equal_s(s->author[blame_find(s, "id")], "base");
	seen_blame_free(s);

	ts_buf__dispose(&path);
	free(s);
	ts_store__free(store);
	git_libgit2_shutdown();
}

void test_audit__unknown_revisions_and_tables(void)
{
	ts_node *node = NULL;
	ts_tables *tables = NULL;
	ts_buf path = TS_BUF_INIT;
	git_commit *c = NULL;

	test_ok(new_node(&node));
	test_equal_i(ts_audit__resolve(&c, repo_of(node), "foo"), TS_ENOTFOUND);
	test_assert(c == NULL);
	test_equal_s(ts_error_last(), "unknown revision 'foo'");
	test_equal_i(ts_audit__resolve(&c, repo_of(node), "HEAD~1"), TS_ENOTFOUND);
	test_equal_i(ts_audit__resolve(&c, repo_of(node), ""), TS_EINVALID);
	test_ok(ts_audit__resolve(&c, repo_of(node), "HEAD"));
	git_commit_free(c);

	test_ok(ts_tables__load(&tables, ts_node_db(node)));
	test_equal_i(ts_audit__row_path(&path, ts_node_db(node), tables, "nope", "x"), TS_ENOTFOUND);
	test_assert(strstr(ts_error_last(), "'nope'") != NULL);
	test_equal_i(ts_audit__row_path(&path, ts_node_db(node), tables, "ts_meta", "head"), TS_ENOTFOUND);
	test_equal_i(path.size, 0);
	test_equal_i(ts_audit__log(repo_of(node), "nope", tables, NULL, see_entry, NULL), TS_ENOTFOUND);

	ts_buf__dispose(&path);
	ts_tables__free(tables);
	ts_node_free(node);
}

void test_audit__row_path_takes_the_key_column_type(void)
{
	sqlite3 *db = NULL;
	ts_tables *tables = NULL;
	ts_buf got = TS_BUF_INIT, want = TS_BUF_INIT;
	ts_value v;

	test_assert(sqlite3_open(":memory:", &db) == SQLITE_OK);
	test_assert(sqlite3_exec(db, "CREATE TABLE n (id INTEGER PRIMARY KEY, v TEXT);"
		"CREATE TABLE s (code TEXT PRIMARY KEY, v);"
		"CREATE TABLE m (a INT, b TEXT, PRIMARY KEY (a, b));", NULL, NULL, NULL) == SQLITE_OK);
	test_ok(ts_tables__load(&tables, db));

	v = int_value(42);
	test_ok(ts_audit__row_path(&got, db, tables, "n", "42"));
	test_ok(ts_rowcodec__key_path_values(&want, "n", 1, &v));
	test_equal_s(got.ptr, want.ptr);

	ts_buf__clear(&got);
	ts_buf__clear(&want);
	v = int_value(-9223372036854775807LL - 1);
	test_ok(ts_audit__row_path(&got, db, tables, "n", "-9223372036854775808"));
	test_ok(ts_rowcodec__key_path_values(&want, "n", 1, &v));
	test_equal_s(got.ptr, want.ptr);

	/* not an integer as written: taken as the text it is */
	ts_buf__clear(&got);
	ts_buf__clear(&want);
	v = text_value("042");
	test_ok(ts_audit__row_path(&got, db, tables, "n", "042"));
	test_ok(ts_rowcodec__key_path_values(&want, "n", 1, &v));
	test_equal_s(got.ptr, want.ptr);

	ts_buf__clear(&got);
	ts_buf__clear(&want);
	v = text_value("42");
	test_ok(ts_audit__row_path(&got, db, tables, "s", "42"));
	test_ok(ts_rowcodec__key_path_values(&want, "s", 1, &v));
	test_equal_s(got.ptr, want.ptr);

	test_equal_i(ts_audit__row_path(&got, db, tables, "m", "1"), TS_EINVALID);

	ts_buf__dispose(&got);
	ts_buf__dispose(&want);
	ts_tables__free(tables);
	sqlite3_close(db);
}

void test_audit__renders_values_and_times(void)
{
	ts_buf out = TS_BUF_INIT;
	ts_value v;
	char when[32];

	ts_audit__time_format(when, 1795750200, 480);
	test_equal_s(when, "2026-11-27T11:30:00+08:00");
	ts_audit__time_format(when, 1795750200, -330);
	test_equal_s(when, "2026-11-26T22:00:00-05:30");
	ts_audit__time_format(when, 0, 0);
	test_equal_s(when, "1970-01-01T00:00:00+00:00");

	/* for people: NULL apart from the text "NULL" */
	ts_audit__put_value(&out, NULL);
	ts_buf__putc(&out, ' ');
	v = text_value("NULL");
	ts_audit__put_value(&out, &v);
	ts_buf__putc(&out, ' ');
	v = text_value("李娜 \"x\"\n");
	ts_audit__put_value(&out, &v);
	test_equal_s(ts_buf__cstr(&out), "NULL \"NULL\" \"李娜 \\\"x\\\"\\n\"");

	ts_buf__dispose(&out);
}
