/*
 * Apply: a tree's rows written into another node's database.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "apply.h"
#include "history.h"
#include "node.h"

static int make_node(ts_node **out, const char *path, const char *id)
{
	ts_init_options o = { TS_INIT_OPTIONS_VERSION, TS_TIER_STREET, id, NULL, "王伟", NULL };
	return ts_node_init(out, path, &o);
}

static int add_party(sqlite3 *db, void *payload)
{
	const char *id = payload;
	char sql[256];
	snprintf(sql, sizeof(sql), "INSERT INTO parties (id, case_id, kind, name) "
		"SELECT '%s', id, 'person', '赵六' FROM cases LIMIT 1", id);
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : TS_ERROR;
}

static int drop_party(sqlite3 *db, void *payload)
{
	(void)payload;
	return sqlite3_exec(db, "DELETE FROM parties", NULL, NULL, NULL) == SQLITE_OK ? 0 : TS_ERROR;
}

/* Rows of every synced table of `a` that `b` lacks, and the reverse. */
static int differing_rows(ts_node *a, ts_node *b)
{
	ts_tables *tables = NULL;
	char sql[512];
	int i, n = 0;
	sqlite3_stmt *st;

	if (ts_tables__load(&tables, a->db) < 0)
		return -1;
	snprintf(sql, sizeof(sql), "ATTACH '%s/tiersync.db' AS other", b->path);
	if (sqlite3_exec(a->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	for (i = 0; i < tables->n; i++) {
		snprintf(sql, sizeof(sql), "SELECT (SELECT count(*) FROM (SELECT * FROM main.\"%s\" EXCEPT "
			"SELECT * FROM other.\"%s\")) + (SELECT count(*) FROM (SELECT * FROM other.\"%s\" EXCEPT "
			"SELECT * FROM main.\"%s\"))", tables->list[i].name, tables->list[i].name, tables->list[i].name,
			tables->list[i].name);
		if (sqlite3_prepare_v2(a->db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
			n += sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_exec(a->db, "DETACH other", NULL, NULL, NULL);
	ts_tables__free(tables);
	return n;
}

/* The one integer `sql` gives on `db`, or -1. */
static int count_of(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int n = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int head_tree(git_oid *out, ts_node *node)
{
	git_oid head;
	int error = ts_history__head(&head, node->db);
	return error < 0 ? error : ts_store__commit_tree(out, node->store, &head);
}

/* Applies `from`'s head tree to `to`'s database, from `to`'s head tree. */
static int apply_across(ts_apply_stats *stats, ts_node *from, ts_node *to)
{
	git_oid base, target;
	ts_tables *tables = NULL;
	int error;

	if ((error = head_tree(&base, to)) < 0 || (error = head_tree(&target, from)) < 0 ||
	    (error = ts_tables__load(&tables, to->db)) < 0)
		return error;
	/* both nodes start from the same init tree (the same reference rows), so
	 * `from`'s repository holds every object the walk reads */
	sqlite3_exec(to->db, "BEGIN", NULL, NULL, NULL);
	error = ts_apply(stats, to->db, ts_store__repo(from->store), tables, &base, &target);
	sqlite3_exec(to->db, error < 0 ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
	ts_tables__free(tables);
	return error;
}

void test_apply__rows_reach_another_database(void)
{
	ts_node *a = NULL, *b = NULL;
	ts_apply_stats stats;
	ts_field set = { "status", "dispatched" };
	char *id = NULL, commit[41];

	test_ok(make_node(&a, "a", "bj.dc.a"));
	test_ok(make_node(&b, "b", "bj.dc.b"));
	test_equal_i(differing_rows(a, b), 0);
	test_ok(ts_case_new(&id, a, NULL, "small_ads", "patrol", "景山前街 4号", NULL, 0));
	test_ok(ts_case_update(a, "李娜", id, &set, 1));
	test_ok(ts_node_write(a, "王伟", "party", add_party, "bj.dc.a-p1"));
	test_ok(ts_node_commit(commit, a, "work", NULL));
	test_assert(differing_rows(a, b) > 0);

	test_ok(apply_across(&stats, a, b));
	/* the case, its two events and the party */
	test_equal_i(stats.upserts, 4);
	test_equal_i(stats.deletes, 0);
	test_equal_i(differing_rows(a, b), 0);

	/* an update and a delete travel too */
	set.value = "handling";
	test_ok(ts_case_update(a, "李娜", id, &set, 1));
	test_ok(ts_node_write(a, "王伟", "drop", drop_party, NULL));
	test_ok(ts_node_commit(commit, a, "more", NULL));
	{
		/* b's database now holds a's first commit: apply from its tree */
		git_oid first, target;
		git_commit *c = NULL;
		ts_tables *tables = NULL;
		test_ok(git_oid_fromstr(&target, commit));
		test_ok(git_commit_lookup(&c, ts_store__repo(a->store), &target));
		test_ok(git_commit_parent_id(c, 0) ? 0 : -1);
		test_ok(ts_store__commit_tree(&first, a->store, git_commit_parent_id(c, 0)));
		test_ok(ts_store__commit_tree(&target, a->store, &target));
		git_commit_free(c);
		test_ok(ts_tables__load(&tables, b->db));
		sqlite3_exec(b->db, "BEGIN", NULL, NULL, NULL);
		test_ok(ts_apply(&stats, b->db, ts_store__repo(a->store), tables, &first, &target));
		sqlite3_exec(b->db, "COMMIT", NULL, NULL, NULL);
		ts_tables__free(tables);
	}
	test_equal_i(stats.deletes, 1);
	test_equal_i(differing_rows(a, b), 0);
	/* nothing applied was captured as local work */
	test_equal_i(count_of(b->db, "SELECT count(*) FROM ts_staged"), 0);
	free(id);
	ts_node_free(a);
	ts_node_free(b);
}

/* Nodes a and b from the same init tree; a has committed one case. */
static int nodes_with_a_case(ts_node **a, ts_node **b, const char *address)
{
	char *id = NULL, commit[41];
	int error;

	if ((error = make_node(a, "a", "bj.dc.a")) < 0 || (error = make_node(b, "b", "bj.dc.b")) < 0 ||
	    (error = ts_case_new(&id, *a, NULL, "small_ads", "patrol", address, NULL, 0)) < 0)
		return error;
	free(id);
	return ts_node_commit(commit, *a, "a case", NULL);
}

void test_apply__other_schema_version_refused(void)
{
	ts_node *a = NULL, *b = NULL;
	ts_apply_stats stats;
	int rc;

	/* a newer schema on a's side, recorded in a commit as a newer tiersync
	 * would record it (this one's ts_node_commit refuses a schema version
	 * its migrations do not make) */
	test_ok(nodes_with_a_case(&a, &b, "x"));
	test_assert(sqlite3_exec(a->db, "PRAGMA user_version = 99", NULL, NULL, NULL) == SQLITE_OK);
	{
		ts_store_who who;
		git_oid newer;
		ts_node__who(&who, "bj.dc.a", "bj.dc.a", ts_node__now());
		test_ok(ts_history__commit_all(&newer, a->db, a->store, &who, &who, "newer\n"));
	}
	rc = apply_across(&stats, a, b);
	test_equal_i(rc, TS_EINVALID);
	test_assert(strstr(ts_error_last(), "schema version 99") != NULL);
	/* and nothing of it stayed */
	test_equal_i(differing_rows(a, b) > 0, 1);
	test_equal_i(count_of(b->db, "SELECT count(*) FROM cases"), 0);
	ts_node_free(a);
	ts_node_free(b);
}

/* The ids of the cases `db` took, in the order it took them, joined by
 * ','; and how often an id came before a smaller one. */
static int taken_order(ts_buf *out, sqlite3 *db)
{
	sqlite3_stmt *st;
	char last[128] = "";
	int descents = 0;

	ts_buf__clear(out);
	if (sqlite3_prepare_v2(db, "SELECT id FROM temp.taken ORDER BY n", -1, &st, NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		descents += strcmp(id, last) < 0;
		ts_buf__printf(out, "%s%s", out->size ? "," : "", id);
		snprintf(last, sizeof(last), "%s", id);
	}
	sqlite3_finalize(st);
	return descents;
}

/* Rows come from the tree in its fan-out's (hashed) order and are written
 * in the order of their keys: in one run while they fit the bytes kept,
 * in several sorted runs when they do not. Either way every row arrives. */
void test_apply__rows_are_written_in_key_order(void)
{
	ts_node *a = NULL, *b = NULL;
	ts_apply_stats stats;
	ts_buf order = TS_BUF_INIT, sorted = TS_BUF_INIT;
	char commit[41], addr[64];
	sqlite3_stmt *st;
	int k, descents;

	test_ok(make_node(&a, "a", "bj.dc.a"));
	test_ok(make_node(&b, "b", "bj.dc.b"));
	for (k = 0; k < 40; k++) {
		char *id = NULL;
		snprintf(addr, sizeof(addr), "景山前街 %d号", k + 1);
		test_ok(ts_case_new(&id, a, NULL, "small_ads", "patrol", addr, NULL, 0));
		free(id);
	}
	test_ok(ts_node_commit(commit, a, "forty cases", NULL));
	test_assert(sqlite3_exec(b->db, "CREATE TEMP TABLE taken (n INTEGER PRIMARY KEY, id TEXT);"
		"CREATE TEMP TRIGGER take AFTER INSERT ON main.cases BEGIN "
		"INSERT INTO taken (id) VALUES (new.id); END", NULL, NULL, NULL) == SQLITE_OK);

	test_ok(apply_across(&stats, a, b));
	test_equal_i(differing_rows(a, b), 0);
	test_equal_i(taken_order(&order, b->db), 0);
	test_ok(sqlite3_prepare_v2(b->db, "SELECT group_concat(id, ',') FROM (SELECT id FROM cases ORDER BY id)",
		-1, &st, NULL) == SQLITE_OK ? 0 : -1);
	test_assert(sqlite3_step(st) == SQLITE_ROW);
	ts_buf__puts(&sorted, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	test_equal_s(order.ptr, sorted.ptr);

	/* again into a third node, keeping about ten rows' bytes (10 KB) at a
	 * time: four or five sorted runs, so a descent only where one run ends
	 * (the tree's own order has one at about every second row) */
	ts_node_free(b);
	test_ok(make_node(&b, "c", "bj.dc.c"));
	test_assert(sqlite3_exec(b->db, "CREATE TEMP TABLE taken (n INTEGER PRIMARY KEY, id TEXT);"
		"CREATE TEMP TRIGGER take AFTER INSERT ON main.cases BEGIN "
		"INSERT INTO taken (id) VALUES (new.id); END", NULL, NULL, NULL) == SQLITE_OK);
	ts_apply__set_pending_bytes(10 * 1024);
	k = apply_across(&stats, a, b);
	ts_apply__set_pending_bytes(0);
	test_ok(k);
	test_equal_i(differing_rows(a, b), 0);
	descents = taken_order(&order, b->db);
	test_assert(descents <= 8);
	ts_buf__dispose(&order);
	ts_buf__dispose(&sorted);
	ts_node_free(a);
	ts_node_free(b);
}

/* A new row whose blob does not decode, among rows that wait to be written
 * in key order: the apply fails naming its path, and the caller's rollback
 * leaves nothing of it. */
void test_apply__a_new_row_that_does_not_decode_is_refused(void)
{
	ts_node *a = NULL, *b = NULL;
	ts_apply_stats stats;
	ts_store_update bad;
	ts_buf path = TS_BUF_INIT;
	ts_value key;
	ts_tables *tables = NULL;
	git_oid base, target;
	int rc;

	test_ok(nodes_with_a_case(&a, &b, "景山前街 4号"));
	memset(&key, 0, sizeof(key));
	key.type = SQLITE_TEXT;
	key.p = "bj.dc.a-broken";
	key.n = strlen(key.p);
	test_ok(ts_rowcodec__key_path_values(&path, "cases", 1, &key));
	bad.path = path.ptr;
	bad.data = "id \"bj.dc.a-broken\nsource";   /* cut off inside its first value */
	bad.len = strlen(bad.data);
	test_ok(head_tree(&base, a));
	test_ok(ts_store__tree_update(&target, a->store, &base, &bad, 1));
	test_ok(ts_store__flush(a->store));
	test_ok(head_tree(&base, b));
	test_ok(ts_tables__load(&tables, b->db));
	sqlite3_exec(b->db, "BEGIN", NULL, NULL, NULL);
	rc = ts_apply(&stats, b->db, ts_store__repo(a->store), tables, &base, &target);
	sqlite3_exec(b->db, rc < 0 ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
	test_equal_i(rc, TS_ECORRUPT);
	test_error_says(path.ptr);
	test_equal_i(count_of(b->db, "SELECT count(*) FROM cases"), 0);
	ts_tables__free(tables);
	ts_buf__dispose(&path);
	ts_node_free(a);
	ts_node_free(b);
}
