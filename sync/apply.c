/*
 * Apply: tree diff -> working database.
 *
 * Each changed row becomes one statement: an upsert that names every
 * column of the table (INSERT ... ON CONFLICT (key) DO UPDATE), or a
 * delete by key. Statements are prepared once per table. Foreign keys of
 * the case schema are deferred, so the order of tables does not matter;
 * they are checked when the caller commits.
 *
 * A long apply runs in short transactions (ts_apply__batched): every
 * batch_ms it looks whether a local write waits (capture.h); if one does,
 * or the transaction has run for BATCH_MAX_MS, it commits, lets the
 * writers in and goes on. A transaction no one waits for goes on: each
 * commit writes every page the batch touched, and rows spread over the
 * indexes touch about as many pages in a short batch as in a long one.
 * Rows that local writes staged meanwhile are left alone; at the end,
 * ts_apply__staged() lays the staged writes over the target tree's rows, so
 * the staged work stays staged, rebased onto the result.
 *
 * The tree gives rows in the order of its fan-out, a hash of the key: one
 * after another, new rows land on pages all over the key's index, and each
 * commit of a short transaction writes every page it touched. So inserted
 * rows wait, as their blobs' bytes, until 4 MB of them have come, and are
 * written in the order of their keys: a batch then touches a few
 * neighbouring pages of the index instead of most of it. An updated row is
 * written as it comes (it is found by its key either way, and sorting gave
 * a merge of 10,000 changed rows into 1,000,000 no time back for its
 * memory), and so is a delete, ahead of the new rows waiting then (one of
 * them may take a unique value the deleted row had).
 */
#include "apply.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "capture.h"
#include "error.h"
#include "history.h"
#include "rowcodec.h"
#include "tiersync.h"

/* The paths of the rows staged writes touched, sorted; staged writes with
 * sequence numbers up to `after` are in. */
typedef struct {
	char **v;
	size_t n, alloc;
	int64_t after;
	ts_tables *tables;
	ts_buf path;
} staged_keys;

/* An inserted row, waiting for its turn in key order; its strings and
 * bytes are in the pending set's arena. */
typedef struct {
	size_t table;                  /* in the tables' list */
	size_t path, key, data, len;   /* offsets into the arena; the blob's length */
	const char *name;              /* the encoded key, set just before the sort */
} pending_row;

typedef struct {
	pending_row *v;
	size_t n, alloc;
	ts_buf arena;
} pending_rows;

/* The bytes of inserted rows that wait to be written in key order. */
#define PENDING_BYTES ((size_t)4 << 20)
static size_t pending_bytes = PENDING_BYTES;

void ts_apply__set_pending_bytes(size_t bytes)
{
	pending_bytes = bytes ? bytes : PENDING_BYTES;
}

typedef struct {
	sqlite3 *db;
	ts_tables *tables;
	sqlite3_stmt **upsert;   /* per table, prepared on first use */
	sqlite3_stmt **remove;
	sqlite3_stmt **select;   /* per table, a row by its key */
	sqlite3_stmt **update;   /* per table, the last UPDATE of changed columns */
	char **update_sql;       /*   and its text: the next row changing the same
	                          *   columns reuses it */
	ts_apply_stats *stats;
	int schema_version;
	int batch_ms;            /* > 0: look for waiting writers this often */
	double batch_start;      /* when the transaction began */
	double looked;           /* when waiting writers were last looked for */
	staged_keys *staged;     /* rows to leave to ts_apply__staged(), or NULL */
	ts_progress_meter *progress;   /* phase "writing rows", or NULL */
	size_t rows_seen;        /* rows written, deleted or left so far */
	pending_rows pending;    /* rows to write, in key order (see the top) */
} applier;

static int prepare_upsert(sqlite3_stmt **out, sqlite3 *db, const ts_table *t)
{
	ts_buf sql = TS_BUF_INIT;
	int c, k, error = 0;

	ts_buf__printf(&sql, "INSERT INTO \"%s\" (", t->name);
	for (c = 0; c < t->ncol; c++)
		ts_buf__printf(&sql, "%s\"%s\"", c ? ", " : "", t->cols[c]);
	ts_buf__puts(&sql, ") VALUES (");
	for (c = 0; c < t->ncol; c++)
		ts_buf__printf(&sql, "%s?%d", c ? ", " : "", c + 1);
	ts_buf__puts(&sql, ") ON CONFLICT (");
	for (k = 0; k < t->npk; k++)
		ts_buf__printf(&sql, "%s\"%s\"", k ? ", " : "", t->cols[t->pk[k]]);
	ts_buf__puts(&sql, ") DO ");
	if (t->npk == t->ncol) {
		ts_buf__puts(&sql, "NOTHING");
	} else {
		/* a row already equal is not written: no work, and no trigger of an
		 * append-only table fires for it */
		ts_buf where = TS_BUF_INIT;
		ts_buf__puts(&sql, "UPDATE SET ");
		for (c = 0; c < t->ncol; c++) {
			int is_key = 0;
			for (k = 0; k < t->npk; k++)
				is_key |= t->pk[k] == c;
			if (is_key)
				continue;
			ts_buf__printf(&sql, "%s\"%s\" = excluded.\"%s\"", where.size ? ", " : "", t->cols[c], t->cols[c]);
			ts_buf__printf(&where, "%s\"%s\" IS NOT excluded.\"%s\"", where.size ? " OR " : " WHERE ",
				t->cols[c], t->cols[c]);
		}
		ts_buf__put(&sql, where.ptr, where.size);
		ts_buf__dispose(&where);
	}
	if (ts_buf__oom(&sql) || sqlite3_prepare_v2(db, sql.ptr, -1, out, NULL) != SQLITE_OK)
		error = ts_sqlite__error(db, "preparing writes to %s", t->name);
	ts_buf__dispose(&sql);
	return error;
}

/* Prepares `sql` (its text so far, then "WHERE" the key columns equal
 * ?1, ?2, ... in key order); `what` names the statement in an error. */
static int prepare_by_key(sqlite3_stmt **out, sqlite3 *db, const ts_table *t, ts_buf *sql, const char *what)
{
	int k, error = 0;

	ts_buf__puts(sql, " WHERE ");
	for (k = 0; k < t->npk; k++)
		ts_buf__printf(sql, "%s\"%s\" = ?%d", k ? " AND " : "", t->cols[t->pk[k]], k + 1);
	if (ts_buf__oom(sql) || sqlite3_prepare_v2(db, sql->ptr, -1, out, NULL) != SQLITE_OK)
		error = ts_sqlite__error(db, "preparing %s %s", what, t->name);
	ts_buf__dispose(sql);
	return error;
}

static int prepare_remove(sqlite3_stmt **out, sqlite3 *db, const ts_table *t)
{
	ts_buf sql = TS_BUF_INIT;

	ts_buf__printf(&sql, "DELETE FROM \"%s\"", t->name);
	return prepare_by_key(out, db, t, &sql, "deletes from");
}

/* The row of `t` with a key, every column in the table's order. */
static int prepare_select(sqlite3_stmt **out, sqlite3 *db, const ts_table *t)
{
	ts_buf sql = TS_BUF_INIT;
	int c;

	ts_buf__puts(&sql, "SELECT ");
	for (c = 0; c < t->ncol; c++)
		ts_buf__printf(&sql, "%s\"%s\"", c ? ", " : "", t->cols[c]);
	ts_buf__printf(&sql, " FROM \"%s\"", t->name);
	return prepare_by_key(out, db, t, &sql, "reads of");
}

static int step(sqlite3_stmt *st, sqlite3 *db, const char *table, const char *key)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return ts_sqlite__error(db, "applying %s %s", table, key);
	return 0;
}

/* Column c of `t` in `row`: where a row decoded from history has it (the
 * table's order), else looked up by name. */
static const ts_value *column(const ts_row *row, const ts_table *t, int c)
{
	if (row && c < row->ncol && !strcmp(row->names[c], t->cols[c]))
		return &row->values[c];
	return ts_row__get(row, t->cols[c]);
}

/* A row must have exactly its table's columns. */
static int bind_row_check(const ts_table *t, const ts_row *row, const char *key)
{
	int c;
	if (row->ncol != t->ncol)
		return ts_error_set(TS_ECORRUPT, "row %s %s has %d columns; the table has %d",
			t->name, key, row->ncol, t->ncol);
	for (c = 0; c < t->ncol; c++)
		if (!column(row, t, c))
			return ts_error_set(TS_ECORRUPT, "row %s %s lacks column %s", t->name, key, t->cols[c]);
	return 0;
}

/* Binds every column of `row` to the upsert of `t`. */
static int bind_row(sqlite3_stmt *st, const ts_table *t, const ts_row *row, const char *key)
{
	int c, error;
	if ((error = bind_row_check(t, row, key)) < 0)
		return error;
	for (c = 0; c < t->ncol; c++)
		ts_value__bind(st, c + 1, column(row, t, c));
	return 0;
}

/* Binds the key columns of `row` to the delete of `t`. */
static int bind_key(sqlite3_stmt *st, const ts_table *t, const ts_row *row)
{
	int k;
	for (k = 0; k < t->npk; k++) {
		const ts_value *v = ts_row__get(row, t->cols[t->pk[k]]);
		if (!v)
			return ts_error_set(TS_ECORRUPT, "a row of %s has no key", t->name);
		ts_value__bind(st, k + 1, v);
	}
	return 0;
}

/*
 * A row both trees hold: only its changed columns are written, which costs
 * a fraction of rewriting every column and every index of the row. The
 * database holds the old tree's row, so the result is the new one. The old
 * row is read from the database (its blob is not read from history: on a
 * large node that read is a page of a pack far from any other). 1 when the
 * database has no such row.
 */
static int update_changed(applier *a, const ts_table *t, const ts_audit_change *ch)
{
	sqlite3_stmt *st = NULL, *cur;
	ts_buf sql = TS_BUF_INIT;
	size_t ti = (size_t)(t - a->tables->list);
	int c, k, n = 0, rc, error;

	if ((error = bind_row_check(t, ch->new_row, ch->key)) < 0)
		return error;
	if (!a->select[ti] && (error = prepare_select(&a->select[ti], a->db, t)) < 0)
		return error;
	cur = a->select[ti];
	if ((error = bind_key(cur, t, ch->new_row)) < 0)
		return error;
	if ((rc = sqlite3_step(cur)) != SQLITE_ROW) {
		sqlite3_reset(cur);
		return rc == SQLITE_DONE ? 1 : ts_sqlite__error(a->db, "reading %s %s", t->name, ch->key);
	}
	ts_buf__printf(&sql, "UPDATE \"%s\" SET ", t->name);
	for (c = 0; c < t->ncol; c++) {
		if (ts_value__equal_sqlite(column(ch->new_row, t, c), sqlite3_column_value(cur, c)))
			continue;
		ts_buf__printf(&sql, "%s\"%s\" = ?%d", n ? ", " : "", t->cols[c], c + 1);
		n++;
	}
	sqlite3_reset(cur);
	if (n == 0) {
		ts_buf__dispose(&sql);
		return 0;
	}
	ts_buf__puts(&sql, " WHERE ");
	for (k = 0; k < t->npk; k++)
		ts_buf__printf(&sql, "%s\"%s\" = ?%d", k ? " AND " : "", t->cols[t->pk[k]], t->pk[k] + 1);
	if (ts_buf__oom(&sql)) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	if (!a->update_sql[ti] || strcmp(a->update_sql[ti], sql.ptr)) {
		sqlite3_finalize(a->update[ti]);
		free(a->update_sql[ti]);
		a->update[ti] = NULL;
		a->update_sql[ti] = NULL;
		if (sqlite3_prepare_v2(a->db, sql.ptr, -1, &a->update[ti], NULL) != SQLITE_OK) {
			error = ts_sqlite__error(a->db, "preparing writes to %s", t->name);
			goto done;
		}
		a->update_sql[ti] = ts_buf__detach(&sql);
	}
	st = a->update[ti];
	for (c = 0; c < t->ncol; c++)
		ts_value__bind(st, c + 1, column(ch->new_row, t, c));
	a->stats->upserts++;
	error = step(st, a->db, t->name, ch->key);
done:
	ts_buf__dispose(&sql);
	return error;
}

/* Remembers the key of `row` in `keys` (a table's written or removed rows). */
static int copy_key(ts_value *out, const ts_table *t, const ts_row *row);

static int keep_key(ts_apply_keys *keys, const ts_table *t, const ts_row *row)
{
	int error;

	if (keys->n == keys->alloc) {
		size_t na = keys->alloc ? keys->alloc * 2 : 64;
		ts_value *nv = realloc(keys->v, na * t->npk * sizeof(*nv));
		if (!nv)
			return ts_error_set(TS_ERROR, "out of memory");
		keys->v = nv;
		keys->alloc = na;
	}
	if ((error = copy_key(&keys->v[keys->n * t->npk], t, row)) < 0)
		return error;
	keys->n++;
	return 0;
}

static int apply_row(applier *a, const ts_audit_change *ch)
{
	ts_table *t = ts_tables__find(a->tables, ch->table);
	size_t ti;
	int error;

	if (!t)
		return ts_error_set(TS_EINVALID, "incoming rows of table %s, which this database lacks", ch->table);
	ti = (size_t)(t - a->tables->list);
	if (ti < TS_APPLY_MAX_TABLES)
		a->stats->touched[ti] = 1;
	if (a->stats->written && (error = keep_key(ch->new_row ? &a->stats->written[ti] : &a->stats->removed[ti],
			t, ch->new_row ? ch->new_row : ch->old_row)) < 0)
		return error;
	if (ch->new_row && ch->op == TS_AUDIT_UPDATE && (error = update_changed(a, t, ch)) <= 0)
		return error;
	if (ch->new_row) {
		if (!a->upsert[ti] && prepare_upsert(&a->upsert[ti], a->db, t) < 0)
			return TS_ERROR;
		if ((error = bind_row(a->upsert[ti], t, ch->new_row, ch->key)) < 0) {
			sqlite3_clear_bindings(a->upsert[ti]);
			return error;
		}
		a->stats->upserts++;
		return step(a->upsert[ti], a->db, ch->table, ch->key);
	}
	if (!a->remove[ti] && prepare_remove(&a->remove[ti], a->db, t) < 0)
		return TS_ERROR;
	if ((error = bind_key(a->remove[ti], t, ch->old_row)) < 0)
		return error;
	a->stats->deletes++;
	return step(a->remove[ti], a->db, ch->table, ch->key);
}

int ts_apply__one(sqlite3 *db, const ts_table *t, const ts_row *row, const ts_row *key_row)
{
	sqlite3_stmt *st = NULL;
	int error;

	if ((error = row ? prepare_upsert(&st, db, t) : prepare_remove(&st, db, t)) < 0)
		return error;
	if ((error = row ? bind_row(st, t, row, "") : bind_key(st, t, key_row)) == 0)
		error = step(st, db, t->name, "");
	sqlite3_finalize(st);
	return error;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int exec(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return ts_sqlite__error(db, "applying: %s", sql);
	return 0;
}

/* 1 when `path` is in the set; *at is where it is or would go. */
static int staged_keys_find(size_t *at, const staged_keys *k, const char *path)
{
	size_t lo = 0, hi = k->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(k->v[mid], path);
		if (c == 0) {
			*at = mid;
			return 1;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return 0;
}

/* Adds the key of the changeset's current operation to the set. */
static int staged_key_add(sqlite3_changeset_iter *it, void *payload)
{
	staged_keys *k = payload;
	sqlite3_value *vals[64];
	size_t at;
	ts_table *t;
	int op, error;

	if ((error = ts_staged__op_key(&t, &op, vals, &k->path, k->tables, it)) < 0)
		return error;
	if (staged_keys_find(&at, k, k->path.ptr))
		return 0;
	if (k->n == k->alloc) {
		size_t na = k->alloc ? k->alloc * 2 : 16;
		char **nv = realloc(k->v, na * sizeof(*nv));
		if (!nv)
			return ts_error_set(TS_ERROR, "out of memory");
		k->v = nv;
		k->alloc = na;
	}
	memmove(k->v + at + 1, k->v + at, (k->n - at) * sizeof(*k->v));
	if (!(k->v[at] = strdup(k->path.ptr)))
		return ts_error_set(TS_ERROR, "out of memory");
	k->n++;
	return 0;
}

static int staged_keys_add(const ts_staged_write *w, void *payload)
{
	staged_keys *k = payload;
	k->after = w->seq;
	return ts_staged__write_foreach_op(w, staged_key_add, k);
}

/* Takes in the writes staged since the last look. */
static int staged_keys_refresh(staged_keys *k, sqlite3 *db)
{
	return ts_capture__foreach_after(db, k->after, staged_keys_add, k);
}


static void staged_keys_dispose(staged_keys *k)
{
	size_t i;
	for (i = 0; i < k->n; i++)
		free(k->v[i]);
	free(k->v);
	ts_buf__dispose(&k->path);
}

/* Copies the key of `row` (a row of `t`) into `out` (npk values). */
static int copy_key(ts_value *out, const ts_table *t, const ts_row *row)
{
	int k;
	memset(out, 0, t->npk * sizeof(*out));
	for (k = 0; k < t->npk; k++) {
		const ts_value *from = ts_row__get(row, t->cols[t->pk[k]]);
		if (!from) {
			while (k-- > 0)
				ts_value__dispose(&out[k]);
			return ts_error_set(TS_ECORRUPT, "a row of %s has no key", t->name);
		}
		out[k] = *from;
		out[k].p = NULL;
		if (from->p && !(out[k].p = malloc(from->n + 1))) {
			while (k-- > 0)
				ts_value__dispose(&out[k]);
			return ts_error_set(TS_ERROR, "out of memory");
		}
		if (from->p)
			memcpy(out[k].p, from->p, from->n + 1);
	}
	return 0;
}

/* A row of a local write: left for ts_apply__staged(), which lays the staged
 * writes over the target's row, or writes the target's row where they
 * cancel out. Its key is checked for foreign keys like any written row. */
static int skip_row(applier *a, const ts_audit_change *ch)
{
	ts_apply_stats *s = a->stats;
	ts_table *t = ts_tables__find(a->tables, ch->table);
	const ts_row *row = ch->new_row ? ch->new_row : ch->old_row;
	ts_apply_skipped *e;
	size_t ti;
	int error;

	if (!t)
		return ts_error_set(TS_EINVALID, "incoming rows of table %s, which this database lacks", ch->table);
	ti = (size_t)(t - a->tables->list);
	if (ti < TS_APPLY_MAX_TABLES)
		s->touched[ti] = 1;
	if (s->written && (error = keep_key(ch->new_row ? &s->written[ti] : &s->removed[ti], t, row)) < 0)
		return error;
	if (s->nskipped == s->askipped) {
		size_t na = s->askipped ? s->askipped * 2 : 16;
		ts_apply_skipped *nv = realloc(s->skipped, na * sizeof(*nv));
		if (!nv)
			return ts_error_set(TS_ERROR, "out of memory");
		s->skipped = nv;
		s->askipped = na;
	}
	e = &s->skipped[s->nskipped];
	memset(e, 0, sizeof(*e));
	e->table = (int)ti;
	if (!(e->key = calloc(t->npk, sizeof(ts_value))) || !(e->path = strdup(ch->path))) {
		free(e->key);
		return ts_error_set(TS_ERROR, "out of memory");
	}
	if ((error = copy_key(e->key, t, row)) < 0) {
		free(e->key);
		free(e->path);
		return error;
	}
	s->nskipped++;
	return 0;
}

static int skipped_cmp(const void *a, const void *b)
{
	return strcmp(((const ts_apply_skipped *)a)->path, ((const ts_apply_skipped *)b)->path);
}

static void keys_dispose(ts_apply_keys *keys, int ntables, ts_tables *tables)
{
	int t;
	size_t i;
	for (t = 0; keys && t < ntables; t++) {
		for (i = 0; i < keys[t].n * (size_t)tables->list[t].npk; i++)
			ts_value__dispose(&keys[t].v[i]);
		free(keys[t].v);
	}
	free(keys);
}

void ts_apply__stats_dispose(ts_apply_stats *stats)
{
	size_t i;
	int k;
	for (i = 0; i < stats->nskipped; i++) {
		for (k = 0; stats->tables && k < stats->tables->list[stats->skipped[i].table].npk; k++)
			ts_value__dispose(&stats->skipped[i].key[k]);
		free(stats->skipped[i].key);
		free(stats->skipped[i].path);
	}
	free(stats->skipped);
	stats->skipped = NULL;
	stats->nskipped = stats->askipped = 0;
	keys_dispose(stats->written, stats->ntables, stats->tables);
	keys_dispose(stats->removed, stats->ntables, stats->tables);
	stats->written = stats->removed = NULL;
	stats->ntables = 0;
}

/* The longest a transaction of a batched apply runs with no writer waiting. */
#define BATCH_MAX_MS 1000

/* Ends the batch: commit, let the waiting local writes in, begin again. */
static int next_batch(applier *a)
{
	int error;
	if ((error = exec(a->db, "COMMIT")) < 0)
		return error;
	ts_capture__yield(a->db);
	if ((error = exec(a->db, "BEGIN IMMEDIATE")) < 0 ||
	    (error = staged_keys_refresh(a->staged, a->db)) < 0)
		return error;
	a->batch_start = a->looked = now_ms();
	return 0;
}

/* Ends the batch when a local write waits for it, or when it is long. */
static int batch_check(applier *a)
{
	double now = now_ms();

	if (a->batch_ms <= 0 || now - a->looked < a->batch_ms)
		return 0;
	a->looked = now;
	if (now - a->batch_start >= BATCH_MAX_MS || ts_capture__writers_waiting(a->db))
		return next_batch(a);
	return 0;
}

/* Writes one row change, or leaves it to ts_apply__staged() when a local
 * write staged the row. An inserted or updated row comes as its blob's
 * bytes (TS_AUDIT_NEW_BYTES), decoded here. */
static int write_row(applier *a, const ts_audit_change *ch)
{
	ts_audit_change decoded;
	ts_row *row = NULL;
	size_t at;
	int error;

	if (ch->new_data && !ch->new_row) {
		if ((error = ts_audit__new_row(&row, ch)) < 0)
			return error;
		decoded = *ch;
		decoded.new_row = row;
		ch = &decoded;
	}
	if (a->staged && staged_keys_find(&at, a->staged, ch->path))
		error = skip_row(a, ch);
	else if ((error = apply_row(a, ch)) == 0)
		error = batch_check(a);
	ts_row__free(row);
	return error;
}

/* Integer keys ("#" and the decimal) in numeric order, others by bytes. */
static int pending_cmp(const void *x, const void *y)
{
	const pending_row *a = x, *b = y;
	const char *p = a->name, *q = b->name;

	if (a->table != b->table)
		return a->table < b->table ? -1 : 1;
	if (p[0] == '#' && q[0] == '#' && !strchr(p, ',') && !strchr(q, ',') &&
	    (p[1] == '-' || (p[1] >= '0' && p[1] <= '9')) && (q[1] == '-' || (q[1] >= '0' && q[1] <= '9'))) {
		long long i = strtoll(p + 1, NULL, 10), j = strtoll(q + 1, NULL, 10);
		if (i != j)
			return i < j ? -1 : 1;
	}
	return strcmp(p, q);
}

/* Writes the rows that wait, in the order of their keys. */
static int flush_pending(applier *a)
{
	pending_rows *p = &a->pending;
	const char *arena = p->arena.ptr;
	size_t i;
	int error = 0;

	for (i = 0; i < p->n; i++) {
		const char *path = arena + p->v[i].path, *slash = strrchr(path, '/');
		p->v[i].name = slash ? slash + 1 : path;
	}
	if (p->n > 1)
		qsort(p->v, p->n, sizeof(*p->v), pending_cmp);
	for (i = 0; i < p->n && error == 0; i++) {
		const pending_row *r = &p->v[i];
		ts_audit_change ch;

		memset(&ch, 0, sizeof(ch));
		ch.op = TS_AUDIT_INSERT;
		ch.path = arena + r->path;
		ch.table = a->tables->list[r->table].name;
		ch.key = arena + r->key;
		ch.new_data = arena + r->data;
		ch.new_len = r->len;
		error = write_row(a, &ch);
	}
	p->n = 0;
	ts_buf__clear(&p->arena);
	return error;
}

/* Keeps an inserted row to write in key order. */
static int add_pending(applier *a, const ts_audit_change *ch)
{
	pending_rows *p = &a->pending;
	ts_table *t = ts_tables__find(a->tables, ch->table);
	pending_row *r;

	if (!t)
		return ts_error_set(TS_EINVALID, "incoming rows of table %s, which this database lacks", ch->table);
	if (p->n == p->alloc) {
		size_t na = p->alloc ? p->alloc * 2 : 1024;
		pending_row *nv = realloc(p->v, na * sizeof(*nv));
		if (!nv)
			return ts_error_set(TS_ERROR, "out of memory");
		p->v = nv;
		p->alloc = na;
	}
	if (!p->arena.asize)
		ts_buf__grow(&p->arena, pending_bytes + (pending_bytes >> 3));
	r = &p->v[p->n];
	r->table = (size_t)(t - a->tables->list);
	r->path = p->arena.size;
	ts_buf__put(&p->arena, ch->path, strlen(ch->path) + 1);
	r->key = p->arena.size;
	ts_buf__put(&p->arena, ch->key, strlen(ch->key) + 1);
	r->data = p->arena.size;
	r->len = ch->new_len;
	ts_buf__put(&p->arena, ch->new_data, ch->new_len);
	if (ts_buf__oom(&p->arena))
		return ts_error_set(TS_ERROR, "out of memory");
	p->n++;
	if (p->arena.size >= pending_bytes)
		return flush_pending(a);
	return batch_check(a);
}

static int apply_change(const ts_audit_change *ch, void *payload)
{
	applier *a = payload;

	if (ch->table) {
		ts_progress__update(a->progress, ++a->rows_seen);
		return ch->op == TS_AUDIT_INSERT ? add_pending(a, ch) : write_row(a, ch);
	}
	if (!strcmp(ch->path, TS_STORE_SCHEMA_PATH)) {
		int theirs = ch->new_data ? atoi(ch->new_data) : 0;
		if (theirs != a->schema_version)
			return ts_error_set(TS_EINVALID, "the incoming history has schema version %d and this "
				"database %d; upgrade the older node first", theirs, a->schema_version);
		return 0;
	}
	return ts_error_set(TS_ECORRUPT, "incoming history holds %s, which is no row", ch->path);
}

typedef struct {
	ts_progress_meter *progress;
	size_t rows;
} row_count;

static int count_row(const ts_audit_change *ch, void *payload)
{
	row_count *c = payload;
	if (ch->table)
		ts_progress__update(c->progress, ++c->rows);
	return 0;
}

int ts_apply__count(size_t *out, git_repository *repo, ts_tables *tables, const git_oid *from_tree,
	const git_oid *to_tree, const ts_diffmemo *memo, ts_progress_meter *progress)
{
	row_count c = { progress, 0 };
	git_tree *from = NULL, *to = NULL;
	int error;

	*out = 0;
	if ((from_tree && git_tree_lookup(&from, repo, from_tree) < 0) || git_tree_lookup(&to, repo, to_tree) < 0) {
		git_tree_free(from);
		return ts_error_set(TS_ECORRUPT, "reading the trees to apply: %s", git_error_last()->message);
	}
	ts_progress__begin(progress, "comparing trees", 0);
	error = ts_audit__diff(repo, from, to, tables, 0, memo, count_row, &c);
	ts_progress__end(progress);
	git_tree_free(from);
	git_tree_free(to);
	*out = c.rows;
	return error;
}

static int apply_trees(ts_apply_stats *stats, sqlite3 *db, git_repository *repo, ts_tables *tables,
	const git_oid *from_tree, const git_oid *to_tree, const ts_diffmemo *memo, int batch_ms,
	ts_progress_meter *progress, size_t total)
{
	ts_apply_stats none;
	git_tree *from = NULL, *to = NULL;
	ts_buf version = TS_BUF_INIT;
	staged_keys staged;
	applier a;
	int i, error;

	memset(&a, 0, sizeof(a));
	memset(&staged, 0, sizeof(staged));
	if (!stats)
		stats = &none;
	memset(stats, 0, sizeof(*stats));
	a.db = db;
	a.tables = tables;
	a.stats = stats;
	if (batch_ms >= 0) {
		stats->tables = tables;
		stats->ntables = tables->n;
		if (!(stats->written = calloc(tables->n ? tables->n : 1, sizeof(ts_apply_keys))) ||
		    !(stats->removed = calloc(tables->n ? tables->n : 1, sizeof(ts_apply_keys)))) {
			error = ts_error_set(TS_ERROR, "out of memory");
			goto done;
		}
		staged.tables = tables;
		a.staged = &staged;
		a.batch_ms = batch_ms;
		a.batch_start = a.looked = now_ms();
		if ((error = staged_keys_refresh(&staged, db)) < 0)
			goto done;
	}
	ts_history__schema_blob(&version, db);
	a.schema_version = atoi(ts_buf__cstr(&version));
	if (tables->n > TS_APPLY_MAX_TABLES) {
		error = ts_error_set(TS_EINVALID, "more than %d synced tables", TS_APPLY_MAX_TABLES);
		goto done;
	}
	a.upsert = calloc(tables->n ? tables->n : 1, sizeof(*a.upsert));
	a.remove = calloc(tables->n ? tables->n : 1, sizeof(*a.remove));
	a.select = calloc(tables->n ? tables->n : 1, sizeof(*a.select));
	a.update = calloc(tables->n ? tables->n : 1, sizeof(*a.update));
	a.update_sql = calloc(tables->n ? tables->n : 1, sizeof(*a.update_sql));
	if (!a.upsert || !a.remove || !a.select || !a.update || !a.update_sql) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	if ((from_tree && git_tree_lookup(&from, repo, from_tree) < 0) || git_tree_lookup(&to, repo, to_tree) < 0) {
		error = ts_error_set(TS_ECORRUPT, "reading the trees to apply: %s", git_error_last()->message);
		goto done;
	}
	a.progress = progress;
	ts_progress__begin(progress, "writing rows", total);
	error = ts_audit__diff(repo, from, to, tables, TS_AUDIT_ROWS | TS_AUDIT_NEW_ONLY | TS_AUDIT_NEW_BYTES,
		memo, apply_change, &a);
	if (error == 0)
		error = flush_pending(&a);
	if (stats->nskipped > 1)
		qsort(stats->skipped, stats->nskipped, sizeof(*stats->skipped), skipped_cmp);
done:
	ts_progress__end(progress);
	for (i = 0; a.upsert && a.remove && a.select && a.update && a.update_sql && i < tables->n; i++) {
		sqlite3_finalize(a.upsert[i]);
		sqlite3_finalize(a.remove[i]);
		sqlite3_finalize(a.select[i]);
		sqlite3_finalize(a.update[i]);
		free(a.update_sql[i]);
	}
	free(a.upsert);
	free(a.remove);
	free(a.select);
	free(a.update);
	free(a.update_sql);
	git_tree_free(from);
	git_tree_free(to);
	ts_buf__dispose(&version);
	free(a.pending.v);
	ts_buf__dispose(&a.pending.arena);
	staged_keys_dispose(&staged);
	if (stats == &none)
		ts_apply__stats_dispose(&none);
	return error;
}

int ts_apply(ts_apply_stats *stats, sqlite3 *db, git_repository *repo, ts_tables *tables,
	const git_oid *from_tree, const git_oid *to_tree)
{
	return apply_trees(stats, db, repo, tables, from_tree, to_tree, NULL, -1, NULL, 0);
}

int ts_apply__batched(ts_apply_stats *stats, sqlite3 *db, git_repository *repo, ts_tables *tables,
	const git_oid *from_tree, const git_oid *to_tree, const ts_diffmemo *memo, int batch_ms,
	ts_progress_meter *progress, size_t total)
{
	return apply_trees(stats, db, repo, tables, from_tree, to_tree, memo, batch_ms, progress, total);
}

/* The row at `path` in `tree`, or *out NULL when the tree has none. */
static int tree_row(ts_row **out, git_repository *repo, git_tree *tree, const char *path)
{
	git_tree_entry *e = NULL;
	git_blob *blob = NULL;
	int error = 0;

	*out = NULL;
	if (git_tree_entry_bypath(&e, tree, path) < 0)
		return 0;
	if (git_blob_lookup(&blob, repo, git_tree_entry_id(e)) < 0)
		error = ts_error_set(TS_ECORRUPT, "reading %s: %s", path, git_error_last()->message);
	else
		error = ts_rowcodec__decode(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	git_blob_free(blob);
	git_tree_entry_free(e);
	return error;
}

/* Writes one combined staged operation over the tree's row. */
static int stage_over(sqlite3 *db, git_repository *repo, git_tree *tree, ts_tables *tables,
	sqlite3_changeset_iter *it, ts_buf *path, ts_apply_stats *left)
{
	sqlite3_value *key[64];
	sqlite3_stmt *st = NULL;
	ts_row *row = NULL;
	int op, c, error;
	ts_table *t;

	if ((error = ts_staged__op_key(&t, &op, key, path, tables, it)) < 0)
		return error;
	/* a row the apply wrote holds the tree's row with the write on top */
	if (left) {
		ts_apply_skipped want, *found;
		want.path = path->ptr;
		if (!left->nskipped ||
		    !(found = bsearch(&want, left->skipped, left->nskipped, sizeof(want), skipped_cmp)))
			return 0;
		found->visited = 1;
	}
	if (op == SQLITE_DELETE) {
		if ((error = prepare_remove(&st, db, t)) < 0)
			return error;
		for (c = 0; c < t->npk; c++)
			sqlite3_bind_value(st, c + 1, key[c]);
		goto write;
	}
	if (op == SQLITE_UPDATE) {
		if ((error = tree_row(&row, repo, tree, path->ptr)) < 0)
			return error;
		/* the result deleted the row the write updated: the database keeps
		 * the updated row, and the write, when committed, brings it back */
		if (!row)
			return 0;
		if ((error = bind_row_check(t, row, path->ptr)) < 0)
			goto done;
	}
	if ((error = prepare_upsert(&st, db, t)) < 0)
		goto done;
	for (c = 0; c < t->ncol; c++) {
		sqlite3_value *nv = NULL;
		sqlite3changeset_new(it, c, &nv);
		if (nv)
			sqlite3_bind_value(st, c + 1, nv);
		else if (row)
			ts_value__bind(st, c + 1, ts_row__get(row, t->cols[c]));
	}
write:
	error = step(st, db, t->name, "");
done:
	sqlite3_finalize(st);
	ts_row__free(row);
	return error;
}

static int add_to_group(const ts_staged_write *w, void *payload)
{
	if (sqlite3changegroup_add(payload, w->size, (void *)w->changeset) != SQLITE_OK)
		return ts_error_set(TS_ECORRUPT, "staged write %lld is damaged", (long long)w->seq);
	return 0;
}

/* A left row no staged write ended up changing (they cancelled out): it
 * takes the tree's row, or goes if the tree has none. */
static int take_tree_row(sqlite3 *db, git_repository *repo, git_tree *tree, ts_tables *tables,
	const ts_apply_skipped *e)
{
	const ts_table *t = &tables->list[e->table];
	sqlite3_stmt *st = NULL;
	ts_row *row = NULL;
	int k, error;

	if ((error = tree_row(&row, repo, tree, e->path)) < 0)
		return error;
	if ((error = row ? prepare_upsert(&st, db, t) : prepare_remove(&st, db, t)) < 0)
		goto done;
	if (row)
		error = bind_row(st, t, row, e->path);
	else
		for (k = 0; k < t->npk; k++)
			ts_value__bind(st, k + 1, &e->key[k]);
	if (error == 0)
		error = step(st, db, t->name, e->path);
done:
	sqlite3_finalize(st);
	ts_row__free(row);
	return error;
}

int ts_apply__staged(sqlite3 *db, git_repository *repo, ts_tables *tables, const git_oid *tree_id,
	ts_apply_stats *left)
{
	sqlite3_changegroup *group = NULL;
	sqlite3_changeset_iter *it = NULL;
	git_tree *tree = NULL;
	ts_buf path = TS_BUF_INIT;
	void *all = NULL;
	size_t i;
	int size = 0, rc, error;

	if (sqlite3changegroup_new(&group) != SQLITE_OK)
		return ts_error_set(TS_ERROR, "out of memory");
	if ((error = ts_capture__foreach(db, add_to_group, group)) < 0)
		goto done;
	if (sqlite3changegroup_output(group, &size, &all) != SQLITE_OK) {
		error = ts_error_set(TS_ECORRUPT, "staged writes do not combine");
		goto done;
	}
	if (size == 0 && (!left || !left->nskipped))
		goto done;
	if (git_tree_lookup(&tree, repo, tree_id) < 0) {
		error = ts_error_set(TS_ECORRUPT, "reading the tree: %s", git_error_last()->message);
		goto done;
	}
	if (size > 0) {
		if (sqlite3changeset_start(&it, size, all) != SQLITE_OK) {
			error = ts_error_set(TS_ECORRUPT, "staged writes are damaged");
			goto done;
		}
		while ((rc = sqlite3changeset_next(it)) == SQLITE_ROW)
			if ((error = stage_over(db, repo, tree, tables, it, &path, left)) < 0)
				break;
		if (!error && rc != SQLITE_DONE)
			error = ts_error_set(TS_ECORRUPT, "staged writes are damaged");
	}
	for (i = 0; error == 0 && left && i < left->nskipped; i++)
		if (!left->skipped[i].visited)
			error = take_tree_row(db, repo, tree, tables, &left->skipped[i]);
done:
	sqlite3changeset_finalize(it);
	sqlite3changegroup_delete(group);
	sqlite3_free(all);
	git_tree_free(tree);
	ts_buf__dispose(&path);
	return error;
}
