/*
 * Urgent reports (信息报送): events that must reach the city at once. A
 * street, a device acting for its street, or a district records one; a
 * node above the reporting unit takes it in (receives it).
 *
 *   pending --(a node above the unit receives it)--> received
 *
 * The report travels up ahead of any backlog: ts_node_push() first sends
 * a small commit holding only the reports the upper node lacks
 * (node/urgent_commit.c), and a submission bundle carries the same commit,
 * which the upper node merges before the submissions (node/merge_node.c,
 * node/bundle_node.c). The rows here are those of
 * schema/0013_urgent_reports.sql.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle.h"
#include "node.h"
#include "tiers.h"

typedef struct {
	ts_node *node;
	const char *author;
	const ts_urgent_options *opts;
	char occurred[32];
	const char *report_id;
	char *new_id;
} urgent_op;

static int do_create(sqlite3 *db, void *payload)
{
	urgent_op *op = payload;
	const ts_urgent_options *o = op->opts;
	sqlite3_stmt *st = NULL;
	char now[32];
	int error = 0;

	ts_time_format(now, ts_node__now());
	if (strcmp(op->occurred, now) > 0)
		return ts_error_set(TS_EINVALID, "occurred: %s lies in the future (it is %s now)", op->occurred, now);
	if ((error = ts_node_mint_id(&op->new_id, op->node, "u")) < 0)
		return error;
	if (sqlite3_prepare_v2(db, "INSERT INTO urgent_reports (id, jurisdiction, case_id, subject, detail, "
			"occurred_at, reported_at, reporter, node) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
			-1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(db, "recording the urgent report");
	sqlite3_bind_text(st, 1, op->new_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->node->scope, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, o->case_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, o->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, o->detail, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, op->occurred, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, op->author, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, op->node->id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_tiers__db_error(db, "recording the urgent report");
	sqlite3_finalize(st);
	if (error == 0 && o->case_id) {
		ts_buf detail = TS_BUF_INIT;
		ts_buf__printf(&detail, "urgent report %s: %s", op->new_id, o->subject);
		error = ts_buf__oom(&detail) ? TS_ERROR :
			ts_case__event(op->node, o->case_id, "note", op->author, detail.ptr, now);
		ts_buf__dispose(&detail);
	}
	return error;
}

int ts_urgent_create(char **id_out, ts_node *node, const char *author, const ts_urgent_options *opts)
{
	urgent_op op;
	ts_buf summary = TS_BUF_INIT;
	char *jurisdiction = NULL;
	int error;

	*id_out = NULL;
	if (node->tier == TS_TIER_CITY)
		return ts_error_set(TS_EDENIED, "the city has no node above it to report to (this node, %s, "
			"is the city)", node->id);
	if (!opts || !opts->subject || !*opts->subject)
		return ts_error_set(TS_EINVALID, "an urgent report needs a subject");
	if (strpbrk(opts->subject, "\r\n"))
		return ts_error_set(TS_EINVALID, "an urgent report's subject is one line");
	memset(&op, 0, sizeof(op));
	if (opts->occurred_at) {
		if ((error = ts_time_parse(op.occurred, opts->occurred_at, 0, "occurred")) < 0)
			return error;
	} else
		ts_time_now(op.occurred);
	if (opts->case_id) {
		if ((error = ts_tiers__query_text(&jurisdiction, node->db,
				"SELECT jurisdiction FROM cases WHERE id = ?1", opts->case_id, NULL)) < 0)
			return error;
		if (error == 0)
			return ts_error_set(TS_ENOTFOUND, "no case %s", opts->case_id);
		if (!jurisdiction || !ts_jurisdiction_covers(node->scope, jurisdiction)) {
			error = ts_error_set(TS_EDENIED, "case %s is of %s, outside the jurisdiction of %s, "
				"which reports", opts->case_id, jurisdiction ? jurisdiction : "no unit", node->scope);
			free(jurisdiction);
			return error;
		}
		free(jurisdiction);
	}
	op.node = node;
	op.author = author ? author : node->identity;
	op.opts = opts;
	if (!op.author || !*op.author)
		return ts_error_set(TS_EINVALID, "an urgent report needs the real name of who reports it");
	ts_buf__printf(&summary, "urgent report of %s: %s", node->scope, opts->subject);
	if (ts_buf__oom(&summary))
		return TS_ERROR;
	error = ts_node_write(node, op.author, summary.ptr, do_create, &op);
	ts_buf__dispose(&summary);
	if (error < 0) {
		free(op.new_id);
		return error;
	}
	*id_out = op.new_id;
	return 0;
}

static int do_receive(sqlite3 *db, void *payload)
{
	urgent_op *op = payload;
	sqlite3_stmt *st = NULL;
	char now[32];
	int error = 0;

	ts_time_format(now, ts_node__now());
	if (sqlite3_prepare_v2(db, "UPDATE urgent_reports SET received_at = ?2, received_by = ?3 "
			"WHERE id = ?1 AND received_at IS NULL", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(db, "receiving the urgent report");
	sqlite3_bind_text(st, 1, op->report_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op->author, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_tiers__db_error(db, "receiving the urgent report");
	sqlite3_finalize(st);
	return error;
}

int ts_urgent_receive(ts_node *node, const char *author, const char *id)
{
	urgent_op op;
	sqlite3_stmt *st = NULL;
	ts_buf summary = TS_BUF_INIT;
	char *jurisdiction = NULL, *received_at = NULL, *received_by = NULL;
	int error = 0;

	if (!id || !*id)
		return ts_error_set(TS_EINVALID, "name the urgent report");
	if (sqlite3_prepare_v2(node->db, "SELECT jurisdiction, received_at, received_by FROM urgent_reports "
			"WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(node->db, "reading the urgent report");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		error = ts_error_set(TS_ENOTFOUND, "no urgent report %s here", id);
	else {
		const char *j = (const char *)sqlite3_column_text(st, 0);
		const char *at = (const char *)sqlite3_column_text(st, 1);
		const char *by = (const char *)sqlite3_column_text(st, 2);
		if (!(jurisdiction = strdup(j ? j : "")) || (at && !(received_at = strdup(at))) ||
		    (by && !(received_by = strdup(by))))
			error = ts_error_set(TS_ERROR, "out of memory");
	}
	sqlite3_finalize(st);
	if (error < 0)
		goto done;
	if (!strcmp(node->id, jurisdiction) || !strcmp(node->scope, jurisdiction) ||
	    !ts_jurisdiction_covers(node->id, jurisdiction)) {
		error = ts_error_set(TS_EDENIED, "urgent report %s is of %s; only a node above it takes it in, "
			"and %s is not", id, jurisdiction, node->id);
		goto done;
	}
	if (received_at) {
		error = ts_error_set(TS_EINVALID, "urgent report %s was received already, at %s by %s", id,
			received_at, received_by ? received_by : "?");
		goto done;
	}
	memset(&op, 0, sizeof(op));
	op.node = node;
	op.author = author ? author : node->identity;
	op.report_id = id;
	if (!op.author || !*op.author) {
		error = ts_error_set(TS_EINVALID, "receiving an urgent report needs the real name of who takes it in");
		goto done;
	}
	ts_buf__printf(&summary, "receive urgent report %s of %s", id, jurisdiction);
	error = ts_buf__oom(&summary) ? TS_ERROR : ts_node_write(node, op.author, summary.ptr, do_receive, &op);
done:
	free(jurisdiction);
	free(received_at);
	free(received_by);
	ts_buf__dispose(&summary);
	return error;
}

/* The reports of node ?1's jurisdiction; ?2: 1 pending only, 2 received only. */
#define REPORTS_SQL \
	"SELECT id, jurisdiction, case_id, subject, detail, occurred_at, reported_at, reporter, node, " \
	"  received_at, received_by FROM urgent_reports " \
	"WHERE (jurisdiction = ?1 OR substr(jurisdiction, 1, length(?1) + 1) = ?1 || '.') " \
	"  AND (?2 = 0 OR (?2 = 1 AND received_at IS NULL) OR (?2 = 2 AND received_at IS NOT NULL)) " \
	"ORDER BY reported_at, id"

int ts_urgent_list(ts_node *node, const ts_urgent_filter *filter,
	int (*cb)(const ts_urgent_info *report, void *payload), void *payload)
{
	sqlite3_stmt *st = NULL;
	int rc, error = 0;

	if (filter && filter->version != TS_URGENT_FILTER_VERSION)
		return ts_error_set(TS_EINVALID, "unknown urgent report filter version %u (this library knows %d)",
			filter->version, TS_URGENT_FILTER_VERSION);
	if (filter && filter->pending_only && filter->received_only)
		return ts_error_set(TS_EINVALID, "a report is either pending or received: list one of them, or both");
	if (!cb)
		return ts_error_set(TS_EINVALID, "listing urgent reports needs a callback");
	if (sqlite3_prepare_v2(node->db, REPORTS_SQL, -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(node->db, "reading the urgent reports");
	sqlite3_bind_text(st, 1, node->scope, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, filter && filter->pending_only ? 1 : filter && filter->received_only ? 2 : 0);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ts_urgent_info r;
#define TEXT(i) ((const char *)sqlite3_column_text(st, i))
		r.id = TEXT(0);
		r.jurisdiction = TEXT(1);
		r.case_id = TEXT(2);
		r.subject = TEXT(3);
		r.detail = TEXT(4);
		r.occurred_at = TEXT(5);
		r.reported_at = TEXT(6);
		r.reporter = TEXT(7);
		r.node = TEXT(8);
		r.received_at = TEXT(9);
		r.received_by = TEXT(10);
#undef TEXT
		if ((error = cb(&r, payload)) != 0)
			goto done;
	}
	if (rc != SQLITE_DONE)
		error = ts_tiers__db_error(node->db, "reading the urgent reports");
done:
	sqlite3_finalize(st);
	return error;
}
