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

/* Appends column `col` (its key position `pk`, 1-based, 0 if none). */
static int add_column(ts_table *t, const char *col, int pk)
{
	char **cols = realloc(t->cols, sizeof(*cols) * (t->ncol + 1));
	int *pks;

	if (cols)
		t->cols = cols;
	if (!cols || !(pks = realloc(t->pk, sizeof(*pks) * (t->ncol + 1))))
		return ts_error_set(TS_ERROR, "out of memory");
	t->pk = pks;
	if (!(t->cols[t->ncol] = strdup(col)))
		return ts_error_set(TS_ERROR, "out of memory");
	/* pragma pk is the 1-based position within the key; kept as it is
	 * until the table is complete */
	t->pk[t->ncol++] = pk;
	return 0;
}

/* Turns the columns' key positions into a key-ordered list of columns, and
 * checks what the engine needs of the table. */
static int finish_table(ts_table *t)
{
	int *pos = t->pk, i;

	if (!(t->pk = calloc(t->ncol ? t->ncol : 1, sizeof(int)))) {
		t->pk = pos;
		return ts_error_set(TS_ERROR, "out of memory");
	}
	for (i = 0; i < t->ncol; i++)
		if (pos[i] > 0 && pos[i] <= t->ncol) {
			t->pk[pos[i] - 1] = i;
			t->npk++;
		}
	free(pos);
	if (t->npk == 0)
		return ts_error_set(TS_EINVALID, "table %s has no primary key; every synced table needs one", t->name);
	for (i = 0; i < t->ncol; i++)
		if (!plain_identifier(t->cols[i]))
			return ts_error_set(TS_EINVALID, "column %s.\"%s\" is not a plain identifier", t->name, t->cols[i]);
	return 0;
}

/* Prepares the table's read by key, on its first use: a command reads the
 * rows of a few tables, and preparing a statement for each of the schema's
 * tables cost it more than its reads. */
static int prepare_get(ts_table *t)
{
	ts_buf sql = TS_BUF_INIT;
	int error = 0, i, k;

	ts_buf__puts(&sql, "SELECT ");
	for (i = 0; i < t->ncol; i++)
		ts_buf__printf(&sql, "%s\"%s\"", i ? ", " : "", t->cols[i]);
	ts_buf__printf(&sql, " FROM \"%s\" WHERE ", t->name);
	for (k = 0; k < t->npk; k++)
		ts_buf__printf(&sql, "%s\"%s\" = ?%d", k ? " AND " : "", t->cols[t->pk[k]], k + 1);
	if (ts_buf__oom(&sql))
		error = TS_ERROR;
	else if (sqlite3_prepare_v3(t->db, sql.ptr, -1, SQLITE_PREPARE_PERSISTENT, &t->get, NULL) != SQLITE_OK)
		error = ts_sqlite__error(t->db, "preparing a read of %s", t->name);
	ts_buf__dispose(&sql);
	return error;
}

/* Every table with its columns, in one statement, tables by name (the
 * order ts_tables__find() searches) and columns in declaration order. */
static const char columns_sql[] =
	"SELECT m.name, c.name, c.pk FROM sqlite_schema AS m, pragma_table_info(m.name) AS c "
	"WHERE m.type = 'table' ORDER BY m.name, c.cid";

int ts_tables__load(ts_tables **out, sqlite3 *db)
{
	sqlite3_stmt *list = NULL;
	ts_tables *tables;
	ts_table *t = NULL;
	int rc, error = 0;

	*out = NULL;
	if (!(tables = calloc(1, sizeof(*tables))))
		return ts_error_set(TS_ERROR, "out of memory");
	if (sqlite3_prepare_v2(db, columns_sql, -1, &list, NULL) != SQLITE_OK) {
		error = ts_sqlite__error(db, "listing tables");
		goto done;
	}
	while ((rc = sqlite3_step(list)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(list, 0);
		ts_table *grown;
		if (!ts_table__name_synced(name))
			continue;
		if (!t || strcmp(t->name, name)) {
			if (t && (error = finish_table(t)) < 0)
				goto done;
			if (!plain_identifier(name)) {
				error = ts_error_set(TS_EINVALID, "table \"%s\" is not a plain identifier", name);
				goto done;
			}
			if (!(grown = realloc(tables->list, sizeof(*grown) * (tables->n + 1)))) {
				error = ts_error_set(TS_ERROR, "out of memory");
				goto done;
			}
			tables->list = grown;
			t = &tables->list[tables->n++];
			memset(t, 0, sizeof(*t));
			t->db = db;
			if (!(t->name = strdup(name))) {
				error = ts_error_set(TS_ERROR, "out of memory");
				goto done;
			}
		}
		if ((error = add_column(t, (const char *)sqlite3_column_text(list, 1), sqlite3_column_int(list, 2))) < 0)
			goto done;
	}
	if (rc != SQLITE_DONE)
		error = ts_sqlite__error(db, "listing tables");
	else if (t)
		error = finish_table(t);
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
	int k, error;
	if (!t->get && (error = prepare_get(t)) < 0)
		return error;
	for (k = 0; k < t->npk; k++)
		sqlite3_bind_value(t->get, k + 1, key[k]);
	return read_bound(blob, db, t);
}

int ts_table__read_values(ts_buf *blob, sqlite3 *db, ts_table *t, const ts_value *key)
{
	int k, error;
	if (!t->get && (error = prepare_get(t)) < 0)
		return error;
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
