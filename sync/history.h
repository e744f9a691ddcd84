/*
 * History: turning staged writes into commits, keeping the database and the
 * git history one truth across crashes and power loss.
 *
 * Order of a commit: (1) git objects are written, without fsync; (2) one
 * SQLite transaction records the new head, a journal entry from which those
 * objects can be written again identically, and clears the staged writes;
 * (3) the ref moves. On open, ts_history__repair() rewrites any lost objects
 * from the journal and points the ref at the head the database records.
 * The journal is emptied whenever the objects are known durable: at a
 * checkpoint every TS_HISTORY_CHECKPOINT commits, or sooner once they wrote
 * TS_HISTORY_JOURNAL_ROWS rows (the checkpoint combines small packs and
 * syncs), and after each large commit, whose pack is synced at once. Every
 * TS_HISTORY_COMBINE commits in between, the packs the journal's commits
 * were written in (ts_journal_packs) are combined into one without a sync:
 * a power cut that loses it loses only objects the journal writes again.
 */
#ifndef TS_SYNC_HISTORY_H
#define TS_SYNC_HISTORY_H

#include <sqlite3.h>

#include "meta.h"
#include "store.h"
#include "tables.h"

#define TS_HISTORY_CHECKPOINT 128
#define TS_HISTORY_COMBINE 32
#define TS_HISTORY_JOURNAL_ROWS 8192

/* Creates the engine's tables (ts_meta, ts_journal, ts_journal_rows,
 * ts_staged through capture, and the synced review queue sync_conflicts)
 * if missing. */
int ts_history__setup(sqlite3 *db);

/*
 * Commits the staged writes of `db` (TS_ENOTFOUND if there are none) on
 * top of the recorded head, as described above. `tables` are the synced
 * tables of `db` when the caller keeps them loaded, else NULL.
 */
int ts_history__commit(git_oid *out, sqlite3 *db, ts_store *store, ts_tables *tables,
	const ts_store_who *author, const ts_store_who *committer, const char *message);

/*
 * Writes a commit of the database's whole state (every row of every synced
 * table), as the first commit of a history or after a schema change, with
 * the current head (if any) as parent. Nothing may be staged.
 */
int ts_history__commit_all(git_oid *out, sqlite3 *db, ts_store *store,
	const ts_store_who *author, const ts_store_who *committer, const char *message);

/*
 * For writers beyond plain commits (merges): ts_history__begin() takes the
 * store's lock and opens the database's write transaction;
 * ts_history__finish() makes the new objects durable, records `head`,
 * commits the transaction and moves the branch; ts_history__release() rolls
 * back whatever is still open and releases the lock (always call it).
 */
int ts_history__begin(sqlite3 *db, ts_store *store);
int ts_history__finish(sqlite3 *db, ts_store *store, const git_oid *head, const char *why);
/* The same when the caller has already flushed and synced the store (a
 * sync is slow, and should not happen inside the write transaction). */
int ts_history__finish_durable(sqlite3 *db, ts_store *store, const git_oid *head, const char *why);
void ts_history__release(sqlite3 *db, ts_store *store);

/*
 * Gives the database's free pages back to the file system when they are
 * many (a bulk commit frees its staged changes at once) and the database
 * was made with auto_vacuum = INCREMENTAL; outside a transaction only.
 * A failure leaves them free for SQLite to use again.
 */
void ts_history__trim(sqlite3 *db);

/* Makes history and database agree after a crash (see above). Sets
 * *repaired to 1 when something had to be done. */
int ts_history__repair(sqlite3 *db, ts_store *store, int *repaired);

/* The blob that the tree carries at TS_STORE_SCHEMA_PATH. */
void ts_history__schema_blob(ts_buf *out, sqlite3 *db);

/* ts_meta's key naming the tree an unfinished apply moves the database to
 * (integrate.h); while it is set, no commit is made. */
#define TS_META_APPLYING "applying"

#endif
