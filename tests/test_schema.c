/*
 * The case schema and its migration runner: versions, keys, reference data,
 * constraints, and the append-only tables.
 */
#include <limits.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "harness.h"
#include "schema.h"
#include "tiersync.h"

/* A database as the node opens it: foreign keys enforced. */
static sqlite3 *open_db(const char *path)
{
	sqlite3 *db = NULL;

	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

static sqlite3 *open_migrated(void)
{
	sqlite3 *db = open_db(":memory:");

	if (db && ts_schema__migrate(db, NULL) < 0) {
		fprintf(stderr, "    %s\n", ts_error_last());
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

static int exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* The first column of the first row, or LLONG_MIN on error or no row. */
static long long query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	long long value = LLONG_MIN;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		value = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return value;
}

/* The first column of the first row, malloc'd ("" when NULL), or NULL. */
static char *query_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	char *value = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(stmt, 0);
		value = strdup(text ? text : "");
	}
	sqlite3_finalize(stmt);
	return value;
}

#define CASE_ID "bj.dc.jingshan.d07-c20150522-1"

static const char a_case[] =
	"INSERT INTO cases (id, source, category, address, jurisdiction, reported_at, deadline,"
	" created_by_node) VALUES ('" CASE_ID "', 'patrol', 'small_ads', '景山前街 4号',"
	" 'bj.dc.jingshan', '2015-05-22T09:30:00+08:00', '2015-05-25T09:30:00+08:00',"
	" 'bj.dc.jingshan.d07')";

static const char an_evidence[] =
	"INSERT INTO evidence (id, case_id, kind, sha256, size, media_type, captured_by, captured_at)"
	" VALUES ('bj.dc.jingshan.d07-e20150522-1', '" CASE_ID "', 'photo',"
	" 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 0, 'image/jpeg',"
	" '张伟', '2015-05-22T09:31:00+08:00')";

static const char an_event[] =
	"INSERT INTO case_events (id, case_id, at, kind, officer, node, detail) VALUES"
	" ('bj.dc.jingshan.d07-v20150522-1', '" CASE_ID "', '2015-05-22T09:30:00+08:00',"
	" 'intake', '张伟', 'bj.dc.jingshan.d07', '巡查发现')";

void test_schema__latest_version(void)
{
	sqlite3 *db = open_db(":memory:");
	int version = -1;

	test_assert(db);
	test_assert(ts_schema__latest() > 0);
	test_ok(ts_schema__migrate(db, &version));
	test_equal_i(version, ts_schema__latest());
	test_equal_i(query_int(db, "PRAGMA user_version"), ts_schema__latest());
	sqlite3_close(db);
}

void test_schema__versions_increase(void)
{
	const struct ts_migration *m;
	int previous = 0;

	for (m = ts_schema_migrations; m->name; m++) {
		/* The number in the file name is the version, and no two share one. */
		test_equal_i(atoi(m->name), m->version);
		test_assert(m->version > previous);
		test_assert(m->sql && m->sql[0]);
		previous = m->version;
	}
	test_equal_i(previous, ts_schema__latest());
}

void test_schema__migrate_twice_is_noop(void)
{
	sqlite3 *db = open_db("twice.db");
	char *before = NULL, *after = NULL;
	const char *snapshot =
		"SELECT group_concat(type || ' ' || name || ' ' || ifnull(sql, ''), char(10))"
		" FROM (SELECT * FROM sqlite_master ORDER BY name)";
	int version = -1;

	test_assert(db);
	test_ok(ts_schema__migrate(db, NULL));
	sqlite3_close(db);

	/* A second open of the same file finds it up to date and changes nothing. */
	db = open_db("twice.db");
	test_assert(db);
	before = query_text(db, snapshot);
	test_assert(before);
	test_ok(ts_schema__migrate(db, &version));
	test_equal_i(version, ts_schema__latest());
	test_equal_i(sqlite3_total_changes(db), 0);
	after = query_text(db, snapshot);
	test_equal_s(after, before);
	test_equal_i(query_int(db, "SELECT count(*) FROM categories"), 16);
	free(before);
	free(after);
	sqlite3_close(db);
}

void test_schema__newer_database_refused(void)
{
	sqlite3 *db = open_db(":memory:");
	char sql[64];
	int version = -1;

	test_assert(db);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", ts_schema__latest() + 1);
	test_equal_i(exec(db, sql), SQLITE_OK);
	test_equal_i(ts_schema__migrate(db, &version), TS_ERROR);
	test_equal_i(version, ts_schema__latest() + 1);
	test_assert(strstr(ts_error_last(), "newer"));
	test_equal_i(query_int(db, "SELECT count(*) FROM sqlite_master"), 0);
	sqlite3_close(db);
}

void test_schema__failed_migration_rolls_back(void)
{
	sqlite3 *db = open_db(":memory:");
	int version = -1;

	test_assert(db);
	/* A table in the way makes the first migration fail half-way. */
	test_equal_i(exec(db, "CREATE TABLE cases (x)"), SQLITE_OK);
	test_equal_i(ts_schema__migrate(db, &version), TS_ERROR);
	test_equal_i(version, 0);
	test_assert(!strncmp(ts_error_last(), "schema migration 0001_", 22));
	test_assert(strstr(ts_error_last(), "already exists"));
	test_equal_i(query_int(db, "PRAGMA user_version"), 0);
	test_equal_i(query_int(db, "SELECT count(*) FROM sqlite_master"), 1);
	/* Not left inside a transaction. */
	test_assert(sqlite3_get_autocommit(db));
	sqlite3_close(db);
}

void test_schema__tables_have_text_primary_keys(void)
{
	sqlite3 *db = open_migrated();

	test_assert(db);
	test_equal_i(query_int(db,
		"SELECT count(*) FROM sqlite_master m WHERE type = 'table'"
		" AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
		" AND NOT EXISTS (SELECT 1 FROM pragma_table_info(m.name) WHERE pk > 0)"), 0);
	/* Keys are minted text ids or codes, never rowid aliases. */
	test_equal_i(query_int(db,
		"SELECT count(*) FROM sqlite_master m, pragma_table_info(m.name) c"
		" WHERE m.type = 'table' AND c.pk > 0 AND c.type <> 'TEXT'"), 0);
	test_equal_i(query_int(db,
		"SELECT count(*) FROM sqlite_master WHERE name LIKE 'ts\\_%' ESCAPE '\\'"), 0);
	test_equal_i(query_int(db,
		"SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'"), 0);
	test_equal_i(query_int(db,
		"SELECT count(*) FROM pragma_table_list WHERE schema = 'main'"
		" AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND strict = 0"), 0);
	test_equal_i(query_int(db,
		"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ("
		" 'sources', 'categories', 'key_areas', 'major_events', 'cases', 'parties',"
		" 'evidence', 'case_events', 'small_ad_phones', 'patrols', 'responsibility_zones',"
		" 'responsibility_checks', 'supervision_items', 'supervision_feedback')"), 14);
	sqlite3_close(db);
}

void test_schema__foreign_keys_clean(void)
{
	sqlite3 *db = open_migrated();

	test_assert(db);
	test_equal_i(query_int(db, "PRAGMA foreign_keys"), 1);
	test_equal_i(query_int(db, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	sqlite3_close(db);
}

void test_schema__foreign_keys_deferred(void)
{
	sqlite3 *db = open_migrated();

	test_assert(db);
	/* The sync engine may apply a child row before its parent. */
	test_equal_i(exec(db, "BEGIN"), SQLITE_OK);
	test_equal_i(exec(db, an_event), SQLITE_OK);
	test_equal_i(exec(db, a_case), SQLITE_OK);
	test_equal_i(exec(db, "COMMIT"), SQLITE_OK);

	/* ...but a parent that never comes fails the commit. */
	test_equal_i(exec(db, "BEGIN"), SQLITE_OK);
	test_equal_i(exec(db,
		"INSERT INTO parties (id, case_id, kind, name) VALUES"
		" ('bj.dc.jingshan.d07-p20150522-1', 'no-such-case', 'person', '李某')"), SQLITE_OK);
	test_equal_i(exec(db, "COMMIT"), SQLITE_CONSTRAINT);
	test_equal_i(exec(db, "ROLLBACK"), SQLITE_OK);
	test_equal_i(query_int(db, "SELECT count(*) FROM parties"), 0);
	sqlite3_close(db);
}

void test_schema__reference_data(void)
{
	sqlite3 *db = open_migrated();

	test_assert(db);
	test_equal_i(query_int(db, "SELECT count(*) FROM categories"), 16);
	test_equal_i(query_int(db, "SELECT count(*) FROM categories WHERE code IN ("
		" 'construction_dust', 'muck_spill', 'muck_vehicle', 'outdoor_bbq', 'open_burning',"
		" 'coal_unlicensed', 'small_ads', 'unlicensed_vending', 'parking_lot', 'outside_store',"
		" 'signboard', 'illegal_vehicle', 'gas_safety', 'facility_damage', 'kitchen_waste',"
		" 'illegal_building')"), 16);
	test_equal_i(query_int(db,
		"SELECT count(*) FROM categories WHERE campaign = 'air_pollution'"), 6);
	test_equal_i(query_int(db,
		"SELECT count(*) FROM categories WHERE campaign = 'street_order'"), 6);
	test_equal_i(query_int(db,
		"SELECT count(*) FROM categories WHERE campaign = 'public_safety'"), 4);
	test_equal_i(query_int(db,
		"SELECT count(*) FROM categories WHERE name_zh = '' OR deadline_days < 1"), 0);
	test_equal_i(query_int(db, "SELECT count(*) FROM sources WHERE code IN ("
		" 'patrol', 'complaint', 'video', 'referral', 'media', 'supervision') AND name_zh <> ''"), 6);
	test_equal_i(query_int(db, "SELECT count(*) FROM sources"), 6);
	sqlite3_close(db);
}

void test_schema__unknown_category_refused(void)
{
	sqlite3 *db = open_migrated();

	test_assert(db);
	test_equal_i(exec(db,
		"INSERT INTO cases (id, source, category, address, jurisdiction, reported_at, deadline,"
		" created_by_node) VALUES ('x-c20150522-1', 'patrol', 'jaywalking', '景山前街',"
		" 'bj.dc.jingshan', '2015-05-22T09:30:00+08:00', '2015-05-25T09:30:00+08:00', 'x')"),
		SQLITE_CONSTRAINT);
	test_assert(strstr(sqlite3_errmsg(db), "FOREIGN KEY"));
	test_equal_i(exec(db,
		"INSERT INTO cases (id, source, category, address, jurisdiction, reported_at, deadline,"
		" created_by_node) VALUES ('x-c20150522-2', 'rumour', 'small_ads', '景山前街',"
		" 'bj.dc.jingshan', '2015-05-22T09:30:00+08:00', '2015-05-25T09:30:00+08:00', 'x')"),
		SQLITE_CONSTRAINT);
	test_equal_i(query_int(db, "SELECT count(*) FROM cases"), 0);
	sqlite3_close(db);
}

void test_schema__bad_values_refused(void)
{
	static const char *const bad[] = {
		"status = 'lost'",
		"stage = 'scold'",
		"review_status = 'maybe'",
		"satisfaction = 'meh'",
		"major = 2",
		"penalty_amount = -100",
		"penalty_amount = 'two hundred'",          /* STRICT: no text in INTEGER */
		"lng = 200.0",
		"lat = -91.0",
		"reported_at = '2015-05-22 09:30:00'",     /* no 'T', no offset */
		"reported_at = '2015-05-22T01:30:00Z'",    /* one offset only: +08:00 */
		"deadline = '2015-05-25'",
		"deadline = NULL",
		"jurisdiction = NULL",
		"id = ''",
	};
	sqlite3 *db = open_migrated();
	char sql[256];
	size_t i;

	test_assert(db);
	test_equal_i(exec(db, a_case), SQLITE_OK);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(sql, sizeof(sql), "UPDATE cases SET %s", bad[i]);
		if (exec(db, sql) != SQLITE_CONSTRAINT)
			ts_test__fail(__FILE__, __LINE__, "accepted: %s", sql);
	}
	/* The same columns take good values. */
	test_equal_i(exec(db, "UPDATE cases SET status = 'closed', stage = 'penalize',"
		" review_status = 'approved', satisfaction = 'satisfied', major = 1,"
		" penalty_amount = 20000, lng = 116.397, lat = 39.924,"
		" closed_at = '2015-05-23T18:00:00+08:00'"), SQLITE_OK);
	test_equal_i(exec(db, "INSERT INTO small_ad_phones (id, case_id, phone) VALUES"
		" ('bj.dc.jingshan.d07-a20150522-1', '" CASE_ID "', '138-0013-8000')"), SQLITE_CONSTRAINT);
	sqlite3_close(db);
}

void test_schema__evidence_immutable(void)
{
	sqlite3 *db = open_migrated();

	test_assert(db);
	test_equal_i(exec(db, a_case), SQLITE_OK);
	test_equal_i(exec(db, an_evidence), SQLITE_OK);
	test_equal_i(exec(db, "UPDATE evidence SET note = 'retouched'"), SQLITE_CONSTRAINT);
	test_equal_s(sqlite3_errmsg(db), "evidence is immutable");
	test_equal_i(exec(db, "DELETE FROM evidence"), SQLITE_CONSTRAINT);
	test_equal_s(sqlite3_errmsg(db), "evidence is immutable");
	test_equal_i(query_int(db, "SELECT count(*) FROM evidence WHERE note IS NULL"), 1);
	/* Nor can the case be deleted from under it. */
	test_equal_i(exec(db, "DELETE FROM cases"), SQLITE_CONSTRAINT);
	test_equal_i(query_int(db, "SELECT count(*) FROM cases"), 1);
	sqlite3_close(db);
}

void test_schema__case_events_append_only(void)
{
	sqlite3 *db = open_migrated();

	test_assert(db);
	test_equal_i(exec(db, a_case), SQLITE_OK);
	test_equal_i(exec(db, an_event), SQLITE_OK);
	test_equal_i(exec(db, "UPDATE case_events SET officer = '王某'"), SQLITE_CONSTRAINT);
	test_equal_s(sqlite3_errmsg(db), "case_events is append-only");
	test_equal_i(exec(db, "DELETE FROM case_events"), SQLITE_CONSTRAINT);
	test_equal_s(sqlite3_errmsg(db), "case_events is append-only");
	test_equal_i(query_int(db, "SELECT count(*) FROM case_events WHERE officer = '张伟'"), 1);
	sqlite3_close(db);
}

void test_schema__bad_sha256_refused(void)
{
	static const char *const bad[] = {
		"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",  /* uppercase */
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",   /* 63 */
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555", /* 65 */
		"g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",  /* not hex */
		"",
	};
	sqlite3 *db = open_migrated();
	char sql[512];
	size_t i;

	test_assert(db);
	test_equal_i(exec(db, a_case), SQLITE_OK);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(sql, sizeof(sql),
			"INSERT INTO evidence (id, case_id, kind, sha256, size, media_type, captured_by,"
			" captured_at) VALUES ('bj.dc.jingshan.d07-e20150522-%zu', '" CASE_ID "', 'photo',"
			" '%s', 10, 'image/jpeg', '张伟', '2015-05-22T09:31:00+08:00')", i + 1, bad[i]);
		if (exec(db, sql) != SQLITE_CONSTRAINT)
			ts_test__fail(__FILE__, __LINE__, "accepted sha256 '%s'", bad[i]);
	}
	test_equal_i(query_int(db, "SELECT count(*) FROM evidence"), 0);
	test_equal_i(exec(db, an_evidence), SQLITE_OK);
	sqlite3_close(db);
}

void test_schema__complete_case(void)
{
	/* A complaint about small ads in a key area during a major event, handled
	 * through all three steps, supervised by the district, closed with a
	 * return visit. */
	static const char complete[] =
		"BEGIN;"
		"INSERT INTO key_areas (id, level, owner_node, name, zone, listed_at, reason) VALUES"
		" ('bj-k20150101-1', 'city', 'bj', '天安门地区', '长安街以北', '2015-01-05T09:00:00+08:00',"
		"  '反恐防暴标准')," 
		" ('bj.dc-k20150110-1', 'district', 'bj.dc', '景山地区', '景山前街', '2015-01-10T09:00:00+08:00',"
		"  '重复举报');"
		"UPDATE key_areas SET city_key_area_id = 'bj-k20150101-1' WHERE id = 'bj.dc-k20150110-1';"
		"INSERT INTO major_events (id, name, starts_at, ends_at, zone, level, owner_node) VALUES"
		" ('bj-m20150101-1', '田径世锦赛', '2015-08-20T00:00:00+08:00', '2015-08-31T00:00:00+08:00',"
		"  '奥园地区', 'city', 'bj');"
		"INSERT INTO cases (id, source, category, address, lng, lat, jurisdiction, description,"
		" status, officer, reported_at, deadline, stage, filed_at, legal_basis, penalty_amount,"
		" decided_at, major, review_status, reviewer, reviewed_at, filed_up_at, executed_at,"
		" complainant_name, complainant_phone, visited_at, satisfaction, key_area_id, event_id,"
		" created_by_node, closed_at) VALUES"
		" ('" CASE_ID "', 'complaint', 'small_ads', '景山前街 4号', 116.397, 39.924,"
		"  'bj.dc.jingshan', '墙面张贴小广告 30 余张', 'closed', '张伟',"
		"  '2015-08-21T09:30:00+08:00', '2015-08-24T09:30:00+08:00', 'penalize',"
		"  '2015-08-21T15:00:00+08:00', '《北京市市容环境卫生条例》第七十五条', 500000,"
		"  '2015-08-22T10:00:00+08:00', 1, 'approved', '刘法', '2015-08-22T09:00:00+08:00',"
		"  '2015-08-22T11:00:00+08:00', '2015-08-23T10:00:00+08:00', '王女士', '13900139000',"
		"  '2015-08-24T08:00:00+08:00', 'satisfied', 'bj.dc-k20150110-1', 'bj-m20150101-1',"
		"  'bj.dc.jingshan.d07', '2015-08-24T09:00:00+08:00');"
		"INSERT INTO parties (id, case_id, kind, name, id_number, phone, address) VALUES"
		" ('bj.dc.jingshan.d07-p20150821-1', '" CASE_ID "', 'business', '某某广告有限公司',"
		"  '91110101MA00000000', '01012345678', '东城区某路 1号'),"
		" ('bj.dc.jingshan.d07-p20150821-2', '" CASE_ID "', 'person', '李某',"
		"  '110101199001011234', '13700137000', NULL);"
		"INSERT INTO evidence (id, case_id, kind, sha256, size, media_type, captured_by,"
		" captured_at, lng, lat, note) VALUES"
		" ('bj.dc.jingshan.d07-e20150821-1', '" CASE_ID "', 'photo',"
		"  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 2048000,"
		"  'image/jpeg', '张伟', '2015-08-21T10:00:00+08:00', 116.397, 39.924, '墙面全景'),"
		" ('bj.dc.jingshan.d07-e20150821-2', '" CASE_ID "', 'bodycam',"
		"  '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', 73400320,"
		"  'video/mp4', '张伟', '2015-08-21T10:05:00+08:00', NULL, NULL, '教育核录过程');"
		"INSERT INTO case_events (id, case_id, at, kind, officer, node, detail) VALUES"
		" ('bj.dc.jingshan-v20150821-1', '" CASE_ID "', '2015-08-21T09:30:00+08:00', 'intake', '赵接', 'bj.dc.jingshan', '12345 转办'),"
		" ('bj.dc.jingshan-v20150821-2', '" CASE_ID "', '2015-08-21T09:35:00+08:00', 'dispatch', '赵接', 'bj.dc.jingshan', '派张伟'),"
		" ('bj.dc.jingshan.d07-v20150821-1', '" CASE_ID "', '2015-08-21T10:00:00+08:00', 'educate', '张伟', 'bj.dc.jingshan.d07', NULL),"
		" ('bj.dc.jingshan.d07-v20150821-2', '" CASE_ID "', '2015-08-21T10:10:00+08:00', 'warn', '张伟', 'bj.dc.jingshan.d07', NULL),"
		" ('bj.dc.jingshan.d07-v20150821-3', '" CASE_ID "', '2015-08-21T15:00:00+08:00', 'file', '张伟', 'bj.dc.jingshan.d07', NULL),"
		" ('bj.dc-v20150822-1', '" CASE_ID "', '2015-08-22T09:00:00+08:00', 'review', '刘法', 'bj.dc', '通过'),"
		" ('bj.dc.jingshan-v20150822-1', '" CASE_ID "', '2015-08-22T10:00:00+08:00', 'decide', '张伟', 'bj.dc.jingshan', '罚款 5000 元'),"
		" ('bj.dc-v20150822-2', '" CASE_ID "', '2015-08-22T11:00:00+08:00', 'file_up', '刘法', 'bj.dc', NULL),"
		" ('bj.dc.jingshan-v20150823-1', '" CASE_ID "', '2015-08-23T10:00:00+08:00', 'execute', '张伟', 'bj.dc.jingshan', NULL),"
		" ('bj.dc.jingshan-v20150824-1', '" CASE_ID "', '2015-08-24T08:00:00+08:00', 'return_visit', '赵接', 'bj.dc.jingshan', '满意'),"
		" ('bj.dc.jingshan-v20150824-2', '" CASE_ID "', '2015-08-24T09:00:00+08:00', 'close', '张伟', 'bj.dc.jingshan', NULL);"
		"INSERT INTO small_ad_phones (id, case_id, phone, warned_at, warned_by, outcome) VALUES"
		" ('bj.dc.jingshan.d07-a20150821-1', '" CASE_ID "', '13800138000',"
		"  '2015-08-21T16:00:00+08:00', '赵接', 'warned'),"
		" ('bj.dc.jingshan.d07-a20150821-2', '" CASE_ID "', '01087654321', NULL, NULL, NULL);"
		"INSERT INTO patrols (id, officers, jurisdiction, area, key_area_id, started_at, ended_at,"
		" route, notes, found) VALUES"
		" ('bj.dc.jingshan.d07-r20150821-1', '张伟、陈明', 'bj.dc.jingshan', '景山前街',"
		"  'bj.dc-k20150110-1', '2015-08-21T08:00:00+08:00', '2015-08-21T12:00:00+08:00',"
		"  '景山前街—北池子', '小广告一处', 1);"
		"INSERT INTO responsibility_zones (id, unit, address, jurisdiction, key_area_id,"
		" notice_issued_at, notice_issued_by) VALUES"
		" ('bj.dc.jingshan-z20150301-1', '景山小卖部', '景山前街 6号', 'bj.dc.jingshan',"
		"  'bj.dc-k20150110-1', '2015-03-01T10:00:00+08:00', '陈明');"
		"INSERT INTO responsibility_checks (id, zone_id, checked_at, met, checker, note) VALUES"
		" ('bj.dc.jingshan-h20150821-1', 'bj.dc.jingshan-z20150301-1',"
		"  '2015-08-21T11:00:00+08:00', 0, '陈明', '门前有小广告');"
		"INSERT INTO supervision_items (id, issued_by_node, issuer, level, target_node, case_id,"
		" subject, detail, issued_at, due_at, status, closed_at) VALUES"
		" ('bj.dc-s20150821-1', 'bj.dc', '孙督', 'district', 'bj.dc.jingshan', '" CASE_ID "',"
		"  '景山前街小广告督办', '世锦赛期间清零', '2015-08-21T12:00:00+08:00',"
		"  '2015-08-23T12:00:00+08:00', 'closed', '2015-08-24T10:00:00+08:00');"
		"INSERT INTO supervision_feedback (id, item_id, level, node, at, author, text) VALUES"
		" ('bj.dc.jingshan-f20150822-1', 'bj.dc-s20150821-1', 'street', 'bj.dc.jingshan',"
		"  '2015-08-22T18:00:00+08:00', '张伟', '已清理并立案处罚'),"
		" ('bj.dc-f20150824-1', 'bj.dc-s20150821-1', 'district', 'bj.dc',"
		"  '2015-08-24T10:00:00+08:00', '孙督', '复查合格, 销号');"
		"COMMIT;";
	sqlite3 *db = open_migrated();
	char *error = NULL;

	test_assert(db);
	if (sqlite3_exec(db, complete, NULL, NULL, &error) != SQLITE_OK) {
		ts_test__fail(__FILE__, __LINE__, "complete case: %s", error);
		sqlite3_free(error);
		sqlite3_close(db);
		return;
	}
	test_equal_i(query_int(db, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	test_equal_i(query_int(db, "SELECT count(*) FROM case_events WHERE case_id = '" CASE_ID "'"), 11);
	test_equal_i(query_int(db, "SELECT penalty_amount FROM cases"), 500000);
	test_equal_i(query_int(db, "SELECT count(*) FROM supervision_feedback f"
		" JOIN supervision_items i ON i.id = f.item_id WHERE i.case_id = '" CASE_ID "'"), 2);
	sqlite3_close(db);
}
