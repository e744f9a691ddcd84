/*
 * Supervision items (督办): the city or a district dispatches an item down
 * to a node in its jurisdiction, the target answers it and every tier
 * above the target may add its own feedback (三级反馈: street, district,
 * city), and the issuer alone closes it once answered (闭合管理).
 *
 *   open --(the target answers)--> answered --(the issuer closes)--> closed
 *
 * Items and feedback flow between the tiers by sync: an item issued at the
 * city reaches the street through the district's pull, the answer goes up
 * through the street's push and the district's merge.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle.h"
#include "node.h"
#include "tiers.h"

/* The item as read before a write. */
typedef struct {
	char *issued_by, *target, *status, *closed_at;
} item_row;

static void item_row_clear(item_row *r)
{
	free(r->issued_by);
	free(r->target);
	free(r->status);
	free(r->closed_at);
	memset(r, 0, sizeof(*r));
}

static char *dup_column(sqlite3_stmt *st, int c)
{
	const char *t = (const char *)sqlite3_column_text(st, c);
	return t ? strdup(t) : NULL;
}

static int item_read(item_row *out, sqlite3 *db, const char *id)
{
	sqlite3_stmt *st = NULL;
	int error = 0;

	memset(out, 0, sizeof(*out));
	if (!id || !*id)
		return ts_error_set(TS_EINVALID, "name the supervision item");
	if (sqlite3_prepare_v2(db, "SELECT issued_by_node, target_node, status, closed_at "
			"FROM supervision_items WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(db, "reading the supervision item");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		error = ts_error_set(TS_ENOTFOUND, "no supervision item %s", id);
	else if (!(out->issued_by = dup_column(st, 0)) || !(out->target = dup_column(st, 1)) ||
		 !(out->status = dup_column(st, 2)))
		error = ts_error_set(TS_ERROR, "out of memory");
	else
		out->closed_at = dup_column(st, 3);
	sqlite3_finalize(st);
	if (error < 0)
		item_row_clear(out);
	return error;
}

typedef struct {
	ts_node *node;
	const char *author;
	const ts_supervise_options *opts;
	char due[32];
	const char *item_id;
	const char *text;
	int answers;              /* answer: the target answers, so the item becomes answered */
	char *new_id;
} supervise_op;

static int do_issue(sqlite3 *db, void *payload)
{
	supervise_op *op = payload;
	const ts_supervise_options *o = op->opts;
	sqlite3_stmt *st = NULL;
	char now[32];
	int error;

	ts_time_format(now, ts_node__now());
	if (op->due[0] && strcmp(op->due, now) < 0)
		return ts_error_set(TS_EINVALID, "the due date %.10s is already past", op->due);
	if ((error = ts_node_mint_id(&op->new_id, op->node, "s")) < 0)
		return error;
	if (sqlite3_prepare_v2(db, "INSERT INTO supervision_items (id, issued_by_node, issuer, level, target_node, "
			"case_id, subject, detail, issued_at, due_at, status) "
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'open')", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(db, "issuing the supervision item");
	sqlite3_bind_text(st, 1, op->new_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->node->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op->author, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ts_tier_name(op->node->tier), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, o->target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, o->case_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, o->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, o->detail, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, op->due[0] ? op->due : NULL, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_tiers__db_error(db, "issuing the supervision item");
	sqlite3_finalize(st);
	if (error == 0 && o->case_id) {
		ts_buf detail = TS_BUF_INIT;
		ts_buf__printf(&detail, "supervision item %s to %s: %s", op->new_id, o->target, o->subject);
		error = ts_case__event(op->node, o->case_id, "supervise", op->author, detail.ptr, now);
		ts_buf__dispose(&detail);
	}
	return error;
}

int ts_supervise_issue(char **id_out, ts_node *node, const char *author, const ts_supervise_options *opts)
{
	supervise_op op;
	ts_buf summary = TS_BUF_INIT;
	char *jurisdiction = NULL;
	int error;

	*id_out = NULL;
	if ((error = ts_tiers__upper_only(node, "issue supervision items")) < 0)
		return error;
	if (!opts || !opts->target || !ts_node_id_valid(opts->target))
		return ts_error_set(TS_EINVALID, "'%s' is not a node id (e.g. %s.jingshan)",
			opts && opts->target ? opts->target : "", node->id);
	if (!strcmp(opts->target, node->id) || !ts_jurisdiction_covers(node->id, opts->target))
		return ts_error_set(TS_EDENIED, "%s is not below %s: a supervision item goes down to a node "
			"in the issuer's jurisdiction", opts->target, node->id);
	if (!opts->subject || !*opts->subject)
		return ts_error_set(TS_EINVALID, "a supervision item needs a subject");
	memset(&op, 0, sizeof(op));
	if (opts->due && (error = ts_time_parse(op.due, opts->due, 1, "due")) < 0)
		return error;
	if (opts->case_id) {
		if ((error = ts_tiers__query_text(&jurisdiction, node->db,
				"SELECT jurisdiction FROM cases WHERE id = ?1", opts->case_id, NULL)) < 0)
			return error;
		if (error == 0)
			return ts_error_set(TS_ENOTFOUND, "no case %s", opts->case_id);
		if (!ts_jurisdiction_covers(opts->target, jurisdiction)) {
			error = ts_error_set(TS_EINVALID, "case %s is of %s, outside %s's jurisdiction",
				opts->case_id, jurisdiction ? jurisdiction : "", opts->target);
			free(jurisdiction);
			return error;
		}
		free(jurisdiction);
	}
	op.node = node;
	op.author = author ? author : node->identity;
	op.opts = opts;
	ts_buf__printf(&summary, "supervise %s: %s", opts->target, opts->subject);
	error = ts_node_write(node, op.author, summary.ptr, do_issue, &op);
	ts_buf__dispose(&summary);
	if (error < 0) {
		free(op.new_id);
		return error;
	}
	*id_out = op.new_id;
	return 0;
}

static int do_answer(sqlite3 *db, void *payload)
{
	supervise_op *op = payload;
	sqlite3_stmt *st = NULL;
	char now[32];
	int error;

	ts_time_format(now, ts_node__now());
	if ((error = ts_node_mint_id(&op->new_id, op->node, "f")) < 0)
		return error;
	if (sqlite3_prepare_v2(db, "INSERT INTO supervision_feedback (id, item_id, level, node, at, author, text) "
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(db, "recording the feedback");
	sqlite3_bind_text(st, 1, op->new_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->item_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ts_tier_name(op->node->tier), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, op->node->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, op->author, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, op->text, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_tiers__db_error(db, "recording the feedback");
	sqlite3_finalize(st);
	if (error == 0 && op->answers) {
		if (sqlite3_prepare_v2(db, "UPDATE supervision_items SET status = 'answered' "
				"WHERE id = ?1 AND status = 'open'", -1, &st, NULL) != SQLITE_OK)
			return ts_tiers__db_error(db, "marking the item answered");
		sqlite3_bind_text(st, 1, op->item_id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			error = ts_tiers__db_error(db, "marking the item answered");
		sqlite3_finalize(st);
	}
	return error;
}

int ts_supervise_answer(char **id_out, ts_node *node, const char *author, const char *item_id,
	const char *text)
{
	supervise_op op;
	item_row item;
	ts_buf summary = TS_BUF_INIT;
	int error;

	*id_out = NULL;
	if (node->tier == TS_TIER_DEVICE)
		return ts_error_set(TS_EDENIED, "a device does not answer supervision items: its street office "
			"does (this node, %s, is a device)", node->id);
	if (!text || !*text)
		return ts_error_set(TS_EINVALID, "an answer needs its text: what was done");
	if ((error = item_read(&item, node->db, item_id)) < 0)
		return error;
	if (!strcmp(item.status, "closed")) {
		error = ts_error_set(TS_EDENIED, "supervision item %s was closed at %s; it takes no more feedback",
			item_id, item.closed_at ? item.closed_at : "?");
		goto done;
	}
	if (!ts_jurisdiction_covers(node->id, item.target)) {
		error = ts_error_set(TS_EDENIED, "supervision item %s is for %s; %s is neither that node nor above it",
			item_id, item.target, node->id);
		goto done;
	}
	memset(&op, 0, sizeof(op));
	op.node = node;
	op.author = author ? author : node->identity;
	op.item_id = item_id;
	op.text = text;
	op.answers = !strcmp(node->id, item.target);
	ts_buf__printf(&summary, "%s feedback on supervision item %s", ts_tier_name(node->tier), item_id);
	error = ts_node_write(node, op.author, summary.ptr, do_answer, &op);
	if (error < 0)
		free(op.new_id);
	else
		*id_out = op.new_id;
done:
	item_row_clear(&item);
	ts_buf__dispose(&summary);
	return error;
}

static int do_close(sqlite3 *db, void *payload)
{
	supervise_op *op = payload;
	sqlite3_stmt *st = NULL;
	char now[32];
	int error = 0;

	ts_time_format(now, ts_node__now());
	if (sqlite3_prepare_v2(db, "UPDATE supervision_items SET status = 'closed', closed_at = ?2 "
			"WHERE id = ?1 AND status = 'answered'", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(db, "closing the supervision item");
	sqlite3_bind_text(st, 1, op->item_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_tiers__db_error(db, "closing the supervision item");
	sqlite3_finalize(st);
	return error;
}

int ts_supervise_close(ts_node *node, const char *author, const char *item_id)
{
	supervise_op op;
	item_row item;
	ts_buf summary = TS_BUF_INIT;
	int error;

	if ((error = item_read(&item, node->db, item_id)) < 0)
		return error;
	if (strcmp(item.issued_by, node->id)) {
		error = ts_error_set(TS_EDENIED, "supervision item %s was issued by %s; only the issuer closes it",
			item_id, item.issued_by);
		goto done;
	}
	if (!strcmp(item.status, "closed")) {
		error = ts_error_set(TS_EINVALID, "supervision item %s is already closed (at %s)", item_id,
			item.closed_at ? item.closed_at : "?");
		goto done;
	}
	if (strcmp(item.status, "answered")) {
		error = ts_error_set(TS_EDENIED, "supervision item %s has no answer from %s yet; it closes "
			"once answered", item_id, item.target);
		goto done;
	}
	memset(&op, 0, sizeof(op));
	op.node = node;
	op.item_id = item_id;
	ts_buf__printf(&summary, "close supervision item %s", item_id);
	error = ts_node_write(node, author, summary.ptr, do_close, &op);
done:
	item_row_clear(&item);
	ts_buf__dispose(&summary);
	return error;
}

/* The items that concern node ?1: issued by it or below it, aimed at it or
 * below it, or aimed at a node above it. ?2 = 1 leaves out the closed
 * ones; ?3 is now, for an open item whose answer is overdue. */
#define ITEMS_SQL \
	"SELECT i.id, i.status, i.level, i.issued_by_node, i.issuer, i.target_node, i.case_id, i.subject, " \
	"  i.detail, i.issued_at, i.due_at, i.closed_at, " \
	"  (i.status = 'open' AND i.due_at IS NOT NULL AND i.due_at < ?3) " \
	"FROM supervision_items i " \
	"WHERE (i.target_node = ?1 OR substr(i.target_node, 1, length(?1) + 1) = ?1 || '.' " \
	"    OR substr(?1, 1, length(i.target_node) + 1) = i.target_node || '.' " \
	"    OR i.issued_by_node = ?1 OR substr(i.issued_by_node, 1, length(?1) + 1) = ?1 || '.') " \
	"  AND (NOT ?2 OR i.status <> 'closed') " \
	"ORDER BY i.issued_at, i.id"

#define FEEDBACK_SQL \
	"SELECT level, node, at, author, text FROM supervision_feedback WHERE item_id = ?1 ORDER BY at, id"

/* The feedback of one item, its strings copied: the item's statement stays
 * on its row while the feedback's steps on. */
typedef struct {
	ts_supervise_feedback *rows;
	size_t n, alloc;
} feedback_list;

static void feedback_clear(feedback_list *list)
{
	size_t i;

	for (i = 0; i < list->n; i++) {
		free((char *)list->rows[i].level);
		free((char *)list->rows[i].node);
		free((char *)list->rows[i].at);
		free((char *)list->rows[i].author);
		free((char *)list->rows[i].text);
	}
	list->n = 0;
}

static int feedback_read(feedback_list *list, sqlite3 *db, sqlite3_stmt *fb, const char *item_id)
{
	int rc;

	feedback_clear(list);
	sqlite3_reset(fb);
	sqlite3_bind_text(fb, 1, item_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(fb)) == SQLITE_ROW) {
		ts_supervise_feedback *f;
		if (list->n == list->alloc) {
			size_t alloc = list->alloc ? list->alloc * 2 : 4;
			ts_supervise_feedback *rows = realloc(list->rows, alloc * sizeof(*rows));
			if (!rows)
				return ts_error_set(TS_ERROR, "out of memory");
			list->rows = rows;
			list->alloc = alloc;
		}
		f = &list->rows[list->n];
		memset(f, 0, sizeof(*f));
		list->n++;
		if (!(f->level = dup_column(fb, 0)) || !(f->node = dup_column(fb, 1)) ||
		    !(f->at = dup_column(fb, 2)) || !(f->author = dup_column(fb, 3)) ||
		    !(f->text = dup_column(fb, 4)))
			return ts_error_set(TS_ERROR, "out of memory");
	}
	if (rc != SQLITE_DONE)
		return ts_tiers__db_error(db, "reading the supervision feedback");
	return 0;
}

int ts_supervise_list(ts_node *node, const ts_supervise_filter *filter,
	int (*cb)(const ts_supervise_info *item, void *payload), void *payload)
{
	sqlite3_stmt *st = NULL, *fb = NULL;
	feedback_list feedback = { NULL, 0, 0 };
	char now[32];
	int rc, error = 0;

	if (filter && filter->version != TS_SUPERVISE_FILTER_VERSION)
		return ts_error_set(TS_EINVALID, "unknown supervision filter version %u (this library knows %d)",
			filter->version, TS_SUPERVISE_FILTER_VERSION);
	if (!cb)
		return ts_error_set(TS_EINVALID, "listing supervision items needs a callback");
	if (sqlite3_prepare_v2(node->db, ITEMS_SQL, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(node->db, FEEDBACK_SQL, -1, &fb, NULL) != SQLITE_OK) {
		error = ts_tiers__db_error(node->db, "reading the supervision items");
		goto done;
	}
	ts_time_now(now);
	sqlite3_bind_text(st, 1, node->id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, filter && filter->open_only);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ts_supervise_info i;
		i.id = (const char *)sqlite3_column_text(st, 0);
		i.status = (const char *)sqlite3_column_text(st, 1);
		i.level = (const char *)sqlite3_column_text(st, 2);
		i.issued_by_node = (const char *)sqlite3_column_text(st, 3);
		i.issuer = (const char *)sqlite3_column_text(st, 4);
		i.target_node = (const char *)sqlite3_column_text(st, 5);
		i.case_id = (const char *)sqlite3_column_text(st, 6);
		i.subject = (const char *)sqlite3_column_text(st, 7);
		i.detail = (const char *)sqlite3_column_text(st, 8);
		i.issued_at = (const char *)sqlite3_column_text(st, 9);
		i.due_at = (const char *)sqlite3_column_text(st, 10);
		i.closed_at = (const char *)sqlite3_column_text(st, 11);
		i.overdue = sqlite3_column_int(st, 12);
		if ((error = feedback_read(&feedback, node->db, fb, i.id)) < 0)
			goto done;
		i.feedback = feedback.rows;
		i.nfeedback = feedback.n;
		if ((error = cb(&i, payload)) != 0)
			goto done;
	}
	if (rc != SQLITE_DONE)
		error = ts_tiers__db_error(node->db, "reading the supervision items");
done:
	feedback_clear(&feedback);
	free(feedback.rows);
	sqlite3_finalize(st);
	sqlite3_finalize(fb);
	return error;
}
