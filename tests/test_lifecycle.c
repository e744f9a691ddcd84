/*
 * Unit tests of the case lifecycle (node/lifecycle.c, node/case.c): whole
 * cases of several categories walked through every path (closed on
 * education, penalized, major with review and filing-up, transferred,
 * complaint with return visit), each forbidden step tried and shown to
 * write nothing, the rules an upper tier sets, and the jurisdiction of a
 * device's case. The judge is SQL written here, on the node's database.
 */
#include "harness.h"

#include <limits.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "lifecycle.h"
#include "node.h"
#include "nodes.h"

/* 2015-05-22 09:00:00 +08:00, the plan's year */
#define T0 1432256400LL

static long long clock_now;

/* Sets the node's clock to T0 + `seconds`. */
static void clock_at(long long seconds)
{
	char v[32];
	clock_now = T0 + seconds;
	snprintf(v, sizeof(v), "%lld", clock_now);
	setenv("TIERSYNC_NOW", v, 1);
}

/* Moves the clock on by a minute: each step at its own time. */
static void tick(void)
{
	clock_at(clock_now - T0 + 60);
}

static int new_node(ts_node **out, const char *path, const char *id, ts_tier tier)
{
	ts_init_options opts = { TS_INIT_OPTIONS_VERSION, tier, id, NULL, "值班员", NULL };
	return ts_node_init(out, path, &opts);
}

static long long query_int(ts_node *node, const char *sql, const char *arg)
{
	sqlite3_stmt *st = NULL;
	long long value = LLONG_MIN;

	if (sqlite3_prepare_v2(ts_node_db(node), sql, -1, &st, NULL) == SQLITE_OK) {
		if (arg)
			sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			value = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return value;
}

/* The first column of the first row, malloc'd ("NULL" for NULL), or NULL. */
static char *query_text(ts_node *node, const char *sql, const char *arg)
{
	sqlite3_stmt *st = NULL;
	char *value = NULL;

	if (sqlite3_prepare_v2(ts_node_db(node), sql, -1, &st, NULL) == SQLITE_OK) {
		if (arg)
			sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			const char *text = (const char *)sqlite3_column_text(st, 0);
			value = strdup(text ? text : "NULL");
		}
	}
	sqlite3_finalize(st);
	return value;
}

/* Compares one column of the case with `want` ("NULL" for NULL). */
static int column_is(ts_node *node, const char *id, const char *column, const char *want)
{
	char sql[128], *got;
	int same;

	snprintf(sql, sizeof(sql), "SELECT %s FROM cases WHERE id = ?1", column);
	got = query_text(node, sql, id);
	same = got && !strcmp(got, want);
	if (!same)
		fprintf(stderr, "    cases.%s is %s, wanted %s\n", column, got ? got : "(no row)", want);
	free(got);
	return same;
}

/* The case's events as "kind officer; kind officer; ...", oldest first. */
static char *events(ts_node *node, const char *id)
{
	return query_text(node, "SELECT group_concat(kind || ' ' || officer, '; ') FROM "
		"(SELECT kind, officer FROM case_events WHERE case_id = ?1 ORDER BY at, id)", id);
}

/* Everything a refused step must leave as it was: the case's whole row,
 * its events, every staged write and the id counters. */
static char *snapshot(ts_node *node, const char *id)
{
	sqlite3_stmt *st = NULL;
	char *rest;
	size_t len = 0, cap = 4096;
	char *out = malloc(cap);
	int c;

	if (!out)
		return NULL;
	out[0] = '\0';
	if (sqlite3_prepare_v2(ts_node_db(node), "SELECT * FROM cases WHERE id = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			for (c = 0; c < sqlite3_column_count(st); c++) {
				const char *v = (const char *)sqlite3_column_text(st, c);
				len += (size_t)snprintf(out + len, cap - len, "%s=%s;", sqlite3_column_name(st, c),
					v ? v : "NULL");
				if (len >= cap) {
					sqlite3_finalize(st);
					free(out);
					return NULL;
				}
			}
	}
	sqlite3_finalize(st);
	rest = query_text(node, "SELECT (SELECT count(*) FROM cases) || '|' || "
		"(SELECT count(*) FROM case_events) || '|' || "
		"(SELECT group_concat(kind, ',') FROM (SELECT kind FROM case_events WHERE case_id = ?1 ORDER BY at, id)) || '|' || "
		"(SELECT count(*) FROM ts_staged) || '|' || "
		"(SELECT count(*) FROM case_rules) || '|' || "
		"(SELECT group_concat(key || '=' || value, ';') FROM (SELECT * FROM ts_meta ORDER BY key))", id);
	if (!rest || len + strlen(rest) + 1 > cap) {
		free(rest);
		free(out);
		return NULL;
	}
	strcpy(out + len, rest);
	free(rest);
	return out;
}

/* A step that must be refused with `code`, a message holding `needle`
 * (and naming no flag: that is the CLI's), and nothing written. Uses
 * `node` and `id` of the test. */
#define REFUSED(call, code, needle) do { \
	char *before__ = snapshot(node, id), *after__; \
	int rc__ = (call), same__; \
	const char *msg__ = ts_error_last(); \
	int says__ = msg__ && strstr(msg__, needle) != NULL && strstr(msg__, "--") == NULL; \
	if (!says__) fprintf(stderr, "    message: %s\n", msg__ ? msg__ : "(none)"); \
	after__ = snapshot(node, id); \
	same__ = before__ && after__ && !strcmp(before__, after__); \
	free(before__); \
	free(after__); \
	test_equal_i(rc__, code); \
	test_assert(says__); \
	test_assert(same__); \
} while (0)

static int verified(ts_node *node)
{
	return ts_node_verify(node, NULL, NULL) == 0;
}

void test_lifecycle__closed_on_education(void)
{
	ts_node *node = NULL;
	char *id = NULL, *ev = NULL, head[41];

	clock_at(0);
	test_ok(new_node(&node, "n", "bj.dc.jingshan", TS_TIER_STREET));
	test_ok(ts_case_new(&id, node, "王伟", "small_ads", "patrol", "景山前街 4号", NULL, 0));
	tick();
	test_ok(ts_case_dispatch(node, "张敏", id, "李娜", NULL));
	test_assert(column_is(node, id, "status", "dispatched"));
	test_assert(column_is(node, id, "officer", "李娜"));
	tick();
	test_ok(ts_case_educate(node, "李娜", id, "当事人已清除小广告"));
	test_assert(column_is(node, id, "status", "handling"));
	test_assert(column_is(node, id, "stage", "educate"));
	tick();
	test_ok(ts_case_feedback(node, "李娜", id, NULL));
	tick();
	test_ok(ts_case_close(node, "李娜", id, NULL));
	test_assert(column_is(node, id, "status", "closed"));
	test_assert(column_is(node, id, "closed_at", "2015-05-22T09:04:00+08:00"));
	test_assert(column_is(node, id, "filed_at", "NULL"));
	test_assert(column_is(node, id, "penalty_amount", "NULL"));

	ev = events(node, id);
	test_equal_s(ev, "intake 王伟; dispatch 张敏; educate 李娜; feedback 李娜; close 李娜");
	free(ev);
	/* every event names this node, with the step's own time */
	test_equal_i(query_int(node, "SELECT count(*) FROM case_events WHERE case_id = ?1 AND node = 'bj.dc.jingshan'", id), 5);
	test_equal_i(query_int(node, "SELECT count(DISTINCT at) FROM case_events WHERE case_id = ?1", id), 5);
	ev = query_text(node, "SELECT detail FROM case_events WHERE case_id = ?1 AND kind = 'educate'", id);
	test_equal_s(ev, "当事人已清除小广告");
	free(ev);
	ev = query_text(node, "SELECT detail FROM case_events WHERE case_id = ?1 AND kind = 'dispatch'", id);
	test_equal_s(ev, "to 李娜");
	free(ev);
	/* each step was one staged write: intake + 4 steps */
	test_equal_i(query_int(node, "SELECT count(*) FROM ts_staged", NULL), 5);
	test_assert(verified(node));
	test_ok(ts_node_commit(head, node, "closed on education", NULL));
	test_assert(verified(node));

	ts_node_free(node);
	free(id);
	unsetenv("TIERSYNC_NOW");
}

void test_lifecycle__penalized(void)
{
	ts_node *node = NULL;
	char *id = NULL, *ev = NULL;

	clock_at(0);
	test_ok(new_node(&node, "n", "bj.dc.jingshan", TS_TIER_STREET));
	test_ok(ts_case_new(&id, node, "王伟", "outside_store", "patrol", "景山后街 9号", NULL, 0));
	tick(); test_ok(ts_case_dispatch(node, "张敏", id, "李娜", NULL));
	tick(); test_ok(ts_case_educate(node, "李娜", id, NULL));
	tick(); test_ok(ts_case_warn(node, "李娜", id, "再次占道"));
	test_assert(column_is(node, id, "stage", "warn"));
	tick(); test_ok(ts_case_penalize(node, "李娜", id, NULL));
	test_assert(column_is(node, id, "stage", "penalize"));
	tick(); test_ok(ts_case_file(node, "李娜", id, NULL));
	test_assert(column_is(node, id, "filed_at", "2015-05-22T09:05:00+08:00"));
	tick(); test_ok(ts_case_decide(node, "李娜", id, "《北京市市容环境卫生条例》第五十条", 20000, 0, NULL));
	test_assert(column_is(node, id, "penalty_amount", "20000"));
	test_assert(column_is(node, id, "legal_basis", "《北京市市容环境卫生条例》第五十条"));
	test_assert(column_is(node, id, "major", "0"));
	test_assert(column_is(node, id, "review_status", "NULL"));
	tick(); test_ok(ts_case_execute(node, "李娜", id, "当场缴纳"));
	test_assert(column_is(node, id, "executed_at", "2015-05-22T09:07:00+08:00"));
	tick(); test_ok(ts_case_feedback(node, "李娜", id, NULL));
	tick(); test_ok(ts_case_close(node, "李娜", id, NULL));
	test_assert(column_is(node, id, "status", "closed"));

	ev = events(node, id);
	test_equal_s(ev, "intake 王伟; dispatch 张敏; educate 李娜; warn 李娜; penalize 李娜; file 李娜; "
		"decide 李娜; execute 李娜; feedback 李娜; close 李娜");
	free(ev);
	ev = query_text(node, "SELECT detail FROM case_events WHERE case_id = ?1 AND kind = 'decide'", id);
	test_equal_s(ev, "《北京市市容环境卫生条例》第五十条; fine 200.00 yuan");
	free(ev);
	test_assert(verified(node));
	ts_node_free(node);
	free(id);
	unsetenv("TIERSYNC_NOW");
}

void test_lifecycle__major_with_review_and_filing_up(void)
{
	ts_node *node = NULL;
	char *id = NULL, *ev = NULL, head[41];

	clock_at(0);
	/* a district's own case: its legal staff review it there */
	test_ok(new_node(&node, "n", "bj.dc", TS_TIER_DISTRICT));
	test_ok(ts_case_new(&id, node, "王伟", "illegal_building", "video", "景山东街 2号院", NULL, 0));
	tick(); test_ok(ts_case_dispatch(node, "张敏", id, "李娜", NULL));
	/* new illegal building: zero tolerance, penalized at once */
	tick(); test_ok(ts_case_penalize(node, "李娜", id, "新生违建"));
	test_assert(column_is(node, id, "stage", "penalize"));
	tick(); test_ok(ts_case_file(node, "李娜", id, NULL));
	/* 50,000 yuan reaches the 10,000-yuan threshold: major, review pending */
	tick(); test_ok(ts_case_decide(node, "李娜", id, "《城乡规划法》第六十四条", 5000000, 0, NULL));
	test_assert(column_is(node, id, "major", "1"));
	test_assert(column_is(node, id, "review_status", "pending"));
	ev = query_text(node, "SELECT detail FROM case_events WHERE case_id = ?1 AND kind = 'decide'", id);
	test_equal_s(ev, "《城乡规划法》第六十四条; fine 50000.00 yuan; major (the threshold is 10000.00 yuan)");
	free(ev);

	/* not executed, filed up or closed while the review is pending */
	REFUSED(ts_case_execute(node, "李娜", id, NULL), TS_EDENIED, "legal review is pending");
	REFUSED(ts_case_file_up(node, "李娜", id, NULL), TS_EDENIED, "not approved");
	tick(); test_ok(ts_case_feedback(node, "李娜", id, "已责令停工"));
	REFUSED(ts_case_close(node, "李娜", id, NULL), TS_EDENIED, "not approved");

	/* the reviewer rejects; a new decision goes back to review */
	tick(); test_ok(ts_case_review(node, "李娜", id, 0, "赵法", "罚款过重"));
	test_assert(column_is(node, id, "review_status", "rejected"));
	test_assert(column_is(node, id, "reviewer", "赵法"));
	REFUSED(ts_case_execute(node, "李娜", id, NULL), TS_EDENIED, "rejected");
	REFUSED(ts_case_review(node, "赵法", id, 1, NULL, NULL), TS_EDENIED, "already rejected");
	REFUSED(ts_case_close(node, "李娜", id, NULL), TS_EDENIED, "not approved");
	/* a lower fine, without --major, does not make it a minor case: back to review */
	tick(); test_ok(ts_case_decide(node, "李娜", id, "《城乡规划法》第六十四条", 100, 0, NULL));
	test_assert(column_is(node, id, "major", "1"));
	test_assert(column_is(node, id, "review_status", "pending"));
	REFUSED(ts_case_execute(node, "李娜", id, NULL), TS_EDENIED, "legal review is pending");
	tick(); test_ok(ts_case_review(node, "李娜", id, 0, "赵法", "罚款过轻"));
	tick(); test_ok(ts_case_decide(node, "李娜", id, "《城乡规划法》第六十四条", 3000000, 0, NULL));
	test_assert(column_is(node, id, "review_status", "pending"));
	/* the review columns are the reviewing tier's: a new decision leaves the last reviewer */
	test_assert(column_is(node, id, "reviewer", "赵法"));
	tick(); test_ok(ts_case_review(node, "值班员", id, 1, "赵法", NULL));
	test_assert(column_is(node, id, "review_status", "approved"));
	test_assert(column_is(node, id, "reviewer", "赵法"));
	test_assert(column_is(node, id, "reviewed_at", "2015-05-22T09:10:00+08:00"));
	REFUSED(ts_case_decide(node, "李娜", id, "x", 100, 0, NULL), TS_EDENIED, "already has a penalty decision");

	tick(); test_ok(ts_case_execute(node, "李娜", id, "已拆除"));
	/* approved and executed, but not filed up with the higher tier */
	REFUSED(ts_case_close(node, "李娜", id, NULL), TS_EDENIED, "not filed up");
	tick(); test_ok(ts_case_file_up(node, "张敏", id, "报区局备案"));
	test_assert(column_is(node, id, "filed_up_at", "2015-05-22T09:12:00+08:00"));
	REFUSED(ts_case_file_up(node, "张敏", id, NULL), TS_EDENIED, "already filed up");
	tick(); test_ok(ts_case_close(node, "张敏", id, NULL));
	test_assert(column_is(node, id, "status", "closed"));

	ev = events(node, id);
	test_equal_s(ev, "intake 王伟; dispatch 张敏; penalize 李娜; file 李娜; decide 李娜; feedback 李娜; "
		"review 赵法; decide 李娜; review 赵法; decide 李娜; review 赵法; execute 李娜; file_up 张敏; close 张敏");
	free(ev);
	ev = query_text(node, "SELECT group_concat(detail, ' / ') FROM (SELECT detail FROM case_events "
		"WHERE case_id = ?1 AND kind = 'review' ORDER BY at)", id);
	test_equal_s(ev, "rejected by 赵法; 罚款过重 / rejected by 赵法; 罚款过轻 / approved by 赵法");
	free(ev);
	test_assert(verified(node));
	test_ok(ts_node_commit(head, node, "major case", NULL));
	test_assert(verified(node));
	ts_node_free(node);
	free(id);
	unsetenv("TIERSYNC_NOW");
}

void test_lifecycle__marked_major_below_threshold(void)
{
	ts_node *node = NULL;
	char *id = NULL;

	clock_at(0);
	test_ok(new_node(&node, "n", "bj.dc.jingshan", TS_TIER_STREET));
	test_ok(ts_case_new(&id, node, "王伟", "coal_unlicensed", "patrol", "鼓楼东大街 8号", NULL, 0));
	test_ok(ts_case_dispatch(node, "张敏", id, "李娜", NULL));
	test_ok(ts_case_penalize(node, "李娜", id, NULL));
	test_ok(ts_case_file(node, "李娜", id, NULL));
	test_ok(ts_case_decide(node, "李娜", id, "《大气污染防治条例》", 50000, 1, NULL));
	test_assert(column_is(node, id, "major", "1"));
	test_assert(column_is(node, id, "review_status", "pending"));
	ts_node_free(node);
	free(id);
	unsetenv("TIERSYNC_NOW");
}

void test_lifecycle__transferred(void)
{
	ts_node *node = NULL;
	char *id = NULL, *ev = NULL;
	ts_field note = { "description", "补记" };

	clock_at(0);
	test_ok(new_node(&node, "n", "bj.dc.jingshan", TS_TIER_STREET));
	test_ok(ts_case_new(&id, node, "王伟", "gas_safety", "referral", "景山西街 1号", NULL, 0));
	tick(); test_ok(ts_case_dispatch(node, "张敏", id, "李娜", NULL));
	tick(); test_ok(ts_case_educate(node, "李娜", id, NULL));
	REFUSED(ts_case_transfer(node, "李娜", id, NULL, NULL), TS_EINVALID, "a transfer needs the department it goes to");
	REFUSED(ts_case_transfer(node, "李娜", id, "区燃气办\n市场监管所", NULL), TS_EINVALID, "on one line");
	tick(); test_ok(ts_case_transfer(node, "李娜", id, "区燃气办", "液化气罐无证充装"));
	test_assert(column_is(node, id, "status", "transferred"));
	test_assert(column_is(node, id, "transfer_to", "区燃气办"));
	test_assert(column_is(node, id, "transferred_at", "2015-05-22T09:03:00+08:00"));

	/* a transferred case takes no more steps, and no edits */
	REFUSED(ts_case_warn(node, "李娜", id, NULL), TS_EDENIED, "transferred to 区燃气办");
	REFUSED(ts_case_feedback(node, "李娜", id, NULL), TS_EDENIED, "transferred");
	REFUSED(ts_case_close(node, "李娜", id, NULL), TS_EDENIED, "transferred");
	REFUSED(ts_case_dispatch(node, "张敏", id, "王伟", NULL), TS_EDENIED, "transferred");
	REFUSED(ts_case_transfer(node, "李娜", id, "公安", NULL), TS_EDENIED, "transferred");
	REFUSED(ts_case_edit(node, "李娜", id, &note, 1), TS_EDENIED, "transferred");

	ev = events(node, id);
	test_equal_s(ev, "intake 王伟; dispatch 张敏; educate 李娜; transfer 李娜");
	free(ev);
	ev = query_text(node, "SELECT detail FROM case_events WHERE case_id = ?1 AND kind = 'transfer'", id);
	test_equal_s(ev, "to 区燃气办; 液化气罐无证充装");
	free(ev);
	test_assert(verified(node));
	ts_node_free(node);
	free(id);
	unsetenv("TIERSYNC_NOW");
}

void test_lifecycle__complaint_with_return_visit(void)
{
	ts_node *node = NULL;
	char *id = NULL, *ev = NULL;
	ts_field phone = { "complainant_phone", "13800138000" };

	clock_at(0);
	test_ok(new_node(&node, "n", "bj.dc.jingshan", TS_TIER_STREET));
	test_ok(ts_case_new(&id, node, "王伟", "unlicensed_vending", "complaint", "地安门内大街 23号", &phone, 1));
	tick(); test_ok(ts_case_dispatch(node, "张敏", id, "李娜", NULL));
	tick(); test_ok(ts_case_educate(node, "李娜", id, NULL));
	REFUSED(ts_case_visit(node, "张敏", id, "satisfied", NULL), TS_EDENIED, "no feedback yet");
	tick(); test_ok(ts_case_warn(node, "李娜", id, NULL));
	tick(); test_ok(ts_case_feedback(node, "李娜", id, "摊贩已离开"));
	REFUSED(ts_case_close(node, "李娜", id, NULL), TS_EDENIED, "return visit");
	REFUSED(ts_case_visit(node, "张敏", id, "happy", NULL), TS_EINVALID,
		"the complainant's satisfaction: satisfied, basically_satisfied or dissatisfied");
	REFUSED(ts_case_visit(node, "张敏", id, NULL, NULL), TS_EINVALID, "the complainant's satisfaction");
	tick(); test_ok(ts_case_visit(node, "张敏", id, "basically_satisfied", NULL));
	test_assert(column_is(node, id, "satisfaction", "basically_satisfied"));
	test_assert(column_is(node, id, "visited_at", "2015-05-22T09:05:00+08:00"));
	REFUSED(ts_case_visit(node, "张敏", id, "satisfied", NULL), TS_EDENIED, "already had its return visit");
	tick(); test_ok(ts_case_close(node, "张敏", id, NULL));
	test_assert(column_is(node, id, "status", "closed"));
	ev = events(node, id);
	test_equal_s(ev, "intake 王伟; dispatch 张敏; educate 李娜; warn 李娜; feedback 李娜; return_visit 张敏; close 张敏");
	free(ev);
	test_assert(verified(node));
	ts_node_free(node);
	free(id);
	unsetenv("TIERSYNC_NOW");
}

void test_lifecycle__forbidden_steps_write_nothing(void)
{
	ts_node *node = NULL;
	char *id = NULL, *patrol = NULL, head[41];
	ts_field officer = { "officer", "王伟" }, status = { "status", "closed" }, amount = { "penalty_amount", "1" };
	ts_field deadline = { "deadline", "2030-01-01T00:00:00+08:00" }, description = { "description", "堆物" };

	clock_at(0);
	test_ok(new_node(&node, "n", "bj.dc.jingshan", TS_TIER_STREET));
	test_ok(ts_case_new(&id, node, "王伟", "small_ads", "complaint", "景山前街 4号", NULL, 0));
	test_ok(ts_node_commit(head, node, "intake", NULL));

	/* dispatching without an officer */
	REFUSED(ts_case_dispatch(node, "张敏", id, NULL, NULL), TS_EINVALID,
		"dispatching a case needs the officer's real name");
	REFUSED(ts_case_dispatch(node, "张敏", id, "", NULL), TS_EINVALID, "needs the officer's real name");
	REFUSED(ts_case_dispatch(node, "张敏", id, "李<娜>", NULL), TS_EINVALID, "name");
	/* handling before dispatch */
	REFUSED(ts_case_educate(node, "李娜", id, NULL), TS_EDENIED, "not dispatched");
	REFUSED(ts_case_feedback(node, "李娜", id, NULL), TS_EDENIED, "not been handled");
	REFUSED(ts_case_close(node, "李娜", id, NULL), TS_EDENIED, "no feedback");
	/* lifecycle columns are not edited directly; the message names the step */
	REFUSED(ts_case_edit(node, "李娜", id, &officer, 1), TS_EDENIED, "only through the dispatch step");
	REFUSED(ts_case_edit(node, "李娜", id, &status, 1), TS_EDENIED, "close");
	REFUSED(ts_case_edit(node, "李娜", id, &amount, 1), TS_EDENIED, "only through the decide step");
	REFUSED(ts_case_edit(node, "李娜", id, &deadline, 1), TS_EDENIED, "set at intake");
	/* no such case */
	REFUSED(ts_case_educate(node, "李娜", "bj.dc.jingshan-c20000101-9999", NULL), TS_ENOTFOUND, "no case");

	test_ok(ts_case_dispatch(node, "张敏", id, "李娜", NULL));
	/* the three steps in order */
	REFUSED(ts_case_warn(node, "李娜", id, NULL), TS_EDENIED, "not been educated");
	REFUSED(ts_case_penalize(node, "李娜", id, NULL), TS_EDENIED, "neither educated nor warned");
	test_ok(ts_case_educate(node, "李娜", id, NULL));
	REFUSED(ts_case_educate(node, "李娜", id, NULL), TS_EDENIED, "already at the educate step");
	REFUSED(ts_case_penalize(node, "李娜", id, NULL), TS_EDENIED, "educated but not warned");
	/* the penalty procedure before its step */
	REFUSED(ts_case_file(node, "李娜", id, NULL), TS_EDENIED, "not being penalized");
	REFUSED(ts_case_decide(node, "李娜", id, "条例", 10000, 0, NULL), TS_EDENIED, "not being penalized");
	REFUSED(ts_case_execute(node, "李娜", id, NULL), TS_EDENIED, "no penalty decision");
	REFUSED(ts_case_review(node, "赵法", id, 1, NULL, NULL), TS_EDENIED, "not a major penalty case");
	REFUSED(ts_case_file_up(node, "张敏", id, NULL), TS_EDENIED, "not a major penalty case");
	REFUSED(ts_case_dispatch(node, "张敏", id, "王伟", NULL), TS_EDENIED, "already handling");
	test_ok(ts_case_warn(node, "李娜", id, NULL));
	REFUSED(ts_case_educate(node, "李娜", id, NULL), TS_EDENIED, "only go forward");
	test_ok(ts_case_penalize(node, "李娜", id, NULL));
	/* deciding a penalty on an unfiled case; executing an undecided one */
	REFUSED(ts_case_decide(node, "李娜", id, "条例", 10000, 0, NULL), TS_EDENIED, "not filed");
	REFUSED(ts_case_execute(node, "李娜", id, NULL), TS_EDENIED, "no penalty decision");
	test_ok(ts_case_file(node, "李娜", id, NULL));
	REFUSED(ts_case_file(node, "李娜", id, NULL), TS_EDENIED, "already filed");
	REFUSED(ts_case_decide(node, "李娜", id, NULL, 10000, 0, NULL), TS_EINVALID,
		"a penalty decision needs its legal basis");
	REFUSED(ts_case_decide(node, "李娜", id, "", 10000, 0, NULL), TS_EINVALID, "needs its legal basis");
	REFUSED(ts_case_decide(node, "李娜", id, "条例", -1, 0, NULL), TS_EINVALID, "negative");
	test_ok(ts_case_decide(node, "李娜", id, "条例", 10000, 0, NULL));
	test_ok(ts_case_feedback(node, "李娜", id, NULL));
	/* closing a penalty not executed */
	REFUSED(ts_case_close(node, "李娜", id, NULL), TS_EDENIED, "not executed");
	test_ok(ts_case_execute(node, "李娜", id, NULL));
	REFUSED(ts_case_execute(node, "李娜", id, NULL), TS_EDENIED, "already executed");
	test_ok(ts_case_visit(node, "张敏", id, "dissatisfied", NULL));
	test_ok(ts_case_close(node, "李娜", id, NULL));

	/* a closed case: no edits, no steps, even after commit and reopen */
	test_ok(ts_node_commit(head, node, "closed", NULL));
	ts_node_free(node);
	test_ok(ts_node_open(&node, "n"));
	REFUSED(ts_case_edit(node, "李娜", id, &description, 1), TS_EDENIED, "closed");
	REFUSED(ts_case_update(node, "李娜", id, &description, 1), TS_EDENIED, "closed");
	REFUSED(ts_case_close(node, "李娜", id, NULL), TS_EDENIED, "closed");
	REFUSED(ts_case_educate(node, "李娜", id, NULL), TS_EDENIED, "closed");
	REFUSED(ts_case_transfer(node, "李娜", id, "公安", NULL), TS_EDENIED, "closed");
	REFUSED(ts_case_dispatch(node, "张敏", id, "王伟", NULL), TS_EDENIED, "closed");
	test_equal_i(query_int(node, "SELECT count(*) FROM ts_staged", NULL), 0);

	/* a return visit is for complaint cases only */
	test_ok(ts_case_new(&patrol, node, "王伟", "small_ads", "patrol", "景山前街 6号", NULL, 0));
	free(id);
	id = patrol;
	test_ok(ts_case_dispatch(node, "张敏", id, "李娜", NULL));
	test_ok(ts_case_educate(node, "李娜", id, NULL));
	test_ok(ts_case_feedback(node, "李娜", id, NULL));
	REFUSED(ts_case_visit(node, "张敏", id, "satisfied", NULL), TS_EDENIED, "not a complaint");
	/* non-lifecycle columns stay editable while the case is open */
	test_ok(ts_case_edit(node, "李娜", id, &description, 1));
	test_assert(column_is(node, id, "description", "堆物"));
	test_equal_i(query_int(node, "SELECT count(*) FROM case_events WHERE case_id = ?1 AND kind = 'note'", id), 1);
	test_assert(verified(node));

	ts_node_free(node);
	free(id);
	unsetenv("TIERSYNC_NOW");
}

void test_lifecycle__intake_sets_no_lifecycle_column(void)
{
	ts_node *node = NULL;
	char *id = NULL, *before = NULL, *after = NULL;
	ts_field closed = { "status", "closed" }, officer = { "officer", "李娜" };
	ts_field category = { "category", "outside_store" };
	ts_field ok[] = { { "description", "三处" }, { "lng", "116.397" }, { "lat", "39.918" } };

	clock_at(0);
	test_ok(new_node(&node, "n", "bj.dc.jingshan", TS_TIER_STREET));
	before = query_text(node, "SELECT (SELECT count(*) FROM cases) || '|' || (SELECT count(*) FROM case_events) "
		"|| '|' || (SELECT count(*) FROM ts_staged)", NULL);
	test_equal_i(ts_case_new(&id, node, "王伟", "small_ads", "patrol", "x", &closed, 1), TS_EDENIED);
	test_assert(strstr(ts_error_last(), "status") != NULL);
	test_equal_i(ts_case_new(&id, node, "王伟", "small_ads", "patrol", "x", &officer, 1), TS_EDENIED);
	test_error_says("cases.officer is not given at intake: a later step of the case sets it");
	test_equal_i(ts_case_new(&id, node, "王伟", "small_ads", "patrol", "x", &category, 1), TS_EDENIED);
	test_error_says("cases.category is not given at intake: the node sets it "
		"(category and source from those the case opens with)");
	test_equal_i(ts_case_new(&id, node, "王伟", "small_ads", "patrol", "", NULL, 0), TS_EINVALID);
	test_error_says("a new case needs its category, source and address");
	test_equal_i(ts_case_new(&id, node, "王伟", NULL, "patrol", "x", NULL, 0), TS_EINVALID);
	test_error_says("a new case needs its category, source and address");
	test_assert(id == NULL);
	after = query_text(node, "SELECT (SELECT count(*) FROM cases) || '|' || (SELECT count(*) FROM case_events) "
		"|| '|' || (SELECT count(*) FROM ts_staged)", NULL);
	test_equal_s(after, before);
	test_ok(ts_case_new(&id, node, "王伟", "small_ads", "patrol", "x", ok, 3));
	test_assert(column_is(node, id, "status", "discovered"));
	test_assert(column_is(node, id, "description", "三处"));
	test_equal_i(ts_case_update(node, "王伟", id, NULL, 0), TS_EINVALID);
	test_error_says("nothing to change: name a column and its new value");
	free(before);
	free(after);
	free(id);
	ts_node_free(node);
	unsetenv("TIERSYNC_NOW");
}

void test_lifecycle__device_case_belongs_to_its_street(void)
{
	ts_node *node = NULL;
	char *id = NULL;

	clock_at(0);
	test_ok(new_node(&node, "d", "bj.dc.jingshan.d07", TS_TIER_DEVICE));
	test_ok(ts_case_new(&id, node, "王伟", "small_ads", "patrol", "景山前街 4号", NULL, 0));
	test_assert(strncmp(id, "bj.dc.jingshan.d07-c", 20) == 0);
	test_assert(column_is(node, id, "jurisdiction", "bj.dc.jingshan"));
	test_assert(column_is(node, id, "created_by_node", "bj.dc.jingshan.d07"));
	test_equal_i(query_int(node, "SELECT count(*) FROM case_events WHERE case_id = ?1 AND node = 'bj.dc.jingshan.d07'", id), 1);
	/* small_ads: 3 days from the report */
	test_assert(column_is(node, id, "deadline", "2015-05-25T09:00:00+08:00"));
	free(id);
	ts_node_free(node);

	/* a street's and a district's own cases are theirs */
	test_ok(new_node(&node, "s", "bj.dc.jingshan", TS_TIER_STREET));
	test_ok(ts_case_new(&id, node, "王伟", "small_ads", "patrol", "x", NULL, 0));
	test_assert(column_is(node, id, "jurisdiction", "bj.dc.jingshan"));
	free(id);
	ts_node_free(node);
	test_ok(new_node(&node, "t", "bj.dc", TS_TIER_DISTRICT));
	test_ok(ts_case_new(&id, node, "王伟", "small_ads", "patrol", "x", NULL, 0));
	test_assert(column_is(node, id, "jurisdiction", "bj.dc"));
	free(id);
	ts_node_free(node);
	unsetenv("TIERSYNC_NOW");
}

void test_lifecycle__rules_set_by_the_upper_tiers(void)
{
	ts_node *node = NULL;
	char *id = NULL, *before = NULL, *after = NULL;
	int64_t v = 0;
	ts_case_rule district[] = {
		{ "major_threshold", NULL, 500000 },          /* 5,000 yuan */
		{ "deadline_days", "small_ads", 5 },
		{ "immediate_penalty", "small_ads", 1 },
	};
	ts_case_rule city = { "major_threshold", NULL, 2000000 };
	ts_case_rule bad[] = {
		{ "deadline_days", "small_ads", 0 },
		{ "deadline_days", "flying_saucer", 3 },
		{ "immediate_penalty", "small_ads", 2 },
		{ "major_threshold", NULL, -1 },
		{ "major_threshold", "small_ads", 1 },
		{ "speed_limit", NULL, 1 },
	};
	size_t i;

	clock_at(0);
	/* a street may not set them */
	test_ok(new_node(&node, "s", "bj.dc.jingshan", TS_TIER_STREET));
	before = query_text(node, "SELECT count(*) || '|' || (SELECT count(*) FROM ts_staged) FROM case_rules", NULL);
	test_equal_i(ts_case_rules_set(node, "张敏", district, 3), TS_EDENIED);
	test_assert(strstr(ts_error_last(), "city or a district") != NULL);
	after = query_text(node, "SELECT count(*) || '|' || (SELECT count(*) FROM ts_staged) FROM case_rules", NULL);
	test_equal_s(after, before);
	free(before);
	free(after);
	ts_node_free(node);
	test_ok(new_node(&node, "d", "bj.dc.jingshan.d07", TS_TIER_DEVICE));
	test_equal_i(ts_case_rules_set(node, "张敏", district, 3), TS_EDENIED);
	ts_node_free(node);

	/* a district sets them for its own jurisdiction */
	test_ok(new_node(&node, "dc", "bj.dc", TS_TIER_DISTRICT));
	before = query_text(node, "SELECT count(*) || '|' || (SELECT count(*) FROM ts_staged) FROM case_rules", NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ts_case_rule two[2] = { district[0], bad[i] };
		test_equal_i(ts_case_rules_set(node, "张敏", two, 2), TS_EINVALID);
		after = query_text(node, "SELECT count(*) || '|' || (SELECT count(*) FROM ts_staged) FROM case_rules", NULL);
		test_equal_s(after, before);
		free(after);
	}
	free(before);
	test_ok(ts_case_rules_set(node, "张敏", district, 3));
	test_equal_i(query_int(node, "SELECT count(*) FROM case_rules WHERE scope = 'bj.dc' AND set_by = '张敏' "
		"AND set_at = '2015-05-22T09:00:00+08:00'", NULL), 3);
	/* setting again replaces */
	district[0].value = 600000;
	test_ok(ts_case_rules_set(node, "张敏", district, 1));
	test_equal_i(query_int(node, "SELECT value FROM case_rules WHERE scope = 'bj.dc' AND rule = 'major_threshold'",
		NULL), 600000);

	/* the longest scope wins: the district's for its streets, the default elsewhere */
	test_ok(ts_case__rule(&v, ts_node_db(node), "bj.dc.jingshan", "major_threshold", NULL));
	test_equal_i(v, 600000);
	test_ok(ts_case__rule(&v, ts_node_db(node), "bj.dc", "deadline_days", "small_ads"));
	test_equal_i(v, 5);
	test_ok(ts_case__rule(&v, ts_node_db(node), "bj.xc.a", "major_threshold", NULL));
	test_equal_i(v, 1000000);
	/* 'bj.dcx' is not below 'bj.dc' */
	test_ok(ts_case__rule(&v, ts_node_db(node), "bj.dcx", "major_threshold", NULL));
	test_equal_i(v, 1000000);
	test_equal_i(ts_case__rule(&v, ts_node_db(node), "bj.xc", "deadline_days", "small_ads"), TS_ENOTFOUND);

	/* a district case follows them: 5 days, penalized at once, major from 6,000 yuan */
	test_ok(ts_case_new(&id, node, "王伟", "small_ads", "patrol", "东直门内大街 5号", NULL, 0));
	test_assert(column_is(node, id, "deadline", "2015-05-27T09:00:00+08:00"));
	test_ok(ts_case_dispatch(node, "张敏", id, "李娜", NULL));
	test_ok(ts_case_penalize(node, "李娜", id, NULL));
	test_ok(ts_case_file(node, "李娜", id, NULL));
	test_ok(ts_case_decide(node, "李娜", id, "条例", 600000, 0, NULL));
	test_assert(column_is(node, id, "major", "1"));
	free(id);
	test_assert(verified(node));
	ts_node_free(node);

	/* a city's rule covers its districts unless a district has its own */
	test_ok(new_node(&node, "bj", "bj", TS_TIER_CITY));
	test_ok(ts_case_rules_set(node, "刘洋", &city, 1));
	test_ok(ts_case__rule(&v, ts_node_db(node), "bj.xc.a", "major_threshold", NULL));
	test_equal_i(v, 2000000);
	ts_node_free(node);
	unsetenv("TIERSYNC_NOW");
}

void test_lifecycle__yuan_parse(void)
{
	static const struct { const char *text; int64_t fen; } good[] = {
		{ "0", 0 }, { "200", 20000 }, { "200.5", 20050 }, { "200.50", 20050 }, { "1234.56", 123456 },
		{ "0.01", 1 }, { "999999999999.99", 99999999999999LL },
	};
	static const char *const bad[] = {
		"", "-5", "+5", "1e3", "1.234", "1.", ".5", "abc", "12 ", " 12", "1,000", "0x10", "1000000000000",
	};
	int64_t fen;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		test_ok(ts_case_yuan_parse(&fen, good[i].text));
		test_equal_i(fen, good[i].fen);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		test_equal_i(ts_case_yuan_parse(&fen, bad[i]), TS_EINVALID);
		test_assert(strstr(ts_error_last(), "yuan") != NULL);
	}
	test_equal_i(ts_case_yuan_parse(&fen, NULL), TS_EINVALID);
}

void test_lifecycle__column_steps(void)
{
	static const char *const editable[] = {
		"description", "address", "lng", "lat", "complainant_name", "complainant_phone", "key_area_id", "event_id",
	};
	ts_node *node = NULL;
	size_t i;
	long long lifecycle;

	for (i = 0; i < sizeof(editable) / sizeof(editable[0]); i++)
		test_assert(ts_case_column_step(editable[i]) == NULL);
	test_equal_s(ts_case_column_step("officer"), "dispatch");
	test_equal_s(ts_case_column_step("visited_at"), "visit");
	test_equal_s(ts_case_column_step("filed_up_at"), "file-up");
	/* every column of cases is either editable, owned by a step, or fixed */
	test_ok(new_node(&node, "n", "bj.dc.jingshan", TS_TIER_STREET));
	lifecycle = 0;
	{
		sqlite3_stmt *st = NULL;
		test_assert(sqlite3_prepare_v2(ts_node_db(node), "SELECT name FROM pragma_table_info('cases')",
			-1, &st, NULL) == SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW)
			if (ts_case_column_step((const char *)sqlite3_column_text(st, 0)))
				lifecycle++;
		sqlite3_finalize(st);
	}
	test_equal_s(ts_case_column_step("first_officer"), "dispatch");
	/* 35 columns: 8 editable, id, created_by_node and patrol_id (set at intake with its
	 * patrol, node/patrols.c) fixed, 24 set by intake or a step */
	test_equal_i(query_int(node, "SELECT count(*) FROM pragma_table_info('cases')", NULL), 35);
	test_equal_i(lifecycle, 24);
	ts_node_free(node);
}

/* --- separation of duties ---------------------------------------------- */

static int sql_exec(sqlite3 *db, void *payload)
{
	return sqlite3_exec(db, (const char *)payload, NULL, NULL, NULL) == SQLITE_OK ? 0 :
		ts_error_set(TS_ERROR, "%s", sqlite3_errmsg(db));
}

/* `lower` pushes its main to `upper`, which merges it (one submission). */
static int push_up(ts_node *lower, ts_node *upper)
{
	char ref[128];
	int error;

	snprintf(ref, sizeof(ref), "refs/submissions/%s", ts_node_id(lower));
	if ((error = ts_test_transfer(lower, upper, ref)) < 0)
		return error;
	return ts_node_merge_submissions(upper, NULL, NULL, NULL);
}

/* `lower` pulls `upper`'s main. */
static int pull_down(ts_node *lower, ts_node *upper)
{
	char id[41];
	int error;

	if ((error = ts_test_transfer(upper, lower, "refs/remotes/upstream/main")) < 0)
		return error;
	return ts_node_merge(id, NULL, lower, "refs/remotes/upstream/main", NULL, "pull\n");
}

/* A street whose major case is decided (20,000 yuan of illegal building,
 * by 李娜), and its district, which enrolled it; nothing synced yet. */
static char *decided_at_street(ts_node **dc, ts_node **st)
{
	char *id = NULL, head[41];

	clock_at(0);
	*dc = ts_test_node("dc", TS_TIER_DISTRICT, "bj.dc", "区法制科");
	*st = ts_test_node("st", TS_TIER_STREET, "bj.dc.jingshan", "值班员");
	if (!*dc || !*st || ts_test_enroll(*dc, *st) < 0 ||
	    ts_case_new(&id, *st, "王伟", "illegal_building", "patrol", "景山东街 2号院", NULL, 0) < 0)
		return id;
	tick();
	if (ts_case_dispatch(*st, "张敏", id, "李娜", NULL) < 0 || ts_case_penalize(*st, "李娜", id, NULL) < 0 ||
	    ts_case_file(*st, "李娜", id, NULL) < 0 ||
	    ts_case_decide(*st, "李娜", id, "《城乡规划法》第六十四条", 2000000, 0, NULL) < 0 ||
	    ts_node_commit(head, *st, "decided", NULL) < 0) {
		free(id);
		return NULL;
	}
	return id;
}

void test_lifecycle__review_at_the_street_refused_naming_the_district(void)
{
	ts_node *dc = NULL, *node = NULL;
	char *id = decided_at_street(&dc, &node);

	test_assert(id != NULL);
	/* one officer on a street cannot take the case through its review */
	tick();
	REFUSED(ts_case_review(node, "赵法", id, 1, "赵法", NULL), TS_EDENIED, "made at the district (bj.dc), "
		"not at a street node (bj.dc.jingshan)");
	REFUSED(ts_case_review(node, "李娜", id, 1, NULL, NULL), TS_EDENIED, "made at the district (bj.dc)");
	REFUSED(ts_case_file_up(node, "李娜", id, NULL), TS_EDENIED, "not approved");
	REFUSED(ts_case_execute(node, "李娜", id, NULL), TS_EDENIED, "pending");
	test_assert(column_is(node, id, "review_status", "pending"));
	ts_node_free(dc);
	ts_node_free(node);
	free(id);
	unsetenv("TIERSYNC_NOW");
}

void test_lifecycle__review_tier_rule_moves_the_review_to_the_city(void)
{
	ts_node *node = NULL;
	ts_case_rule to_city = { "review_tier", NULL, 1 }, bad = { "review_tier", NULL, 3 };
	ts_case_rule per_category = { "review_tier", "small_ads", 1 };
	char *id = NULL;
	int64_t v = 0;

	clock_at(0);
	/* the district's own case, its rule: the city reviews */
	test_ok(new_node(&node, "n", "bj.dc", TS_TIER_DISTRICT));
	test_ok(ts_case_rule_value(&v, node, NULL, "review_tier", NULL));
	test_equal_i(v, 2);
	test_equal_i(ts_case_rules_set(node, "张敏", &bad, 1), TS_EINVALID);
	test_error_says("city (1) or a district (2)");
	test_equal_i(ts_case_rules_set(node, "张敏", &per_category, 1), TS_EINVALID);
	test_error_says("not per category");
	test_ok(ts_case_rules_set(node, "张敏", &to_city, 1));
	test_ok(ts_case_rule_value(&v, node, "bj.dc.jingshan", "review_tier", NULL));
	test_equal_i(v, 1);
	test_ok(ts_case_rule_value(&v, node, "bj.dx", "review_tier", NULL));
	test_equal_i(v, 2);   /* another district keeps the default */

	test_ok(ts_case_new(&id, node, "王伟", "illegal_building", "patrol", "景山东街 2号院", NULL, 0));
	tick(); test_ok(ts_case_dispatch(node, "张敏", id, "李娜", NULL));
	tick(); test_ok(ts_case_penalize(node, "李娜", id, NULL));
	tick(); test_ok(ts_case_file(node, "李娜", id, NULL));
	tick(); test_ok(ts_case_decide(node, "李娜", id, "《城乡规划法》第六十四条", 2000000, 0, NULL));
	tick();
	REFUSED(ts_case_review(node, "赵法", id, 1, NULL, NULL), TS_EDENIED,
		"made at the city (bj), not at a district node (bj.dc)");
	ts_node_free(node);
	free(id);
	unsetenv("TIERSYNC_NOW");
}

void test_lifecycle__review_by_another_district_refused(void)
{
	ts_node *node = NULL;
	const char *id = "bj.dc.jingshan-c20150522-0001";

	clock_at(0);
	test_ok(new_node(&node, "n", "bj.xc", TS_TIER_DISTRICT));
	/* a decided major case of another district's street, as sync brings it */
	test_ok(ts_test_arrive(node, "INSERT INTO cases (id, source, category, address, jurisdiction, status, "
		"reported_at, deadline, stage, filed_at, legal_basis, penalty_amount, decided_at, major, "
		"review_status, created_by_node) VALUES ('bj.dc.jingshan-c20150522-0001', 'patrol', "
		"'illegal_building', '景山东街 2号院', 'bj.dc.jingshan', 'handling', '2015-05-22T09:00:00+08:00', "
		"'2015-06-21T09:00:00+08:00', 'penalize', '2015-05-22T09:01:00+08:00', '《城乡规划法》第六十四条', "
		"2000000, '2015-05-22T09:02:00+08:00', 1, 'pending', 'bj.dc.jingshan');"
		"INSERT INTO case_events (id, case_id, at, kind, officer, node) VALUES ('bj.dc.jingshan-e1', "
		"'bj.dc.jingshan-c20150522-0001', '2015-05-22T09:02:00+08:00', 'decide', '李娜', 'bj.dc.jingshan')"));
	tick();
	REFUSED(ts_case_review(node, "赵法", id, 1, NULL, NULL), TS_EDENIED,
		"made at the district (bj.dc), not at bj.xc, whose jurisdiction does not hold the case");
	test_equal_i(ts_case_file_up_ack(node, "赵法", id, NULL), TS_EDENIED);
	test_error_says("not been filed up");
	ts_node_free(node);
	unsetenv("TIERSYNC_NOW");
}

void test_lifecycle__self_review_refused(void)
{
	ts_node *node = NULL;
	char *id = NULL;

	clock_at(0);
	test_ok(new_node(&node, "n", "bj.dc", TS_TIER_DISTRICT));
	test_ok(ts_case_new(&id, node, "王伟", "illegal_building", "patrol", "景山东街 2号院", NULL, 0));
	tick(); test_ok(ts_case_dispatch(node, "张敏", id, "李娜", NULL));
	tick(); test_ok(ts_case_penalize(node, "李娜", id, NULL));
	tick(); test_ok(ts_case_file(node, "李娜", id, NULL));
	tick(); test_ok(ts_case_decide(node, "李娜", id, "《城乡规划法》第六十四条", 2000000, 0, NULL));
	tick();
	/* named as reviewer, or as the author without one: the decider either way */
	REFUSED(ts_case_review(node, "值班员", id, 1, "李娜", NULL), TS_EDENIED,
		"decision was made by 李娜; its legal review (法制审核) is made by someone else");
	REFUSED(ts_case_review(node, "李娜", id, 1, NULL, NULL), TS_EDENIED, "made by 李娜");
	/* a new decision after a rejection is judged by its own decider */
	test_ok(ts_case_review(node, "赵法", id, 0, NULL, "裁量过重"));
	tick(); test_ok(ts_case_decide(node, "赵法", id, "《城乡规划法》第六十四条", 1500000, 0, NULL));
	tick();
	REFUSED(ts_case_review(node, "赵法", id, 1, NULL, NULL), TS_EDENIED, "made by 赵法");
	test_ok(ts_case_review(node, "李娜", id, 1, NULL, NULL));
	test_assert(column_is(node, id, "review_status", "approved"));
	test_assert(column_is(node, id, "reviewer", "李娜"));
	ts_node_free(node);
	free(id);
	unsetenv("TIERSYNC_NOW");
}

static int see_filing(const ts_case_filing_info *f, void *payload)
{
	ts_test_seen *s = payload;
	ts_test_seen_add(s, "%s|%s|%s|%s|%lld|%s|%s|%s", f->case_id, f->filed_by, f->node, f->filed_with,
		(long long)f->penalty_amount, OR_NULL(f->reviewer), OR_NULL(f->acked_by), OR_NULL(f->ack_note));
	return ts_test_seen_next(s);
}

void test_lifecycle__review_at_the_district_after_sync_then_filing_acknowledged(void)
{
	ts_node *dc = NULL, *node = NULL;
	ts_case_filing_filter pending = TS_CASE_FILING_FILTER_INIT, bad = { 99, 0 };
	ts_test_seen s;
	char *id = decided_at_street(&dc, &node), head[41], want[512];

	test_assert(id != NULL);
	/* the decision reaches the district by sync: reviewed there */
	test_ok(push_up(node, dc));
	tick();
	{
		ts_node *street = node;
		node = dc;   /* REFUSED judges the node it names */
		REFUSED(ts_case_review(dc, "区法制科", id, 1, "李娜", NULL), TS_EDENIED, "made by 李娜");
		node = street;
	}
	test_ok(ts_case_review(dc, "区法制科", id, 1, "赵法", "依据充分"));
	test_assert(column_is(dc, id, "review_status", "approved"));
	test_assert(column_is(dc, id, "reviewer", "赵法"));
	test_equal_i(query_int(dc, "SELECT count(*) FROM case_events WHERE case_id = ?1 AND kind = 'review' "
		"AND officer = '赵法' AND node = 'bj.dc'", id), 1);
	test_ok(ts_node_commit(head, dc, "法制审核", NULL));

	/* back at the street: executed and filed up with the district */
	test_ok(pull_down(node, dc));
	test_assert(column_is(node, id, "review_status", "approved"));
	tick(); test_ok(ts_case_execute(node, "李娜", id, NULL));
	tick(); test_ok(ts_case_file_up(node, "张敏", id, "报区局备案"));
	test_equal_i(query_int(node, "SELECT count(*) FROM case_filings WHERE case_id = ?1 AND filed_by = '张敏' "
		"AND node = 'bj.dc.jingshan' AND filed_with = 'bj.dc' AND acked_at IS NULL", id), 1);
	/* the street cannot acknowledge its own filing */
	REFUSED(ts_case_file_up_ack(node, "张敏", id, NULL), TS_EDENIED, "a district or the city");
	tick(); test_ok(ts_case_feedback(node, "李娜", id, NULL));
	/* closing waits for no acknowledgement: the filing is a record */
	tick(); test_ok(ts_case_close(node, "张敏", id, NULL));
	test_ok(ts_node_commit(head, node, "备案, 办结", NULL));

	/* the district has something to act on */
	test_ok(push_up(node, dc));
	memset(&s, 0, sizeof(s));
	pending.pending_only = 1;
	test_equal_i(ts_case_filings(dc, &bad, see_filing, &s), TS_EINVALID);
	test_equal_i(s.calls, 0);
	test_ok(ts_case_filings(dc, &pending, see_filing, &s));
	snprintf(want, sizeof(want), "%s|张敏|bj.dc.jingshan|bj.dc|2000000|赵法|NULL|NULL", id);
	test_equal_s(s.text, want);
	tick();
	test_ok(ts_case_file_up_ack(dc, "刘局", id, "已备案"));
	test_equal_i(ts_case_file_up_ack(dc, "刘局", id, NULL), TS_EDENIED);
	test_error_says("already acknowledged by 刘局");
	test_equal_i(ts_case_file_up_ack(dc, "刘局", "bj.dc.jingshan-c20150522-9999", NULL), TS_ENOTFOUND);
	memset(&s, 0, sizeof(s));
	test_ok(ts_case_filings(dc, &pending, see_filing, &s));
	test_equal_i(s.calls, 0);
	memset(&s, 0, sizeof(s));
	test_ok(ts_case_filings(dc, NULL, see_filing, &s));
	snprintf(want, sizeof(want), "%s|张敏|bj.dc.jingshan|bj.dc|2000000|赵法|刘局|已备案", id);
	test_equal_s(s.text, want);
	test_equal_i(query_int(dc, "SELECT count(*) FROM case_events WHERE case_id = ?1 AND kind = 'note' "
		"AND officer = '刘局' AND node = 'bj.dc'", id), 1);
	test_ok(ts_node_commit(head, dc, "备案确认", NULL));
	test_ok(pull_down(node, dc));
	test_assert(query_int(node, "SELECT count(*) FROM case_filings WHERE acked_by = '刘局'", NULL) == 1);
	test_assert(verified(node));
	test_assert(verified(dc));
	ts_node_free(dc);
	ts_node_free(node);
	free(id);
	unsetenv("TIERSYNC_NOW");
}

typedef struct {
	char officer[64], first[64];
} officers_seen;

static int see_officers(const ts_case_info *c, void *payload)
{
	officers_seen *o = payload;
	snprintf(o->officer, sizeof(o->officer), "%s", OR_NULL(c->officer));
	snprintf(o->first, sizeof(o->first), "%s", OR_NULL(c->first_officer));
	return 0;
}

void test_lifecycle__redispatch_keeps_the_first_officer(void)
{
	ts_node *node = NULL;
	ts_field first = { "first_officer", "陈刚" };
	officers_seen o;
	char *id = NULL;

	clock_at(0);
	test_ok(new_node(&node, "n", "bj.dc.jingshan", TS_TIER_STREET));
	test_ok(ts_case_new(&id, node, "王伟", "small_ads", "patrol", "景山前街 4号", NULL, 0));
	memset(&o, 0, sizeof(o));
	test_ok(ts_case_get(node, id, see_officers, &o));
	test_equal_s(o.first, "NULL");
	tick(); test_ok(ts_case_dispatch(node, "张敏", id, "李娜", NULL));
	tick(); test_ok(ts_case_dispatch(node, "张敏", id, "王强", "李娜调岗"));
	test_assert(column_is(node, id, "officer", "王强"));
	test_assert(column_is(node, id, "first_officer", "李娜"));
	memset(&o, 0, sizeof(o));
	test_ok(ts_case_get(node, id, see_officers, &o));
	test_equal_s(o.officer, "王强");
	test_equal_s(o.first, "李娜");
	/* it is the dispatch's, not an edit */
	REFUSED(ts_case_edit(node, "张敏", id, &first, 1), TS_EDENIED, "dispatch");
	ts_node_free(node);
	free(id);
	unsetenv("TIERSYNC_NOW");
}

void test_lifecycle__lower_node_cannot_write_the_upper_tiers_part(void)
{
	ts_node *dc = NULL, *node = NULL;
	char *id = decided_at_street(&dc, &node), sql[512], before[41], after[41], head[41];
	int staged;

	test_assert(id != NULL);
	staged = (int)query_int(node, "SELECT count(*) FROM ts_staged", NULL);
	/* by hand, through the local write check: refused before staging */
	snprintf(sql, sizeof(sql), "UPDATE cases SET review_status = 'approved', reviewer = '赵法', "
		"reviewed_at = '2015-05-22T10:00:00+08:00' WHERE id = '%s'", id);
	test_equal_i(ts_node_write(node, "李娜", "forged review", sql_exec, sql), TS_EDENIED);
	test_error_says("bj.dc.jingshan may not change cases.review_status");
	snprintf(sql, sizeof(sql), "UPDATE cases SET reviewer = '赵法' WHERE id = '%s'", id);
	test_equal_i(ts_node_write(node, "李娜", "forged reviewer", sql_exec, sql), TS_EDENIED);
	test_error_says("cases.reviewer");
	snprintf(sql, sizeof(sql), "INSERT INTO case_filings (case_id, filed_at, filed_by, node, filed_with, "
		"acked_at, acked_by) VALUES ('%s', '2015-05-22T10:00:00+08:00', '张敏', 'bj.dc.jingshan', 'bj.dc', "
		"'2015-05-22T10:00:00+08:00', '刘局')", id);
	test_equal_i(ts_node_write(node, "张敏", "forged acknowledgement", sql_exec, sql), TS_EDENIED);
	test_error_says("with acked_at set");
	test_equal_i(query_int(node, "SELECT count(*) FROM ts_staged", NULL), staged);
	/* a filing without its acknowledgement is the street's to write */
	snprintf(sql, sizeof(sql), "INSERT INTO case_filings (case_id, filed_at, filed_by, node, filed_with) "
		"VALUES ('%s', '2015-05-22T10:00:00+08:00', '张敏', 'bj.dc.jingshan', 'bj.dc')", id);
	test_ok(ts_node_write(node, "张敏", "a filing", sql_exec, sql));
	test_ok(ts_node_commit(head, node, "a filing", NULL));
	test_ok(push_up(node, dc));

	/* past its own check, in a submission: refused whole at the district */
	snprintf(sql, sizeof(sql), "UPDATE cases SET review_status = 'approved', reviewer = '赵法', "
		"reviewed_at = '2015-05-22T10:00:00+08:00' WHERE id = '%s'", id);
	test_ok(ts_node__write_as(node, "bj.dc", "李娜", "forged review", sql_exec, sql));
	test_ok(ts_node_commit(head, node, "forged review", NULL));
	test_ok(ts_node_head(before, dc));
	test_equal_i(push_up(node, dc), TS_EDENIED);
	test_ok(ts_node_head(after, dc));
	test_equal_s(after, before);
	test_assert(column_is(dc, id, "review_status", "pending"));
	ts_node_free(dc);
	ts_node_free(node);
	free(id);
	unsetenv("TIERSYNC_NOW");
}
