/*
 * SQLite errors into tiersync errors: the one place that decides which
 * tiersync code a SQLite failure becomes (libgit2's is ts_store__git_error()
 * in store.h). The last error itself lives in error.c; the codes are in
 * include/tiersync/errors.h.
 *
 *   SQLITE_BUSY, SQLITE_LOCKED        TS_EBUSY     another connection holds the lock
 *   SQLITE_CORRUPT, SQLITE_NOTADB     TS_ECORRUPT  the database file is damaged
 *   SQLITE_CONSTRAINT                 TS_EINVALID  the data broke a CHECK, NOT NULL,
 *                                                  UNIQUE, foreign key or a trigger
 *   SQLITE_NOMEM                      TS_ERROR     "out of memory"
 *   anything else                     TS_ERROR
 *
 * Extended codes count as their primary code (SQLITE_BUSY_SNAPSHOT is busy,
 * SQLITE_CONSTRAINT_CHECK a constraint).
 */
#ifndef TS_SYNC_ERROR_H
#define TS_SYNC_ERROR_H

#include <sqlite3.h>

/*
 * Sets the last error from the last failure on `db` and returns its code:
 * the message is `fmt` (what was being done, printf-style), ": " and
 * sqlite3_errmsg(db). Call it before anything else runs on `db` (a
 * ROLLBACK, another statement), which would replace the error; finalizing
 * the statement that failed keeps it. A NULL `db` is an sqlite3_open_v2()
 * that ran out of memory.
 */
int ts_sqlite__error(sqlite3 *db, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The same for a result code that is not recorded on a connection: the
 * session and changeset functions (sqlite3session_*, sqlite3changeset_*)
 * return one without setting the connection's message. The message ends
 * in sqlite3_errstr(rc).
 */
int ts_sqlite__error_rc(int rc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * As ts_sqlite__error(), but a failure the table above calls plain TS_ERROR
 * (neither busy, damaged, a constraint nor out of memory) becomes `code`:
 * for a statement whose every other failure means the caller's input was
 * refused (TS_EINVALID), or an open of a node's database that did not find
 * it (TS_ENOTFOUND).
 */
int ts_sqlite__error_as(int code, sqlite3 *db, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * TS_EINVALID, naming `what` ("log options"), unless an options struct's
 * `version` is `known`, the one this library was built with.
 */
int ts_error__version(unsigned int version, unsigned int known, const char *what);

#endif
