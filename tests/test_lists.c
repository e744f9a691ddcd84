/*
 * Unit tests of the list calls of the records between the tiers
 * (ts_area_list, ts_event_list, ts_ads_list, ts_supervise_list): which
 * rows each node sees, in which order, what each filter leaves out, and
 * that a filter of an unknown version is refused.
 *
 * The rows are laid down with plain SQL through ts_node_write(), as the
 * sync engine would apply them, with times and ids chosen so that the
 * order by time and the order by id differ.
 */
#include "harness.h"

#include <stdarg.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "node.h"
#include "nodes.h"
#include "tiersync.h"

static ts_node *open_node(const char *dir, ts_tier tier, const char *id)
{
	return ts_test_node(dir, tier, id, "测试");
}

/*
 * Key areas.
 */

/* A city area carried by bj.dc, two areas of bj.dc's own listed at the
 * same time (one delisted since), and one of bj.hd. */
#define AREAS \
	"INSERT INTO key_areas (id, level, owner_node, city_key_area_id, name, zone, listed_at, reason," \
	"  delisted_at, delist_reason) VALUES" \
	" ('bj-k1', 'city', 'bj', NULL, '天安门地区', '长安街以北', '2015-03-02T09:00:00+08:00', '游客密集', NULL, NULL)," \
	" ('bj.dc-k0', 'district', 'bj.dc', 'bj-k1', '天安门地区', '长安街以北', '2015-03-02T09:00:00+08:00', '游客密集', NULL, NULL)," \
	" ('bj.dc-k2', 'district', 'bj.dc', NULL, '东华门', '东华门大街', '2015-01-05T09:00:00+08:00', '占道'," \
	"   '2015-02-01T09:00:00+08:00', '整治完毕')," \
	" ('bj.dc-k1', 'district', 'bj.dc', NULL, '景山', NULL, '2015-01-05T09:00:00+08:00', NULL, NULL, NULL)," \
	" ('bj.hd-k1', 'district', 'bj.hd', NULL, '中关村', '中关村大街', '2015-01-01T09:00:00+08:00', NULL, NULL, NULL)"

static int see_area_id(const ts_area_info *a, void *payload)
{
	ts_test_seen *s = payload;
	ts_test_seen_add(s, "%s", a->id);
	return ts_test_seen_next(s);
}

static int see_area_whole(const ts_area_info *a, void *payload)
{
	ts_test_seen *s = payload;
	ts_test_seen_add(s, "%s|%s|%s|%s|%s|%s|%s|%s|%s|%s", a->id, a->level, a->owner_node, OR_NULL(a->city_key_area_id),
		a->name, OR_NULL(a->zone), a->listed_at, OR_NULL(a->reason), OR_NULL(a->delisted_at),
		OR_NULL(a->delist_reason));
	return ts_test_seen_next(s);
}

static const char *areas_of(ts_node *node, const ts_area_filter *filter)
{
	static ts_test_seen s;
	memset(&s, 0, sizeof(s));
	if (ts_area_list(node, filter, see_area_id, &s) < 0)
		return "(failed)";
	return s.text;
}

void test_lists__areas_in_each_nodes_view(void)
{
	ts_node *city = open_node("city", TS_TIER_CITY, "bj");
	ts_node *dc = open_node("dc", TS_TIER_DISTRICT, "bj.dc");
	ts_node *st = open_node("st", TS_TIER_STREET, "bj.dc.jingshan");
	ts_node *dev = open_node("dev", TS_TIER_DEVICE, "bj.dc.jingshan.d07");
	ts_area_filter listed = TS_AREA_FILTER_INIT;

	test_assert(city && dc && st && dev);
	test_ok(ts_test_arrive(city, AREAS));
	test_ok(ts_test_arrive(dc, AREAS));
	test_ok(ts_test_arrive(st, AREAS));
	test_ok(ts_test_arrive(dev, AREAS));

	/* the city sees every row; by owner, then listing time, then id */
	test_equal_s(areas_of(city, NULL), "bj-k1 bj.dc-k1 bj.dc-k2 bj.dc-k0 bj.hd-k1");
	/* any other node its district's rows, the carried city area among them */
	test_equal_s(areas_of(dc, NULL), "bj.dc-k1 bj.dc-k2 bj.dc-k0");
	test_equal_s(areas_of(st, NULL), "bj.dc-k1 bj.dc-k2 bj.dc-k0");
	test_equal_s(areas_of(dev, NULL), "bj.dc-k1 bj.dc-k2 bj.dc-k0");

	/* a zeroed filter narrows nothing; listed_only leaves out the delisted */
	test_equal_s(areas_of(dc, &listed), "bj.dc-k1 bj.dc-k2 bj.dc-k0");
	listed.listed_only = 1;
	test_equal_s(areas_of(dc, &listed), "bj.dc-k1 bj.dc-k0");
	test_equal_s(areas_of(city, &listed), "bj-k1 bj.dc-k1 bj.dc-k0 bj.hd-k1");

	ts_node_free(city);
	ts_node_free(dc);
	ts_node_free(st);
	ts_node_free(dev);
}

void test_lists__area_columns(void)
{
	ts_node *dc = open_node("dc", TS_TIER_DISTRICT, "bj.dc");
	ts_test_seen s;

	test_assert(dc);
	test_ok(ts_test_arrive(dc, AREAS));
	memset(&s, 0, sizeof(s));
	test_ok(ts_area_list(dc, NULL, see_area_whole, &s));
	test_equal_s(s.text,
		"bj.dc-k1|district|bj.dc|NULL|景山|NULL|2015-01-05T09:00:00+08:00|NULL|NULL|NULL "
		"bj.dc-k2|district|bj.dc|NULL|东华门|东华门大街|2015-01-05T09:00:00+08:00|占道|2015-02-01T09:00:00+08:00|整治完毕 "
		"bj.dc-k0|district|bj.dc|bj-k1|天安门地区|长安街以北|2015-03-02T09:00:00+08:00|游客密集|NULL|NULL");
	ts_node_free(dc);
}

void test_lists__area_list_on_an_empty_ledger(void)
{
	ts_node *dc = open_node("dc", TS_TIER_DISTRICT, "bj.dc");
	ts_test_seen s;

	test_assert(dc);
	memset(&s, 0, sizeof(s));
	test_ok(ts_area_list(dc, NULL, see_area_id, &s));
	test_equal_i(s.calls, 0);
	ts_node_free(dc);
}

/*
 * Major events.
 */

/* Two city events starting together, one of bj.dc and one of its sibling
 * bj.hd; cases of bj.dc marked with two of them. */
#define EVENTS \
	"INSERT INTO major_events (id, name, starts_at, ends_at, zone, level, owner_node) VALUES" \
	" ('bj-m1', '全国两会', '2015-03-03T00:00:00+08:00', '2015-03-15T23:59:59+08:00', '全市', 'city', 'bj')," \
	" ('bj-m0', '国庆', '2015-03-03T00:00:00+08:00', '2015-03-04T23:59:59+08:00', NULL, 'city', 'bj')," \
	" ('bj.dc-m1', '庙会', '2015-02-01T00:00:00+08:00', '2015-02-10T23:59:59+08:00', NULL, 'district', 'bj.dc')," \
	" ('bj.hd-m1', '海淀活动', '2015-01-01T00:00:00+08:00', '2015-01-10T23:59:59+08:00', '中关村', 'district', 'bj.hd');"

#define EVENT_CASES \
	"INSERT INTO cases (id, source, category, address, jurisdiction, reported_at, deadline, created_by_node," \
	"  event_id) VALUES" \
	" ('bj.dc.jingshan-c1', 'patrol', 'small_ads', '景山前街', 'bj.dc.jingshan', '2015-03-05T10:00:00+08:00'," \
	"   '2015-12-31T00:00:00+08:00', 'bj.dc.jingshan', 'bj-m1')," \
	" ('bj.dc.jingshan-c2', 'patrol', 'small_ads', '景山后街', 'bj.dc.jingshan', '2015-03-06T10:00:00+08:00'," \
	"   '2015-12-31T00:00:00+08:00', 'bj.dc.jingshan', 'bj-m1')," \
	" ('bj.dc.donghuamen-c1', 'patrol', 'outdoor_bbq', '东华门', 'bj.dc.donghuamen', '2015-02-05T10:00:00+08:00'," \
	"   '2015-12-31T00:00:00+08:00', 'bj.dc.donghuamen', 'bj.dc-m1')"

static int see_event(const ts_event_info *e, void *payload)
{
	ts_test_seen *s = payload;
	ts_test_seen_add(s, "%s:%lld", e->id, (long long)e->cases);
	return ts_test_seen_next(s);
}

static const char *events_of(ts_node *node, const ts_event_filter *filter)
{
	static ts_test_seen s;
	memset(&s, 0, sizeof(s));
	if (ts_event_list(node, filter, see_event, &s) < 0)
		return "(failed)";
	return s.text;
}

void test_lists__events_in_each_nodes_view(void)
{
	ts_node *city = open_node("city", TS_TIER_CITY, "bj");
	ts_node *dc = open_node("dc", TS_TIER_DISTRICT, "bj.dc");
	ts_node *st = open_node("st", TS_TIER_STREET, "bj.dc.jingshan");
	ts_event_filter all = TS_EVENT_FILTER_INIT;

	test_assert(city && dc && st);
	test_ok(ts_test_arrive(city, EVENTS));
	test_ok(ts_test_arrive(dc, EVENTS EVENT_CASES));
	test_ok(ts_test_arrive(st, EVENTS));

	/* declared by the node, above it or below it; by start, then id; with
	 * the cases this node holds that carry each */
	test_equal_s(events_of(city, NULL), "bj.hd-m1:0 bj.dc-m1:0 bj-m0:0 bj-m1:0");
	test_equal_s(events_of(dc, NULL), "bj.dc-m1:1 bj-m0:0 bj-m1:2");
	test_equal_s(events_of(dc, &all), "bj.dc-m1:1 bj-m0:0 bj-m1:2");
	test_equal_s(events_of(st, NULL), "bj.dc-m1:0 bj-m0:0 bj-m1:0");

	ts_node_free(city);
	ts_node_free(dc);
	ts_node_free(st);
}

static int see_event_whole(const ts_event_info *e, void *payload)
{
	ts_test_seen *s = payload;
	ts_test_seen_add(s, "%s|%s|%s|%s|%s|%s|%s|%lld", e->id, e->level, e->owner_node, e->name, e->starts_at, e->ends_at,
		OR_NULL(e->zone), (long long)e->cases);
	return ts_test_seen_next(s);
}

void test_lists__event_columns(void)
{
	ts_node *dc = open_node("dc", TS_TIER_DISTRICT, "bj.dc");
	ts_test_seen s;

	test_assert(dc);
	test_ok(ts_test_arrive(dc, EVENTS EVENT_CASES));
	memset(&s, 0, sizeof(s));
	s.stop_at = 3;
	test_equal_i(ts_event_list(dc, NULL, see_event_whole, &s), 7);
	test_equal_s(s.text,
		"bj.dc-m1|district|bj.dc|庙会|2015-02-01T00:00:00+08:00|2015-02-10T23:59:59+08:00|NULL|1 "
		"bj-m0|city|bj|国庆|2015-03-03T00:00:00+08:00|2015-03-04T23:59:59+08:00|NULL|0 "
		"bj-m1|city|bj|全国两会|2015-03-03T00:00:00+08:00|2015-03-15T23:59:59+08:00|全市|2");
	ts_node_free(dc);
}

/*
 * Small-ad numbers.
 */

/* Sightings on two cases of the street (one recorded under a device's
 * id) and on a case of another street, which the street does not count. */
#define ADS_CASES \
	"INSERT INTO cases (id, source, category, address, jurisdiction, reported_at, deadline, created_by_node)" \
	" VALUES" \
	" ('c1', 'patrol', 'small_ads', '景山前街', 'bj.dc.jingshan', '2015-03-01T10:00:00+08:00'," \
	"   '2015-12-31T00:00:00+08:00', 'bj.dc.jingshan')," \
	" ('c2', 'patrol', 'small_ads', '景山后街', 'bj.dc.jingshan.d07', '2015-03-01T11:00:00+08:00'," \
	"   '2015-12-31T00:00:00+08:00', 'bj.dc.jingshan.d07')," \
	" ('foreign', 'patrol', 'small_ads', '东华门', 'bj.dc.donghuamen', '2015-03-01T12:00:00+08:00'," \
	"   '2015-12-31T00:00:00+08:00', 'bj.dc.donghuamen');"

#define ADS_PHONES \
	"INSERT INTO small_ad_phones (id, case_id, phone, warned_at, warned_by, outcome) VALUES" \
	" ('a01', 'c1', '13800000001', '2015-03-05T10:00:00+08:00', '赵警', 'warned')," \
	" ('a02', 'c2', '13800000001', '2015-03-06T10:00:00+08:00', '王伟', 'warned')," \
	" ('a03', 'c1', '13800000002', NULL, NULL, NULL)," \
	" ('a04', 'c2', '13800000002', '2015-03-04T10:00:00+08:00', '李娜', 'unreachable')," \
	" ('a05', 'c1', '13800000003', '2015-03-02T10:00:00+08:00', '钱警', 'suspended')," \
	" ('a06', 'c2', '13800000003', '2015-03-07T10:00:00+08:00', '孙警', 'unreachable')," \
	" ('a07', 'c1', '13800000004', '2015-03-03T10:00:00+08:00', '赵警', 'unreachable')," \
	" ('a08', 'c1', '13700000000', NULL, NULL, NULL)," \
	" ('a09', 'foreign', '13800000004', '2015-03-08T10:00:00+08:00', '东警', 'warned')," \
	" ('a10', 'foreign', '13900000000', NULL, NULL, NULL)"

static int see_number(const ts_ads_info *a, void *payload)
{
	ts_test_seen *s = payload;
	ts_test_seen_add(s, "%s|%s|%lld|%s|%s", a->phone, a->state, (long long)a->cases, OR_NULL(a->last_call),
		OR_NULL(a->last_caller));
	return ts_test_seen_next(s);
}

void test_lists__ads_numbers_with_their_state(void)
{
	ts_node *st = open_node("st", TS_TIER_STREET, "bj.dc.jingshan");
	ts_ads_filter unwarned = TS_ADS_FILTER_INIT;
	ts_ads_figures f;
	ts_test_seen s;

	test_assert(st);
	test_ok(ts_test_arrive(st, ADS_CASES ADS_PHONES));

	/* in order of the number; the state as the figures count it */
	memset(&s, 0, sizeof(s));
	test_ok(ts_ads_list(st, NULL, see_number, &s));
	test_equal_s(s.text,
		"13700000000|untried|1|NULL|NULL "
		"13800000001|warned|2|2015-03-06T10:00:00+08:00|王伟 "
		"13800000002|untried|2|2015-03-04T10:00:00+08:00|李娜 "
		"13800000003|suspended|2|2015-03-07T10:00:00+08:00|孙警 "
		"13800000004|unreachable|1|2015-03-03T10:00:00+08:00|赵警");
	test_ok(ts_ads_figures_get(&f, st));
	test_equal_i(f.found, s.calls);
	test_equal_i(f.warned, 1);
	test_equal_i(f.untried, 2);

	/* a zeroed filter narrows nothing; unwarned_only leaves out the warned */
	memset(&s, 0, sizeof(s));
	test_ok(ts_ads_list(st, &unwarned, see_number, &s));
	test_equal_i(s.calls, 5);
	unwarned.unwarned_only = 1;
	memset(&s, 0, sizeof(s));
	test_ok(ts_ads_list(st, &unwarned, see_number, &s));
	test_equal_i(s.calls, 4);
	test_assert(strstr(s.text, "13800000001") == NULL);
	test_assert(strncmp(s.text, "13700000000|", 12) == 0);
	ts_node_free(st);
}

void test_lists__ads_at_the_district_counts_every_street(void)
{
	ts_node *dc = open_node("dc", TS_TIER_DISTRICT, "bj.dc");
	ts_test_seen s;

	test_assert(dc);
	test_ok(ts_test_arrive(dc, ADS_CASES ADS_PHONES));
	memset(&s, 0, sizeof(s));
	test_ok(ts_ads_list(dc, NULL, see_number, &s));
	test_equal_s(s.text,
		"13700000000|untried|1|NULL|NULL "
		"13800000001|warned|2|2015-03-06T10:00:00+08:00|王伟 "
		"13800000002|untried|2|2015-03-04T10:00:00+08:00|李娜 "
		"13800000003|suspended|2|2015-03-07T10:00:00+08:00|孙警 "
		"13800000004|unreachable|2|2015-03-08T10:00:00+08:00|东警 "
		"13900000000|untried|1|NULL|NULL");
	ts_node_free(dc);
}

/*
 * Supervision items.
 */

/* Items issued by the city to a street, to bj.dc itself (closed) and to
 * bj.hd; by bj.dc to another of its streets (answered, past due); by bj.hd
 * to its street. Feedback given out of id order. */
#define ITEMS \
	"INSERT INTO supervision_items (id, issued_by_node, issuer, level, target_node, case_id, subject, detail," \
	"  issued_at, due_at, status, closed_at) VALUES" \
	" ('bj-s1', 'bj', '刘局', 'city', 'bj.dc.jingshan', NULL, '清理小广告', '景山前街'," \
	"   '2015-03-01T09:00:00+08:00', '2015-03-10T23:59:59+08:00', 'open', NULL)," \
	" ('bj-s3', 'bj', '刘局', 'city', 'bj.dc', NULL, '区级督办', NULL," \
	"   '2015-02-01T09:00:00+08:00', NULL, 'closed', '2015-02-20T09:00:00+08:00')," \
	" ('bj-s2', 'bj', '刘局', 'city', 'bj.hd', NULL, '海淀督办', NULL," \
	"   '2015-03-05T09:00:00+08:00', NULL, 'open', NULL)," \
	" ('bj.dc-s1', 'bj.dc', NULL, 'district', 'bj.dc.donghuamen', NULL, '东华门督办', NULL," \
	"   '2015-03-01T09:00:00+08:00', '2015-03-02T23:59:59+08:00', 'answered', NULL)," \
	" ('bj.hd-s1', 'bj.hd', '海区', 'district', 'bj.hd.zgc', NULL, '中关村督办', NULL," \
	"   '2015-03-05T09:00:00+08:00', NULL, 'open', NULL);" \
	"INSERT INTO supervision_feedback (id, item_id, level, node, at, author, text) VALUES" \
	" ('f1', 'bj.dc-s1', 'district', 'bj.dc', '2015-03-01T15:00:00+08:00', '张区', '区级已核实')," \
	" ('f2', 'bj.dc-s1', 'street', 'bj.dc.donghuamen', '2015-03-01T12:00:00+08:00', '东街', '已清理')," \
	" ('f3', 'bj-s3', 'district', 'bj.dc', '2015-02-10T09:00:00+08:00', '张区', '已整改')"

static int see_item_id(const ts_supervise_info *i, void *payload)
{
	ts_test_seen *s = payload;
	ts_test_seen_add(s, "%s", i->id);
	return ts_test_seen_next(s);
}

static int see_item_whole(const ts_supervise_info *i, void *payload)
{
	ts_test_seen *s = payload;
	size_t k;

	ts_test_seen_add(s, "%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|overdue=%d|%zu", i->id, i->status, i->level,
		i->issued_by_node, OR_NULL(i->issuer), i->target_node, OR_NULL(i->case_id), i->subject,
		OR_NULL(i->detail), i->issued_at, OR_NULL(i->due_at), OR_NULL(i->closed_at), i->overdue,
		i->nfeedback);
	for (k = 0; k < i->nfeedback; k++)
		ts_test_seen_add(s, "[%s|%s|%s|%s|%s]", i->feedback[k].level, i->feedback[k].node, i->feedback[k].at,
			i->feedback[k].author, i->feedback[k].text);
	return ts_test_seen_next(s);
}

static const char *items_of(ts_node *node, const ts_supervise_filter *filter)
{
	static ts_test_seen s;
	memset(&s, 0, sizeof(s));
	if (ts_supervise_list(node, filter, see_item_id, &s) < 0)
		return "(failed)";
	return s.text;
}

void test_lists__supervision_items_in_each_nodes_view(void)
{
	ts_node *city = open_node("city", TS_TIER_CITY, "bj");
	ts_node *dc = open_node("dc", TS_TIER_DISTRICT, "bj.dc");
	ts_node *st = open_node("st", TS_TIER_STREET, "bj.dc.jingshan");
	ts_node *dev = open_node("dev", TS_TIER_DEVICE, "bj.dc.jingshan.d07");
	ts_supervise_filter open = TS_SUPERVISE_FILTER_INIT;

	test_assert(city && dc && st && dev);
	test_ok(ts_test_arrive(city, ITEMS));
	test_ok(ts_test_arrive(dc, ITEMS));
	test_ok(ts_test_arrive(st, ITEMS));
	test_ok(ts_test_arrive(dev, ITEMS));

	/* by issue time, then id */
	test_equal_s(items_of(city, NULL), "bj-s3 bj-s1 bj.dc-s1 bj-s2 bj.hd-s1");
	/* issued by it or below, aimed at it, below it or above it */
	test_equal_s(items_of(dc, NULL), "bj-s3 bj-s1 bj.dc-s1");
	test_equal_s(items_of(st, NULL), "bj-s3 bj-s1");
	test_equal_s(items_of(dev, NULL), "bj-s3 bj-s1");

	/* a zeroed filter narrows nothing; open_only leaves out the closed */
	test_equal_s(items_of(dc, &open), "bj-s3 bj-s1 bj.dc-s1");
	open.open_only = 1;
	test_equal_s(items_of(dc, &open), "bj-s1 bj.dc-s1");
	test_equal_s(items_of(st, &open), "bj-s1");

	ts_node_free(city);
	ts_node_free(dc);
	ts_node_free(st);
	ts_node_free(dev);
}

/* The items bj.dc sees, as see_item_whole() writes them. */
#define ITEM_S3 \
	"bj-s3|closed|city|bj|刘局|bj.dc|NULL|区级督办|NULL|2015-02-01T09:00:00+08:00|NULL|" \
	"2015-02-20T09:00:00+08:00|overdue=0|1 [district|bj.dc|2015-02-10T09:00:00+08:00|张区|已整改]"
#define ITEM_S1(overdue) \
	"bj-s1|open|city|bj|刘局|bj.dc.jingshan|NULL|清理小广告|景山前街|2015-03-01T09:00:00+08:00|" \
	"2015-03-10T23:59:59+08:00|NULL|overdue=" overdue "|0"
#define ITEM_DC_S1 \
	"bj.dc-s1|answered|district|bj.dc|NULL|bj.dc.donghuamen|NULL|东华门督办|NULL|2015-03-01T09:00:00+08:00|" \
	"2015-03-02T23:59:59+08:00|NULL|overdue=0|2 " \
	"[street|bj.dc.donghuamen|2015-03-01T12:00:00+08:00|东街|已清理] " \
	"[district|bj.dc|2015-03-01T15:00:00+08:00|张区|区级已核实]"

void test_lists__supervision_columns_feedback_and_overdue(void)
{
	ts_node *dc = open_node("dc", TS_TIER_DISTRICT, "bj.dc");
	const char *saved = getenv("TIERSYNC_NOW");
	char *saved_copy = saved ? strdup(saved) : NULL;
	ts_test_seen before_due, after_due;
	int error_before, error_after;

	test_assert(dc);
	test_ok(ts_test_arrive(dc, ITEMS));

	/* the clock set, the lists read, and the clock restored before any check */
	memset(&before_due, 0, sizeof(before_due));
	memset(&after_due, 0, sizeof(after_due));
	setenv("TIERSYNC_NOW", "1425484800", 1);        /* 2015-03-05 00:00 Beijing */
	error_before = ts_supervise_list(dc, NULL, see_item_whole, &before_due);
	setenv("TIERSYNC_NOW", "1426780800", 1);        /* 2015-03-20 00:00 Beijing */
	error_after = ts_supervise_list(dc, NULL, see_item_whole, &after_due);
	if (saved_copy)
		setenv("TIERSYNC_NOW", saved_copy, 1);
	else
		unsetenv("TIERSYNC_NOW");
	free(saved_copy);

	test_ok(error_before);
	test_ok(error_after);
	test_equal_s(before_due.text, ITEM_S3 " " ITEM_S1("0") " " ITEM_DC_S1);
	/* past its due date, the open item is overdue; the answered one is not */
	test_equal_s(after_due.text, ITEM_S3 " " ITEM_S1("1") " " ITEM_DC_S1);
	ts_node_free(dc);
}

/*
 * What the four lists share.
 */

/* Callbacks that only count. */
static int count_area(const ts_area_info *a, void *payload) { (void)a; ++*(int *)payload; return 0; }
static int count_event(const ts_event_info *e, void *payload) { (void)e; ++*(int *)payload; return 0; }
static int count_number(const ts_ads_info *a, void *payload) { (void)a; ++*(int *)payload; return 0; }
static int count_item(const ts_supervise_info *i, void *payload) { (void)i; ++*(int *)payload; return 0; }

void test_lists__a_filter_of_an_unknown_version_is_refused(void)
{
	ts_node *dc = open_node("dc", TS_TIER_DISTRICT, "bj.dc");
	ts_area_filter area = TS_AREA_FILTER_INIT;
	ts_event_filter event = TS_EVENT_FILTER_INIT;
	ts_ads_filter ads = TS_ADS_FILTER_INIT;
	ts_supervise_filter item = TS_SUPERVISE_FILTER_INIT;
	unsigned int bad[] = { 0, 2, 99 };
	size_t i;
	int calls = 0;

	test_assert(dc);
	test_ok(ts_test_arrive(dc, AREAS ";" EVENTS ADS_CASES ADS_PHONES ";" ITEMS));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		area.version = event.version = ads.version = item.version = bad[i];
		test_equal_i(ts_area_list(dc, &area, count_area, &calls), TS_EINVALID);
		test_assert(strstr(ts_error_last(), "version") != NULL);
		test_equal_i(ts_event_list(dc, &event, count_event, &calls),
			TS_EINVALID);
		test_assert(strstr(ts_error_last(), "version") != NULL);
		test_equal_i(ts_ads_list(dc, &ads, count_number, &calls), TS_EINVALID);
		test_assert(strstr(ts_error_last(), "version") != NULL);
		test_equal_i(ts_supervise_list(dc, &item, count_item, &calls),
			TS_EINVALID);
		test_assert(strstr(ts_error_last(), "version") != NULL);
	}
	test_equal_i(calls, 0);

	/* the version they were made for is taken */
	area.version = TS_AREA_FILTER_VERSION;
	event.version = TS_EVENT_FILTER_VERSION;
	ads.version = TS_ADS_FILTER_VERSION;
	item.version = TS_SUPERVISE_FILTER_VERSION;
	test_ok(ts_area_list(dc, &area, count_area, &calls));
	test_ok(ts_event_list(dc, &event, count_event, &calls));
	test_ok(ts_ads_list(dc, &ads, count_number, &calls));
	test_ok(ts_supervise_list(dc, &item, count_item, &calls));
	test_equal_i(calls, 3 + 3 + 6 + 3);

	/* and a list without a callback is refused */
	test_equal_i(ts_area_list(dc, NULL, NULL, NULL), TS_EINVALID);
	test_equal_i(ts_event_list(dc, NULL, NULL, NULL), TS_EINVALID);
	test_equal_i(ts_ads_list(dc, NULL, NULL, NULL), TS_EINVALID);
	test_equal_i(ts_supervise_list(dc, NULL, NULL, NULL), TS_EINVALID);
	ts_node_free(dc);
}

void test_lists__a_callback_stops_a_list(void)
{
	ts_node *dc = open_node("dc", TS_TIER_DISTRICT, "bj.dc");
	ts_test_seen s;

	test_assert(dc);
	test_ok(ts_test_arrive(dc, AREAS ";" EVENTS ADS_CASES ADS_PHONES ";" ITEMS));

	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	test_equal_i(ts_area_list(dc, NULL, see_area_id, &s), 7);
	test_equal_s(s.text, "bj.dc-k1 bj.dc-k2");

	memset(&s, 0, sizeof(s));
	s.stop_at = 1;
	test_equal_i(ts_event_list(dc, NULL, see_event, &s), 7);
	test_equal_i(s.calls, 1);

	memset(&s, 0, sizeof(s));
	s.stop_at = 3;
	test_equal_i(ts_ads_list(dc, NULL, see_number, &s), 7);
	test_equal_i(s.calls, 3);

	/* stopped on an item with feedback: what it held is freed (see make check) */
	memset(&s, 0, sizeof(s));
	s.stop_at = 1;
	test_equal_i(ts_supervise_list(dc, NULL, see_item_whole, &s), 7);
	test_equal_i(s.calls, 1);
	test_assert(strstr(s.text, "[district|bj.dc|2015-02-10T09:00:00+08:00|张区|已整改]") != NULL);
	ts_node_free(dc);
}
