/*
 * Unit tests of urgent reports (node/urgent.c) and of how they travel
 * ahead of a backlog: the urgent commit a push makes (node/remote_node.c),
 * its admission above (node/admit_node.c, the gate's pre-receive) and its
 * merge before the submissions (node/merge_node.c). Rows are judged with
 * SQL written here, the urgent commit with plain libgit2.
 */
#include "harness.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include <git2.h>
#include <sqlite3.h>

#include "node.h"
#include "nodes.h"
#include "tiersync.h"

/* Everything these operations may write, as one string: a refusal must
 * leave it unchanged. */
static char *snapshot(ts_node *node)
{
	return strdup(ts_test_query_text(node,
		"SELECT (SELECT count(*) FROM ts_staged) || '|' ||"
		" ifnull((SELECT group_concat(x, ';') FROM (SELECT id || ',' || jurisdiction || ',' ||"
		"   ifnull(received_by, '-') AS x FROM urgent_reports ORDER BY id)), '') || '|' ||"
		" (SELECT count(*) FROM case_events)"));
}

#define test_unchanged(node, before) ts_test_unchanged(snapshot, node, before)

static int seen_report(const ts_urgent_info *r, void *payload)
{
	ts_test_seen *s = payload;
	ts_test_seen_add(s, "%s:%s:%s:%s", r->id, r->jurisdiction, r->node, r->received_by ? r->received_by : "-");
	return ts_test_seen_next(s);
}

void test_urgent__create_rules(void)
{
	ts_node *city = ts_test_node("city", TS_TIER_CITY, "bj", "刘局");
	ts_node *st = ts_test_node("st", TS_TIER_STREET, "bj.dc.js", "王伟");
	ts_node *dev = ts_test_node("dev", TS_TIER_DEVICE, "bj.dc.js.d07", "赵强");
	ts_urgent_options o = { "燃气泄漏", "已疏散", NULL, NULL };
	char *id = NULL, *case_id = NULL, *before, want[256], sql[512];

	test_assert(city && st && dev);
	/* the city has no node above it */
	test_equal_i(ts_urgent_create(&id, city, NULL, &o), TS_EDENIED);
	test_error_says("no node above it");
	test_assert(id == NULL);
	before = snapshot(st);
	o.subject = NULL;
	test_equal_i(ts_urgent_create(&id, st, NULL, &o), TS_EINVALID);
	o.subject = "两行\n标题";
	test_equal_i(ts_urgent_create(&id, st, NULL, &o), TS_EINVALID);
	test_error_says("one line");
	o.subject = "燃气泄漏";
	o.occurred_at = "2999-01-01 08:00";
	test_equal_i(ts_urgent_create(&id, st, NULL, &o), TS_EINVALID);
	test_error_says("lies in the future");
	o.occurred_at = "2015-02-30";
	test_equal_i(ts_urgent_create(&id, st, NULL, &o), TS_EINVALID);
	o.occurred_at = NULL;
	o.case_id = "bj.dc.js-c0";
	test_equal_i(ts_urgent_create(&id, st, NULL, &o), TS_ENOTFOUND);
	/* a case of another street, held here */
	test_ok(ts_test_arrive(st, "INSERT INTO cases (id, source, category, address, jurisdiction, reported_at, "
		"deadline, created_by_node) VALUES ('bj.dc.other-c1', 'patrol', 'small_ads', '东街', 'bj.dc.other', "
		"'2015-03-01T08:00:00+08:00', '2015-12-31T00:00:00+08:00', 'bj.dc.other')"));
	free(before);
	before = snapshot(st);
	o.case_id = "bj.dc.other-c1";
	test_equal_i(ts_urgent_create(&id, st, NULL, &o), TS_EDENIED);
	test_error_says("outside the jurisdiction of bj.dc.js");
	test_unchanged(st, before);

	/* a report about one of its cases: the row, and a note on the case */
	test_ok(ts_case_new(&case_id, st, NULL, "gas_safety", "patrol", "景山后街 9号", NULL, 0));
	o.case_id = case_id;
	o.occurred_at = "2015-03-01 08:00";
	test_ok(ts_urgent_create(&id, st, "李娜", &o));
	test_assert(id && !strncmp(id, "bj.dc.js-u", 10));
	snprintf(want, sizeof(want), "bj.dc.js|bj.dc.js|李娜|%s|2015-03-01T08:00:00+08:00|1", case_id);
	test_equal_s(ts_test_query_text(st, "SELECT jurisdiction || '|' || node || '|' || reporter || '|' || case_id"
		" || '|' || occurred_at || '|' || (received_at IS NULL) FROM urgent_reports"), want);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM case_events WHERE case_id = '%s' AND kind = 'note' "
		"AND officer = '李娜' AND detail LIKE '%%%s%%'", case_id, id);
	test_equal_i(ts_test_query_int(st, sql), 1);
	free(id);
	id = NULL;

	/* a device reports for its street */
	o.case_id = NULL;
	o.occurred_at = NULL;
	test_ok(ts_urgent_create(&id, dev, NULL, &o));
	test_equal_s(ts_test_query_text(dev, "SELECT jurisdiction || '|' || node || '|' || reporter FROM urgent_reports"),
		"bj.dc.js|bj.dc.js.d07|赵强");
	free(id);
	ts_node_free(city);
	ts_node_free(st);
	ts_node_free(dev);
	free(case_id);
	free(before);
}

void test_urgent__receive_and_list_rules(void)
{
	ts_node *dc = ts_test_node("dc", TS_TIER_DISTRICT, "bj.dc", "张敏");
	ts_node *xc = ts_test_node("xc", TS_TIER_DISTRICT, "bj.xc", "周平");
	ts_node *st = ts_test_node("st", TS_TIER_STREET, "bj.dc.js", "王伟");
	ts_urgent_filter filter = TS_URGENT_FILTER_INIT;
	ts_test_seen seen;
	static const char *rows =
		"INSERT INTO urgent_reports (id, jurisdiction, subject, occurred_at, reported_at, reporter, node) VALUES"
		" ('bj.dc.js-u1', 'bj.dc.js', '燃气泄漏', '2015-03-01T08:00:00+08:00', '2015-03-01T08:05:00+08:00', '王伟', 'bj.dc.js'),"
		" ('bj.dc.js-u2', 'bj.dc.js', '井盖缺失', '2015-03-01T09:00:00+08:00', '2015-03-01T09:05:00+08:00', '赵强', 'bj.dc.js.d07'),"
		" ('bj.xc.a-u1', 'bj.xc.a', '积水', '2015-03-01T07:00:00+08:00', '2015-03-01T07:05:00+08:00', '钱', 'bj.xc.a')";
	long long staged;
	char *before;

	test_assert(dc && xc && st);
	test_ok(ts_test_arrive(dc, rows));
	test_ok(ts_test_arrive(xc, rows));
	test_ok(ts_test_arrive(st, rows));

	/* the reporting unit does not receive its own report; a district beside it neither */
	before = snapshot(st);
	test_equal_i(ts_urgent_receive(st, NULL, "bj.dc.js-u1"), TS_EDENIED);
	test_error_says("only a node above it takes it in");
	test_unchanged(st, before);
	free(before);
	before = snapshot(xc);
	test_equal_i(ts_urgent_receive(xc, NULL, "bj.dc.js-u1"), TS_EDENIED);
	test_unchanged(xc, before);
	free(before);
	before = snapshot(dc);
	test_equal_i(ts_urgent_receive(dc, NULL, "bj.dc.js-u9"), TS_ENOTFOUND);
	test_equal_i(ts_urgent_receive(dc, NULL, ""), TS_EINVALID);
	test_unchanged(dc, before);
	free(before);

	staged = ts_test_query_int(dc, "SELECT count(*) FROM ts_staged");
	test_ok(ts_urgent_receive(dc, "张敏", "bj.dc.js-u1"));
	test_equal_s(ts_test_query_text(dc, "SELECT received_by || '|' || (received_at IS NOT NULL) FROM urgent_reports "
		"WHERE id = 'bj.dc.js-u1'"), "张敏|1");
	test_equal_i(ts_test_query_int(dc, "SELECT count(*) FROM ts_staged"), staged + 1);
	before = snapshot(dc);
	test_equal_i(ts_urgent_receive(dc, "张敏", "bj.dc.js-u1"), TS_EINVALID);
	test_error_says("received already");
	test_unchanged(dc, before);
	free(before);

	/* lists: the node's jurisdiction, in time order, by state */
	memset(&seen, 0, sizeof(seen));
	test_ok(ts_urgent_list(dc, NULL, seen_report, &seen));
	test_equal_s(seen.text, "bj.dc.js-u1:bj.dc.js:bj.dc.js:张敏 bj.dc.js-u2:bj.dc.js:bj.dc.js.d07:-");
	memset(&seen, 0, sizeof(seen));
	filter.pending_only = 1;
	test_ok(ts_urgent_list(dc, &filter, seen_report, &seen));
	test_equal_s(seen.text, "bj.dc.js-u2:bj.dc.js:bj.dc.js.d07:-");
	memset(&seen, 0, sizeof(seen));
	filter.pending_only = 0;
	filter.received_only = 1;
	test_ok(ts_urgent_list(dc, &filter, seen_report, &seen));
	test_equal_s(seen.text, "bj.dc.js-u1:bj.dc.js:bj.dc.js:张敏");
	filter.pending_only = 1;
	test_equal_i(ts_urgent_list(dc, &filter, seen_report, &seen), TS_EINVALID);
	filter.pending_only = filter.received_only = 0;
	filter.version = 99;
	test_equal_i(ts_urgent_list(dc, &filter, seen_report, &seen), TS_EINVALID);
	memset(&seen, 0, sizeof(seen));
	test_ok(ts_urgent_list(xc, NULL, seen_report, &seen));
	test_equal_s(seen.text, "bj.xc.a-u1:bj.xc.a:bj.xc.a:-");
	memset(&seen, 0, sizeof(seen));
	seen.stop_at = 1;
	test_equal_i(ts_urgent_list(st, NULL, seen_report, &seen), 7);
	test_equal_i(seen.calls, 1);
	ts_node_free(dc);
	ts_node_free(xc);
	ts_node_free(st);
}

/* A district and a street below it on a path remote, the street on the
 * district's main, with a backlog of `backlog` committed cases and one
 * urgent report about the last of them, committed. */
typedef struct {
	ts_node *dc, *st;
	char *report, *gas;
	git_oid dc_main;
} chain;

static void chain_free(chain *c)
{
	ts_node_free(c->dc);
	ts_node_free(c->st);
	free(c->report);
	free(c->gas);
}

static int chain_make(chain *c, int backlog)
{
	ts_urgent_options o = { "液化气罐泄漏", NULL, NULL, NULL };
	ts_node_merge_stats stats;
	char path[PATH_MAX], id[41], *case_id;
	int i, error;

	memset(c, 0, sizeof(*c));
	if (!(c->dc = ts_test_node("dc", TS_TIER_DISTRICT, "bj.dc", "张敏")) ||
	    !(c->st = ts_test_node("st", TS_TIER_STREET, "bj.dc.js", "王伟")))
		return TS_ERROR;
	snprintf(path, sizeof(path), "%s/dc", ts_test_dir());
	if ((error = ts_test_enrolled_above(c->dc)) < 0 || (error = ts_test_enroll(c->dc, c->st)) < 0 ||
	    (error = ts_node_remote_add(c->st, "upstream", path, NULL)) < 0 ||
	    (error = ts_node_fetch(id, NULL, c->st, NULL, NULL)) < 0 ||
	    (error = ts_node_merge(id, &stats, c->st, "refs/remotes/upstream/main", NULL, NULL)) < 0 ||
	    (error = ts_store__ref_get(&c->dc_main, c->dc->store, TS_STORE_MAIN)) < 0)
		return error;
	for (i = 0; i < backlog; i++) {
		if ((error = ts_case_new(&case_id, c->st, NULL, i == backlog - 1 ? "gas_safety" : "small_ads",
				"patrol", "景山前街", NULL, 0)) < 0)
			return error;
		free(c->gas);
		c->gas = case_id;
		if ((error = ts_node_commit(id, c->st, "巡查", NULL)) < 0)
			return error;
	}
	o.case_id = c->gas;
	if ((error = ts_urgent_create(&c->report, c->st, NULL, &o)) < 0)
		return error;
	return ts_node_commit(id, c->st, "urgent report", NULL);
}

void test_urgent__the_urgent_commit_is_its_parent_plus_the_reports(void)
{
	chain c;
	ts_urgent_push_stats u;
	ts_transfer_stats stats;
	git_repository *repo = NULL;
	git_commit *commit = NULL;
	git_tree *parent_tree = NULL, *tree = NULL;
	git_diff *diff = NULL;
	git_buf sig = GIT_BUF_INIT;
	git_oid at;
	char id[41], want[512];
	size_t i;

	test_ok(chain_make(&c, 5));
	memset(&stats, 0xff, sizeof(stats));
	test_ok(ts_node_push_urgent(id, &stats, &u, c.st, NULL, NULL, TS_PUSH_URGENT_ONLY));
	test_equal_i((int)u.reports, 1);
	test_equal_i(u.updated, 1);
	test_equal_i(u.no_base, 0);
	test_equal_s(id, "");

	/* at the district, as stock libgit2 reads it */
	test_assert((repo = ts_test_history(c.dc->path)) != NULL);
	test_ok(git_reference_name_to_id(&at, repo, "refs/urgent/bj.dc.js"));
	test_assert(git_reference_name_to_id(&at, repo, "refs/submissions/bj.dc.js") < 0);
	test_ok(git_reference_name_to_id(&at, repo, "refs/urgent/bj.dc.js"));
	test_equal_s(git_oid_tostr_s(&at), u.commit);
	test_ok(git_commit_lookup(&commit, repo, &at));
	test_equal_i((int)git_commit_parentcount(commit), 1);
	test_assert(git_oid_equal(git_commit_parent_id(commit, 0), &c.dc_main));
	test_ok(git_commit_tree(&tree, commit));
	{
		git_commit *parent = NULL;
		test_ok(git_commit_parent(&parent, commit, 0));
		test_ok(git_commit_tree(&parent_tree, parent));
		git_commit_free(parent);
	}
	test_ok(git_diff_tree_to_tree(&diff, repo, parent_tree, tree, NULL));
	test_equal_i((int)git_diff_num_deltas(diff), 2);
	for (i = 0; i < git_diff_num_deltas(diff); i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		test_equal_i(d->status, GIT_DELTA_ADDED);
		snprintf(want, sizeof(want), "/%s", i == 0 ? c.gas : c.report);
		test_assert(strstr(d->new_file.path, i == 0 ? "cases/" : "urgent_reports/") == d->new_file.path);
		test_equal_s(d->new_file.path + strlen(d->new_file.path) - strlen(want), want);
	}
	test_ok(git_commit_header_field(&sig, commit, "gpgsig"));
	test_assert(strstr(sig.ptr, "BEGIN SSH SIGNATURE") != NULL);
	git_buf_dispose(&sig);

	/* the same reports on the same parent: the same commit, not sent again */
	test_ok(ts_node_push_urgent(id, &stats, &u, c.st, NULL, NULL, TS_PUSH_URGENT_ONLY));
	test_equal_i(u.updated, 0);
	test_equal_s(git_oid_tostr_s(&at), u.commit);
	/* kept for the remote, and gone with it */
	test_ok(ts_store__ref_get(&at, c.st->store, "refs/urgent-out/upstream"));
	test_ok(ts_node_remote_remove(c.st, "upstream"));
	test_equal_i(ts_store__ref_get(&at, c.st->store, "refs/urgent-out/upstream"), TS_ENOTFOUND);
	git_diff_free(diff);
	git_tree_free(tree);
	git_tree_free(parent_tree);
	git_commit_free(commit);
	git_repository_free(repo);
	chain_free(&c);
}

void test_urgent__merged_first_then_main_without_a_conflict(void)
{
	chain c;
	ts_urgent_push_stats u;
	ts_transfer_stats stats;
	char id[41], sql[256];

	test_ok(chain_make(&c, 6));
	test_ok(ts_node_push_urgent(id, &stats, &u, c.st, NULL, NULL, TS_PUSH_URGENT_ONLY));
	test_ok(ts_node_merge_submissions(c.dc, NULL, NULL, NULL));
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM urgent_reports WHERE id = '%s'", c.report);
	test_equal_i(ts_test_query_int(c.dc, sql), 1);
	test_equal_i(ts_test_query_int(c.dc, "SELECT count(*) FROM cases"), 1);
	/* then main, which carries the same rows again */
	test_ok(ts_node_push(id, &stats, c.st, NULL, NULL));
	test_ok(ts_node_merge_submissions(c.dc, NULL, NULL, NULL));
	test_equal_i(ts_test_query_int(c.dc, "SELECT count(*) FROM cases"), 6);
	test_equal_i(ts_test_query_int(c.dc, sql), 1);
	test_equal_i(ts_test_query_int(c.dc, "SELECT count(*) FROM sync_conflicts"), 0);
	/* received above, and that flows down */
	test_ok(ts_urgent_receive(c.dc, NULL, c.report));
	test_ok(ts_node_commit(id, c.dc, "receive", NULL));
	test_ok(ts_node_fetch(id, NULL, c.st, NULL, NULL));
	test_ok(ts_node_merge(id, NULL, c.st, "refs/remotes/upstream/main", NULL, NULL));
	snprintf(sql, sizeof(sql), "SELECT received_by FROM urgent_reports WHERE id = '%s'", c.report);
	test_equal_s(ts_test_query_text(c.st, sql), "张敏");
	test_equal_i(ts_test_query_int(c.st, "SELECT count(*) FROM sync_conflicts"), 0);
	chain_free(&c);
}

void test_urgent__a_push_never_fetched_sends_main_alone(void)
{
	ts_node *dc = ts_test_node("dc", TS_TIER_DISTRICT, "bj.dc", "张敏");
	ts_node *st = ts_test_node("st", TS_TIER_STREET, "bj.dc.js", "王伟");
	ts_urgent_options o = { "液化气罐泄漏", NULL, NULL, NULL };
	ts_urgent_push_stats u;
	ts_transfer_stats stats;
	char path[PATH_MAX], id[41], *report = NULL;

	test_assert(dc && st);
	snprintf(path, sizeof(path), "%s/dc", ts_test_dir());
	test_ok(ts_node_remote_add(st, "upstream", path, NULL));
	test_ok(ts_urgent_create(&report, st, NULL, &o));
	test_ok(ts_node_commit(id, st, "urgent", NULL));
	test_equal_i(ts_node_push_urgent(id, &stats, &u, st, NULL, NULL, TS_PUSH_URGENT_ONLY), TS_ENOTFOUND);
	test_error_says("never fetched");
	test_equal_i(u.no_base, 1);
	test_ok(ts_node_push_urgent(id, &stats, &u, st, NULL, NULL, 0));
	test_equal_i(u.no_base, 1);
	test_equal_s(u.commit, "");
	test_assert(stats.updated);
	free(report);
	ts_node_free(dc);
	ts_node_free(st);
}

void test_urgent__admission_refuses_what_is_not_urgent(void)
{
	chain c;
	char id[41], main_hex[41], *before;
	git_oid dc_main;

	test_ok(chain_make(&c, 3));
	/* the street's whole main offered as its urgent reports */
	test_ok(ts_test_transfer(c.st, c.dc, "refs/urgent/bj.dc.js"));
	test_ok(ts_node_head(main_hex, c.st));
	before = snapshot(c.dc);
	test_equal_i(ts_node_admit_urgent(c.dc, "bj.dc.js", main_hex, NULL), TS_EDENIED);
	test_error_says("refused urgent commit");
	test_equal_i(ts_node_merge_submissions(c.dc, NULL, NULL, NULL), TS_EDENIED);
	test_ok(ts_store__ref_get(&dc_main, c.dc->store, TS_STORE_MAIN));
	test_assert(git_oid_equal(&dc_main, &c.dc_main));
	test_unchanged(c.dc, before);
	free(before);
	/* not from below */
	test_equal_i(ts_node_admit_urgent(c.dc, "bj.xc", main_hex, NULL), TS_EDENIED);
	test_equal_i(ts_node_admit_urgent(c.dc, "bj.dc.js", "zz", NULL), TS_EINVALID);
	(void)id;
	chain_free(&c);
}

static int pre_receive(ts_node *node, const char *id, const char *lines)
{
	FILE *in = fmemopen((void *)lines, strlen(lines), "r");
	int rc = ts_gate_pre_receive(node, id, in, NULL);
	fclose(in);
	return rc;
}

void test_urgent__the_gate_lets_a_node_push_only_its_own_urgent_ref(void)
{
	ts_node *dc = ts_test_node("dc", TS_TIER_DISTRICT, "bj.dc", "张敏");
	static const char other[] = "0000000000000000000000000000000000000000 "
		"1111111111111111111111111111111111111111 refs/urgent/bj.dc.other\n";
	static const char deleted[] = "1111111111111111111111111111111111111111 "
		"0000000000000000000000000000000000000000 refs/urgent/bj.dc.js\n";
	static const char unknown[] = "0000000000000000000000000000000000000000 "
		"1111111111111111111111111111111111111111 refs/urgent/bj.dc.js\n";

	test_assert(dc);
	test_equal_i(pre_receive(dc, "bj.dc.js", other), TS_EDENIED);
	test_error_says("refused refs/urgent/bj.dc.other: bj.dc.js may push only refs/submissions/bj.dc.js or refs/urgent/bj.dc.js");
	test_equal_i(pre_receive(dc, "bj.dc.js", deleted), TS_EDENIED);
	test_error_says("never deleted");
	/* its own urgent ref goes on to admission, which wants the commit */
	test_assert(pre_receive(dc, "bj.dc.js", unknown) < 0);
	test_error_says("refused refs/urgent/bj.dc.js");
	ts_node_free(dc);
}

void test_urgent__received_before_main_arrives_stays_received(void)
{
	chain c;
	ts_urgent_push_stats u;
	ts_transfer_stats stats;
	char id[41], sql[256];

	test_ok(chain_make(&c, 2));
	test_ok(ts_node_push_urgent(id, &stats, &u, c.st, NULL, NULL, TS_PUSH_URGENT_ONLY));
	test_ok(ts_node_merge_submissions(c.dc, NULL, NULL, NULL));
	test_ok(ts_urgent_receive(c.dc, "张敏", c.report));
	test_ok(ts_node_commit(id, c.dc, "receive", NULL));
	test_ok(ts_node_push(id, &stats, c.st, NULL, NULL));
	test_ok(ts_node_merge_submissions(c.dc, NULL, NULL, NULL));
	snprintf(sql, sizeof(sql), "SELECT received_by FROM urgent_reports WHERE id = '%s'", c.report);
	test_equal_s(ts_test_query_text(c.dc, sql), "张敏");
	test_equal_i(ts_test_query_int(c.dc, "SELECT count(*) FROM sync_conflicts WHERE status = 'open'"), 0);
	test_equal_i(ts_test_query_int(c.dc, "SELECT count(*) FROM cases"), 2);
	chain_free(&c);
}
