/*
 * Statements kept prepared for a connection.
 *
 * Parsing a statement costs more than running most of the engine's: a
 * one-row update and commit prepare some sixty statements, and preparing
 * them was about an eighth of the pair's time. A connection registered with
 * ts_statements__keep() keeps each statement prepared through
 * ts_statements__prepare() until ts_statements__drop(), which must come
 * before the connection is closed. ts_statements__done() resets a
 * statement and clears its bindings for its next use.
 *
 * A kept statement is handed to one holder at a time: one asked for while
 * it is out (a loop over its rows calls a function that asks for the same
 * text) is prepared anew and finalized when done. A connection not
 * registered prepares and finalizes as sqlite3_prepare_v2() and
 * sqlite3_finalize() do.
 */
#ifndef TS_SYNC_STATEMENTS_H
#define TS_SYNC_STATEMENTS_H

#include <sqlite3.h>

/* Registers `db`: its statements are kept from now on. 0, or -1 when out
 * of memory (the connection then works as one not registered). */
int ts_statements__keep(sqlite3 *db);

/* Finalizes every statement kept for `db` and forgets it. None may be out. */
void ts_statements__drop(sqlite3 *db);

/* As sqlite3_prepare_v2() of the whole of `sql`: an SQLite result code. */
int ts_statements__prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out);

/* Gives `st` back (NULL is ignored). */
void ts_statements__done(sqlite3_stmt *st);

/* Runs `sql`, a statement whose rows are not wanted, through the kept
 * ones (text of more than one statement, through sqlite3_exec()): an
 * SQLite result code. */
int ts_statements__exec(sqlite3 *db, const char *sql);

#endif
