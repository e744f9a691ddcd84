/*
 * Patrols (巡查, 人盯车巡): who patrolled which area or route of a
 * jurisdiction, from when to when, the route taken, what was seen, and how
 * many problems were found. A patrol is started, then ended once; the cases
 * found on it are recorded by case intake with the patrol's id
 * (cases.patrol_id, schema/0009_patrol_cases.sql), which counts each in the
 * patrol's `found` in the same write (ts_patrols__case_found).
 *
 * A patrol belongs to the jurisdiction of the node that starts it (a
 * device's street, else the node's id); the nodes whose jurisdiction covers
 * it may end it and record cases on it, as the ownership rules let them
 * write the row. The reads are at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "tiers.h"

/* The separator of officers' names in patrols.officers (schema/0001). */
#define NAME_SEPARATOR "、"

int ts_patrols__time_given(char out[32], const char *text, const char *what)
{
	char now[32];
	int error;

	ts_time_now(now);
	if (!text) {
		memcpy(out, now, 32);
		return 0;
	}
	if ((error = ts_time_parse(out, text, 0, what)) < 0)
		return error;
	if (strcmp(out, now) > 0)
		return ts_error_set(TS_EINVALID, "%s: %s lies in the future (it is %s now)", what, out, now);
	return 0;
}

/* A patrol as read before a write. */
typedef struct {
	char *jurisdiction, *started_at, *ended_at;
} patrol_row;

static void patrol_row_clear(patrol_row *r)
{
	free(r->jurisdiction);
	free(r->started_at);
	free(r->ended_at);
	memset(r, 0, sizeof(*r));
}

static char *dup_column(sqlite3_stmt *st, int c)
{
	const char *t = (const char *)sqlite3_column_text(st, c);
	return t ? strdup(t) : NULL;
}

static int patrol_read(patrol_row *out, sqlite3 *db, const char *id)
{
	sqlite3_stmt *st = NULL;
	int error = 0;

	memset(out, 0, sizeof(*out));
	if (!id || !*id)
		return ts_error_set(TS_EINVALID, "name the patrol");
	if (sqlite3_prepare_v2(db, "SELECT jurisdiction, started_at, ended_at FROM patrols WHERE id = ?1",
			-1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(db, "reading the patrol");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		error = ts_error_set(TS_ENOTFOUND, "no patrol %s", id);
	else if (!(out->jurisdiction = dup_column(st, 0)) || !(out->started_at = dup_column(st, 1)))
		error = ts_error_set(TS_ERROR, "out of memory");
	else
		out->ended_at = dup_column(st, 2);
	sqlite3_finalize(st);
	if (error < 0)
		patrol_row_clear(out);
	return error;
}

/* Refuses a patrol outside this node's jurisdiction (a device's: its street's). */
static int patrol_in_reach(ts_node *node, const char *patrol_id, const char *jurisdiction, const char *what)
{
	if (ts_jurisdiction_covers(node->scope, jurisdiction))
		return 0;
	return ts_error_set(TS_EDENIED, "patrol %s is of %s; %s may %s only patrols of %s", patrol_id,
		jurisdiction, node->id, what, node->scope);
}

typedef struct {
	ts_node *node;
	ts_buf officers;
	const char *area, *key_area_id, *patrol_id, *route, *notes;
	char started[32], ended[32];
	char *new_id;
} patrol_op;

static int do_start(sqlite3 *db, void *payload)
{
	patrol_op *op = payload;
	sqlite3_stmt *st = NULL;
	int error;

	if ((error = ts_node_mint_id(&op->new_id, op->node, "r")) < 0)
		return error;
	if (sqlite3_prepare_v2(db, "INSERT INTO patrols (id, officers, jurisdiction, area, key_area_id, started_at) "
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(db, "starting the patrol");
	sqlite3_bind_text(st, 1, op->new_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->officers.ptr, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op->node->scope, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, op->area, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, op->key_area_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, op->started, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_tiers__db_error(db, "starting the patrol");
	sqlite3_finalize(st);
	return error;
}

/* The officers' names joined as the schema keeps them; each once, none
 * empty, none holding the separator. */
static int join_officers(ts_buf *out, const ts_patrol_options *opts, const char *author)
{
	const char *const *names = opts->nofficers ? opts->officers : &author;
	size_t n = opts->nofficers ? opts->nofficers : 1, i, j;

	if (!opts->nofficers && (!author || !*author))
		return ts_error_set(TS_EINVALID, "a patrol needs the real names of its officers");
	for (i = 0; i < n; i++) {
		if (!names[i] || !*names[i])
			return ts_error_set(TS_EINVALID, "an officer of the patrol has an empty name");
		if (strstr(names[i], NAME_SEPARATOR))
			return ts_error_set(TS_EINVALID, "'%s' is more than one name: give each officer "
				"on their own", names[i]);
		for (j = 0; j < i; j++)
			if (!strcmp(names[i], names[j]))
				return ts_error_set(TS_EINVALID, "officer %s is named twice", names[i]);
		ts_buf__printf(out, "%s%s", i ? NAME_SEPARATOR : "", names[i]);
	}
	return ts_buf__oom(out) ? ts_error_set(TS_ERROR, "out of memory") : 0;
}

int ts_patrol_start(char **id_out, ts_node *node, const char *author, const ts_patrol_options *opts)
{
	patrol_op op;
	ts_buf summary = TS_BUF_INIT;
	int error, fits;

	*id_out = NULL;
	memset(&op, 0, sizeof(op));
	op.officers = (ts_buf)TS_BUF_INIT;
	if (!author)
		author = node->identity;
	if (!opts || !opts->area || !*opts->area)
		return ts_error_set(TS_EINVALID, "a patrol needs the name of its area or route");
	if ((error = join_officers(&op.officers, opts, author)) < 0)
		goto done;
	if ((error = ts_patrols__time_given(op.started, opts->started, "start")) < 0)
		goto done;
	if (opts->key_area_id && (fits = ts_area_fits_case(node, opts->key_area_id, node->scope)) <= 0) {
		error = fits < 0 ? fits : ts_error_last_code();
		goto done;
	}
	op.node = node;
	op.area = opts->area;
	op.key_area_id = opts->key_area_id;
	ts_buf__printf(&summary, "patrol %s by %s", opts->area, op.officers.ptr);
	error = ts_node_write(node, author, summary.ptr, do_start, &op);
	if (error == 0) {
		*id_out = op.new_id;
		op.new_id = NULL;
	}
done:
	free(op.new_id);
	ts_buf__dispose(&op.officers);
	ts_buf__dispose(&summary);
	return error;
}

static int do_end(sqlite3 *db, void *payload)
{
	patrol_op *op = payload;
	sqlite3_stmt *st = NULL;
	int error = 0;

	if (sqlite3_prepare_v2(db, "UPDATE patrols SET ended_at = ?2, route = ?3, notes = ?4 "
			"WHERE id = ?1 AND ended_at IS NULL", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(db, "ending the patrol");
	sqlite3_bind_text(st, 1, op->patrol_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->ended, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op->route, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, op->notes, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_tiers__db_error(db, "ending the patrol");
	sqlite3_finalize(st);
	return error;
}

int ts_patrol_end(ts_node *node, const char *author, const char *patrol_id, const char *ended,
	const char *route, const char *notes)
{
	patrol_op op;
	patrol_row patrol;
	ts_buf summary = TS_BUF_INIT;
	int error;

	memset(&op, 0, sizeof(op));
	if ((error = patrol_read(&patrol, node->db, patrol_id)) < 0)
		return error;
	if ((error = patrol_in_reach(node, patrol_id, patrol.jurisdiction, "end")) < 0)
		goto done;
	if (patrol.ended_at) {
		error = ts_error_set(TS_EINVALID, "patrol %s already ended at %s", patrol_id, patrol.ended_at);
		goto done;
	}
	if ((error = ts_patrols__time_given(op.ended, ended, "end")) < 0)
		goto done;
	if (strcmp(op.ended, patrol.started_at) < 0) {
		error = ts_error_set(TS_EINVALID, "patrol %s started at %s; it cannot end before, at %s", patrol_id,
			patrol.started_at, op.ended);
		goto done;
	}
	op.node = node;
	op.patrol_id = patrol_id;
	op.route = route && *route ? route : NULL;
	op.notes = notes && *notes ? notes : NULL;
	ts_buf__printf(&summary, "end patrol %s", patrol_id);
	error = ts_node_write(node, author, summary.ptr, do_end, &op);
done:
	patrol_row_clear(&patrol);
	ts_buf__dispose(&summary);
	return error;
}

int ts_patrols__case_found(ts_node *node, const char *patrol_id, const char *jurisdiction,
	const char *source, const char *reported_at)
{
	sqlite3_stmt *st = NULL;
	patrol_row patrol;
	int error;

	if (!source || strcmp(source, "patrol"))
		return ts_error_set(TS_EINVALID, "a case found on a patrol has the source 'patrol' (巡查发现), "
			"not '%s'", source ? source : "");
	if ((error = patrol_read(&patrol, node->db, patrol_id)) < 0)
		return error;
	if ((error = patrol_in_reach(node, patrol_id, patrol.jurisdiction, "record cases on")) < 0)
		goto done;
	if (!ts_jurisdiction_covers(patrol.jurisdiction, jurisdiction)) {
		error = ts_error_set(TS_EINVALID, "patrol %s went through %s; a case of %s was not found on it",
			patrol_id, patrol.jurisdiction, jurisdiction);
		goto done;
	}
	if (strcmp(reported_at, patrol.started_at) < 0) {
		error = ts_error_set(TS_EINVALID, "patrol %s starts at %s, after the case's report (%s)", patrol_id,
			patrol.started_at, reported_at);
		goto done;
	}
	if (sqlite3_prepare_v2(node->db, "UPDATE patrols SET found = found + 1 WHERE id = ?1", -1, &st,
			NULL) != SQLITE_OK) {
		error = ts_tiers__db_error(node->db, "counting the case on its patrol");
		goto done;
	}
	sqlite3_bind_text(st, 1, patrol_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_tiers__db_error(node->db, "counting the case on its patrol");
done:
	sqlite3_finalize(st);
	patrol_row_clear(&patrol);
	return error;
}

/* --- reading patrols ------------------------------------------------------- */

#define PATROL_COLUMNS \
	"p.id, p.officers, p.jurisdiction, p.area, p.key_area_id, p.started_at, p.ended_at, p.route, " \
	"p.notes, p.found, (SELECT count(*) FROM cases c WHERE c.patrol_id = p.id)"

static void patrol_from_row(ts_patrol_info *p, sqlite3_stmt *st)
{
	p->id = (const char *)sqlite3_column_text(st, 0);
	p->officers = (const char *)sqlite3_column_text(st, 1);
	p->jurisdiction = (const char *)sqlite3_column_text(st, 2);
	p->area = (const char *)sqlite3_column_text(st, 3);
	p->key_area_id = (const char *)sqlite3_column_text(st, 4);
	p->started_at = (const char *)sqlite3_column_text(st, 5);
	p->ended_at = (const char *)sqlite3_column_text(st, 6);
	p->route = (const char *)sqlite3_column_text(st, 7);
	p->notes = (const char *)sqlite3_column_text(st, 8);
	p->found = sqlite3_column_int64(st, 9);
	p->cases = sqlite3_column_int64(st, 10);
}

int ts_patrol_list(ts_node *node, const ts_patrol_filter *filter,
	int (*cb)(const ts_patrol_info *patrol, void *payload), void *payload)
{
	sqlite3_stmt *st = NULL;
	const char *scope;
	char from[32], to[32];
	int rc, error = 0;

	if (filter && filter->version != TS_PATROL_FILTER_VERSION)
		return ts_error_set(TS_EINVALID, "unknown patrol filter version %u (this library knows %d)",
			filter->version, TS_PATROL_FILTER_VERSION);
	if (!cb)
		return ts_error_set(TS_EINVALID, "listing patrols needs a callback");
	if ((error = ts_tiers__list_range(&scope, from, to, node, filter ? filter->jurisdiction : NULL,
			filter ? filter->from : NULL, filter ? filter->to : NULL)) < 0)
		return error;
	if (sqlite3_prepare_v2(node->db, "SELECT " PATROL_COLUMNS " FROM patrols p "
			"WHERE (p.jurisdiction = ?1 OR substr(p.jurisdiction, 1, length(?1) + 1) = ?1 || '.') "
			"  AND (?2 = '' OR p.started_at >= ?2) AND (?3 = '' OR p.started_at <= ?3) "
			"  AND (?4 IS NULL OR p.key_area_id = ?4) AND (NOT ?5 OR p.ended_at IS NULL) "
			"ORDER BY p.started_at, p.id", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(node->db, "reading the patrols");
	sqlite3_bind_text(st, 1, scope, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, filter ? filter->key_area_id : NULL, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, filter && filter->under_way_only);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ts_patrol_info p;
		patrol_from_row(&p, st);
		if ((error = cb(&p, payload)) != 0)
			goto done;
	}
	if (rc != SQLITE_DONE)
		error = ts_tiers__db_error(node->db, "reading the patrols");
done:
	sqlite3_finalize(st);
	return error;
}

int ts_patrol_get(ts_node *node, const char *patrol_id,
	int (*cb)(const ts_patrol_info *patrol, void *payload), void *payload)
{
	sqlite3_stmt *st = NULL;
	ts_patrol_info p;
	int rc, error;

	if (!patrol_id || !cb)
		return ts_error_set(TS_EINVALID, "reading a patrol needs its id and a callback");
	if (sqlite3_prepare_v2(node->db, "SELECT " PATROL_COLUMNS " FROM patrols p WHERE p.id = ?1", -1, &st,
			NULL) != SQLITE_OK)
		return ts_tiers__db_error(node->db, "reading the patrol");
	sqlite3_bind_text(st, 1, patrol_id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		patrol_from_row(&p, st);
		error = cb(&p, payload);
	} else if (rc == SQLITE_DONE)
		error = ts_error_set(TS_ENOTFOUND, "no patrol %s", patrol_id);
	else
		error = ts_tiers__db_error(node->db, "reading the patrol");
	sqlite3_finalize(st);
	return error;
}

int ts_patrol_cases(ts_node *node, const char *patrol_id,
	int (*cb)(const ts_patrol_case *c, void *payload), void *payload)
{
	sqlite3_stmt *st = NULL;
	patrol_row patrol;
	int rc, error;

	if (!cb)
		return ts_error_set(TS_EINVALID, "listing a patrol's cases needs a callback");
	if ((error = patrol_read(&patrol, node->db, patrol_id)) < 0)
		return error;
	patrol_row_clear(&patrol);
	if (sqlite3_prepare_v2(node->db, "SELECT id, category, status, address, reported_at FROM cases "
			"WHERE patrol_id = ?1 ORDER BY reported_at, id", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(node->db, "reading the cases of the patrol");
	sqlite3_bind_text(st, 1, patrol_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ts_patrol_case c;
		c.id = (const char *)sqlite3_column_text(st, 0);
		c.category = (const char *)sqlite3_column_text(st, 1);
		c.status = (const char *)sqlite3_column_text(st, 2);
		c.address = (const char *)sqlite3_column_text(st, 3);
		c.reported_at = (const char *)sqlite3_column_text(st, 4);
		if ((error = cb(&c, payload)) != 0)
			goto done;
	}
	if (rc != SQLITE_DONE)
		error = ts_tiers__db_error(node->db, "reading the cases of the patrol");
done:
	sqlite3_finalize(st);
	return error;
}
