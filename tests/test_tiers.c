/*
 * Unit tests of the records between the tiers (node/areas.c,
 * node/supervision.c, node/events.c, node/small_ads.c, node/tiers.c): each
 * operation, and each refusal, which must leave the database and the
 * staged writes exactly as they were. Judged with SQL written here.
 *
 * Rows another tier wrote reach a node by sync; here they are put in
 * through ts_node_write() with plain SQL, as the sync engine would apply
 * them.
 */
#include "harness.h"

#include <limits.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "tiers.h"
#include "node.h"
#include "nodes.h"
#include "tiersync.h"

static ts_node *open_node(const char *dir, ts_tier tier, const char *id, const char *identity)
{
	ts_init_options opts = { TS_INIT_OPTIONS_VERSION, tier, id, NULL, identity, NULL };
	ts_node *node = NULL;
	return ts_node_init(&node, dir, &opts) < 0 ? NULL : node;
}

/* Everything these operations may write, as one string: a refusal must
 * leave it unchanged. */
static char *snapshot(ts_node *node)
{
	return strdup(ts_test_query_text(node,
		"SELECT (SELECT count(*) FROM ts_staged) || '|' ||"
		" ifnull((SELECT group_concat(x, ';') FROM (SELECT id || ',' || level || ',' || owner_node || ','"
		"   || ifnull(city_key_area_id, '-') || ',' || ifnull(delisted_at, '-') AS x FROM key_areas ORDER BY id)), '') || '|' ||"
		" ifnull((SELECT group_concat(x, ';') FROM (SELECT id || ',' || status || ',' || ifnull(closed_at, '-') AS x"
		"   FROM supervision_items ORDER BY id)), '') || '|' ||"
		" (SELECT count(*) FROM supervision_feedback) || '|' ||"
		" (SELECT count(*) FROM major_events) || '|' ||"
		" ifnull((SELECT group_concat(x, ';') FROM (SELECT id || ',' || ifnull(event_id, '-') AS x FROM cases ORDER BY id)), '') || '|' ||"
		" (SELECT count(*) FROM case_events) || '|' ||"
		" ifnull((SELECT group_concat(x, ';') FROM (SELECT id || ',' || phone || ',' || ifnull(outcome, '-') AS x"
		"   FROM small_ad_phones ORDER BY id)), '')"));
}

#define test_unchanged(node, before) ts_test_unchanged(snapshot, node, before)

static int exec_sql(sqlite3 *db, void *payload)
{
	return sqlite3_exec(db, (const char *)payload, NULL, NULL, NULL) == SQLITE_OK ? 0 :
		ts_error_set(TS_ERROR, "%s", sqlite3_errmsg(db));
}

/* Writes rows as if they had arrived by sync, from the city, whose rights
 * cover every row these tests lay down. */
static int arrive(ts_node *node, const char *sql)
{
	return ts_node__write_as(node, "bj", "同步", "arrived by sync", exec_sql, (void *)sql);
}

/* A case of `jurisdiction`, reported at `reported_at` (or a fixed time),
 * as it arrives from the node that recorded it (so that these tests do not
 * depend on the case workflow's rules). The caller frees the id. */
static char *new_case(ts_node *node, const char *category, const char *jurisdiction, const char *reported_at)
{
	static int n;
	char id[128], sql[1024];

	snprintf(id, sizeof(id), "%s-c20150301-%04d", jurisdiction, ++n);
	snprintf(sql, sizeof(sql), "INSERT INTO cases (id, source, category, address, jurisdiction, reported_at,"
		" deadline, created_by_node) VALUES ('%s', 'patrol', '%s', '景山前街 4号', '%s', '%s',"
		" '2015-12-31T00:00:00+08:00', '%s')", id, category, jurisdiction,
		reported_at ? reported_at : "2015-03-01T10:00:00+08:00", jurisdiction);
	return arrive(node, sql) < 0 ? NULL : strdup(id);
}

/*
 * Jurisdiction and times.
 */

void test_tiers__jurisdiction_covers(void)
{
	test_assert(ts_jurisdiction_covers("bj", "bj"));
	test_assert(ts_jurisdiction_covers("bj", "bj.dc"));
	test_assert(ts_jurisdiction_covers("bj.dc", "bj.dc.jingshan.d07"));
	test_assert(!ts_jurisdiction_covers("bj.dc", "bj.dcx"));
	test_assert(!ts_jurisdiction_covers("bj.dc", "bj"));
	test_assert(!ts_jurisdiction_covers("bj.dc", "bj.hd.x"));
	test_assert(!ts_jurisdiction_covers("bj.dc.jingshan", "bj.dc.donghuamen"));
	test_assert(!ts_jurisdiction_covers("", "bj"));
	test_assert(!ts_jurisdiction_covers(NULL, "bj"));
	test_assert(!ts_jurisdiction_covers("bj", NULL));
}

void test_tiers__time_parse(void)
{
	char t[32];

	test_ok(ts_time_parse(t, "2015-03-05", 0, "x"));
	test_equal_s(t, "2015-03-05T00:00:00+08:00");
	test_ok(ts_time_parse(t, "2015-03-05", 1, "x"));
	test_equal_s(t, "2015-03-05T23:59:59+08:00");
	test_ok(ts_time_parse(t, "2015-03-05 09:30", 1, "x"));
	test_equal_s(t, "2015-03-05T09:30:00+08:00");
	test_ok(ts_time_parse(t, "2015-03-05T09:30:15", 0, "x"));
	test_equal_s(t, "2015-03-05T09:30:15+08:00");
	test_ok(ts_time_parse(t, "2016-02-29T09:30:15+08:00", 0, "x"));
	test_equal_s(t, "2016-02-29T09:30:15+08:00");
	test_equal_i(ts_time_parse(t, "2015-02-29", 0, "from"), TS_EINVALID);
	test_equal_s(ts_error_last(), "from: '2015-02-29' is not a date (YYYY-MM-DD) or time (YYYY-MM-DD HH:MM)");
	test_equal_i(ts_time_parse(t, "2015-13-01", 0, "x"), TS_EINVALID);
	test_equal_i(ts_time_parse(t, "2015-3-5", 0, "x"), TS_EINVALID);
	test_equal_i(ts_time_parse(t, "2015-03-05T25:00", 0, "x"), TS_EINVALID);
	test_equal_i(ts_time_parse(t, "2015-03-05T09:30Z", 0, "x"), TS_EINVALID);
	test_equal_i(ts_time_parse(t, "2015-03-05T09:30:00+09:00", 0, "x"), TS_EINVALID);
	test_equal_i(ts_time_parse(t, "yesterday", 0, "x"), TS_EINVALID);
	test_equal_i(ts_time_parse(t, "", 0, "x"), TS_EINVALID);
	test_equal_i(ts_time_parse(t, NULL, 0, "x"), TS_EINVALID);
}

/*
 * Key areas.
 */

void test_tiers__area_city_lists_for_its_districts(void)
{
	ts_node *city = open_node("city", TS_TIER_CITY, "bj", "王城");
	const char *in[] = { "bj.dc", "bj.xc" };
	char *id = NULL, q[512];

	test_assert(city);
	test_ok(ts_area_add(&id, city, "刘局", "天安门地区", "长安街以北", "游客密集", in, 2));
	test_assert(id && !strncmp(id, "bj-k", 4));
	snprintf(q, sizeof(q), "SELECT level || ',' || owner_node || ',' || name || ',' || zone || ',' || reason || ','"
		" || (delisted_at IS NULL) FROM key_areas WHERE id = '%s'", id);
	test_equal_s(ts_test_query_text(city, q), "city,bj,天安门地区,长安街以北,游客密集,1");
	/* one district row per district, carrying the city row */
	snprintf(q, sizeof(q), "SELECT group_concat(owner_node || ':' || level || ':' || name, ' ') FROM "
		"(SELECT * FROM key_areas WHERE city_key_area_id = '%s' ORDER BY owner_node)", id);
	test_equal_s(ts_test_query_text(city, q), "bj.dc:district:天安门地区 bj.xc:district:天安门地区");
	test_equal_i(ts_test_query_int(city, "SELECT count(*) FROM key_areas"), 3);
	test_equal_i(ts_test_query_int(city, "SELECT count(DISTINCT listed_at) FROM key_areas"), 1);
	/* one staged write, named for who listed it */
	test_equal_i(ts_test_query_int(city, "SELECT count(*) FROM ts_staged"), 1);
	test_equal_s(ts_test_query_text(city, "SELECT author FROM ts_staged"), "刘局");
	free(id);
	ts_node_free(city);
}

void test_tiers__area_district_lists_its_own(void)
{
	ts_node *dc = open_node("dc", TS_TIER_DISTRICT, "bj.dc", "张区");
	char *id = NULL;

	test_assert(dc);
	test_ok(ts_area_add(&id, dc, NULL, "景山", "景山前街", NULL, NULL, 0));
	test_equal_s(ts_test_query_text(dc, "SELECT level || ',' || owner_node || ',' || ifnull(city_key_area_id, '-') || ','"
		" || ifnull(reason, '-') FROM key_areas"), "district,bj.dc,-,-");
	/* without --author, the node's identity */
	test_equal_s(ts_test_query_text(dc, "SELECT author FROM ts_staged"), "张区");
	free(id);
	ts_node_free(dc);
}

void test_tiers__area_add_refusals(void)
{
	ts_node *city = open_node("city", TS_TIER_CITY, "bj", "王城");
	ts_node *dc = open_node("dc", TS_TIER_DISTRICT, "bj.dc", "张区");
	ts_node *st = open_node("st", TS_TIER_STREET, "bj.dc.jingshan", "李街");
	ts_node *dev = open_node("dev", TS_TIER_DEVICE, "bj.dc.jingshan.d07", "王伟");
	const char *ok[] = { "bj.dc" }, *twice[] = { "bj.dc", "bj.dc" };
	const char *bad[][1] = { { "bj" }, { "bj.dc.jingshan" }, { "sh.dc" }, { "bj.DC" }, { "bjx.dc" } };
	char *id = NULL, *before_city, *before_dc, *before_st, *before_dev;
	size_t i;

	test_assert(city && dc && st && dev);
	test_ok(ts_area_add(&id, dc, NULL, "景山", "景山前街", NULL, NULL, 0));
	free(id);
	before_city = snapshot(city);
	before_dc = snapshot(dc);
	before_st = snapshot(st);
	before_dev = snapshot(dev);

	test_equal_i(ts_area_add(&id, st, NULL, "景山", "景山前街", NULL, NULL, 0), TS_EDENIED);
	test_assert(id == NULL);
	test_assert(strstr(ts_error_last(), "only the city or a district") != NULL);
	test_assert(strstr(ts_error_last(), "street") != NULL);
	test_equal_i(ts_area_add(&id, dev, NULL, "景山", "景山前街", NULL, NULL, 0), TS_EDENIED);
	test_assert(strstr(ts_error_last(), "device") != NULL);
	/* the city names the districts, the district does not */
	test_equal_i(ts_area_add(&id, city, NULL, "天安门", "长安街", NULL, NULL, 0), TS_EINVALID);
	test_error_says("a key area of the districts it lies in: name them (e.g. bj.dc)");
	test_equal_i(ts_area_add(&id, dc, NULL, "景山东", "景山东街", NULL, ok, 1), TS_EINVALID);
	test_error_says("only the city names the districts an area lies in");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		test_equal_i(ts_area_add(&id, city, NULL, "天安门", "长安街", NULL, bad[i], 1), TS_EINVALID);
	test_equal_i(ts_area_add(&id, city, NULL, "天安门", "长安街", NULL, twice, 2), TS_EINVALID);
	/* name and zone */
	test_equal_i(ts_area_add(&id, dc, NULL, "", "景山前街", NULL, NULL, 0), TS_EINVALID);
	test_equal_i(ts_area_add(&id, dc, NULL, "景山东", NULL, NULL, NULL, 0), TS_EINVALID);
	test_error_says("a key area needs its zone: where its bounds run");
	test_equal_i(ts_area_add(&id, dc, NULL, "景山东", "", NULL, NULL, 0), TS_EINVALID);
	test_error_says("a key area needs its zone");
	/* the same area listed twice by one owner */
	test_equal_i(ts_area_add(&id, dc, NULL, "景山", "景山前街", NULL, NULL, 0), TS_EINVALID);
	test_assert(strstr(ts_error_last(), "already a listed key area") != NULL);
	/* no author at all */
	{
		ts_node *anon = open_node("anon", TS_TIER_DISTRICT, "bj.hd", NULL);
		char *before_anon;
		test_assert(anon);
		before_anon = snapshot(anon);
		test_equal_i(ts_area_add(&id, anon, NULL, "中关村", "中关村大街", NULL, NULL, 0), TS_EINVALID);
		test_error_says("no author: name the officer, or set the node's identity (user.name in its config)");
		test_unchanged(anon, before_anon);
		free(before_anon);
		ts_node_free(anon);
	}
	test_assert(id == NULL);
	test_unchanged(city, before_city);
	test_unchanged(dc, before_dc);
	test_unchanged(st, before_st);
	test_unchanged(dev, before_dev);
	free(before_city);
	free(before_dc);
	free(before_st);
	free(before_dev);
	ts_node_free(city);
	ts_node_free(dc);
	ts_node_free(st);
	ts_node_free(dev);
}

void test_tiers__area_city_delists_with_its_district_rows(void)
{
	ts_node *city = open_node("city", TS_TIER_CITY, "bj", "王城");
	const char *in[] = { "bj.dc", "bj.xc" };
	char *id = NULL, q[512];

	test_assert(city);
	test_ok(ts_area_add(&id, city, NULL, "天安门地区", "长安街以北", NULL, in, 2));
	test_ok(ts_area_delist(city, "刘局", id, "秩序好转"));
	snprintf(q, sizeof(q), "SELECT count(*) FROM key_areas WHERE (id = '%s' OR city_key_area_id = '%s')"
		" AND delisted_at IS NOT NULL AND delisted_at >= listed_at AND delist_reason = '秩序好转'", id, id);
	test_equal_i(ts_test_query_int(city, q), 3);
	test_equal_i(ts_test_query_int(city, "SELECT count(*) FROM ts_staged"), 2);
	test_equal_s(ts_test_query_text(city, "SELECT author FROM ts_staged ORDER BY seq DESC LIMIT 1"), "刘局");
	/* a second delisting is refused */
	test_equal_i(ts_area_delist(city, NULL, id, "again"), TS_EINVALID);
	test_assert(strstr(ts_error_last(), "already delisted") != NULL);
	free(id);
	ts_node_free(city);
}

void test_tiers__area_city_delists_one_district_row(void)
{
	ts_node *city = open_node("city", TS_TIER_CITY, "bj", "王城");
	const char *in[] = { "bj.dc", "bj.xc" };
	char *id = NULL, *carried, q[512];

	test_assert(city);
	test_ok(ts_area_add(&id, city, NULL, "天安门地区", "长安街以北", NULL, in, 2));
	snprintf(q, sizeof(q), "SELECT id FROM key_areas WHERE city_key_area_id = '%s' AND owner_node = 'bj.xc'", id);
	carried = strdup(ts_test_query_text(city, q));
	test_ok(ts_area_delist(city, NULL, carried, "西城段已整治"));
	snprintf(q, sizeof(q), "SELECT group_concat(owner_node || ':' || (delisted_at IS NULL), ' ') FROM "
		"(SELECT * FROM key_areas WHERE id = '%s' OR city_key_area_id = '%s' ORDER BY owner_node)", id, id);
	test_equal_s(ts_test_query_text(city, q), "bj:1 bj.dc:1 bj.xc:0");
	free(carried);
	free(id);
	ts_node_free(city);
}

void test_tiers__area_district_delists_only_its_own(void)
{
	ts_node *dc = open_node("dc", TS_TIER_DISTRICT, "bj.dc", "张区");
	ts_node *st = open_node("st", TS_TIER_STREET, "bj.dc.jingshan", "李街");
	char *own = NULL, *before;

	test_assert(dc && st);
	/* the city's area and its bj.dc row, and another district's area, came by sync */
	test_ok(arrive(dc,
		"INSERT INTO key_areas (id, level, owner_node, city_key_area_id, name, zone, listed_at) VALUES"
		" ('bj-k20150301-0001', 'city', 'bj', NULL, '天安门地区', '长安街', '2015-03-01T09:00:00+08:00'),"
		" ('bj-k20150301-0002', 'district', 'bj.dc', 'bj-k20150301-0001', '天安门地区', '长安街', '2015-03-01T09:00:00+08:00'),"
		" ('bj.xc-k20150301-0001', 'district', 'bj.xc', NULL, '西单', '西单北大街', '2015-03-01T09:00:00+08:00')"));
	test_ok(arrive(st,
		"INSERT INTO key_areas (id, level, owner_node, name, zone, listed_at) VALUES"
		" ('bj.dc-k20150301-0001', 'district', 'bj.dc', '景山', '景山前街', '2015-03-01T09:00:00+08:00')"));
	test_ok(ts_area_add(&own, dc, NULL, "景山", "景山前街", NULL, NULL, 0));
	before = snapshot(dc);

	test_equal_i(ts_area_delist(dc, NULL, "bj.xc-k20150301-0001", "不归我管"), TS_EDENIED);
	test_assert(strstr(ts_error_last(), "only its own") != NULL);
	test_equal_i(ts_area_delist(dc, NULL, "bj-k20150301-0001", "市级的"), TS_EDENIED);
	test_equal_i(ts_area_delist(dc, NULL, "bj-k20150301-0002", "市级的"), TS_EDENIED);
	test_assert(strstr(ts_error_last(), "only the city delists it") != NULL);
	test_equal_i(ts_area_delist(dc, NULL, "nosuch", "x"), TS_ENOTFOUND);
	test_equal_i(ts_area_delist(dc, NULL, own, ""), TS_EINVALID);
	test_error_says("delisting needs a reason");
	test_equal_i(ts_area_delist(dc, NULL, own, NULL), TS_EINVALID);
	test_error_says("delisting needs a reason");
	test_unchanged(dc, before);
	free(before);

	/* a street cannot delist even its district's area */
	before = snapshot(st);
	test_equal_i(ts_area_delist(st, NULL, "bj.dc-k20150301-0001", "整治完毕"), TS_EDENIED);
	test_unchanged(st, before);
	free(before);

	test_ok(ts_area_delist(dc, "张区", own, "整治完毕"));
	test_equal_i(ts_test_query_int(dc, "SELECT count(*) FROM key_areas WHERE delisted_at IS NOT NULL"), 1);
	test_equal_s(ts_test_query_text(dc, "SELECT delist_reason FROM key_areas WHERE delisted_at IS NOT NULL"), "整治完毕");
	free(own);
	ts_node_free(dc);
	ts_node_free(st);
}

void test_tiers__area_fits_case(void)
{
	ts_node *dc = open_node("dc", TS_TIER_DISTRICT, "bj.dc", "张区");
	char *id = NULL, *gone = NULL;

	test_assert(dc);
	test_ok(ts_area_add(&id, dc, NULL, "景山", "景山前街", NULL, NULL, 0));
	test_ok(ts_area_add(&gone, dc, NULL, "北海", "北海北门", NULL, NULL, 0));
	test_ok(ts_area_delist(dc, NULL, gone, "整治完毕"));
	test_equal_i(ts_area_fits_case(dc, id, "bj.dc.jingshan.d07"), 1);
	test_equal_i(ts_area_fits_case(dc, id, "bj.dc"), 1);
	test_equal_i(ts_area_fits_case(dc, id, "bj.hd.zgc"), 0);
	test_equal_i(ts_area_fits_case(dc, gone, "bj.dc.jingshan"), 0);
	test_assert(strstr(ts_error_last(), "delisted") != NULL);
	test_equal_i(ts_area_fits_case(dc, "nosuch", "bj.dc.jingshan"), 0);
	free(id);
	free(gone);
	ts_node_free(dc);
}

/*
 * Supervision items.
 */

void test_tiers__supervise_issue(void)
{
	ts_node *city = open_node("city", TS_TIER_CITY, "bj", "王城");
	ts_supervise_options o = { "bj.dc.jingshan", "清理小广告", "三日内清理完毕", NULL, "2999-12-31" };
	char *id = NULL, *case_id, q[512];

	test_assert(city);
	test_assert((case_id = new_case(city, "small_ads", "bj.dc.jingshan.d07", NULL)));
	o.case_id = case_id;
	test_ok(ts_supervise_issue(&id, city, "刘局", &o));
	test_assert(id && !strncmp(id, "bj-s", 4));
	snprintf(q, sizeof(q), "SELECT issued_by_node || ',' || issuer || ',' || level || ',' || target_node || ','"
		" || case_id || ',' || subject || ',' || detail || ',' || due_at || ',' || status || ','"
		" || (closed_at IS NULL) || ',' || (issued_at LIKE '____-__-__T__:__:__+08:00') FROM supervision_items"
		" WHERE id = '%s'", id);
	{
		char want[512];
		snprintf(want, sizeof(want), "bj,刘局,city,bj.dc.jingshan,%s,清理小广告,三日内清理完毕,"
			"2999-12-31T23:59:59+08:00,open,1,1", case_id);
		test_equal_s(ts_test_query_text(city, q), want);
	}
	/* the case's whole-process record says it is supervised */
	snprintf(q, sizeof(q), "SELECT kind || ',' || officer || ',' || node || ',' || (instr(detail, '%s') > 0)"
		" FROM case_events WHERE case_id = '%s' AND kind = 'supervise'", id, case_id);
	test_equal_s(ts_test_query_text(city, q), "supervise,刘局,bj,1");

	/* a district issues to its street, without a case or due date */
	{
		ts_node *dc = open_node("dc", TS_TIER_DISTRICT, "bj.dc", "张区");
		ts_supervise_options d = { "bj.dc.jingshan", "景山前街占道", NULL, NULL, NULL };
		char *did = NULL;
		test_assert(dc);
		test_ok(ts_supervise_issue(&did, dc, NULL, &d));
		test_equal_s(ts_test_query_text(dc, "SELECT level || ',' || issuer || ',' || (due_at IS NULL) || ',' || (case_id IS NULL)"
			" FROM supervision_items"), "district,张区,1,1");
		free(did);
		ts_node_free(dc);
	}
	free(case_id);
	free(id);
	ts_node_free(city);
}

void test_tiers__supervise_issue_refusals(void)
{
	ts_node *dc = open_node("dc", TS_TIER_DISTRICT, "bj.dc", "张区");
	ts_node *st = open_node("st", TS_TIER_STREET, "bj.dc.jingshan", "李街");
	ts_supervise_options o;
	char *id = NULL, *case_id, *other_case, *before;
	static const char *const bad_targets[] = { "bj.dc", "bj", "bj.hd.zgc", "bj.dcx.a", "BJ.DC.X", "" };
	size_t i;

	test_assert(dc && st);
	test_assert((case_id = new_case(dc, "small_ads", "bj.dc.jingshan", NULL)));
	test_assert((other_case = new_case(dc, "small_ads", "bj.dc.donghuamen", NULL)));
	before = snapshot(dc);

	memset(&o, 0, sizeof(o));
	o.subject = "清理";
	for (i = 0; i < sizeof(bad_targets) / sizeof(bad_targets[0]); i++) {
		int rc;
		o.target = bad_targets[i];
		rc = ts_supervise_issue(&id, dc, NULL, &o);
		test_assert(rc == TS_EDENIED || rc == TS_EINVALID);
	}
	o.target = NULL;
	test_equal_i(ts_supervise_issue(&id, dc, NULL, &o), TS_EINVALID);
	o.target = "bj.hd.zgc";
	test_equal_i(ts_supervise_issue(&id, dc, NULL, &o), TS_EDENIED);
	test_assert(strstr(ts_error_last(), "not below bj.dc") != NULL);
	o.target = "bj.dc.jingshan";
	o.subject = "";
	test_equal_i(ts_supervise_issue(&id, dc, NULL, &o), TS_EINVALID);
	o.subject = "清理";
	o.case_id = "nosuch";
	test_equal_i(ts_supervise_issue(&id, dc, NULL, &o), TS_ENOTFOUND);
	o.case_id = other_case;
	test_equal_i(ts_supervise_issue(&id, dc, NULL, &o), TS_EINVALID);
	test_assert(strstr(ts_error_last(), "outside bj.dc.jingshan") != NULL);
	o.case_id = case_id;
	o.due = "2015-02-30";
	test_equal_i(ts_supervise_issue(&id, dc, NULL, &o), TS_EINVALID);
	test_error_says("due: '2015-02-30' is not a date");
	o.due = "2000-01-01";
	test_equal_i(ts_supervise_issue(&id, dc, NULL, &o), TS_EINVALID);
	test_assert(strstr(ts_error_last(), "already past") != NULL);
	test_assert(id == NULL);
	test_unchanged(dc, before);
	free(before);

	/* a street issues nothing, even to its own device */
	before = snapshot(st);
	o.target = "bj.dc.jingshan.d07";
	o.case_id = NULL;
	o.due = NULL;
	test_equal_i(ts_supervise_issue(&id, st, NULL, &o), TS_EDENIED);
	test_assert(strstr(ts_error_last(), "only the city or a district") != NULL);
	test_unchanged(st, before);
	free(before);
	free(case_id);
	free(other_case);
	ts_node_free(dc);
	ts_node_free(st);
}

#define CITY_ITEM \
	"INSERT INTO supervision_items (id, issued_by_node, issuer, level, target_node, subject, issued_at, status)" \
	" VALUES ('bj-s20150301-0001', 'bj', '刘局', 'city', 'bj.dc.jingshan', '清理小广告'," \
	" '2015-03-01T09:00:00+08:00', 'open')"

void test_tiers__supervise_three_level_feedback(void)
{
	ts_node *st = open_node("st", TS_TIER_STREET, "bj.dc.jingshan", "李街");
	ts_node *dc = open_node("dc", TS_TIER_DISTRICT, "bj.dc", "张区");
	ts_node *city = open_node("city", TS_TIER_CITY, "bj", "王城");
	char *f1 = NULL, *f2 = NULL, *f3 = NULL;

	test_assert(st && dc && city);
	test_ok(arrive(st, CITY_ITEM));
	test_ok(arrive(dc, CITY_ITEM));
	test_ok(arrive(city, CITY_ITEM));

	/* the district's feedback before the street's answer leaves the item open */
	test_ok(ts_supervise_answer(&f2, dc, "张区", "bj-s20150301-0001", "已转街道办理"));
	test_equal_s(ts_test_query_text(dc, "SELECT status FROM supervision_items"), "open");
	test_equal_s(ts_test_query_text(dc, "SELECT level || ',' || node || ',' || author || ',' || text || ',' || item_id"
		" FROM supervision_feedback"), "district,bj.dc,张区,已转街道办理,bj-s20150301-0001");

	/* the target's answer makes it answered */
	test_ok(ts_supervise_answer(&f1, st, "李街", "bj-s20150301-0001", "已清理 12 处"));
	test_assert(f1 && !strncmp(f1, "bj.dc.jingshan-f", 16));
	test_equal_s(ts_test_query_text(st, "SELECT status FROM supervision_items"), "answered");
	test_equal_s(ts_test_query_text(st, "SELECT level || ',' || node || ',' || author || ',' || text"
		" FROM supervision_feedback"), "street,bj.dc.jingshan,李街,已清理 12 处");
	test_equal_s(ts_test_query_text(st, "SELECT author FROM ts_staged ORDER BY seq DESC LIMIT 1"), "李街");

	/* the city adds its own */
	test_ok(ts_supervise_answer(&f3, city, NULL, "bj-s20150301-0001", "市级复查"));
	test_equal_s(ts_test_query_text(city, "SELECT level || ',' || author FROM supervision_feedback"), "city,王城");
	test_equal_s(ts_test_query_text(city, "SELECT status FROM supervision_items"), "open");
	free(f1);
	free(f2);
	free(f3);
	ts_node_free(st);
	ts_node_free(dc);
	ts_node_free(city);
}

void test_tiers__supervise_answer_refusals(void)
{
	ts_node *other = open_node("other", TS_TIER_STREET, "bj.dc.donghuamen", "赵街");
	ts_node *dev = open_node("dev", TS_TIER_DEVICE, "bj.dc.jingshan.d07", "王伟");
	ts_node *hd = open_node("hd", TS_TIER_DISTRICT, "bj.hd", "孙区");
	ts_node *st = open_node("st", TS_TIER_STREET, "bj.dc.jingshan", "李街");
	ts_node *nodes[4];
	char *id = NULL, *before[4];
	size_t i;

	test_assert(other && dev && hd && st);
	nodes[0] = other; nodes[1] = dev; nodes[2] = hd; nodes[3] = st;
	for (i = 0; i < 4; i++)
		test_ok(arrive(nodes[i], CITY_ITEM));
	test_ok(arrive(st, "INSERT INTO supervision_items (id, issued_by_node, issuer, level, target_node, subject,"
		" issued_at, status, closed_at) VALUES ('bj-s20150301-0002', 'bj', '刘局', 'city', 'bj.dc.jingshan',"
		" '旧事项', '2015-03-01T09:00:00+08:00', 'closed', '2015-03-09T09:00:00+08:00')"));
	for (i = 0; i < 4; i++)
		before[i] = snapshot(nodes[i]);

	test_equal_i(ts_supervise_answer(&id, other, NULL, "bj-s20150301-0001", "不是我的"), TS_EDENIED);
	test_assert(strstr(ts_error_last(), "is for bj.dc.jingshan") != NULL);
	test_equal_i(ts_supervise_answer(&id, hd, NULL, "bj-s20150301-0001", "不是我的"), TS_EDENIED);
	test_equal_i(ts_supervise_answer(&id, dev, NULL, "bj-s20150301-0001", "设备"), TS_EDENIED);
	test_assert(strstr(ts_error_last(), "device") != NULL);
	test_equal_i(ts_supervise_answer(&id, st, NULL, "bj-s20150301-0002", "晚了"), TS_EDENIED);
	test_assert(strstr(ts_error_last(), "closed") != NULL);
	test_equal_i(ts_supervise_answer(&id, st, NULL, "nosuch", "x"), TS_ENOTFOUND);
	test_equal_i(ts_supervise_answer(&id, st, NULL, "bj-s20150301-0001", ""), TS_EINVALID);
	test_error_says("an answer needs its text: what was done");
	test_equal_i(ts_supervise_answer(&id, st, NULL, "bj-s20150301-0001", NULL), TS_EINVALID);
	test_error_says("an answer needs its text");
	test_assert(id == NULL);
	for (i = 0; i < 4; i++) {
		test_unchanged(nodes[i], before[i]);
		free(before[i]);
		ts_node_free(nodes[i]);
	}
}

void test_tiers__supervise_close(void)
{
	ts_node *city = open_node("city", TS_TIER_CITY, "bj", "王城");
	ts_node *dc = open_node("dc", TS_TIER_DISTRICT, "bj.dc", "张区");
	ts_node *st = open_node("st", TS_TIER_STREET, "bj.dc.jingshan", "李街");
	ts_supervise_options o = { "bj.dc.jingshan", "清理小广告", NULL, NULL, NULL };
	char *id = NULL, *fb = NULL, *before_city, *before_dc, *before_st, q[256];

	test_assert(city && dc && st);
	test_ok(ts_supervise_issue(&id, city, NULL, &o));
	/* not answered yet: the issuer cannot close it */
	before_city = snapshot(city);
	test_equal_i(ts_supervise_close(city, NULL, id), TS_EDENIED);
	test_assert(strstr(ts_error_last(), "no answer") != NULL);
	test_unchanged(city, before_city);
	free(before_city);

	/* the street's answer arrives at the city and the district, and the street has it */
	snprintf(q, sizeof(q), "UPDATE supervision_items SET status = 'answered' WHERE id = '%s'", id);
	test_ok(arrive(city, q));
	{
		char ins[1024];
		snprintf(ins, sizeof(ins), "INSERT INTO supervision_items (id, issued_by_node, issuer, level, target_node,"
			" subject, issued_at, status) VALUES ('%s', 'bj', '王城', 'city', 'bj.dc.jingshan', '清理小广告',"
			" '2015-03-01T09:00:00+08:00', 'answered')", id);
		test_ok(arrive(dc, ins));
		test_ok(arrive(st, ins));
	}
	before_dc = snapshot(dc);
	before_st = snapshot(st);
	test_equal_i(ts_supervise_close(dc, NULL, id), TS_EDENIED);
	test_assert(strstr(ts_error_last(), "only the issuer") != NULL);
	test_equal_i(ts_supervise_close(st, NULL, id), TS_EDENIED);
	test_equal_i(ts_supervise_close(st, NULL, "nosuch"), TS_ENOTFOUND);
	test_unchanged(dc, before_dc);
	test_unchanged(st, before_st);
	free(before_dc);
	free(before_st);

	test_ok(ts_supervise_close(city, "刘局", id));
	snprintf(q, sizeof(q), "SELECT status || ',' || (closed_at LIKE '____-__-__T__:__:__+08:00')"
		" FROM supervision_items WHERE id = '%s'", id);
	test_equal_s(ts_test_query_text(city, q), "closed,1");
	test_equal_s(ts_test_query_text(city, "SELECT author FROM ts_staged ORDER BY seq DESC LIMIT 1"), "刘局");
	/* closed: no second closing, no more feedback */
	before_city = snapshot(city);
	test_equal_i(ts_supervise_close(city, NULL, id), TS_EINVALID);
	test_equal_i(ts_supervise_answer(&fb, city, NULL, id, "再议"), TS_EDENIED);
	test_unchanged(city, before_city);
	free(before_city);
	free(id);
	ts_node_free(city);
	ts_node_free(dc);
	ts_node_free(st);
}

/*
 * Major events.
 */

void test_tiers__event_add_marks_the_cases_inside(void)
{
	ts_node *dc = open_node("dc", TS_TIER_DISTRICT, "bj.dc", "张区");
	char *inside, *edge, *before_p, *after_p, *elsewhere, *marked_already, *id = NULL, q[512];
	size_t marked = 99;

	test_assert(dc);
	test_assert((inside = new_case(dc, "small_ads", "bj.dc.jingshan.d07", "2015-03-05T10:00:00+08:00")));
	test_assert((edge = new_case(dc, "outdoor_bbq", "bj.dc.jingshan", "2015-03-15T23:59:59+08:00")));
	test_assert((before_p = new_case(dc, "small_ads", "bj.dc.jingshan", "2015-03-02T23:59:59+08:00")));
	test_assert((after_p = new_case(dc, "small_ads", "bj.dc.jingshan", "2015-03-16T00:00:00+08:00")));
	test_assert((elsewhere = new_case(dc, "small_ads", "bj.hd.zgc", "2015-03-05T10:00:00+08:00")));
	test_assert((marked_already = new_case(dc, "small_ads", "bj.dc", "2015-03-05T10:00:00+08:00")));
	test_ok(arrive(dc, "INSERT INTO major_events (id, name, starts_at, ends_at, level, owner_node) VALUES"
		" ('bj.dc-m20150101-0001', '早先', '2015-03-01T00:00:00+08:00', '2015-03-31T00:00:00+08:00', 'district', 'bj.dc')"));
	snprintf(q, sizeof(q), "UPDATE cases SET event_id = 'bj.dc-m20150101-0001' WHERE id = '%s'", marked_already);
	test_ok(arrive(dc, q));

	test_ok(ts_event_add(&id, &marked, dc, "张区", "全国两会", "2015-03-03", "2015-03-15", "天安门周边"));
	test_assert(id && !strncmp(id, "bj.dc-m", 7));
	snprintf(q, sizeof(q), "SELECT name || ',' || starts_at || ',' || ends_at || ',' || zone || ',' || level || ','"
		" || owner_node FROM major_events WHERE id = '%s'", id);
	test_equal_s(ts_test_query_text(dc, q), "全国两会,2015-03-03T00:00:00+08:00,2015-03-15T23:59:59+08:00,天安门周边,district,bj.dc");
	/* judged by SQL of our own: in bj.dc, reported in the period, not marked before */
	test_equal_i(marked, 2);
	snprintf(q, sizeof(q), "SELECT group_concat(id, ' ') FROM (SELECT id FROM cases WHERE event_id = '%s' ORDER BY id)", id);
	{
		char want[256];
		snprintf(want, sizeof(want), "%s %s", strcmp(inside, edge) < 0 ? inside : edge,
			strcmp(inside, edge) < 0 ? edge : inside);
		test_equal_s(ts_test_query_text(dc, q), want);
	}
	snprintf(q, sizeof(q), "SELECT event_id FROM cases WHERE id = '%s'", marked_already);
	test_equal_s(ts_test_query_text(dc, q), "bj.dc-m20150101-0001");
	test_equal_i(ts_test_query_int(dc, "SELECT count(*) FROM cases WHERE event_id IS NULL"), 3);
	free(inside);
	free(edge);
	free(before_p);
	free(after_p);
	free(elsewhere);
	free(marked_already);
	free(id);
	ts_node_free(dc);
}

void test_tiers__event_add_refusals(void)
{
	ts_node *dc = open_node("dc", TS_TIER_DISTRICT, "bj.dc", "张区");
	ts_node *st = open_node("st", TS_TIER_STREET, "bj.dc.jingshan", "李街");
	char *id = NULL, *before_dc, *before_st, *c;
	size_t marked = 7;

	test_assert(dc && st);
	test_assert((c = new_case(st, "small_ads", "bj.dc.jingshan", "2015-03-05T10:00:00+08:00")));
	before_dc = snapshot(dc);
	before_st = snapshot(st);
	test_equal_i(ts_event_add(&id, &marked, st, NULL, "两会", "2015-03-03", "2015-03-15", NULL), TS_EDENIED);
	test_equal_i(marked, 0);
	test_assert(strstr(ts_error_last(), "declare major events") != NULL);
	test_equal_i(ts_event_add(&id, NULL, dc, NULL, "两会", "2015-03-15", "2015-03-03", NULL), TS_EINVALID);
	test_assert(strstr(ts_error_last(), "ends") != NULL);
	test_equal_i(ts_event_add(&id, NULL, dc, NULL, "两会", "2015-02-30", "2015-03-03", NULL), TS_EINVALID);
	test_error_says("from: '2015-02-30' is not a date");
	test_equal_i(ts_event_add(&id, NULL, dc, NULL, "两会", "2015-03-01", "tomorrow", NULL), TS_EINVALID);
	test_error_says("to: 'tomorrow' is not a date");
	test_equal_i(ts_event_add(&id, NULL, dc, NULL, "两会", NULL, "2015-03-03", NULL), TS_EINVALID);
	test_equal_i(ts_event_add(&id, NULL, dc, NULL, "", "2015-03-01", "2015-03-03", NULL), TS_EINVALID);
	test_assert(id == NULL);
	test_unchanged(dc, before_dc);
	test_unchanged(st, before_st);
	/* one day is a period */
	test_ok(ts_event_add(&id, NULL, dc, NULL, "国庆", "2015-10-01", "2015-10-01", NULL));
	test_equal_s(ts_test_query_text(dc, "SELECT starts_at || ' ' || ends_at FROM major_events"),
		"2015-10-01T00:00:00+08:00 2015-10-01T23:59:59+08:00");
	free(before_dc);
	free(before_st);
	free(c);
	free(id);
	ts_node_free(dc);
	ts_node_free(st);
}

#define CITY_EVENT \
	"INSERT INTO major_events (id, name, starts_at, ends_at, zone, level, owner_node) VALUES" \
	" ('bj-m20150101-0001', '全国两会', '2015-03-03T00:00:00+08:00', '2015-03-15T23:59:59+08:00', '全市', 'city', 'bj')"

void test_tiers__event_mark_after_pull(void)
{
	ts_node *st = open_node("st", TS_TIER_STREET, "bj.dc.jingshan", "李街");
	char *a, *b, *out, *not_ours, *before;
	size_t marked = 99;

	test_assert(st);
	test_assert((a = new_case(st, "small_ads", "bj.dc.jingshan", "2015-03-05T10:00:00+08:00")));
	test_assert((b = new_case(st, "small_ads", "bj.dc.jingshan.d07", "2015-03-10T10:00:00+08:00")));
	test_assert((out = new_case(st, "small_ads", "bj.dc.jingshan", "2015-04-05T10:00:00+08:00")));
	/* a case of another street this node happens to hold: not its to mark */
	test_assert((not_ours = new_case(st, "small_ads", "bj.dc.donghuamen", "2015-03-05T10:00:00+08:00")));
	/* nothing to mark yet: nothing staged */
	before = snapshot(st);
	test_ok(ts_event_mark(&marked, st, NULL, NULL));
	test_equal_i(marked, 0);
	test_unchanged(st, before);
	free(before);

	test_ok(arrive(st, CITY_EVENT));
	test_equal_i(ts_event_mark(&marked, st, NULL, "nosuch"), TS_ENOTFOUND);
	test_ok(ts_event_mark(&marked, st, "李街", NULL));
	test_equal_i(marked, 2);
	test_equal_i(ts_test_query_int(st, "SELECT count(*) FROM cases WHERE event_id = 'bj-m20150101-0001'"
		" AND (jurisdiction = 'bj.dc.jingshan' OR jurisdiction LIKE 'bj.dc.jingshan.%')"
		" AND reported_at BETWEEN '2015-03-03T00:00:00+08:00' AND '2015-03-15T23:59:59+08:00'"), 2);
	test_equal_i(ts_test_query_int(st, "SELECT count(*) FROM cases WHERE event_id IS NOT NULL"), 2);
	test_equal_s(ts_test_query_text(st, "SELECT author FROM ts_staged ORDER BY seq DESC LIMIT 1"), "李街");
	/* again: nothing left */
	before = snapshot(st);
	test_ok(ts_event_mark(&marked, st, NULL, "bj-m20150101-0001"));
	test_equal_i(marked, 0);
	test_unchanged(st, before);
	free(before);
	free(a);
	free(b);
	free(out);
	free(not_ours);
	ts_node_free(st);
}

void test_tiers__event_for_case_prefers_the_most_local(void)
{
	ts_node *st = open_node("st", TS_TIER_STREET, "bj.dc.jingshan", "李街");
	char *ev = NULL;

	test_assert(st);
	test_ok(arrive(st, CITY_EVENT));
	test_ok(ts_event_for_case(&ev, st, "bj.dc.jingshan", "2015-03-05T10:00:00+08:00"));
	test_equal_s(ev, "bj-m20150101-0001");
	free(ev);
	test_ok(arrive(st, "INSERT INTO major_events (id, name, starts_at, ends_at, level, owner_node) VALUES"
		" ('bj.dc-m20150101-0001', '区级保障', '2015-03-04T00:00:00+08:00', '2015-03-06T23:59:59+08:00', 'district', 'bj.dc'),"
		" ('bj.hd-m20150101-0001', '海淀保障', '2015-03-01T00:00:00+08:00', '2015-03-31T23:59:59+08:00', 'district', 'bj.hd')"));
	test_ok(ts_event_for_case(&ev, st, "bj.dc.jingshan", "2015-03-05T10:00:00+08:00"));
	test_equal_s(ev, "bj.dc-m20150101-0001");
	free(ev);
	test_ok(ts_event_for_case(&ev, st, "bj.dc.jingshan", "2015-03-10T10:00:00+08:00"));
	test_equal_s(ev, "bj-m20150101-0001");
	free(ev);
	test_ok(ts_event_for_case(&ev, st, "bj.dc.jingshan", "2015-05-10T10:00:00+08:00"));
	test_assert(ev == NULL);
	test_ok(ts_event_for_case(&ev, st, "sh.pd", "2015-03-05T10:00:00+08:00"));
	test_assert(ev == NULL);
	ts_node_free(st);
}

/* What case intake does: the case row, then its mark, in one write. */
typedef struct {
	ts_node *node;
	const char *id, *reported_at;
	int marked;
} intake;

static int do_intake(sqlite3 *db, void *payload)
{
	intake *in = payload;
	char sql[1024];
	int error;

	snprintf(sql, sizeof(sql), "INSERT INTO cases (id, source, category, address, jurisdiction, reported_at,"
		" deadline, created_by_node) VALUES ('%s', 'patrol', 'small_ads', '景山前街', 'bj.dc.jingshan.d07',"
		" '%s', '2015-12-31T00:00:00+08:00', 'bj.dc.jingshan.d07')", in->id, in->reported_at);
	if ((error = exec_sql(db, sql)) < 0)
		return error;
	return ts_event_mark_case(&in->marked, in->node, in->id);
}

static int do_mark_case(sqlite3 *db, void *payload)
{
	intake *in = payload;
	(void)db;
	return ts_event_mark_case(&in->marked, in->node, in->id);
}

void test_tiers__event_mark_case_at_intake(void)
{
	ts_node *dev = open_node("dev", TS_TIER_DEVICE, "bj.dc.jingshan.d07", "王伟");
	intake in = { NULL, "bj.dc.jingshan.d07-c20150305-0001", "2015-03-05T10:00:00+08:00", -1 };
	intake out = { NULL, "bj.dc.jingshan.d07-c20150405-0001", "2015-04-05T10:00:00+08:00", -1 };

	test_assert(dev);
	test_ok(arrive(dev, CITY_EVENT));
	in.node = out.node = dev;
	test_ok(ts_node_write(dev, "王伟", "intake", do_intake, &in));
	test_equal_i(in.marked, 1);
	test_equal_s(ts_test_query_text(dev, "SELECT event_id FROM cases WHERE id = 'bj.dc.jingshan.d07-c20150305-0001'"),
		"bj-m20150101-0001");
	test_ok(ts_node_write(dev, "王伟", "intake", do_intake, &out));
	test_equal_i(out.marked, 0);
	test_equal_s(ts_test_query_text(dev, "SELECT ifnull(event_id, '-') FROM cases WHERE id = 'bj.dc.jingshan.d07-c20150405-0001'"),
		"-");
	/* a case already marked keeps its mark: a second call marks nothing */
	test_ok(arrive(dev, "UPDATE cases SET event_id = NULL WHERE id = 'bj.dc.jingshan.d07-c20150305-0001';"
		" INSERT INTO major_events (id, name, starts_at, ends_at, level, owner_node) VALUES"
		" ('bj.dc-m20150101-0001', '区级保障', '2015-03-04T00:00:00+08:00', '2015-03-06T23:59:59+08:00',"
		" 'district', 'bj.dc');"
		" UPDATE cases SET event_id = 'bj-m20150101-0001' WHERE id = 'bj.dc.jingshan.d07-c20150305-0001'"));
	test_ok(ts_node_write(dev, "王伟", "mark", do_mark_case, &in));
	test_equal_i(in.marked, 0);
	test_equal_s(ts_test_query_text(dev, "SELECT event_id FROM cases WHERE id = 'bj.dc.jingshan.d07-c20150305-0001'"),
		"bj-m20150101-0001");
	/* unmarked, it takes the most local event */
	test_ok(arrive(dev, "UPDATE cases SET event_id = NULL"));
	test_ok(ts_node_write(dev, "王伟", "mark", do_mark_case, &in));
	test_equal_i(in.marked, 1);
	test_equal_s(ts_test_query_text(dev, "SELECT event_id FROM cases WHERE id = 'bj.dc.jingshan.d07-c20150305-0001'"),
		"bj.dc-m20150101-0001");
	ts_node_free(dev);
}

/*
 * Small ads.
 */

void test_tiers__ads_add(void)
{
	ts_node *st = open_node("st", TS_TIER_STREET, "bj.dc.jingshan", "李街");
	const char *phones[] = { "138-0013-8000", "139 1234 5678", "01065001234" };
	char *c, q[512];

	test_assert(st);
	test_assert((c = new_case(st, "small_ads", "bj.dc.jingshan.d07", NULL)));
	test_ok(ts_ads_add(st, "王伟", c, phones, 3));
	snprintf(q, sizeof(q), "SELECT group_concat(phone, ' ') FROM (SELECT phone FROM small_ad_phones"
		" WHERE case_id = '%s' AND outcome IS NULL AND warned_at IS NULL ORDER BY phone)", c);
	test_equal_s(ts_test_query_text(st, q), "01065001234 13800138000 13912345678");
	snprintf(q, sizeof(q), "SELECT officer || ',' || (instr(detail, '13912345678') > 0) FROM case_events"
		" WHERE case_id = '%s' AND kind = 'note'", c);
	test_equal_s(ts_test_query_text(st, q), "王伟,1");
	test_equal_s(ts_test_query_text(st, "SELECT author FROM ts_staged ORDER BY seq DESC LIMIT 1"), "王伟");
	free(c);
	ts_node_free(st);
}

void test_tiers__ads_add_refusals(void)
{
	ts_node *st = open_node("st", TS_TIER_STREET, "bj.dc.jingshan", "李街");
	const char *one[] = { "13800138000" }, *twice[] = { "13800138000", "138 0013 8000" };
	const char *bad[][1] = { { "1380013800x" }, { "+8613800138000" }, { "123" }, { "" }, { "123456789012345678901" } };
	char *ads, *bbq, *closed, *foreign, *before;
	size_t i;

	test_assert(st);
	test_assert((ads = new_case(st, "small_ads", "bj.dc.jingshan", NULL)));
	test_assert((bbq = new_case(st, "outdoor_bbq", "bj.dc.jingshan", NULL)));
	test_assert((closed = new_case(st, "small_ads", "bj.dc.jingshan", NULL)));
	test_assert((foreign = new_case(st, "small_ads", "bj.dc.donghuamen", NULL)));
	{
		char q[256];
		snprintf(q, sizeof(q), "UPDATE cases SET status = 'closed', closed_at = '2015-03-02T10:00:00+08:00'"
			" WHERE id = '%s'", closed);
		test_ok(arrive(st, q));
	}
	test_ok(ts_ads_add(st, NULL, ads, one, 1));
	before = snapshot(st);

	test_equal_i(ts_ads_add(st, NULL, ads, one, 1), TS_EINVALID);
	test_assert(strstr(ts_error_last(), "already recorded") != NULL);
	test_equal_i(ts_ads_add(st, NULL, ads, twice, 2), TS_EINVALID);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		test_equal_i(ts_ads_add(st, NULL, ads, bad[i], 1), TS_EINVALID);
	test_equal_i(ts_ads_add(st, NULL, ads, one, 0), TS_EINVALID);
	test_equal_i(ts_ads_add(st, NULL, bbq, one, 1), TS_EINVALID);
	test_assert(strstr(ts_error_last(), "small_ads") != NULL);
	test_equal_i(ts_ads_add(st, NULL, closed, one, 1), TS_EDENIED);
	test_equal_i(ts_ads_add(st, NULL, foreign, one, 1), TS_EDENIED);
	test_equal_i(ts_ads_add(st, NULL, "nosuch", one, 1), TS_ENOTFOUND);
	test_unchanged(st, before);
	free(before);
	free(ads);
	free(bbq);
	free(closed);
	free(foreign);
	ts_node_free(st);
}

void test_tiers__ads_warn_and_rate(void)
{
	ts_node *st = open_node("st", TS_TIER_STREET, "bj.dc.jingshan", "李街");
	const char *p1[] = { "13800138000", "13912345678", "13700000001" };
	const char *p2[] = { "13800138000", "13600000002" };
	const char *p3[] = { "13800138000" };
	char *c1, *c2, *foreign, *before;
	ts_ads_figures f;
	size_t rows = 99;

	test_assert(st);
	test_assert((c1 = new_case(st, "small_ads", "bj.dc.jingshan", NULL)));
	test_assert((c2 = new_case(st, "small_ads", "bj.dc.jingshan.d07", NULL)));
	test_assert((foreign = new_case(st, "small_ads", "bj.dc.donghuamen", NULL)));
	test_ok(ts_ads_add(st, NULL, c1, p1, 3));
	test_ok(ts_ads_add(st, NULL, c2, p2, 2));
	/* a sighting in another street: neither warned nor counted here */
	{
		char q[512];
		snprintf(q, sizeof(q), "INSERT INTO small_ad_phones (id, case_id, phone) VALUES"
			" ('bj.dc.donghuamen-a20150301-0001', '%s', '%s')", foreign, p3[0]);
		test_ok(arrive(st, q));
	}

	test_ok(ts_ads_warn(&rows, st, "赵警", "138-0013-8000", "warned"));
	test_equal_i(rows, 2);
	test_equal_i(ts_test_query_int(st, "SELECT count(*) FROM small_ad_phones WHERE phone = '13800138000'"
		" AND outcome = 'warned' AND warned_by = '赵警' AND warned_at LIKE '____-__-__T__:__:__+08:00'"), 2);
	test_equal_i(ts_test_query_int(st, "SELECT count(*) FROM small_ad_phones WHERE id = 'bj.dc.donghuamen-a20150301-0001'"
		" AND outcome IS NULL"), 1);
	test_equal_s(ts_test_query_text(st, "SELECT author FROM ts_staged ORDER BY seq DESC LIMIT 1"), "赵警");
	test_ok(ts_ads_warn(&rows, st, NULL, "13912345678", "unreachable"));
	test_equal_i(rows, 1);
	test_ok(ts_ads_warn(&rows, st, NULL, "13700000001", "suspended"));

	before = snapshot(st);
	test_equal_i(ts_ads_warn(&rows, st, NULL, "13800138000", "warned"), TS_EINVALID);
	test_assert(strstr(ts_error_last(), "already warned") != NULL);
	test_equal_i(ts_ads_warn(&rows, st, NULL, "13500000000", "warned"), TS_ENOTFOUND);
	test_equal_i(ts_ads_warn(&rows, st, NULL, "13600000002", "called"), TS_EINVALID);
	test_equal_i(ts_ads_warn(&rows, st, NULL, "13600000002", NULL), TS_EINVALID);
	test_equal_i(ts_ads_warn(&rows, st, NULL, "phone", "warned"), TS_EINVALID);
	test_unchanged(st, before);
	free(before);

	/* the figures, against SQL of our own over this street's cases */
	test_ok(ts_ads_figures_get(&f, st));
	test_equal_i(f.found, ts_test_query_int(st, "SELECT count(DISTINCT p.phone) FROM small_ad_phones p JOIN cases c"
		" ON c.id = p.case_id WHERE c.jurisdiction = 'bj.dc.jingshan' OR c.jurisdiction LIKE 'bj.dc.jingshan.%'"));
	test_equal_i(f.found, 4);
	test_equal_i(f.warned, ts_test_query_int(st, "SELECT count(*) FROM (SELECT p.phone FROM small_ad_phones p JOIN cases c"
		" ON c.id = p.case_id WHERE c.jurisdiction = 'bj.dc.jingshan' OR c.jurisdiction LIKE 'bj.dc.jingshan.%'"
		" GROUP BY p.phone HAVING min(ifnull(p.outcome, '')) = 'warned' AND max(ifnull(p.outcome, '')) = 'warned')"));
	test_equal_i(f.warned, 1);
	test_equal_i(f.unreachable, 1);
	test_equal_i(f.suspended, 1);
	test_equal_i(f.untried, 1);
	test_assert(f.rate > 0.2499 && f.rate < 0.2501);

	/* the number seen again on a new case is not warned there yet */
	{
		char *c3;
		test_assert((c3 = new_case(st, "small_ads", "bj.dc.jingshan", NULL)));
		test_ok(ts_ads_add(st, NULL, c3, p3, 1));
		test_ok(ts_ads_figures_get(&f, st));
		test_equal_i(f.warned, 0);
		test_equal_i(f.untried, 2);
		test_ok(ts_ads_warn(&rows, st, NULL, "13800138000", "warned"));
		test_equal_i(rows, 1);
		free(c3);
	}
	free(c1);
	free(c2);
	free(foreign);
	ts_node_free(st);
}

void test_tiers__ads_figures_empty(void)
{
	ts_node *st = open_node("st", TS_TIER_STREET, "bj.dc.jingshan", "李街");
	ts_ads_figures f;

	test_assert(st);
	test_ok(ts_ads_figures_get(&f, st));
	test_equal_i(f.found, 0);
	test_equal_i(f.warned, 0);
	test_assert(f.rate == 0.0);
	ts_node_free(st);
}

/* The merge policies of the tables between the tiers, as 0002 and 0005 declare them. */
void test_tiers__policies(void)
{
	ts_node *st = open_node("st", TS_TIER_STREET, "bj.dc.jingshan", "李街");

	test_assert(st);
	test_equal_s(ts_test_query_text(st, "SELECT policy || ',' || settles FROM sync_policies"
		" WHERE table_name = 'small_ad_phones' AND column_name = '*'"), "lower,1");
	test_equal_s(ts_test_query_text(st, "SELECT policy || ',' || settles FROM sync_policies"
		" WHERE table_name = 'key_areas' AND column_name = '*'"), "upper,1");
	test_equal_s(ts_test_query_text(st, "SELECT policy || ',' || settles FROM sync_policies"
		" WHERE table_name = 'major_events' AND column_name = '*'"), "upper,1");
	test_equal_s(ts_test_query_text(st, "SELECT policy || ',' || settles FROM sync_policies"
		" WHERE table_name = 'supervision_items' AND column_name = 'status'"), "upper,1");
	test_equal_s(ts_test_query_text(st, "SELECT policy || ',' || settles FROM sync_policies"
		" WHERE table_name = 'supervision_feedback' AND column_name = '*'"), "lower,1");
	ts_node_free(st);
}

/* A case recorded during a major event, in its place, belongs to it from intake. */
void test_tiers__intake_marks_the_event(void)
{
	ts_node *dc = open_node("dc", TS_TIER_DISTRICT, "bj.dc", "张区");
	char *id = NULL, *during = NULL, *after = NULL, q[256];

	test_assert(dc);
	test_ok(ts_event_add(&id, NULL, dc, "张区", "全国两会", "2015-03-03", "2015-03-15", NULL));
	setenv("TIERSYNC_NOW", "1425549600", 1);   /* 2015-03-05T18:00:00+08:00 */
	test_ok(ts_case_new(&during, dc, NULL, "small_ads", "patrol", "前门大街", NULL, 0));
	setenv("TIERSYNC_NOW", "1426521600", 1);   /* 2015-03-17T00:00:00+08:00 */
	test_ok(ts_case_new(&after, dc, NULL, "small_ads", "patrol", "前门大街", NULL, 0));
	unsetenv("TIERSYNC_NOW");
	snprintf(q, sizeof(q), "SELECT event_id FROM cases WHERE id = '%s'", during);
	test_equal_s(ts_test_query_text(dc, q), id);
	snprintf(q, sizeof(q), "SELECT count(*) FROM cases WHERE id = '%s' AND event_id IS NULL", after);
	test_equal_i(ts_test_query_int(dc, q), 1);
	test_ok(ts_node_verify(dc, NULL, NULL));
	free(id);
	free(during);
	free(after);
	ts_node_free(dc);
}

/*
 * What a node may work on: the cases of its jurisdiction; a device, those
 * of its street.
 */

/* Small-ad numbers are recorded by the office whose place the case is in. */
void test_tiers__ads_of_another_streets_case_are_refused(void)
{
	ts_node *st = open_node("st", TS_TIER_STREET, "bj.dc.x", "王伟");
	const char *phones[] = { "13800000000" };
	char *theirs, *before, *after;

	test_assert(st);
	test_assert((theirs = new_case(st, "small_ads", "bj.dc.y", NULL)));
	before = snapshot(st);
	test_equal_i(ts_ads_add(st, NULL, theirs, phones, 1), TS_EDENIED);
	test_assert(strstr(ts_error_last(), "outside this node's jurisdiction"));
	after = snapshot(st);
	test_equal_s(after, before);
	free(before);
	free(after);
	free(theirs);
	ts_node_free(st);
}

void test_tiers__a_device_works_on_its_streets_cases(void)
{
	ts_node *dev = open_node("dev", TS_TIER_DEVICE, "bj.dc.x.d07", "李娜");
	const char *phones[] = { "13800000000" };
	char *id = NULL, *event = NULL, q[256];
	size_t rows = 0, marked = 0;

	test_assert(dev);
	test_ok(ts_case_new(&id, dev, NULL, "small_ads", "patrol", "景山前街", NULL, 0));
	test_ok(ts_case_dispatch(dev, NULL, id, "李娜", NULL));
	test_ok(ts_ads_add(dev, NULL, id, phones, 1));
	test_ok(ts_ads_warn(&rows, dev, NULL, "13800000000", "warned"));
	test_equal_i((int)rows, 1);
	/* an event that arrived from the district marks the device's cases */
	test_ok(arrive(dev, "INSERT INTO major_events (id, name, starts_at, ends_at, level, owner_node) VALUES"
		" ('bj.dc-m1', '全国两会', '2000-01-01T00:00:00+08:00', '2099-12-31T23:59:59+08:00', 'district', 'bj.dc')"));
	test_ok(ts_event_mark(&marked, dev, NULL, NULL));
	test_equal_i((int)marked, 1);
	snprintf(q, sizeof(q), "SELECT event_id FROM cases WHERE id = '%s'", id);
	test_equal_s(ts_test_query_text(dev, q), "bj.dc-m1");
	free(id);
	free(event);
	ts_node_free(dev);
}

void test_tiers__a_case_takes_only_a_listed_key_area_of_its_place(void)
{
	ts_node *st = open_node("st", TS_TIER_STREET, "bj.dc.x", "王伟");
	ts_field delisted = { "key_area_id", "bj.dc-k1" }, elsewhere = { "key_area_id", "bj.hd-k1" };
	ts_field listed = { "key_area_id", "bj.dc-k2" };
	char *id = NULL;

	test_assert(st);
	test_ok(arrive(st, "INSERT INTO key_areas (id, level, owner_node, name, listed_at, delisted_at) VALUES"
		" ('bj.dc-k1', 'district', 'bj.dc', '旧区', '2015-01-01T00:00:00+08:00', '2015-06-01T00:00:00+08:00'),"
		" ('bj.hd-k1', 'district', 'bj.hd', '海淀', '2015-01-01T00:00:00+08:00', NULL),"
		" ('bj.dc-k2', 'district', 'bj.dc', '景山', '2015-01-01T00:00:00+08:00', NULL)"));
	test_equal_i(ts_case_new(&id, st, NULL, "small_ads", "patrol", "景山前街", &delisted, 1), TS_EINVALID);
	test_assert(strstr(ts_error_last(), "delisted"));
	test_equal_i(ts_case_new(&id, st, NULL, "small_ads", "patrol", "景山前街", &elsewhere, 1), TS_EINVALID);
	test_equal_i(ts_test_query_int(st, "SELECT count(*) FROM cases"), 0);
	test_ok(ts_case_new(&id, st, NULL, "small_ads", "patrol", "景山前街", &listed, 1));
	test_equal_i(ts_case_edit(st, NULL, id, &delisted, 1), TS_EINVALID);
	test_equal_i(ts_test_query_int(st, "SELECT count(*) FROM cases WHERE key_area_id = 'bj.dc-k2'"), 1);
	free(id);
	ts_node_free(st);
}

void test_tiers__a_transferred_case_takes_no_evidence_or_numbers(void)
{
	ts_node *st = open_node("st", TS_TIER_STREET, "bj.dc.x", "王伟");
	const char *phones[] = { "13800000000" };
	char *id = NULL, *ev = NULL, sha[65];
	FILE *f;

	test_assert(st);
	test_ok(ts_case_new(&id, st, NULL, "small_ads", "patrol", "景山前街", NULL, 0));
	test_ok(ts_case_dispatch(st, NULL, id, "李娜", NULL));
	test_ok(ts_case_transfer(st, NULL, id, "公安", NULL));
	test_assert((f = fopen("photo.jpg", "w")) && fputs("jpeg", f) >= 0 && fclose(f) == 0);
	test_equal_i(ts_evidence_add(&ev, sha, st, NULL, id, "photo.jpg", NULL), TS_EDENIED);
	test_equal_i(ts_ads_add(st, NULL, id, phones, 1), TS_EDENIED);
	test_equal_i(ts_test_query_int(st, "SELECT count(*) FROM evidence") + ts_test_query_int(st, "SELECT count(*) FROM small_ad_phones"), 0);
	free(id);
	ts_node_free(st);
}
