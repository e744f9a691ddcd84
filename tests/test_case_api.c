/*
 * Unit tests of the calls that read cases (include/tiersync/cases.h):
 * ts_case_list (order, the status and overdue filters, the node's clock, a
 * filter of an unknown version), ts_case_get (every column), ts_case_events
 * (their order), ts_case_rules_in_force and ts_case_rule_value (the rule of
 * the narrowest scope, the defaults without one).
 *
 * Rows that must arrive out of order are laid down with plain SQL through
 * ts_node_write(), as the sync engine would apply them; the rest are made
 * with the public calls.
 */
#include "harness.h"

#include <stdarg.h>
#include <stdlib.h>
#include <time.h>

#include <sqlite3.h>

#include "node.h"
#include "nodes.h"
#include "tiersync.h"

/* 2015-05-22 09:00:00 +08:00 */
#define T0 1432256400LL

/* Sets the node's clock (TIERSYNC_NOW) to T0 + `seconds`. */
static void clock_at(long long seconds)
{
	char v[32];
	snprintf(v, sizeof(v), "%lld", T0 + seconds);
	setenv("TIERSYNC_NOW", v, 1);
}

/* Sets the clock to a time of the schema's form, read as Beijing time. */
static void clock_on(int y, int mo, int d, int h)
{
	struct tm tm;
	char v[32];

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	snprintf(v, sizeof(v), "%lld", (long long)timegm(&tm) - 8 * 3600);
	setenv("TIERSYNC_NOW", v, 1);
}

static ts_node *open_node(const char *dir, ts_tier tier, const char *id)
{
	return ts_test_node(dir, tier, id, "值班员");
}

/*
 * Listing cases.
 */

/* Four cases of jingshan whose report order is not their id order: c3
 * first; c1 and c2 at the same time (then by id); c0 last. c3 is due on
 * 4 May, c2 on 1 June; c1 is closed and c0 transferred, each past its
 * deadline. */
#define CASES \
	"INSERT INTO cases (id, source, category, address, jurisdiction, status, officer, reported_at, deadline," \
	"  created_by_node, closed_at, transfer_to, transferred_at) VALUES" \
	" ('bj.dc.jingshan-c3', 'patrol', 'small_ads', '景山前街 1号', 'bj.dc.jingshan', 'discovered', NULL," \
	"   '2015-05-01T09:00:00+08:00', '2015-05-04T09:00:00+08:00', 'bj.dc.jingshan', NULL, NULL, NULL)," \
	" ('bj.dc.jingshan-c1', 'complaint', 'outdoor_bbq', '沙滩北街 2号', 'bj.dc.jingshan', 'closed', '王伟'," \
	"   '2015-05-02T09:00:00+08:00', '2015-05-03T09:00:00+08:00', 'bj.dc.jingshan'," \
	"   '2015-05-02T18:00:00+08:00', NULL, NULL)," \
	" ('bj.dc.jingshan-c2', 'video', 'illegal_building', '五四大街 3号', 'bj.dc.jingshan', 'dispatched', '李娜'," \
	"   '2015-05-02T09:00:00+08:00', '2015-06-01T09:00:00+08:00', 'bj.dc.jingshan', NULL, NULL, NULL)," \
	" ('bj.dc.jingshan-c0', 'referral', 'muck_spill', '东四北大街 4号', 'bj.dc.jingshan', 'transferred', '赵刚'," \
	"   '2015-05-03T09:00:00+08:00', '2015-05-04T09:00:00+08:00', 'bj.dc.jingshan', NULL, '区环境保护局'," \
	"   '2015-05-03T10:00:00+08:00')"

static int see_case_id(const ts_case_info *c, void *payload)
{
	ts_test_seen *s = payload;
	ts_test_seen_add(s, "%s%s", c->id + strlen("bj.dc.jingshan-"), c->overdue ? "!" : "");
	return ts_test_seen_next(s);
}

/* The cases a filter lists, by the end of their ids, "!" marking the overdue. */
static const char *cases_of(ts_node *node, const ts_case_filter *filter)
{
	static ts_test_seen s;
	memset(&s, 0, sizeof(s));
	if (ts_case_list(node, filter, see_case_id, &s) < 0)
		return "(failed)";
	return s.text;
}

void test_case_api__list_order_and_filters(void)
{
	ts_node *st = open_node("st", TS_TIER_STREET, "bj.dc.jingshan");
	ts_case_filter f = TS_CASE_FILTER_INIT;
	ts_test_seen s;

	test_assert(st);
	test_ok(ts_test_arrive(st, CASES));
	clock_on(2015, 5, 2, 12);

	/* by report time, then id; nothing is overdue yet */
	test_equal_s(cases_of(st, NULL), "c3 c1 c2 c0");
	test_equal_s(cases_of(st, &f), "c3 c1 c2 c0");

	f.status = "dispatched";
	test_equal_s(cases_of(st, &f), "c2");
	f.status = "closed";
	test_equal_s(cases_of(st, &f), "c1");
	f.status = "no such status";
	test_equal_s(cases_of(st, &f), "");

	/* a non-zero return stops the list and is returned as it is */
	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	test_equal_i(ts_case_list(st, NULL, see_case_id, &s), 7);
	test_equal_i(s.calls, 2);
	test_equal_s(s.text, "c3 c1");

	ts_node_free(st);
	unsetenv("TIERSYNC_NOW");
}

void test_case_api__overdue_by_the_nodes_clock(void)
{
	ts_node *st = open_node("st", TS_TIER_STREET, "bj.dc.jingshan");
	ts_case_filter f = TS_CASE_FILTER_INIT;

	test_assert(st);
	test_ok(ts_test_arrive(st, CASES));
	f.overdue_only = 1;

	/* before any deadline: none */
	clock_on(2015, 5, 2, 12);
	test_equal_s(cases_of(st, &f), "");

	/* at c3's deadline to the second: not yet overdue */
	clock_on(2015, 5, 4, 9);
	test_equal_s(cases_of(st, &f), "");

	/* a second later c3 is; the closed c1 and the transferred c0, though
	 * past their deadlines, never are */
	clock_at(-18 * 86400 + 1);   /* 2015-05-04T09:00:01+08:00 */
	test_equal_s(cases_of(st, &f), "c3!");
	test_equal_s(cases_of(st, NULL), "c3! c1 c2 c0");

	/* in June c2 too; with a status, only the overdue of that status */
	clock_on(2015, 6, 2, 9);
	test_equal_s(cases_of(st, &f), "c3! c2!");
	f.status = "dispatched";
	test_equal_s(cases_of(st, &f), "c2!");
	f.status = "closed";
	test_equal_s(cases_of(st, &f), "");

	ts_node_free(st);
	unsetenv("TIERSYNC_NOW");
}

void test_case_api__bad_filter_version_refused(void)
{
	ts_node *st = open_node("st", TS_TIER_STREET, "bj.dc.jingshan");
	ts_case_filter f = TS_CASE_FILTER_INIT;
	ts_test_seen s;

	test_assert(st);
	test_ok(ts_test_arrive(st, CASES));
	memset(&s, 0, sizeof(s));
	f.version = TS_CASE_FILTER_VERSION + 1;
	test_equal_i(ts_case_list(st, &f, see_case_id, &s), TS_EINVALID);
	test_assert(strstr(ts_error_last(), "case filter"));
	f.version = 0;
	test_equal_i(ts_case_list(st, &f, see_case_id, &s), TS_EINVALID);
	test_equal_i(s.calls, 0);
	/* no callback, no list */
	test_equal_i(ts_case_list(st, NULL, NULL, NULL), TS_EINVALID);
	ts_node_free(st);
}

/*
 * One case and its events.
 */

static int see_case_whole(const ts_case_info *c, void *payload)
{
	ts_test_seen *s = payload;
	char lng[32] = "NULL", lat[32] = "NULL";

	if (c->has_lng)
		snprintf(lng, sizeof(lng), "%.6f", c->lng);
	if (c->has_lat)
		snprintf(lat, sizeof(lat), "%.6f", c->lat);
	ts_test_seen_add(s, "%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%lld|%s|%d|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|"
		"%s|%s|%s|%s|%d", c->id, c->source, c->category, c->address, lng, lat,
		c->jurisdiction, OR_NULL(c->description), c->status, OR_NULL(c->officer), c->reported_at,
		c->deadline, OR_NULL(c->stage), OR_NULL(c->filed_at), OR_NULL(c->legal_basis),
		(long long)c->penalty_amount, OR_NULL(c->decided_at), c->major, OR_NULL(c->review_status),
		OR_NULL(c->reviewer), OR_NULL(c->reviewed_at), OR_NULL(c->filed_up_at), OR_NULL(c->executed_at),
		OR_NULL(c->transfer_to), OR_NULL(c->transferred_at), OR_NULL(c->complainant_name),
		OR_NULL(c->complainant_phone), OR_NULL(c->visited_at), OR_NULL(c->satisfaction),
		OR_NULL(c->key_area_id), OR_NULL(c->event_id), c->created_by_node, OR_NULL(c->closed_at), c->overdue);
	return ts_test_seen_next(s);
}

static int see_event(const ts_case_event_info *e, void *payload)
{
	ts_test_seen *s = payload;
	ts_test_seen_add(s, "%s|%s|%s|%s|%s", e->at + 11, e->kind, e->officer, e->node, OR_NULL(e->detail));
	return ts_test_seen_next(s);
}

static int see_event_kind(const ts_case_event_info *e, void *payload)
{
	ts_test_seen *s = payload;
	ts_test_seen_add(s, "%s", e->kind);
	return ts_test_seen_next(s);
}

void test_case_api__get_every_column(void)
{
	ts_node *st = open_node("st", TS_TIER_STREET, "bj.dc.jingshan");
	ts_field place[] = { { "description", "新增违法建设" }, { "lng", "116.397128" }, { "lat", "39.9" },
		{ "complainant_name", "刘女士" }, { "complainant_phone", "13800000000" } };
	char *id = NULL, *bare = NULL, want[2048];
	ts_test_seen s;

	test_assert(st);
	clock_at(0);
	test_ok(ts_case_new(&id, st, "王伟", "illegal_building", "complaint", "五四大街 1号", place, 5));
	test_ok(ts_case_new(&bare, st, "王伟", "small_ads", "patrol", "景山前街 4号", NULL, 0));

	/* as recorded: open, nothing decided, the deadline 30 days on */
	memset(&s, 0, sizeof(s));
	test_ok(ts_case_get(st, id, see_case_whole, &s));
	test_equal_i(s.calls, 1);
	snprintf(want, sizeof(want), "%s|complaint|illegal_building|五四大街 1号|116.397128|39.900000|"
		"bj.dc.jingshan|新增违法建设|discovered|NULL|2015-05-22T09:00:00+08:00|2015-06-21T09:00:00+08:00|"
		"NULL|NULL|NULL|-1|NULL|0|NULL|NULL|NULL|NULL|NULL|NULL|NULL|刘女士|13800000000|NULL|NULL|NULL|NULL|"
		"bj.dc.jingshan|NULL|0", id);
	test_equal_s(s.text, want);

	/* through a major penalty to its close, a minute a step */
	clock_at(60);
	test_ok(ts_case_dispatch(st, "值班员", id, "张强", NULL));
	clock_at(120);
	test_ok(ts_case_penalize(st, "张强", id, NULL));
	clock_at(180);
	test_ok(ts_case_file(st, "张强", id, NULL));
	clock_at(240);
	test_ok(ts_case_decide(st, "张强", id, "《北京市城乡规划条例》第六十六条", 2000000, 0, NULL));
	clock_at(300);
	{
		/* the legal review is the district's: it arrives by sync */
		char review[512];
		snprintf(review, sizeof(review), "UPDATE cases SET review_status = 'approved', reviewer = '周明', "
			"reviewed_at = '2015-05-22T09:05:00+08:00' WHERE id = '%s'", id);
		test_ok(ts_test_arrive(st, review));
	}
	clock_at(360);
	test_ok(ts_case_file_up(st, "张强", id, NULL));
	clock_at(420);
	test_ok(ts_case_execute(st, "张强", id, "罚款已缴纳"));
	clock_at(480);
	test_ok(ts_case_feedback(st, "张强", id, NULL));
	clock_at(540);
	test_ok(ts_case_visit(st, "张强", id, "basically_satisfied", NULL));
	clock_at(600);
	test_ok(ts_case_close(st, "张强", id, NULL));

	memset(&s, 0, sizeof(s));
	test_ok(ts_case_get(st, id, see_case_whole, &s));
	snprintf(want, sizeof(want), "%s|complaint|illegal_building|五四大街 1号|116.397128|39.900000|"
		"bj.dc.jingshan|新增违法建设|closed|张强|2015-05-22T09:00:00+08:00|2015-06-21T09:00:00+08:00|"
		"penalize|2015-05-22T09:03:00+08:00|《北京市城乡规划条例》第六十六条|2000000|2015-05-22T09:04:00+08:00|"
		"1|approved|周明|2015-05-22T09:05:00+08:00|2015-05-22T09:06:00+08:00|2015-05-22T09:07:00+08:00|"
		"NULL|NULL|刘女士|13800000000|2015-05-22T09:09:00+08:00|basically_satisfied|NULL|NULL|"
		"bj.dc.jingshan|2015-05-22T09:10:00+08:00|0", id);
	test_equal_s(s.text, want);

	/* a case without a place has neither coordinate; one past its
	 * deadline and open is overdue */
	clock_at(4 * 86400);
	memset(&s, 0, sizeof(s));
	test_ok(ts_case_get(st, bare, see_case_whole, &s));
	snprintf(want, sizeof(want), "%s|patrol|small_ads|景山前街 4号|NULL|NULL|bj.dc.jingshan|NULL|discovered|"
		"NULL|2015-05-22T09:00:00+08:00|2015-05-25T09:00:00+08:00|NULL|NULL|NULL|-1|NULL|0|NULL|NULL|NULL|"
		"NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|bj.dc.jingshan|NULL|1", bare);
	test_equal_s(s.text, want);

	/* no such case: TS_ENOTFOUND, and no call */
	memset(&s, 0, sizeof(s));
	test_equal_i(ts_case_get(st, "bj.dc.jingshan-c20150522-9999", see_case_whole, &s), TS_ENOTFOUND);
	test_equal_s(ts_error_last(), "no case bj.dc.jingshan-c20150522-9999");
	test_equal_i(s.calls, 0);

	/* the callback's return comes back as it is */
	memset(&s, 0, sizeof(s));
	s.stop_at = 1;
	test_equal_i(ts_case_get(st, id, see_case_whole, &s), 7);

	free(id);
	free(bare);
	ts_node_free(st);
	unsetenv("TIERSYNC_NOW");
}

void test_case_api__events_in_order(void)
{
	ts_node *st = open_node("st", TS_TIER_STREET, "bj.dc.jingshan");
	ts_field note1[] = { { "description", "第一次" } }, note2[] = { { "description", "第二次" } };
	char *id = NULL, *other = NULL;
	ts_test_seen s;

	test_assert(st);
	clock_at(0);
	test_ok(ts_case_new(&id, st, "王伟", "small_ads", "patrol", "景山前街 4号", NULL, 0));
	test_ok(ts_case_new(&other, st, "王伟", "outdoor_bbq", "patrol", "沙滩北街 9号", NULL, 0));
	clock_at(60);
	test_ok(ts_case_dispatch(st, "值班员", id, "王伟", "快去"));
	clock_at(120);
	test_ok(ts_case_educate(st, "王伟", id, NULL));
	test_ok(ts_case_dispatch(st, "值班员", other, "李娜", NULL));
	/* two edits in the same second: in the order they were made (by id) */
	clock_at(180);
	test_ok(ts_case_edit(st, "王伟", id, note1, 1));
	test_ok(ts_case_edit(st, "王伟", id, note2, 1));

	memset(&s, 0, sizeof(s));
	test_ok(ts_case_events(st, id, see_event, &s));
	test_equal_s(s.text,
		"09:00:00+08:00|intake|王伟|bj.dc.jingshan|patrol "
		"09:01:00+08:00|dispatch|值班员|bj.dc.jingshan|to 王伟; 快去 "
		"09:02:00+08:00|educate|王伟|bj.dc.jingshan|NULL "
		"09:03:00+08:00|note|王伟|bj.dc.jingshan|description=第一次 "
		"09:03:00+08:00|note|王伟|bj.dc.jingshan|description=第二次");

	/* another case's events are its own */
	memset(&s, 0, sizeof(s));
	test_ok(ts_case_events(st, other, see_event_kind, &s));
	test_equal_s(s.text, "intake dispatch");

	/* stop early */
	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	test_equal_i(ts_case_events(st, id, see_event_kind, &s), 7);
	test_equal_s(s.text, "intake dispatch");

	/* no such case */
	memset(&s, 0, sizeof(s));
	test_equal_i(ts_case_events(st, "nosuch", see_event_kind, &s), TS_ENOTFOUND);
	test_equal_s(ts_error_last(), "no case nosuch");
	test_equal_i(s.calls, 0);

	free(id);
	free(other);
	ts_node_free(st);
	unsetenv("TIERSYNC_NOW");
}

/*
 * The rules.
 */

static int see_rules(const ts_case_rules_info *r, void *payload)
{
	ts_test_seen *s = payload;
	size_t i;

	ts_test_seen_add(s, "%s threshold=%lld@%s;", r->jurisdiction, (long long)r->major_threshold,
		OR_NULL(r->major_threshold_scope));
	for (i = 0; i < r->ncategories; i++) {
		const ts_case_category_rules *c = &r->categories[i];
		ts_test_seen_add(s, "%s=%lld@%s/%d@%s", c->category, (long long)c->deadline_days, OR_NULL(c->deadline_scope),
			c->immediate_penalty, OR_NULL(c->immediate_penalty_scope));
	}
	return ts_test_seen_next(s);
}

void test_case_api__rules_in_force(void)
{
	ts_node *dc = open_node("dc", TS_TIER_DISTRICT, "bj.dc");
	ts_node *st = open_node("st", TS_TIER_STREET, "bj.dc.jingshan");
	ts_case_rule rules[] = {
		{ "major_threshold", NULL, 500000 },
		{ "deadline_days", "small_ads", 5 },
		{ "immediate_penalty", "outdoor_bbq", 1 },
		{ "immediate_penalty", "coal_unlicensed", 0 },
	};
	ts_test_seen s;

	test_assert(dc && st);
	clock_at(0);

	/* the shipped defaults: a threshold of 10,000 yuan, three categories
	 * penalized at once, every deadline the category's own */
	memset(&s, 0, sizeof(s));
	test_ok(ts_case_rules_in_force(st, see_rules, &s));
	test_equal_i(s.calls, 1);
	test_equal_s(s.text, "bj.dc.jingshan threshold=1000000@; "
		"coal_unlicensed=1@NULL/1@ construction_dust=3@NULL/0@NULL facility_damage=7@NULL/1@ "
		"gas_safety=3@NULL/0@NULL illegal_building=30@NULL/1@ illegal_vehicle=3@NULL/0@NULL "
		"kitchen_waste=7@NULL/0@NULL muck_spill=1@NULL/0@NULL muck_vehicle=3@NULL/0@NULL "
		"open_burning=1@NULL/0@NULL outdoor_bbq=1@NULL/0@NULL outside_store=3@NULL/0@NULL "
		"parking_lot=15@NULL/0@NULL signboard=15@NULL/0@NULL small_ads=3@NULL/0@NULL "
		"unlicensed_vending=3@NULL/0@NULL");

	/* the district's own rules win over the defaults, for it and below it */
	test_ok(ts_case_rules_set(dc, "张敏", rules, sizeof(rules) / sizeof(rules[0])));
	memset(&s, 0, sizeof(s));
	test_ok(ts_case_rules_in_force(dc, see_rules, &s));
	test_assert(!strncmp(s.text, "bj.dc threshold=500000@bj.dc; coal_unlicensed=1@NULL/0@bj.dc ", 60));
	test_assert(strstr(s.text, " facility_damage=7@NULL/1@ "));
	test_assert(strstr(s.text, " outdoor_bbq=1@NULL/1@bj.dc "));
	test_assert(strstr(s.text, " small_ads=5@bj.dc/0@NULL "));

	/* the callback's return comes back as it is */
	memset(&s, 0, sizeof(s));
	s.stop_at = 1;
	test_equal_i(ts_case_rules_in_force(dc, see_rules, &s), 7);
	test_equal_i(ts_case_rules_in_force(dc, NULL, NULL), TS_EINVALID);

	ts_node_free(dc);
	ts_node_free(st);
	unsetenv("TIERSYNC_NOW");
}

void test_case_api__rule_value(void)
{
	ts_node *dc = open_node("dc", TS_TIER_DISTRICT, "bj.dc");
	ts_case_rule rules[] = {
		{ "major_threshold", NULL, 500000 },
		{ "deadline_days", "small_ads", 5 },
		{ "immediate_penalty", "coal_unlicensed", 0 },
	};
	int64_t v = -7;

	test_assert(dc);
	clock_at(0);
	test_ok(ts_case_rules_set(dc, "张敏", rules, sizeof(rules) / sizeof(rules[0])));

	/* the narrowest scope: the district's, for it and its streets */
	test_ok(ts_case_rule_value(&v, dc, NULL, "major_threshold", NULL));
	test_equal_i(v, 500000);
	test_ok(ts_case_rule_value(&v, dc, "bj.dc.jingshan", "major_threshold", ""));
	test_equal_i(v, 500000);
	test_ok(ts_case_rule_value(&v, dc, "bj.dc.jingshan", "deadline_days", "small_ads"));
	test_equal_i(v, 5);
	test_ok(ts_case_rule_value(&v, dc, "bj.dc", "immediate_penalty", "coal_unlicensed"));
	test_equal_i(v, 0);
	/* elsewhere the defaults; 'bj.dcx' is not below 'bj.dc' */
	test_ok(ts_case_rule_value(&v, dc, "bj.dcx", "major_threshold", NULL));
	test_equal_i(v, 1000000);
	test_ok(ts_case_rule_value(&v, dc, "bj.xc", "immediate_penalty", "coal_unlicensed"));
	test_equal_i(v, 1);

	/* without a rule: the category's own deadline, and not at once */
	test_ok(ts_case_rule_value(&v, dc, "bj.xc", "deadline_days", "small_ads"));
	test_equal_i(v, 3);
	test_ok(ts_case_rule_value(&v, dc, NULL, "deadline_days", "illegal_building"));
	test_equal_i(v, 30);
	v = -7;
	test_ok(ts_case_rule_value(&v, dc, NULL, "immediate_penalty", "gas_safety"));
	test_equal_i(v, 0);

	/* what is asked wrongly */
	test_equal_i(ts_case_rule_value(&v, dc, NULL, "no_such_rule", NULL), TS_EINVALID);
	test_equal_i(ts_case_rule_value(&v, dc, NULL, NULL, NULL), TS_EINVALID);
	test_equal_i(ts_case_rule_value(&v, dc, NULL, "deadline_days", NULL), TS_EINVALID);
	test_equal_i(ts_case_rule_value(&v, dc, NULL, "deadline_days", "no_such_category"), TS_EINVALID);
	test_equal_i(ts_case_rule_value(&v, dc, NULL, "major_threshold", "small_ads"), TS_EINVALID);

	ts_node_free(dc);
	unsetenv("TIERSYNC_NOW");
}

/* With no major_threshold row at all, no threshold is in force:
 * TS_ENOTFOUND from ts_case_rule_value, -1 (and no scope) in the listing. */
void test_case_api__no_major_threshold(void)
{
	ts_node *city = open_node("city", TS_TIER_CITY, "bj");
	int64_t v = 0;
	ts_test_seen s;

	test_assert(city);
	/* the shipped default belongs to no node: only a change of schema
	 * could remove it, so remove it underneath the node */
	test_equal_i(sqlite3_exec(ts_node_db(city), "DELETE FROM case_rules WHERE rule = 'major_threshold'", NULL,
		NULL, NULL), SQLITE_OK);
	test_equal_i(ts_case_rule_value(&v, city, NULL, "major_threshold", NULL), TS_ENOTFOUND);
	memset(&s, 0, sizeof(s));
	test_ok(ts_case_rules_in_force(city, see_rules, &s));
	test_assert(!strncmp(s.text, "bj threshold=-1@NULL; coal_unlicensed=1@NULL/1@ ", 48));
	ts_node_free(city);
}
