/*
 * The engine's metadata: a key-value table ts_meta in the working database
 * (never synced), of which "head" is the commit the data equals. Read by
 * the history, the files kept in it and the node alike.
 */
#ifndef TS_SYNC_META_H
#define TS_SYNC_META_H

#include <git2.h>
#include <sqlite3.h>

/* Creates ts_meta if missing. */
int ts_meta__setup(sqlite3 *db);

/* Get returns NULL when unset; free() it. */
char *ts_meta__get(sqlite3 *db, const char *key);
int ts_meta__set(sqlite3 *db, const char *key, const char *value);

/* The value of an integer PRAGMA (`sql` is the whole statement); -1 when
 * it cannot be read. */
sqlite3_int64 ts_meta__pragma(sqlite3 *db, const char *sql);

/* The head commit the database corresponds to. TS_ENOTFOUND when none. */
int ts_history__head(git_oid *out, sqlite3 *db);

#endif
