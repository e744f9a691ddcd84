/*
 * The schema runner: brings a database up to the newest migration compiled
 * in from schema/NNNN_name.sql (see tools/embed-schema.sh).
 *
 * Each migration runs in its own transaction, which also sets PRAGMA
 * user_version to the migration's number; that pragma is the only record
 * of the schema version (no table of the runner's own), so a migration is
 * applied entirely or not at all, and exactly once.
 */
#include <stdio.h>

#include <sqlite3.h>

#include "error.h"
#include "node.h"
#include "schema.h"
#include "tiersync.h"

int ts_schema__latest(void)
{
	const struct ts_migration *m;
	int latest = 0;

	for (m = ts_schema_migrations; m->name; m++)
		if (m->version > latest)
			latest = m->version;
	return latest;
}

static int read_user_version(sqlite3 *db, int *out)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*out = sqlite3_column_int(stmt, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(stmt);
	return rc;
}

static int apply(sqlite3 *db, const struct ts_migration *m)
{
	char set_version[64];
	int current = 0, error;

	snprintf(set_version, sizeof(set_version), "PRAGMA user_version = %d", m->version);

	/* IMMEDIATE takes the write lock now, so that the version read below
	 * cannot change before COMMIT; a caller's open transaction fails here. */
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return ts_sqlite__error(db, "schema migration %s", m->name);

	/* Another connection may have applied it while we waited for the lock. */
	if (read_user_version(db, &current) != SQLITE_OK)
		goto fail;
	if (current < m->version &&
	    (sqlite3_exec(db, m->sql, NULL, NULL, NULL) != SQLITE_OK ||
	     sqlite3_exec(db, set_version, NULL, NULL, NULL) != SQLITE_OK))
		goto fail;
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	return 0;

fail:
	/* Set the message first: ROLLBACK replaces sqlite3_errmsg(). */
	error = ts_sqlite__error(db, "schema migration %s", m->name);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return error;
}

int ts_schema__migrate(sqlite3 *db, int *version_out)
{
	return ts_schema__migrate_to(db, ts_schema__latest(), version_out);
}

int ts_schema__migrate_to(sqlite3 *db, int target, int *version_out)
{
	const struct ts_migration *m;
	int version = 0, error = 0;

	if (read_user_version(db, &version) != SQLITE_OK) {
		error = ts_sqlite__error(db, "schema version");
		goto done;
	}
	/* An older binary must not write rows a newer schema would refuse. */
	if (version > ts_schema__latest()) {
		error = ts_error_set(TS_ERROR,
			"database schema version %d is newer than this tiersync's (%d)",
			version, ts_schema__latest());
		goto done;
	}
	for (m = ts_schema_migrations; m->name; m++) {
		if (m->version <= version)
			continue;
		if (m->version > target)
			break;
		if ((error = apply(db, m)) < 0)
			goto done;
		version = m->version;
	}

done:
	if (version_out)
		*version_out = version;
	return error;
}
