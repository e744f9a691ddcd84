/*
 * Integrate: submissions merged at an upper node, conflicts recorded and
 * resolved, every node converging on one tree.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "nodes.h"
#include "apply.h"
#include "conflicts.h"
#include "history.h"
#include "node.h"

static int make_node(ts_node **out, const char *path, ts_tier tier, const char *id, const char *who)
{
	ts_init_options o = { TS_INIT_OPTIONS_VERSION, tier, id, NULL, who, NULL };
	return ts_node_init(out, path, &o);
}

/* A street submits to the district. */
static int submit(ts_node *street, ts_node *district)
{
	char ref[128];
	snprintf(ref, sizeof(ref), "refs/submissions/%s", street->id);
	return ts_test_transfer(street, district, ref);
}

/* A node pulls the district's main. */
static int pull(ts_node *node, ts_node *district)
{
	ts_node_merge_stats stats;
	char id[41];
	int error;
	if ((error = ts_test_transfer(district, node, "refs/remotes/upstream/main")) < 0)
		return error;
	return ts_node_merge(id, &stats, node, "refs/remotes/upstream/main", "同步", "pull from the district\n");
}

static int tree_of(git_oid *out, ts_node *node)
{
	git_oid head;
	int error = ts_history__head(&head, node->db);
	return error < 0 ? error : ts_store__commit_tree(out, node->store, &head);
}

static int count(ts_node *node, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int n = -1;
	if (sqlite3_prepare_v2(node->db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static char *text(ts_node *node, const char *sql)
{
	sqlite3_stmt *st = NULL;
	char *s = NULL;
	if (sqlite3_prepare_v2(node->db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0))
		s = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return s;
}

static int merged_count;
static int on_submission(const ts_submission_result *r, void *payload)
{
	(void)payload;
	if (r->error == 0)
		merged_count++;
	return 0;
}

void test_integrate__conflict_recorded_resolved_and_converged(void)
{
	ts_node *dc = NULL, *a = NULL, *b = NULL;
	ts_field officer = { "officer", NULL };
	char *id = NULL, *value = NULL, *conflict = NULL, commit[41], sql[256];
	git_oid ta, tb, td;
	int nothing;

	test_ok(make_node(&dc, "dc", TS_TIER_DISTRICT, "bj.dc", "张敏"));
	test_ok(make_node(&a, "a", TS_TIER_STREET, "bj.dc.a", "王伟"));
	test_ok(make_node(&b, "b", TS_TIER_STREET, "bj.dc.b", "赵强"));
	test_ok(ts_test_enrolled_above(dc));
	test_ok(ts_test_enroll(dc, a));
	test_ok(ts_test_enroll(dc, b));

	/* street a records a case; the district merges it; street b pulls it */
	test_ok(ts_case_new(&id, a, NULL, "small_ads", "patrol", "景山前街 4号", NULL, 0));
	test_ok(ts_node_commit(commit, a, "case", NULL));
	test_ok(submit(a, dc));
	merged_count = 0;
	test_ok(ts_node_merge_submissions(dc, NULL, on_submission, NULL));
	test_equal_i(merged_count, 1);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM cases WHERE id = '%s'", id);
	test_equal_i(count(dc, sql), 1);
	test_ok(pull(b, dc));
	test_ok(pull(a, dc));
	test_equal_i(count(b, sql), 1);

	/* offline, street a and its district (both may write the street's
	 * case) set the same column to different values */
	officer.value = "李娜";
	test_ok(ts_case_update(a, "王伟", id, &officer, 1));
	test_ok(ts_node_commit(commit, a, "dispatch", NULL));
	officer.value = "张伟";
	test_ok(ts_case_update(dc, "张敏", id, &officer, 1));
	test_ok(ts_node_commit(commit, dc, "dispatch", NULL));
	test_ok(submit(a, dc));
	merged_count = 0;
	test_ok(ts_node_merge_submissions(dc, NULL, on_submission, NULL));
	test_equal_i(merged_count, 1);

	/* one conflict, both values kept */
	test_equal_i(count(dc, "SELECT count(*) FROM sync_conflicts WHERE status = 'open' AND column_name = 'officer'"), 1);
	test_equal_i(count(dc, "SELECT count(*) FROM sync_conflicts WHERE ours = '\"张伟\"' AND theirs = '\"李娜\"'"), 1);
	test_ok(ts_node_verify(dc, NULL, NULL));

	/* the admin takes theirs (street a's value) */
	conflict = text(dc, "SELECT id FROM sync_conflicts WHERE column_name = 'officer'");
	test_assert(conflict != NULL);
	test_ok(ts_node_resolve(commit, dc, conflict, "theirs", NULL, "张敏"));
	snprintf(sql, sizeof(sql), "SELECT officer FROM cases WHERE id = '%s'", id);
	value = text(dc, sql);
	test_equal_s(value, "李娜");
	free(value);
	test_equal_i(count(dc, "SELECT count(*) FROM sync_conflicts WHERE status = 'resolved' AND resolved_by = '张敏'"), 1);
	nothing = ts_node_resolve(commit, dc, conflict, "ours", NULL, "张敏");
	test_equal_i(nothing, TS_EDENIED);

	/* every node pulls: one tree everywhere, each database equal to it */
	test_ok(pull(a, dc));
	test_ok(pull(b, dc));
	test_ok(tree_of(&ta, a));
	test_ok(tree_of(&tb, b));
	test_ok(tree_of(&td, dc));
	test_assert(git_oid_equal(&ta, &td));
	test_assert(git_oid_equal(&tb, &td));
	value = text(a, sql);
	test_equal_s(value, "李娜");
	free(value);
	value = text(b, sql);
	test_equal_s(value, "李娜");
	free(value);
	test_ok(ts_node_verify(a, NULL, NULL));
	test_ok(ts_node_verify(b, NULL, NULL));
	/* the losing value is still in the record on every node */
	test_equal_i(count(a, "SELECT count(*) FROM sync_conflicts WHERE ours = '\"张伟\"'"), 1);
	test_equal_i(count(b, "SELECT count(*) FROM sync_conflicts WHERE ours = '\"张伟\"'"), 1);

	free(conflict);
	free(id);
	ts_node_free(dc);
	ts_node_free(a);
	ts_node_free(b);
}

void test_integrate__staged_work_is_committed_first(void)
{
	ts_node *dc = NULL, *a = NULL;
	char *id = NULL, *id2 = NULL, commit[41], sql[256];

	test_ok(make_node(&dc, "dc", TS_TIER_DISTRICT, "bj.dc", "张敏"));
	test_ok(make_node(&a, "a", TS_TIER_STREET, "bj.dc.a", "王伟"));
	test_ok(ts_test_enrolled_above(dc));
	test_ok(ts_test_enroll(dc, a));
	test_ok(ts_case_new(&id, a, NULL, "small_ads", "patrol", "x", NULL, 0));
	free(id);
	test_ok(ts_node_commit(commit, a, "case", NULL));
	test_ok(submit(a, dc));
	test_ok(ts_node_merge_submissions(dc, NULL, NULL, NULL));
	/* work staged at the district when the next submission comes in */
	test_ok(ts_case_new(&id2, dc, NULL, "outdoor_bbq", "video", "y", NULL, 0));
	test_ok(ts_case_new(&id, a, NULL, "small_ads", "patrol", "z", NULL, 0));
	test_ok(ts_node_commit(commit, a, "another case", NULL));
	test_ok(submit(a, dc));
	test_ok(ts_node_merge_submissions(dc, NULL, NULL, NULL));
	test_ok(pull(a, dc));
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM cases WHERE id = '%s'", id2);
	test_equal_i(count(dc, sql), 1);
	test_equal_i(count(a, sql), 1);
	test_equal_i(count(dc, "SELECT count(*) FROM ts_staged"), 0);
	test_ok(ts_node_verify(dc, NULL, NULL));
	test_ok(ts_node_verify(a, NULL, NULL));
	free(id);
	free(id2);
	ts_node_free(dc);
	ts_node_free(a);
}

static int party_sql(sqlite3 *db, void *payload)
{
	return sqlite3_exec(db, payload, NULL, NULL, NULL) == SQLITE_OK ? 0 : TS_ERROR;
}

/* A street deletes a party of its case, its district corrects the party's
 * name: the row is kept meanwhile, and the administrator's choice of the
 * delete removes it. */
void test_integrate__update_delete_conflict_resolved_by_taking_a_side(void)
{
	ts_node *dc = NULL, *a = NULL;
	char *id = NULL, *conflict = NULL, commit[41], sql[512];

	test_ok(make_node(&dc, "dc", TS_TIER_DISTRICT, "bj.dc", "张敏"));
	test_ok(make_node(&a, "a", TS_TIER_STREET, "bj.dc.a", "王伟"));
	test_ok(ts_test_enrolled_above(dc));
	test_ok(ts_test_enroll(dc, a));
	test_ok(ts_case_new(&id, a, NULL, "unlicensed_vending", "patrol", "x", NULL, 0));
	snprintf(sql, sizeof(sql), "INSERT INTO parties (id, case_id, kind, name) VALUES ('bj.dc.a-p1', '%s', 'person', '赵六')", id);
	test_ok(ts_node_write(a, "王伟", "party", party_sql, sql));
	test_ok(ts_node_commit(commit, a, "case and party", NULL));
	test_ok(submit(a, dc));
	test_ok(ts_node_merge_submissions(dc, NULL, NULL, NULL));
	test_ok(pull(a, dc));

	test_ok(ts_node_write(a, "王伟", "drop", party_sql, "DELETE FROM parties WHERE id = 'bj.dc.a-p1'"));
	test_ok(ts_node_commit(commit, a, "party was a mistake", NULL));
	test_ok(ts_node_write(dc, "张敏", "fix", party_sql, "UPDATE parties SET name = '赵小六' WHERE id = 'bj.dc.a-p1'"));
	test_ok(ts_node_commit(commit, dc, "party's name", NULL));
	test_ok(submit(a, dc));
	test_ok(ts_node_merge_submissions(dc, NULL, NULL, NULL));

	/* nothing lost meanwhile: the updated row stays, the conflict waits */
	test_equal_i(count(dc, "SELECT count(*) FROM parties WHERE name = '赵小六'"), 1);
	conflict = text(dc, "SELECT id FROM sync_conflicts WHERE column_name IS NULL AND status = 'open'");
	test_assert(conflict != NULL);
	test_equal_i(ts_node_resolve(commit, dc, conflict, NULL, "x", "张敏"), TS_EINVALID);
	test_error_says("is about a whole row");
	test_equal_i(ts_node_resolve(commit, dc, conflict, NULL, NULL, "张敏"), TS_EINVALID);
	test_error_says("a resolution takes a side (ours or theirs) or a value, one of them");
	test_equal_i(ts_node_resolve(commit, dc, conflict, "mine", NULL, "张敏"), TS_EINVALID);
	test_error_says("a resolution takes a side (ours or theirs) or a value");
	test_equal_i(ts_node_resolve(commit, dc, "nosuch", "ours", NULL, "张敏"), TS_ENOTFOUND);
	test_error_says("no conflict nosuch in the review queue");
	/* the deleting side is street a: ours or theirs, whichever holds no row */
	{
		char *ours = text(dc, "SELECT ours IS NULL FROM sync_conflicts WHERE column_name IS NULL");
		test_assert(ours != NULL);
		test_ok(ts_node_resolve(commit, dc, conflict, !strcmp(ours, "1") ? "ours" : "theirs", NULL, "张敏"));
		free(ours);
	}
	test_equal_i(count(dc, "SELECT count(*) FROM parties WHERE id = 'bj.dc.a-p1'"), 0);
	test_equal_i(count(dc, "SELECT count(*) FROM sync_conflicts WHERE status = 'resolved'"), 1);
	test_ok(ts_node_verify(dc, NULL, NULL));
	free(conflict);
	free(id);
	ts_node_free(dc);
	ts_node_free(a);
}

/* The review queue as ts_node_conflicts() and ts_node_conflict() hand it
 * over: a callback's view of records, copied out (its strings live only
 * while it runs). */
typedef struct {
	char id[24], kind[24], table[32], key[96], column[32];
	char base[64], ours[64], theirs[64], provisional[64];
	char ours_commit[48], ours_node[32], theirs_commit[48], theirs_node[32];
	char resolution[16], resolved_value[64], resolved_by[32], resolved_at[40];
	ts_conflict_status status;
} conflict_copy;

typedef struct {
	conflict_copy c[16];
	int n;
	int stop_after;   /* return 7 after this many; 0: never */
} conflicts_seen;

#define COPY(field) snprintf(to->field, sizeof(to->field), "%s", c->field ? c->field : "(null)")

static int on_conflict(const ts_conflict_info *c, void *payload)
{
	conflicts_seen *s = payload;
	conflict_copy *to;

	if (s->n >= (int)(sizeof(s->c) / sizeof(s->c[0])))
		return -1;
	to = &s->c[s->n++];
	COPY(id); COPY(kind); COPY(table); COPY(key); COPY(column);
	COPY(base); COPY(ours); COPY(theirs); COPY(provisional);
	COPY(ours_commit); COPY(ours_node); COPY(theirs_commit); COPY(theirs_node);
	COPY(resolution); COPY(resolved_value); COPY(resolved_by); COPY(resolved_at);
	to->status = c->status;
	return s->stop_after && s->n == s->stop_after ? 7 : 0;
}

#undef COPY

static int walk_queue(conflicts_seen *s, ts_node *node, unsigned int status, const char *table, const char *key)
{
	ts_conflict_filter filter = TS_CONFLICT_FILTER_INIT;
	filter.status = status;
	filter.table = table;
	filter.key = key;
	memset(s, 0, sizeof(*s));
	return ts_node_conflicts(node, &filter, on_conflict, s);
}

static int is_commit_id(const char *s)
{
	return strlen(s) == 40 && strspn(s, "0123456789abcdef") == 40;
}

/* A street and its district change two columns of one case and call one
 * small-ad number with different outcomes: the merge leaves two column
 * conflicts open and the call settled by policy. The queue is read back
 * through the API, filtered by status, table and key, and a resolved
 * record reads back with who decided, here and at the street. */
void test_integrate__review_queue_read_and_filtered(void)
{
	ts_node *dc = NULL, *a = NULL;
	ts_field by_a[2] = { { "address", "甲街" }, { "description", "甲" } };
	ts_field by_dc[2] = { { "address", "乙街" }, { "description", "乙" } };
	const char *phones[1] = { "13912345678" };
	conflicts_seen s;
	ts_conflict_filter old_filter = TS_CONFLICT_FILTER_INIT;
	char *id = NULL, commit[41], address_id[24], description_id[24];
	int total, settled, i;

	test_ok(make_node(&dc, "dc", TS_TIER_DISTRICT, "bj.dc", "张敏"));
	test_ok(make_node(&a, "a", TS_TIER_STREET, "bj.dc.a", "王伟"));
	test_ok(ts_test_enrolled_above(dc));
	test_ok(ts_test_enroll(dc, a));

	/* an empty queue */
	memset(&s, 0, sizeof(s));
	test_ok(ts_node_conflicts(dc, NULL, on_conflict, &s));
	test_equal_i(s.n, 0);

	test_ok(ts_case_new(&id, a, NULL, "small_ads", "patrol", "景山前街 4号", NULL, 0));
	test_ok(ts_ads_add(a, "王伟", id, phones, 1));
	test_ok(ts_node_commit(commit, a, "case", NULL));
	test_ok(submit(a, dc));
	test_ok(ts_node_merge_submissions(dc, NULL, NULL, NULL));
	test_ok(pull(a, dc));

	test_ok(ts_case_update(a, "王伟", id, by_a, 2));
	test_ok(ts_ads_warn(NULL, a, "王伟", phones[0], "unreachable"));
	test_ok(ts_node_commit(commit, a, "edit", NULL));
	test_ok(ts_case_update(dc, "张敏", id, by_dc, 2));
	test_ok(ts_ads_warn(NULL, dc, "张区", phones[0], "warned"));
	test_ok(ts_node_commit(commit, dc, "edit", NULL));
	test_ok(submit(a, dc));
	test_ok(ts_node_merge_submissions(dc, NULL, NULL, NULL));

	total = count(dc, "SELECT count(*) FROM sync_conflicts");
	settled = count(dc, "SELECT count(*) FROM sync_conflicts WHERE status = 'settled'");
	test_assert(settled >= 1);
	test_equal_i(total, 2 + settled);

	/* no filter, and a filter restricting nothing: every record */
	memset(&s, 0, sizeof(s));
	test_ok(ts_node_conflicts(dc, NULL, on_conflict, &s));
	test_equal_i(s.n, total);
	test_ok(walk_queue(&s, dc, 0, NULL, NULL));
	test_equal_i(s.n, total);
	test_ok(walk_queue(&s, dc, TS_CONFLICT_ALL, NULL, NULL));
	test_equal_i(s.n, total);

	/* the open ones: both columns of the case, in column order, each side
	 * with its value and origin */
	test_ok(walk_queue(&s, dc, TS_CONFLICT_OPEN, NULL, NULL));
	test_equal_i(s.n, 2);
	for (i = 0; i < 2; i++) {
		test_equal_i(s.c[i].status, TS_CONFLICT_OPEN);
		test_equal_s(s.c[i].kind, "column");
		test_equal_s(s.c[i].table, "cases");
		test_equal_s(s.c[i].key, id);
		test_equal_s(s.c[i].ours_node, "bj.dc");
		test_equal_s(s.c[i].theirs_node, "bj.dc.a");
		test_assert(is_commit_id(s.c[i].ours_commit));
		test_assert(is_commit_id(s.c[i].theirs_commit));
		test_equal_s(s.c[i].resolution, "(null)");
		test_equal_s(s.c[i].resolved_value, "(null)");
		test_equal_s(s.c[i].resolved_by, "(null)");
		test_equal_s(s.c[i].resolved_at, "(null)");
	}
	test_equal_s(s.c[0].column, "address");
	test_equal_s(s.c[0].base, "\"景山前街 4号\"");
	test_equal_s(s.c[0].ours, "\"乙街\"");
	test_equal_s(s.c[0].theirs, "\"甲街\"");
	test_assert(!strcmp(s.c[0].provisional, "\"乙街\"") || !strcmp(s.c[0].provisional, "\"甲街\""));
	test_equal_s(s.c[1].column, "description");
	test_equal_s(s.c[1].base, "null");
	test_equal_s(s.c[1].ours, "\"乙\"");
	test_equal_s(s.c[1].theirs, "\"甲\"");
	snprintf(address_id, sizeof(address_id), "%s", s.c[0].id);
	snprintf(description_id, sizeof(description_id), "%s", s.c[1].id);

	/* settled by policy: the call, in its own table */
	test_ok(walk_queue(&s, dc, TS_CONFLICT_SETTLED, NULL, NULL));
	test_equal_i(s.n, settled);
	for (i = 0; i < s.n; i++) {
		test_equal_i(s.c[i].status, TS_CONFLICT_SETTLED);
		test_equal_s(s.c[i].table, "small_ad_phones");
	}
	test_ok(walk_queue(&s, dc, TS_CONFLICT_OPEN | TS_CONFLICT_SETTLED, NULL, NULL));
	test_equal_i(s.n, total);
	test_ok(walk_queue(&s, dc, TS_CONFLICT_RESOLVED, NULL, NULL));
	test_equal_i(s.n, 0);

	/* by table and by key */
	test_ok(walk_queue(&s, dc, 0, "small_ad_phones", NULL));
	test_equal_i(s.n, settled);
	test_ok(walk_queue(&s, dc, TS_CONFLICT_OPEN, "small_ad_phones", NULL));
	test_equal_i(s.n, 0);
	test_ok(walk_queue(&s, dc, 0, "cases", id));
	test_equal_i(s.n, 2);
	test_ok(walk_queue(&s, dc, 0, NULL, id));
	test_equal_i(s.n, 2);
	test_ok(walk_queue(&s, dc, 0, NULL, "no such key"));
	test_equal_i(s.n, 0);
	test_ok(walk_queue(&s, dc, 0, "no_such_table", NULL));
	test_equal_i(s.n, 0);

	/* the callback stops the walk, and its value comes back */
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	test_equal_i(ts_node_conflicts(dc, NULL, on_conflict, &s), 7);
	test_equal_i(s.n, 1);
	/* a filter of another version is refused */
	old_filter.version = 0;
	test_equal_i(ts_node_conflicts(dc, &old_filter, on_conflict, &s), TS_EINVALID);

	/* one record by id */
	memset(&s, 0, sizeof(s));
	test_ok(ts_node_conflict(dc, address_id, on_conflict, &s));
	test_equal_i(s.n, 1);
	test_equal_s(s.c[0].id, address_id);
	test_equal_s(s.c[0].column, "address");
	test_equal_i(ts_node_conflict(dc, "k0000000000000000", on_conflict, &s), TS_ENOTFOUND);
	test_ok(ts_node_conflict(dc, address_id, NULL, NULL));

	/* resolved, by a side and by a value, and read back */
	test_ok(ts_node_resolve(commit, dc, address_id, "theirs", NULL, "张敏"));
	test_ok(ts_node_resolve(commit, dc, description_id, NULL, "丙", "张敏"));
	memset(&s, 0, sizeof(s));
	test_ok(ts_node_conflict(dc, address_id, on_conflict, &s));
	test_equal_i(s.c[0].status, TS_CONFLICT_RESOLVED);
	test_equal_s(s.c[0].resolution, "theirs");
	test_equal_s(s.c[0].resolved_value, "\"甲街\"");
	test_equal_s(s.c[0].resolved_by, "张敏");
	test_equal_i(strlen(s.c[0].resolved_at), strlen("2015-05-22T10:00:00+08:00"));
	test_equal_s(s.c[0].ours, "\"乙街\"");   /* the losing value stays in the record */
	test_ok(walk_queue(&s, dc, TS_CONFLICT_OPEN, NULL, NULL));
	test_equal_i(s.n, 0);
	test_ok(walk_queue(&s, dc, TS_CONFLICT_RESOLVED, NULL, NULL));
	test_equal_i(s.n, 2);
	test_equal_s(s.c[1].id, description_id);
	test_equal_s(s.c[1].resolution, "value");
	test_equal_s(s.c[1].resolved_value, "丙");
	test_equal_s(s.c[1].resolved_by, "张敏");

	/* the street pulls: the same records, resolved, through its own node */
	test_ok(pull(a, dc));
	test_ok(walk_queue(&s, a, TS_CONFLICT_RESOLVED, "cases", id));
	test_equal_i(s.n, 2);
	test_equal_s(s.c[0].id, address_id);
	test_equal_s(s.c[0].resolved_by, "张敏");
	test_equal_s(s.c[1].resolved_value, "丙");

	free(id);
	ts_node_free(dc);
	ts_node_free(a);
}

/* The names the public enums print as, and the commit message a merge
 * gets when it is given none. */
void test_integrate__merge_result_and_default_message(void)
{
	ts_node *dc = NULL, *a = NULL;
	ts_node_merge_stats stats;
	git_commit *head_commit = NULL;
	git_oid head;
	char *id = NULL, commit[41];

	test_equal_s(ts_merge_result_name(TS_MERGE_UP_TO_DATE), "up to date");
	test_equal_s(ts_merge_result_name(TS_MERGE_FAST_FORWARD), "fast-forward");
	test_equal_s(ts_merge_result_name(TS_MERGE_MERGED), "merged");
	test_assert(ts_merge_result_name((ts_merge_result)42) == NULL);
	test_equal_s(ts_conflict_status_name(TS_CONFLICT_OPEN), "open");
	test_equal_s(ts_conflict_status_name(TS_CONFLICT_SETTLED), "settled");
	test_equal_s(ts_conflict_status_name(TS_CONFLICT_RESOLVED), "resolved");
	test_assert(ts_conflict_status_name((ts_conflict_status)TS_CONFLICT_ALL) == NULL);

	test_ok(make_node(&dc, "dc", TS_TIER_DISTRICT, "bj.dc", "张敏"));
	test_ok(make_node(&a, "a", TS_TIER_STREET, "bj.dc.a", "王伟"));
	test_ok(ts_test_enrolled_above(dc));
	test_ok(ts_test_enroll(dc, a));
	test_ok(ts_case_new(&id, dc, NULL, "outdoor_bbq", "video", "y", NULL, 0));
	free(id);
	test_ok(ts_node_commit(commit, dc, "district case", NULL));
	test_ok(ts_case_new(&id, a, NULL, "small_ads", "patrol", "x", NULL, 0));
	free(id);
	test_ok(ts_node_commit(commit, a, "street case", NULL));
	test_ok(ts_test_transfer(dc, a, "refs/remotes/upstream/main"));

	memset(&stats, 0xff, sizeof(stats));
	test_ok(ts_node_merge(commit, &stats, a, "refs/remotes/upstream/main", NULL, NULL));
	test_equal_i(stats.result, TS_MERGE_MERGED);
	test_assert(stats.rows_written > 0);
	test_equal_i(stats.rows_deleted, 0);
	test_equal_i(stats.conflicts, 0);
	test_equal_i(stats.settled, 0);
	test_equal_i(stats.constraint_conflicts, 0);
	test_ok(git_oid_fromstr(&head, commit));
	test_ok(git_commit_lookup(&head_commit, ts_store__repo(a->store), &head));
	test_equal_s(git_commit_message(head_commit), "merge refs/remotes/upstream/main\n");
	test_equal_i(git_commit_parentcount(head_commit), 2);
	git_commit_free(head_commit);

	/* again: nothing new */
	test_ok(ts_node_merge(commit, &stats, a, "refs/remotes/upstream/main", NULL, NULL));
	test_equal_i(stats.result, TS_MERGE_UP_TO_DATE);
	test_equal_i(stats.rows_written, 0);
	/* an unknown revision: nothing written, the stats zero */
	memset(&stats, 0xff, sizeof(stats));
	test_equal_i(ts_node_merge(commit, &stats, a, "refs/remotes/nowhere/main", NULL, NULL), TS_ENOTFOUND);
	test_equal_s(commit, "");
	test_equal_i(stats.rows_written, 0);
	ts_node_free(dc);
	ts_node_free(a);

	/* a node with no identity merges only when someone is named */
	test_ok(make_node(&a, "anon", TS_TIER_STREET, "bj.dc.b", NULL));
	test_equal_i(ts_node_merge(commit, &stats, a, "HEAD", NULL, NULL), TS_EINVALID);
	test_error_says("no author: name who merges, or set the node's identity (user.name in its config)");
	test_equal_s(commit, "");
	ts_node_free(a);
}

/*
 * One device of a street records a check of a responsibility zone of the
 * street that the street's other device meanwhile deleted (both act for
 * their street): the street's merge keeps the check and records it, once.
 * Submissions merge in name order, so with the checker bj.dc.a.d1 the check
 * comes first and the delete finds it; with bj.dc.a.d2 the delete comes
 * first and the check is found missing its zone.
 */
static void zone_checked_while_deleted(int d1_checks)
{
	ts_node *st = NULL, *d1 = NULL, *d2 = NULL, *checker, *deleter;
	char commit[41], *conflict = NULL;

	test_ok(make_node(&st, "a", TS_TIER_STREET, "bj.dc.a", "王伟"));
	test_ok(make_node(&d1, "d1", TS_TIER_DEVICE, "bj.dc.a.d1", "李娜"));
	test_ok(make_node(&d2, "d2", TS_TIER_DEVICE, "bj.dc.a.d2", "赵强"));
	test_ok(ts_test_enroll(st, d1));
	test_ok(ts_test_enroll(st, d2));
	checker = d1_checks ? d1 : d2;
	deleter = d1_checks ? d2 : d1;
	test_ok(ts_node_write(checker, NULL, "zone", party_sql,
		"INSERT INTO responsibility_zones (id, unit, address, jurisdiction) "
		"VALUES ('z1', '老王面馆', '景山前街 9号', 'bj.dc.a')"));
	test_ok(ts_node_commit(commit, checker, "zone", NULL));
	test_ok(submit(checker, st));
	test_ok(ts_node_merge_submissions(st, NULL, NULL, NULL));
	test_ok(pull(deleter, st));

	test_ok(ts_node_write(checker, NULL, "check", party_sql,
		"INSERT INTO responsibility_checks (id, zone_id, checked_at, met, checker) "
		"VALUES ('k1', 'z1', '2015-05-22T10:00:00+08:00', 1, '王伟')"));
	test_ok(ts_node_commit(commit, checker, "check", NULL));
	test_ok(ts_node_write(deleter, NULL, "drop zone", party_sql, "DELETE FROM responsibility_zones"));
	test_ok(ts_node_commit(commit, deleter, "zone closed", NULL));
	test_ok(submit(d2, st));
	test_ok(submit(d1, st));
	test_ok(ts_node_merge_submissions(st, NULL, NULL, NULL));

	test_equal_i(count(st, "SELECT count(*) FROM responsibility_checks"), 1);
	test_equal_i(count(st, "SELECT count(*) FROM responsibility_zones"), 0);
	test_equal_i(count(st, "SELECT count(*) FROM sync_conflicts WHERE kind = 'constraint'"), 1);
	test_equal_i(count(st, "SELECT count(*) FROM sync_conflicts WHERE kind = 'constraint' "
		"AND table_name = 'responsibility_checks' AND column_name = 'zone_id'"), 1);
	/* a broken reference is mended by a value, not by taking a side */
	conflict = text(st, "SELECT id FROM sync_conflicts WHERE kind = 'constraint'");
	test_assert(conflict != NULL);
	test_equal_i(ts_node_resolve(commit, st, conflict, "theirs", NULL, "李街"), TS_EINVALID);
	free(conflict);
	test_error_says(": set the column to a value (an existing record, or NULL where allowed)");
	test_ok(ts_node_verify(st, NULL, NULL));
	ts_node_free(st);
	ts_node_free(d1);
	ts_node_free(d2);
}

void test_integrate__broken_reference_recorded(void)
{
	zone_checked_while_deleted(1);
}

/* The other order; and a table naming itself (a district key area carrying
 * a city one, both written by the city and taken in one merge by the
 * district) is checked against its own rows, without a false alarm. */
void test_integrate__broken_reference_found_from_either_side(void)
{
	ts_node *city = NULL, *dc = NULL;
	char *id = NULL, commit[41];

	zone_checked_while_deleted(0);

	test_ok(make_node(&city, "bj", TS_TIER_CITY, "bj", "黄磊"));
	test_ok(make_node(&dc, "dc", TS_TIER_DISTRICT, "bj.dc", "张敏"));
	test_ok(ts_test_enroll(city, dc));
	test_ok(ts_node_write(city, NULL, "key areas", party_sql,
		"INSERT INTO key_areas (id, level, owner_node, name, listed_at) "
		"VALUES ('bj-k1', 'city', 'bj', '前门', '2015-05-22T10:00:00+08:00');"
		"INSERT INTO key_areas (id, level, owner_node, city_key_area_id, name, listed_at) "
		"VALUES ('bj.dc-k1', 'district', 'bj.dc', 'bj-k1', '前门', '2015-05-22T10:00:00+08:00')"));
	test_ok(ts_node_commit(commit, city, "key areas", NULL));
	/* the district has work of its own: the pull is a merge */
	test_ok(ts_case_new(&id, dc, NULL, "outdoor_bbq", "video", "景山后街", NULL, 0));
	test_ok(ts_node_commit(commit, dc, "district case", NULL));
	test_ok(pull(dc, city));
	test_equal_i(count(dc, "SELECT count(*) FROM key_areas"), 2);
	test_equal_i(count(dc, "SELECT count(*) FROM sync_conflicts"), 0);
	test_ok(ts_node_verify(dc, NULL, NULL));
	free(id);
	ts_node_free(city);
	ts_node_free(dc);
}

/* The integration as a second process of the node sees it: local writes
 * staged while it runs are not merged but laid over the result. */
static int integrate_upstream(ts_node *node)
{
	ts_store_who author, committer;
	ts_integrate_stats stats;
	git_oid theirs, head;
	int error;

	if ((error = git_reference_name_to_id(&theirs, ts_store__repo(node->store), "refs/remotes/upstream/main")) < 0)
		return error;
	ts_node__who(&author, node->id, "王伟", ts_node__now());
	ts_node__who(&committer, node->id, node->id, ts_node__now());
	return ts_integrate(&head, &stats, node->db, node->store, &theirs, &author, &committer, "pull\n", NULL, NULL,
		NULL);
}

void test_integrate__staged_writes_are_rebased_onto_the_result(void)
{
	ts_node *dc = NULL, *a = NULL;
	ts_field by_dc[2] = { { "officer", "李娜" }, { "description", "b 的描述" } };
	ts_field by_a[2] = { { "description", "a 的描述" }, { "address", "景山前街 6号" } };
	char *id = NULL, *gone = NULL, *local = NULL, commit[41], sql[512];
	char *v = NULL;

	test_ok(make_node(&dc, "dc", TS_TIER_DISTRICT, "bj.dc", "张敏"));
	test_ok(make_node(&a, "a", TS_TIER_STREET, "bj.dc.a", "王伟"));
	test_ok(ts_test_enrolled_above(dc));
	test_ok(ts_test_enroll(dc, a));
	test_ok(ts_case_new(&id, a, NULL, "small_ads", "patrol", "景山前街 4号", NULL, 0));
	test_ok(ts_case_new(&gone, a, NULL, "small_ads", "patrol", "景山前街 5号", NULL, 0));
	snprintf(sql, sizeof(sql), "INSERT INTO parties (id, case_id, kind, name) VALUES ('p1', '%s', 'person', '甲')", gone);
	test_ok(ts_node_write(a, NULL, "party", party_sql, sql));
	test_ok(ts_node_commit(commit, a, "cases", NULL));
	test_ok(submit(a, dc));
	test_ok(ts_node_merge_submissions(dc, NULL, NULL, NULL));

	/* the district changes the street's case and deletes the party */
	test_ok(ts_case_update(dc, NULL, id, by_dc, 2));
	test_ok(ts_node_write(dc, NULL, "drop party", party_sql, "DELETE FROM parties WHERE id = 'p1'"));
	test_ok(ts_node_commit(commit, dc, "dc", NULL));

	/* street a has work staged when the district's main comes in: a column
	 * the district changed too, one it left alone, a new case, and the
	 * party it deleted */
	test_ok(ts_case_update(a, NULL, id, by_a, 2));
	test_ok(ts_case_new(&local, a, NULL, "outdoor_bbq", "video", "景山后街", NULL, 0));
	test_ok(ts_node_write(a, NULL, "rename party", party_sql, "UPDATE parties SET name = '乙' WHERE id = 'p1'"));
	test_ok(ts_test_transfer(dc, a, "refs/remotes/upstream/main"));
	test_ok(integrate_upstream(a));

	/* the merge is in; the staged writes are still staged, and win */
	snprintf(sql, sizeof(sql), "SELECT officer || '|' || description || '|' || address FROM cases WHERE id = '%s'", id);
	test_equal_s(v = text(a, sql), "李娜|a 的描述|景山前街 6号");
	free(v);
	test_equal_i(count(a, "SELECT count(*) FROM ts_staged"), 3);
	test_equal_i(count(a, "SELECT count(*) FROM parties WHERE id = 'p1' AND name = '乙'"), 1);
	test_ok(ts_node_verify(a, NULL, NULL));

	/* committed, they are history on top of the merge */
	test_ok(ts_node_commit(commit, a, "local work", NULL));
	test_equal_i(count(a, "SELECT count(*) FROM ts_staged"), 0);
	test_ok(ts_node_verify(a, NULL, NULL));
	test_equal_s(v = text(a, sql), "李娜|a 的描述|景山前街 6号");
	free(v);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM cases WHERE id = '%s'", local);
	test_equal_i(count(a, sql), 1);
	free(id);
	free(gone);
	free(local);
	ts_node_free(dc);
	ts_node_free(a);
}

/* What a killed pull leaves: the mark, and the rows of the upstream's
 * main applied over the head's (staged writes included). */
static int leave_apply_unfinished(ts_node *node)
{
	git_oid theirs, ours_tree, theirs_tree;
	ts_tables *tables = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	int error;

	if ((error = git_reference_name_to_id(&theirs, ts_store__repo(node->store), "refs/remotes/upstream/main")) < 0 ||
	    (error = tree_of(&ours_tree, node)) < 0 ||
	    (error = ts_store__commit_tree(&theirs_tree, node->store, &theirs)) < 0 ||
	    (error = ts_tables__load(&tables, node->db)) < 0)
		return error;
	git_oid_tostr(hex, sizeof(hex), &theirs_tree);
	if ((error = sqlite3_exec(node->db, "PRAGMA foreign_keys = OFF; BEGIN IMMEDIATE", NULL, NULL, NULL)) == 0 &&
	    (error = ts_meta__set(node->db, "applying", hex)) == 0 &&
	    (error = ts_apply(NULL, node->db, ts_store__repo(node->store), tables, &ours_tree, &theirs_tree)) == 0)
		error = sqlite3_exec(node->db, "COMMIT", NULL, NULL, NULL);
	sqlite3_exec(node->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	ts_tables__free(tables);
	return error;
}

/* A process that dies in the middle of an apply leaves the database partly
 * moved; the next open puts it back on its head, staged work kept. */
void test_integrate__interrupted_apply_is_undone_on_open(void)
{
	ts_node *dc = NULL, *a = NULL;
	ts_field note = { "description", "本地备注" };
	char *id = NULL, *other = NULL, commit[41], sql[256], *v = NULL;
	int before;

	test_ok(make_node(&dc, "dc", TS_TIER_DISTRICT, "bj.dc", "张敏"));
	test_ok(make_node(&a, "a", TS_TIER_STREET, "bj.dc.a", "王伟"));
	test_ok(ts_test_enrolled_above(dc));
	test_ok(ts_test_enroll(dc, a));
	test_ok(ts_case_new(&id, a, NULL, "small_ads", "patrol", "景山前街 4号", NULL, 0));
	test_ok(ts_node_commit(commit, a, "case", NULL));
	test_ok(submit(a, dc));
	test_ok(ts_node_merge_submissions(dc, NULL, NULL, NULL));
	test_ok(ts_case_new(&other, dc, NULL, "outdoor_bbq", "video", "景山后街", NULL, 0));
	test_ok(ts_node_commit(commit, dc, "district case", NULL));
	test_ok(ts_test_transfer(dc, a, "refs/remotes/upstream/main"));
	test_ok(ts_case_update(a, NULL, id, &note, 1));
	before = count(a, "SELECT count(*) FROM cases");

	/* what a killed integration leaves: the mark and rows of the target */
	test_ok(leave_apply_unfinished(a));
	test_equal_i(count(a, "SELECT count(*) FROM cases"), before + 1);
	test_assert(ts_node_verify(a, NULL, NULL) != 0);
	ts_node_free(a);

	test_ok(ts_node_open(&a, "a"));
	test_assert(ts_node_repaired(a));
	test_equal_i(count(a, "SELECT count(*) FROM cases"), before);
	test_equal_i(count(a, "SELECT count(*) FROM ts_meta WHERE key = 'applying' AND value IS NOT NULL"), 0);
	snprintf(sql, sizeof(sql), "SELECT description FROM cases WHERE id = '%s'", id);
	test_equal_s(v = text(a, sql), "本地备注");
	free(v);
	test_ok(ts_node_verify(a, NULL, NULL));
	/* and the pull, run again, goes through */
	test_ok(pull(a, dc));
	test_equal_i(count(a, "SELECT count(*) FROM cases"), before + 1);
	test_ok(ts_node_verify(a, NULL, NULL));
	free(id);
	free(other);
	ts_node_free(dc);
	ts_node_free(a);
}

static int many_cases(sqlite3 *db, void *payload)
{
	char sql[1024];
	snprintf(sql, sizeof(sql),
		"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) "
		"INSERT INTO cases (id, source, category, address, jurisdiction, reported_at, deadline, created_by_node) "
		"SELECT printf('bj.dc-c20150601-%%d', i), 'patrol', 'outdoor_bbq', printf('地安门外大街 %%d号', i), "
		"'bj.dc', '2015-06-01T09:00:00+08:00', '2015-06-02T09:00:00+08:00', 'bj.dc' FROM n",
		*(int *)payload);
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : TS_ERROR;
}

/* Waits (up to 30 s) until the node's database says an apply is under way. */
static int wait_for_apply(const char *db_path)
{
	sqlite3 *db = NULL;
	int i, seen = 0;

	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return 0;
	}
	for (i = 0; i < 30000 && !seen; i++) {
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(db, "SELECT 1 FROM ts_meta WHERE key = 'applying' AND value IS NOT NULL",
				-1, &st, NULL) == SQLITE_OK)
			seen = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
		if (!seen)
			usleep(1000);
	}
	sqlite3_close(db);
	return seen;
}

/* A pull killed (kill -9) at several points of its apply: each time the
 * next open finds the database as it was, local work staged meanwhile
 * kept; the pull then goes through. */
void test_integrate__killed_pull_is_undone(void)
{
	static const int kill_after_ms[] = { 0, 10, 60 };   /* after the apply began */
	ts_node *dc = NULL, *a = NULL;
	ts_field note = { "description", "拉取中登记" };
	char *id = NULL, commit[41], sql[256];
	int n = 12000, before, round, undone = 0;

	test_ok(make_node(&dc, "dc", TS_TIER_DISTRICT, "bj.dc", "张敏"));
	test_ok(make_node(&a, "a", TS_TIER_STREET, "bj.dc.a", "王伟"));
	test_ok(ts_test_enrolled_above(dc));
	test_ok(ts_test_enroll(dc, a));
	test_ok(ts_node_write(dc, NULL, "many cases", many_cases, &n));
	test_ok(ts_node_commit(commit, dc, "district cases", NULL));
	test_ok(ts_case_new(&id, a, NULL, "small_ads", "patrol", "景山前街 4号", NULL, 0));
	test_ok(ts_node_commit(commit, a, "case", NULL));
	test_ok(ts_test_transfer(dc, a, "refs/remotes/upstream/main"));
	test_ok(ts_case_update(a, NULL, id, &note, 1));
	before = count(a, "SELECT count(*) FROM cases");
	ts_node_free(a);
	a = NULL;
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM cases WHERE id = '%s' AND description = '拉取中登记'", id);

	for (round = 0; round < (int)(sizeof(kill_after_ms) / sizeof(kill_after_ms[0])); round++) {
		ts_node_merge_stats stats;
		int status;
		pid_t pid;

		fflush(NULL);
		if ((pid = fork()) == 0) {
			ts_node *child = NULL;
			char head[41];
			if (ts_node_open(&child, "a") < 0 ||
			    ts_node_merge(head, &stats, child, "refs/remotes/upstream/main", "王伟", "pull\n") < 0)
				_exit(1);
			_exit(0);
		}
		test_assert(pid > 0);
		test_assert(wait_for_apply("a/tiersync.db"));
		usleep(kill_after_ms[round] * 1000);
		kill(pid, SIGKILL);
		test_assert(waitpid(pid, &status, 0) == pid);
		test_ok(ts_node_open(&a, "a"));
		test_ok(ts_node_verify(a, NULL, NULL));
		if (!WIFSIGNALED(status) ||
		    (!ts_node_repaired(a) && count(a, "SELECT count(*) FROM cases") == before + n)) {
			/* a fast machine finished first (or all but its exit): every row is in */
			test_equal_i(count(a, "SELECT count(*) FROM cases"), before + n);
			break;
		}
		test_assert(ts_node_repaired(a));
		undone++;
		test_equal_i(count(a, "SELECT count(*) FROM cases"), before);
		/* the merge commits staged work first: the note is staged or committed */
		test_equal_i(count(a, sql), 1);
		ts_node_free(a);
		a = NULL;
	}
	test_assert(undone >= 1);   /* killed right as it began, at least */
	if (!a)
		test_ok(ts_node_open(&a, "a"));
	test_ok(pull(a, dc));
	test_ok(ts_node_verify(a, NULL, NULL));
	test_equal_i(count(a, "SELECT count(*) FROM cases"), before + n);
	test_equal_i(count(a, sql), 1);
	free(id);
	ts_node_free(dc);
	ts_node_free(a);
}

/* Street a records a case, the district takes it and describes it; a has
 * fetched the district's main (not merged yet). */
static int case_described_upstream(ts_node **dc, ts_node **a, char **id, const char *description)
{
	char commit[41], sql[512];
	int error;

	snprintf(sql, sizeof(sql), "UPDATE cases SET description = '%s' WHERE id = ", description);
	if ((error = make_node(dc, "dc", TS_TIER_DISTRICT, "bj.dc", "张敏")) < 0 ||
	    (error = make_node(a, "a", TS_TIER_STREET, "bj.dc.a", "王伟")) < 0 ||
	    (error = ts_test_enrolled_above(*dc)) < 0 ||
	    (error = ts_test_enroll(*dc, *a)) < 0 ||
	    (error = ts_case_new(id, *a, NULL, "small_ads", "patrol", "景山前街 4号", NULL, 0)) < 0 ||
	    (error = ts_node_commit(commit, *a, "case", NULL)) < 0 ||
	    (error = submit(*a, *dc)) < 0 ||
	    (error = ts_node_merge_submissions(*dc, NULL, NULL, NULL)) < 0)
		return error;
	snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), "'%s'", *id);
	if ((error = ts_node_write(*dc, NULL, "description", party_sql, sql)) < 0 ||
	    (error = ts_node_commit(commit, *dc, "district description", NULL)) < 0)
		return error;
	return ts_test_transfer(*dc, *a, "refs/remotes/upstream/main");
}

/* Two staged writes that cancel out (a field set and set back) combine to
 * nothing, but the apply left their row: it must still take the merged row. */
void test_integrate__staged_writes_that_cancel_out(void)
{
	ts_node *dc = NULL, *a = NULL;
	char *id = NULL, commit[41], sql[512], *v = NULL;

	test_ok(case_described_upstream(&dc, &a, &id, "区里写的"));

	/* street a: address changed and changed back, staged while the pull runs */
	snprintf(sql, sizeof(sql), "UPDATE cases SET address = '临时' WHERE id = '%s'", id);
	test_ok(ts_node_write(a, NULL, "addr", party_sql, sql));
	snprintf(sql, sizeof(sql), "UPDATE cases SET address = '景山前街 4号' WHERE id = '%s'", id);
	test_ok(ts_node_write(a, NULL, "addr back", party_sql, sql));
	test_ok(integrate_upstream(a));

	snprintf(sql, sizeof(sql), "SELECT coalesce(description, '(null)') FROM cases WHERE id = '%s'", id);
	test_equal_s(v = text(a, sql), "区里写的");
	free(v);
	test_ok(ts_node_verify(a, NULL, NULL));
	test_ok(ts_node_commit(commit, a, "local work", NULL));
	test_ok(pull(dc, a));   /* the district takes the street's main */
	v = text(dc, sql);
	test_equal_s(v, "区里写的");
	free(v);
	free(id);
	ts_node_free(dc);
	ts_node_free(a);
}

/* The merge points k1 at a zone ours deleted: recorded, whether or not a
 * local write staged on k1 made the apply leave its row. */
static void zone_moved_to_a_deleted_one(int staged, int *out)
{
	ts_node *dc = NULL, *a = NULL;
	char commit[41];
	int n;

	test_ok(make_node(&dc, "dc", TS_TIER_DISTRICT, "bj.dc", "张敏"));
	test_ok(make_node(&a, "a", TS_TIER_STREET, "bj.dc.a", "王伟"));
	test_ok(ts_test_enrolled_above(dc));
	test_ok(ts_test_enroll(dc, a));
	test_ok(ts_node_write(a, NULL, "zones", party_sql,
		"INSERT INTO responsibility_zones (id, unit, address, jurisdiction) VALUES "
		"('z1', '甲', '景山前街 9号', 'bj.dc.a'), ('z2', '乙', '景山前街 10号', 'bj.dc.a');"
		"INSERT INTO responsibility_checks (id, zone_id, checked_at, met, checker) "
		"VALUES ('k1', 'z1', '2015-05-22T10:00:00+08:00', 1, '王伟')"));
	test_ok(ts_node_commit(commit, a, "zones", NULL));
	test_ok(submit(a, dc));
	test_ok(ts_node_merge_submissions(dc, NULL, NULL, NULL));
	test_ok(ts_node_write(a, NULL, "drop z2", party_sql, "DELETE FROM responsibility_zones WHERE id = 'z2'"));
	test_ok(ts_node_commit(commit, a, "z2 closed", NULL));
	test_ok(ts_node_write(dc, NULL, "move k1", party_sql, "UPDATE responsibility_checks SET zone_id = 'z2' WHERE id = 'k1'"));
	test_ok(ts_node_commit(commit, dc, "k1 to z2", NULL));
	test_ok(ts_test_transfer(dc, a, "refs/remotes/upstream/main"));
	if (staged)
		test_ok(ts_node_write(a, NULL, "note", party_sql, "UPDATE responsibility_checks SET note = '复查' WHERE id = 'k1'"));
	test_ok(integrate_upstream(a));
	n = count(a, "SELECT count(*) FROM sync_conflicts WHERE kind = 'constraint' AND table_name = 'responsibility_checks'");
	test_ok(ts_node_verify(a, NULL, NULL));
	*out = n;
	ts_node_free(dc);
	ts_node_free(a);
}

void test_integrate__broken_reference_recorded_on_a_moved_row(void)
{
	int n = -1;
	zone_moved_to_a_deleted_one(0, &n);
	test_equal_i(n, 1);
}

void test_integrate__broken_reference_recorded_on_a_row_of_staged_work(void)
{
	int n = -1;
	zone_moved_to_a_deleted_one(1, &n);
	test_equal_i(n, 1);
}

/* A mark left by an apply whose undo failed too: the next merge in the
 * same process undoes it first, and does not build on the partial rows. */
void test_integrate__leftover_apply_undone_before_the_next_merge(void)
{
	ts_node *dc = NULL, *a = NULL;
	char *id = NULL, *y = NULL, commit[41], sql[256];

	test_ok(case_described_upstream(&dc, &a, &id, "暂记"));

	/* an apply toward dc's first tree, stopped, its undo failed */
	test_ok(leave_apply_unfinished(a));

	/* dc meanwhile drops X again and adds Y; the same process pulls */
	snprintf(sql, sizeof(sql), "UPDATE cases SET description = NULL WHERE id = '%s'", id);
	test_ok(ts_node_write(dc, NULL, "untmp", party_sql, sql));
	test_ok(ts_case_new(&y, dc, NULL, "outdoor_bbq", "video", "景山后街 2号", NULL, 0));
	test_ok(ts_node_commit(commit, dc, "no X, Y", NULL));
	test_ok(pull(a, dc));
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM cases WHERE id = '%s' AND description = '暂记'", id);
	test_equal_i(count(a, sql), 0);
	test_equal_i(count(a, "SELECT count(*) FROM ts_meta WHERE key = 'applying' AND value IS NOT NULL"), 0);
	test_ok(ts_node_verify(a, NULL, NULL));
	free(id);
	free(y);
	ts_node_free(dc);
	ts_node_free(a);
}

/* Theirs moves k1 from z1 to z2 and deletes z1, while a local write is
 * staged on k1: the check sees k1 as merged, naming z2, and records nothing. */
void test_integrate__no_false_broken_reference_on_a_row_of_staged_work(void)
{
	ts_node *dc = NULL, *a = NULL;
	char commit[41];

	test_ok(make_node(&dc, "dc", TS_TIER_DISTRICT, "bj.dc", "张敏"));
	test_ok(make_node(&a, "a", TS_TIER_STREET, "bj.dc.a", "王伟"));
	test_ok(ts_test_enrolled_above(dc));
	test_ok(ts_test_enroll(dc, a));
	test_ok(ts_node_write(a, NULL, "zones", party_sql,
		"INSERT INTO responsibility_zones (id, unit, address, jurisdiction) VALUES "
		"('z1', '甲', '景山前街 9号', 'bj.dc.a'), ('z2', '乙', '景山前街 10号', 'bj.dc.a');"
		"INSERT INTO responsibility_checks (id, zone_id, checked_at, met, checker) "
		"VALUES ('k1', 'z1', '2015-05-22T10:00:00+08:00', 1, '王伟')"));
	test_ok(ts_node_commit(commit, a, "zones", NULL));
	test_ok(submit(a, dc));
	test_ok(ts_node_merge_submissions(dc, NULL, NULL, NULL));
	test_ok(ts_node_write(dc, NULL, "move k1, drop z1", party_sql,
		"UPDATE responsibility_checks SET zone_id = 'z2' WHERE id = 'k1';"
		"DELETE FROM responsibility_zones WHERE id = 'z1'"));
	test_ok(ts_node_commit(commit, dc, "k1 to z2", NULL));
	test_ok(ts_node_write(a, NULL, "z3", party_sql, "INSERT INTO responsibility_zones (id, unit, address, jurisdiction) "
		"VALUES ('z3', '丙', '景山前街 11号', 'bj.dc.a')"));
	test_ok(ts_node_commit(commit, a, "z3", NULL));   /* a merge, not a fast-forward */
	test_ok(ts_test_transfer(dc, a, "refs/remotes/upstream/main"));
	test_ok(ts_node_write(a, NULL, "note", party_sql, "UPDATE responsibility_checks SET note = '复查' WHERE id = 'k1'"));
	test_ok(integrate_upstream(a));
	test_ok(ts_node_verify(a, NULL, NULL));
	test_equal_i(count(a, "SELECT count(*) FROM sync_conflicts WHERE kind = 'constraint'"), 0);
	ts_node_free(dc);
	ts_node_free(a);
}
