/*
 * Restore: taking back staged writes before they are committed.
 *
 * Each staged write is one changeset in ts_staged (sync/capture.c).
 * Taking it back applies its inverse (sqlite3changeset_invert) to the
 * database and moves its row from ts_staged to ts_restored, where it is
 * kept whole, with who took it back and when:
 *
 *   ts_restored (id, seq, author, time, summary, changeset,
 *                restored_by, restored_at)
 *
 * seq is the number the write had while staged; author, time and summary
 * are its own; changeset is the write itself (not its inverse). Nothing of
 * it reaches history: the next commit carries the writes still staged, and
 * the database stays equal to the head plus those (`verify`).
 *
 * The writes named are taken back in one transaction, newest first; any
 * failure leaves everything as it was. A write that a later staged write
 * builds on (the later one touches a row it touched) is refused unless the
 * later one is taken back too: its inverse would undo the later write's
 * row, or fail on it. An inverse that meets a row changed since (a merge
 * laid over the staged writes) or breaks a constraint is refused whole.
 *
 * Triggers are off while the inverse is applied: the append-only tables'
 * triggers refuse a delete, but a row that was only ever staged was never
 * shared. Evidence files staged for the history (ts_files_staged) that no
 * evidence row names any more are dropped with their rows.
 */
#include "node.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "capture.h"
#include "error.h"
#include "history.h"
#include "meta.h"

/* A row a staged write touched: its table and key. */
typedef struct {
	char *id;       /* table, then each key value typed: compared whole */
	char *shown;    /* "table key" for messages */
} row_ref;

typedef struct {
	int64_t seq;
	char *summary;
	void *changeset;
	int size;
	row_ref *rows;
	size_t nrows;
	int chosen;
} staged;

typedef struct {
	staged *v;
	size_t n;
} staged_list;

static void staged_list_dispose(staged_list *l)
{
	size_t i, k;

	for (i = 0; i < l->n; i++) {
		for (k = 0; k < l->v[i].nrows; k++) {
			free(l->v[i].rows[k].id);
			free(l->v[i].rows[k].shown);
		}
		free(l->v[i].rows);
		free(l->v[i].summary);
		free(l->v[i].changeset);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void value_text(ts_buf *out, sqlite3_value *v)
{
	const unsigned char *b;
	int i, n;

	switch (v ? sqlite3_value_type(v) : SQLITE_NULL) {
	case SQLITE_NULL:
		ts_buf__puts(out, "NULL");
		break;
	case SQLITE_BLOB:
		b = sqlite3_value_blob(v);
		n = sqlite3_value_bytes(v);
		ts_buf__puts(out, "x'");
		for (i = 0; i < n; i++)
			ts_buf__printf(out, "%02x", b[i]);
		ts_buf__putc(out, '\'');
		break;
	default:
		ts_buf__puts(out, (const char *)sqlite3_value_text(v));
	}
}

/* The rows of one changeset. */
static int rows_of(staged *s)
{
	sqlite3_changeset_iter *it = NULL;
	ts_buf id = TS_BUF_INIT, shown = TS_BUF_INIT;
	int rc, error = 0;

	if (sqlite3changeset_start(&it, s->size, s->changeset) != SQLITE_OK)
		return ts_error_set(TS_ECORRUPT, "staged write %lld is damaged", (long long)s->seq);
	while ((rc = sqlite3changeset_next(it)) == SQLITE_ROW) {
		const char *table;
		unsigned char *pk;
		int ncol, op, indirect, c, first = 1;
		row_ref *grown;

		sqlite3changeset_op(it, &table, &ncol, &op, &indirect);
		sqlite3changeset_pk(it, &pk, &ncol);
		ts_buf__clear(&id);
		ts_buf__clear(&shown);
		ts_buf__printf(&id, "%s", table);
		ts_buf__printf(&shown, "%s ", table);
		for (c = 0; c < ncol; c++) {
			sqlite3_value *v = NULL;
			if (!pk[c])
				continue;
			if (op == SQLITE_INSERT)
				sqlite3changeset_new(it, c, &v);
			else
				sqlite3changeset_old(it, c, &v);
			ts_buf__printf(&id, "%c%d:", 0x1f, v ? sqlite3_value_type(v) : SQLITE_NULL);
			value_text(&id, v);
			if (!first)
				ts_buf__putc(&shown, ',');
			value_text(&shown, v);
			first = 0;
		}
		if (ts_buf__oom(&id) || ts_buf__oom(&shown) ||
		    !(grown = realloc(s->rows, (s->nrows + 1) * sizeof(*grown)))) {
			error = ts_error_set(TS_ERROR, "out of memory");
			break;
		}
		s->rows = grown;
		s->rows[s->nrows].id = ts_buf__detach(&id);
		s->rows[s->nrows].shown = ts_buf__detach(&shown);
		s->nrows++;
	}
	sqlite3changeset_finalize(it);
	if (!error && rc != SQLITE_DONE)
		error = ts_error_set(TS_ECORRUPT, "staged write %lld is damaged", (long long)s->seq);
	ts_buf__dispose(&id);
	ts_buf__dispose(&shown);
	return error;
}

static int load_one(const ts_staged_write *w, void *payload)
{
	staged_list *l = payload;
	staged *grown, *s;

	if (!(grown = realloc(l->v, (l->n + 1) * sizeof(*grown))))
		return ts_error_set(TS_ERROR, "out of memory");
	l->v = grown;
	s = &l->v[l->n++];
	memset(s, 0, sizeof(*s));
	s->seq = w->seq;
	s->size = w->size;
	if (!(s->summary = strdup(w->summary ? w->summary : "")) || !(s->changeset = malloc(w->size ? w->size : 1)))
		return ts_error_set(TS_ERROR, "out of memory");
	memcpy(s->changeset, w->changeset, w->size);
	return rows_of(s);
}

/* The first row that `a` and `b` both touch, or NULL. */
static const row_ref *shared_row(const staged *a, const staged *b)
{
	size_t i, k;

	for (i = 0; i < a->nrows; i++)
		for (k = 0; k < b->nrows; k++)
			if (!strcmp(a->rows[i].id, b->rows[k].id))
				return &a->rows[i];
	return NULL;
}

/* Marks the writes to take back; refuses one a later write builds on. */
static int choose(staged_list *l, const int64_t *seqs, size_t n)
{
	size_t i, k;

	if (!seqs) {
		if (l->n == 0)
			return ts_error_set(TS_ENOTFOUND, "nothing is staged to take back");
		for (i = 0; i < l->n; i++)
			l->v[i].chosen = 1;
		return 0;
	}
	if (n == 0)
		return ts_error_set(TS_EINVALID, "name the staged writes to take back");
	for (k = 0; k < n; k++) {
		for (i = 0; i < l->n && l->v[i].seq != seqs[k]; i++)
			;
		if (i == l->n)
			return ts_error_set(TS_ENOTFOUND, "there is no staged write %lld: it was committed "
				"or taken back, or never made", (long long)seqs[k]);
		l->v[i].chosen = 1;
	}
	for (i = 0; i < l->n; i++) {
		if (!l->v[i].chosen)
			continue;
		for (k = i + 1; k < l->n; k++) {
			const row_ref *row;
			if (l->v[k].chosen || !(row = shared_row(&l->v[i], &l->v[k])))
				continue;
			return ts_error_set(TS_EDENIED, "staged write %lld (%s) cannot be taken back alone: "
				"write %lld (%s), staged after it, changed the same row (%s)",
				(long long)l->v[i].seq, l->v[i].summary, (long long)l->v[k].seq, l->v[k].summary,
				row->shown);
		}
	}
	return 0;
}

typedef struct {
	int64_t seq;
	int type;
	char *table;
} conflict_seen;

static int on_conflict(void *payload, int type, sqlite3_changeset_iter *it)
{
	conflict_seen *c = payload;
	const char *table = NULL;
	int ncol, op, indirect;

	if (!c->type) {
		c->type = type;
		if (type != SQLITE_CHANGESET_FOREIGN_KEY && sqlite3changeset_op(it, &table, &ncol, &op, &indirect) == SQLITE_OK)
			c->table = table ? strdup(table) : NULL;
	}
	return SQLITE_CHANGESET_ABORT;
}

static int take_back(ts_node *node, const staged *s, const char *by, int64_t now)
{
	conflict_seen seen = { s->seq, 0, NULL };
	sqlite3_stmt *st = NULL;
	void *inverse = NULL;
	int size = 0, rc, error = 0;

	if ((rc = sqlite3changeset_invert(s->size, s->changeset, &size, &inverse)) != SQLITE_OK)
		return ts_sqlite__error_rc(rc, "inverting staged write %lld", (long long)s->seq);
	rc = sqlite3changeset_apply(node->db, size, inverse, NULL, on_conflict, &seen);
	sqlite3_free(inverse);
	if (rc != SQLITE_OK) {
		if (seen.type == SQLITE_CHANGESET_FOREIGN_KEY)
			error = ts_error_set(TS_ECONFLICT, "staged write %lld (%s) cannot be taken back: rows "
				"still refer to what it recorded", (long long)s->seq, s->summary);
		else if (seen.type)
			error = ts_error_set(TS_ECONFLICT, "staged write %lld (%s) cannot be taken back: its row "
				"of %s %s since", (long long)s->seq, s->summary, seen.table ? seen.table : "a table",
				seen.type == SQLITE_CHANGESET_CONSTRAINT ? "would break a constraint" : "changed");
		else
			error = ts_sqlite__error(node->db, "taking back staged write %lld", (long long)s->seq);
		free(seen.table);
		return error;
	}
	free(seen.table);
	if (sqlite3_prepare_v2(node->db, "INSERT INTO ts_restored (seq, author, time, summary, changeset, "
			"restored_by, restored_at) SELECT seq, author, time, summary, changeset, ?2, ?3 "
			"FROM ts_staged WHERE seq = ?1", -1, &st, NULL) != SQLITE_OK)
		return ts_sqlite__error(node->db, "recording a staged write taken back");
	sqlite3_bind_int64(st, 1, s->seq);
	sqlite3_bind_text(st, 2, by, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(node->db) != 1)
		error = ts_sqlite__error(node->db, "recording staged write %lld taken back", (long long)s->seq);
	sqlite3_finalize(st);
	st = NULL;
	if (error)
		return error;
	if (sqlite3_prepare_v2(node->db, "DELETE FROM ts_staged WHERE seq = ?1", -1, &st, NULL) != SQLITE_OK)
		return ts_sqlite__error(node->db, "unstaging a write");
	sqlite3_bind_int64(st, 1, s->seq);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_sqlite__error(node->db, "unstaging write %lld", (long long)s->seq);
	sqlite3_finalize(st);
	return error;
}

static int restored_row(sqlite3_stmt *st, int (*cb)(const ts_restored_info *info, void *payload), void *payload)
{
	ts_restored_info info;
	int error;

	info.seq = sqlite3_column_int64(st, 0);
	info.author = (const char *)sqlite3_column_text(st, 1);
	info.time = sqlite3_column_int64(st, 2);
	info.summary = (const char *)sqlite3_column_text(st, 3);
	if ((error = ts_changeset__count(sqlite3_column_blob(st, 4), sqlite3_column_bytes(st, 4), &info.inserts,
			&info.updates, &info.deletes)) < 0)
		return error;
	info.restored_by = (const char *)sqlite3_column_text(st, 5);
	info.restored_at = sqlite3_column_int64(st, 6);
	return cb(&info, payload);
}

#define RESTORED_COLUMNS "seq, author, time, summary, changeset, restored_by, restored_at"

int ts_node_restore(ts_node *node, const int64_t *seqs, size_t n, const char *author,
	int (*cb)(const ts_restored_info *info, void *payload), void *payload)
{
	staged_list l = { NULL, 0 };
	sqlite3_stmt *st = NULL;
	int64_t now = ts_node__now();
	char *applying = NULL;
	size_t i;
	int error, began = 0;

	if (!author)
		author = node->identity;
	if (!author || !*author)
		return ts_error_set(TS_EINVALID, "no author: name who takes the writes back, or set "
			"the node's identity (user.name in its config)");
	if (strchr(author, '<') || strchr(author, '>') || strchr(author, '\n'))
		return ts_error_set(TS_EINVALID, "an author's name may not contain '<', '>' or a newline");
	if (sqlite3_exec(node->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return ts_sqlite__error(node->db, "starting a write");
	began = 1;
	if ((applying = ts_meta__get(node->db, TS_META_APPLYING))) {
		error = ts_error_set(TS_EBUSY, "a merge is being applied to the database; take writes back "
			"once it is done");
		goto done;
	}
	if ((error = ts_capture__foreach(node->db, load_one, &l)) < 0 || (error = choose(&l, seqs, n)) < 0)
		goto done;
	sqlite3_db_config(node->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
	for (i = l.n; i-- > 0 && !error;)
		if (l.v[i].chosen)
			error = take_back(node, &l.v[i], author, now);
	sqlite3_db_config(node->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 1, NULL);
	if (error)
		goto done;
	/* a file staged for an evidence row taken back goes with it */
	if (sqlite3_exec(node->db, "DELETE FROM ts_files_staged WHERE sha256 NOT IN "
			"(SELECT sha256 FROM evidence)", NULL, NULL, NULL) != SQLITE_OK) {
		error = ts_sqlite__error(node->db, "dropping the files of evidence taken back");
		goto done;
	}
	if (sqlite3_exec(node->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		error = ts_sqlite__error(node->db, "committing the writes taken back");
		goto done;
	}
	began = 0;
	if (!cb)
		goto done;
	if (sqlite3_prepare_v2(node->db, "SELECT " RESTORED_COLUMNS " FROM ts_restored WHERE seq = ?1",
			-1, &st, NULL) != SQLITE_OK) {
		error = ts_sqlite__error(node->db, "reading the writes taken back");
		goto done;
	}
	for (i = l.n; i-- > 0 && !error;) {
		if (!l.v[i].chosen)
			continue;
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, l.v[i].seq);
		if (sqlite3_step(st) == SQLITE_ROW)
			error = restored_row(st, cb, payload);
	}
done:
	sqlite3_finalize(st);
	if (began)
		sqlite3_exec(node->db, "ROLLBACK", NULL, NULL, NULL);
	free(applying);
	staged_list_dispose(&l);
	return error;
}

int ts_node_restored(ts_node *node, int (*cb)(const ts_restored_info *info, void *payload), void *payload)
{
	sqlite3_stmt *st = NULL;
	int rc, error = 0;

	if (sqlite3_prepare_v2(node->db, "SELECT " RESTORED_COLUMNS " FROM ts_restored ORDER BY id", -1, &st,
			NULL) != SQLITE_OK)
		return ts_sqlite__error(node->db, "reading the writes taken back");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((error = restored_row(st, cb, payload)) != 0)
			break;
	if (!error && rc != SQLITE_DONE)
		error = ts_sqlite__error(node->db, "reading the writes taken back");
	sqlite3_finalize(st);
	return error;
}
