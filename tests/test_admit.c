/*
 * Admission: what a node takes from another, and what it writes itself,
 * under the ownership rules and the signatures (sync/admit.c,
 * sync/ownership.c, node/admit_node.c, node/signing.c).
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "nodes.h"
#include "sshsig.h"
#include "node.h"
#include "tiersync.h"

static int make_node(ts_node **out, const char *path, ts_tier tier, const char *id)
{
	ts_init_options o = { TS_INIT_OPTIONS_VERSION, tier, id, NULL, "王伟", NULL };
	return ts_node_init(out, path, &o);
}

static int sql(sqlite3 *db, void *payload)
{
	return sqlite3_exec(db, (const char *)payload, NULL, NULL, NULL) == SQLITE_OK ? 0 :
		ts_error_set(TS_ERROR, "%s", sqlite3_errmsg(db));
}

/* The upper node enrolls the lower one's key (no authorized_keys line
 * matters here: it goes to a file of the test's own). */
static int enroll(ts_node *upper, ts_node *lower)
{
	ts_enroll_options o = { TS_ENROLL_OPTIONS_VERSION, "authorized_keys", "/bin/false", "张敏", 0 };
	char path[4096], line[512], id[41];
	FILE *f;

	snprintf(path, sizeof(path), "%s/id_ed25519.pub", ts_node_path(lower));
	if (!(f = fopen(path, "r")))
		return -1;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	return ts_node_enroll(id, upper, ts_node_id(lower), line, &o);
}

static int submit(ts_node *lower, ts_node *upper)
{
	char ref[128];
	snprintf(ref, sizeof(ref), "refs/submissions/%s", ts_node_id(lower));
	return ts_test_transfer(lower, upper, ref);
}

typedef struct {
	int error;
	char message[512];
} outcome;

static int on_submission(const ts_submission_result *r, void *payload)
{
	outcome *o = payload;
	if (r->error < 0) {   /* the refusal, whatever else merged */
		o->error = r->error;
		snprintf(o->message, sizeof(o->message), "%s", r->message ? r->message : "");
	}
	return 0;
}

static long long count(ts_node *node, const char *query)
{
	sqlite3_stmt *st = NULL;
	long long n = -1;
	if (sqlite3_prepare_v2(ts_node_db(node), query, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

#define CASE_OF_B "INSERT INTO cases (id, source, category, address, jurisdiction, reported_at, deadline, " \
	"created_by_node) VALUES ('bj.dc.b-c1', 'patrol', 'small_ads', '东华门大街 1号', 'bj.dc.b', " \
	"'2015-03-01T10:00:00+08:00', '2015-12-31T00:00:00+08:00', 'bj.dc.b')"

/* A district, its streets a and b enrolled, and a case of b that all hold. */
static void three_nodes(ts_node **dc, ts_node **a, ts_node **b)
{
	outcome o = { 0, "" };
	char id[41];

	test_ok(make_node(dc, "dc", TS_TIER_DISTRICT, "bj.dc"));
	test_ok(make_node(a, "a", TS_TIER_STREET, "bj.dc.a"));
	test_ok(make_node(b, "b", TS_TIER_STREET, "bj.dc.b"));
	test_ok(enroll(*dc, *a));
	test_ok(enroll(*dc, *b));
	test_ok(ts_node_write(*b, NULL, "a case", sql, CASE_OF_B));
	test_ok(ts_node_commit(id, *b, "a case", NULL));
	test_ok(submit(*b, *dc));
	test_ok(ts_node_merge_submissions(*dc, NULL, on_submission, &o));
	test_equal_i(o.error, 0);
	test_ok(ts_test_transfer(*dc, *a, "refs/remotes/upstream/main"));
	test_ok(ts_node_merge(id, NULL, *a, "refs/remotes/upstream/main", NULL, "pull\n"));
	test_equal_i(count(*a, "SELECT count(*) FROM cases WHERE id = 'bj.dc.b-c1'"), 1);
}

void test_admit__local_write_outside_jurisdiction_refused_before_staging(void)
{
	ts_node *dc = NULL, *a = NULL, *b = NULL;
	int staged;

	three_nodes(&dc, &a, &b);
	test_equal_i(ts_node_write(a, NULL, "another street's case", sql,
		"UPDATE cases SET status = 'closed' WHERE id = 'bj.dc.b-c1'"), TS_EDENIED);
	test_assert(strstr(ts_error_last(), "bj.dc.b-c1") && strstr(ts_error_last(), "outside the jurisdiction"));
	test_equal_i(count(a, "SELECT count(*) FROM cases WHERE status = 'closed'"), 0);
	staged = (int)count(a, "SELECT count(*) FROM ts_staged");
	test_equal_i(staged, 0);
	/* the district may */
	test_ok(ts_node_write(dc, NULL, "its street's case", sql,
		"UPDATE cases SET description = '复查' WHERE id = 'bj.dc.b-c1'"));
	ts_node_free(dc);
	ts_node_free(a);
	ts_node_free(b);
}

void test_admit__submission_changing_another_streets_case_refused_whole(void)
{
	ts_node *dc = NULL, *a = NULL, *b = NULL;
	outcome o = { 0, "" };
	char before[41], after[41], id[41];

	three_nodes(&dc, &a, &b);
	/* street a, hostile, writes past its own rules, with a legitimate row too */
	test_ok(ts_node__write_as(a, "bj.dc", NULL, "forged", sql,
		"DELETE FROM cases WHERE id = 'bj.dc.b-c1'"));
	test_ok(ts_node_write(a, NULL, "its own", sql,
		"INSERT INTO patrols (id, officers, jurisdiction, started_at) VALUES "
		"('p1', '王伟', 'bj.dc.a', '2015-03-02T09:00:00+08:00')"));
	test_ok(ts_node_commit(id, a, "forged", NULL));
	test_ok(submit(a, dc));
	test_ok(ts_node_head(before, dc));
	test_equal_i(ts_node_merge_submissions(dc, NULL, on_submission, &o), TS_EDENIED);
	test_equal_i(o.error, TS_EDENIED);
	test_assert(strstr(o.message, "bj.dc.a may not delete cases row"));
	test_assert(strstr(o.message, "belongs to bj.dc.b"));
	test_ok(ts_node_head(after, dc));
	test_equal_s(after, before);
	test_equal_i(count(dc, "SELECT count(*) FROM cases WHERE id = 'bj.dc.b-c1'"), 1);
	test_equal_i(count(dc, "SELECT count(*) FROM patrols"), 0);   /* refused whole */
	test_ok(ts_node_verify(dc, NULL, NULL));
	ts_node_free(dc);
	ts_node_free(a);
	ts_node_free(b);
}

void test_admit__submission_under_another_nodes_name_refused(void)
{
	ts_node *dc = NULL, *a = NULL, *b = NULL;
	outcome o = { 0, "" };
	char id[41];

	three_nodes(&dc, &a, &b);
	test_ok(ts_node_write(a, NULL, "its own", sql,
		"INSERT INTO patrols (id, officers, jurisdiction, started_at) VALUES "
		"('p1', '王伟', 'bj.dc.a', '2015-03-02T09:00:00+08:00')"));
	test_ok(ts_node_commit(id, a, "patrol", NULL));
	/* a's history, delivered as b's submission */
	test_ok(ts_test_transfer(a, dc, "refs/submissions/bj.dc.b"));
	test_equal_i(ts_node_merge_submissions(dc, NULL, on_submission, &o), TS_EDENIED);
	test_assert(strstr(o.message, "neither bj.dc.b nor a node below it"));
	test_equal_i(count(dc, "SELECT count(*) FROM patrols"), 0);
	ts_node_free(dc);
	ts_node_free(a);
	ts_node_free(b);
}

void test_admit__unenrolled_and_unsigned_refused(void)
{
	ts_node *dc = NULL, *c = NULL;
	outcome o = { 0, "" };
	char id[41];

	test_ok(make_node(&dc, "dc", TS_TIER_DISTRICT, "bj.dc"));
	test_ok(make_node(&c, "c", TS_TIER_STREET, "bj.dc.c"));
	test_ok(ts_node_write(c, NULL, "its own", sql,
		"INSERT INTO patrols (id, officers, jurisdiction, started_at) VALUES "
		"('p1', '王伟', 'bj.dc.c', '2015-03-02T09:00:00+08:00')"));
	test_ok(ts_node_commit(id, c, "patrol", NULL));
	test_ok(submit(c, dc));
	test_equal_i(ts_node_merge_submissions(dc, NULL, on_submission, &o), TS_EDENIED);
	test_assert(strstr(o.message, "no key is enrolled for bj.dc.c"));

	/* enrolled now, but its next commit is unsigned */
	test_ok(enroll(dc, c));
	ts_store__set_signer(c->store, NULL);
	test_ok(ts_node_write(c, NULL, "more", sql,
		"INSERT INTO patrols (id, officers, jurisdiction, started_at) VALUES "
		"('p2', '王伟', 'bj.dc.c', '2015-03-03T09:00:00+08:00')"));
	test_ok(ts_node_commit(id, c, "unsigned", NULL));
	test_ok(submit(c, dc));
	o.error = 0;
	test_equal_i(ts_node_merge_submissions(dc, NULL, on_submission, &o), TS_EDENIED);
	test_assert(strstr(o.message, "is unsigned"));
	test_equal_i(count(dc, "SELECT count(*) FROM patrols"), 0);
	ts_node_free(dc);
	ts_node_free(c);
}

void test_admit__fast_forward_records_a_broken_reference(void)
{
	ts_node *dc = NULL, *a = NULL;
	ts_node_merge_stats stats;
	char id[41], head[41];

	test_ok(make_node(&dc, "dc", TS_TIER_DISTRICT, "bj.dc"));
	test_ok(make_node(&a, "a", TS_TIER_STREET, "bj.dc.a"));
	test_ok(enroll(dc, a));
	test_ok(ts_test_transfer(dc, a, "refs/remotes/upstream/main"));
	test_ok(ts_node_merge(id, NULL, a, "refs/remotes/upstream/main", NULL, "pull\n"));
	/* the district takes a's merge, so that a's next pull is a fast-forward */
	test_ok(submit(a, dc));
	test_ok(ts_node_merge_submissions(dc, NULL, NULL, NULL));
	/* the district's history holds a case naming a key area that is not
	 * there, unrecorded (its foreign keys were off) */
	sqlite3_exec(ts_node_db(dc), "PRAGMA foreign_keys = OFF", NULL, NULL, NULL);
	test_ok(ts_node_write(dc, NULL, "a case", sql,
		"INSERT INTO cases (id, source, category, address, jurisdiction, reported_at, deadline, "
		"created_by_node, key_area_id) VALUES ('bj.dc-c1', 'patrol', 'small_ads', '东华门大街 1号', "
		"'bj.dc', '2015-03-01T10:00:00+08:00', '2015-12-31T00:00:00+08:00', 'bj.dc', 'gone')"));
	test_ok(ts_node_commit(id, dc, "a case", NULL));
	sqlite3_exec(ts_node_db(dc), "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	test_ok(ts_test_transfer(dc, a, "refs/remotes/upstream/main"));
	memset(&stats, 0, sizeof(stats));
	test_ok(ts_node_merge(head, &stats, a, "refs/remotes/upstream/main", NULL, "pull\n"));
	test_equal_i(stats.result, TS_MERGE_FAST_FORWARD);
	test_equal_i((int)stats.constraint_conflicts, 1);
	test_equal_i(count(a, "SELECT count(*) FROM sync_conflicts WHERE kind = 'constraint' "
		"AND table_name = 'cases'"), 1);
	test_assert(strcmp(head, id) != 0);   /* the record is a commit on top of theirs */
	test_ok(ts_node_verify(a, NULL, NULL));
	ts_node_free(dc);
	ts_node_free(a);
}

/* A commit of `node` with `tree` on `parent`, signed with the node's key. */
static int signed_commit(git_oid *out, ts_node *node, const git_oid *tree_id, const git_oid *parent_id)
{
	git_repository *repo = ts_store__repo(node->store);
	git_signature *who = NULL;
	git_commit *parent = NULL;
	git_tree *tree = NULL;
	git_buf raw = GIT_BUF_INIT;
	ts_buf signed_raw = TS_BUF_INIT;
	git_odb *odb = NULL;
	int error;

	if ((error = git_signature_new(&who, ts_node_id(node), ts_node_id(node), 1796482352, 480)) < 0 ||
	    (error = git_tree_lookup(&tree, repo, tree_id)) < 0 ||
	    (error = git_commit_lookup(&parent, repo, parent_id)) < 0 ||
	    (error = git_commit_create_buffer(&raw, repo, who, who, "UTF-8", "crafted\n", tree, 1,
			(const git_commit **)&parent)) < 0 ||
	    (error = ts_sshsig__commit_sign(&signed_raw, node->key, raw.ptr, raw.size)) < 0 ||
	    (error = git_repository_odb(&odb, repo)) < 0)
		goto done;
	error = git_odb_write(out, odb, signed_raw.ptr, signed_raw.size, GIT_OBJECT_COMMIT);
done:
	git_odb_free(odb);
	ts_buf__dispose(&signed_raw);
	git_buf_dispose(&raw);
	git_tree_free(tree);
	git_commit_free(parent);
	git_signature_free(who);
	return error;
}

void test_admit__a_gitlink_in_an_earlier_commit_refused(void)
{
	ts_node *dc = NULL, *a = NULL, *b = NULL;
	git_repository *repo;
	git_reference *ref = NULL;
	git_commit *head_commit = NULL;
	git_tree *head_tree = NULL;
	git_tree_update u;
	git_oid head, with_link, first, second;
	outcome o = { 0, "" };
	char hex[41];

	three_nodes(&dc, &a, &b);
	repo = ts_store__repo(a->store);
	test_ok(ts_node_head(hex, a));
	test_ok(git_oid_fromstr(&head, hex));
	test_ok(git_commit_lookup(&head_commit, repo, &head));
	test_ok(git_commit_tree(&head_tree, head_commit));
	/* a gitlink at a row path in one commit, gone again in the next */
	memset(&u, 0, sizeof(u));
	u.action = GIT_TREE_UPDATE_UPSERT;
	u.filemode = GIT_FILEMODE_COMMIT;
	u.path = "patrols/0/0/0/0/p1";
	git_oid_cpy(&u.id, &head);
	test_ok(git_tree_create_updated(&with_link, repo, head_tree, 1, &u));
	test_ok(signed_commit(&first, a, &with_link, &head));
	test_ok(signed_commit(&second, a, git_tree_id(head_tree), &first));
	test_ok(ts_store__flush(a->store));   /* on disk, where a fetch reads */
	test_ok(git_reference_create(&ref, repo, "refs/heads/main", &second, 1, "crafted"));
	test_ok(submit(a, dc));
	test_equal_i(ts_node_merge_submissions(dc, NULL, on_submission, &o), TS_EDENIED);
	test_assert(strstr(o.message, "mode 160000"));
	test_assert(strstr(o.message, "patrols/0/0/0/0/p1"));
	git_reference_free(ref);
	git_tree_free(head_tree);
	git_commit_free(head_commit);
	ts_node_free(dc);
	ts_node_free(a);
	ts_node_free(b);
}

void test_admit__a_target_answers_but_does_not_close_an_item(void)
{
	ts_node *a = NULL;

	test_ok(make_node(&a, "a", TS_TIER_STREET, "bj.dc.a"));
	test_ok(ts_node__write_as(a, "bj.dc", NULL, "an item from above", sql,
		"INSERT INTO supervision_items (id, issued_by_node, level, target_node, subject, issued_at) "
		"VALUES ('bj.dc-s1', 'bj.dc', 'district', 'bj.dc.a', '清理小广告', '2015-03-01T09:00:00+08:00')"));
	test_equal_i(ts_node_write(a, NULL, "close it", sql,
		"UPDATE supervision_items SET status = 'closed' WHERE id = 'bj.dc-s1'"), TS_EDENIED);
	test_assert(strstr(ts_error_last(), "may only be set to answered"));
	test_ok(ts_node_write(a, NULL, "answer it", sql,
		"UPDATE supervision_items SET status = 'answered' WHERE id = 'bj.dc-s1'"));
	/* nor may it change what was asked */
	test_equal_i(ts_node_write(a, NULL, "change it", sql,
		"UPDATE supervision_items SET subject = '不管了' WHERE id = 'bj.dc-s1'"), TS_EDENIED);
	ts_node_free(a);
}
