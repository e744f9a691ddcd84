/*
 * The review queue: conflict records in the synced table sync_conflicts.
 */
#include "conflicts.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "rowcodec.h"
#include "tiersync.h"

int ts_conflicts__setup(sqlite3 *db)
{
	static const char sql[] =
		"CREATE TABLE IF NOT EXISTS " TS_CONFLICTS_TABLE " ("
		"  id TEXT PRIMARY KEY,"          /* k + 16 hex digits of a hash of what conflicts */
		"  kind TEXT NOT NULL,"           /* column, insert, update/delete, delete/update, constraint */
		"  table_name TEXT NOT NULL,"
		"  row_key TEXT NOT NULL,"        /* readable */
		"  row_path TEXT NOT NULL,"       /* the row's path in history */
		"  column_name TEXT,"             /* NULL for a whole-row conflict */
		"  base TEXT,"                    /* values in row-blob encoding; whole rows for */
		"  ours TEXT,"                    /*   the delete kinds; NULL where a side has none */
		"  theirs TEXT,"
		"  provisional TEXT,"             /* what the merge put in meanwhile */
		"  ours_commit TEXT, ours_node TEXT,"
		"  theirs_commit TEXT, theirs_node TEXT,"
		"  status TEXT NOT NULL DEFAULT 'open'"
		"    CHECK (status IN ('open', 'settled', 'resolved')),"
		"  resolution TEXT,"              /* ours, theirs or value */
		"  resolved_value TEXT,"
		"  resolved_by TEXT,"             /* the admin's real name */
		"  resolved_at TEXT)";
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return ts_sqlite__error(db, "creating %s", TS_CONFLICTS_TABLE);
	return 0;
}

/*
 * A merge meets its conflicts before it takes the database's write lock, so
 * it records them first in a temporary table of its own connection (which
 * locks nothing) and keeps them in the synced table in its last, short
 * transaction.
 */
#define PENDING "temp.ts_conflicts_pending"

int ts_conflicts__pending_begin(sqlite3 *db)
{
	static const char sql[] =
		"CREATE TEMP TABLE IF NOT EXISTS ts_conflicts_pending AS SELECT * FROM main." TS_CONFLICTS_TABLE " WHERE 0;"
		"CREATE UNIQUE INDEX IF NOT EXISTS temp.ts_conflicts_pending_id ON ts_conflicts_pending (id);"
		"DELETE FROM " PENDING ";";
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return ts_sqlite__error(db, "preparing the conflict records");
	return 0;
}

int ts_conflicts__pending_keep(sqlite3 *db)
{
	static const char sql[] =
		"INSERT OR IGNORE INTO main." TS_CONFLICTS_TABLE " SELECT * FROM " PENDING ";"
		"DELETE FROM " PENDING ";";
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return ts_sqlite__error(db, "keeping the conflict records");
	return 0;
}

static void put_value(ts_buf *out, const ts_value *v)
{
	ts_rowcodec__put_value(out, v->type, v->i, v->r, v->p, v->n);
}

static void put_row(ts_buf *out, const ts_row *row)
{
	const char **names = (const char **)row->names;
	ts_buf blob = TS_BUF_INIT;
	if (ts_rowcodec__encode_values(&blob, row->ncol, names, row->values) == 0)
		ts_buf__put(out, blob.ptr, blob.size);
	ts_buf__dispose(&blob);
}

/* The record's id: a hash of the row, the column and both sides. */
static void make_id(char out[20], const char *path, const char *column, const char *ours, const char *theirs)
{
	ts_buf what = TS_BUF_INIT;
	git_oid id;
	char hex[GIT_OID_HEXSZ + 1];

	ts_buf__printf(&what, "%s%c%s%c%s%c%s", path, 0, column ? column : "", 0, ours ? ours : "-", 0,
		theirs ? theirs : "-");
	git_odb_hash(&id, what.ptr, what.size, GIT_OBJECT_BLOB);
	git_oid_tostr(hex, sizeof(hex), &id);
	snprintf(out, 20, "k%.16s", hex);
	ts_buf__dispose(&what);
}

static int insert(char id_out[20], sqlite3 *db, const char *kind, const char *table, const char *key,
	const char *path, const char *column, const char *base, const char *ours, const char *theirs,
	const char *provisional, const char *status, const ts_conflict_origin *o)
{
	sqlite3_stmt *st = NULL;
	int error = 0;

	make_id(id_out, path, column, ours, theirs);
	if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO " PENDING " (id, kind, table_name, row_key, "
			"row_path, column_name, base, ours, theirs, provisional, ours_commit, ours_node, "
			"theirs_commit, theirs_node, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
			"?11, ?12, ?13, ?14, ?15)", -1, &st, NULL) != SQLITE_OK)
		return ts_sqlite__error(db, "recording a conflict");
	sqlite3_bind_text(st, 1, id_out, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, column, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, base, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, ours, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, theirs, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, provisional, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, o->ours_commit, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, o->ours_node, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 13, o->theirs_commit, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 14, o->theirs_node, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 15, status, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_sqlite__error(db, "recording a conflict");
	sqlite3_finalize(st);
	return error;
}

int ts_conflicts__record(char id_out[20], sqlite3 *db, const ts_merge_conflict *c,
	const ts_conflict_origin *origin)
{
	ts_buf base = TS_BUF_INIT, ours = TS_BUF_INIT, theirs = TS_BUF_INIT, chosen = TS_BUF_INIT;
	int whole = c->kind == TS_MERGE_UPDATE_DELETE || c->kind == TS_MERGE_DELETE_UPDATE;
	int error;

	if (whole) {
		if (c->base_row) put_row(&base, c->base_row);
		if (c->ours_row) put_row(&ours, c->ours_row);
		if (c->theirs_row) put_row(&theirs, c->theirs_row);
		ts_buf__puts(&chosen, c->row_kept ? "row kept" : "row deleted");
	} else {
		if (c->base) put_value(&base, c->base);
		if (c->ours) put_value(&ours, c->ours);
		if (c->theirs) put_value(&theirs, c->theirs);
		if (c->chosen) put_value(&chosen, c->chosen);
	}
	error = insert(id_out, db, ts_merge__kind_name(c->kind), c->table, c->key, c->path, c->column,
		base.ptr, ours.ptr, theirs.ptr, chosen.ptr, c->settled ? "settled" : "open", origin);
	ts_buf__dispose(&base);
	ts_buf__dispose(&ours);
	ts_buf__dispose(&theirs);
	ts_buf__dispose(&chosen);
	return error;
}

int ts_conflicts__record_constraint(char id_out[20], sqlite3 *db, const char *table,
	const char *path, const char *key, const char *column, const char *parent,
	const ts_conflict_origin *origin)
{
	ts_buf why = TS_BUF_INIT;
	int error;

	ts_buf__printf(&why, "names missing %s", parent);
	error = insert(id_out, db, "constraint", table, key, path, column, NULL, NULL, why.ptr,
		"row kept", "open", origin);
	ts_buf__dispose(&why);
	return error;
}
