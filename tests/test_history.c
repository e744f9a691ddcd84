/*
 * Unit tests of the history (sync/history.c, sync/store.c, sync/verify.c)
 * as a node uses it: every commit's tree is the database, commits cost
 * what they change, a crash or power loss is repaired on open from what
 * the database records, and verify finds edits made behind the node's back.
 * Stock libgit2 and a separate SQLite connection are the judges.
 */
#include "harness.h"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <git2.h>
#include <sqlite3.h>
#include <zlib.h>

#include "history.h"
#include "rawtree.h"
#include "pack.h"
#include "nodes.h"
#include "rowcodec.h"
#include "store.h"
#include "tiersync.h"

#define NODE_ID "bj.dc.jingshan"

static int new_node(ts_node **out, const char *path)
{
	ts_init_options opts = { TS_INIT_OPTIONS_VERSION, TS_TIER_STREET, NODE_ID, NULL, "王伟", NULL };
	return ts_node_init(out, path, &opts);
}

static int new_case(char **id, ts_node *node, const char *author)
{
	return ts_case_new(id, node, author, "small_ads", "patrol", "景山前街 4号", NULL, 0);
}

static long long query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long long value = LLONG_MIN;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		value = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return value;
}

/* Runs `sql` on a connection of its own, as the sqlite3 shell would:
 * behind the node's back. */
static int tamper(const char *node_path, const char *sql)
{
	char path[4096];
	sqlite3 *db = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/tiersync.db", node_path);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 5000);
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		fprintf(stderr, "    tamper: %s\n", sqlite3_errmsg(db));
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

static int main_id(git_oid *out, git_repository *repo)
{
	return git_reference_name_to_id(out, repo, "refs/heads/main");
}

static int main_tree(git_tree **out, git_repository *repo)
{
	git_commit *commit = NULL;
	git_oid id;
	int error;

	*out = NULL;
	if ((error = main_id(&id, repo)) < 0 || (error = git_commit_lookup(&commit, repo, &id)) < 0)
		return error;
	error = git_commit_tree(out, commit);
	git_commit_free(commit);
	return error;
}

/* The path of a one-column text key in `table`. */
static void key_path(ts_buf *out, const char *table, const char *key)
{
	ts_value v;
	memset(&v, 0, sizeof(v));
	v.type = SQLITE_TEXT;
	v.p = (char *)key;
	v.n = strlen(key);
	ts_buf__clear(out);
	ts_rowcodec__key_path_values(out, table, 1, &v);
}

/* 1 if `tree` holds a blob at `path`, 0 if not. */
static int tree_has(git_tree *tree, const char *path)
{
	git_tree_entry *e = NULL;
	int found = git_tree_entry_bypath(&e, tree, path) == 0;
	git_tree_entry_free(e);
	return found;
}

/*
 * The files of NODE/history.git/objects: "xx/<38 hex>" for loose objects,
 * "pack/<name>" for packs. Comparing two listings tells which files a
 * commit wrote, however the store lays its objects out.
 */
typedef struct {
	char **v;
	size_t n, alloc;
} file_list;

static void file_list_dispose(file_list *l)
{
	size_t i;
	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int file_list_has(const file_list *l, const char *name)
{
	size_t i;
	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], name))
			return 1;
	return 0;
}

static int file_list_add(file_list *l, const char *name)
{
	if (l->n == l->alloc) {
		size_t na = l->alloc ? l->alloc * 2 : 256;
		char **nv = realloc(l->v, na * sizeof(*nv));
		if (!nv)
			return -1;
		l->v = nv;
		l->alloc = na;
	}
	if (!(l->v[l->n] = strdup(name)))
		return -1;
	l->n++;
	return 0;
}

static int is_object_dir(const char *name)
{
	return (strlen(name) == 2 && strchr("0123456789abcdef", name[0]) && strchr("0123456789abcdef", name[1])) ||
		!strcmp(name, "pack");
}

static int list_object_files(file_list *out, const char *node_path)
{
	char path[4096];
	DIR *top, *sub;
	struct dirent *e, *f;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "%s/history.git/objects", node_path);
	if (!(top = opendir(path)))
		return -1;
	while ((e = readdir(top))) {
		char subpath[4400], name[4400];
		if (!is_object_dir(e->d_name))
			continue;
		snprintf(subpath, sizeof(subpath), "%s/%s", path, e->d_name);
		if (!(sub = opendir(subpath)))
			continue;
		while ((f = readdir(sub)))
			if (f->d_name[0] != '.') {
				snprintf(name, sizeof(name), "%s/%s", e->d_name, f->d_name);
				if (file_list_add(out, name) < 0) {
					closedir(sub);
					closedir(top);
					return -1;
				}
			}
		closedir(sub);
	}
	closedir(top);
	return 0;
}

/* The files in `after` that `before` lacks. */
static int file_list_new(file_list *out, const file_list *before, const file_list *after)
{
	size_t i;
	memset(out, 0, sizeof(*out));
	for (i = 0; i < after->n; i++)
		if (!file_list_has(before, after->v[i]) && file_list_add(out, after->v[i]) < 0)
			return -1;
	return 0;
}

/* Objects in a pack index (version 2): the last fan-out entry. */
static long idx_objects(const char *path)
{
	unsigned char head[8 + 256 * 4];
	FILE *f = fopen(path, "rb");
	size_t got;

	if (!f)
		return -1;
	got = fread(head, 1, sizeof(head), f);
	fclose(f);
	if (got != sizeof(head) || memcmp(head, "\377tOc", 4))
		return -1;
	return ((long)head[sizeof(head) - 4] << 24) | ((long)head[sizeof(head) - 3] << 16) |
		((long)head[sizeof(head) - 2] << 8) | (long)head[sizeof(head) - 1];
}

/* Objects held by the files in `files`: one per loose file, and what each
 * pack index counts. */
static long objects_in(const file_list *files, const char *node_path)
{
	char path[4400];
	size_t i;
	long n = 0, k;

	for (i = 0; i < files->n; i++) {
		const char *name = files->v[i];
		size_t len = strlen(name);
		if (!strncmp(name, "pack/", 5)) {
			if (len < 4 || strcmp(name + len - 4, ".idx"))
				continue;
			snprintf(path, sizeof(path), "%s/history.git/objects/%s", node_path, name);
			if ((k = idx_objects(path)) < 0)
				return -1;
			n += k;
		} else
			n++;
	}
	return n;
}

/* Commits, and lists the files under objects/ that the commit wrote. */
static int commit_tracked(char hex[41], file_list *written, ts_node *node, const char *node_path,
	const char *message)
{
	file_list before, after;
	int error;

	memset(written, 0, sizeof(*written));
	if (list_object_files(&before, node_path) < 0)
		return -1;
	if ((error = ts_node_commit(hex, node, message, NULL)) < 0) {
		file_list_dispose(&before);
		return error;
	}
	if (list_object_files(&after, node_path) < 0) {
		file_list_dispose(&before);
		return -1;
	}
	error = file_list_new(written, &before, &after);
	file_list_dispose(&before);
	file_list_dispose(&after);
	return error;
}

/* What a power loss does to files written without fsync. */
enum loss { LOSE_ALL, EMPTY_ALL, KEEP_INDEX };

/*
 * Loses the files of `written`: LOSE_ALL deletes them, EMPTY_ALL leaves
 * them with zero bytes, KEEP_INDEX deletes all but what names the commit
 * (the loose file of `commit`, a pack's .idx). Returns the number of
 * files changed, or -1.
 */
static long lose_files(const file_list *written, const char *node_path, enum loss how, const git_oid *commit)
{
	char path[4400], commit_name[64];
	const char *hex = git_oid_tostr_s(commit);
	size_t i;
	long n = 0;

	snprintf(commit_name, sizeof(commit_name), "%.2s/%s", hex, hex + 2);
	for (i = 0; i < written->n; i++) {
		const char *name = written->v[i];
		size_t len = strlen(name);
		snprintf(path, sizeof(path), "%s/history.git/objects/%s", node_path, name);
		if (how == KEEP_INDEX && (!strcmp(name, commit_name) ||
		    (len > 4 && !strcmp(name + len - 4, ".idx"))))
			continue;
		if (how == EMPTY_ALL) {
			chmod(path, 0644);
			if (truncate(path, 0) < 0)
				return -1;
		} else if (unlink(path) < 0)
			return -1;
		n++;
	}
	return n;
}

/* A set of object ids. */
typedef struct {
	git_oid *v;
	size_t n, alloc;
} oid_set;

static int oid_set_has(const oid_set *s, const git_oid *id)
{
	size_t i;
	for (i = 0; i < s->n; i++)
		if (git_oid_equal(&s->v[i], id))
			return 1;
	return 0;
}

static int oid_set_add(oid_set *s, const git_oid *id)
{
	if (oid_set_has(s, id))
		return 0;
	if (s->n == s->alloc) {
		size_t na = s->alloc ? s->alloc * 2 : 64;
		git_oid *nv = realloc(s->v, na * sizeof(*nv));
		if (!nv)
			return -1;
		s->v = nv;
		s->alloc = na;
	}
	git_oid_cpy(&s->v[s->n++], id);
	return 0;
}

static void oid_set_dispose(oid_set *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int add_entry(const char *root, const git_tree_entry *e, void *payload)
{
	(void)root;
	return oid_set_add(payload, git_tree_entry_id(e));
}

/* Every tree and blob reachable from the tree of `commit`. */
static int tree_objects(oid_set *out, git_repository *repo, const git_oid *commit)
{
	git_commit *c = NULL;
	git_tree *tree = NULL;
	int error;

	if ((error = git_commit_lookup(&c, repo, commit)) < 0 || (error = git_commit_tree(&tree, c)) < 0)
		goto done;
	if ((error = oid_set_add(out, git_tree_id(tree))) < 0)
		goto done;
	error = git_tree_walk(tree, GIT_TREEWALK_PRE, add_entry, out);
done:
	git_tree_free(tree);
	git_commit_free(c);
	return error;
}

/* Adds to `out` what `commit` introduced over its first parent: the commit
 * itself and the trees and blobs its parent's tree does not hold. */
static int introduced(oid_set *out, git_repository *repo, const git_oid *commit)
{
	oid_set mine = { 0 }, theirs = { 0 };
	git_commit *c = NULL;
	size_t i;
	int error;

	if ((error = git_commit_lookup(&c, repo, commit)) < 0)
		return error;
	if ((error = tree_objects(&mine, repo, commit)) < 0)
		goto done;
	if (git_commit_parentcount(c) > 0 &&
	    (error = tree_objects(&theirs, repo, git_commit_parent_id(c, 0))) < 0)
		goto done;
	if ((error = oid_set_add(out, commit)) < 0)
		goto done;
	for (i = 0; i < mine.n; i++)
		if (!oid_set_has(&theirs, &mine.v[i]) && (error = oid_set_add(out, &mine.v[i])) < 0)
			goto done;
done:
	git_commit_free(c);
	oid_set_dispose(&mine);
	oid_set_dispose(&theirs);
	return error;
}

static int set_main(git_repository *repo, const git_oid *id)
{
	git_reference *ref = NULL;
	int error = git_reference_create(&ref, repo, "refs/heads/main", id, 1, "behind the node's back");
	git_reference_free(ref);
	return error;
}

/* Writes to parties through the node. */
typedef struct {
	const char *case_id;
	const char *id;
	const char *phone;
	int count;            /* insert_parties: how many, ids "<id>-<n>" */
} party_op;

static int insert_party(sqlite3 *db, void *payload)
{
	party_op *op = payload;
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, "INSERT INTO parties (id, case_id, kind, name, phone) "
			"VALUES (?1, ?2, 'person', '张三', ?3)", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, op->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->case_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op->phone, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int insert_parties(sqlite3 *db, void *payload)
{
	party_op *op = payload;
	sqlite3_stmt *st = NULL;
	char id[128];
	int i, rc = SQLITE_DONE;

	if (sqlite3_prepare_v2(db, "INSERT INTO parties (id, case_id, kind, name, address) "
			"VALUES (?1, ?2, 'business', ?3, '景山前街')", -1, &st, NULL) != SQLITE_OK)
		return -1;
	for (i = 0; i < op->count && rc == SQLITE_DONE; i++) {
		snprintf(id, sizeof(id), "%s-%d", op->id, i);
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, op->case_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, id, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int update_party(sqlite3 *db, void *payload)
{
	party_op *op = payload;
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, "UPDATE parties SET phone = ?1 WHERE id = ?2", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, op->phone, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE && sqlite3_changes(db) == 1 ? 0 : -1;
}

static int delete_party(sqlite3 *db, void *payload)
{
	party_op *op = payload;
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, "DELETE FROM parties WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, op->id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE && sqlite3_changes(db) == 1 ? 0 : -1;
}

/* The problems verify reports, copied out. */
#define MAXP 16
typedef struct {
	int n;
	char table[MAXP][64], key[MAXP][256], column[MAXP][64], problem[MAXP][128];
	char expected[MAXP][256], actual[MAXP][256];
	int has_table[MAXP], has_column[MAXP], has_expected[MAXP], has_actual[MAXP];
} problems;

static void copy(char *to, size_t size, int *has, const char *from)
{
	*has = from != NULL;
	snprintf(to, size, "%s", from ? from : "");
}

static int collect_problem(const ts_verify_problem *p, void *payload)
{
	problems *ps = payload;
	int i = ps->n;
	if (i < MAXP) {
		int dummy;
		copy(ps->table[i], sizeof(ps->table[i]), &ps->has_table[i], p->table);
		copy(ps->key[i], sizeof(ps->key[i]), &dummy, p->key);
		copy(ps->column[i], sizeof(ps->column[i]), &ps->has_column[i], p->column);
		copy(ps->problem[i], sizeof(ps->problem[i]), &dummy, p->problem);
		copy(ps->expected[i], sizeof(ps->expected[i]), &ps->has_expected[i], p->expected);
		copy(ps->actual[i], sizeof(ps->actual[i]), &ps->has_actual[i], p->actual);
	}
	ps->n++;
	return 0;
}

static void print_problems(const problems *ps)
{
	int i;
	for (i = 0; i < ps->n && i < MAXP; i++)
		fprintf(stderr, "    problem: %s %s %s: %s (expected %s, actual %s)\n", ps->table[i],
			ps->key[i], ps->column[i], ps->problem[i], ps->expected[i], ps->actual[i]);
}

/* Verifies, expecting no problem. */
static int verify_clean(ts_node *node)
{
	problems ps;
	int error;

	memset(&ps, 0, sizeof(ps));
	error = ts_node_verify(node, collect_problem, &ps);
	if (error || ps.n) {
		fprintf(stderr, "    verify returned %d: %s\n", error, error ? ts_error_last() : "");
		print_problems(&ps);
		return -1;
	}
	return 0;
}

void test_history__schema_version_in_every_commit(void)
{
	ts_node *node = NULL;
	git_repository *repo = NULL;
	git_revwalk *walk = NULL;
	git_oid id;
	char *a = NULL, *b = NULL, head[41], want[32];
	ts_field dispatch = { "status", "dispatched" };
	int commits = 0;

	test_ok(new_node(&node, "n"));
	test_ok(new_case(&a, node, NULL));
	test_ok(ts_node_commit(head, node, "one", NULL));
	test_ok(new_case(&b, node, NULL));
	test_ok(ts_case_update(node, NULL, a, &dispatch, 1));
	test_ok(ts_node_commit(head, node, "two", NULL));
	snprintf(want, sizeof(want), "%lld\n", query_int(ts_node_db(node), "PRAGMA user_version"));
	test_assert(strcmp(want, "0\n") != 0);

	test_assert((repo = ts_test_history("n")) != NULL);
	test_ok(git_revwalk_new(&walk, repo));
	test_ok(git_revwalk_push_ref(walk, "refs/heads/main"));
	while (git_revwalk_next(&id, walk) == 0) {
		git_commit *c = NULL;
		git_tree *tree = NULL;
		git_tree_entry *e = NULL;
		git_blob *blob = NULL;

		test_ok(git_commit_lookup(&c, repo, &id));
		test_ok(git_commit_tree(&tree, c));
		test_ok(git_tree_entry_bypath(&e, tree, TS_STORE_SCHEMA_PATH));
		test_equal_i(git_tree_entry_type(e), GIT_OBJECT_BLOB);
		test_ok(git_blob_lookup(&blob, repo, git_tree_entry_id(e)));
		test_equal_i(git_blob_rawsize(blob), strlen(want));
		test_assert(!memcmp(git_blob_rawcontent(blob), want, strlen(want)));
		git_blob_free(blob);
		git_tree_entry_free(e);
		git_tree_free(tree);
		git_commit_free(c);
		commits++;
	}
	test_equal_i(commits, 3);
	git_revwalk_free(walk);
	git_repository_free(repo);
	ts_node_free(node);
	free(a);
	free(b);
}

/* Checks that every row of `table` is a blob at its key path in `tree`
 * whose decoding equals the row, value for value, and that the table's
 * directory holds nothing else. Returns 0 or -1 (with a message). */
static int table_equals_tree(sqlite3 *db, git_repository *repo, git_tree *tree, const char *table)
{
	sqlite3_stmt *st = NULL;
	ts_buf sql = TS_BUF_INIT, path = TS_BUF_INIT;
	git_tree_entry *dir = NULL;
	int pk = -1, pks[8], npk = 0, c, rows = 0, blobs = 0, result = -1;
	char pragma[256];

	snprintf(pragma, sizeof(pragma), "SELECT cid FROM pragma_table_info('%s') WHERE pk = 1", table);
	pk = (int)query_int(db, pragma);
	/* the key's columns in key order: a key may have several (sync_policies) */
	for (npk = 0; npk < 8; npk++) {
		long long cid;
		snprintf(pragma, sizeof(pragma), "SELECT cid FROM pragma_table_info('%s') WHERE pk = %d", table, npk + 1);
		if ((cid = query_int(db, pragma)) < 0)
			break;
		pks[npk] = (int)cid;
	}
	ts_buf__printf(&sql, "SELECT * FROM \"%s\"", table);
	if (pk < 0 || sqlite3_prepare_v2(db, sql.ptr, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "    reading %s failed\n", table);
		goto done;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		sqlite3_value *key[8];
		git_tree_entry *e = NULL;
		git_blob *blob = NULL;
		ts_row *row = NULL;
		int ok = 1;

		rows++;
		for (c = 0; c < npk; c++)
			key[c] = sqlite3_column_value(st, pks[c]);
		ts_buf__clear(&path);
		if (ts_rowcodec__key_path(&path, table, npk, key) < 0 ||
		    git_tree_entry_bypath(&e, tree, path.ptr) < 0 ||
		    git_blob_lookup(&blob, repo, git_tree_entry_id(e)) < 0 ||
		    ts_rowcodec__decode(&row, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob)) < 0) {
			fprintf(stderr, "    %s row %s: no decodable blob at %s\n", table,
				sqlite3_column_text(st, pk), ts_buf__cstr(&path));
			ok = 0;
		} else if (row->ncol != sqlite3_column_count(st)) {
			fprintf(stderr, "    %s: %d columns in the blob, %d in the row\n", table, row->ncol,
				sqlite3_column_count(st));
			ok = 0;
		} else {
			for (c = 0; c < row->ncol && ok; c++) {
				ts_value v;
				const ts_value *got = ts_row__get(row, sqlite3_column_name(st, c));
				if (ts_value__from_sqlite(&v, sqlite3_column_value(st, c)) < 0)
					ok = 0;
				else {
					if (!got || !ts_value__equal(got, &v)) {
						fprintf(stderr, "    %s row %s: column %s differs\n", table,
							sqlite3_column_text(st, pk), sqlite3_column_name(st, c));
						ok = 0;
					}
					ts_value__dispose(&v);
				}
			}
		}
		ts_row__free(row);
		git_blob_free(blob);
		git_tree_entry_free(e);
		if (!ok)
			goto done;
	}
	/* no blobs beyond the rows */
	if (git_tree_entry_bypath(&dir, tree, table) == 0) {
		git_tree *sub = NULL;
		oid_set all = { 0 };
		size_t i;
		if (git_tree_lookup(&sub, repo, git_tree_entry_id(dir)) < 0 ||
		    git_tree_walk(sub, GIT_TREEWALK_PRE, add_entry, &all) < 0) {
			git_tree_free(sub);
			oid_set_dispose(&all);
			goto done;
		}
		/* count blob entries by walking again with types */
		for (i = 0; i < all.n; i++) {
			git_object *o = NULL;
			if (git_object_lookup(&o, repo, &all.v[i], GIT_OBJECT_ANY) == 0 &&
			    git_object_type(o) == GIT_OBJECT_BLOB)
				blobs++;
			git_object_free(o);
		}
		git_tree_free(sub);
		oid_set_dispose(&all);
	}
	if (blobs != rows) {
		fprintf(stderr, "    %s: %d rows but %d blobs in the tree\n", table, rows, blobs);
		goto done;
	}
	result = 0;
done:
	git_tree_entry_free(dir);
	sqlite3_finalize(st);
	ts_buf__dispose(&sql);
	ts_buf__dispose(&path);
	return result;
}

void test_history__tree_equals_database(void)
{
	ts_node *node = NULL;
	git_repository *repo = NULL;
	git_tree *tree = NULL;
	sqlite3_stmt *st = NULL;
	char *ids[4] = { NULL }, head[41];
	ts_field extra[] = {
		{ "lng", "116.397" }, { "lat", "39.918" },
		{ "description", "门前\"乱\"堆放\n第二行\t制表" }, { "officer", NULL },
	};
	ts_field penalty[] = { { "stage", "penalize" }, { "penalty_amount", "20000" }, { "description", NULL } };
	party_op party = { NULL, "bj.dc.jingshan-p20240101-1", "13800138000", 0 };
	int i, tables = 0;

	test_ok(new_node(&node, "n"));
	test_ok(ts_case_new(&ids[0], node, "王伟", "outdoor_bbq", "complaint", "地安门外大街 1号", extra, 4));
	test_ok(new_case(&ids[1], node, "李娜"));
	test_ok(ts_node_commit(head, node, "two cases", NULL));
	test_ok(ts_case_new(&ids[2], node, "王伟", "gas_safety", "video", "/../..\\", NULL, 0));
	test_ok(ts_case_update(node, "李娜", ids[1], penalty, 3));
	party.case_id = ids[1];
	test_ok(ts_node_write(node, "李娜", "party", insert_party, &party));
	test_ok(ts_node_commit(head, node, "more", NULL));

	test_assert((repo = ts_test_history("n")) != NULL);
	test_ok(main_tree(&tree, repo));
	test_equal_i(query_int(ts_node_db(node), "SELECT count(*) FROM cases"), 3);
	/* cases as the brief names it, then every synced table */
	test_ok(table_equals_tree(ts_node_db(node), repo, tree, "cases"));
	test_assert(sqlite3_prepare_v2(ts_node_db(node), "SELECT name FROM sqlite_master WHERE type = 'table' "
		"AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE 'ts\\_%' ESCAPE '\\'", -1, &st, NULL) == SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char name[64];
		snprintf(name, sizeof(name), "%s", sqlite3_column_text(st, 0));
		if (table_equals_tree(ts_node_db(node), repo, tree, name) < 0) {
			sqlite3_finalize(st);
			test_assert(!"a table differs from the head tree");
		}
		tables++;
	}
	sqlite3_finalize(st);
	test_assert(tables >= 10);

	git_tree_free(tree);
	git_repository_free(repo);
	ts_node_free(node);
	for (i = 0; i < 4; i++)
		free(ids[i]);
}

void test_history__delete_removes_path(void)
{
	ts_node *node = NULL;
	git_repository *repo = NULL;
	git_tree *tree = NULL, *old_tree = NULL;
	git_commit *head_commit = NULL, *parent = NULL;
	git_diff *diff = NULL;
	ts_buf path = TS_BUF_INIT, keep = TS_BUF_INIT;
	char *cid = NULL, head[41];
	party_op p1 = { NULL, "bj.dc.jingshan-p20240101-1", "13800138000", 0 };
	party_op p2 = { NULL, "bj.dc.jingshan-p20240101-2", NULL, 0 };
	const git_diff_delta *d;
	git_oid id;

	test_ok(new_node(&node, "n"));
	test_ok(new_case(&cid, node, NULL));
	p1.case_id = p2.case_id = cid;
	test_ok(ts_node_write(node, NULL, "parties", insert_party, &p1));
	test_ok(ts_node_write(node, NULL, "parties", insert_party, &p2));
	test_ok(ts_node_commit(head, node, "case and parties", NULL));
	key_path(&path, "parties", p1.id);
	key_path(&keep, "parties", p2.id);
	test_assert((repo = ts_test_history("n")) != NULL);
	test_ok(main_tree(&tree, repo));
	test_assert(tree_has(tree, path.ptr));
	test_assert(tree_has(tree, keep.ptr));
	git_tree_free(tree);
	tree = NULL;

	test_ok(ts_node_write(node, "李娜", "remove a party", delete_party, &p1));
	test_equal_i(query_int(ts_node_db(node), "SELECT count(*) FROM parties"), 1);
	test_ok(verify_clean(node));
	test_ok(ts_node_commit(head, node, "removed", NULL));
	test_ok(verify_clean(node));

	test_ok(main_tree(&tree, repo));
	test_assert(!tree_has(tree, path.ptr));
	test_assert(tree_has(tree, keep.ptr));
	/* the previous commit still has it, and the change is exactly that */
	test_ok(main_id(&id, repo));
	test_ok(git_commit_lookup(&head_commit, repo, &id));
	test_ok(git_commit_parent(&parent, head_commit, 0));
	test_ok(git_commit_tree(&old_tree, parent));
	test_assert(tree_has(old_tree, path.ptr));
	test_ok(git_diff_tree_to_tree(&diff, repo, old_tree, tree, NULL));
	test_equal_i(git_diff_num_deltas(diff), 1);
	d = git_diff_get_delta(diff, 0);
	test_equal_i(d->status, GIT_DELTA_DELETED);
	test_equal_s(d->old_file.path, path.ptr);

	git_diff_free(diff);
	git_tree_free(old_tree);
	git_commit_free(parent);
	git_commit_free(head_commit);
	git_tree_free(tree);
	git_repository_free(repo);
	ts_buf__dispose(&path);
	ts_buf__dispose(&keep);
	ts_node_free(node);
	free(cid);
}

/* A row added and removed again before a commit nets out: the commit goes
 * through (with the other staged work) and the row is in no tree. */
void test_history__insert_then_delete_before_commit(void)
{
	ts_node *node = NULL;
	git_repository *repo = NULL;
	git_tree *tree = NULL;
	ts_buf path = TS_BUF_INIT;
	char *cid = NULL, *other = NULL, head[41], before[41];
	party_op p = { NULL, "bj.dc.jingshan-p20240101-9", NULL, 0 };

	test_ok(new_node(&node, "n"));
	test_ok(new_case(&cid, node, NULL));
	test_ok(ts_node_commit(before, node, "case", NULL));
	p.case_id = cid;
	test_ok(new_case(&other, node, NULL));
	test_ok(ts_node_write(node, NULL, "party by mistake", insert_party, &p));
	test_ok(ts_node_write(node, NULL, "remove it", delete_party, &p));
	test_ok(verify_clean(node));
	test_ok(ts_node_commit(head, node, "case, no party", NULL));
	test_assert(strcmp(head, before) != 0);
	test_equal_i(query_int(ts_node_db(node), "SELECT count(*) FROM ts_staged"), 0);
	test_ok(verify_clean(node));
	key_path(&path, "parties", p.id);
	test_assert((repo = ts_test_history("n")) != NULL);
	test_ok(main_tree(&tree, repo));
	test_assert(!tree_has(tree, path.ptr));
	test_ok(table_equals_tree(ts_node_db(node), repo, tree, "cases"));

	git_tree_free(tree);
	git_repository_free(repo);
	ts_buf__dispose(&path);
	ts_node_free(node);
	free(cid);
	free(other);
}

/* The deltas between HEAD~1 and HEAD. */
static int head_diff(git_diff **out, git_repository *repo)
{
	git_commit *c = NULL, *p = NULL;
	git_tree *t = NULL, *pt = NULL;
	git_oid id;
	int error;

	*out = NULL;
	if ((error = main_id(&id, repo)) < 0 || (error = git_commit_lookup(&c, repo, &id)) < 0 ||
	    (error = git_commit_parent(&p, c, 0)) < 0 || (error = git_commit_tree(&t, c)) < 0 ||
	    (error = git_commit_tree(&pt, p)) < 0)
		goto done;
	error = git_diff_tree_to_tree(out, repo, pt, t, NULL);
done:
	git_tree_free(t);
	git_tree_free(pt);
	git_commit_free(c);
	git_commit_free(p);
	return error;
}

/* Commits a one-party-row update on the node at `path` and returns the
 * number of objects the commit wrote (or -1). */
static long one_row_commit_cost(ts_node *node, const char *path, const char *party_id, const char *phone)
{
	party_op op = { NULL, party_id, phone, 0 };
	file_list written;
	char head[41];
	long n;

	if (ts_node_write(node, "李娜", "phone", update_party, &op) < 0 ||
	    commit_tracked(head, &written, node, path, "phone") < 0)
		return -1;
	n = objects_in(&written, path);
	file_list_dispose(&written);
	return n;
}

void test_history__commit_cost_follows_change(void)
{
	ts_node *node = NULL, *small = NULL;
	git_repository *repo = NULL;
	git_diff *diff = NULL;
	file_list written;
	ts_buf path = TS_BUF_INIT, case_path = TS_BUF_INIT;
	char *cid = NULL, *small_cid = NULL, *event = NULL, head[41];
	party_op bulk = { NULL, "bj.dc.jingshan-p20240101", NULL, 2000 };
	ts_field dispatch = { "status", "dispatched" };
	const git_diff_delta *d;
	long big_cost, small_cost, step_cost;
	size_t i;
	sqlite3_stmt *st = NULL;

	/* ~2,000 rows */
	test_ok(new_node(&node, "n"));
	test_ok(new_case(&cid, node, NULL));
	bulk.case_id = cid;
	test_ok(ts_node_write(node, NULL, "import parties", insert_parties, &bulk));
	test_ok(ts_node_commit(head, node, "import", NULL));
	test_assert(query_int(ts_node_db(node), "SELECT count(*) FROM parties") == 2000);
	test_assert((repo = ts_test_history("n")) != NULL);

	/* one row: its blob, the six trees on its path, the commit (and at
	 * most the unchanged schema blob and its tree again) */
	big_cost = one_row_commit_cost(node, "n", "bj.dc.jingshan-p20240101-1000", "13900139000");
	test_assert(big_cost >= 8);
	test_assert(big_cost <= 10);
	test_ok(head_diff(&diff, repo));
	test_equal_i(git_diff_num_deltas(diff), 1);
	d = git_diff_get_delta(diff, 0);
	key_path(&path, "parties", "bj.dc.jingshan-p20240101-1000");
	test_equal_i(d->status, GIT_DELTA_MODIFIED);
	test_equal_s(d->new_file.path, path.ptr);
	git_diff_free(diff);
	diff = NULL;

	/* the same change on a node of a few rows costs the same */
	test_ok(new_node(&small, "s"));
	test_ok(new_case(&small_cid, small, NULL));
	bulk.case_id = small_cid;
	bulk.count = 3;
	test_ok(ts_node_write(small, NULL, "parties", insert_parties, &bulk));
	test_ok(ts_node_commit(head, small, "parties", NULL));
	small_cost = one_row_commit_cost(small, "s", "bj.dc.jingshan-p20240101-1", "13900139000");
	test_equal_i(small_cost, big_cost);

	/* a case step: the case row and its new event, nothing else */
	test_ok(ts_case_update(node, "李娜", cid, &dispatch, 1));
	test_ok(commit_tracked(head, &written, node, "n", "dispatch"));
	step_cost = objects_in(&written, "n");
	file_list_dispose(&written);
	/* two blobs, the trees on their two paths (5 each + the root), one
	 * commit, and at most the unchanged schema blob and its tree again */
	test_assert(step_cost >= 14);
	test_assert(step_cost <= 16);
	test_assert(sqlite3_prepare_v2(ts_node_db(node), "SELECT id FROM case_events WHERE kind = 'dispatch'",
		-1, &st, NULL) == SQLITE_OK);
	test_assert(sqlite3_step(st) == SQLITE_ROW);
	event = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	key_path(&path, "case_events", event);
	key_path(&case_path, "cases", cid);
	test_ok(head_diff(&diff, repo));
	test_equal_i(git_diff_num_deltas(diff), 2);
	for (i = 0; i < 2; i++) {
		d = git_diff_get_delta(diff, i);
		if (!strcmp(d->new_file.path, case_path.ptr))
			test_equal_i(d->status, GIT_DELTA_MODIFIED);
		else {
			test_equal_s(d->new_file.path, path.ptr);
			test_equal_i(d->status, GIT_DELTA_ADDED);
		}
	}
	test_ok(verify_clean(node));

	git_diff_free(diff);
	git_repository_free(repo);
	ts_buf__dispose(&path);
	ts_buf__dispose(&case_path);
	ts_node_free(node);
	ts_node_free(small);
	free(cid);
	free(small_cid);
	free(event);
}

/* Long addresses on 3,000 parties, a third of them removed and one new:
 * more row bytes than a bulk commit holds in memory at once. */
static int bulk_rewrite(sqlite3 *db, void *payload)
{
	(void)payload;
	return sqlite3_exec(db,
		"UPDATE parties SET address = printf('%.5000c', 'x') || id WHERE id LIKE 'bj.dc.jingshan-p20240102-%';"
		"DELETE FROM parties WHERE id LIKE 'bj.dc.jingshan-p20240102-%' AND rowid % 3 = 0;"
		"INSERT INTO parties (id, case_id, kind, name) SELECT 'bj.dc.jingshan-p20240103-1', case_id, 'person', "
		"'王芳' FROM parties LIMIT 1", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* A bulk commit goes into the tree in chunks: the tree is still the one
 * the rows make (verify compares them one by one with the database). */
void test_history__bulk_commit_in_chunks(void)
{
	ts_node *node = NULL;
	party_op bulk = { NULL, "bj.dc.jingshan-p20240102", NULL, 3000 };
	char *cid = NULL, head[41];
	long long bytes;

	test_ok(new_node(&node, "n"));
	test_ok(new_case(&cid, node, NULL));
	bulk.case_id = cid;
	test_ok(ts_node_write(node, NULL, "import parties", insert_parties, &bulk));
	test_ok(ts_node_commit(head, node, "import", NULL));
	test_ok(ts_node_write(node, NULL, "rewrite", bulk_rewrite, NULL));
	bytes = query_int(ts_node_db(node), "SELECT sum(length(address)) FROM parties");
	test_assert(bytes > 8 * 1024 * 1024);
	test_ok(ts_node_commit(head, node, "rewrite", NULL));
	test_equal_i(query_int(ts_node_db(node), "SELECT count(*) FROM parties"), 2001);
	test_ok(verify_clean(node));
	ts_node_free(node);
	free(cid);
}

void test_history__repair_ref_moved_back(void)
{
	ts_node *node = NULL;
	git_repository *repo = NULL;
	git_commit *c = NULL;
	git_oid head, parent, ref;
	char *cid = NULL, hex[41];

	test_ok(new_node(&node, "n"));
	test_ok(new_case(&cid, node, NULL));
	test_ok(ts_node_commit(hex, node, "case", NULL));
	ts_node_free(node);
	node = NULL;

	test_assert((repo = ts_test_history("n")) != NULL);
	test_ok(git_oid_fromstr(&head, hex));
	test_ok(git_commit_lookup(&c, repo, &head));
	git_oid_cpy(&parent, git_commit_parent_id(c, 0));
	git_commit_free(c);
	test_ok(set_main(repo, &parent));
	test_ok(main_id(&ref, repo));
	test_assert(git_oid_equal(&ref, &parent));

	test_ok(ts_node_open(&node, "n"));
	test_ok(main_id(&ref, repo));
	test_assert(git_oid_equal(&ref, &head));
	test_ok(ts_node_head(hex, node));
	test_equal_s(hex, git_oid_tostr_s(&head));
	test_ok(verify_clean(node));

	git_repository_free(repo);
	ts_node_free(node);
	free(cid);
}

/* Lets verify see the ref moved while the node is open. */
void test_history__verify_reports_ref_moved(void)
{
	ts_node *node = NULL;
	git_repository *repo = NULL;
	git_commit *c = NULL;
	git_oid head;
	problems ps;
	char *cid = NULL, hex[41];
	int i, found = 0;

	test_ok(new_node(&node, "n"));
	test_ok(new_case(&cid, node, NULL));
	test_ok(ts_node_commit(hex, node, "case", NULL));
	test_assert((repo = ts_test_history("n")) != NULL);
	test_ok(git_oid_fromstr(&head, hex));
	test_ok(git_commit_lookup(&c, repo, &head));
	test_ok(set_main(repo, git_commit_parent_id(c, 0)));
	git_commit_free(c);

	memset(&ps, 0, sizeof(ps));
	test_equal_i(ts_node_verify(node, collect_problem, &ps), TS_ECORRUPT);
	for (i = 0; i < ps.n && i < MAXP; i++)
		if (ps.has_expected[i] && !strcmp(ps.expected[i], hex))
			found = 1;
	test_assert(found);

	git_repository_free(repo);
	ts_node_free(node);
	free(cid);
}

/* Every object `commit` introduced over its parent exists and reads back. */
static int objects_readable(const char *node_path, const git_oid *commit)
{
	git_repository *repo = ts_test_history(node_path);
	git_odb *odb = NULL;
	oid_set objects = { 0 };
	size_t i;
	int result = -1;

	if (!repo || git_repository_odb(&odb, repo) < 0)
		goto done;
	if (!git_odb_exists(odb, commit)) {
		fprintf(stderr, "    commit %s was not rewritten\n", git_oid_tostr_s(commit));
		goto done;
	}
	if (introduced(&objects, repo, commit) < 0) {
		fprintf(stderr, "    commit %s or its tree does not read back: %s\n", git_oid_tostr_s(commit),
			git_error_last() ? git_error_last()->message : "");
		goto done;
	}
	for (i = 0; i < objects.n; i++) {
		git_odb_object *o = NULL;
		if (!git_odb_exists(odb, &objects.v[i]) || git_odb_read(&o, odb, &objects.v[i]) < 0) {
			fprintf(stderr, "    object %s was not rewritten\n", git_oid_tostr_s(&objects.v[i]));
			goto done;
		}
		git_odb_object_free(o);
	}
	result = 0;
done:
	oid_set_dispose(&objects);
	git_odb_free(odb);
	git_repository_free(repo);
	return result;
}

/* After reopening: the objects of `head` are back and the ref names it. */
static int check_repaired(const char *node_path, const git_oid *head)
{
	git_repository *repo;
	git_oid ref;
	int ok;

	if (objects_readable(node_path, head) < 0 || !(repo = ts_test_history(node_path)))
		return -1;
	ok = main_id(&ref, repo) == 0 && git_oid_equal(&ref, head);
	git_repository_free(repo);
	if (!ok)
		fprintf(stderr, "    refs/heads/main is not the head\n");
	return ok ? 0 : -1;
}

/* Node "n" opens again on commit `hex`, its history repaired to `head`
 * whole, and verifies; *node is the opened node. */
static void reopens_repaired(ts_node **node, const char *hex, const git_oid *head)
{
	char again[41];

	test_ok(ts_node_open(node, "n"));
	test_ok(ts_node_head(again, *node));
	test_equal_s(again, hex);
	test_ok(check_repaired("n", head));
	test_ok(verify_clean(*node));
}

/* Moves refs/heads/main to the first parent of `commit`, as if the ref's
 * update had not reached the disk. */
static int ref_to_parent(const char *node_path, const git_oid *commit)
{
	git_repository *repo = ts_test_history(node_path);
	git_commit *c = NULL;
	int error = -1;

	if (repo && git_commit_lookup(&c, repo, commit) == 0)
		error = set_main(repo, git_commit_parent_id(c, 0));
	git_commit_free(c);
	git_repository_free(repo);
	return error;
}

static int object_exists(const char *node_path, const git_oid *id)
{
	git_repository *repo = ts_test_history(node_path);
	git_odb *odb = NULL;
	int has = 0;

	if (repo && git_repository_odb(&odb, repo) == 0)
		has = git_odb_exists(odb, id);
	git_odb_free(odb);
	git_repository_free(repo);
	return has;
}

/* 1 if the commit and its root tree read back. */
static int commit_readable(const char *node_path, const git_oid *id)
{
	git_repository *repo = ts_test_history(node_path);
	git_commit *c = NULL;
	git_tree *t = NULL;
	int ok = repo && git_commit_lookup(&c, repo, id) == 0 && git_commit_tree(&t, c) == 0;

	git_tree_free(t);
	git_commit_free(c);
	git_repository_free(repo);
	return ok;
}

/* A node with two commits after init, the last one (`hex`) tracked. */
static int two_commits(ts_node **node, char hex[41], file_list *written, const char *path)
{
	ts_field dispatch = { "status", "dispatched" };
	char *a = NULL, *b = NULL;
	int error;

	if ((error = new_node(node, path)) < 0 || (error = new_case(&a, *node, NULL)) < 0 ||
	    (error = ts_node_commit(hex, *node, "case", NULL)) < 0 ||
	    (error = ts_case_update(*node, "李娜", a, &dispatch, 1)) < 0 ||
	    (error = new_case(&b, *node, "李娜")) < 0)
		goto done;
	error = commit_tracked(hex, written, *node, path, "dispatch and another case");
done:
	free(a);
	free(b);
	return error;
}

/* Power loss: the objects of the last commit never reached the disk, nor
 * did the ref. The database recorded the commit, so opening the node
 * writes them again, byte for byte. */
void test_history__repair_power_loss(void)
{
	ts_node *node = NULL;
	file_list written;
	git_oid head;
	char *c = NULL, hex[41], again[41];

	test_ok(two_commits(&node, hex, &written, "n"));
	ts_node_free(node);
	node = NULL;
	test_ok(git_oid_fromstr(&head, hex));
	test_assert(written.n >= 1);
	test_ok(ref_to_parent("n", &head));
	test_equal_i(lose_files(&written, "n", LOSE_ALL, &head), written.n);
	test_assert(!object_exists("n", &head));

	reopens_repaired(&node, hex, &head);   /* the same commit id: rewritten identically */

	/* and the node goes on */
	test_ok(new_case(&c, node, NULL));
	test_ok(ts_node_commit(again, node, "after the repair", NULL));
	test_ok(verify_clean(node));
	ts_node_free(node);
	node = NULL;
	test_ok(ts_node_open(&node, "n"));
	test_ok(verify_clean(node));

	file_list_dispose(&written);
	ts_node_free(node);
	free(c);
}

void test_history__repair_two_lost_commits(void)
{
	ts_node *node = NULL;
	file_list first, second;
	git_oid mid, head;
	char *a = NULL, hex[41], again[41];
	ts_field note = { "description", "第二次" };

	test_ok(two_commits(&node, hex, &first, "n"));
	test_ok(git_oid_fromstr(&mid, hex));
	test_ok(new_case(&a, node, NULL));
	test_ok(ts_case_update(node, NULL, a, &note, 1));
	test_ok(commit_tracked(hex, &second, node, "n", "head"));
	test_ok(git_oid_fromstr(&head, hex));
	ts_node_free(node);
	node = NULL;

	test_ok(ref_to_parent("n", &mid));
	test_equal_i(lose_files(&second, "n", LOSE_ALL, &head), second.n);
	test_equal_i(lose_files(&first, "n", LOSE_ALL, &mid), first.n);
	test_assert(!object_exists("n", &head));
	test_assert(!object_exists("n", &mid));

	test_ok(ts_node_open(&node, "n"));
	test_ok(ts_node_head(again, node));
	test_equal_s(again, hex);
	test_ok(objects_readable("n", &mid));
	test_ok(check_repaired("n", &head));
	test_ok(verify_clean(node));

	file_list_dispose(&first);
	file_list_dispose(&second);
	ts_node_free(node);
	free(a);
}

/* Objects are written without fsync, in no order the disk keeps: what
 * names the commit (its loose object, a pack's index) may survive a power
 * loss while the rest does not. */
void test_history__repair_power_loss_commit_kept(void)
{
	ts_node *node = NULL;
	file_list written;
	git_oid head;
	char hex[41];

	test_ok(two_commits(&node, hex, &written, "n"));
	ts_node_free(node);
	node = NULL;
	test_ok(git_oid_fromstr(&head, hex));
	test_assert(lose_files(&written, "n", KEEP_INDEX, &head) >= 1);
	test_assert(!commit_readable("n", &head));

	reopens_repaired(&node, hex, &head);

	file_list_dispose(&written);
	ts_node_free(node);
}

/* What a power loss commonly leaves of files written without fsync: the
 * names, with zero bytes in them. */
void test_history__repair_power_loss_empty_files(void)
{
	ts_node *node = NULL;
	file_list written;
	git_oid head;
	char hex[41];

	test_ok(two_commits(&node, hex, &written, "n"));
	ts_node_free(node);
	node = NULL;
	test_ok(git_oid_fromstr(&head, hex));
	test_ok(ref_to_parent("n", &head));
	test_equal_i(lose_files(&written, "n", EMPTY_ALL, &head), written.n);
	test_assert(!commit_readable("n", &head));

	reopens_repaired(&node, hex, &head);

	file_list_dispose(&written);
	ts_node_free(node);
}

/* A pack torn in its middle (a page of it never reached the disk) while
 * its index survived whole: the repair reads every byte of the pack, drops
 * it and writes the commit again from the journal. */
void test_history__repair_power_loss_torn_pack(void)
{
	ts_node *node = NULL;
	file_list written;
	char path[4400], hex[41];
	git_oid head;
	size_t i;
	int torn = 0;

	test_ok(two_commits(&node, hex, &written, "n"));
	ts_node_free(node);
	node = NULL;
	test_ok(git_oid_fromstr(&head, hex));
	for (i = 0; i < written.n; i++) {
		size_t len = strlen(written.v[i]);
		struct stat st;
		FILE *f;
		if (len < 5 || strcmp(written.v[i] + len - 5, ".pack"))
			continue;
		snprintf(path, sizeof(path), "n/history.git/objects/%s", written.v[i]);
		test_assert(stat(path, &st) == 0 && st.st_size > 64);
		chmod(path, 0644);
		test_assert((f = fopen(path, "r+b")) != NULL);
		/* the bytes after the header: the first object's, left as zeros */
		test_assert(fseek(f, 12, SEEK_SET) == 0);
		test_assert(fwrite("\0\0\0\0\0\0\0\0", 1, 8, f) == 8);
		test_assert(fclose(f) == 0);
		torn++;
	}
	test_equal_i(torn, 1);

	reopens_repaired(&node, hex, &head);
	test_assert(ts_node_repaired(node));

	file_list_dispose(&written);
	ts_node_free(node);
}

/* The packs the repair found whole list their objects, from the indexes it
 * read: what it needs to know of a journal's commits without libgit2
 * opening those files again. A torn pack lists nothing. */
void test_history__whole_packs_list_their_objects(void)
{
	ts_node *node = NULL;
	ts_store *store = NULL;
	ts_store_whole *whole = NULL;
	file_list written;
	git_repository *repo = NULL;
	git_commit *c = NULL;
	git_oid head, parent, none;
	char path[4400], hex[41];
	size_t i;
	int dropped = -1;

	test_ok(two_commits(&node, hex, &written, "n"));
	ts_node_free(node);
	node = NULL;
	test_ok(git_oid_fromstr(&head, hex));
	test_assert((repo = ts_test_history("n")) != NULL);
	test_ok(git_commit_lookup(&c, repo, &head));
	git_oid_cpy(&parent, git_commit_parent_id(c, 0));

	test_ok(ts_store__open(&store, "n/history.git", 0));
	test_ok(ts_store__drop_torn_packs(store, 0, &dropped, &whole));
	test_equal_i(dropped, 0);
	test_assert(ts_store__whole_has(whole, &head));
	test_assert(ts_store__whole_has(whole, git_commit_tree_id(c)));
	test_assert(ts_store__whole_has(whole, &parent));
	memset(&none, 0xab, sizeof(none));
	test_assert(!ts_store__whole_has(whole, &none));
	test_assert(!ts_store__whole_has(NULL, &head));
	ts_store__whole_free(whole);
	whole = NULL;

	/* one byte of the head's pack flipped: dropped, and listed no more */
	for (i = 0; i < written.n; i++) {
		size_t len = strlen(written.v[i]);
		FILE *f;
		int ch;
		if (len < 5 || strcmp(written.v[i] + len - 5, ".pack"))
			continue;
		snprintf(path, sizeof(path), "n/history.git/objects/%s", written.v[i]);
		chmod(path, 0644);
		test_assert((f = fopen(path, "r+b")) != NULL);
		test_assert(fseek(f, 20, SEEK_SET) == 0 && (ch = fgetc(f)) != EOF);
		test_assert(fseek(f, 20, SEEK_SET) == 0 && fputc(ch ^ 0x01, f) != EOF);
		test_assert(fclose(f) == 0);
	}
	test_ok(ts_store__drop_torn_packs(store, 0, &dropped, &whole));
	test_equal_i(dropped, 1);
	test_assert(!ts_store__whole_has(whole, &head));
	test_assert(ts_store__whole_has(whole, &parent));

	ts_store__whole_free(whole);
	ts_store__free(store);
	git_commit_free(c);
	git_repository_free(repo);
	file_list_dispose(&written);
}

/* The ref file itself, written without fsync, may come back empty. */
void test_history__repair_empty_ref_file(void)
{
	ts_node *node = NULL;
	git_repository *repo = NULL;
	git_oid head, ref;
	char *cid = NULL, hex[41];

	test_ok(new_node(&node, "n"));
	test_ok(new_case(&cid, node, NULL));
	test_ok(ts_node_commit(hex, node, "case", NULL));
	ts_node_free(node);
	node = NULL;
	free(cid);
	test_assert(truncate("n/history.git/refs/heads/main", 0) == 0);

	test_ok(ts_node_open(&node, "n"));
	test_assert((repo = ts_test_history("n")) != NULL);
	test_ok(git_oid_fromstr(&head, hex));
	test_ok(main_id(&ref, repo));
	test_assert(git_oid_equal(&ref, &head));
	test_ok(verify_clean(node));

	git_repository_free(repo);
	ts_node_free(node);
}

/* Where stock git finds main in node `dir`'s history. */
static const char *main_on_disk(const char *dir)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "git --git-dir=%s/history.git rev-parse main", dir);
	return ts_test_first_line(cmd);
}

static int commit_case(char id[41], ts_node *node, const char *message)
{
	char *cid = NULL;
	int error = new_case(&cid, node, NULL);
	free(cid);
	return error < 0 ? error : ts_node_commit(id, node, message, NULL);
}

/* The inode number of `path`, 0 when it is not there. */
static ino_t inode_of(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_ino : 0;
}

/*
 * A commit moves main by exchanging the ref's file with the spare, which
 * then holds the old id: no lock file is made, stock git reads the new id.
 * A repository that asks for reflogs gets them, through git's lock file.
 */
void test_history__ref_moves_by_exchange(void)
{
	ts_node *node = NULL;
	char *cid = NULL, first[41], second[41], third[41];
	ino_t spare, ref;

	test_ok(new_node(&node, "n"));
	test_ok(new_case(&cid, node, NULL));
	test_ok(ts_node_commit(first, node, "first", NULL));
	free(cid);
	test_assert((spare = inode_of("n/history.git/tiersync-ref.spare")) != 0);
	ref = inode_of("n/history.git/refs/heads/main");
	test_ok(new_case(&cid, node, NULL));
	test_ok(ts_node_commit(second, node, "second", NULL));
	free(cid);
	/* the two files traded places: none was made */
	test_assert(inode_of("n/history.git/refs/heads/main") == spare);
	test_assert(inode_of("n/history.git/tiersync-ref.spare") == ref);
	test_assert(access("n/history.git/refs/heads/main.lock", F_OK) != 0);
	/* stock git reads the new id, and the spare holds the one before */
	test_equal_s(ts_test_first_line("git --git-dir=n/history.git rev-parse main"), second);
	test_equal_s(ts_test_first_line("cat n/history.git/tiersync-ref.spare"), first);
	test_ok(ts_test_sh("git --git-dir=n/history.git fsck --full --strict >/dev/null 2>&1"));

	/* a copy made with hard links (a backup's) keeps its files as they
	 * were, through two more moves */
	test_ok(ts_test_sh("cp -al n/history.git copy.git"));
	test_ok(commit_case(third, node, "third"));
	test_ok(commit_case(third, node, "fourth"));
	test_equal_s(ts_test_first_line("cat copy.git/refs/heads/main"), second);
	test_equal_s(ts_test_first_line("cat copy.git/tiersync-ref.spare"), first);
	test_equal_s(main_on_disk("n"), third);
	ts_node_free(node);
	node = NULL;

	/* asked for reflogs: the usual way, which writes one */
	test_ok(ts_test_sh("git --git-dir=n/history.git config core.logAllRefUpdates always"));
	test_ok(ts_node_open(&node, "n"));
	test_ok(new_case(&cid, node, NULL));
	test_ok(ts_node_commit(third, node, "third", NULL));
	free(cid);
	test_equal_s(ts_test_first_line("git --git-dir=n/history.git reflog -1 --format=%H main"), third);
	test_equal_s(ts_test_first_line("git --git-dir=n/history.git rev-parse main"), third);
	ts_node_free(node);
}

/*
 * Batched commits: each is in the database (its journal) at once, while
 * history.git keeps main where it was until a checkpoint, a read of the
 * history, or the handle's end. Another handle that opens the node writes
 * them from the journal; so does the next open after a process that never
 * let go of them. Stock git judges every step.
 */
void test_history__batched_commits(void)
{
	ts_node *node = NULL, *other = NULL;
	char first[41], id[41], last[41], checkpointed[41];
	pid_t pid;
	int i, status;

	test_ok(new_node(&node, "n"));
	test_ok(commit_case(first, node, "first"));
	test_equal_s(main_on_disk("n"), first);
	test_ok(ts_node_batch_commits(node, 1));
	test_ok(commit_case(id, node, "second"));
	test_equal_s(main_on_disk("n"), first);
	test_ok(ts_node_head(last, node));
	test_equal_s(last, id);

	/* another handle writes it from the journal as it opens */
	test_ok(ts_node_open(&other, "n"));
	test_equal_s(main_on_disk("n"), id);
	ts_node_free(other);
	other = NULL;

	/* the next batched commit moves main on from there, once read */
	test_ok(commit_case(last, node, "third"));
	test_equal_s(main_on_disk("n"), id);
	test_ok(verify_clean(node));
	test_equal_s(main_on_disk("n"), last);

	/* a checkpoint writes what waits */
	checkpointed[0] = '\0';
	for (i = 0; i < TS_HISTORY_CHECKPOINT + 2; i++) {
		test_ok(commit_case(last, node, "many"));
		if (!strcmp(main_on_disk("n"), last))
			memcpy(checkpointed, last, sizeof(last));
	}
	test_assert(checkpointed[0] != '\0');
	test_assert(strcmp(main_on_disk("n"), last) != 0);
	ts_node_free(node);
	node = NULL;
	test_equal_s(main_on_disk("n"), last);

	/* a process that ends without letting go loses nothing */
	fflush(NULL);
	if ((pid = fork()) == 0) {
		ts_node *n = NULL;
		char ignored[41];
		if (ts_node_open(&n, "n") < 0 || ts_node_batch_commits(n, 1) < 0 ||
		    commit_case(ignored, n, "last") < 0 || commit_case(ignored, n, "last") < 0)
			_exit(1);
		_exit(strcmp(main_on_disk("n"), last) == 0 ? 0 : 2);
	}
	test_assert(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	test_equal_s(main_on_disk("n"), last);
	test_ok(ts_node_open(&node, "n"));
	test_ok(ts_node_head(id, node));
	test_assert(strcmp(id, last) != 0);
	test_equal_s(main_on_disk("n"), id);
	test_ok(verify_clean(node));
	test_ok(ts_test_sh("git --git-dir=n/history.git fsck --full --strict >/dev/null 2>&1"));
	/* both of the child's commits, written again from the journal */
	test_equal_s(ts_test_first_line("git --git-dir=n/history.git log -3 --format=%s main | tr '\\n' ' '"),
		"last last many ");
	ts_node_free(node);
}

/* Replaces the journal's raw bytes of commit `hex` by what `damage` makes
 * of them. */
static int damage_journal(const char *node_path, const char *hex, int how)
{
	char path[4096];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *raw = NULL;
	int len = 0, rc = -1;

	snprintf(path, sizeof(path), "%s/tiersync.db", node_path);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		goto done;
	if (sqlite3_prepare_v2(db, "SELECT raw FROM ts_journal WHERE commit_id = ?1", -1, &st, NULL) != SQLITE_OK)
		goto done;
	sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		goto done;
	len = sqlite3_column_bytes(st, 0);
	if (!(raw = malloc(len + 1)))
		goto done;
	memcpy(raw, sqlite3_column_blob(st, 0), len);
	sqlite3_finalize(st);
	st = NULL;
	if (how == 0) {
		/* one byte of the message flipped */
		raw[len - 2] ^= 0x01;
	} else if (how == 1) {
		/* the tree id in the header changed */
		raw[5] = raw[5] == 'a' ? 'b' : 'a';
	} else {
		/* cut short */
		len = 7;
	}
	if (sqlite3_prepare_v2(db, "UPDATE ts_journal SET raw = ?1 WHERE commit_id = ?2", -1, &st, NULL) != SQLITE_OK)
		goto done;
	sqlite3_bind_blob(st, 1, raw, len, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hex, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(db) == 1)
		rc = 0;
done:
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(raw);
	return rc;
}

void test_history__repair_refuses_damaged_journal(void)
{
	int how;

	for (how = 0; how < 3; how++) {
		ts_node *node = NULL;
		file_list written;
		git_repository *repo = NULL;
		git_oid head, ref;
		char *cid = NULL, hex[41], path[32];
		const char *msg;

		snprintf(path, sizeof(path), "n%d", how);
		test_ok(new_node(&node, path));
		test_ok(new_case(&cid, node, NULL));
		test_ok(commit_tracked(hex, &written, node, path, "a case"));
		ts_node_free(node);
		node = NULL;
		free(cid);

		/* the head's objects are lost, and the record to rewrite them is damaged */
		test_ok(git_oid_fromstr(&head, hex));
		test_ok(ref_to_parent(path, &head));
		test_equal_i(lose_files(&written, path, LOSE_ALL, &head), written.n);
		file_list_dispose(&written);
		test_assert(!object_exists(path, &head));
		test_ok(damage_journal(path, hex, how));

		node = (ts_node *)1;
		test_equal_i(ts_node_open(&node, path), TS_ECORRUPT);
		test_assert(node == NULL);
		msg = ts_error_last();
		test_assert(msg != NULL && *msg);
		test_assert(strstr(msg, "journal") != NULL || strstr(msg, hex) != NULL);

		/* nothing was passed off as the head */
		test_assert(!object_exists(path, &head));
		test_assert((repo = ts_test_history(path)) != NULL);
		test_ok(main_id(&ref, repo));
		test_assert(!git_oid_equal(&ref, &head));
		git_repository_free(repo);
	}
}

void test_history__verify_clean_states(void)
{
	ts_node *node = NULL;
	char *a = NULL, *b = NULL, *c = NULL, head[41];
	ts_field dispatch = { "status", "dispatched" };
	ts_field note[] = { { "description", "已劝离" }, { "lng", "116.4" } };
	party_op p = { NULL, "bj.dc.jingshan-p20240101-1", "13800138000", 0 };

	test_ok(new_node(&node, "n"));
	test_ok(verify_clean(node));

	/* a staged insert */
	test_ok(new_case(&a, node, NULL));
	test_ok(verify_clean(node));
	test_ok(ts_node_commit(head, node, "a", NULL));
	test_ok(verify_clean(node));

	/* a staged update of a committed row */
	test_ok(ts_case_update(node, "李娜", a, &dispatch, 1));
	test_ok(verify_clean(node));

	/* an insert and an update of the same row, both staged */
	test_ok(new_case(&b, node, NULL));
	test_ok(ts_case_update(node, "李娜", b, note, 2));
	test_ok(verify_clean(node));

	/* updated twice, staged */
	test_ok(ts_case_update(node, "李娜", a, note, 2));
	test_ok(verify_clean(node));

	/* a staged delete of a committed row */
	p.case_id = a;
	test_ok(ts_node_write(node, NULL, "party", insert_party, &p));
	test_ok(ts_node_commit(head, node, "b and a party", NULL));
	test_ok(verify_clean(node));
	test_ok(ts_node_write(node, NULL, "no party", delete_party, &p));
	test_ok(verify_clean(node));

	/* a staged update setting a column to NULL */
	test_ok(new_case(&c, node, NULL));
	test_ok(ts_node_commit(head, node, "c", NULL));
	{
		ts_field clear = { "description", NULL };
		test_ok(ts_case_update(node, "李娜", b, &clear, 1));
	}
	test_ok(verify_clean(node));
	test_ok(ts_node_commit(head, node, "all", NULL));
	test_ok(verify_clean(node));

	ts_node_free(node);
	node = NULL;
	test_ok(ts_node_open(&node, "n"));
	test_ok(verify_clean(node));
	ts_node_free(node);
	free(a);
	free(b);
	free(c);
}

void test_history__verify_column_changed(void)
{
	ts_node *node = NULL;
	problems ps;
	char *cid = NULL, head[41], sql[256];

	test_ok(new_node(&node, "n"));
	test_ok(new_case(&cid, node, NULL));
	test_ok(ts_node_commit(head, node, "case", NULL));
	snprintf(sql, sizeof(sql), "UPDATE cases SET status = 'closed' WHERE id = '%s'", cid);
	test_ok(tamper("n", sql));

	memset(&ps, 0, sizeof(ps));
	test_equal_i(ts_node_verify(node, collect_problem, &ps), TS_ECORRUPT);
	test_assert(ts_error_last() != NULL);
	test_equal_i(ps.n, 1);
	test_equal_s(ps.table[0], "cases");
	test_equal_s(ps.key[0], cid);
	test_equal_s(ps.column[0], "status");
	test_equal_s(ps.expected[0], "discovered");
	test_equal_s(ps.actual[0], "closed");
	test_assert(ps.problem[0][0] != '\0');

	/* the same holds after a reopen: the edit is not taken as the truth */
	ts_node_free(node);
	node = NULL;
	test_ok(ts_node_open(&node, "n"));
	memset(&ps, 0, sizeof(ps));
	test_equal_i(ts_node_verify(node, collect_problem, &ps), TS_ECORRUPT);
	test_equal_i(ps.n, 1);
	test_equal_s(ps.column[0], "status");

	ts_node_free(node);
	free(cid);
}

void test_history__verify_extra_and_missing_rows(void)
{
	ts_node *node = NULL;
	problems ps;
	int i, extra = -1, missing = -1;

	test_ok(new_node(&node, "n"));
	test_ok(tamper("n", "INSERT INTO sources (code, name_zh) VALUES ('drone', '无人机')"));
	memset(&ps, 0, sizeof(ps));
	test_equal_i(ts_node_verify(node, collect_problem, &ps), TS_ECORRUPT);
	test_equal_i(ps.n, 1);
	test_equal_s(ps.table[0], "sources");
	test_equal_s(ps.key[0], "drone");
	test_assert(!ps.has_column[0]);
	test_assert(!ps.has_expected[0]);
	test_assert(ps.has_actual[0]);

	test_ok(tamper("n", "DELETE FROM sources WHERE code = 'media'"));
	memset(&ps, 0, sizeof(ps));
	test_equal_i(ts_node_verify(node, collect_problem, &ps), TS_ECORRUPT);
	test_equal_i(ps.n, 2);
	for (i = 0; i < 2; i++) {
		test_equal_s(ps.table[i], "sources");
		test_assert(!ps.has_column[i]);
		if (!strcmp(ps.key[i], "drone"))
			extra = i;
		else if (!strcmp(ps.key[i], "media"))
			missing = i;
	}
	test_assert(extra >= 0 && missing >= 0);
	test_assert(ps.has_expected[missing]);
	test_assert(!ps.has_actual[missing]);

	/* put back, verify is clean again */
	test_ok(tamper("n", "DELETE FROM sources WHERE code = 'drone';"
		"INSERT INTO sources (code, name_zh) VALUES ('media', '媒体曝光')"));
	test_ok(verify_clean(node));
	ts_node_free(node);
}

void test_history__verify_staged_row_altered(void)
{
	ts_node *node = NULL;
	problems ps;
	char *cid = NULL, sql[256];

	test_ok(new_node(&node, "n"));
	test_ok(new_case(&cid, node, NULL));
	test_ok(verify_clean(node));
	snprintf(sql, sizeof(sql), "UPDATE cases SET address = '别处' WHERE id = '%s'", cid);
	test_ok(tamper("n", sql));

	memset(&ps, 0, sizeof(ps));
	test_equal_i(ts_node_verify(node, collect_problem, &ps), TS_ECORRUPT);
	test_equal_i(ps.n, 1);
	test_equal_s(ps.table[0], "cases");
	test_equal_s(ps.key[0], cid);
	test_equal_s(ps.column[0], "address");
	test_equal_s(ps.expected[0], "景山前街 4号");
	test_equal_s(ps.actual[0], "别处");
	ts_node_free(node);
	free(cid);
}

/* A staged insert removed behind the node's back is reported with its key
 * in the same readable form as every other report. */
void test_history__verify_staged_row_deleted(void)
{
	ts_node *node = NULL;
	problems ps;
	char *cid = NULL, head[41];
	party_op p = { NULL, "bj.dc.jingshan-p20240101-1", "13800138000", 0 };
	int rc;

	test_ok(new_node(&node, "n"));
	test_ok(new_case(&cid, node, NULL));
	test_ok(ts_node_commit(head, node, "case", NULL));
	p.case_id = cid;
	test_ok(ts_node_write(node, NULL, "party", insert_party, &p));
	test_ok(tamper("n", "DELETE FROM parties"));

	memset(&ps, 0, sizeof(ps));
	rc = ts_node_verify(node, collect_problem, &ps);
	ts_node_free(node);
	free(cid);
	test_equal_i(rc, TS_ECORRUPT);
	test_equal_i(ps.n, 1);
	test_equal_s(ps.table[0], "parties");
	test_assert(!ps.has_column[0]);
	test_assert(ps.has_expected[0]);
	test_assert(!ps.has_actual[0]);
	test_equal_s(ps.key[0], p.id);
}

void test_history__journal_pruned(void)
{
	ts_node *node = NULL;
	file_list written;
	git_oid head;
	char *cid = NULL, head_hex[41], again[41], phone[16];
	party_op p = { NULL, "bj.dc.jingshan-p20240101-1", "13700000000", 0 };
	long long journal;
	int i;

	test_ok(new_node(&node, "n"));
	test_ok(new_case(&cid, node, NULL));
	p.case_id = cid;
	test_ok(ts_node_write(node, NULL, "party", insert_party, &p));
	test_ok(ts_node_commit(head_hex, node, "case", NULL));
	for (i = 0; i < 300; i++) {
		snprintf(phone, sizeof(phone), "138%08d", i);
		p.phone = phone;
		test_ok(ts_node_write(node, "李娜", "phone", update_party, &p));
		test_ok(ts_node_commit(head_hex, node, "phone", NULL));
	}
	journal = query_int(ts_node_db(node), "SELECT count(*) FROM ts_journal");
	test_assert(journal >= 1);
	test_assert(journal < 300);
	test_assert(journal <= TS_HISTORY_CHECKPOINT);
	/* no rows of pruned entries stay behind */
	test_equal_i(query_int(ts_node_db(node),
		"SELECT count(*) FROM ts_journal_rows WHERE seq NOT IN (SELECT seq FROM ts_journal)"), 0);
	test_equal_i(query_int(ts_node_db(node),
		"SELECT count(DISTINCT seq) FROM ts_journal_rows"), journal);
	test_ok(verify_clean(node));

	/* a commit after the checkpoints is still repairable after a power
	 * loss (one that is not itself a checkpoint, which syncs) */
	do {
		snprintf(phone, sizeof(phone), "139%08d", i++);
		p.phone = phone;
		test_ok(ts_node_write(node, "李娜", "phone", update_party, &p));
		test_ok(commit_tracked(head_hex, &written, node, "n", "phone"));
		journal = query_int(ts_node_db(node), "SELECT count(*) FROM ts_journal");
		if (journal < 2)
			file_list_dispose(&written);
	} while (journal < 2);
	ts_node_free(node);
	node = NULL;
	test_ok(git_oid_fromstr(&head, head_hex));
	test_ok(ref_to_parent("n", &head));
	test_equal_i(lose_files(&written, "n", LOSE_ALL, &head), written.n);
	test_ok(ts_node_open(&node, "n"));
	test_ok(ts_node_head(again, node));
	test_equal_s(again, head_hex);
	test_ok(check_repaired("n", &head));
	test_ok(verify_clean(node));

	file_list_dispose(&written);
	ts_node_free(node);
	free(cid);
}

/*
 * A commit's bytes are made from the ids alone; git_commit_create_buffer(),
 * which reads the tree and the parents, must make the same bytes, for any
 * offset east or west and for several parents. Stock git checks the result.
 */
void test_history__commit_bytes_are_gits(void)
{
	static const struct { int64_t time; int offset; } when[] = {
		{ 1796597419, 480 }, { 0, 0 }, { 1700000000, -330 }, { 1234567890, -720 }, { 4000000000LL, 345 },
	};
	ts_store *store = NULL;
	ts_store_update u = { "cases/1/a", "row a\n", 6 };
	git_oid tree, ids[4];
	size_t i;

	git_libgit2_init();   /* released below; a node does this for itself */
	test_ok(ts_store__open(&store, "s.git", 1));
	test_ok(ts_store__tree_update(&tree, store, NULL, &u, 1));
	for (i = 0; i < sizeof(when) / sizeof(when[0]); i++) {
		ts_store_who a = { "周强", "bj.dc.jingshan", when[i].time, when[i].offset };
		ts_store_who c = { "bj.dc", "bj.dc", when[i].time + 7, -when[i].offset };
		size_t np = i < 3 ? i : 3;
		const char *msg = i % 2 ? "巡查登记\n\n第二段\n" : "no newline at the end";
		ts_buf raw = TS_BUF_INIT;
		git_signature *sa = NULL, *sc = NULL;
		git_tree *t = NULL;
		const git_commit *parents[3] = { NULL };
		git_commit *owned[3] = { NULL };
		git_buf want = GIT_BUF_INIT;
		git_oid id;
		size_t k;

		test_ok(ts_store__commit(&id, &raw, store, &tree, ids, np, &a, &c, msg));
		test_ok(ts_store__flush(store));
		test_ok(git_signature_new(&sa, a.name, a.node, (git_time_t)a.time, a.offset));
		test_ok(git_signature_new(&sc, c.name, c.node, (git_time_t)c.time, c.offset));
		test_ok(git_tree_lookup(&t, ts_store__repo(store), &tree));
		for (k = 0; k < np; k++) {
			test_ok(git_commit_lookup(&owned[k], ts_store__repo(store), &ids[k]));
			parents[k] = owned[k];
		}
		test_ok(git_commit_create_buffer(&want, ts_store__repo(store), sa, sc, "UTF-8", msg, t, np, parents));
		test_equal_i((int)raw.size, (int)want.size);
		test_assert(raw.size == want.size && !memcmp(raw.ptr, want.ptr, want.size));
		ids[i < 3 ? i : 0] = id;
		for (k = 0; k < np; k++)
			git_commit_free(owned[k]);
		git_buf_dispose(&want);
		git_tree_free(t);
		git_signature_free(sa);
		git_signature_free(sc);
		ts_buf__dispose(&raw);
	}
	test_ok(ts_test_sh("git --git-dir=s.git fsck --full --strict --no-dangling >/dev/null 2>&1"));
	ts_store__free(store);
	git_libgit2_shutdown();
}

/*
 * Trees are read as raw bytes: a tree cut short or malformed, under a good
 * one, is refused with an error, never read past its end; the good tree's
 * entries are found. Nothing in libgit2 checks a tree's bytes on writing.
 */
void test_history__malformed_trees_are_refused(void)
{
	static const struct { const char *bytes; size_t len; } bad[] = {
		{ "100644 a", 8 },                                  /* no NUL */
		{ "100644 a\0\001\002", 11 },                      /* id cut short */
		{ "100644 \0aaaaaaaaaaaaaaaaaaaa", 28 },            /* no name */
		{ " a\0aaaaaaaaaaaaaaaaaaaa", 23 },                  /* no mode */
		{ "10a644 a\0aaaaaaaaaaaaaaaaaaaa", 29 },            /* a mode not in octal */
	};
	ts_store *store = NULL;
	git_odb *odb = NULL;
	git_oid root, found, inner, blob;
	size_t i;

	git_libgit2_init();   /* released below; a node does this for itself */
	test_ok(ts_store__open(&store, "t.git", 1));
	test_ok(git_repository_odb(&odb, ts_store__repo(store)));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned char outer[8 + GIT_OID_RAWSZ];
		test_ok(git_odb_write(&inner, odb, bad[i].bytes, bad[i].len, GIT_OBJECT_TREE));
		memcpy(outer, "40000 d", 8);   /* with its NUL */
		memcpy(outer + 8, inner.id, GIT_OID_RAWSZ);
		test_ok(git_odb_write(&root, odb, outer, sizeof(outer), GIT_OBJECT_TREE));
		test_equal_i(ts_store__entry_at(&found, store, &root, "d/a"), TS_ECORRUPT);
		test_ok(ts_store__entry_at(&found, store, &root, "d"));
		test_assert(git_oid_equal(&found, &inner));
		test_equal_i(ts_store__entry_at(&found, store, &root, "x"), TS_ENOTFOUND);
	}
	test_ok(git_odb_write(&blob, odb, "x", 1, GIT_OBJECT_BLOB));
	test_equal_i(ts_store__entry_at(&found, store, &blob, "a"), TS_ECORRUPT);   /* no tree at all */
	{
		/* an entry's mode, as git_tree_entry_filemode_raw() gives it */
		unsigned char raw[2 * (9 + GIT_OID_RAWSZ)];
		ts_rawtree_cache *c = ts_rawtree__cache_new();
		unsigned mode = 0;
		memcpy(raw, "100755 a", 9);
		memcpy(raw + 9, blob.id, GIT_OID_RAWSZ);
		memcpy(raw + 9 + GIT_OID_RAWSZ, "120000 b", 9);
		memcpy(raw + 18 + GIT_OID_RAWSZ, blob.id, GIT_OID_RAWSZ);
		test_ok(git_odb_write(&root, odb, raw, sizeof(raw), GIT_OBJECT_TREE));
		test_ok(ts_rawtree__entry_at(&found, &mode, c, odb, &root, "a"));
		test_equal_i(mode, 0100755);
		test_ok(ts_rawtree__entry_at(&found, &mode, c, odb, &root, "b"));
		test_equal_i(mode, 0120000);
		test_assert(git_oid_equal(&found, &blob));
		ts_rawtree__cache_free(c);
	}
	git_odb_free(odb);
	ts_store__free(store);
	git_libgit2_shutdown();
}

/*
 * Reads do not hash each object again (git does not either); verify does.
 * A pack put beside the node's, newer (so read first), that holds other
 * bytes under the id of the case's row blob: verify names the object as
 * damaged, and stock git fsck agrees.
 */
void test_history__verify_catches_bytes_under_another_id(void)
{
	static const char forged[] = "id bj.dc.jingshan-forged\nstatus closed\n";
	ts_node *node = NULL;
	problems ps;
	char *cid = NULL, head[41], cmd[256], name[64];
	const char *blob;
	ts_pack__writer *w = NULL;
	ts_pack__entry e;
	unsigned char hdr[8], z[256];
	uLongf zlen = sizeof(z);
	size_t size = sizeof(forged) - 1, n = 0;

	test_ok(new_node(&node, "n"));
	test_ok(new_case(&cid, node, NULL));
	test_ok(ts_node_commit(head, node, "case", NULL));
	snprintf(cmd, sizeof(cmd), "git --git-dir=n/history.git ls-tree -r main | grep '%s$' | cut -f1 | cut -d' ' -f3", cid);
	blob = ts_test_first_line(cmd);
	test_assert(blob && strlen(blob) == 40);
	test_ok(git_oid_fromstr(&e.id, blob));

	/* one entry: a blob's header, then its zlib stream */
	hdr[n++] = (unsigned char)((3 << 4) | (size & 0x0f) | 0x80);
	for (size >>= 4; size; size >>= 7)
		hdr[n++] = (unsigned char)((size & 0x7f) | (size > 0x7f ? 0x80 : 0));
	test_equal_i(compress2(z, &zlen, (const Bytef *)forged, sizeof(forged) - 1, 6), Z_OK);
	sleep(1);   /* newer than the node's packs: searched first */
	test_ok(ts_pack__writer_open(&w, "n/history.git/objects/pack", 1));
	e.offset = ts_pack__writer_size(w);
	e.crc = 0;
	test_ok(ts_pack__writer_put(w, hdr, n, &e.crc));
	test_ok(ts_pack__writer_put(w, z, zlen, &e.crc));
	test_ok(ts_pack__writer_finish(w, name, &e, 1, 0));
	ts_pack__writer_free(w);
	ts_node_free(node);
	node = NULL;

	test_ok(ts_node_open(&node, "n"));
	memset(&ps, 0, sizeof(ps));
	test_equal_i(ts_node_verify(node, collect_problem, &ps), TS_ECORRUPT);
	test_assert(ps.n >= 1);
	/* the object itself is named, not a column its bytes happen to differ in */
	test_equal_s(ps.problem[0], "history object missing or damaged");
	test_equal_s(ps.expected[0], blob);
	test_assert(ts_test_sh("git --git-dir=n/history.git fsck --full >/dev/null 2>&1") != 0);
	ts_node_free(node);
	free(cid);
}

/*
 * Between checkpoints, every TS_HISTORY_COMBINE commits combine the packs
 * the journal's commits were written in into one, unsynced, and delete
 * them: those of every process, here one handle a commit as the CLI opens
 * one. A power cut that takes every unsynced pack with it, the combined one
 * included, loses nothing: the next open writes every commit again from
 * the journal, verify finds the database and history one, and stock git
 * agrees.
 */
void test_history__unsynced_packs_lost_restored_from_journal(void)
{
	ts_node *node = NULL;
	char id[41], first[41], cmd[512];
	int i, before, after;

	test_ok(new_node(&node, "n"));
	/* a new node's history is synced, its journal empty */
	test_ok(ts_test_sh("ls n/history.git/objects/pack > synced.txt"));
	test_ok(commit_case(first, node, "first"));
	ts_node_free(node);
	node = NULL;
	for (i = 0; i < TS_HISTORY_COMBINE + 8; i++) {
		test_ok(ts_node_open(&node, "n"));
		test_ok(commit_case(id, node, "after"));
		ts_node_free(node);
		node = NULL;
	}
	before = atoi(ts_test_first_line("ls n/history.git/objects/pack/*.pack | wc -l"));
	/* the combining ran: fewer packs than commits since the listing */
	test_assert(before < TS_HISTORY_COMBINE);
	/* the combined pack and one for each commit since, as the sqlite3 shell reads them */
	test_equal_s(ts_test_first_line("sqlite3 n/tiersync.db 'SELECT (SELECT count(*) FROM ts_journal_packs) = "
		"1 + (SELECT count(*) FROM ts_journal) % 32'"), "1");
	test_equal_i(TS_HISTORY_COMBINE, 32);

	/* the cut: every pack not synced is gone */
	snprintf(cmd, sizeof(cmd), "cd n/history.git/objects/pack && for f in *; do "
		"grep -qx \"$f\" ../../../../synced.txt || rm -f \"$f\"; done");
	test_ok(ts_test_sh(cmd));
	after = atoi(ts_test_first_line("ls n/history.git/objects/pack/*.pack | wc -l"));
	test_assert(after < before);

	test_ok(ts_node_open(&node, "n"));
	test_assert(ts_node_repaired(node));
	test_ok(verify_clean(node));
	test_equal_s(main_on_disk("n"), id);
	/* every commit is there again */
	snprintf(cmd, sizeof(cmd), "git --git-dir=n/history.git rev-list --count %s..main", first);
	test_equal_i(atoi(ts_test_first_line(cmd)), TS_HISTORY_COMBINE + 8);
	snprintf(cmd, sizeof(cmd), "git --git-dir=n/history.git cat-file -t %s", first);
	test_equal_s(ts_test_first_line(cmd), "commit");
	test_ok(ts_test_sh("git --git-dir=n/history.git fsck --full --strict >/dev/null 2>&1"));
	ts_node_free(node);
}

/*
 * Two handles of one node commit in turn. B's bulk commit is a checkpoint:
 * it syncs every pack, A's among them, and empties the journal. A's next
 * combining must not take the packs it wrote before that (the journal no
 * longer holds their commits): after it, every pack B synced is still
 * there, and a power cut that takes every pack written since loses
 * nothing.
 */
void test_history__combining_leaves_packs_another_synced(void)
{
	ts_node *a = NULL, *b = NULL;
	char id[41], *cid = NULL, cmd[512];
	party_op bulk = { NULL, "bj.dc.jingshan-p20240102", NULL, 2000 };
	int i;

	test_ok(new_node(&a, "n"));
	for (i = 0; i < 10; i++)
		test_ok(commit_case(id, a, "a before"));
	test_ok(ts_node_open(&b, "n"));
	test_ok(new_case(&cid, b, NULL));
	bulk.case_id = cid;
	test_ok(ts_node_write(b, NULL, "import parties", insert_parties, &bulk));
	test_ok(ts_node_commit(id, b, "bulk", NULL));
	test_equal_i(query_int(ts_node_db(b), "SELECT count(*) FROM ts_journal"), 0);
	test_ok(ts_test_sh("ls n/history.git/objects/pack > synced.txt"));
	ts_node_free(b);
	b = NULL;

	/* A goes on past its combining */
	for (i = 0; i < TS_HISTORY_COMBINE + 4; i++)
		test_ok(commit_case(id, a, "a after"));
	snprintf(cmd, sizeof(cmd), "cd n/history.git/objects/pack && while read f; do test -e \"$f\" || "
		"{ echo \"$f gone\"; exit 1; }; done < ../../../../synced.txt");
	test_ok(ts_test_sh(cmd));
	ts_node_free(a);
	a = NULL;

	/* the cut */
	test_ok(ts_test_sh("cd n/history.git/objects/pack && for f in *; do "
		"grep -qx \"$f\" ../../../../synced.txt || rm -f \"$f\"; done"));
	test_ok(ts_node_open(&a, "n"));
	test_ok(verify_clean(a));
	test_equal_s(main_on_disk("n"), id);
	test_ok(ts_test_sh("git --git-dir=n/history.git fsck --full --strict >/dev/null 2>&1"));
	ts_node_free(a);
	free(cid);
}
