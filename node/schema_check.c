/*
 * The schema check: the working database's own schema is part of what the
 * node guards. Its tables, indexes, triggers and views must be exactly
 * those a fresh node at the same schema version has — the engine's tables
 * (ts_history__setup) plus the migrations of schema/ up to PRAGMA
 * user_version. A trigger, view or index added, dropped or changed behind
 * the node's back, or a table definition edited through PRAGMA
 * writable_schema, would change what writes do (a planted trigger writes
 * rows nobody asked for) without any row of history saying so.
 *
 * The expected schema of the newest version comes with the binary: its
 * rows were read at build time from a database made by the same steps
 * (schema/expected_gen.c). A node at that version is compared with them,
 * so a commit costs one read of sqlite_master, not a run of every
 * migration in each process. Should they differ, the expected schema is
 * built here, once per process and version, in an in-memory database, and
 * decides: the SQLite the program runs with may write the text of a
 * migrated table otherwise than the one it was built with did. A commit
 * is refused while the schema differs; verify lists every difference
 * beside the rows'.
 */
#include <pthread.h>
#include <stdlib.h>

#include "error.h"
#include "history.h"
#include "meta.h"
#include "node.h"
#include "schema.h"
#include "schema_compare.h"
#include "statements.h"

typedef struct expected {
	int version;
	ts_schema_ref *ref;
	struct expected *next;
} expected;

/* Built once per process and version; never freed (the process's life). */
static expected *cache;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static int build_expected(ts_schema_ref **out, int version)
{
	sqlite3 *db = NULL;
	int reached = 0, error;

	*out = NULL;
	if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		error = ts_sqlite__error(db, "building the expected schema");
		goto done;
	}
	/* the steps of ts_node_init(), stopped at the node's version */
	if ((error = ts_history__setup(db)) < 0 || (error = ts_schema__migrate_to(db, version, &reached)) < 0)
		goto done;
	if (reached != version) {
		error = ts_error_set(TS_ECORRUPT, "the database's schema version %d is not one this tiersync's "
			"migrations make (%d is the newest)", version, ts_schema__latest());
		goto done;
	}
	error = ts_schema__ref_new(out, db);
done:
	sqlite3_close(db);
	return error;
}

static int expected_for(const ts_schema_ref **out, int version)
{
	expected *e;
	int error = 0;

	*out = NULL;
	pthread_mutex_lock(&cache_lock);
	for (e = cache; e && e->version != version; e = e->next)
		;
	if (!e) {
		ts_schema_ref *ref = NULL;
		if ((error = build_expected(&ref, version)) < 0)
			goto done;
		if (!(e = malloc(sizeof(*e)))) {
			ts_schema__ref_free(ref);
			error = ts_error_set(TS_ERROR, "out of memory");
			goto done;
		}
		e->version = version;
		e->ref = ref;
		e->next = cache;
		cache = e;
	}
	*out = e->ref;
done:
	pthread_mutex_unlock(&cache_lock);
	return error;
}

/* The rows compiled in, as a reference; made once per process. */
static int compiled(const ts_schema_ref **out)
{
	static ts_schema_ref *ref;
	int error = 0;

	pthread_mutex_lock(&cache_lock);
	if (!ref)
		error = ts_schema__ref_from(&ref, ts_schema_expected, ts_schema_expected_count);
	*out = ref;
	pthread_mutex_unlock(&cache_lock);
	return error;
}

static int node_version(int *version, ts_node *node)
{
	*version = (int)ts_meta__pragma(node->db, "PRAGMA user_version");
	return *version < 0 ? ts_sqlite__error(node->db, "reading the schema version") : 0;
}

static int node_expected(const ts_schema_ref **out, ts_node *node)
{
	int version, error;

	*out = NULL;
	if ((error = node_version(&version, node)) < 0)
		return error;
	return expected_for(out, version);
}

/* 0 when the node's schema is the compiled one, TS_ECORRUPT when it
 * differs or the node is at another version (the migrations decide then),
 * another error when it cannot be read. */
static int check_compiled(ts_node *node)
{
	const ts_schema_ref *ref;
	int version, error;

	if ((error = node_version(&version, node)) < 0 || (error = compiled(&ref)) < 0)
		return error;
	if (version != ts_schema_expected_version)
		return TS_ECORRUPT;
	return ts_schema__check(ref, node->db);
}

/*
 * The schema a connection runs with changes only with the database's
 * schema cookie (PRAGMA schema_version), which every change of the schema
 * moves and which SQLite reads to know when to load it again: while the
 * cookie is the one the check last passed at, this connection's schema is
 * the one checked. (A schema written through writable_schema without
 * moving the cookie is not loaded by this connection; a new one loads it
 * and checks it.)
 */
int ts_node__schema_check(ts_node *node)
{
	const ts_schema_ref *ref;
	int64_t cookie;
	int error;

	/* one read transaction for the cookie, the version and the schema:
	 * cheaper than three, and all read from the same state */
	if (ts_statements__exec(node->db, "SAVEPOINT ts_schema__check") != SQLITE_OK)
		return ts_sqlite__error(node->db, "reading the database's schema");
	cookie = ts_meta__pragma(node->db, "PRAGMA schema_version");
	if (cookie >= 0 && cookie == node->schema_cookie)
		error = 0;
	else if ((error = check_compiled(node)) == TS_ECORRUPT && (error = node_expected(&ref, node)) == 0)
		error = ts_schema__check(ref, node->db);
	ts_statements__exec(node->db, "RELEASE ts_schema__check");
	node->schema_cookie = error == 0 ? cookie : -1;
	if (error == TS_ECORRUPT) {
		ts_buf msg = TS_BUF_INIT;
		ts_buf__puts(&msg, ts_error_last());   /* copied: the message is rewritten below */
		error = ts_error_set(TS_ECORRUPT, "cannot commit: %s", msg.ptr);
		ts_buf__dispose(&msg);
	}
	return error;
}

int ts_node__schema_verify(ts_node *node, int prior,
	int (*cb)(const ts_verify_problem *p, void *payload), void *payload)
{
	const ts_schema_ref *ref;
	ts_buf msg = TS_BUF_INIT;
	int version, problems = 0, error;

	/* the compiled rows first, as the commit's check takes them (counted
	 * only: the last error still says what `prior` found) */
	if ((error = node_version(&version, node)) < 0 || (error = compiled(&ref)) < 0)
		return error;
	if (version == ts_schema_expected_version) {
		if ((error = ts_schema__compare(&problems, ref, node->db, NULL, NULL)) < 0)
			return error;
		if (problems == 0)
			return prior;
	}
	if ((error = node_expected(&ref, node)) < 0 ||
	    (error = ts_schema__compare(&problems, ref, node->db, cb, payload)) < 0)
		return error;
	if (problems == 0)
		return prior;
	if (prior == TS_ECORRUPT && ts_error_last())
		ts_buf__printf(&msg, "%s; ", ts_error_last());
	ts_buf__printf(&msg, "the database's schema differs from what its migrations made (%d object%s)",
		problems, problems == 1 ? "" : "s");
	error = ts_error_set(TS_ECORRUPT, "%s", msg.ptr);
	ts_buf__dispose(&msg);
	return error;
}
