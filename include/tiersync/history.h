/*
 * tiersync/history.h — reading a node's history back as rows and columns: log, diff and blame.
 * Part of the public API; include "tiersync.h" for all of it.
 *
 * Everything these calls hand to a callback (strings, cells, arrays) is
 * owned by the call and valid until the callback returns: copy what you
 * keep. Nothing here is the caller's to free. A callback returning
 * non-zero stops the call, which returns that value (return 1 to stop
 * early, a negative TS_E* code to fail).
 *
 * Revisions are written as git writes them: "HEAD", "HEAD~2", "main", a
 * commit id or an unambiguous prefix of one. A revision that names nothing
 * is TS_ENOTFOUND ("unknown revision 'REV'"); an ambiguous prefix or one
 * that names no commit is TS_EINVALID.
 */
#ifndef TIERSYNC_HISTORY_H
#define TIERSYNC_HISTORY_H

#include <stddef.h>
#include <stdint.h>
#include "tiersync/node.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The type of a stored value; the numbers are SQLite's (SQLITE_INTEGER ...). */
typedef enum {
	TS_CELL_INTEGER = 1,
	TS_CELL_FLOAT = 2,
	TS_CELL_TEXT = 3,
	TS_CELL_BLOB = 4,
	TS_CELL_NULL = 5
} ts_cell_type;

/*
 * One stored value, as a row blob in history holds it. The strings live
 * as long as the change or line that holds the cell.
 */
typedef struct {
	ts_cell_type type;
	int64_t integer;         /* TS_CELL_INTEGER; else 0 */
	double real;             /* TS_CELL_FLOAT; else 0 */
	const char *bytes;       /* TS_CELL_TEXT (UTF-8 as stored, not checked) and
	                          * TS_CELL_BLOB: `len` bytes, followed by a NUL that
	                          * is not counted; text may hold NULs. Never NULL for
	                          * these two types ("" when empty); NULL otherwise */
	size_t len;
	const char *display;     /* the value as a row blob writes it, for people:
	                          * NULL, 42, 3.5, inf, "text" (quoted and escaped,
	                          * UTF-8 kept), x'0aff'. NUL-terminated, one line */
} ts_cell;

/* What happened to a row (or a metadata entry) between two states. */
typedef enum {
	TS_CHANGE_INSERT = 1,
	TS_CHANGE_UPDATE,
	TS_CHANGE_DELETE
} ts_change_op;

/* "insert", "update" or "delete" (a static string); "?" for anything else. */
const char *ts_change_op_name(ts_change_op op);

/*
 * One column that differs between the old and the new row of a change.
 * A NULL cell pointer means the column is absent on that side: the row
 * did not exist there, or the column did not (across a schema change).
 * SQL NULL is a cell of type TS_CELL_NULL.
 */
typedef struct {
	const char *column;
	const ts_cell *old_value;
	const ts_cell *new_value;
} ts_column_change;

/*
 * One row, or one entry of the engine's metadata, that differs between
 * two states of history. Everything it points to lives as long as the
 * change: until the callback that receives it (or the log entry that
 * holds it) returns.
 */
typedef struct {
	ts_change_op op;
	const char *table;       /* the row's table; NULL for engine metadata (or a
	                          * history path that is not a row) */
	const char *key;         /* a row: its primary key, readable ("bj.dc-c1",
	                          * "a=1, b=x" for a key of several columns); metadata:
	                          * its name (e.g. "schema-version") */
	/* Metadata only (NULL for rows): the entry's bytes as stored, usually
	 * one line with its '\n', followed by an uncounted NUL; NULL on the side
	 * where the entry is absent. */
	const char *old_text;
	size_t old_len;
	const char *new_text;
	size_t new_len;
	/* Rows only (0 for metadata): the columns that differ; every column of
	 * an inserted or deleted row, the changed ones of an updated row, in
	 * the new row's column order followed by the columns only the old row
	 * has. */
	const ts_column_change *columns;
	size_t ncolumns;
} ts_change;

/*
 * Calls `cb` for each row and metadata entry that differs between the
 * commits `from_rev` and `to_rev` name (old -> new), in history's path
 * order: table by table, and within a table in an order set by a hash of
 * the key.
 * `from_rev` NULL compares with the empty state (every row of `to_rev` is
 * an insert); `to_rev` NULL is "HEAD". The commit ids compared are written
 * to `from_id` and `to_id` (40 hex digits + NUL; "" for a NULL `from_rev`)
 * before the first callback; both are "" when a revision is not found.
 * Unchanged subtrees are skipped, so the cost follows the changes. Files
 * kept in history (evidence) are not reported. A row that does not decode
 * is TS_ECORRUPT.
 */
int ts_node_diff(char from_id[41], char to_id[41], ts_node *node, const char *from_rev,
	const char *to_rev, int (*cb)(const ts_change *change, void *payload), void *payload);

/* One commit of the log. Its strings and arrays live until the callback
 * that receives it returns. */
typedef struct {
	char id[41];             /* 40 hex digits */
	const char *const *parents;   /* `nparents` commit ids (40 hex digits each),
	                               * the first parent first */
	size_t nparents;
	const char *author;      /* the real name of who made the change */
	const char *node;        /* the node where it was recorded (the author's
	                          * e-mail part) */
	const char *committer;   /* the node that committed it */
	int64_t time;            /* author time, seconds since the epoch */
	int offset;              /* the author's offset from UTC, in minutes */
	char when[32];           /* `time` in ISO-8601 with that offset,
	                          * "2026-11-27T09:30:00+08:00" */
	const char *summary;     /* the first line of the message */
	size_t inserts, updates, deletes;   /* rows changed against the first
	                                     * parent (the empty state for a root) */
	const ts_change *changes;   /* with a record filter: the row changes of
	                             * this commit that concern the record; else
	                             * NULL */
	size_t nchanges;
} ts_log_entry;

#define TS_LOG_OPTIONS_VERSION 1

/*
 * What ts_node_log() lists. Start from TS_LOG_OPTIONS_INIT (or zero it and
 * set `version` to TS_LOG_OPTIONS_VERSION); the strings are the caller's
 * and are only read during the call.
 */
typedef struct {
	unsigned int version;
	const char *start;       /* the newest commit to list; NULL: "HEAD" */
	/* A record filter. With `key` set, only the commits that change the
	 * record are listed: the row of `table` whose key reads `key`, or a row
	 * of any table whose column `column` holds the text `key` before or
	 * after the change (a case's events, evidence, ...). Either `table` or
	 * `column` may be NULL to leave that test out, not both. `key` NULL:
	 * every commit, and `table` and `column` must be NULL too. */
	const char *table;
	const char *column;
	const char *key;
} ts_log_options;

#define TS_LOG_OPTIONS_INIT { TS_LOG_OPTIONS_VERSION, NULL, NULL, NULL, NULL }

/*
 * Calls `cb` for each commit reachable from `opts->start`, newest first (in
 * time and topological order: a commit before its parents), each diffed
 * against its first parent. `opts` NULL lists every commit from HEAD.
 * With a record filter, only the commits that concern the record are
 * passed, their concerning changes attached. TS_EINVALID for an unknown
 * `opts->version` or a filter that names neither a table nor a column.
 */
int ts_node_log(ts_node *node, const ts_log_options *opts,
	int (*cb)(const ts_log_entry *entry, void *payload), void *payload);

/* One column of a blamed row. Its strings live until the callback that
 * receives it returns. */
typedef struct {
	const char *column;
	ts_cell value;           /* its value at the blamed revision */
	char commit[41];         /* the commit that set it to that value */
	const char *author;      /* that commit's author (a real name) */
	const char *node;        /* where it was recorded */
	int64_t time;            /* author time, seconds since the epoch */
	int offset;              /* minutes east of UTC */
	char when[32];           /* ISO-8601 with that offset, as ts_log_entry's */
	const char *summary;     /* the first line of that commit's message */
} ts_blame_line;

/*
 * For each column of the row of `table` whose key is written `key` (a
 * single-column key: an integer when the key column is an integer and
 * `key` a decimal integer, else text), in the revision `rev` (NULL: the
 * node's head), finds the commit that set the column to its value there:
 * blame passes from a commit to its first parent whose row holds the same
 * value, across merges too. Calls `cb` once per column, in the row's
 * column order, after the walk has settled every column.
 *
 * `head_out` gets the id of the blamed commit (40 hex digits + NUL) as
 * soon as it is known: before the first callback, and also when the row
 * is not in it. Errors: TS_ENOTFOUND with `head_out` "" for a table that
 * is not synced or a revision not found; TS_ENOTFOUND with `head_out` set
 * when that revision has no such row (staged writes are not in history
 * until committed); TS_EINVALID for a table whose key has several columns.
 */
int ts_node_blame(char head_out[41], ts_node *node, const char *rev, const char *table,
	const char *key, int (*cb)(const ts_blame_line *line, void *payload), void *payload);

#ifdef __cplusplus
}
#endif

#endif
