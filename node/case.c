/*
 * Cases: intake and edits through the node, so that each is captured,
 * staged and later committed with the officer's real name, and each is
 * also an append-only case event. The steps after intake are in
 * node/lifecycle.c.
 *
 * At intake a case gets its jurisdiction (the street of a device, else the
 * recording node) and its deadline (reported_at plus the deadline_days rule
 * of its category in that jurisdiction, else categories.deadline_days).
 *
 * The reads (ts_case_list, ts_case_get, ts_case_events) are at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "lifecycle.h"
#include "node.h"
#include "statements.h"
#include "tiers.h"

/* Columns no command may set: the key, and where the case came from. */
static int column_protected(const char *col)
{
	return !strcmp(col, "id") || !strcmp(col, "created_by_node");
}

/* The declared type of a column of `table` in capitals, or NULL if there
 * is no column of exactly that name (SQL would take "ID" for "id": every
 * rule about a column names it as the table does). */
static char *column_type(sqlite3 *db, const char *table, const char *col)
{
	sqlite3_stmt *st = NULL;
	char *type = NULL;

	if (ts_statements__prepare(db, "SELECT upper(type) FROM pragma_table_info(?1) WHERE name = ?2", &st) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, col, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			type = strdup((const char *)sqlite3_column_text(st, 0));
	}
	ts_statements__done(st);
	return type;
}

/* Binds a textual value converted to the column's declared type. */
static int bind_typed(sqlite3_stmt *st, int idx, const char *type, const char *col, const char *value)
{
	char *end;

	if (!value)
		return sqlite3_bind_null(st, idx) == SQLITE_OK ? 0 : TS_ERROR;
	if (!strcmp(type, "INTEGER")) {
		long long v = strtoll(value, &end, 10);
		if (!*value || *end)
			return ts_error_set(TS_EINVALID, "%s takes an integer, not '%s'", col, value);
		sqlite3_bind_int64(st, idx, v);
	} else if (!strcmp(type, "REAL")) {
		double v = strtod(value, &end);
		if (!*value || *end)
			return ts_error_set(TS_EINVALID, "%s takes a number, not '%s'", col, value);
		sqlite3_bind_double(st, idx, v);
	} else
		sqlite3_bind_text(st, idx, value, -1, SQLITE_TRANSIENT);
	return 0;
}

/* Turns a constraint failure into a message about the value given. */
static int write_error(sqlite3 *db, const char *what)
{
	if ((sqlite3_extended_errcode(db) & 0xff) == SQLITE_CONSTRAINT)
		return ts_sqlite__error(db, "%s refused", what);
	return ts_sqlite__error(db, "%s", what);
}

static int lookup_code(sqlite3 *db, const char *table, const char *code)
{
	sqlite3_stmt *st = NULL;
	char sql[96];
	int found = 0;

	snprintf(sql, sizeof(sql), "SELECT 1 FROM %s WHERE code = ?1", table);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
		found = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return found;
}

static int unknown_code(sqlite3 *db, const char *table, const char *what, const char *code)
{
	sqlite3_stmt *st = NULL;
	char sql[96];
	ts_buf list = TS_BUF_INIT;

	snprintf(sql, sizeof(sql), "SELECT code FROM %s ORDER BY code", table);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK)
		while (sqlite3_step(st) == SQLITE_ROW)
			ts_buf__printf(&list, "%s%s", list.size ? ", " : "", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	ts_error_set(TS_EINVALID, "unknown %s '%s' (one of: %s)", what, code, ts_buf__cstr(&list));
	ts_buf__dispose(&list);
	return TS_EINVALID;
}

/* Checks every assignment before anything is written. */
static int check_fields(sqlite3 *db, const ts_field *f, size_t n)
{
	size_t i, j;
	for (i = 0; i < n; i++) {
		char *type;
		if (!f[i].column || !*f[i].column)
			return ts_error_set(TS_EINVALID, "an assignment names no column");
		if (column_protected(f[i].column))
			return ts_error_set(TS_EDENIED, "cases.%s cannot be changed", f[i].column);
		if (!(type = column_type(db, "cases", f[i].column)))
			return ts_error_set(TS_EINVALID, "unknown column '%s' of cases", f[i].column);
		free(type);
		for (j = 0; j < i; j++)
			if (!strcmp(f[i].column, f[j].column))
				return ts_error_set(TS_EINVALID, "column '%s' is set twice", f[i].column);
	}
	return 0;
}

/* A new case starts its lifecycle at the beginning: a column the steps
 * set may not be given a value at intake. */
static int check_intake_fields(const ts_field *f, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (f[i].value && ts_case_column_step(f[i].column))
			return ts_error_set(TS_EDENIED, "cases.%s is not given at intake: %s", f[i].column,
				!strcmp(ts_case_column_step(f[i].column), "new") ?
				"the node sets it (category and source from those the case opens with)" :
				"a later step of the case sets it");
	return 0;
}

typedef struct {
	ts_node *node;
	const char *author;
	const char *category, *source, *address;
	const ts_field *fields;
	size_t n;
	const char *case_id;   /* update: the case */
	char *new_id;          /* new: the minted id */
} case_op;

static int set_columns(case_op *op, const char *id)
{
	sqlite3 *db = op->node->db;
	sqlite3_stmt *st = NULL;
	ts_buf sql = TS_BUF_INIT;
	size_t i;
	int error = 0;

	if (op->n == 0)
		return 0;
	ts_buf__puts(&sql, "UPDATE cases SET ");
	for (i = 0; i < op->n; i++)
		ts_buf__printf(&sql, "%s\"%s\" = ?%zu", i ? ", " : "", op->fields[i].column, i + 1);
	ts_buf__printf(&sql, " WHERE id = ?%zu", op->n + 1);
	if (ts_buf__oom(&sql) || ts_statements__prepare(db, sql.ptr, &st) != SQLITE_OK) {
		error = write_error(db, "updating the case");
		goto done;
	}
	for (i = 0; i < op->n; i++) {
		char *type = column_type(db, "cases", op->fields[i].column);
		error = bind_typed(st, (int)i + 1, type ? type : "", op->fields[i].column, op->fields[i].value);
		free(type);
		if (error < 0)
			goto done;
	}
	sqlite3_bind_text(st, (int)op->n + 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = write_error(db, "updating the case");
done:
	ts_statements__done(st);
	ts_buf__dispose(&sql);
	return error;
}

/* A key area given to a case must be listed, and cover the case's place. */
static int check_key_area(case_op *op, const char *jurisdiction)
{
	size_t i;
	int fits;

	for (i = 0; i < op->n; i++)
		if (!strcmp(op->fields[i].column, "key_area_id") && op->fields[i].value &&
		    (fits = ts_area_fits_case(op->node, op->fields[i].value, jurisdiction)) <= 0)
			return fits < 0 ? fits : TS_EINVALID;
	return 0;
}

/* The value given to `column` among the fields, or NULL. */
static const char *field_value(const case_op *op, const char *column)
{
	size_t i;
	for (i = 0; i < op->n; i++)
		if (!strcmp(op->fields[i].column, column))
			return op->fields[i].value;
	return NULL;
}

static int do_new(sqlite3 *db, void *payload)
{
	case_op *op = payload;
	sqlite3_stmt *st = NULL;
	ts_buf detail = TS_BUF_INIT;
	char now[32], *jurisdiction = NULL;
	const char *patrol = NULL;
	int64_t days = 0;
	int error;

	ts_time_format(now, ts_node__now());
	if (!(jurisdiction = ts_case_jurisdiction(op->node)))
		return ts_error_set(TS_ERROR, "out of memory");
	if ((error = ts_case_rule_value(&days, op->node, jurisdiction, "deadline_days", op->category)) < 0 ||
	    (error = ts_node_mint_id(&op->new_id, op->node, "c")) < 0)
		goto done;
	if (sqlite3_prepare_v2(db,
			"INSERT INTO cases (id, source, category, address, jurisdiction, status, reported_at, "
			"  deadline, created_by_node) "
			"VALUES (?1, ?2, ?3, ?4, ?5, 'discovered', ?6, "
			"  strftime('%Y-%m-%dT%H:%M:%S+08:00', substr(?6, 1, 19), '+' || ?7 || ' days'), ?8)",
			-1, &st, NULL) != SQLITE_OK) {
		error = write_error(db, "recording the case");
		goto done;
	}
	sqlite3_bind_text(st, 1, op->new_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op->category, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, op->address, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, jurisdiction, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, now, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, days);
	sqlite3_bind_text(st, 8, op->node->id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(db) != 1) {
		error = write_error(db, "recording the case");
		goto done;
	}
	/* a case reported inside a major event's period and place belongs to it */
	if ((error = check_key_area(op, jurisdiction)) < 0 ||
	    (error = set_columns(op, op->new_id)) < 0 ||
	    (error = ts_event_mark_case(NULL, op->node, op->new_id)) < 0)
		goto done;
	/* a case found on a patrol is counted there, and its intake names it */
	if ((patrol = field_value(op, "patrol_id"))) {
		if ((error = ts_patrols__case_found(op->node, patrol, jurisdiction, op->source, now)) < 0)
			goto done;
		ts_buf__printf(&detail, "%s, found on patrol %s", op->source, patrol);
	}
	error = ts_case__event(op->node, op->new_id, "intake", op->author, patrol ? ts_buf__cstr(&detail) :
		op->source, now);
done:
	sqlite3_finalize(st);
	ts_buf__dispose(&detail);
	free(jurisdiction);
	return error;
}

int ts_case_new(char **id_out, ts_node *node, const char *author, const char *category,
	const char *source, const char *address, const ts_field *extra, size_t nextra)
{
	case_op op;
	ts_buf summary = TS_BUF_INIT;
	int error;

	*id_out = NULL;
	memset(&op, 0, sizeof(op));
	if (!category || !source || !address || !*address)
		return ts_error_set(TS_EINVALID, "a new case needs its category, source and address");
	if (!lookup_code(node->db, "categories", category))
		return unknown_code(node->db, "categories", "category", category);
	if (!lookup_code(node->db, "sources", source))
		return unknown_code(node->db, "sources", "source", source);
	if ((error = check_fields(node->db, extra, nextra)) < 0 ||
	    (error = check_intake_fields(extra, nextra)) < 0)
		return error;
	op.node = node;
	op.author = author ? author : node->identity;
	op.category = category;
	op.source = source;
	op.address = address;
	op.fields = extra;
	op.n = nextra;
	ts_buf__printf(&summary, "new %s case (%s) at %s", category, source, address);
	error = ts_node_write(node, op.author, summary.ptr, do_new, &op);
	ts_buf__dispose(&summary);
	if (error < 0) {
		free(op.new_id);
		return error;
	}
	*id_out = op.new_id;
	return 0;
}

/* The event an update amounts to: a status step, a three-step stage, or a note. */
static const char *event_kind(const ts_field *f, size_t n)
{
	static const struct { const char *status, *kind; } steps[] = {
		{ "dispatched", "dispatch" }, { "handling", "note" }, { "feedback", "feedback" },
		{ "closed", "close" }, { "transferred", "transfer" }, { "discovered", "reopen" },
	};
	size_t i, k;
	for (i = 0; i < n; i++) {
		if (!strcmp(f[i].column, "status") && f[i].value)
			for (k = 0; k < sizeof(steps) / sizeof(steps[0]); k++)
				if (!strcmp(f[i].value, steps[k].status))
					return steps[k].kind;
		if (!strcmp(f[i].column, "stage") && f[i].value &&
		    (!strcmp(f[i].value, "educate") || !strcmp(f[i].value, "warn") || !strcmp(f[i].value, "penalize")))
			return f[i].value;
	}
	return "note";
}

static int do_update(sqlite3 *db, void *payload)
{
	case_op *op = payload;
	sqlite3_stmt *st = NULL;
	ts_buf detail = TS_BUF_INIT;
	char now[32];
	size_t i;
	int error;

	if (ts_statements__prepare(db, "SELECT status, jurisdiction FROM cases WHERE id = ?1", &st) != SQLITE_OK)
		return write_error(db, "reading the case");
	sqlite3_bind_text(st, 1, op->case_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		ts_statements__done(st);
		return ts_error_set(TS_ENOTFOUND, "no case %s", op->case_id);
	}
	if ((error = check_key_area(op, (const char *)sqlite3_column_text(st, 1))) < 0) {
		ts_statements__done(st);
		return error;
	}
	if (!strcmp((const char *)sqlite3_column_text(st, 0), "closed")) {
		ts_statements__done(st);
		return ts_error_set(TS_EDENIED, "case %s is closed; a closed case cannot be edited", op->case_id);
	}
	if (!strcmp((const char *)sqlite3_column_text(st, 0), "transferred")) {
		ts_statements__done(st);
		return ts_error_set(TS_EDENIED, "case %s was transferred to another department; it cannot "
			"be edited here", op->case_id);
	}
	ts_statements__done(st);
	if ((error = set_columns(op, op->case_id)) < 0)
		return error;
	for (i = 0; i < op->n; i++)
		ts_buf__printf(&detail, "%s%s=%s", i ? ", " : "", op->fields[i].column,
			op->fields[i].value ? op->fields[i].value : "NULL");
	ts_time_format(now, ts_node__now());
	error = ts_case__event(op->node, op->case_id, event_kind(op->fields, op->n), op->author, detail.ptr, now);
	ts_buf__dispose(&detail);
	return error;
}

static int update(ts_node *node, const char *author, const char *case_id,
	const ts_field *sets, size_t nsets, int lifecycle_allowed)
{
	case_op op;
	ts_buf summary = TS_BUF_INIT;
	size_t i;
	int error;

	if (nsets == 0)
		return ts_error_set(TS_EINVALID, "nothing to change: name a column and its new value");
	if ((error = check_fields(node->db, sets, nsets)) < 0)
		return error;
	for (i = 0; !lifecycle_allowed && i < nsets; i++) {
		const char *step = ts_case_column_step(sets[i].column);
		if (!strcmp(sets[i].column, "patrol_id"))
			return ts_error_set(TS_EDENIED, "cases.patrol_id is set at intake, when a case found on a "
				"patrol is recorded, and does not change");
		if (step && !strcmp(step, "new"))
			return ts_error_set(TS_EDENIED, "cases.%s is set at intake and does not change", sets[i].column);
		if (step)
			return ts_error_set(TS_EDENIED, "cases.%s belongs to the case's lifecycle: it changes "
				"only through the %s step", sets[i].column, step);
	}
	memset(&op, 0, sizeof(op));
	op.node = node;
	op.author = author ? author : node->identity;
	op.case_id = case_id;
	op.fields = sets;
	op.n = nsets;
	ts_buf__printf(&summary, "update %s:", case_id);
	for (i = 0; i < nsets; i++)
		ts_buf__printf(&summary, " %s=%s", sets[i].column, sets[i].value ? sets[i].value : "NULL");
	error = ts_node_write(node, op.author, summary.ptr, do_update, &op);
	ts_buf__dispose(&summary);
	return error;
}

int ts_case_update(ts_node *node, const char *author, const char *case_id,
	const ts_field *sets, size_t nsets)
{
	return update(node, author, case_id, sets, nsets, 1);
}

int ts_case_edit(ts_node *node, const char *author, const char *case_id, const ts_field *sets,
	size_t nsets)
{
	return update(node, author, case_id, sets, nsets, 0);
}

/* --- reading cases --------------------------------------------------------- */

/* Every column of `cases` in the table's order (ts_case_info's), then
 * whether the case is overdue: open, and its deadline before :now, then
 * the columns added after it was made (first_officer). Times
 * are one fixed text form, so text order is time order. */
#define CASE_COLUMNS \
	"id, source, category, address, lng, lat, jurisdiction, description, status, officer, " \
	"reported_at, deadline, stage, filed_at, legal_basis, penalty_amount, decided_at, major, " \
	"review_status, reviewer, reviewed_at, filed_up_at, executed_at, transfer_to, transferred_at, " \
	"complainant_name, complainant_phone, visited_at, satisfaction, key_area_id, event_id, " \
	"created_by_node, closed_at, patrol_id, " \
	"status NOT IN ('closed', 'transferred') AND deadline < :now, first_officer"

static const char *text_at(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

/* Fills *c from a row of CASE_COLUMNS; its strings live as long as the row. */
static void case_from_row(ts_case_info *c, sqlite3_stmt *st)
{
	memset(c, 0, sizeof(*c));
	c->id = text_at(st, 0);
	c->source = text_at(st, 1);
	c->category = text_at(st, 2);
	c->address = text_at(st, 3);
	if ((c->has_lng = sqlite3_column_type(st, 4) != SQLITE_NULL))
		c->lng = sqlite3_column_double(st, 4);
	if ((c->has_lat = sqlite3_column_type(st, 5) != SQLITE_NULL))
		c->lat = sqlite3_column_double(st, 5);
	c->jurisdiction = text_at(st, 6);
	c->description = text_at(st, 7);
	c->status = text_at(st, 8);
	c->officer = text_at(st, 9);
	c->reported_at = text_at(st, 10);
	c->deadline = text_at(st, 11);
	c->stage = text_at(st, 12);
	c->filed_at = text_at(st, 13);
	c->legal_basis = text_at(st, 14);
	c->penalty_amount = sqlite3_column_type(st, 15) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 15);
	c->decided_at = text_at(st, 16);
	c->major = sqlite3_column_int(st, 17);
	c->review_status = text_at(st, 18);
	c->reviewer = text_at(st, 19);
	c->reviewed_at = text_at(st, 20);
	c->filed_up_at = text_at(st, 21);
	c->executed_at = text_at(st, 22);
	c->transfer_to = text_at(st, 23);
	c->transferred_at = text_at(st, 24);
	c->complainant_name = text_at(st, 25);
	c->complainant_phone = text_at(st, 26);
	c->visited_at = text_at(st, 27);
	c->satisfaction = text_at(st, 28);
	c->key_area_id = text_at(st, 29);
	c->event_id = text_at(st, 30);
	c->created_by_node = text_at(st, 31);
	c->closed_at = text_at(st, 32);
	c->patrol_id = text_at(st, 33);
	c->overdue = sqlite3_column_int(st, 34);
	c->first_officer = text_at(st, 35);
}

/* Prepares `sql` (CASE_COLUMNS and more) with :now bound to the node's clock. */
static int prepare_cases(sqlite3_stmt **st, ts_node *node, const char *sql, const char *what)
{
	char now[32];

	if (sqlite3_prepare_v2(node->db, sql, -1, st, NULL) != SQLITE_OK)
		return ts_sqlite__error(node->db, "%s", what);
	ts_time_format(now, ts_node__now());
	sqlite3_bind_text(*st, sqlite3_bind_parameter_index(*st, ":now"), now, -1, SQLITE_TRANSIENT);
	return 0;
}

int ts_case_list(ts_node *node, const ts_case_filter *filter,
	int (*cb)(const ts_case_info *c, void *payload), void *payload)
{
	sqlite3_stmt *st = NULL;
	ts_case_info c;
	int rc, error;

	if (filter && (error = ts_error__version(filter->version, TS_CASE_FILTER_VERSION, "case filter")) < 0)
		return error;
	if (!cb)
		return ts_error_set(TS_EINVALID, "listing cases needs a callback");
	if ((error = prepare_cases(&st, node, "SELECT " CASE_COLUMNS " FROM cases "
			"WHERE (:status IS NULL OR status = :status) "
			"AND (NOT :overdue OR (status NOT IN ('closed', 'transferred') AND deadline < :now)) "
			"ORDER BY reported_at, id", "reading the cases")) < 0)
		return error;
	sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":status"), filter ? filter->status : NULL, -1,
		SQLITE_STATIC);
	sqlite3_bind_int(st, sqlite3_bind_parameter_index(st, ":overdue"), filter && filter->overdue_only);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		case_from_row(&c, st);
		if ((error = cb(&c, payload)) != 0)
			goto done;
	}
	if (rc != SQLITE_DONE)
		error = ts_sqlite__error(node->db, "reading the cases");
done:
	sqlite3_finalize(st);
	return error;
}

int ts_case_get(ts_node *node, const char *case_id,
	int (*cb)(const ts_case_info *c, void *payload), void *payload)
{
	sqlite3_stmt *st = NULL;
	ts_case_info c;
	int rc, error;

	if (!case_id || !cb)
		return ts_error_set(TS_EINVALID, "reading a case needs its id and a callback");
	if ((error = prepare_cases(&st, node, "SELECT " CASE_COLUMNS " FROM cases WHERE id = :id",
			"reading the case")) < 0)
		return error;
	sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":id"), case_id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		case_from_row(&c, st);
		error = cb(&c, payload);
	} else if (rc == SQLITE_DONE)
		error = ts_error_set(TS_ENOTFOUND, "no case %s", case_id);
	else
		error = ts_sqlite__error(node->db, "reading case %s", case_id);
	sqlite3_finalize(st);
	return error;
}

/* 1 when `db` holds case `id`, 0 when not, < 0 on failure. */
static int case_exists(sqlite3 *db, const char *id)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM cases WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return ts_sqlite__error(db, "reading case %s", id);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : ts_sqlite__error(db, "reading case %s", id);
}

int ts_case_events(ts_node *node, const char *case_id,
	int (*cb)(const ts_case_event_info *event, void *payload), void *payload)
{
	sqlite3_stmt *st = NULL;
	ts_case_event_info e;
	int rc, error = 0;

	if (!case_id || !cb)
		return ts_error_set(TS_EINVALID, "reading a case's events needs its id and a callback");
	if ((error = case_exists(node->db, case_id)) <= 0)
		return error < 0 ? error : ts_error_set(TS_ENOTFOUND, "no case %s", case_id);
	if (sqlite3_prepare_v2(node->db, "SELECT id, case_id, at, kind, officer, node, detail FROM case_events "
			"WHERE case_id = ?1 ORDER BY at, id", -1, &st, NULL) != SQLITE_OK)
		return ts_sqlite__error(node->db, "reading the events of case %s", case_id);
	sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		e.id = text_at(st, 0);
		e.case_id = text_at(st, 1);
		e.at = text_at(st, 2);
		e.kind = text_at(st, 3);
		e.officer = text_at(st, 4);
		e.node = text_at(st, 5);
		e.detail = text_at(st, 6);
		if ((error = cb(&e, payload)) != 0)
			goto done;
	}
	if (rc != SQLITE_DONE)
		error = ts_sqlite__error(node->db, "reading the events of case %s", case_id);
done:
	sqlite3_finalize(st);
	return error;
}
