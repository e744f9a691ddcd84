/*
 * Major events (重大活动保障): periods of heightened control declared by the
 * city or a district, which flow down by sync and mark the cases inside
 * them (cases.event_id).
 *
 * A case lies in an event when its jurisdiction is in the declaring node's
 * (the event's owner_node) and it was reported inside the period, ends
 * included. Of several such events a case takes the most local one (the
 * longest owner id), then the earliest started, then the lowest id: the
 * same answer on every node. A mark, once set, stays.
 *
 * Marking happens where the cases are: the declaring node marks those it
 * holds when it declares; any node marks its own after an event arrives by
 * pull (ts_event_mark); case intake asks ts_event_for_case.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "tiers.h"

/* The events a case (jurisdiction ?J, reported at ?R) lies in, best first;
 * ?E, when not NULL, keeps only that event. */
#define EVENTS_OF_CASE(J, R, E) \
	"SELECT e.id FROM major_events e " \
	"WHERE (" J " = e.owner_node OR substr(" J ", 1, length(e.owner_node) + 1) = e.owner_node || '.') " \
	"  AND " R " BETWEEN e.starts_at AND e.ends_at AND (" E " IS NULL OR e.id = " E ") " \
	"ORDER BY length(e.owner_node) DESC, e.starts_at, e.id LIMIT 1"

typedef struct {
	ts_node *node;
	const char *name, *zone, *event;
	char from[32], to[32];
	char *new_id;
	size_t marked;
} event_op;

/* Marks the unmarked cases of this node's jurisdiction that lie in an event
 * (`event`, or any when NULL); `case_id`, when not NULL, marks that case
 * only, found by its key: a new case must not cost a read of every unmarked
 * case (with "?3 IS NULL OR id = ?3", SQLite took them all by event_id). */
#define MARK_SQL(ONE) \
	"UPDATE cases SET event_id = (" EVENTS_OF_CASE("cases.jurisdiction", "cases.reported_at", "?2") ") " \
	"WHERE " ONE "event_id IS NULL " \
	"  AND (jurisdiction = ?1 OR substr(jurisdiction, 1, length(?1) + 1) = ?1 || '.') " \
	"  AND EXISTS (" EVENTS_OF_CASE("cases.jurisdiction", "cases.reported_at", "?2") ")"

static int mark_cases(event_op *op, const char *event, const char *case_id)
{
	sqlite3 *db = op->node->db;
	sqlite3_stmt *st = NULL;
	int error = 0;

	if (sqlite3_prepare_v2(db, case_id ? MARK_SQL("id = ?3 AND ") : MARK_SQL(""), -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(db, "marking the cases of the event");
	sqlite3_bind_text(st, 1, op->node->scope, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, event, -1, SQLITE_STATIC);
	if (case_id)
		sqlite3_bind_text(st, 3, case_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_tiers__db_error(db, "marking the cases of the event");
	else
		op->marked = (size_t)sqlite3_changes(db);
	sqlite3_finalize(st);
	return error;
}

static int do_add(sqlite3 *db, void *payload)
{
	event_op *op = payload;
	sqlite3_stmt *st = NULL;
	int error;

	if ((error = ts_node_mint_id(&op->new_id, op->node, "m")) < 0)
		return error;
	if (sqlite3_prepare_v2(db, "INSERT INTO major_events (id, name, starts_at, ends_at, zone, level, owner_node) "
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(db, "declaring the major event");
	sqlite3_bind_text(st, 1, op->new_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, op->to, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, op->zone, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, ts_tier_name(op->node->tier), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, op->node->id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_tiers__db_error(db, "declaring the major event");
	sqlite3_finalize(st);
	if (error == 0)
		error = mark_cases(op, op->new_id, NULL);
	return error;
}

int ts_event_add(char **id_out, size_t *marked, ts_node *node, const char *author, const char *name,
	const char *from, const char *to, const char *zone)
{
	event_op op;
	ts_buf summary = TS_BUF_INIT;
	int error;

	*id_out = NULL;
	if (marked)
		*marked = 0;
	if ((error = ts_tiers__upper_only(node, "declare major events")) < 0)
		return error;
	if (!name || !*name)
		return ts_error_set(TS_EINVALID, "a major event needs a name");
	memset(&op, 0, sizeof(op));
	if ((error = ts_time_parse(op.from, from, 0, "from")) < 0 ||
	    (error = ts_time_parse(op.to, to, 1, "to")) < 0)
		return error;
	if (strcmp(op.to, op.from) < 0)
		return ts_error_set(TS_EINVALID, "the period ends (%s) before it starts (%s)", to, from);
	op.node = node;
	op.name = name;
	op.zone = zone && *zone ? zone : NULL;
	ts_buf__printf(&summary, "declare major event %s, %.10s to %.10s", name, op.from, op.to);
	error = ts_node_write(node, author, summary.ptr, do_add, &op);
	ts_buf__dispose(&summary);
	if (error < 0) {
		free(op.new_id);
		return error;
	}
	*id_out = op.new_id;
	if (marked)
		*marked = op.marked;
	return 0;
}

static int do_mark(sqlite3 *db, void *payload)
{
	event_op *op = payload;
	(void)db;
	return mark_cases(op, op->event, NULL);
}

int ts_event_mark(size_t *marked, ts_node *node, const char *author, const char *event)
{
	event_op op;
	ts_buf summary = TS_BUF_INIT;
	char *found = NULL;
	int error;

	if (marked)
		*marked = 0;
	if (event) {
		if ((error = ts_tiers__query_text(&found, node->db, "SELECT id FROM major_events WHERE id = ?1",
				event, NULL)) < 0)
			return error;
		free(found);
		if (error == 0)
			return ts_error_set(TS_ENOTFOUND, "no major event %s", event);
	}
	memset(&op, 0, sizeof(op));
	op.node = node;
	op.event = event;
	ts_buf__printf(&summary, "mark the cases of %s", event ? event : "the major events");
	error = ts_node_write(node, author, summary.ptr, do_mark, &op);
	ts_buf__dispose(&summary);
	if (error == 0 && marked)
		*marked = op.marked;
	return error;
}

int ts_event_for_case(char **event_out, ts_node *node, const char *jurisdiction, const char *reported_at)
{
	int error = ts_tiers__query_text(event_out, node->db,
		EVENTS_OF_CASE("?1", "?2", "NULL"), jurisdiction, reported_at);
	return error < 0 ? error : 0;
}

int ts_event_mark_case(int *marked, ts_node *node, const char *case_id)
{
	event_op op;
	int error;

	if (marked)
		*marked = 0;
	if (!case_id)
		return ts_error_set(TS_EINVALID, "name the case to mark");
	memset(&op, 0, sizeof(op));
	op.node = node;
	if ((error = mark_cases(&op, NULL, case_id)) == 0 && marked)
		*marked = op.marked > 0;
	return error;
}

/* The events that concern node ?1: declared by it, above it or below it;
 * with the number of cases this node holds that are marked with each. */
#define EVENTS_SQL \
	"SELECT e.id, e.level, e.owner_node, e.name, e.starts_at, e.ends_at, e.zone, " \
	"  (SELECT count(*) FROM cases c WHERE c.event_id = e.id) " \
	"FROM major_events e " \
	"WHERE e.owner_node = ?1 OR substr(?1, 1, length(e.owner_node) + 1) = e.owner_node || '.' " \
	"   OR substr(e.owner_node, 1, length(?1) + 1) = ?1 || '.' " \
	"ORDER BY e.starts_at, e.id"

int ts_event_list(ts_node *node, const ts_event_filter *filter,
	int (*cb)(const ts_event_info *event, void *payload), void *payload)
{
	sqlite3_stmt *st = NULL;
	int rc, error = 0;

	if (filter && filter->version != TS_EVENT_FILTER_VERSION)
		return ts_error_set(TS_EINVALID, "unknown major-event filter version %u (this library knows %d)",
			filter->version, TS_EVENT_FILTER_VERSION);
	if (!cb)
		return ts_error_set(TS_EINVALID, "listing major events needs a callback");
	if (sqlite3_prepare_v2(node->db, EVENTS_SQL, -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(node->db, "reading the major events");
	sqlite3_bind_text(st, 1, node->id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ts_event_info e;
		e.id = (const char *)sqlite3_column_text(st, 0);
		e.level = (const char *)sqlite3_column_text(st, 1);
		e.owner_node = (const char *)sqlite3_column_text(st, 2);
		e.name = (const char *)sqlite3_column_text(st, 3);
		e.starts_at = (const char *)sqlite3_column_text(st, 4);
		e.ends_at = (const char *)sqlite3_column_text(st, 5);
		e.zone = (const char *)sqlite3_column_text(st, 6);
		e.cases = sqlite3_column_int64(st, 7);
		if ((error = cb(&e, payload)) != 0)
			goto done;
	}
	if (rc != SQLITE_DONE)
		error = ts_tiers__db_error(node->db, "reading the major events");
done:
	sqlite3_finalize(st);
	return error;
}
