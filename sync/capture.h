/*
 * Capture: writes made through the engine are recorded by a SQLite session
 * and the changeset is stored, in the same transaction as the write, in the
 * table ts_staged. Staged work therefore survives exit, kill -9 and power
 * loss exactly as the write itself does.
 */
#ifndef TS_SYNC_CAPTURE_H
#define TS_SYNC_CAPTURE_H

#include <stdint.h>
#include <sqlite3.h>

#include "buf.h"
#include "tables.h"

typedef struct ts_capture ts_capture;

/* Creates the engine's staging tables if missing: ts_staged, and
 * ts_restored for the staged writes taken back (node/restore.c). */
int ts_capture__setup(sqlite3 *db);

/* Starts a write transaction (BEGIN IMMEDIATE) with a session on every
 * synced table. */
int ts_capture__begin(ts_capture **out, sqlite3 *db);

/* Stores the changeset (if any) as one staged write and commits. Frees `cap`
 * whatever happens; on failure the transaction is rolled back. */
int ts_capture__commit(ts_capture *cap, const char *author, int64_t time, const char *summary);

/* Calls `cb` for each operation the write in progress has made so far
 * (before ts_capture__commit), as ts_staged__write_foreach_op does. */
int ts_capture__foreach_op(ts_capture *cap,
	int (*cb)(sqlite3_changeset_iter *it, void *payload), void *payload);

/* Rolls back and frees. NULL-safe. */
void ts_capture__rollback(ts_capture *cap);

typedef struct {
	int64_t seq;
	const char *author;
	int64_t time;
	const char *summary;
	const void *changeset;
	int size;
} ts_staged_write;

/* Calls `cb` for each staged write, oldest first; a non-zero return stops
 * the walk and is returned. */
int ts_capture__foreach(sqlite3 *db, int (*cb)(const ts_staged_write *w, void *payload), void *payload);

/* The same, for the staged writes after sequence number `after` only. */
int ts_capture__foreach_after(sqlite3 *db, int64_t after,
	int (*cb)(const ts_staged_write *w, void *payload), void *payload);

/* The same without the changesets (w->changeset NULL, w->size their
 * size): who staged what, when. */
int ts_capture__foreach_header(sqlite3 *db, int (*cb)(const ts_staged_write *w, void *payload), void *payload);

/* Waits until no write that ts_capture__begin() started on this database,
 * in any process, is waiting or running. A long job calls it between two
 * of its short transactions, so that local writes get in at once. */
void ts_capture__yield(sqlite3 *db);

/* 1 when a write that ts_capture__begin() started on this database, in any
 * process, is waiting or running; else 0. A long job that is not asked to
 * yield goes on in the transaction it has. */
int ts_capture__writers_waiting(sqlite3 *db);

/* The number of staged writes (0 on any error). */
int ts_capture__count(sqlite3 *db);

/* Calls `cb` for each operation of one staged write's changeset; a damaged
 * changeset is TS_ECORRUPT. A non-zero return of `cb` stops and is returned. */
int ts_staged__write_foreach_op(const ts_staged_write *w,
	int (*cb)(sqlite3_changeset_iter *it, void *payload), void *payload);

/* Calls `cb` for each operation of every staged write, oldest first,
 * reading each changeset from its row a piece at a time (a bulk write's is
 * tens of megabytes). Errors as ts_staged__write_foreach_op(). */
int ts_capture__foreach_staged_op(sqlite3 *db,
	int (*cb)(sqlite3_changeset_iter *it, void *payload), void *payload);

/* The row the changeset's current operation is about: its table in
 * `tables`, *op (SQLITE_INSERT, _UPDATE or _DELETE), its key values
 * (`keys`, room for 64, owned by the iterator) and, if `path` is given,
 * its path in history. TS_ECORRUPT when the operation does not match a
 * synced table. */
int ts_staged__op_key(ts_table **table, int *op, sqlite3_value **keys, ts_buf *path,
	ts_tables *tables, sqlite3_changeset_iter *it);

/* Counts the inserts, updates and deletes of a changeset. */
int ts_changeset__count(const void *changeset, int size, int *inserts, int *updates, int *deletes);

#endif
