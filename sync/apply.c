/*
 * Apply: tree diff -> working database.
 *
 * Each changed row becomes one statement: an upsert that names every
 * column of the table (INSERT ... ON CONFLICT (key) DO UPDATE), or a
 * delete by key. Statements are prepared once per table. Foreign keys of
 * the case schema are deferred, so the order of tables does not matter;
 * they are checked when the caller commits.
 */
#include "apply.h"

#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "history.h"
#include "rowcodec.h"
#include "tiersync.h"

typedef struct {
	sqlite3 *db;
	ts_tables *tables;
	sqlite3_stmt **upsert;   /* per table, prepared on first use */
	sqlite3_stmt **remove;
	ts_apply_stats *stats;
	int schema_version;
} applier;

static int prepare_upsert(sqlite3_stmt **out, sqlite3 *db, const ts_table *t)
{
	ts_buf sql = TS_BUF_INIT;
	int c, k, error = 0;

	ts_buf_printf(&sql, "INSERT INTO \"%s\" (", t->name);
	for (c = 0; c < t->ncol; c++)
		ts_buf_printf(&sql, "%s\"%s\"", c ? ", " : "", t->cols[c]);
	ts_buf_puts(&sql, ") VALUES (");
	for (c = 0; c < t->ncol; c++)
		ts_buf_printf(&sql, "%s?%d", c ? ", " : "", c + 1);
	ts_buf_puts(&sql, ") ON CONFLICT (");
	for (k = 0; k < t->npk; k++)
		ts_buf_printf(&sql, "%s\"%s\"", k ? ", " : "", t->cols[t->pk[k]]);
	ts_buf_puts(&sql, ") DO ");
	if (t->npk == t->ncol) {
		ts_buf_puts(&sql, "NOTHING");
	} else {
		int first = 1;
		ts_buf_puts(&sql, "UPDATE SET ");
		for (c = 0; c < t->ncol; c++) {
			int is_key = 0;
			for (k = 0; k < t->npk; k++)
				is_key |= t->pk[k] == c;
			if (is_key)
				continue;
			ts_buf_printf(&sql, "%s\"%s\" = excluded.\"%s\"", first ? "" : ", ", t->cols[c], t->cols[c]);
			first = 0;
		}
	}
	if (ts_buf_oom(&sql) || sqlite3_prepare_v2(db, sql.ptr, -1, out, NULL) != SQLITE_OK)
		error = ts_error_set(TS_ERROR, "preparing writes to %s: %s", t->name, sqlite3_errmsg(db));
	ts_buf_dispose(&sql);
	return error;
}

static int prepare_remove(sqlite3_stmt **out, sqlite3 *db, const ts_table *t)
{
	ts_buf sql = TS_BUF_INIT;
	int k, error = 0;

	ts_buf_printf(&sql, "DELETE FROM \"%s\" WHERE ", t->name);
	for (k = 0; k < t->npk; k++)
		ts_buf_printf(&sql, "%s\"%s\" = ?%d", k ? " AND " : "", t->cols[t->pk[k]], k + 1);
	if (ts_buf_oom(&sql) || sqlite3_prepare_v2(db, sql.ptr, -1, out, NULL) != SQLITE_OK)
		error = ts_error_set(TS_ERROR, "preparing deletes from %s: %s", t->name, sqlite3_errmsg(db));
	ts_buf_dispose(&sql);
	return error;
}

static int step(sqlite3_stmt *st, sqlite3 *db, const char *table, const char *key)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return ts_error_set((rc & 0xff) == SQLITE_CONSTRAINT ? TS_EINVALID : TS_ERROR,
			"applying %s %s: %s", table, key, sqlite3_errmsg(db));
	return 0;
}

/* A row must have exactly its table's columns. */
static int bind_row_check(const ts_table *t, const ts_row *row, const char *key)
{
	int c;
	if (row->ncol != t->ncol)
		return ts_error_set(TS_ECORRUPT, "row %s %s has %d columns; the table has %d",
			t->name, key, row->ncol, t->ncol);
	for (c = 0; c < t->ncol; c++)
		if (!ts_row_get(row, t->cols[c]))
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
		ts_value_bind(st, c + 1, ts_row_get(row, t->cols[c]));
	return 0;
}

/* Binds the key columns of `row` to the delete of `t`. */
static int bind_key(sqlite3_stmt *st, const ts_table *t, const ts_row *row)
{
	int k;
	for (k = 0; k < t->npk; k++) {
		const ts_value *v = ts_row_get(row, t->cols[t->pk[k]]);
		if (!v)
			return ts_error_set(TS_ECORRUPT, "a row of %s has no key", t->name);
		ts_value_bind(st, k + 1, v);
	}
	return 0;
}

/*
 * A row both trees hold: only its changed columns are written, which costs
 * a fraction of rewriting every column and every index of the row. The
 * database holds the old tree's row, so the result is the new one.
 */
static int update_changed(applier *a, const ts_table *t, const ts_audit_change *ch)
{
	sqlite3_stmt *st = NULL;
	ts_buf sql = TS_BUF_INIT;
	int c, k, n = 0, error;

	if ((error = bind_row_check(t, ch->new_row, ch->key)) < 0)
		return error;
	ts_buf_printf(&sql, "UPDATE \"%s\" SET ", t->name);
	for (c = 0; c < t->ncol; c++) {
		const ts_value *old = ts_row_get(ch->old_row, t->cols[c]);
		if (old && ts_value_equal(old, ts_row_get(ch->new_row, t->cols[c])))
			continue;
		ts_buf_printf(&sql, "%s\"%s\" = ?%d", n ? ", " : "", t->cols[c], c + 1);
		n++;
	}
	if (n == 0) {
		ts_buf_dispose(&sql);
		return 0;
	}
	ts_buf_puts(&sql, " WHERE ");
	for (k = 0; k < t->npk; k++)
		ts_buf_printf(&sql, "%s\"%s\" = ?%d", k ? " AND " : "", t->cols[t->pk[k]], t->pk[k] + 1);
	if (ts_buf_oom(&sql) || sqlite3_prepare_v2(a->db, sql.ptr, -1, &st, NULL) != SQLITE_OK) {
		error = ts_error_set(TS_ERROR, "preparing writes to %s: %s", t->name, sqlite3_errmsg(a->db));
		goto done;
	}
	for (c = 0; c < t->ncol; c++)
		ts_value_bind(st, c + 1, ts_row_get(ch->new_row, t->cols[c]));
	a->stats->upserts++;
	error = step(st, a->db, t->name, ch->key);
done:
	sqlite3_finalize(st);
	ts_buf_dispose(&sql);
	return error;
}

static int apply_row(applier *a, const ts_audit_change *ch)
{
	ts_table *t = ts_tables_find(a->tables, ch->table);
	size_t ti;
	int error;

	if (!t)
		return ts_error_set(TS_EINVALID, "incoming rows of table %s, which this database lacks", ch->table);
	ti = (size_t)(t - a->tables->t);
	if (ti < TS_APPLY_MAX_TABLES)
		a->stats->touched[ti] = 1;
	if (ch->new_row && ch->old_row)
		return update_changed(a, t, ch);
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

int ts_apply_one(sqlite3 *db, const ts_table *t, const ts_row *row, const ts_row *key_row)
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

static int apply_change(const ts_audit_change *ch, void *payload)
{
	applier *a = payload;

	if (ch->table)
		return apply_row(a, ch);
	if (!strcmp(ch->path, TS_STORE_SCHEMA_PATH)) {
		int theirs = ch->new_data ? atoi(ch->new_data) : 0;
		if (theirs != a->schema_version)
			return ts_error_set(TS_EINVALID, "the incoming history has schema version %d and this "
				"database %d; upgrade the older node first", theirs, a->schema_version);
		return 0;
	}
	return ts_error_set(TS_ECORRUPT, "incoming history holds %s, which is no row", ch->path);
}

int ts_apply(ts_apply_stats *stats, sqlite3 *db, git_repository *repo, ts_tables *tables,
	const git_oid *from_tree, const git_oid *to_tree)
{
	ts_apply_stats none;
	git_tree *from = NULL, *to = NULL;
	ts_buf version = TS_BUF_INIT;
	applier a;
	int i, error;

	memset(&a, 0, sizeof(a));
	if (!stats)
		stats = &none;
	memset(stats, 0, sizeof(*stats));
	a.db = db;
	a.tables = tables;
	a.stats = stats;
	ts_history_schema_blob(&version, db);
	a.schema_version = atoi(ts_buf_cstr(&version));
	if (tables->n > TS_APPLY_MAX_TABLES) {
		error = ts_error_set(TS_EINVALID, "more than %d synced tables", TS_APPLY_MAX_TABLES);
		goto done;
	}
	a.upsert = calloc(tables->n ? tables->n : 1, sizeof(*a.upsert));
	a.remove = calloc(tables->n ? tables->n : 1, sizeof(*a.remove));
	if (!a.upsert || !a.remove) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	if ((from_tree && git_tree_lookup(&from, repo, from_tree) < 0) || git_tree_lookup(&to, repo, to_tree) < 0) {
		error = ts_error_set(TS_ECORRUPT, "reading the trees to apply: %s", git_error_last()->message);
		goto done;
	}
	error = ts_audit_diff(repo, from, to, tables, TS_AUDIT_ROWS, apply_change, &a);
done:
	for (i = 0; a.upsert && a.remove && i < tables->n; i++) {
		sqlite3_finalize(a.upsert[i]);
		sqlite3_finalize(a.remove[i]);
	}
	free(a.upsert);
	free(a.remove);
	git_tree_free(from);
	git_tree_free(to);
	ts_buf_dispose(&version);
	return error;
}
