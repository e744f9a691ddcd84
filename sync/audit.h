/*
 * Audit: history read back as rows and columns. What changed between two
 * states, which commits touched which rows, and which commit set each
 * column of a row to its current value, with the real names and nodes the
 * commits carry (author = the person, the author's e-mail part = the node
 * where the change was recorded, committer = the node).
 *
 * Works on any history written by the store (store.h): row blobs at the
 * paths of rowcodec.h, engine metadata under _tiersync/. Nothing here knows
 * what the tables mean; callers name the tables and columns they care about.
 */
#ifndef TS_SYNC_AUDIT_H
#define TS_SYNC_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <git2.h>
#include <sqlite3.h>

#include "buf.h"
#include "diffmemo.h"
#include "rowcodec.h"
#include "tables.h"

typedef enum {
	TS_AUDIT_INSERT = 1,
	TS_AUDIT_UPDATE,
	TS_AUDIT_DELETE
} ts_audit_op;

/* "insert", "update" or "delete". */
const char *ts_audit__op_name(ts_audit_op op);

/*
 * One path that differs between two trees. Everything is owned by the
 * walk and valid only during the callback that receives it.
 */
typedef struct {
	ts_audit_op op;
	const char *path;            /* the full tree path */
	const char *table;           /* the row's table; NULL for metadata (_tiersync/...)
	                              * or any path that is not a row path */
	const char *key;             /* a row: its key, readable ("a=1, b=x" for keys of several
	                              * columns when the table is known); otherwise the path
	                              * below _tiersync/ (e.g. "schema-version") or the path */
	const git_oid *old_id;       /* blob ids; NULL on the side where the path is absent */
	const git_oid *new_id;
	const char *old_data;        /* blob bytes, when loaded (always for metadata) */
	size_t old_len;
	const char *new_data;
	size_t new_len;
	const ts_row *old_row;       /* decoded rows, when loaded with TS_AUDIT_ROWS */
	const ts_row *new_row;
} ts_audit_change;

/* Flag of ts_audit__diff(): read and decode the row blobs of each change. */
#define TS_AUDIT_ROWS 1u
/* Flag of ts_audit__diff(), with TS_AUDIT_ROWS: of an updated row, only the
 * new blob (old_data and old_row stay NULL); for a caller that holds the
 * old row already (the database an apply writes to). */
#define TS_AUDIT_NEW_ONLY 2u
/* Flag of ts_audit__diff(), with TS_AUDIT_ROWS: a row's new blob is read
 * but not decoded (new_row stays NULL; old_row is decoded as before); for a
 * caller that keeps the bytes and decodes them when it writes the row. */
#define TS_AUDIT_NEW_BYTES 4u

/*
 * Resolves a revision ("HEAD", "HEAD~2", an abbreviated id, "main", ...) to
 * a commit. TS_ENOTFOUND with "unknown revision 'REV'" when it names none.
 * Free *out with git_commit_free().
 */
int ts_audit__resolve(git_commit **out, git_repository *repo, const char *rev);

/*
 * Calls `cb` for each path that differs between `old_tree` (NULL: the
 * empty tree) and `new_tree`, in git's path order; the directory of files
 * kept in history (files.h) is passed by, unread. Subtrees with the same
 * id on both sides are skipped unread, so the cost follows the changes and
 * not the size of the tables. `tables` (may be NULL) lets keys of several
 * columns be shown with their column names. `memo` (may be NULL) holds
 * walks kept already (diffmemo.h): a subtree it has is not read, its
 * changes come from there. A non-zero return from `cb` stops the walk and
 * is returned; a row blob that does not decode is TS_ECORRUPT.
 */
int ts_audit__diff(git_repository *repo, const git_tree *old_tree, const git_tree *new_tree,
	ts_tables *tables, unsigned flags, const ts_diffmemo *memo,
	int (*cb)(const ts_audit_change *change, void *payload), void *payload);

/*
 * Decodes the new row of a change whose blob the walk left undecoded
 * (TS_AUDIT_NEW_BYTES). Free *out with ts_row__free(). TS_ECORRUPT, naming
 * the path, for bytes that are no row.
 */
int ts_audit__new_row(ts_row **out, const ts_audit_change *change);

/* One column of a change. A NULL pointer means the row (or the column,
 * across a schema change) does not exist on that side; SQL NULL is a value
 * of type SQLITE_NULL. */
typedef struct {
	const char *column;
	const ts_value *old_value;
	const ts_value *new_value;
} ts_audit_column;

/*
 * Calls `cb` for each column that differs between the change's old and new
 * row (both loaded): every column of an inserted or deleted row, the
 * changed ones of an updated row, in the new row's column order followed by
 * columns only the old row has. A non-zero return stops and is returned.
 */
int ts_audit__columns(const ts_audit_change *change,
	int (*cb)(const ts_audit_column *column, void *payload), void *payload);

/*
 * 1 when the change concerns one record: it is the row of `table` whose
 * key reads `key`, or a row of any table whose column `column` holds the
 * text `key` before or after the change. Needs the rows loaded. Either
 * `table` or `column` may be NULL to leave that test out.
 */
int ts_audit__change_concerns(const ts_audit_change *change, const char *table,
	const char *column, const char *key);

/* One commit of the history, as ts_audit__log() reports it. */
typedef struct {
	const git_oid *id;
	const git_commit *commit;
	const char *author;          /* the real name */
	const char *node;            /* where it was recorded: the author's e-mail part */
	const char *committer;       /* the committing node */
	int64_t time;                /* author time, seconds since the epoch */
	int offset;                  /* minutes east of UTC */
	const char *summary;         /* the first line of the message */
	unsigned nparents;
	size_t inserts, updates, deletes;   /* rows changed against the first parent */
	const ts_audit_change *changes;     /* with a filter: the changes it kept */
	size_t nchanges;
} ts_audit_entry;

/*
 * Walks the history from `start` (NULL: "HEAD") newest first, in time and
 * topological order, diffing each commit against its first parent (the
 * empty tree for a root). Without `filter`, `cb` gets every commit. With
 * one, each changed row is loaded and offered to `filter`, and `cb` gets
 * only commits with at least one change the filter kept (returned 1),
 * those changes attached. Both get `payload`. A non-zero return from `cb`
 * stops the walk and is returned (return 1 to stop early, e.g. after N).
 */
int ts_audit__log(git_repository *repo, const char *start, ts_tables *tables,
	int (*filter)(const ts_audit_change *change, void *payload),
	int (*cb)(const ts_audit_entry *entry, void *payload), void *payload);

/* One column of a blamed row. */
typedef struct {
	const char *column;
	const ts_value *value;       /* its value at the start commit */
	const git_oid *commit;       /* the commit that set it to that value */
	const char *author;
	const char *node;
	int64_t time;
	int offset;
	const char *summary;
} ts_audit_blame_line;

/*
 * For each column of the row at `path` in `start` (NULL: "HEAD"), finds
 * the commit that set its current value: blame passes from a commit to
 * its first parent whose row holds the same value, and stays with the
 * commit when no parent does. All columns are followed in one walk that
 * stops once each is settled. Calls `cb` per column in the row's order; a
 * non-zero return stops and is returned. TS_ENOTFOUND when the row is not
 * in `start`.
 */
int ts_audit__blame(git_repository *repo, const char *start, const char *path,
	int (*cb)(const ts_audit_blame_line *line, void *payload), void *payload);

/*
 * Appends the tree path of the row of `table` (a synced table of `db`)
 * whose single-column key is written `key`: taken as an integer when the
 * key column has INTEGER affinity and `key` is a decimal integer, else as
 * text. TS_ENOTFOUND for a table that is not synced, TS_EINVALID for a key
 * of several columns.
 */
int ts_audit__row_path(ts_buf *out, sqlite3 *db, ts_tables *tables, const char *table, const char *key);

/* Writes `time` as ISO-8601 with its offset, "2026-11-27T09:30:00+08:00". */
void ts_audit__time_format(char out[32], int64_t time, int offset_minutes);

/* Appends a value for people: NULL, 42, 3.5, "text" (quoted as in a row
 * blob, UTF-8 kept as is), x'0aff'. */
void ts_audit__put_value(ts_buf *out, const ts_value *v);

#endif
