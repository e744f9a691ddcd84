/*
 * Unit tests of taking back staged writes (node/restore.c): the database
 * back to what it was, the write kept in ts_restored, history untouched
 * and `verify` content; a write a later one builds on refused alone, and
 * every refusal leaving the node as it was.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "nodes.h"
#include "tiersync.h"

static ts_node *street(void)
{
	return ts_test_node("js", TS_TIER_STREET, "bj.dc.jingshan", "李街");
}

static char *new_case(ts_node *node, const char *address)
{
	char *id = NULL;
	if (ts_case_new(&id, node, "王伟", "small_ads", "patrol", address, NULL, 0) < 0)
		return NULL;
	return id;
}

static int describe(ts_node *node, const char *id, const char *text)
{
	ts_field f = { "description", text };
	return ts_case_update(node, "李娜", id, &f, 1);
}

/* Everything a restore may change: the rows of the case tables, the staged
 * writes and those taken back, and the head. */
static char *snapshot(ts_node *node)
{
	char head[41] = "";
	char *out = malloc(4096);
	ts_node_head(head, node);
	if (out)
		snprintf(out, 4096, "%s|%s|", head,
			ts_test_query_text(node, "SELECT group_concat(id || ':' || coalesce(description, ''), ',') FROM "
				"(SELECT * FROM cases ORDER BY id)"));
	if (out)
		snprintf(out + strlen(out), 4096 - strlen(out), "%s|%lld|%lld",
			ts_test_query_text(node, "SELECT group_concat(seq, ',') FROM (SELECT seq FROM ts_staged ORDER BY seq)"),
			ts_test_query_int(node, "SELECT count(*) FROM case_events"),
			ts_test_query_int(node, "SELECT count(*) FROM ts_restored"));
	return out;
}

typedef struct {
	int n;
	int64_t seq[8];
	char by[64];
	int inserts[8], updates[8];
} seen;

static int collect(const ts_restored_info *r, void *payload)
{
	seen *s = payload;
	if (s->n < 8) {
		s->seq[s->n] = r->seq;
		s->inserts[s->n] = r->inserts;
		s->updates[s->n] = r->updates;
		snprintf(s->by, sizeof(s->by), "%s", r->restored_by);
	}
	s->n++;
	return 0;
}

void test_restore__newest_write_taken_back(void)
{
	ts_node *node = street();
	char *a, *b, head_before[41], head_after[41], commit[41];
	int64_t seq = 2;
	seen s = { 0 };

	test_assert(node);
	test_assert((a = new_case(node, "景山前街")));
	test_assert((b = new_case(node, "北池子")));
	test_ok(ts_node_head(head_before, node));
	test_ok(ts_node_restore(node, &seq, 1, "张敏", collect, &s));
	test_equal_i(s.n, 1);
	test_equal_i(s.seq[0], 2);
	test_equal_s(s.by, "张敏");
	test_equal_i(s.inserts[0], 2);   /* the case and its intake event */
	/* the second case and its event are gone; the first stays staged */
	test_equal_i(ts_test_query_int(node, "SELECT count(*) FROM cases"), 1);
	test_equal_s(ts_test_query_text(node, "SELECT id FROM cases"), a);
	test_equal_i(ts_test_query_int(node, "SELECT count(*) FROM case_events"), 1);
	test_equal_i(ts_test_query_int(node, "SELECT count(*) FROM ts_staged"), 1);
	/* kept whole, with its own author and summary, not dropped */
	test_equal_s(ts_test_query_text(node, "SELECT author || '|' || restored_by FROM ts_restored WHERE seq = 2"),
		"王伟|张敏");
	test_assert(ts_test_query_int(node, "SELECT length(changeset) FROM ts_restored") > 0);
	/* history is untouched; the database is the head plus what is staged */
	test_ok(ts_node_head(head_after, node));
	test_equal_s(head_after, head_before);
	test_equal_i(ts_node_verify(node, NULL, NULL), 0);
	/* the next commit carries the first case only */
	test_ok(ts_node_commit(commit, node, "patrol", NULL));
	test_equal_i(ts_node_verify(node, NULL, NULL), 0);
	test_equal_i(ts_test_query_int(node, "SELECT count(*) FROM cases"), 1);
	free(a);
	free(b);
	ts_node_free(node);
}

void test_restore__write_a_later_one_builds_on_refused_alone(void)
{
	ts_node *node = street();
	char *a, *before;
	int64_t first = 1, both[2] = { 2, 1 };
	seen s = { 0 };

	test_assert(node);
	test_assert((a = new_case(node, "景山前街")));
	test_ok(describe(node, a, "三张小广告"));
	before = snapshot(node);
	test_equal_i(ts_node_restore(node, &first, 1, NULL, NULL, NULL), TS_EDENIED);
	test_error_says("cannot be taken back alone");
	test_assert(strstr(ts_error_last(), "write 2") && strstr(ts_error_last(), a));
	ts_test_unchanged(snapshot, node, before);
	free(before);
	test_assert(sqlite3_get_autocommit(ts_node_db(node)));

	/* named together, both go, newest first */
	test_ok(ts_node_restore(node, both, 2, NULL, collect, &s));
	test_equal_i(s.n, 2);
	test_equal_i(s.seq[0], 2);
	test_equal_i(s.seq[1], 1);
	test_equal_s(s.by, "李街");   /* the node's identity */
	test_equal_i(ts_test_query_int(node, "SELECT count(*) FROM cases"), 0);
	test_equal_i(ts_test_query_int(node, "SELECT count(*) FROM case_events"), 0);
	test_equal_i(ts_test_query_int(node, "SELECT count(*) FROM ts_staged"), 0);
	test_equal_i(ts_node_verify(node, NULL, NULL), 0);
	free(a);
	ts_node_free(node);
}

void test_restore__update_taken_back_restores_old_value(void)
{
	ts_node *node = street();
	char *a, commit[41], sql[256];
	int64_t seq;

	test_assert(node);
	test_assert((a = new_case(node, "景山前街")));
	test_ok(describe(node, a, "before"));
	test_ok(ts_node_commit(commit, node, "intake", NULL));
	test_ok(describe(node, a, "after"));
	seq = ts_test_query_int(node, "SELECT seq FROM ts_staged");
	test_ok(ts_node_restore(node, &seq, 1, NULL, NULL, NULL));
	snprintf(sql, sizeof(sql), "SELECT description FROM cases WHERE id = '%s'", a);
	test_equal_s(ts_test_query_text(node, sql), "before");
	test_equal_i(ts_node_verify(node, NULL, NULL), 0);
	/* a committed write is history, not staged: nothing to take back */
	seq = 1;
	test_equal_i(ts_node_restore(node, &seq, 1, NULL, NULL, NULL), TS_ENOTFOUND);
	test_error_says("no staged write 1");
	free(a);
	ts_node_free(node);
}

void test_restore__all_and_nothing_left(void)
{
	ts_node *node = street();
	char *a, *b;
	seen s = { 0 };

	test_assert(node);
	test_assert((a = new_case(node, "景山前街")));
	test_assert((b = new_case(node, "北池子")));
	test_ok(describe(node, a, "x"));
	test_ok(ts_node_restore(node, NULL, 0, NULL, collect, &s));
	test_equal_i(s.n, 3);
	test_equal_i(s.seq[0], 3);
	test_equal_i(s.seq[2], 1);
	test_equal_i(ts_test_query_int(node, "SELECT count(*) FROM cases"), 0);
	test_equal_i(ts_node_verify(node, NULL, NULL), 0);
	test_equal_i(ts_node_restore(node, NULL, 0, NULL, NULL, NULL), TS_ENOTFOUND);
	test_error_says("nothing is staged");
	free(a);
	free(b);
	ts_node_free(node);
}

void test_restore__bad_requests_change_nothing(void)
{
	ts_node *node = street();
	char *a, *before;
	int64_t missing[2] = { 1, 9 }, none = 0;

	test_assert(node);
	test_assert((a = new_case(node, "景山前街")));
	before = snapshot(node);
	test_equal_i(ts_node_restore(node, missing, 2, NULL, NULL, NULL), TS_ENOTFOUND);
	test_error_says("no staged write 9");
	test_equal_i(ts_node_restore(node, &none, 0, NULL, NULL, NULL), TS_EINVALID);
	test_equal_i(ts_node_restore(node, NULL, 0, "王<伟>", NULL, NULL), TS_EINVALID);
	ts_test_unchanged(snapshot, node, before);
	free(before);
	free(a);
	ts_node_free(node);
}

void test_restore__row_changed_since_refused(void)
{
	ts_node *node = street();
	char *a, *before, sql[256];
	int64_t seq = 1;

	test_assert(node);
	test_assert((a = new_case(node, "景山前街")));
	/* the row moves under the staged write (here by hand; a merge would) */
	snprintf(sql, sizeof(sql), "UPDATE cases SET address = '北池子' WHERE id = '%s'", a);
	test_assert(sqlite3_exec(ts_node_db(node), sql, NULL, NULL, NULL) == SQLITE_OK);
	before = snapshot(node);
	test_equal_i(ts_node_restore(node, &seq, 1, NULL, NULL, NULL), TS_ECONFLICT);
	test_error_says("changed since");
	ts_test_unchanged(snapshot, node, before);
	test_assert(sqlite3_get_autocommit(ts_node_db(node)));
	free(before);
	free(a);
	ts_node_free(node);
}

void test_restore__listed_in_order_taken_back(void)
{
	ts_node *node = street();
	char *a, *b, *c;
	int64_t two = 2, three = 3;
	seen s = { 0 };

	test_assert(node);
	test_assert((a = new_case(node, "景山前街")));
	test_assert((b = new_case(node, "北池子")));
	test_assert((c = new_case(node, "南池子")));
	test_ok(ts_node_restored(node, collect, &s));
	test_equal_i(s.n, 0);
	test_ok(ts_node_restore(node, &two, 1, "张敏", NULL, NULL));
	test_ok(ts_node_restore(node, &three, 1, "李娜", NULL, NULL));
	test_ok(ts_node_restored(node, collect, &s));
	test_equal_i(s.n, 2);
	test_equal_i(s.seq[0], 2);
	test_equal_i(s.seq[1], 3);
	test_equal_s(s.by, "李娜");
	free(a);
	free(b);
	free(c);
	ts_node_free(node);
}

void test_restore__evidence_file_goes_with_its_row(void)
{
	ts_node *node = street();
	char *a, *ev = NULL, sha[65], commit[41];
	int64_t seq = 2;
	FILE *f;

	test_assert(node);
	test_assert((a = new_case(node, "景山前街")));
	test_assert((f = fopen("photo.jpg", "wb")));
	fputs("not really a jpeg", f);
	fclose(f);
	test_ok(ts_evidence_add(&ev, sha, node, NULL, a, "photo.jpg", NULL));
	test_equal_i(ts_test_query_int(node, "SELECT count(*) FROM ts_files_staged"), 1);
	test_ok(ts_node_restore(node, &seq, 1, NULL, NULL, NULL));
	test_equal_i(ts_test_query_int(node, "SELECT count(*) FROM evidence"), 0);
	test_equal_i(ts_test_query_int(node, "SELECT count(*) FROM ts_files_staged"), 0);
	test_equal_i(ts_node_verify(node, NULL, NULL), 0);
	test_ok(ts_node_commit(commit, node, "intake", NULL));
	test_equal_i(ts_node_verify(node, NULL, NULL), 0);
	free(ev);
	free(a);
	ts_node_free(node);
}
