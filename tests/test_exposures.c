/*
 * Unit tests of the records the plan's figures need beyond the cases:
 * exposures (node/exposures.c) and complaint baselines (node/baselines.c).
 * Each write is judged with SQL written here, and each refusal must leave
 * the rows and the staged writes exactly as they were.
 *
 * Rows another node wrote (the district's case) reach a node by sync; here
 * they arrive through ts_test_arrive().
 */
#include "harness.h"

#include <stdlib.h>

#include "nodes.h"
#include "tiersync.h"

/* Everything these operations may write, as one string. */
static char *snapshot(ts_node *node)
{
	return strdup(ts_test_query_text(node,
		"SELECT (SELECT count(*) FROM ts_staged) || '|' ||"
		" ifnull((SELECT group_concat(x, ';') FROM (SELECT id || ',' || jurisdiction || ',' || ifnull(case_id, '-')"
		"   AS x FROM exposures ORDER BY id)), '') || '|' ||"
		" ifnull((SELECT group_concat(x, ';') FROM (SELECT scope || ',' || subject || ',' || year || ','"
		"   || complaints AS x FROM complaint_baselines ORDER BY 1)), '') || '|' ||"
		" (SELECT count(*) FROM case_events)"));
}

#define test_refused(node, before, call, code, needle) do { \
	test_equal_i((call), (code)); \
	test_error_says(needle); \
	ts_test_unchanged(snapshot, node, before); \
} while (0)

/* A case of the street, and one of the district's own that reached it. */
#define CASES \
	"INSERT INTO cases (id, source, category, address, jurisdiction, reported_at, deadline, created_by_node) VALUES" \
	" ('bj.dc.jingshan-c20150601-1', 'patrol', 'small_ads', '景山前街 4号', 'bj.dc.jingshan'," \
	"  '2015-06-01T08:00:00+08:00', '2015-06-04T08:00:00+08:00', 'bj.dc.jingshan')," \
	" ('bj.dc-c20150601-1', 'patrol', 'signboard', '东直门内大街 1号', 'bj.dc'," \
	"  '2015-06-01T08:00:00+08:00', '2015-06-16T08:00:00+08:00', 'bj.dc');"

static ts_node *street(void)
{
	ts_node *node = ts_test_node("street", TS_TIER_STREET, "bj.dc.jingshan", "李娜");
	if (node && ts_test_arrive(node, CASES) < 0) {
		ts_node_free(node);
		return NULL;
	}
	return node;
}

static int add(char **id, ts_node *node, const char *case_id, const char *at, const char *url)
{
	ts_exposure_options o = { "北京日报", "景山前街小广告屡禁不止", case_id, at, url };
	return ts_exposure_add(id, node, "李娜", &o);
}

typedef struct {
	char ids[256];
	int n;
} seen;

static int collect_exposure(const ts_exposure_info *x, void *payload)
{
	seen *s = payload;
	size_t len = strlen(s->ids);
	snprintf(s->ids + len, sizeof(s->ids) - len, "%s%s", s->n++ ? "," : "", x->published_at);
	return 0;
}

void test_exposures__add_list_remove(void)
{
	ts_node *node = street();
	ts_exposure_filter june = TS_EXPOSURE_FILTER_INIT;
	seen all = { "", 0 }, some = { "", 0 };
	char *id = NULL, *id2 = NULL, sql[512];

	test_assert(node);
	test_ok(add(&id, node, "bj.dc.jingshan-c20150601-1", "2015-06-02 09:00", "https://example.org/a"));
	test_assert(!strncmp(id, "bj.dc.jingshan-x", 16));
	snprintf(sql, sizeof(sql), "SELECT jurisdiction || '|' || case_id || '|' || outlet || '|' || made_by || '|'"
		" || published_at || '|' || url FROM exposures WHERE id = '%s'", id);
	test_equal_s(ts_test_query_text(node, sql), "bj.dc.jingshan|bj.dc.jingshan-c20150601-1|北京日报|李娜|"
		"2015-06-02T09:00:00+08:00|https://example.org/a");
	test_equal_i(ts_test_query_int(node, "SELECT count(*) FROM case_events WHERE kind = 'note'"
		" AND case_id = 'bj.dc.jingshan-c20150601-1' AND detail LIKE '%北京日报%'"), 1);
	test_ok(add(&id2, node, NULL, "2015-07-02 22:00", NULL));
	test_ok(ts_exposure_list(node, NULL, collect_exposure, &all));
	test_equal_s(all.ids, "2015-06-02T09:00:00+08:00,2015-07-02T22:00:00+08:00");
	june.from = "2015-06-01";
	june.to = "2015-06-30";
	test_ok(ts_exposure_list(node, &june, collect_exposure, &some));
	test_equal_i(some.n, 1);
	test_ok(ts_exposure_remove(node, "李娜", id));
	test_equal_i(ts_test_query_int(node, "SELECT count(*) FROM exposures"), 1);
	test_equal_i(ts_test_query_int(node, "SELECT count(*) FROM case_events WHERE detail LIKE '%removed%'"), 1);
	free(id);
	free(id2);
	ts_node_free(node);
}

void test_exposures__refusals(void)
{
	ts_node *node = street();
	ts_exposure_options untitled = { "北京日报", "", NULL, NULL, NULL };
	ts_exposure_filter bad = TS_EXPOSURE_FILTER_INIT;
	seen s = { "", 0 };
	char *id = NULL, *before;

	test_assert(node);
	before = snapshot(node);
	test_refused(node, before, ts_exposure_add(&id, node, "李娜", &untitled), TS_EINVALID, "title");
	test_refused(node, before, add(&id, node, "bj.dc-c20150601-1", NULL, NULL), TS_EDENIED, "bj.dc");
	test_refused(node, before, add(&id, node, "bj.dc.jingshan-c-nosuch", NULL, NULL), TS_ENOTFOUND, "no case");
	test_refused(node, before, add(&id, node, NULL, "2999-01-01", NULL), TS_EINVALID, "future");
	test_refused(node, before, add(&id, node, NULL, NULL, "ftp://example.org"), TS_EINVALID, "http");
	test_refused(node, before, ts_exposure_remove(node, "李娜", "bj.dc.jingshan-x-nosuch"), TS_ENOTFOUND,
		"no exposure");
	test_assert(id == NULL);
	bad.version = 99;
	test_equal_i(ts_exposure_list(node, &bad, collect_exposure, &s), TS_EINVALID);
	bad.version = TS_EXPOSURE_FILTER_VERSION;
	bad.jurisdiction = "bj.xc";
	test_equal_i(ts_exposure_list(node, &bad, collect_exposure, &s), TS_EINVALID);
	test_equal_i(s.n, 0);
	free(before);
	ts_node_free(node);
}

void test_exposures__remove_only_within_reach(void)
{
	ts_node *node = street();
	char *before;

	test_assert(node);
	test_ok(ts_test_arrive(node, "INSERT INTO exposures (id, jurisdiction, case_id, outlet, title, published_at,"
		" made_by) VALUES ('bj.dc-x20150601-1', 'bj.dc', 'bj.dc-c20150601-1', '北京晚报', '违规牌匾',"
		" '2015-06-01T10:00:00+08:00', '张敏')"));
	before = snapshot(node);
	test_refused(node, before, ts_exposure_remove(node, "李娜", "bj.dc-x20150601-1"), TS_EDENIED,
		"may remove only");
	free(before);
	ts_node_free(node);
}

static int collect_baseline(const ts_baseline_info *b, void *payload)
{
	seen *s = payload;
	size_t len = strlen(s->ids);
	snprintf(s->ids + len, sizeof(s->ids) - len, "%s%s:%s:%s:%lld", s->n++ ? "," : "", b->year, b->unit,
		b->subject, (long long)b->complaints);
	return 0;
}

void test_exposures__baselines_by_the_city(void)
{
	ts_node *city = ts_test_node("city", TS_TIER_CITY, "bj", "刘洋");
	ts_baseline_filter dc = TS_BASELINE_FILTER_INIT;
	seen all = { "", 0 }, some = { "", 0 };
	char *before;

	test_assert(city);
	test_ok(ts_baseline_set(city, "刘洋", "bj.dc", "key_areas", "2015", 1200));
	test_ok(ts_baseline_set(city, "刘洋", "bj.dc.jingshan", "small_ads", "2015", 80));
	test_ok(ts_baseline_set(city, "王芳", "bj.dc", "key_areas", "2015", 1100));
	test_ok(ts_baseline_set(city, "刘洋", "bj", "dust_muck", "2014", 5000));
	test_equal_s(ts_test_query_text(city, "SELECT set_by || '|' || complaints FROM complaint_baselines"
		" WHERE scope = 'bj.dc'"), "王芳|1100");
	test_ok(ts_baseline_list(city, NULL, collect_baseline, &all));
	test_equal_s(all.ids, "2014:bj:dust_muck:5000,2015:bj.dc:key_areas:1100,2015:bj.dc.jingshan:small_ads:80");
	dc.unit = "bj.dc";
	dc.year = "2015";
	dc.subject = "small_ads";
	test_ok(ts_baseline_list(city, &dc, collect_baseline, &some));
	test_equal_s(some.ids, "2015:bj.dc.jingshan:small_ads:80");

	before = snapshot(city);
	test_refused(city, before, ts_baseline_set(city, "刘洋", "sh.pd", "small_ads", "2015", 1), TS_EINVALID, "sh.pd");
	test_refused(city, before, ts_baseline_set(city, "刘洋", "bj.dc", "noise", "2015", 1), TS_EINVALID, "subject");
	test_refused(city, before, ts_baseline_set(city, "刘洋", "bj.dc", "small_ads", "15", 1), TS_EINVALID, "year");
	test_refused(city, before, ts_baseline_set(city, "刘洋", "bj.dc", "small_ads", "2015", -1), TS_EINVALID,
		"0 or more");
	test_refused(city, before, ts_baseline_remove(city, "刘洋", "bj.dc", "outdoor_bbq", "2015"), TS_ENOTFOUND,
		"no outdoor_bbq baseline");
	free(before);
	test_ok(ts_baseline_remove(city, "刘洋", "bj", "dust_muck", "2014"));
	test_equal_i(ts_test_query_int(city, "SELECT count(*) FROM complaint_baselines"), 2);
	ts_node_free(city);
}

void test_exposures__baselines_not_below_the_city(void)
{
	ts_node *district = ts_test_node("district", TS_TIER_DISTRICT, "bj.dc", "张敏");
	char *before;

	test_assert(district);
	before = snapshot(district);
	test_refused(district, before, ts_baseline_set(district, "张敏", "bj.dc", "key_areas", "2015", 1), TS_EDENIED,
		"only the city");
	test_refused(district, before, ts_baseline_remove(district, "张敏", "bj.dc", "key_areas", "2015"), TS_EDENIED,
		"only the city");
	free(before);
	ts_node_free(district);
}
