/*
 * Exposures (主动曝光): what the service itself made public in the media,
 * by which unit, in which outlet, when, and the case exposed if any
 * (schema/0012_plan_figures.sql). The report counts them beside the cases
 * the media found (docs/REPORT.md).
 *
 * An exposure belongs to the jurisdiction of the node that records it (a
 * device's street, else the node's id); the nodes whose jurisdiction
 * covers it may remove it when it was recorded in error. A case it names
 * must lie in that jurisdiction, and gets a 'note' event either way.
 */
#include <stdlib.h>
#include <string.h>

#include "lifecycle.h"
#include "node.h"
#include "tiers.h"

typedef struct {
	ts_node *node;
	const char *author, *id, *case_id;
	const ts_exposure_options *opts;
	char published[32];
	char *new_id;
} exposure_op;

static int has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* One line of text: no line breaks, not empty. */
static int one_line(const char *text, const char *what)
{
	if (!text || !*text)
		return ts_error_set(TS_EINVALID, "an exposure needs its %s", what);
	if (strpbrk(text, "\r\n"))
		return ts_error_set(TS_EINVALID, "the %s of an exposure is one line", what);
	return 0;
}

/* The case an exposure names: it exists and is this node's to work on. */
static int case_fits(ts_node *node, const char *case_id)
{
	char *jurisdiction = NULL;
	int found, error;

	found = ts_tiers__query_text(&jurisdiction, node->db, "SELECT jurisdiction FROM cases WHERE id = ?1",
		case_id, NULL);
	if (found < 0)
		return found;
	if (!found)
		return ts_error_set(TS_ENOTFOUND, "no case %s", case_id);
	error = ts_case__in_reach(node, case_id, jurisdiction);
	free(jurisdiction);
	return error;
}

static int case_note(exposure_op *op, const char *what)
{
	char now[32];

	if (!op->case_id)
		return 0;
	ts_time_now(now);
	return ts_case__event(op->node, op->case_id, "note", op->author, what, now);
}

static int do_add(sqlite3 *db, void *payload)
{
	exposure_op *op = payload;
	sqlite3_stmt *st = NULL;
	ts_buf note = TS_BUF_INIT;
	int error;

	if ((error = ts_node_mint_id(&op->new_id, op->node, "x")) < 0)
		return error;
	if (sqlite3_prepare_v2(db, "INSERT INTO exposures (id, jurisdiction, case_id, outlet, title, "
			"published_at, made_by, url) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", -1, &st,
			NULL) != SQLITE_OK)
		return ts_tiers__db_error(db, "recording the exposure");
	sqlite3_bind_text(st, 1, op->new_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->node->scope, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op->case_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, op->opts->outlet, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, op->opts->title, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, op->published, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, op->author, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, op->opts->url, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_tiers__db_error(db, "recording the exposure");
	sqlite3_finalize(st);
	if (error == 0) {
		ts_buf__printf(&note, "exposed (主动曝光) in %s: %s (%s)", op->opts->outlet, op->opts->title,
			op->new_id);
		error = ts_buf__oom(&note) ? ts_error_set(TS_ERROR, "out of memory") : case_note(op, note.ptr);
	}
	ts_buf__dispose(&note);
	return error;
}

int ts_exposure_add(char **id_out, ts_node *node, const char *author, const ts_exposure_options *opts)
{
	exposure_op op;
	ts_buf summary = TS_BUF_INIT;
	int error;

	*id_out = NULL;
	memset(&op, 0, sizeof(op));
	if (!author)
		author = node->identity;
	if (!author || !*author)
		return ts_error_set(TS_EINVALID, "an exposure needs the real name of who made it");
	if (!opts)
		return ts_error_set(TS_EINVALID, "an exposure needs its outlet and title");
	if ((error = one_line(opts->outlet, "outlet")) < 0 || (error = one_line(opts->title, "title")) < 0)
		return error;
	if (opts->url && !has_prefix(opts->url, "http://") && !has_prefix(opts->url, "https://"))
		return ts_error_set(TS_EINVALID, "an exposure's address is an http:// or https:// URL, not '%s'",
			opts->url);
	if (opts->url && strpbrk(opts->url, " \t\r\n"))
		return ts_error_set(TS_EINVALID, "an exposure's URL holds no spaces");
	if ((error = ts_patrols__time_given(op.published, opts->published, "publication")) < 0)
		return error;
	if (opts->case_id && (error = case_fits(node, opts->case_id)) < 0)
		return error;
	op.node = node;
	op.author = author;
	op.opts = opts;
	op.case_id = opts->case_id;
	ts_buf__printf(&summary, "exposure in %s", opts->outlet);
	error = ts_node_write(node, author, summary.ptr, do_add, &op);
	if (error == 0) {
		*id_out = op.new_id;
		op.new_id = NULL;
	}
	free(op.new_id);
	ts_buf__dispose(&summary);
	return error;
}

static int do_remove(sqlite3 *db, void *payload)
{
	exposure_op *op = payload;
	sqlite3_stmt *st = NULL;
	ts_buf note = TS_BUF_INIT;
	int error = 0;

	if (sqlite3_prepare_v2(db, "DELETE FROM exposures WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(db, "removing the exposure");
	sqlite3_bind_text(st, 1, op->id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_tiers__db_error(db, "removing the exposure");
	sqlite3_finalize(st);
	if (error == 0) {
		ts_buf__printf(&note, "exposure %s removed: recorded in error", op->id);
		error = ts_buf__oom(&note) ? ts_error_set(TS_ERROR, "out of memory") : case_note(op, note.ptr);
	}
	ts_buf__dispose(&note);
	return error;
}

int ts_exposure_remove(ts_node *node, const char *author, const char *exposure_id)
{
	exposure_op op;
	sqlite3_stmt *st = NULL;
	char *jurisdiction = NULL, *case_id = NULL;
	int error = 0;

	memset(&op, 0, sizeof(op));
	if (!exposure_id || !*exposure_id)
		return ts_error_set(TS_EINVALID, "name the exposure");
	if (!author)
		author = node->identity;
	if (sqlite3_prepare_v2(node->db, "SELECT jurisdiction, case_id FROM exposures WHERE id = ?1", -1, &st,
			NULL) != SQLITE_OK)
		return ts_tiers__db_error(node->db, "reading the exposure");
	sqlite3_bind_text(st, 1, exposure_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		error = ts_error_set(TS_ENOTFOUND, "no exposure %s", exposure_id);
	} else {
		jurisdiction = strdup((const char *)sqlite3_column_text(st, 0));
		if (sqlite3_column_type(st, 1) != SQLITE_NULL)
			case_id = strdup((const char *)sqlite3_column_text(st, 1));
		if (!jurisdiction || (sqlite3_column_type(st, 1) != SQLITE_NULL && !case_id))
			error = ts_error_set(TS_ERROR, "out of memory");
	}
	sqlite3_finalize(st);
	if (error == 0 && !ts_jurisdiction_covers(node->scope, jurisdiction))
		error = ts_error_set(TS_EDENIED, "exposure %s was made by %s; %s may remove only those of %s",
			exposure_id, jurisdiction, node->id, node->scope);
	if (error == 0) {
		op.node = node;
		op.author = author;
		op.id = exposure_id;
		op.case_id = case_id;
		error = ts_node_write(node, author, "remove an exposure recorded in error", do_remove, &op);
	}
	free(jurisdiction);
	free(case_id);
	return error;
}

int ts_exposure_list(ts_node *node, const ts_exposure_filter *filter,
	int (*cb)(const ts_exposure_info *exposure, void *payload), void *payload)
{
	sqlite3_stmt *st = NULL;
	const char *scope;
	char from[32], to[32];
	int rc, error = 0;

	if (filter && filter->version != TS_EXPOSURE_FILTER_VERSION)
		return ts_error_set(TS_EINVALID, "unknown exposure filter version %u (this library knows %d)",
			filter->version, TS_EXPOSURE_FILTER_VERSION);
	if (!cb)
		return ts_error_set(TS_EINVALID, "listing exposures needs a callback");
	if ((error = ts_tiers__list_range(&scope, from, to, node, filter ? filter->jurisdiction : NULL,
			filter ? filter->from : NULL, filter ? filter->to : NULL)) < 0)
		return error;
	if (sqlite3_prepare_v2(node->db, "SELECT id, jurisdiction, case_id, outlet, title, published_at, made_by, url "
			"FROM exposures "
			"WHERE (jurisdiction = ?1 OR (jurisdiction >= ?1 || '.' AND jurisdiction < ?1 || '/')) "
			"  AND (?2 = '' OR published_at >= ?2) AND (?3 = '' OR published_at <= ?3) "
			"  AND (?4 IS NULL OR case_id = ?4) "
			"ORDER BY published_at, id", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(node->db, "reading the exposures");
	sqlite3_bind_text(st, 1, scope, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, filter ? filter->case_id : NULL, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ts_exposure_info x;
		x.id = (const char *)sqlite3_column_text(st, 0);
		x.jurisdiction = (const char *)sqlite3_column_text(st, 1);
		x.case_id = (const char *)sqlite3_column_text(st, 2);
		x.outlet = (const char *)sqlite3_column_text(st, 3);
		x.title = (const char *)sqlite3_column_text(st, 4);
		x.published_at = (const char *)sqlite3_column_text(st, 5);
		x.made_by = (const char *)sqlite3_column_text(st, 6);
		x.url = (const char *)sqlite3_column_text(st, 7);
		if ((error = cb(&x, payload)) != 0)
			goto done;
	}
	if (rc != SQLITE_DONE)
		error = ts_tiers__db_error(node->db, "reading the exposures");
done:
	sqlite3_finalize(st);
	return error;
}
