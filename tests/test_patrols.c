/*
 * Unit tests of street work (node/patrols.c, node/responsibility.c and the
 * case link of node/case.c): patrols started and ended, the cases found on
 * them, responsibility zones with their notices and checks, the lists, and
 * each refusal, which must leave the rows and the staged writes exactly as
 * they were. Judged with SQL written here.
 *
 * Rows another node wrote (key areas, another street's patrol or zone)
 * reach a node by sync; here they arrive through ts_test_arrive().
 */
#include "harness.h"

#include <limits.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "nodes.h"
#include "tiersync.h"

/* Everything these operations may write, as one string: a refusal must
 * leave it unchanged. */
static char *snapshot(ts_node *node)
{
	return strdup(ts_test_query_text(node,
		"SELECT (SELECT count(*) FROM ts_staged) || '|' ||"
		" ifnull((SELECT group_concat(x, ';') FROM (SELECT id || ',' || officers || ',' || ifnull(ended_at, '-')"
		"   || ',' || ifnull(route, '-') || ',' || found AS x FROM patrols ORDER BY id)), '') || '|' ||"
		" ifnull((SELECT group_concat(x, ';') FROM (SELECT id || ',' || ifnull(patrol_id, '-') AS x"
		"   FROM cases ORDER BY id)), '') || '|' ||"
		" (SELECT count(*) FROM case_events) || '|' ||"
		" ifnull((SELECT group_concat(x, ';') FROM (SELECT id || ',' || unit || ',' || ifnull(notice_issued_at, '-')"
		"   AS x FROM responsibility_zones ORDER BY id)), '') || '|' ||"
		" (SELECT count(*) FROM responsibility_checks)"));
}

#define test_unchanged(node, before) ts_test_unchanged(snapshot, node, before)

/* A refusal with `code` whose message says `needle`, that changed nothing. */
#define test_refused(node, before, call, code, needle) do { \
	test_equal_i((call), (code)); \
	test_error_says(needle); \
	test_unchanged(node, before); \
} while (0)

/* The district's key areas, as they reach its streets by pull: 景山 listed,
 * 北海 delisted, and a key area of another district. */
#define KEY_AREAS \
	"INSERT INTO key_areas (id, level, owner_node, name, zone, listed_at) VALUES" \
	" ('bj.dc-k20150101-1', 'district', 'bj.dc', '景山', '景山前街', '2015-01-01T09:00:00+08:00')," \
	" ('bj.xc-k20150101-1', 'district', 'bj.xc', '西单', '西单北大街', '2015-01-01T09:00:00+08:00');" \
	"INSERT INTO key_areas (id, level, owner_node, name, zone, listed_at, delisted_at, delist_reason) VALUES" \
	" ('bj.dc-k20150101-2', 'district', 'bj.dc', '北海', '北海北门', '2015-01-01T09:00:00+08:00'," \
	"  '2015-02-01T09:00:00+08:00', '整治完毕');"

static ts_node *street(void)
{
	ts_node *node = ts_test_node("street", TS_TIER_STREET, "bj.dc.jingshan", "王伟");
	if (node && ts_test_arrive(node, KEY_AREAS) < 0) {
		ts_node_free(node);
		return NULL;
	}
	return node;
}

static int start(char **id, ts_node *node, const char *area, const char *key_area, const char *started)
{
	static const char *const two[] = { "王伟", "李娜" };
	ts_patrol_options o = { two, 2, area, key_area, started };
	return ts_patrol_start(id, node, "王伟", &o);
}

/*
 * Patrols.
 */

void test_patrols__start_and_end(void)
{
	ts_node *node = street();
	char *id = NULL, sql[512];

	test_assert(node);
	test_ok(start(&id, node, "景山前街", "bj.dc-k20150101-1", "2015-03-01 09:00"));
	test_assert(!strncmp(id, "bj.dc.jingshan-r", 16));
	snprintf(sql, sizeof(sql), "SELECT officers || '|' || jurisdiction || '|' || area || '|' || key_area_id"
		" || '|' || started_at || '|' || ifnull(ended_at, '-') || '|' || found FROM patrols WHERE id = '%s'", id);
	test_equal_s(ts_test_query_text(node, sql),
		"王伟、李娜|bj.dc.jingshan|景山前街|bj.dc-k20150101-1|2015-03-01T09:00:00+08:00|-|0");
	test_ok(ts_patrol_end(node, "李娜", id, "2015-03-01 11:30", "景山前街—陟山门街", "小广告两处"));
	snprintf(sql, sizeof(sql), "SELECT ended_at || '|' || route || '|' || notes FROM patrols WHERE id = '%s'", id);
	test_equal_s(ts_test_query_text(node, sql), "2015-03-01T11:30:00+08:00|景山前街—陟山门街|小广告两处");
	/* two writes staged after the key areas arrived, each under its author's real name */
	test_equal_s(ts_test_query_text(node, "SELECT group_concat(author, ',') FROM (SELECT author FROM ts_staged"
		" WHERE author <> '同步' ORDER BY seq)"),
		"王伟,李娜");
	free(id);
	ts_node_free(node);
}

void test_patrols__start_defaults(void)
{
	ts_node *node = street();
	ts_patrol_options o = { NULL, 0, "景山后街", NULL, NULL };
	char *id = NULL, now[32], sql[512];

	test_assert(node);
	ts_time_now(now);
	test_ok(ts_patrol_start(&id, node, "赵强", &o));
	/* no officers named: the author patrolled; no time: now */
	snprintf(sql, sizeof(sql), "SELECT officers || '|' || (started_at >= '%s') || '|' || ifnull(key_area_id, '-')"
		" FROM patrols WHERE id = '%s'", now, id);
	test_equal_s(ts_test_query_text(node, sql), "赵强|1|-");
	free(id);
	ts_node_free(node);
}

void test_patrols__start_refusals(void)
{
	ts_node *node = street();
	static const char *const twice[] = { "王伟", "王伟" };
	static const char *const joined[] = { "王伟、李娜" };
	static const char *const empty[] = { "" };
	ts_patrol_options o = { NULL, 0, "景山前街", NULL, NULL };
	char *id = NULL, *before;

	test_assert(node);
	before = snapshot(node);
	test_refused(node, before, start(&id, node, "景山前街", "bj.dc-k-nosuch", NULL), TS_ENOTFOUND, "no key area");
	test_refused(node, before, start(&id, node, "景山前街", "bj.dc-k20150101-2", NULL), TS_EINVALID, "delisted");
	test_refused(node, before, start(&id, node, "景山前街", "bj.xc-k20150101-1", NULL), TS_EINVALID, "bj.xc");
	test_refused(node, before, start(&id, node, "", NULL, NULL), TS_EINVALID, "area or route");
	test_refused(node, before, start(&id, node, "景山前街", NULL, "2999-01-01"), TS_EINVALID, "future");
	test_refused(node, before, start(&id, node, "景山前街", NULL, "2015-02-30"), TS_EINVALID, "not a date");
	o.officers = twice;
	o.nofficers = 2;
	test_refused(node, before, ts_patrol_start(&id, node, "王伟", &o), TS_EINVALID, "named twice");
	o.officers = joined;
	o.nofficers = 1;
	test_refused(node, before, ts_patrol_start(&id, node, "王伟", &o), TS_EINVALID, "more than one name");
	o.officers = empty;
	test_refused(node, before, ts_patrol_start(&id, node, "王伟", &o), TS_EINVALID, "empty name");
	test_assert(id == NULL);
	free(before);
	ts_node_free(node);
}

void test_patrols__end_refusals(void)
{
	ts_node *node = street();
	char *id = NULL, *before = NULL;

	test_assert(node);
	test_ok(ts_test_arrive(node, "INSERT INTO patrols (id, officers, jurisdiction, area, started_at) VALUES"
		" ('bj.dc.donghuamen-r20150301-1', '赵强', 'bj.dc.donghuamen', '东华门大街', '2015-03-01T09:00:00+08:00')"));
	test_ok(start(&id, node, "景山前街", NULL, "2015-03-01 09:00"));
	before = snapshot(node);
	test_refused(node, before, ts_patrol_end(node, NULL, id, "2015-03-01 08:59", NULL, NULL), TS_EINVALID,
		"cannot end before");
	test_refused(node, before, ts_patrol_end(node, NULL, id, "2999-03-01", NULL, NULL), TS_EINVALID, "future");
	test_refused(node, before, ts_patrol_end(node, NULL, "bj.dc.jingshan-r-nosuch", NULL, NULL, NULL),
		TS_ENOTFOUND, "no patrol");
	test_refused(node, before, ts_patrol_end(node, NULL, "bj.dc.donghuamen-r20150301-1", NULL, NULL, NULL),
		TS_EDENIED, "bj.dc.donghuamen");
	test_ok(ts_patrol_end(node, NULL, id, NULL, NULL, NULL));
	free(before);
	before = snapshot(node);
	test_refused(node, before, ts_patrol_end(node, NULL, id, NULL, "again", NULL), TS_EINVALID, "already ended");
	free(before);
	free(id);
	ts_node_free(node);
}

void test_patrols__device_acts_for_its_street(void)
{
	ts_node *node = ts_test_node("device", TS_TIER_DEVICE, "bj.dc.jingshan.d07", "李娜");
	char *id = NULL, sql[256];

	test_assert(node);
	test_ok(ts_test_arrive(node, "INSERT INTO patrols (id, officers, jurisdiction, area, started_at) VALUES"
		" ('bj.dc.jingshan-r20150301-1', '王伟', 'bj.dc.jingshan', '景山前街', '2015-03-01T09:00:00+08:00')"));
	test_ok(start(&id, node, "景山西街", NULL, NULL));
	snprintf(sql, sizeof(sql), "SELECT jurisdiction FROM patrols WHERE id = '%s'", id);
	test_equal_s(ts_test_query_text(node, sql), "bj.dc.jingshan");
	/* the street's own patrol, ended on a device of the street */
	test_ok(ts_patrol_end(node, NULL, "bj.dc.jingshan-r20150301-1", NULL, NULL, NULL));
	free(id);
	ts_node_free(node);
}

static int seen_case(const ts_patrol_case *c, void *payload)
{
	ts_test_seen *seen = payload;
	ts_test_seen_add(seen, "%s:%s", c->category, c->status);
	return ts_test_seen_next(seen);
}

static int seen_patrol(const ts_patrol_info *p, void *payload)
{
	ts_test_seen *seen = payload;
	ts_test_seen_add(seen, "%s:%s:%lld/%lld", p->area, p->ended_at ? "ended" : "open", (long long)p->found,
		(long long)p->cases);
	return ts_test_seen_next(seen);
}

void test_patrols__cases_found(void)
{
	ts_node *node = street();
	ts_field on[1] = { { "patrol_id", NULL } };
	char *patrol = NULL, *a = NULL, *b = NULL, sql[512];
	ts_test_seen seen;

	test_assert(node);
	test_ok(start(&patrol, node, "景山前街", "bj.dc-k20150101-1", "2015-03-01 09:00"));
	on[0].value = patrol;
	test_ok(ts_case_new(&a, node, "王伟", "small_ads", "patrol", "景山前街 4号", on, 1));
	test_ok(ts_case_new(&b, node, "李娜", "outside_store", "patrol", "景山前街 8号", on, 1));
	snprintf(sql, sizeof(sql), "SELECT found FROM patrols WHERE id = '%s'", patrol);
	test_equal_i(ts_test_query_int(node, sql), 2);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM cases WHERE patrol_id = '%s' AND source = 'patrol'", patrol);
	test_equal_i(ts_test_query_int(node, sql), 2);
	/* the case's whole-process record names the patrol at intake */
	snprintf(sql, sizeof(sql), "SELECT detail FROM case_events WHERE case_id = '%s' AND kind = 'intake'", a);
	test_assert(strstr(ts_test_query_text(node, sql), patrol) != NULL);
	memset(&seen, 0, sizeof(seen));
	test_ok(ts_patrol_cases(node, patrol, seen_case, &seen));
	test_equal_s(seen.text, "small_ads:discovered outside_store:discovered");
	memset(&seen, 0, sizeof(seen));
	test_ok(ts_patrol_get(node, patrol, seen_patrol, &seen));
	test_equal_s(seen.text, "景山前街:open:2/2");
	/* a case recorded after the patrol ended (written up on return) still counts */
	test_ok(ts_patrol_end(node, NULL, patrol, NULL, NULL, NULL));
	free(b);
	test_ok(ts_case_new(&b, node, "李娜", "signboard", "patrol", "景山前街 9号", on, 1));
	snprintf(sql, sizeof(sql), "SELECT found FROM patrols WHERE id = '%s'", patrol);
	test_equal_i(ts_test_query_int(node, sql), 3);
	free(a);
	free(b);
	free(patrol);
	ts_node_free(node);
}

void test_patrols__case_link_refusals(void)
{
	ts_node *node = street();
	ts_field on[1] = { { "patrol_id", NULL } };
	ts_field relink[1] = { { "patrol_id", NULL } };
	char *patrol = NULL, *later = NULL, *id = NULL, *before;

	test_assert(node);
	test_ok(ts_test_arrive(node, "INSERT INTO patrols (id, officers, jurisdiction, area, started_at) VALUES"
		" ('bj.dc.donghuamen-r20150301-1', '赵强', 'bj.dc.donghuamen', '东华门大街', '2015-03-01T09:00:00+08:00')"));
	test_ok(start(&patrol, node, "景山前街", NULL, "2015-03-01 09:00"));
	test_ok(ts_case_new(&id, node, "王伟", "small_ads", "complaint", "景山前街 4号", NULL, 0));
	before = snapshot(node);
	on[0].value = patrol;
	test_refused(node, before, ts_case_new(&later, node, "王伟", "small_ads", "complaint", "景山前街 4号", on, 1),
		TS_EINVALID, "source 'patrol'");
	on[0].value = "bj.dc.jingshan-r-nosuch";
	test_refused(node, before, ts_case_new(&later, node, "王伟", "small_ads", "patrol", "景山前街 4号", on, 1),
		TS_ENOTFOUND, "no patrol");
	on[0].value = "bj.dc.donghuamen-r20150301-1";
	test_refused(node, before, ts_case_new(&later, node, "王伟", "small_ads", "patrol", "东华门大街 1号", on, 1),
		TS_EDENIED, "bj.dc.donghuamen");
	/* the link is made at intake; an edit does not move a case onto a patrol */
	relink[0].value = patrol;
	test_refused(node, before, ts_case_edit(node, "王伟", id, relink, 1), TS_EDENIED, "set at intake");
	test_assert(later == NULL);
	free(before);
	free(id);
	free(patrol);
	ts_node_free(node);
}

void test_patrols__case_before_patrol_refused(void)
{
	ts_node *node = street();
	ts_field on[1] = { { "patrol_id", "bj.dc.jingshan-r29990101-1" } };
	char *id = NULL, *before;

	test_assert(node);
	/* a patrol that, by its record, starts after now */
	test_ok(ts_test_arrive(node, "INSERT INTO patrols (id, officers, jurisdiction, area, started_at) VALUES"
		" ('bj.dc.jingshan-r29990101-1', '王伟', 'bj.dc.jingshan', '景山前街', '2999-01-01T09:00:00+08:00')"));
	before = snapshot(node);
	test_refused(node, before, ts_case_new(&id, node, "王伟", "small_ads", "patrol", "景山前街 4号", on, 1),
		TS_EINVALID, "after the case's report");
	free(before);
	ts_node_free(node);
}

void test_patrols__list(void)
{
	ts_node *node = street(), *district = NULL;
	ts_patrol_filter f = TS_PATROL_FILTER_INIT;
	char *a = NULL, *b = NULL, *c = NULL;
	ts_test_seen seen;

	test_assert(node);
	test_ok(start(&a, node, "景山前街", "bj.dc-k20150101-1", "2015-03-01 09:00"));
	test_ok(start(&b, node, "景山后街", NULL, "2015-03-02 09:00"));
	test_ok(start(&c, node, "陟山门街", "bj.dc-k20150101-1", "2015-03-03 09:00"));
	test_ok(ts_patrol_end(node, NULL, a, "2015-03-01 10:00", NULL, NULL));
	test_ok(ts_test_arrive(node, "INSERT INTO patrols (id, officers, jurisdiction, area, started_at) VALUES"
		" ('bj.dc.donghuamen-r20150301-1', '赵强', 'bj.dc.donghuamen', '东华门大街', '2015-03-01T09:00:00+08:00')"));

	memset(&seen, 0, sizeof(seen));
	test_ok(ts_patrol_list(node, NULL, seen_patrol, &seen));
	test_equal_s(seen.text, "景山前街:ended:0/0 景山后街:open:0/0 陟山门街:open:0/0");
	memset(&seen, 0, sizeof(seen));
	f.from = "2015-03-02";
	f.to = "2015-03-02";
	test_ok(ts_patrol_list(node, &f, seen_patrol, &seen));
	test_equal_s(seen.text, "景山后街:open:0/0");
	memset(&seen, 0, sizeof(seen));
	f.from = f.to = NULL;
	f.key_area_id = "bj.dc-k20150101-1";
	f.under_way_only = 1;
	test_ok(ts_patrol_list(node, &f, seen_patrol, &seen));
	test_equal_s(seen.text, "陟山门街:open:0/0");
	/* the callback stops the list and its value comes back */
	memset(&seen, 0, sizeof(seen));
	seen.stop_at = 2;
	test_equal_i(ts_patrol_list(node, NULL, seen_patrol, &seen), 7);
	test_equal_i(seen.calls, 2);
	f = (ts_patrol_filter)TS_PATROL_FILTER_INIT;
	f.jurisdiction = "bj.dc.donghuamen";
	test_equal_i(ts_patrol_list(node, &f, seen_patrol, &seen), TS_EINVALID);
	f = (ts_patrol_filter)TS_PATROL_FILTER_INIT;
	f.version = 99;
	test_equal_i(ts_patrol_list(node, &f, seen_patrol, &seen), TS_EINVALID);
	test_equal_i(ts_patrol_get(node, "bj.dc.jingshan-r-nosuch", seen_patrol, &seen), TS_ENOTFOUND);

	/* a district sees its streets' patrols, and may narrow to one street */
	district = ts_test_node("district", TS_TIER_DISTRICT, "bj.dc", "张敏");
	test_assert(district);
	test_ok(ts_test_arrive(district, "INSERT INTO patrols (id, officers, jurisdiction, area, started_at) VALUES"
		" ('bj.dc.donghuamen-r20150301-1', '赵强', 'bj.dc.donghuamen', '东华门大街', '2015-03-01T09:00:00+08:00'),"
		" ('bj.dc.jingshan-r20150301-1', '王伟', 'bj.dc.jingshan', '景山前街', '2015-03-01T10:00:00+08:00'),"
		" ('bj.xc.xidan-r20150301-1', '钱明', 'bj.xc.xidan', '西单北大街', '2015-03-01T10:00:00+08:00')"));
	memset(&seen, 0, sizeof(seen));
	test_ok(ts_patrol_list(district, NULL, seen_patrol, &seen));
	test_equal_s(seen.text, "东华门大街:open:0/0 景山前街:open:0/0");
	memset(&seen, 0, sizeof(seen));
	f = (ts_patrol_filter)TS_PATROL_FILTER_INIT;
	f.jurisdiction = "bj.dc.jingshan";
	test_ok(ts_patrol_list(district, &f, seen_patrol, &seen));
	test_equal_s(seen.text, "景山前街:open:0/0");
	free(a);
	free(b);
	free(c);
	ts_node_free(district);
	ts_node_free(node);
}

/*
 * Responsibility zones.
 */

static int seen_zone(const ts_zone_info *z, void *payload)
{
	ts_test_seen *seen = payload;
	ts_test_seen_add(seen, "%s:%s:%lld:%d", z->unit, z->notice_issued_at ? "notified" : "none",
		(long long)z->checks, z->last_met);
	return ts_test_seen_next(seen);
}

static int seen_check(const ts_zone_check_info *k, void *payload)
{
	ts_test_seen *seen = payload;
	ts_test_seen_add(seen, "%s:%d:%s:%s", k->unit, k->met, k->checker, OR_NULL(k->note));
	return ts_test_seen_next(seen);
}

void test_patrols__zone_notice_and_checks(void)
{
	ts_node *node = street();
	char *zone = NULL, *check = NULL, sql[512];
	ts_test_seen seen;

	test_assert(node);
	test_ok(ts_zone_add(&zone, node, "王伟", "景山便利店", "景山前街 6号", "bj.dc-k20150101-1"));
	test_assert(!strncmp(zone, "bj.dc.jingshan-z", 16));
	snprintf(sql, sizeof(sql), "SELECT unit || '|' || address || '|' || jurisdiction || '|' || key_area_id || '|'"
		" || ifnull(notice_issued_at, '-') FROM responsibility_zones WHERE id = '%s'", zone);
	test_equal_s(ts_test_query_text(node, sql), "景山便利店|景山前街 6号|bj.dc.jingshan|bj.dc-k20150101-1|-");
	test_ok(ts_zone_notice(node, "李娜", zone, "2015-01-05 10:00"));
	snprintf(sql, sizeof(sql), "SELECT notice_issued_at || '|' || notice_issued_by FROM responsibility_zones"
		" WHERE id = '%s'", zone);
	test_equal_s(ts_test_query_text(node, sql), "2015-01-05T10:00:00+08:00|李娜");
	test_ok(ts_zone_check(&check, node, "王伟", zone, 1, NULL));
	snprintf(sql, sizeof(sql), "SELECT zone_id || '|' || met || '|' || checker || '|' || ifnull(note, '-')"
		" FROM responsibility_checks WHERE id = '%s'", check);
	free(check);
	check = NULL;
	{
		char want[256];
		snprintf(want, sizeof(want), "%s|1|王伟|-", zone);
		test_equal_s(ts_test_query_text(node, sql), want);
	}
	test_ok(ts_zone_check(&check, node, "赵强", zone, 0, "门前堆物"));
	memset(&seen, 0, sizeof(seen));
	test_ok(ts_zone_list(node, NULL, seen_zone, &seen));
	test_equal_s(seen.text, "景山便利店:notified:2:0");
	memset(&seen, 0, sizeof(seen));
	test_ok(ts_zone_checks(node, NULL, seen_check, &seen));
	test_equal_s(seen.text, "景山便利店:1:王伟:NULL 景山便利店:0:赵强:门前堆物");
	test_equal_i(ts_test_query_int(node, "SELECT count(*) FROM ts_staged"), 5);
	free(check);
	free(zone);
	ts_node_free(node);
}

void test_patrols__zone_refusals(void)
{
	ts_node *node = street(), *district = NULL;
	char *zone = NULL, *id = NULL, *before;

	test_assert(node);
	test_ok(ts_test_arrive(node, "INSERT INTO responsibility_zones (id, unit, address, jurisdiction,"
		" notice_issued_at, notice_issued_by) VALUES ('bj.dc.donghuamen-z20150102-1', '东华饭店', '东华门大街 1号',"
		" 'bj.dc.donghuamen', '2015-01-05T10:00:00+08:00', '赵强')"));
	test_ok(ts_zone_add(&zone, node, "王伟", "景山便利店", "景山前街 6号", NULL));
	before = snapshot(node);
	test_refused(node, before, ts_zone_add(&id, node, NULL, "景山便利店", "景山前街 6号", NULL), TS_EINVALID,
		"already responsibility zone");
	test_refused(node, before, ts_zone_add(&id, node, NULL, "景山书店", "景山前街 8号", "bj.dc-k-nosuch"),
		TS_ENOTFOUND, "no key area");
	test_refused(node, before, ts_zone_add(&id, node, NULL, "景山书店", "景山前街 8号", "bj.xc-k20150101-1"),
		TS_EINVALID, "bj.xc");
	test_refused(node, before, ts_zone_add(&id, node, NULL, "", "景山前街 8号", NULL), TS_EINVALID, "shop or unit");
	test_refused(node, before, ts_zone_add(&id, node, NULL, "景山书店", NULL, NULL), TS_EINVALID, "address");
	/* no notice yet: nothing to check the unit against */
	test_refused(node, before, ts_zone_check(&id, node, NULL, zone, 1, NULL), TS_EINVALID, "no notice");
	test_refused(node, before, ts_zone_check(&id, node, NULL, "bj.dc.jingshan-z-nosuch", 1, NULL), TS_ENOTFOUND,
		"no responsibility zone");
	test_refused(node, before, ts_zone_notice(node, NULL, "bj.dc.jingshan-z-nosuch", NULL), TS_ENOTFOUND,
		"no responsibility zone");
	test_refused(node, before, ts_zone_check(&id, node, NULL, "bj.dc.donghuamen-z20150102-1", 1, NULL),
		TS_EDENIED, "bj.dc.donghuamen");
	test_refused(node, before, ts_zone_notice(node, NULL, "bj.dc.donghuamen-z20150102-1", NULL), TS_EDENIED,
		"bj.dc.donghuamen");
	test_refused(node, before, ts_zone_notice(node, NULL, zone, "2999-01-01"), TS_EINVALID, "future");
	test_ok(ts_zone_notice(node, NULL, zone, NULL));
	free(before);
	before = snapshot(node);
	test_refused(node, before, ts_zone_notice(node, "李娜", zone, NULL), TS_EINVALID, "issued once");
	test_refused(node, before, ts_zone_check(&id, node, NULL, zone, 0, NULL), TS_EINVALID, "what was wrong");
	test_refused(node, before, ts_zone_check(&id, node, NULL, zone, 2, NULL), TS_EINVALID, "met (1) or not (0)");
	test_assert(id == NULL);
	free(before);

	/* a zone belongs to a street: a district does not add one */
	district = ts_test_node("district", TS_TIER_DISTRICT, "bj.dc", "张敏");
	test_assert(district);
	before = snapshot(district);
	test_refused(district, before, ts_zone_add(&id, district, NULL, "东城商场", "东直门 1号", NULL), TS_EDENIED,
		"belongs to a street");
	free(before);
	free(zone);
	ts_node_free(district);
	ts_node_free(node);
}

void test_patrols__district_checks_a_street_zone(void)
{
	ts_node *district = ts_test_node("district", TS_TIER_DISTRICT, "bj.dc", "张敏");
	char *check = NULL;

	test_assert(district);
	test_ok(ts_test_arrive(district, "INSERT INTO responsibility_zones (id, unit, address, jurisdiction,"
		" notice_issued_at, notice_issued_by) VALUES ('bj.dc.jingshan-z20150102-1', '景山便利店', '景山前街 6号',"
		" 'bj.dc.jingshan', '2015-01-05T10:00:00+08:00', '王伟')"));
	/* a district inspector checks a street's zone: its jurisdiction covers it */
	test_ok(ts_zone_check(&check, district, "张敏", "bj.dc.jingshan-z20150102-1", 1, "抽查"));
	test_equal_i(ts_test_query_int(district, "SELECT count(*) FROM responsibility_checks WHERE checker = '张敏'"), 1);
	free(check);
	ts_node_free(district);
}

void test_patrols__zone_lists(void)
{
	ts_node *node = street();
	ts_zone_filter f = TS_ZONE_FILTER_INIT;
	ts_zone_check_filter k = TS_ZONE_CHECK_FILTER_INIT;
	char *a = NULL, *b = NULL, *check = NULL;
	ts_test_seen seen;

	test_assert(node);
	test_ok(ts_zone_add(&a, node, NULL, "A 景山便利店", "景山前街 6号", "bj.dc-k20150101-1"));
	test_ok(ts_zone_add(&b, node, NULL, "B 景山书店", "景山前街 8号", NULL));
	test_ok(ts_zone_notice(node, NULL, a, NULL));
	test_ok(ts_zone_check(&check, node, NULL, a, 1, NULL));
	test_ok(ts_test_arrive(node, "INSERT INTO responsibility_zones (id, unit, address, jurisdiction) VALUES"
		" ('bj.dc.donghuamen-z20150102-1', '东华饭店', '东华门大街 1号', 'bj.dc.donghuamen')"));
	memset(&seen, 0, sizeof(seen));
	test_ok(ts_zone_list(node, &f, seen_zone, &seen));
	test_equal_s(seen.text, "A 景山便利店:notified:1:1 B 景山书店:none:0:-1");
	memset(&seen, 0, sizeof(seen));
	f.without_notice_only = 1;
	test_ok(ts_zone_list(node, &f, seen_zone, &seen));
	test_equal_s(seen.text, "B 景山书店:none:0:-1");
	memset(&seen, 0, sizeof(seen));
	f.without_notice_only = 0;
	f.key_area_id = "bj.dc-k20150101-1";
	test_ok(ts_zone_list(node, &f, seen_zone, &seen));
	test_equal_s(seen.text, "A 景山便利店:notified:1:1");
	f.version = 0;
	test_equal_i(ts_zone_list(node, &f, seen_zone, &seen), TS_EINVALID);

	memset(&seen, 0, sizeof(seen));
	k.zone_id = b;
	test_ok(ts_zone_checks(node, &k, seen_check, &seen));
	test_equal_i(seen.calls, 0);
	k.zone_id = "bj.dc.jingshan-z-nosuch";
	test_equal_i(ts_zone_checks(node, &k, seen_check, &seen), TS_ENOTFOUND);
	k.zone_id = NULL;
	k.to = "2015-01-01";
	test_ok(ts_zone_checks(node, &k, seen_check, &seen));
	test_equal_i(seen.calls, 0);
	k.to = NULL;
	k.from = "2015-01-01";
	test_ok(ts_zone_checks(node, &k, seen_check, &seen));
	test_equal_i(seen.calls, 1);
	free(a);
	free(b);
	free(check);
	ts_node_free(node);
}
