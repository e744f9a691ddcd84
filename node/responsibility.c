/*
 * Responsibility zones (市容环境卫生责任区, 门前三包): each shop or unit is
 * answerable for its frontage. The street office adds the zone, hands the
 * unit its notice (告知书发放) once, and checks from time to time whether
 * the duties are met (责任落实), each check one row of
 * responsibility_checks.
 *
 *   added --(notice, once)--> notified --(check, met or not)--> ... checks
 *
 * A zone belongs to a street (a device adds it for its street); the nodes
 * whose jurisdiction covers the street may issue its notice and check it,
 * as the ownership rules let them write the rows. The goals the figures
 * measure (docs/REPORT.md): every notice issued; duties met at 90% of the
 * checks in key areas, 80% elsewhere. The reads are at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "tiers.h"

/* Zones in the jurisdiction of node id ?1, as an SQL condition on z. */
#define IN_VIEW "(z.jurisdiction = ?1 OR substr(z.jurisdiction, 1, length(?1) + 1) = ?1 || '.')"

/* A zone as read before a write. */
typedef struct {
	char *unit, *jurisdiction, *notice_issued_at;
} zone_row;

static void zone_row_clear(zone_row *r)
{
	free(r->unit);
	free(r->jurisdiction);
	free(r->notice_issued_at);
	memset(r, 0, sizeof(*r));
}

static char *dup_column(sqlite3_stmt *st, int c)
{
	const char *t = (const char *)sqlite3_column_text(st, c);
	return t ? strdup(t) : NULL;
}

static int zone_read(zone_row *out, sqlite3 *db, const char *id)
{
	sqlite3_stmt *st = NULL;
	int error = 0;

	memset(out, 0, sizeof(*out));
	if (!id || !*id)
		return ts_error_set(TS_EINVALID, "name the responsibility zone");
	if (sqlite3_prepare_v2(db, "SELECT unit, jurisdiction, notice_issued_at FROM responsibility_zones "
			"WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(db, "reading the responsibility zone");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		error = ts_error_set(TS_ENOTFOUND, "no responsibility zone %s", id);
	else if (!(out->unit = dup_column(st, 0)) || !(out->jurisdiction = dup_column(st, 1)))
		error = ts_error_set(TS_ERROR, "out of memory");
	else
		out->notice_issued_at = dup_column(st, 2);
	sqlite3_finalize(st);
	if (error < 0)
		zone_row_clear(out);
	return error;
}

/* Reads the zone and refuses one outside this node's jurisdiction. */
static int zone_in_reach(zone_row *out, ts_node *node, const char *zone_id, const char *what)
{
	int error;

	if ((error = zone_read(out, node->db, zone_id)) < 0)
		return error;
	if (ts_jurisdiction_covers(node->scope, out->jurisdiction))
		return 0;
	error = ts_error_set(TS_EDENIED, "responsibility zone %s is of %s; %s may %s only zones of %s", zone_id,
		out->jurisdiction, node->id, what, node->scope);
	zone_row_clear(out);
	return error;
}

typedef struct {
	ts_node *node;
	const char *author;
	const char *unit, *address, *key_area_id, *zone_id, *note;
	int met;
	char at[32];
	char *new_id;
} zone_op;

static int do_add(sqlite3 *db, void *payload)
{
	zone_op *op = payload;
	sqlite3_stmt *st = NULL;
	int error = 0;

	/* the same unit at the same address is one zone, not two */
	if (sqlite3_prepare_v2(db, "SELECT id FROM responsibility_zones WHERE jurisdiction = ?1 AND unit = ?2 "
			"AND address = ?3 ORDER BY id LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(db, "reading the responsibility zones");
	sqlite3_bind_text(st, 1, op->node->scope, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->unit, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op->address, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		error = ts_error_set(TS_EINVALID, "%s at %s is already responsibility zone %s", op->unit, op->address,
			sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	st = NULL;
	if (error < 0 || (error = ts_node_mint_id(&op->new_id, op->node, "z")) < 0)
		return error;
	if (sqlite3_prepare_v2(db, "INSERT INTO responsibility_zones (id, unit, address, jurisdiction, key_area_id) "
			"VALUES (?1, ?2, ?3, ?4, ?5)", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(db, "adding the responsibility zone");
	sqlite3_bind_text(st, 1, op->new_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->unit, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op->address, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, op->node->scope, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, op->key_area_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_tiers__db_error(db, "adding the responsibility zone");
	sqlite3_finalize(st);
	return error;
}

int ts_zone_add(char **id_out, ts_node *node, const char *author, const char *unit, const char *address,
	const char *key_area_id)
{
	zone_op op;
	ts_buf summary = TS_BUF_INIT;
	int error, fits;

	*id_out = NULL;
	if (node->tier != TS_TIER_STREET && node->tier != TS_TIER_DEVICE)
		return ts_error_set(TS_EDENIED, "a responsibility zone belongs to a street: its street office or "
			"a device of it adds it; this node (%s) is a %s", node->id, ts_tier_name(node->tier));
	if (!unit || !*unit)
		return ts_error_set(TS_EINVALID, "a responsibility zone needs the name of its shop or unit");
	if (!address || !*address)
		return ts_error_set(TS_EINVALID, "a responsibility zone needs its address");
	if (key_area_id && (fits = ts_area_fits_case(node, key_area_id, node->scope)) <= 0)
		return fits < 0 ? fits : ts_error_last_code();
	memset(&op, 0, sizeof(op));
	op.node = node;
	op.unit = unit;
	op.address = address;
	op.key_area_id = key_area_id;
	ts_buf__printf(&summary, "responsibility zone %s at %s", unit, address);
	error = ts_node_write(node, author, summary.ptr, do_add, &op);
	ts_buf__dispose(&summary);
	if (error < 0) {
		free(op.new_id);
		return error;
	}
	*id_out = op.new_id;
	return 0;
}

static int do_notice(sqlite3 *db, void *payload)
{
	zone_op *op = payload;
	sqlite3_stmt *st = NULL;
	int error = 0;

	if (sqlite3_prepare_v2(db, "UPDATE responsibility_zones SET notice_issued_at = ?2, notice_issued_by = ?3 "
			"WHERE id = ?1 AND notice_issued_at IS NULL", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(db, "recording the notice");
	sqlite3_bind_text(st, 1, op->zone_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->at, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op->author, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_tiers__db_error(db, "recording the notice");
	sqlite3_finalize(st);
	return error;
}

int ts_zone_notice(ts_node *node, const char *author, const char *zone_id, const char *issued)
{
	zone_op op;
	zone_row zone;
	ts_buf summary = TS_BUF_INIT;
	int error;

	if ((error = zone_in_reach(&zone, node, zone_id, "issue notices to")) < 0)
		return error;
	if (zone.notice_issued_at) {
		error = ts_error_set(TS_EINVALID, "the notice of responsibility zone %s (%s) was issued at %s; it is "
			"issued once", zone_id, zone.unit, zone.notice_issued_at);
		goto done;
	}
	memset(&op, 0, sizeof(op));
	if ((error = ts_patrols__time_given(op.at, issued, "notice")) < 0)
		goto done;
	op.node = node;
	op.author = author ? author : node->identity;
	op.zone_id = zone_id;
	ts_buf__printf(&summary, "notice to %s (zone %s)", zone.unit, zone_id);
	error = ts_node_write(node, op.author, summary.ptr, do_notice, &op);
done:
	zone_row_clear(&zone);
	ts_buf__dispose(&summary);
	return error;
}

static int do_check(sqlite3 *db, void *payload)
{
	zone_op *op = payload;
	sqlite3_stmt *st = NULL;
	int error;

	if ((error = ts_node_mint_id(&op->new_id, op->node, "h")) < 0)
		return error;
	if (sqlite3_prepare_v2(db, "INSERT INTO responsibility_checks (id, zone_id, checked_at, met, checker, note) "
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(db, "recording the check");
	sqlite3_bind_text(st, 1, op->new_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->zone_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op->at, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, op->met);
	sqlite3_bind_text(st, 5, op->author, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, op->note, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_tiers__db_error(db, "recording the check");
	sqlite3_finalize(st);
	return error;
}

int ts_zone_check(char **id_out, ts_node *node, const char *author, const char *zone_id, int met,
	const char *note)
{
	zone_op op;
	zone_row zone;
	ts_buf summary = TS_BUF_INIT;
	int error;

	*id_out = NULL;
	if (met != 0 && met != 1)
		return ts_error_set(TS_EINVALID, "a check finds the duties met (1) or not (0), not %d", met);
	if (!met && (!note || !*note))
		return ts_error_set(TS_EINVALID, "a check that finds the duties not met says what was wrong");
	if ((error = zone_in_reach(&zone, node, zone_id, "check")) < 0)
		return error;
	if (!zone.notice_issued_at) {
		error = ts_error_set(TS_EINVALID, "responsibility zone %s (%s) has had no notice: its duties are "
			"checked once the unit was told them", zone_id, zone.unit);
		goto done;
	}
	memset(&op, 0, sizeof(op));
	ts_time_now(op.at);
	op.node = node;
	op.author = author ? author : node->identity;
	op.zone_id = zone_id;
	op.met = met;
	op.note = note && *note ? note : NULL;
	ts_buf__printf(&summary, "check of %s (zone %s): %s", zone.unit, zone_id, met ? "met" : "not met");
	error = ts_node_write(node, op.author, summary.ptr, do_check, &op);
	if (error < 0)
		free(op.new_id);
	else
		*id_out = op.new_id;
done:
	zone_row_clear(&zone);
	ts_buf__dispose(&summary);
	return error;
}

/* --- reading zones and checks ---------------------------------------------- */

int ts_zone_list(ts_node *node, const ts_zone_filter *filter,
	int (*cb)(const ts_zone_info *zone, void *payload), void *payload)
{
	sqlite3_stmt *st = NULL;
	int rc, error = 0;

	if (filter && filter->version != TS_ZONE_FILTER_VERSION)
		return ts_error_set(TS_EINVALID, "unknown zone filter version %u (this library knows %d)",
			filter->version, TS_ZONE_FILTER_VERSION);
	if (!cb)
		return ts_error_set(TS_EINVALID, "listing responsibility zones needs a callback");
	if (sqlite3_prepare_v2(node->db,
			"SELECT z.id, z.unit, z.address, z.jurisdiction, z.key_area_id, z.notice_issued_at, "
			"  z.notice_issued_by, (SELECT count(*) FROM responsibility_checks k WHERE k.zone_id = z.id), "
			"  l.checked_at, l.met, l.checker, l.note "
			"FROM responsibility_zones z "
			"LEFT JOIN responsibility_checks l ON l.id = (SELECT k.id FROM responsibility_checks k "
			"  WHERE k.zone_id = z.id ORDER BY k.checked_at DESC, k.id DESC LIMIT 1) "
			"WHERE " IN_VIEW " AND (?2 IS NULL OR z.key_area_id = ?2) "
			"  AND (NOT ?3 OR z.notice_issued_at IS NULL) "
			"ORDER BY z.jurisdiction, z.unit, z.id", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(node->db, "reading the responsibility zones");
	sqlite3_bind_text(st, 1, node->scope, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, filter ? filter->key_area_id : NULL, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, filter && filter->without_notice_only);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ts_zone_info z;
		z.id = (const char *)sqlite3_column_text(st, 0);
		z.unit = (const char *)sqlite3_column_text(st, 1);
		z.address = (const char *)sqlite3_column_text(st, 2);
		z.jurisdiction = (const char *)sqlite3_column_text(st, 3);
		z.key_area_id = (const char *)sqlite3_column_text(st, 4);
		z.notice_issued_at = (const char *)sqlite3_column_text(st, 5);
		z.notice_issued_by = (const char *)sqlite3_column_text(st, 6);
		z.checks = sqlite3_column_int64(st, 7);
		z.last_checked_at = (const char *)sqlite3_column_text(st, 8);
		z.last_met = sqlite3_column_type(st, 9) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 9);
		z.last_checker = (const char *)sqlite3_column_text(st, 10);
		z.last_note = (const char *)sqlite3_column_text(st, 11);
		if ((error = cb(&z, payload)) != 0)
			goto done;
	}
	if (rc != SQLITE_DONE)
		error = ts_tiers__db_error(node->db, "reading the responsibility zones");
done:
	sqlite3_finalize(st);
	return error;
}

int ts_zone_checks(ts_node *node, const ts_zone_check_filter *filter,
	int (*cb)(const ts_zone_check_info *check, void *payload), void *payload)
{
	sqlite3_stmt *st = NULL;
	zone_row zone;
	const char *scope;
	char from[32], to[32];
	int rc, error = 0;

	if (filter && filter->version != TS_ZONE_CHECK_FILTER_VERSION)
		return ts_error_set(TS_EINVALID, "unknown zone check filter version %u (this library knows %d)",
			filter->version, TS_ZONE_CHECK_FILTER_VERSION);
	if (!cb)
		return ts_error_set(TS_EINVALID, "listing responsibility checks needs a callback");
	if (filter && filter->zone_id) {
		if ((error = zone_read(&zone, node->db, filter->zone_id)) < 0)
			return error;
		zone_row_clear(&zone);
	}
	if ((error = ts_tiers__list_range(&scope, from, to, node, NULL, filter ? filter->from : NULL,
			filter ? filter->to : NULL)) < 0)
		return error;
	if (sqlite3_prepare_v2(node->db,
			"SELECT k.id, k.zone_id, z.unit, k.checked_at, k.met, k.checker, k.note "
			"FROM responsibility_checks k JOIN responsibility_zones z ON z.id = k.zone_id "
			"WHERE " IN_VIEW " AND (?2 IS NULL OR k.zone_id = ?2) "
			"  AND (?3 = '' OR k.checked_at >= ?3) AND (?4 = '' OR k.checked_at <= ?4) "
			"ORDER BY k.checked_at, k.id", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(node->db, "reading the responsibility checks");
	sqlite3_bind_text(st, 1, node->scope, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, filter ? filter->zone_id : NULL, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, to, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ts_zone_check_info k;
		k.id = (const char *)sqlite3_column_text(st, 0);
		k.zone_id = (const char *)sqlite3_column_text(st, 1);
		k.unit = (const char *)sqlite3_column_text(st, 2);
		k.checked_at = (const char *)sqlite3_column_text(st, 3);
		k.met = sqlite3_column_int(st, 4);
		k.checker = (const char *)sqlite3_column_text(st, 5);
		k.note = (const char *)sqlite3_column_text(st, 6);
		if ((error = cb(&k, payload)) != 0)
			goto done;
	}
	if (rc != SQLITE_DONE)
		error = ts_tiers__db_error(node->db, "reading the responsibility checks");
done:
	sqlite3_finalize(st);
	return error;
}
