/*
 * Key areas (重点地区): the ledger in which the city and the districts list
 * areas (挂账) and later delist them (销账), with dates and reasons.
 *
 * A city key area is also a key area of each district it lies in: when the
 * city lists one, it names those districts, and the same write adds one
 * district row per district carrying the city row (city_key_area_id). A
 * district's list is then simply the rows it owns; delisting the city row
 * delists the rows that carry it. Every node holds every row (they flow
 * down by sync); only the city and the districts write them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "tiers.h"

typedef struct {
	ts_node *node;
	const char *name, *zone, *reason;
	const char *const *districts;
	size_t ndistricts;
	const char *area_id;       /* delist */
	char *new_id;              /* add: the city or district row */
} area_op;

/* 1 when `district` is a district id directly below the city `city`. */
static int is_child(const char *city, const char *district)
{
	size_t n = strlen(city);
	return ts_node_id_valid(district) && ts_jurisdiction_covers(city, district) && district[n] == '.' &&
		!strchr(district + n + 1, '.');
}

static int insert_area(area_op *op, char **id_out, const char *level, const char *owner,
	const char *city_area, const char *now)
{
	sqlite3 *db = op->node->db;
	sqlite3_stmt *st = NULL;
	int error;

	*id_out = NULL;
	if ((error = ts_node_mint_id(id_out, op->node, "k")) < 0)
		return error;
	if (sqlite3_prepare_v2(db, "INSERT INTO key_areas (id, level, owner_node, city_key_area_id, name, zone, "
			"listed_at, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(db, "listing the key area");
	sqlite3_bind_text(st, 1, *id_out, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, level, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, city_area, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, op->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, op->zone, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, op->reason, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_tiers__db_error(db, "listing the key area");
	sqlite3_finalize(st);
	return error;
}

static int do_add(sqlite3 *db, void *payload)
{
	area_op *op = payload;
	const char *owner = op->node->id;
	int city = op->node->tier == TS_TIER_CITY;
	char now[32], *same = NULL;
	size_t i;
	int error;

	/* the same name listed twice by one owner is a mistake, not a second area */
	if ((error = ts_tiers__query_text(&same, db, "SELECT id FROM key_areas WHERE owner_node = ?1 "
			"AND name = ?2 AND delisted_at IS NULL ORDER BY id LIMIT 1", owner, op->name)) < 0)
		return error;
	if (error == 1) {
		error = ts_error_set(TS_EINVALID, "'%s' is already a listed key area of %s (%s)", op->name, owner,
			same ? same : "");
		free(same);
		return error;
	}
	ts_time_format(now, ts_node__now());
	if ((error = insert_area(op, &op->new_id, city ? "city" : "district", owner, NULL, now)) < 0)
		return error;
	for (i = 0; city && i < op->ndistricts; i++) {
		char *carried = NULL;
		error = insert_area(op, &carried, "district", op->districts[i], op->new_id, now);
		free(carried);
		if (error < 0)
			return error;
	}
	return 0;
}

int ts_area_add(char **id_out, ts_node *node, const char *author, const char *name,
	const char *zone, const char *reason, const char *const *districts, size_t ndistricts)
{
	area_op op;
	ts_buf summary = TS_BUF_INIT;
	size_t i, j;
	int error;

	*id_out = NULL;
	if ((error = ts_tiers__upper_only(node, "list key areas")) < 0)
		return error;
	if (!name || !*name)
		return ts_error_set(TS_EINVALID, "a key area needs a name");
	if (!zone || !*zone)
		return ts_error_set(TS_EINVALID, "a key area needs its zone: where its bounds run");
	if (node->tier == TS_TIER_CITY && ndistricts == 0)
		return ts_error_set(TS_EINVALID, "a city key area is also a key area of the districts it lies "
			"in: name them (e.g. %s.dc)", node->id);
	if (node->tier == TS_TIER_DISTRICT && ndistricts > 0)
		return ts_error_set(TS_EINVALID, "a district lists key areas of its own; only the city names "
			"the districts an area lies in");
	for (i = 0; i < ndistricts; i++) {
		if (!districts[i] || !is_child(node->id, districts[i]))
			return ts_error_set(TS_EINVALID, "'%s' is not a district of %s (a district id is the "
				"city's id and one more label, e.g. %s.dc)", districts[i] ? districts[i] : "",
				node->id, node->id);
		for (j = 0; j < i; j++)
			if (!strcmp(districts[i], districts[j]))
				return ts_error_set(TS_EINVALID, "district %s is named twice", districts[i]);
	}
	memset(&op, 0, sizeof(op));
	op.node = node;
	op.name = name;
	op.zone = zone;
	op.reason = reason && *reason ? reason : NULL;
	op.districts = districts;
	op.ndistricts = ndistricts;
	ts_buf__printf(&summary, "list key area %s", name);
	for (i = 0; i < ndistricts; i++)
		ts_buf__printf(&summary, "%s%s", i ? ", " : " in ", districts[i]);
	error = ts_node_write(node, author, summary.ptr, do_add, &op);
	ts_buf__dispose(&summary);
	if (error < 0) {
		free(op.new_id);
		return error;
	}
	*id_out = op.new_id;
	return 0;
}

static int do_delist(sqlite3 *db, void *payload)
{
	area_op *op = payload;
	sqlite3_stmt *st = NULL;
	char now[32];
	int error = 0;

	ts_time_format(now, ts_node__now());
	/* the row itself, and the district rows carrying it when it is the city's */
	if (sqlite3_prepare_v2(db, "UPDATE key_areas SET delisted_at = ?2, delist_reason = ?3 "
			"WHERE (id = ?1 OR city_key_area_id = ?1) AND delisted_at IS NULL", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(db, "delisting the key area");
	sqlite3_bind_text(st, 1, op->area_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op->reason, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_tiers__db_error(db, "delisting the key area");
	sqlite3_finalize(st);
	return error;
}

int ts_area_delist(ts_node *node, const char *author, const char *area_id, const char *reason)
{
	sqlite3_stmt *st = NULL;
	area_op op;
	ts_buf summary = TS_BUF_INIT;
	const char *owner, *carried, *delisted;
	int error;

	if ((error = ts_tiers__upper_only(node, "delist key areas")) < 0)
		return error;
	if (!area_id || !*area_id)
		return ts_error_set(TS_EINVALID, "name the key area to delist");
	if (!reason || !*reason)
		return ts_error_set(TS_EINVALID, "delisting needs a reason: why the area is no longer key");
	if (sqlite3_prepare_v2(node->db, "SELECT owner_node, city_key_area_id, delisted_at FROM key_areas "
			"WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(node->db, "reading the key area");
	sqlite3_bind_text(st, 1, area_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		error = ts_error_set(TS_ENOTFOUND, "no key area %s", area_id);
		goto done;
	}
	owner = (const char *)sqlite3_column_text(st, 0);
	carried = (const char *)sqlite3_column_text(st, 1);
	delisted = (const char *)sqlite3_column_text(st, 2);
	if (delisted) {
		error = ts_error_set(TS_EINVALID, "key area %s was already delisted at %s", area_id, delisted);
		goto done;
	}
	if (!ts_jurisdiction_covers(node->id, owner)) {
		error = ts_error_set(TS_EDENIED, "key area %s is kept by %s; %s may delist only its own key areas",
			area_id, owner, node->id);
		goto done;
	}
	if (node->tier != TS_TIER_CITY && carried) {
		error = ts_error_set(TS_EDENIED, "key area %s carries city key area %s; only the city delists it",
			area_id, carried);
		goto done;
	}
	/* done reading before the write transaction begins */
	sqlite3_finalize(st);
	st = NULL;
	memset(&op, 0, sizeof(op));
	op.node = node;
	op.area_id = area_id;
	op.reason = reason;
	ts_buf__printf(&summary, "delist key area %s: %s", area_id, reason);
	error = ts_node_write(node, author, summary.ptr, do_delist, &op);
done:
	sqlite3_finalize(st);
	ts_buf__dispose(&summary);
	return error;
}

int ts_area_fits_case(ts_node *node, const char *area_id, const char *jurisdiction)
{
	sqlite3_stmt *st = NULL;
	int fits = 0;

	if (sqlite3_prepare_v2(node->db, "SELECT owner_node, delisted_at FROM key_areas WHERE id = ?1",
			-1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(node->db, "reading the key area");
	sqlite3_bind_text(st, 1, area_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		ts_error_set(TS_ENOTFOUND, "no key area %s", area_id ? area_id : "");
	else if (sqlite3_column_type(st, 1) != SQLITE_NULL)
		ts_error_set(TS_EINVALID, "key area %s was delisted at %s", area_id, sqlite3_column_text(st, 1));
	else if (!ts_jurisdiction_covers((const char *)sqlite3_column_text(st, 0), jurisdiction))
		ts_error_set(TS_EINVALID, "key area %s is %s's; a case of %s cannot lie in it", area_id,
			sqlite3_column_text(st, 0), jurisdiction ? jurisdiction : "");
	else
		fits = 1;
	sqlite3_finalize(st);
	return fits;
}

/* The areas in node ?1's view: the city (?2 = 1) sees every row; any other
 * node its district's rows. ?3 = 1 leaves out the delisted ones. */
#define AREAS_SQL \
	"SELECT id, level, owner_node, city_key_area_id, name, zone, listed_at, reason, delisted_at, " \
	"  delist_reason " \
	"FROM key_areas " \
	"WHERE (?2 OR (level = 'district' AND " \
	"    (owner_node = ?1 OR substr(?1, 1, length(owner_node) + 1) = owner_node || '.'))) " \
	"  AND (NOT ?3 OR delisted_at IS NULL) " \
	"ORDER BY owner_node, listed_at, id"

int ts_area_list(ts_node *node, const ts_area_filter *filter,
	int (*cb)(const ts_area_info *area, void *payload), void *payload)
{
	sqlite3_stmt *st = NULL;
	int rc, error = 0;

	if (filter && filter->version != TS_AREA_FILTER_VERSION)
		return ts_error_set(TS_EINVALID, "unknown key-area filter version %u (this library knows %d)",
			filter->version, TS_AREA_FILTER_VERSION);
	if (!cb)
		return ts_error_set(TS_EINVALID, "listing key areas needs a callback");
	if (sqlite3_prepare_v2(node->db, AREAS_SQL, -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(node->db, "reading the key areas");
	sqlite3_bind_text(st, 1, node->id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, node->tier == TS_TIER_CITY);
	sqlite3_bind_int(st, 3, filter && filter->listed_only);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ts_area_info a;
		a.id = (const char *)sqlite3_column_text(st, 0);
		a.level = (const char *)sqlite3_column_text(st, 1);
		a.owner_node = (const char *)sqlite3_column_text(st, 2);
		a.city_key_area_id = (const char *)sqlite3_column_text(st, 3);
		a.name = (const char *)sqlite3_column_text(st, 4);
		a.zone = (const char *)sqlite3_column_text(st, 5);
		a.listed_at = (const char *)sqlite3_column_text(st, 6);
		a.reason = (const char *)sqlite3_column_text(st, 7);
		a.delisted_at = (const char *)sqlite3_column_text(st, 8);
		a.delist_reason = (const char *)sqlite3_column_text(st, 9);
		if ((error = cb(&a, payload)) != 0)
			goto done;
	}
	if (rc != SQLITE_DONE)
		error = ts_tiers__db_error(node->db, "reading the key areas");
done:
	sqlite3_finalize(st);
	return error;
}
