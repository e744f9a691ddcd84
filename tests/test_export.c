/*
 * Unit tests of the exports (node/export.c): the disclosure names no party,
 * complainant or officer, whatever the cases hold; the credit export lists
 * exactly the final decisions (decided; not major, or major and approved;
 * not reopened) and counts those without a party; GeoJSON puts [lng, lat]
 * and leaves the cases without a place out, counted; the CSV quoting; the
 * scope and period checks. Rows arrive as sync would bring them to a
 * district (ts_test_arrive); the outputs are read back with SQLite's JSON
 * functions on a connection of the test's own.
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "nodes.h"
#include "tiersync.h"

#define FROM "2015-01-01T00:00:00+08:00"
#define TO "2016-01-01T00:00:00+08:00"

/* A case of 景山 street, reported in May 2015; `rest` names further
 * columns and `values` their values, each list starting with a comma. */
#define CASE(...) CASE_(__VA_ARGS__)
#define CASE_(id, category, address, rest, values) \
	"INSERT INTO cases (id, source, category, address, jurisdiction, status, reported_at, deadline, " \
	"officer, complainant_name, complainant_phone, created_by_node" rest ") VALUES ('" id "', 'complaint', '" \
	category "', '" address "', 'bj.dc.jingshan', 'handling', '2015-05-22T09:00:00+08:00', " \
	"'2015-06-21T09:00:00+08:00', '王伟', '赵投诉', '13911112222', 'bj.dc.jingshan'" values ");"

#define DECIDED(at, major, review) \
	", stage, filed_at, legal_basis, penalty_amount, decided_at, major, review_status", \
	", 'penalize', '" at "', '《北京市市容环境卫生条例》第七十二条', 20050, '" at "', " major ", " review

#define PARTY(id, case_id, name, number, phone) \
	"INSERT INTO parties (id, case_id, kind, name, id_number, phone, address) VALUES ('" id "', '" case_id \
	"', 'person', '" name "', '" number "', '" phone "', '景山前街 8号');"

#define EVENT(id, case_id, at, kind) \
	"INSERT INTO case_events (id, case_id, at, kind, officer, node) VALUES ('" id "', '" case_id "', '" at \
	"', '" kind "', '王伟', 'bj.dc.jingshan');"

typedef struct {
	char *bytes;
	size_t len, cap;
	int stop_after;   /* return 9 on this call (1-based); 0 never */
	int calls;
} sink_buf;

static int collect(const char *bytes, size_t len, void *payload)
{
	sink_buf *b = payload;

	if (b->stop_after && ++b->calls == b->stop_after)
		return 9;
	if (b->len + len + 1 > b->cap) {
		size_t cap = (b->len + len + 1) * 2;
		char *more = realloc(b->bytes, cap);
		if (!more)
			return 1;
		b->bytes = more;
		b->cap = cap;
	}
	memcpy(b->bytes + b->len, bytes, len);
	b->len += len;
	b->bytes[b->len] = '\0';
	return 0;
}

static ts_node *district(void)
{
	return ts_test_node("dc", TS_TIER_DISTRICT, "bj.dc", "值班员");
}

static int export_to(sink_buf *b, ts_export_stats *stats, ts_node *node, ts_export_kind kind,
	ts_export_format format)
{
	ts_export_options o = TS_EXPORT_OPTIONS_INIT;

	o.format = format;
	o.from = FROM;
	o.to = TO;
	memset(b, 0, sizeof(*b));
	return ts_export_write(stats, node, kind, &o, collect, b);
}

/* The first column of `sql`'s first row, with ?1 bound to `json`, as text
 * in a static buffer; on a connection of the test's own. */
static const char *json_query(const char *json, const char *sql)
{
	static char text[4096];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	snprintf(text, sizeof(text), "(no row)");
	if (sqlite3_open(":memory:", &db) == SQLITE_OK && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(text, sizeof(text), "%s", sqlite3_column_text(st, 0) ?
				(const char *)sqlite3_column_text(st, 0) : "");
	} else
		snprintf(text, sizeof(text), "(error: %s)", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return text;
}

void test_export__disclosure_names_no_one(void)
{
	ts_node *node = district();
	static const char *const secret[] = { "张三", "11010519491231002X", "13800138000", "赵投诉", "13911112222",
		"王伟", "景山前街 8号", "2号院" };
	ts_export_stats stats;
	sink_buf csv, json;
	size_t i;

	test_assert(node != NULL);
	test_ok(ts_test_arrive(node,
		CASE("bj.dc.jingshan-c1", "outside_store", "景山东街2号院", DECIDED("2015-05-23T10:00:00+08:00", "0", "NULL"))
		PARTY("bj.dc.jingshan-p1", "bj.dc.jingshan-c1", "张三", "11010519491231002X", "13800138000")
		EVENT("bj.dc.jingshan-e1", "bj.dc.jingshan-c1", "2015-05-23T10:00:00+08:00", "decide")));
	test_ok(export_to(&csv, &stats, node, TS_EXPORT_DISCLOSURE, TS_EXPORT_CSV));
	test_equal_i(stats.records, 1);
	test_ok(export_to(&json, &stats, node, TS_EXPORT_DISCLOSURE, TS_EXPORT_JSON));
	test_equal_i(stats.records, 1);
	for (i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
		if (strstr(csv.bytes, secret[i]) || strstr(json.bytes, secret[i]))
			ts_test__fail(__FILE__, __LINE__, "the disclosure holds \"%s\":\n%s\n%s", secret[i], csv.bytes,
				json.bytes);
	}
	test_equal_s(csv.bytes,
		"case_id,unit,category,category_name,place,decided_at,legal_basis,penalty_yuan,penalty_fen,major,"
		"review,executed_at,closed_at\r\n"
		"bj.dc.jingshan-c1,bj.dc.jingshan,outside_store,店外经营,景山东街,2015-05-23T10:00:00+08:00,"
		"《北京市市容环境卫生条例》第七十二条,200.50,20050,0,,,\r\n");
	test_equal_s(json_query(json.bytes, "SELECT json_extract(?1, '$[0].place') || '|' || "
		"json_extract(?1, '$[0].penalty_yuan') || '|' || json_type(?1, '$[0].major') || '|' || "
		"json_type(?1, '$[0].review') || '|' || json_array_length(?1)"), "景山东街|200.5|false|null|1");
	free(csv.bytes);
	free(json.bytes);
	ts_node_free(node);
}

/* The place as the public sees it: cut before the first digit. */
void test_export__place_without_house_number(void)
{
	ts_node *node = district();
	ts_export_stats stats;
	sink_buf json;

	test_assert(node != NULL);
	test_ok(ts_test_arrive(node,
		CASE("bj.dc.jingshan-c1", "outside_store", "景山前街 4号", DECIDED("2015-05-23T10:00:00+08:00", "0", "NULL"))
		CASE("bj.dc.jingshan-c2", "outside_store", "东城区景山东街，１８号院", DECIDED("2015-05-23T10:01:00+08:00", "0", "NULL"))
		CASE("bj.dc.jingshan-c3", "outside_store", "天安门广场东侧", DECIDED("2015-05-23T10:02:00+08:00", "0", "NULL"))
		CASE("bj.dc.jingshan-c4", "outside_store", "4号楼前", DECIDED("2015-05-23T10:03:00+08:00", "0", "NULL"))));
	test_ok(export_to(&json, &stats, node, TS_EXPORT_DISCLOSURE, TS_EXPORT_JSON));
	test_equal_s(json_query(json.bytes, "SELECT group_concat(ifnull(json_extract(value, '$.place'), '-'), '|') "
		"FROM json_each(?1)"), "景山前街|东城区景山东街|天安门广场东侧|-");
	free(json.bytes);
	ts_node_free(node);
}

void test_export__credit_only_final_decisions(void)
{
	ts_node *node = district();
	ts_export_stats stats;
	sink_buf json;

	test_assert(node != NULL);
	test_ok(ts_test_arrive(node,
		/* final: not major */
		CASE("bj.dc.jingshan-c1", "outside_store", "景山前街", DECIDED("2015-05-23T10:00:00+08:00", "0", "NULL"))
		/* final: major, approved */
		CASE("bj.dc.jingshan-c2", "illegal_building", "景山前街", DECIDED("2015-05-24T10:00:00+08:00", "1", "'approved'"))
		/* not final: review pending, rejected, or a major case never sent to review */
		CASE("bj.dc.jingshan-c3", "illegal_building", "景山前街", DECIDED("2015-05-25T10:00:00+08:00", "1", "'pending'"))
		CASE("bj.dc.jingshan-c4", "illegal_building", "景山前街", DECIDED("2015-05-26T10:00:00+08:00", "1", "'rejected'"))
		CASE("bj.dc.jingshan-c5", "illegal_building", "景山前街", DECIDED("2015-05-27T10:00:00+08:00", "1", "NULL"))
		/* not final: a pending review after a decision the column calls not major */
		CASE("bj.dc.jingshan-c6", "outside_store", "景山前街", DECIDED("2015-05-28T10:00:00+08:00", "0", "'pending'"))
		/* not final: reopened after its decision */
		CASE("bj.dc.jingshan-c7", "outside_store", "景山前街", DECIDED("2015-05-29T10:00:00+08:00", "0", "NULL"))
		EVENT("bj.dc.jingshan-e7", "bj.dc.jingshan-c7", "2015-05-30T10:00:00+08:00", "reopen")
		/* final: reopened before it was decided */
		CASE("bj.dc.jingshan-c8", "outside_store", "景山前街", DECIDED("2015-06-02T10:00:00+08:00", "0", "NULL"))
		EVENT("bj.dc.jingshan-e8", "bj.dc.jingshan-c8", "2015-06-01T10:00:00+08:00", "reopen")
		/* final, but no party recorded */
		CASE("bj.dc.jingshan-c9", "outside_store", "景山前街", DECIDED("2015-06-03T10:00:00+08:00", "0", "NULL"))
		/* final, decided outside the period */
		CASE("bj.dc.jingshan-c10", "outside_store", "景山前街", DECIDED("2016-01-01T00:00:00+08:00", "0", "NULL"))
		/* not decided */
		CASE("bj.dc.jingshan-c11", "outside_store", "景山前街", "", "")
		PARTY("bj.dc.jingshan-p1", "bj.dc.jingshan-c1", "张三", "11010519491231002X", "13800138000")
		PARTY("bj.dc.jingshan-p2a", "bj.dc.jingshan-c2", "李四", "110105194912310037", "13800138001")
		PARTY("bj.dc.jingshan-p2b", "bj.dc.jingshan-c2", "王五", "110105194912310045", "13800138002")
		PARTY("bj.dc.jingshan-p3", "bj.dc.jingshan-c3", "赵六", "110105194912310053", "13800138003")
		PARTY("bj.dc.jingshan-p4", "bj.dc.jingshan-c4", "赵六", "110105194912310053", "13800138003")
		PARTY("bj.dc.jingshan-p5", "bj.dc.jingshan-c5", "赵六", "110105194912310053", "13800138003")
		PARTY("bj.dc.jingshan-p6", "bj.dc.jingshan-c6", "赵六", "110105194912310053", "13800138003")
		PARTY("bj.dc.jingshan-p7", "bj.dc.jingshan-c7", "赵六", "110105194912310053", "13800138003")
		PARTY("bj.dc.jingshan-p8", "bj.dc.jingshan-c8", "钱七", "110105194912310061", "13800138004")
		PARTY("bj.dc.jingshan-p10", "bj.dc.jingshan-c10", "赵六", "110105194912310053", "13800138003")
		PARTY("bj.dc.jingshan-p11", "bj.dc.jingshan-c11", "赵六", "110105194912310053", "13800138003")));
	test_ok(export_to(&json, &stats, node, TS_EXPORT_CREDIT, TS_EXPORT_JSON));
	test_equal_i(stats.records, 4);
	test_equal_i(stats.without_party, 1);
	test_equal_s(json_query(json.bytes, "SELECT group_concat(json_extract(value, '$.case_id') || ':' || "
		"json_extract(value, '$.party_name') || ':' || json_extract(value, '$.id_number'), ' ') FROM json_each(?1)"),
		"bj.dc.jingshan-c1:张三:11010519491231002X bj.dc.jingshan-c2:李四:110105194912310037 "
		"bj.dc.jingshan-c2:王五:110105194912310045 bj.dc.jingshan-c8:钱七:110105194912310061");
	/* a party's contacts are not the credit system's */
	test_assert(!strstr(json.bytes, "13800138000") && !strstr(json.bytes, "景山前街 8号"));
	test_assert(!strstr(json.bytes, "赵六"));
	free(json.bytes);
	ts_node_free(node);
}

void test_export__csv_quotes_what_it_must(void)
{
	ts_node *node = district();
	ts_export_stats stats;
	sink_buf csv;

	test_assert(node != NULL);
	test_ok(ts_test_arrive(node,
		CASE("bj.dc.jingshan-c1", "outside_store", "景山前街", DECIDED("2015-05-23T10:00:00+08:00", "0", "NULL"))
		"UPDATE cases SET legal_basis = '第七十二条, \"第一款\"' || char(10) || '第二款';"
		PARTY("bj.dc.jingshan-p1", "bj.dc.jingshan-c1", "张三", "11010519491231002X", "13800138000")));
	test_ok(export_to(&csv, &stats, node, TS_EXPORT_CREDIT, TS_EXPORT_CSV));
	test_equal_s(strchr(csv.bytes, '\n') + 1,
		"person,张三,11010519491231002X,bj.dc.jingshan-c1,bj.dc.jingshan,outside_store,店外经营,"
		"\"第七十二条, \"\"第一款\"\"\n第二款\",200.50,20050,2015-05-23T10:00:00+08:00,,bj.dc.jingshan-p1\r\n");
	free(csv.bytes);
	ts_node_free(node);
}

void test_export__geojson_points_and_key_areas(void)
{
	ts_node *node = district();
	ts_export_stats stats;
	sink_buf geo;

	test_assert(node != NULL);
	test_ok(ts_test_arrive(node,
		"INSERT INTO key_areas (id, level, owner_node, name, zone, listed_at) VALUES "
		"('bj.dc-k1', 'district', 'bj.dc', '景山', '景山前街', '2015-01-01T09:00:00+08:00'), "
		"('bj.dc-k2', 'district', 'bj.dc', '北海', '北海北门', '2016-03-01T09:00:00+08:00');"
		CASE("bj.dc.jingshan-c1", "outside_store", "景山前街", ", lng, lat, key_area_id", ", 116.0, 39.0, 'bj.dc-k1'")
		CASE("bj.dc.jingshan-c2", "outside_store", "景山前街", ", lng, lat, key_area_id", ", 117.0, 40.0, 'bj.dc-k1'")
		CASE("bj.dc.jingshan-c3", "outside_store", "景山前街", ", key_area_id", ", 'bj.dc-k1'")
		CASE("bj.dc.jingshan-c4", "outside_store", "景山前街", ", lng", ", 116.5")
		PARTY("bj.dc.jingshan-p1", "bj.dc.jingshan-c1", "张三", "11010519491231002X", "13800138000")));
	test_ok(export_to(&geo, &stats, node, TS_EXPORT_GEOJSON, TS_EXPORT_CSV));
	test_equal_i(stats.records, 2);
	test_equal_i(stats.without_place, 2);
	test_equal_i(stats.key_areas, 1);
	test_equal_s(json_query(geo.bytes, "SELECT json_valid(?1) || '|' || json_extract(?1, '$.type') || '|' || "
		"json_extract(?1, '$.tiersync.without_place') || '|' || json_array_length(?1, '$.features')"),
		"1|FeatureCollection|2|3");
	/* [lng, lat]; the key area at the mean of its placed cases, counting all three */
	test_equal_s(json_query(geo.bytes, "SELECT group_concat(json_extract(value, '$.id') || '=' || "
		"ifnull(json_extract(value, '$.geometry.coordinates'), '-'), ' ') FROM json_each(?1, '$.features')"),
		"bj.dc.jingshan-c1=[116.0,39.0] bj.dc.jingshan-c2=[117.0,40.0] bj.dc-k1=[116.5,39.5]");
	test_equal_s(json_query(geo.bytes, "SELECT json_extract(?1, '$.features[2].properties.cases') || '|' || "
		"json_extract(?1, '$.features[2].properties.cases_with_place') || '|' || "
		"json_extract(?1, '$.features[0].properties.key_area_id')"), "3|2|bj.dc-k1");
	test_assert(!strstr(geo.bytes, "张三") && !strstr(geo.bytes, "赵投诉") && !strstr(geo.bytes, "13911112222"));
	free(geo.bytes);
	ts_node_free(node);
}

void test_export__scope_period_and_sink(void)
{
	ts_node *node = district();
	ts_export_options o = TS_EXPORT_OPTIONS_INIT;
	ts_export_stats stats;
	sink_buf b;

	test_assert(node != NULL);
	test_ok(ts_test_arrive(node,
		CASE("bj.dc.jingshan-c1", "outside_store", "景山前街", DECIDED("2015-05-23T10:00:00+08:00", "0", "NULL"))));
	memset(&b, 0, sizeof(b));
	o.from = FROM;
	o.to = TO;
	o.unit = "bj.xc";
	test_equal_i(ts_export_write(&stats, node, TS_EXPORT_DISCLOSURE, &o, collect, &b), TS_EINVALID);
	test_error_says("'bj.xc' is not bj.dc or a unit below it");
	test_assert(b.len == 0);
	o.unit = "bj.dcx";
	test_equal_i(ts_export_write(&stats, node, TS_EXPORT_DISCLOSURE, &o, collect, &b), TS_EINVALID);
	/* a street below: its case; another street: the header alone */
	o.unit = "bj.dc.jingshan";
	test_ok(ts_export_write(&stats, node, TS_EXPORT_DISCLOSURE, &o, collect, &b));
	test_equal_i(stats.records, 1);
	o.unit = "bj.dc.donghuamen";
	test_ok(ts_export_write(&stats, node, TS_EXPORT_DISCLOSURE, &o, collect, &b));
	test_equal_i(stats.records, 0);
	o.unit = NULL;
	o.to = "2015-01-01T00:00:00+08:00";
	test_equal_i(ts_export_write(&stats, node, TS_EXPORT_DISCLOSURE, &o, collect, &b), TS_EINVALID);
	o.to = NULL;
	test_equal_i(ts_export_write(&stats, node, TS_EXPORT_DISCLOSURE, &o, collect, &b), TS_EINVALID);
	o.to = TO;
	o.version = 99;
	test_equal_i(ts_export_write(&stats, node, TS_EXPORT_DISCLOSURE, &o, collect, &b), TS_EINVALID);
	o.version = TS_EXPORT_OPTIONS_VERSION;
	/* a sink that says stop stops the export, which returns its word */
	free(b.bytes);
	memset(&b, 0, sizeof(b));
	b.stop_after = 3;
	test_equal_i(ts_export_write(&stats, node, TS_EXPORT_DISCLOSURE, &o, collect, &b), 9);
	test_equal_i(b.calls, 3);
	free(b.bytes);
	ts_node_free(node);
}

/* A device exports its street's cases: those it records belong there. */
void test_export__device_exports_its_street(void)
{
	ts_node *node = ts_test_node("d07", TS_TIER_DEVICE, "bj.dc.jingshan.d07", "王伟");
	ts_export_options o = TS_EXPORT_OPTIONS_INIT;
	ts_export_stats stats;
	sink_buf b;

	test_assert(node != NULL);
	test_ok(ts_test_arrive(node,
		CASE("bj.dc.jingshan-c1", "outside_store", "景山前街", DECIDED("2015-05-23T10:00:00+08:00", "0", "NULL"))));
	test_ok(export_to(&b, &stats, node, TS_EXPORT_DISCLOSURE, TS_EXPORT_CSV));
	test_equal_i(stats.records, 1);
	free(b.bytes);
	/* its street by name, the same; the district above it is not its to export */
	memset(&b, 0, sizeof(b));
	o.from = FROM;
	o.to = TO;
	o.unit = "bj.dc.jingshan";
	test_ok(ts_export_write(&stats, node, TS_EXPORT_DISCLOSURE, &o, collect, &b));
	test_equal_i(stats.records, 1);
	o.unit = "bj.dc";
	test_equal_i(ts_export_write(&stats, node, TS_EXPORT_DISCLOSURE, &o, collect, &b), TS_EINVALID);
	test_error_says("'bj.dc' is not bj.dc.jingshan or a unit below it");
	test_equal_i(ts_export_write(&stats, node, (ts_export_kind)7, &o, collect, &b), TS_EINVALID);
	test_assert(ts_export_kind_name(TS_EXPORT_GEOJSON) && !strcmp(ts_export_kind_name(TS_EXPORT_GEOJSON), "geojson"));
	free(b.bytes);
	ts_node_free(node);
}
