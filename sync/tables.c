/*
 * The synced tables of a database, learned from SQLite's own catalogue.
 */
#include "tables.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "tiersync.h"

int ts_table__name_synced(const char *name)
{
	return strncmp(name, "sqlite_", 7) && strncmp(name, "ts_", 3) && strncmp(name, "_tiersync", 9);
}

static int plain_identifier(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

static int load_table(ts_table *t, sqlite3 *db)
{
	sqlite3_stmt *info = NULL;
	ts_buf sql = TS_BUF_INIT;
	int error = 0, i, k;

	if (sqlite3_prepare_v2(db, "SELECT name, pk FROM pragma_table_info(?1) ORDER BY cid", -1, &info, NULL) != SQLITE_OK) {
		error = ts_sqlite__error(db, "reading table %s", t->name);
		goto done;
	}
	sqlite3_bind_text(info, 1, t->name, -1, SQLITE_STATIC);
	while (sqlite3_step(info) == SQLITE_ROW) {
		const char *col = (const char *)sqlite3_column_text(info, 0);
		int pk = sqlite3_column_int(info, 1);
		char **cols = realloc(t->cols, sizeof(*cols) * (t->ncol + 1));
		int *pks = realloc(t->pk, sizeof(*pks) * (t->ncol + 1));
		if (cols) t->cols = cols;
		if (pks) t->pk = pks;
		if (!cols || !pks || !(t->cols[t->ncol] = strdup(col))) {
			error = ts_error_set(TS_ERROR, "out of memory");
			goto done;
		}
		/* pragma pk is the 1-based position within the key; keep it for now */
		t->pk[t->ncol] = pk;
		t->ncol++;
	}
	/* turn per-column key positions into a key-ordered list of columns */
	{
		int *pos = t->pk;
		t->pk = calloc(t->ncol ? t->ncol : 1, sizeof(int));
		if (!t->pk) {
			t->pk = pos;
			error = ts_error_set(TS_ERROR, "out of memory");
			goto done;
		}
		for (i = 0; i < t->ncol; i++)
			if (pos[i] > 0 && pos[i] <= t->ncol) {
				t->pk[pos[i] - 1] = i;
				t->npk++;
			}
		free(pos);
	}
	if (t->npk == 0) {
		error = ts_error_set(TS_EINVALID, "table %s has no primary key; every synced table needs one", t->name);
		goto done;
	}
	for (i = 0; i < t->ncol; i++)
		if (!plain_identifier(t->cols[i])) {
			error = ts_error_set(TS_EINVALID, "column %s.\"%s\" is not a plain identifier", t->name, t->cols[i]);
			goto done;
		}
	ts_buf__puts(&sql, "SELECT ");
	for (i = 0; i < t->ncol; i++)
		ts_buf__printf(&sql, "%s\"%s\"", i ? ", " : "", t->cols[i]);
	ts_buf__printf(&sql, " FROM \"%s\" WHERE ", t->name);
	for (k = 0; k < t->npk; k++)
		ts_buf__printf(&sql, "%s\"%s\" = ?%d", k ? " AND " : "", t->cols[t->pk[k]], k + 1);
	if (ts_buf__oom(&sql)) {
		error = TS_ERROR;
		goto done;
	}
	if (sqlite3_prepare_v3(db, sql.ptr, -1, SQLITE_PREPARE_PERSISTENT, &t->get, NULL) != SQLITE_OK)
		error = ts_sqlite__error(db, "preparing a read of %s", t->name);
done:
	sqlite3_finalize(info);
	ts_buf__dispose(&sql);
	return error;
}

int ts_tables__load(ts_tables **out, sqlite3 *db)
{
	sqlite3_stmt *list = NULL;
	ts_tables *tables;
	int error = 0;

	*out = NULL;
	if (!(tables = calloc(1, sizeof(*tables))))
		return ts_error_set(TS_ERROR, "out of memory");
	if (sqlite3_prepare_v2(db, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name",
			-1, &list, NULL) != SQLITE_OK) {
		error = ts_sqlite__error(db, "listing tables");
		goto done;
	}
	while (sqlite3_step(list) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(list, 0);
		ts_table *grown;
		if (!ts_table__name_synced(name))
			continue;
		if (!plain_identifier(name)) {
			error = ts_error_set(TS_EINVALID, "table \"%s\" is not a plain identifier", name);
			goto done;
		}
		if (!(grown = realloc(tables->list, sizeof(*grown) * (tables->n + 1)))) {
			error = ts_error_set(TS_ERROR, "out of memory");
			goto done;
		}
		tables->list = grown;
		memset(&tables->list[tables->n], 0, sizeof(ts_table));
		if (!(tables->list[tables->n].name = strdup(name))) {
			error = ts_error_set(TS_ERROR, "out of memory");
			goto done;
		}
		tables->n++;
		if ((error = load_table(&tables->list[tables->n - 1], db)) < 0)
			goto done;
	}
done:
	sqlite3_finalize(list);
	if (error < 0)
		ts_tables__free(tables);
	else
		*out = tables;
	return error;
}

void ts_tables__free(ts_tables *tables)
{
	int i, j;
	if (!tables)
		return;
	for (i = 0; i < tables->n; i++) {
		ts_table *t = &tables->list[i];
		for (j = 0; j < t->ncol; j++)
			free(t->cols[j]);
		free(t->cols);
		free(t->pk);
		free(t->name);
		sqlite3_finalize(t->get);
	}
	free(tables->list);
	free(tables);
}

int ts_table__scan(sqlite3_stmt **out, sqlite3 *db, const ts_table *t)
{
	ts_buf sql = TS_BUF_INIT;
	int k, error = 0;

	*out = NULL;
	ts_buf__puts(&sql, "SELECT ");
	for (k = 0; k < t->ncol; k++)
		ts_buf__printf(&sql, "%s\"%s\"", k ? ", " : "", t->cols[k]);
	ts_buf__printf(&sql, " FROM \"%s\"", t->name);
	if (ts_buf__oom(&sql) || sqlite3_prepare_v2(db, sql.ptr, -1, out, NULL) != SQLITE_OK)
		error = ts_sqlite__error(db, "reading %s", t->name);
	ts_buf__dispose(&sql);
	return error;
}

ts_table *ts_tables__find(ts_tables *tables, const char *name)
{
	int lo = 0, hi = tables->n - 1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2, c = strcmp(tables->list[mid].name, name);
		if (c == 0)
			return &tables->list[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

int ts_table__col(const ts_table *t, const char *name)
{
	int i;
	for (i = 0; i < t->ncol; i++)
		if (!strcmp(t->cols[i], name))
			return i;
	return -1;
}

static int read_bound(ts_buf *blob, sqlite3 *db, ts_table *t)
{
	int rc = sqlite3_step(t->get), found = 0;

	if (rc == SQLITE_ROW) {
		found = 1;
		if (ts_rowcodec__encode_stmt(blob, t->get) < 0)
			found = TS_ERROR;
	} else if (rc != SQLITE_DONE)
		found = ts_sqlite__error(db, "reading %s", t->name);
	sqlite3_reset(t->get);
	sqlite3_clear_bindings(t->get);
	return found;
}

int ts_table__read(ts_buf *blob, sqlite3 *db, ts_table *t, sqlite3_value **key)
{
	int k;
	for (k = 0; k < t->npk; k++)
		sqlite3_bind_value(t->get, k + 1, key[k]);
	return read_bound(blob, db, t);
}

int ts_table__read_values(ts_buf *blob, sqlite3 *db, ts_table *t, const ts_value *key)
{
	int k;
	for (k = 0; k < t->npk; k++)
		ts_value__bind(t->get, k + 1, &key[k]);
	return read_bound(blob, db, t);
}

void ts_table__put_key(ts_buf *out, const ts_table *t, const ts_row *row)
{
	int k;
	for (k = 0; k < t->npk; k++) {
		const char *col = t->cols[t->pk[k]];
		const ts_value *v = ts_row__get(row, col);
		if (t->npk > 1)
			ts_buf__printf(out, "%s%s=", k ? ", " : "", col);
		if (v)
			ts_value__put_display(out, v);
	}
}
