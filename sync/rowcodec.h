/*
 * The canonical row encoding: one SQLite row <-> one git blob, and one
 * primary key <-> one safe path in the history tree.
 *
 * Row blob: one line per column, in the table's column order:
 *
 *     <name> <value>\n
 *
 * <name> is written bare when it matches [A-Za-z_][A-Za-z0-9_]*, else as a
 * quoted string; no name appears twice. <value> is one of
 *
 *     null                 SQL NULL
 *     -42                  integer: exact decimal, no leading zeros, no '+'
 *     3.5  -0.0  1e+300    real: the shortest "%.{15,16,17}g" that reads
 *     inf  -inf            back to the same double, with ".0" appended
 *                          when it has no '.', 'e' or "inf"; NaN cannot be
 *                          stored by SQLite and is refused
 *     "景山前街 4号"        text: UTF-8 kept as is; \\ \" \n \t \r escaped,
 *                          other bytes < 0x20, 0x7f and bytes that are not
 *                          valid UTF-8 as \xHH (lowercase hex)
 *     x'0aff'              blob: lowercase hex
 *
 * The same row gives the same bytes on every node and platform, and NULL,
 * "" and x'' are all distinct. docs/FORMAT.md has the exact grammar.
 *
 * Key path: <table>/<f1>/<f2>/<f3>/<f4>/<name>, where <table> is a plain
 * identifier, <name> is the encoded key and f1..f4 are the four lowercase
 * hex nibbles, high first, of the top 16 bits of H = FNV-1a-64(<name>) *
 * 0x9e3779b97f4a7c15 (mod 2^64): a fixed 16-way fan-out four levels deep,
 * so a 10-million-row table has ~150 entries per leaf tree and a one-row
 * change rewrites six small trees.
 *
 * <name> for a key of one or more columns: the components joined by ','.
 * A text component keeps the bytes [A-Za-z0-9_.-] and writes every other
 * byte as %HH (uppercase hex), with a component's leading '.' written %2E, so the name
 * never contains '/', NUL, ',' or '~' of its own and is never "." or "..";
 * an empty text is "%". An integer component is "#" and its decimal; NULL
 * is "#null"; a real "#r" and its value as above; a blob "#x" and hex.
 * A name longer than 191 bytes is cut at 150 bytes (never inside a %HH)
 * and followed by '~' and the 40 hex digits of the git blob id of the full
 * name (what `git hash-object` prints for it), so long keys stay unique and
 * every name is at most 191 bytes.
 */
#ifndef TS_SYNC_ROWCODEC_H
#define TS_SYNC_ROWCODEC_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#include "buf.h"

/* One column value, owned by the row or array that holds it. */
typedef struct {
	int type;          /* SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB, SQLITE_NULL */
	int64_t i;
	double r;
	char *p;           /* text (NUL-terminated, may hold NULs inside) or blob bytes */
	size_t n;          /* bytes in p, not counting the NUL */
} ts_value;

/* A decoded row: column names and values, in blob order. */
typedef struct {
	int ncol;
	char **names;
	ts_value *values;
} ts_row;

/* Appends one value's encoding (no newline). TS_EINVALID for a NaN. */
int ts_rowcodec__put_value(ts_buf *out, int type, int64_t i, double r, const void *p, size_t n);

/* Same, from a SQLite value. */
int ts_rowcodec__put_sqlite_value(ts_buf *out, sqlite3_value *v);

/*
 * Encodes the current row of `stmt` (all its result columns, with the
 * names sqlite3_column_name gives) as a row blob into `out` (cleared
 * first). TS_EINVALID when two columns have the same name, or for a NaN.
 */
int ts_rowcodec__encode_stmt(ts_buf *out, sqlite3_stmt *stmt);

/* Encodes `ncol` named values as a row blob into `out` (cleared first).
 * TS_EINVALID when two names are the same, or for a NaN. */
int ts_rowcodec__encode_values(ts_buf *out, int ncol, const char *const *names, const ts_value *values);

/*
 * Decodes a row blob. Anything malformed (bad escape, bad number, invalid
 * name, missing newline, trailing bytes, a value not in its one canonical
 * form, a column name given twice) is TS_ECORRUPT. Names are not checked
 * against any table: a name the caller's table lacks is kept, in blob
 * order, and which names and order a row must have is the caller's rule
 * (admission wants exactly the table's columns in order; apply wants
 * exactly the table's columns). Free with ts_row__free().
 */
int ts_rowcodec__decode(ts_row **out, const char *data, size_t len);
void ts_row__free(ts_row *row);

/* A row of `ncol` columns named `names` (copied; unique, as a table's are)
 * with `values`, which it takes: each is left SQLITE_NULL, holding
 * nothing. What decoding the values' encoding would give. */
int ts_row__take(ts_row **out, int ncol, const char *const *names, ts_value *values);

/* The value of column `name` in `row` (names are unique in a row), or NULL. */
const ts_value *ts_row__get(const ts_row *row, const char *name);

/* 1 when two values are identical (same type and same bytes). */
int ts_value__equal(const ts_value *a, const ts_value *b);
/* The same test against a value SQLite holds. */
int ts_value__equal_sqlite(const ts_value *a, sqlite3_value *b);

/* Binds `v` to parameter `idx` of `stmt` (copying). Returns a SQLite code. */
int ts_value__bind(sqlite3_stmt *stmt, int idx, const ts_value *v);

/* Copies a SQLite value into `out` (which must be released with ts_value__dispose). */
int ts_value__from_sqlite(ts_value *out, sqlite3_value *v);
void ts_value__dispose(ts_value *v);

/* Copies `v` into `out` (release with ts_value__dispose). */
int ts_value__copy(ts_value *out, const ts_value *v);

/* Appends the value as a human would read it in a report: text raw,
 * NULL as "NULL", others in their row-blob form. */
void ts_value__put_display(ts_buf *out, const ts_value *v);

/* Appends the encoded key name of `nkey` values (see above). */
int ts_rowcodec__key_name(ts_buf *out, int nkey, sqlite3_value **keys);
int ts_rowcodec__key_name_values(ts_buf *out, int nkey, const ts_value *keys);

/* Appends the full path "<table>/<f1>/<f2>/<f3>/<f4>/<name>" of a key. */
int ts_rowcodec__key_path(ts_buf *out, const char *table, int nkey, sqlite3_value **keys);
int ts_rowcodec__key_path_values(ts_buf *out, const char *table, int nkey, const ts_value *keys);

/*
 * Appends the readable form of an encoded key name: each component as a
 * report shows a value, joined by ", ". Returns 0 (appending nothing) when
 * the name cannot be read back: a cut name ends in a hash, not the key.
 */
int ts_rowcodec__key_name_readable(ts_buf *out, const char *name);

/*
 * Splits a path made by ts_rowcodec__key_path into its table (written into
 * `table`, cleared first) and the offset of its name. TS_ECORRUPT if the path
 * does not have that shape or its fan-out does not match its name.
 */
int ts_rowcodec__path_split(ts_buf *table, const char **name, const char *path);

#endif
