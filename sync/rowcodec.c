/*
 * The canonical row encoding: a SQLite row to and from its git blob, and a
 * primary key to its path in the history tree. The format is specified in
 * rowcodec.h and docs/FORMAT.md; this file is its only implementation.
 *
 * Decoding accepts exactly what encoding produces. Every string and number
 * read is encoded again and compared with the bytes it came from, so a blob
 * that decodes is, byte for byte, the blob its row encodes to; a damaged or
 * hand-edited blob is TS_ECORRUPT, never a quietly different row.
 */
#include "rowcodec.h"

#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "tiersync.h"

/*
 * A key name is kept whole up to KEY_NAME_MAX bytes. A longer one is cut
 * to KEY_NAME_CUT bytes (less if that would split a %HH) and followed by
 * '~' and the blob id of the whole name: 150 + 1 + 40 = 191, so no name
 * ever exceeds KEY_NAME_MAX.
 */
#define KEY_NAME_MAX 191
#define KEY_NAME_CUT 150
#define KEY_NAME_ID_LEN 40

/* Room for any real in its text form: "%.17g" needs at most 24 bytes. */
#define REAL_BUF 48

#define FNV64_OFFSET 0xcbf29ce484222325ULL
#define FNV64_PRIME 0x100000001b3ULL

static const char lower_hex[] = "0123456789abcdef";
static const char upper_hex[] = "0123456789ABCDEF";

static int corrupt(size_t at, const char *what)
{
	return ts_error_set(TS_ECORRUPT, "row blob corrupt at byte %zu: %s", at, what);
}

static int out_of_memory(void)
{
	return ts_error_set(TS_ERROR, "out of memory");
}

static char *dup_bytes(const char *p, size_t n)
{
	char *s = malloc(n + 1);
	if (!s)
		return NULL;
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static int lower_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int upper_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int ident_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int ident_char(int c)
{
	return ident_start(c) || (c >= '0' && c <= '9');
}

/* [A-Za-z_][A-Za-z0-9_]*: column names written bare, and table names. */
static int plain_identifier(const char *s, size_t n)
{
	size_t k;
	if (n == 0 || !ident_start((unsigned char)s[0]))
		return 0;
	for (k = 1; k < n; k++)
		if (!ident_char((unsigned char)s[k]))
			return 0;
	return 1;
}

/*
 * The length of the well-formed UTF-8 sequence of two or more bytes at s,
 * or 0. Overlong forms, surrogates and code points above U+10FFFF are not
 * well-formed (Unicode table 3-7), so they end up as \xHH escapes.
 */
static size_t utf8_sequence(const unsigned char *s, size_t avail)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, k;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (avail < len || s[1] < lo || s[1] > hi)
		return 0;
	for (k = 2; k < len; k++)
		if (s[k] < 0x80 || s[k] > 0xbf)
			return 0;
	return len;
}

static void put_hex(ts_buf *out, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t k;

	if (n == 0 || ts_buf__grow(out, 2 * n) < 0)
		return;
	for (k = 0; k < n; k++) {
		out->ptr[out->size++] = lower_hex[p[k] >> 4];
		out->ptr[out->size++] = lower_hex[p[k] & 15];
	}
	out->ptr[out->size] = '\0';
}

/* Drops what was appended after `size`, e.g. when an encoder fails. */
static void truncate_to(ts_buf *out, size_t size)
{
	if (out->ptr && size <= out->size) {
		out->size = size;
		out->ptr[size] = '\0';
	}
}

/*
 * Numbers. printf and strtod use the decimal point of the program's
 * LC_NUMERIC locale; the format always uses '.', so that a node whose CLI
 * called setlocale() still writes the same bytes as every other node.
 */

static const char *locale_point(void)
{
	const char *point = localeconv()->decimal_point;
	return point && *point ? point : ".";
}

/* strtod of the n bytes at s, which must all be consumed. */
static int read_double(double *out, const char *s, size_t n)
{
	const char *point = locale_point();
	size_t point_len = strlen(point), k, m = 0;
	char buf[64], *end;

	for (k = 0; k < n; k++) {
		if (s[k] == '.') {
			if (m + point_len >= sizeof(buf))
				return -1;
			memcpy(buf + m, point, point_len);
			m += point_len;
		} else {
			if (m + 1 >= sizeof(buf))
				return -1;
			buf[m++] = s[k];
		}
	}
	buf[m] = '\0';
	if (m == 0)
		return -1;
	*out = strtod(buf, &end);
	return end == buf + m ? 0 : -1;
}

/*
 * The text of a real: the first of %.15g, %.16g, %.17g that reads back to
 * the same bits (so -0.0 keeps its sign), with ".0" appended when it would
 * otherwise read as an integer. Returns its length, or -1 for a NaN.
 */
static int format_real(char out[REAL_BUF], double r)
{
	const char *point = locale_point();
	size_t n;
	double back;
	int precision;

	if (isnan(r))
		return -1;
	/* C lets printf spell infinity "inf" or "infinity"; pin it down */
	if (isinf(r)) {
		strcpy(out, r < 0 ? "-inf" : "inf");
		return (int)strlen(out);
	}
	for (precision = 15; precision <= 17; precision++) {
		char *at;
		snprintf(out, REAL_BUF, "%.*g", precision, r);
		if (strcmp(point, ".") && (at = strstr(out, point)) != NULL) {
			size_t point_len = strlen(point);
			*at = '.';
			memmove(at + 1, at + point_len, strlen(at + point_len) + 1);
		}
		if (read_double(&back, out, strlen(out)) == 0 && !memcmp(&back, &r, sizeof(r)))
			break;
	}
	n = strlen(out);
	if (!strchr(out, '.') && !strchr(out, 'e')) {
		memcpy(out + n, ".0", 3);
		n += 2;
	}
	return (int)n;
}

/* Reads a real, accepting only the text format_real() writes for it. */
static int parse_real(double *out, const char *s, size_t n)
{
	char canonical[REAL_BUF];
	double r;
	int len;

	if (n == 0 || n >= REAL_BUF || read_double(&r, s, n) < 0)
		return -1;
	len = format_real(canonical, r);
	if (len < 0 || (size_t)len != n || memcmp(canonical, s, n))
		return -1;
	*out = r;
	return 0;
}

/* -?[0-9]+: the shape of an integer, which then must also be canonical. */
static int integer_shaped(const char *s, size_t n)
{
	size_t k = (n && s[0] == '-') ? 1 : 0;
	if (k == n)
		return 0;
	for (; k < n; k++)
		if (s[k] < '0' || s[k] > '9')
			return 0;
	return 1;
}

/* Reads an int64 in its one written form: no '+', no leading zero, no "-0". */
static int parse_int(int64_t *out, const char *s, size_t n)
{
	uint64_t value = 0, limit = INT64_MAX;
	size_t k = 0;
	int negative = 0;

	if (!integer_shaped(s, n))
		return -1;
	if (s[0] == '-') {
		negative = 1;
		limit = (uint64_t)INT64_MAX + 1;
		k = 1;
	}
	if (s[k] == '0' && (n - k > 1 || negative))
		return -1;
	for (; k < n; k++) {
		unsigned digit = (unsigned)(s[k] - '0');
		if (value > (limit - digit) / 10)
			return -1;
		value = value * 10 + digit;
	}
	if (!negative)
		*out = (int64_t)value;
	else if (value == (uint64_t)INT64_MAX + 1)
		*out = INT64_MIN;
	else
		*out = -(int64_t)value;
	return 0;
}

/*
 * Quoted strings, for text values and for column names that are not plain
 * identifiers.
 */

static void put_quoted(ts_buf *out, const char *text, size_t n)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t k = 0;

	ts_buf__putc(out, '"');
	while (k < n) {
		size_t run = k;
		char escape[4];

		/* copy the longest stretch that needs no escaping in one go */
		while (run < n) {
			unsigned char c = s[run];
			size_t len;
			if (c >= 0x80) {
				if (!(len = utf8_sequence(s + run, n - run)))
					break;
				run += len;
			} else if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
				break;
			else
				run++;
		}
		ts_buf__put(out, s + k, run - k);
		if (run == n)
			break;
		k = run;
		switch (s[k]) {
		case '"': ts_buf__puts(out, "\\\""); break;
		case '\\': ts_buf__puts(out, "\\\\"); break;
		case '\n': ts_buf__puts(out, "\\n"); break;
		case '\t': ts_buf__puts(out, "\\t"); break;
		case '\r': ts_buf__puts(out, "\\r"); break;
		default:
			escape[0] = '\\';
			escape[1] = 'x';
			escape[2] = lower_hex[s[k] >> 4];
			escape[3] = lower_hex[s[k] & 15];
			ts_buf__put(out, escape, 4);
		}
		k++;
	}
	ts_buf__putc(out, '"');
}

/*
 * Reads the quoted string that starts at data[*pos] into `text` and moves
 * *pos past it. `scratch` holds the re-encoding that proves it canonical.
 */
static int read_quoted(ts_buf *text, ts_buf *scratch, const char *data, size_t len, size_t *pos)
{
	size_t start = *pos, k = start + 1;

	ts_buf__clear(text);
	while (k < len && data[k] != '"') {
		int hi, lo;

		if (data[k] != '\\') {
			size_t run = k;
			while (run < len && data[run] != '"' && data[run] != '\\')
				run++;
			ts_buf__put(text, data + k, run - k);
			k = run;
			continue;
		}
		if (++k >= len)
			return corrupt(k, "unterminated string");
		switch (data[k]) {
		case '"': ts_buf__putc(text, '"'); break;
		case '\\': ts_buf__putc(text, '\\'); break;
		case 'n': ts_buf__putc(text, '\n'); break;
		case 't': ts_buf__putc(text, '\t'); break;
		case 'r': ts_buf__putc(text, '\r'); break;
		case 'x':
			if (len - k < 3 || (hi = lower_hex_value((unsigned char)data[k + 1])) < 0 ||
			    (lo = lower_hex_value((unsigned char)data[k + 2])) < 0)
				return corrupt(k, "bad \\x escape");
			ts_buf__putc(text, (char)(hi << 4 | lo));
			k += 2;
			break;
		default:
			return corrupt(k, "unknown escape");
		}
		k++;
	}
	if (k >= len)
		return corrupt(start, "unterminated string");
	k++;
	if (ts_buf__oom(text))
		return TS_ERROR;

	ts_buf__clear(scratch);
	put_quoted(scratch, ts_buf__cstr(text), text->size);
	if (ts_buf__oom(scratch))
		return TS_ERROR;
	if (scratch->size != k - start || memcmp(scratch->ptr, data + start, k - start))
		return corrupt(start, "string not in canonical form (raw control byte, invalid UTF-8 or needless escape)");
	*pos = k;
	return 0;
}

/*
 * Values.
 */

/* A ts_value borrowing SQLite's memory, valid until the value changes. */
static int view_sqlite_value(ts_value *view, sqlite3_value *v)
{
	memset(view, 0, sizeof(*view));
	view->type = sqlite3_value_type(v);
	switch (view->type) {
	case SQLITE_INTEGER:
		view->i = sqlite3_value_int64(v);
		break;
	case SQLITE_FLOAT:
		view->r = sqlite3_value_double(v);
		break;
	case SQLITE_TEXT:
		if (!(view->p = (char *)sqlite3_value_text(v)))
			return out_of_memory();
		view->n = (size_t)sqlite3_value_bytes(v);
		break;
	case SQLITE_BLOB:
		view->p = (char *)sqlite3_value_blob(v);
		view->n = (size_t)sqlite3_value_bytes(v);
		if (!view->p && view->n)
			return out_of_memory();
		break;
	}
	return 0;
}

/*
 * The same for a result column. sqlite3_column_value() would give an
 * unprotected value, which sqlite3_value_*() may not read safely.
 */
static int view_column(ts_value *view, sqlite3_stmt *stmt, int col)
{
	memset(view, 0, sizeof(*view));
	view->type = sqlite3_column_type(stmt, col);
	switch (view->type) {
	case SQLITE_INTEGER:
		view->i = sqlite3_column_int64(stmt, col);
		break;
	case SQLITE_FLOAT:
		view->r = sqlite3_column_double(stmt, col);
		break;
	case SQLITE_TEXT:
		if (!(view->p = (char *)sqlite3_column_text(stmt, col)))
			return out_of_memory();
		view->n = (size_t)sqlite3_column_bytes(stmt, col);
		break;
	case SQLITE_BLOB:
		view->p = (char *)sqlite3_column_blob(stmt, col);
		view->n = (size_t)sqlite3_column_bytes(stmt, col);
		if (!view->p && view->n)
			return out_of_memory();
		break;
	}
	return 0;
}

int ts_rowcodec__put_value(ts_buf *out, int type, int64_t i, double r, const void *p, size_t n)
{
	char real[REAL_BUF];

	if ((type == SQLITE_TEXT || type == SQLITE_BLOB) && !p && n)
		return ts_error_set(TS_EINVALID, "value of %zu bytes without data", n);
	switch (type) {
	case SQLITE_NULL:
		ts_buf__puts(out, "null");
		break;
	case SQLITE_INTEGER:
		ts_buf__printf(out, "%" PRId64, i);
		break;
	case SQLITE_FLOAT:
		if (format_real(real, r) < 0)
			return ts_error_set(TS_EINVALID, "a NaN cannot be stored");
		ts_buf__puts(out, real);
		break;
	case SQLITE_TEXT:
		put_quoted(out, p ? p : "", n);
		break;
	case SQLITE_BLOB:
		ts_buf__puts(out, "x'");
		put_hex(out, p, n);
		ts_buf__putc(out, '\'');
		break;
	default:
		return ts_error_set(TS_EINVALID, "unknown value type %d", type);
	}
	return ts_buf__oom(out) ? TS_ERROR : 0;
}

int ts_rowcodec__put_sqlite_value(ts_buf *out, sqlite3_value *v)
{
	ts_value view;
	int error;

	if ((error = view_sqlite_value(&view, v)) < 0)
		return error;
	return ts_rowcodec__put_value(out, view.type, view.i, view.r, view.p, view.n);
}

static void put_name(ts_buf *out, const char *name)
{
	size_t n = strlen(name);
	if (plain_identifier(name, n))
		ts_buf__put(out, name, n);
	else
		put_quoted(out, name, n);
}

/*
 * A name names one column of a row. Were a name given twice, a reader
 * looking it up would take one of the two values and quietly drop the
 * other, and two readers could take different ones; so encoding refuses
 * such a row and decoding refuses such a blob. Names are compared as
 * bytes: "a" and "A" are two names (no SQLite table has both, so a blob
 * holding both fails its table's check instead).
 */

/* Rows of up to this many columns are checked pair by pair. */
#define PAIRWISE_MAX 64

typedef struct {
	const char *name;
	int col;
} named_column;

static int named_column_cmp(const void *a, const void *b)
{
	const named_column *x = a, *y = b;
	int cmp = strcmp(x->name, y->name);
	return cmp ? cmp : (x->col > y->col) - (x->col < y->col);
}

/*
 * Finds the first column whose name an earlier column already has: sets
 * *second to it and *first to that earlier column and returns 1; returns
 * 0 when every name differs, TS_ERROR when out of memory.
 *
 * Real rows are narrow (the widest table of the case schema, cases, has
 * 33 columns), and for them comparing pairs costs less than anything that
 * allocates: a 64-bit mask of (length, first and last byte) rules most
 * names out at once, and the others are compared, lengths first, with the
 * names before them, at most 64 * 63 / 2 times. A blob from another node
 * is decoded before anything knows its table and can hold many thousands
 * of columns, so past PAIRWISE_MAX the names are sorted: O(n log n).
 */
static int find_repeated_name(int *first, int *second, int ncol, const char *const *names)
{
	named_column *sorted;
	int i, j, found = 0;

	if (ncol <= PAIRWISE_MAX) {
		size_t len[PAIRWISE_MAX];
		uint64_t seen = 0, bit;
		for (j = 0; j < ncol; j++) {
			/* equal names have equal lengths and end bytes: a name whose
			 * bit no earlier name set needs no comparing at all */
			len[j] = strlen(names[j]);
			bit = len[j] ? (uint64_t)1 << ((len[j] * 31 + (unsigned char)names[j][0] * 7 +
				(unsigned char)names[j][len[j] - 1]) & 63) : 1;
			if (!(seen & bit)) {
				seen |= bit;
				continue;
			}
			for (i = 0; i < j; i++)
				if (len[i] == len[j] && !memcmp(names[i], names[j], len[j])) {
					*first = i;
					*second = j;
					return 1;
				}
		}
		return 0;
	}
	if (!(sorted = malloc((size_t)ncol * sizeof(*sorted))))
		return out_of_memory();
	for (i = 0; i < ncol; i++) {
		sorted[i].name = names[i];
		sorted[i].col = i;
	}
	qsort(sorted, (size_t)ncol, sizeof(*sorted), named_column_cmp);
	/* equal names sit together, earliest column first: the answer is the
	 * run whose second column comes first, as the pairwise loop finds it */
	for (i = 0; i < ncol; i = j) {
		for (j = i + 1; j < ncol && !strcmp(sorted[j].name, sorted[i].name); j++)
			;
		if (j - i > 1 && (!found || sorted[i + 1].col < *second)) {
			*first = sorted[i].col;
			*second = sorted[i + 1].col;
			found = 1;
		}
	}
	free(sorted);
	return found;
}

/* Fails with `code` when a name is given twice; 0 when none is. */
static int refuse_repeated_name(int code, const char *what, int ncol, const char *const *names)
{
	ts_buf shown = TS_BUF_INIT;
	int first, second, found, error;

	if ((found = find_repeated_name(&first, &second, ncol, names)) <= 0)
		return found;
	put_name(&shown, names[second]);
	error = ts_error_set(code, "%s: column name %s given twice (columns %d and %d)", what,
		ts_buf__oom(&shown) ? "(out of memory)" : ts_buf__cstr(&shown), first + 1, second + 1);
	ts_buf__dispose(&shown);
	return error;
}

int ts_rowcodec__encode_stmt(ts_buf *out, sqlite3_stmt *stmt)
{
	int ncol = sqlite3_column_count(stmt), col, error = 0;
	const char *few[PAIRWISE_MAX] = { NULL }, **names = few;
	ts_value view;

	ts_buf__clear(out);
	if (ncol > PAIRWISE_MAX && !(names = malloc((size_t)ncol * sizeof(*names))))
		return out_of_memory();
	for (col = 0; col < ncol; col++)
		if (!(names[col] = sqlite3_column_name(stmt, col))) {
			error = out_of_memory();
			goto done;
		}
	if ((error = refuse_repeated_name(TS_EINVALID, "encoding a row", ncol, names)) < 0)
		goto done;
	for (col = 0; col < ncol; col++) {
		put_name(out, names[col]);
		ts_buf__putc(out, ' ');
		if ((error = view_column(&view, stmt, col)) < 0 ||
		    (error = ts_rowcodec__put_value(out, view.type, view.i, view.r, view.p, view.n)) < 0)
			goto done;
		ts_buf__putc(out, '\n');
	}
	if (ts_buf__oom(out))
		error = TS_ERROR;
done:
	if (names != few)
		free(names);
	if (error < 0)
		ts_buf__clear(out);
	return error;
}

int ts_rowcodec__encode_values(ts_buf *out, int ncol, const char *const *names, const ts_value *values)
{
	int col, error = 0;

	ts_buf__clear(out);
	if (ncol < 0 || (ncol > 0 && (!names || !values)))
		return ts_error_set(TS_EINVALID, "encoding a row: no columns given");
	for (col = 0; col < ncol; col++)
		if (!names[col])
			return ts_error_set(TS_EINVALID, "encoding a row: column %d has no name", col);
	if ((error = refuse_repeated_name(TS_EINVALID, "encoding a row", ncol, names)) < 0)
		return error;
	for (col = 0; col < ncol; col++) {
		const ts_value *v = &values[col];
		put_name(out, names[col]);
		ts_buf__putc(out, ' ');
		if ((error = ts_rowcodec__put_value(out, v->type, v->i, v->r, v->p, v->n)) < 0)
			goto done;
		ts_buf__putc(out, '\n');
	}
	if (ts_buf__oom(out))
		error = TS_ERROR;
done:
	if (error < 0)
		ts_buf__clear(out);
	return error;
}

/*
 * Decoding.
 */

static int read_name(char **out, ts_buf *text, ts_buf *scratch, const char *data, size_t len, size_t *pos)
{
	size_t start = *pos, k = start;
	int error;

	*out = NULL;
	if (k < len && data[k] == '"') {
		if ((error = read_quoted(text, scratch, data, len, pos)) < 0)
			return error;
		if (memchr(ts_buf__cstr(text), '\0', text->size))
			return corrupt(start, "column name holds a NUL");
		if (plain_identifier(ts_buf__cstr(text), text->size))
			return corrupt(start, "quoted column name that should be bare");
		*out = dup_bytes(ts_buf__cstr(text), text->size);
	} else {
		while (k < len && (k == start ? ident_start((unsigned char)data[k]) : ident_char((unsigned char)data[k])))
			k++;
		if (k == start)
			return corrupt(start, "bad column name");
		*out = dup_bytes(data + start, k - start);
		*pos = k;
	}
	return *out ? 0 : out_of_memory();
}

/* Reads one value, up to but not including its newline. */
static int read_value(ts_value *v, ts_buf *text, ts_buf *scratch, const char *data, size_t len, size_t *pos)
{
	size_t start = *pos, k;
	const char *token, *end;
	size_t n;
	int error;

	if (start >= len)
		return corrupt(start, "missing value");
	if (data[start] == '"') {
		if ((error = read_quoted(text, scratch, data, len, pos)) < 0)
			return error;
		if (!(v->p = dup_bytes(ts_buf__cstr(text), text->size)))
			return out_of_memory();
		v->type = SQLITE_TEXT;
		v->n = text->size;
		return 0;
	}
	if (data[start] == 'x') {
		const char *hex;
		if (len - start < 2 || data[start + 1] != '\'')
			return corrupt(start, "bad blob");
		hex = data + start + 2;
		if (!(end = memchr(hex, '\'', len - start - 2)))
			return corrupt(start, "unterminated blob");
		if ((end - hex) % 2)
			return corrupt(start, "blob with an odd number of hex digits");
		n = (size_t)(end - hex) / 2;
		if (!(v->p = malloc(n + 1)))
			return out_of_memory();
		v->type = SQLITE_BLOB;
		v->n = n;
		v->p[n] = '\0';
		for (k = 0; k < n; k++) {
			int hi = lower_hex_value((unsigned char)hex[2 * k]);
			int lo = lower_hex_value((unsigned char)hex[2 * k + 1]);
			if (hi < 0 || lo < 0)
				return corrupt(start + 2 + 2 * k, "bad hex digit in blob");
			v->p[k] = (char)(hi << 4 | lo);
		}
		*pos = (size_t)(end - data) + 1;
		return 0;
	}

	token = data + start;
	if (!(end = memchr(token, '\n', len - start)))
		return corrupt(start, "missing newline");
	n = (size_t)(end - token);
	if (n == 4 && !memcmp(token, "null", 4))
		v->type = SQLITE_NULL;
	else if (integer_shaped(token, n)) {
		if (parse_int(&v->i, token, n) < 0)
			return corrupt(start, "integer out of range or not canonical");
		v->type = SQLITE_INTEGER;
	} else {
		if (parse_real(&v->r, token, n) < 0)
			return corrupt(start, "bad value");
		v->type = SQLITE_FLOAT;
	}
	*pos = start + n;
	return 0;
}

int ts_rowcodec__decode(ts_row **out, const char *data, size_t len)
{
	ts_buf text = TS_BUF_INIT, scratch = TS_BUF_INIT;
	ts_row *row = NULL;
	size_t pos = 0, capacity = 0;
	int error = 0;

	*out = NULL;
	if (!data && len)
		return ts_error_set(TS_EINVALID, "decoding a row: no data");
	if (!(row = calloc(1, sizeof(*row)))) {
		error = out_of_memory();
		goto done;
	}
	while (pos < len) {
		int col = row->ncol;

		if ((size_t)col == capacity) {
			size_t grown = capacity ? capacity * 2 : 8;
			char **names;
			ts_value *values;
			if (grown > INT32_MAX) {
				error = corrupt(pos, "too many columns");
				goto done;
			}
			if ((names = realloc(row->names, grown * sizeof(*names))) != NULL)
				row->names = names;
			if ((values = realloc(row->values, grown * sizeof(*values))) != NULL)
				row->values = values;
			if (!names || !values) {
				error = out_of_memory();
				goto done;
			}
			capacity = grown;
		}
		/* count the column first, so that ts_row__free() frees what a failed read left */
		row->names[col] = NULL;
		memset(&row->values[col], 0, sizeof(row->values[col]));
		row->values[col].type = SQLITE_NULL;
		row->ncol++;

		if ((error = read_name(&row->names[col], &text, &scratch, data, len, &pos)) < 0)
			goto done;
		if (pos >= len || data[pos] != ' ') {
			error = corrupt(pos, "expected one space after the column name");
			goto done;
		}
		pos++;
		if ((error = read_value(&row->values[col], &text, &scratch, data, len, &pos)) < 0)
			goto done;
		if (pos >= len || data[pos] != '\n') {
			error = corrupt(pos, "expected a newline after the value");
			goto done;
		}
		pos++;
	}
	/* names are kept whatever they are (this file knows no table); a name
	 * given twice is the one thing about them a blob cannot be */
	if ((error = refuse_repeated_name(TS_ECORRUPT, "row blob corrupt", row->ncol,
			(const char *const *)row->names)) < 0)
		goto done;
	*out = row;
	row = NULL;
done:
	ts_row__free(row);
	ts_buf__dispose(&text);
	ts_buf__dispose(&scratch);
	return error;
}

void ts_row__free(ts_row *row)
{
	int col;

	if (!row)
		return;
	for (col = 0; col < row->ncol; col++) {
		free(row->names[col]);
		ts_value__dispose(&row->values[col]);
	}
	free(row->names);
	free(row->values);
	free(row);
}

int ts_row__take(ts_row **out, int ncol, const char *const *names, ts_value *values)
{
	ts_row *row;
	int col;

	*out = NULL;
	if (!(row = calloc(1, sizeof(*row))) ||
	    (ncol > 0 && (!(row->names = calloc((size_t)ncol, sizeof(*row->names))) ||
			  !(row->values = calloc((size_t)ncol, sizeof(*row->values)))))) {
		ts_row__free(row);
		return out_of_memory();
	}
	for (col = 0; col < ncol; col++) {
		row->values[col].type = SQLITE_NULL;
		row->ncol++;
		if (!(row->names[col] = strdup(names[col]))) {
			ts_row__free(row);
			return out_of_memory();
		}
		row->values[col] = values[col];
		memset(&values[col], 0, sizeof(values[col]));
		values[col].type = SQLITE_NULL;
	}
	*out = row;
	return 0;
}

const ts_value *ts_row__get(const ts_row *row, const char *name)
{
	int col;

	if (!row || !name)
		return NULL;
	for (col = 0; col < row->ncol; col++)
		if (!strcmp(row->names[col], name))
			return &row->values[col];
	return NULL;
}

int ts_value__equal(const ts_value *a, const ts_value *b)
{
	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case SQLITE_NULL:
		return 1;
	case SQLITE_INTEGER:
		return a->i == b->i;
	case SQLITE_FLOAT:
		/* bits, not ==: -0.0 and 0.0 encode differently */
		return !memcmp(&a->r, &b->r, sizeof(a->r));
	case SQLITE_TEXT:
	case SQLITE_BLOB:
		return a->n == b->n && (a->n == 0 || !memcmp(a->p, b->p, a->n));
	}
	return 0;
}

int ts_value__equal_sqlite(const ts_value *a, sqlite3_value *b)
{
	double r;

	if (a->type != sqlite3_value_type(b))
		return 0;
	switch (a->type) {
	case SQLITE_NULL:
		return 1;
	case SQLITE_INTEGER:
		return a->i == sqlite3_value_int64(b);
	case SQLITE_FLOAT:
		r = sqlite3_value_double(b);
		return !memcmp(&a->r, &r, sizeof(r));
	case SQLITE_TEXT:
	case SQLITE_BLOB: {
		/* the pointer first: the size is then the size of what it points to */
		const void *p = a->type == SQLITE_TEXT ? (const void *)sqlite3_value_text(b) : sqlite3_value_blob(b);
		return a->n == (size_t)sqlite3_value_bytes(b) && (a->n == 0 || !memcmp(a->p, p, a->n));
	}
	}
	return 0;
}

int ts_value__bind(sqlite3_stmt *stmt, int idx, const ts_value *v)
{
	switch (v->type) {
	case SQLITE_NULL:
		return sqlite3_bind_null(stmt, idx);
	case SQLITE_INTEGER:
		return sqlite3_bind_int64(stmt, idx, v->i);
	case SQLITE_FLOAT:
		return sqlite3_bind_double(stmt, idx, v->r);
	case SQLITE_TEXT:
		/* a NULL pointer would bind SQL NULL, not "" */
		return sqlite3_bind_text64(stmt, idx, v->p ? v->p : "", v->n, SQLITE_TRANSIENT, SQLITE_UTF8);
	case SQLITE_BLOB:
		/* likewise: sqlite3_bind_blob() of no bytes may bind NULL, not x'' */
		if (v->n == 0)
			return sqlite3_bind_zeroblob(stmt, idx, 0);
		return sqlite3_bind_blob64(stmt, idx, v->p, v->n, SQLITE_TRANSIENT);
	}
	return SQLITE_MISUSE;
}

int ts_value__from_sqlite(ts_value *out, sqlite3_value *v)
{
	ts_value view;
	int error;

	memset(out, 0, sizeof(*out));
	out->type = SQLITE_NULL;
	if ((error = view_sqlite_value(&view, v)) < 0)
		return error;
	if (view.type == SQLITE_TEXT || view.type == SQLITE_BLOB) {
		if (!(view.p = dup_bytes(view.p ? view.p : "", view.n)))
			return out_of_memory();
	}
	*out = view;
	return 0;
}

int ts_value__copy(ts_value *out, const ts_value *v)
{
	*out = *v;
	out->p = NULL;
	if ((v->type == SQLITE_TEXT || v->type == SQLITE_BLOB) && !(out->p = dup_bytes(v->p ? v->p : "", v->n))) {
		out->type = SQLITE_NULL;
		return out_of_memory();
	}
	return 0;
}

void ts_value__dispose(ts_value *v)
{
	if (!v)
		return;
	free(v->p);
	memset(v, 0, sizeof(*v));
	v->type = SQLITE_NULL;
}

void ts_value__put_display(ts_buf *out, const ts_value *v)
{
	if (!v || v->type == SQLITE_NULL)
		ts_buf__puts(out, "NULL");
	else if (v->type == SQLITE_TEXT)
		ts_buf__put(out, v->p ? v->p : "", v->p ? v->n : 0);
	else if (v->type == SQLITE_FLOAT && isnan(v->r))
		ts_buf__puts(out, "nan");  /* never from SQLite; shown rather than refused */
	else if (ts_rowcodec__put_value(out, v->type, v->i, v->r, v->p, v->n) < 0)
		ts_buf__puts(out, "?");
}

/*
 * Key names and paths.
 */

static uint64_t fnv1a64(const char *s, size_t n)
{
	uint64_t hash = FNV64_OFFSET;
	size_t k;

	for (k = 0; k < n; k++) {
		hash ^= (unsigned char)s[k];
		hash *= FNV64_PRIME;
	}
	return hash;
}

/*
 * The fan-out hash: FNV-1a alone mixes a name's last bytes poorly into its
 * top bits (sequential ids landed 6 to 355 per leaf); a Fibonacci multiply
 * spreads them (101 to 210 for 10 million sequential keys).
 */
static uint64_t fan_hash(const char *s, size_t n)
{
	return fnv1a64(s, n) * 0x9e3779b97f4a7c15ULL;
}

/* The bytes a text key component keeps as they are. */
static int key_byte_kept(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '_' || c == '.' || c == '-';
}

static void put_key_text(ts_buf *out, const char *text, size_t n)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t k;

	/* "%" is not a valid %HH, so it cannot be read as anything but "" */
	if (n == 0) {
		ts_buf__putc(out, '%');
		return;
	}
	for (k = 0; k < n; k++) {
		/* an escaped leading '.' keeps the name from being ".", ".." or ".git" */
		if (key_byte_kept(s[k]) && !(k == 0 && s[k] == '.'))
			ts_buf__putc(out, (char)s[k]);
		else {
			char escape[3] = { '%', upper_hex[s[k] >> 4], upper_hex[s[k] & 15] };
			ts_buf__put(out, escape, 3);
		}
	}
}

/*
 * One key component. Text never starts with '#' (it would be %23), so the
 * '#' forms cannot be mistaken for text, and neither kind contains ','.
 */
static int put_key_component(ts_buf *out, const ts_value *v)
{
	char real[REAL_BUF];

	switch (v->type) {
	case SQLITE_NULL:
		ts_buf__puts(out, "#null");
		break;
	case SQLITE_INTEGER:
		ts_buf__printf(out, "#%" PRId64, v->i);
		break;
	case SQLITE_FLOAT:
		if (format_real(real, v->r) < 0)
			return ts_error_set(TS_EINVALID, "a NaN cannot be a key");
		ts_buf__printf(out, "#r%s", real);
		break;
	case SQLITE_TEXT:
		if (!v->p && v->n)
			return ts_error_set(TS_EINVALID, "key text of %zu bytes without data", v->n);
		put_key_text(out, v->p ? v->p : "", v->n);
		break;
	case SQLITE_BLOB:
		if (!v->p && v->n)
			return ts_error_set(TS_EINVALID, "key blob of %zu bytes without data", v->n);
		ts_buf__puts(out, "#x");
		put_hex(out, v->p, v->n);
		break;
	default:
		return ts_error_set(TS_EINVALID, "unknown key type %d", v->type);
	}
	return 0;
}

/* Cuts the over-long name that starts at out->ptr[start]. */
static int cut_key_name(ts_buf *out, size_t start)
{
	const char *name = out->ptr + start;
	size_t len = out->size - start, cut = KEY_NAME_CUT;
	char hex[KEY_NAME_ID_LEN + 1];
	git_oid id;

	if (git_odb_hash(&id, name, len, GIT_OBJECT_BLOB) < 0) {
		const git_error *e = git_error_last();
		return ts_error_set(TS_ERROR, "hashing a key name: %s", e ? e->message : "unknown error");
	}
	/* never split a %HH: the prefix stays a readable start of the name */
	if (name[cut - 2] == '%')
		cut -= 2;
	else if (name[cut - 1] == '%')
		cut -= 1;
	truncate_to(out, start + cut);
	git_oid_tostr(hex, sizeof(hex), &id);
	ts_buf__putc(out, '~');
	ts_buf__puts(out, hex);
	return ts_buf__oom(out) ? TS_ERROR : 0;
}

/* Appends the name of a key given either as SQLite values or as ts_values. */
static int append_key_name(ts_buf *out, int nkey, sqlite3_value **keys, const ts_value *values)
{
	size_t start = out->size;
	int k, error = 0;

	if (nkey <= 0 || (!keys && !values))
		return ts_error_set(TS_EINVALID, "a key needs at least one value");
	for (k = 0; k < nkey; k++) {
		ts_value view;
		const ts_value *v = &view;

		if (!keys)
			v = &values[k];
		else if ((error = view_sqlite_value(&view, keys[k])) < 0)
			goto done;
		if (k)
			ts_buf__putc(out, ',');
		if ((error = put_key_component(out, v)) < 0)
			goto done;
	}
	if (ts_buf__oom(out)) {
		error = TS_ERROR;
		goto done;
	}
	if (out->size - start > KEY_NAME_MAX)
		error = cut_key_name(out, start);
done:
	if (error < 0)
		truncate_to(out, start);
	return error;
}

int ts_rowcodec__key_name(ts_buf *out, int nkey, sqlite3_value **keys)
{
	if (!keys)
		return ts_error_set(TS_EINVALID, "a key needs at least one value");
	return append_key_name(out, nkey, keys, NULL);
}

int ts_rowcodec__key_name_values(ts_buf *out, int nkey, const ts_value *keys)
{
	if (!keys)
		return ts_error_set(TS_EINVALID, "a key needs at least one value");
	return append_key_name(out, nkey, NULL, keys);
}

/* The fan-out directories: the top 16 bits of the name's hash, a nibble each. */
static void put_fan_out(ts_buf *out, const char *name, size_t n)
{
	uint64_t hash = fan_hash(name, n);
	int level;

	for (level = 0; level < 4; level++) {
		ts_buf__putc(out, '/');
		ts_buf__putc(out, lower_hex[(hash >> (60 - 4 * level)) & 15]);
	}
	ts_buf__putc(out, '/');
}

static int append_key_path(ts_buf *out, const char *table, int nkey, sqlite3_value **keys, const ts_value *values)
{
	ts_buf name = TS_BUF_INIT;
	size_t start = out->size;
	int error;

	/* a plain identifier is a safe path component: no '/', never "." or ".git" */
	if (!table || !plain_identifier(table, strlen(table)))
		return ts_error_set(TS_EINVALID, "table name \"%s\" is not a plain identifier",
			table ? table : "(null)");
	if ((error = append_key_name(&name, nkey, keys, values)) < 0)
		goto done;
	ts_buf__puts(out, table);
	put_fan_out(out, name.ptr, name.size);
	ts_buf__put(out, name.ptr, name.size);
	if (ts_buf__oom(out)) {
		error = TS_ERROR;
		truncate_to(out, start);
	}
done:
	ts_buf__dispose(&name);
	return error;
}

int ts_rowcodec__key_path(ts_buf *out, const char *table, int nkey, sqlite3_value **keys)
{
	if (!keys)
		return ts_error_set(TS_EINVALID, "a key needs at least one value");
	return append_key_path(out, table, nkey, keys, NULL);
}

int ts_rowcodec__key_path_values(ts_buf *out, const char *table, int nkey, const ts_value *keys)
{
	if (!keys)
		return ts_error_set(TS_EINVALID, "a key needs at least one value");
	return append_key_path(out, table, nkey, NULL, keys);
}

/*
 * Checking names read back from a tree: only what put_key_component() and
 * cut_key_name() can write is accepted.
 */

static int valid_key_text(const char *s, size_t n)
{
	size_t k = 0;

	if (n == 1 && s[0] == '%')
		return 1;
	if (n == 0)
		return 0;
	while (k < n) {
		int c = (unsigned char)s[k], hi, lo;
		if (c == '%') {
			if (n - k < 3 || (hi = upper_hex_value((unsigned char)s[k + 1])) < 0 ||
			    (lo = upper_hex_value((unsigned char)s[k + 2])) < 0)
				return 0;
			c = hi << 4 | lo;
			/* only bytes that must be escaped may be */
			if (key_byte_kept(c) && !(k == 0 && c == '.'))
				return 0;
			k += 3;
		} else {
			if (!key_byte_kept(c) || (k == 0 && c == '.'))
				return 0;
			k++;
		}
	}
	return 1;
}

static int valid_key_component(const char *s, size_t n)
{
	int64_t i;
	double r;
	size_t k;

	if (n == 0 || s[0] != '#')
		return valid_key_text(s, n);
	if (n == 5 && !memcmp(s, "#null", 5))
		return 1;
	if (n >= 2 && s[1] == 'r')
		return parse_real(&r, s + 2, n - 2) == 0;
	if (n >= 2 && s[1] == 'x') {
		if ((n - 2) % 2)
			return 0;
		for (k = 2; k < n; k++)
			if (lower_hex_value((unsigned char)s[k]) < 0)
				return 0;
		return 1;
	}
	return parse_int(&i, s + 1, n - 1) == 0;
}

static int valid_key_name(const char *s, size_t n)
{
	const char *tilde = memchr(s, '~', n), *end = s + n, *p, *comma;
	size_t cut, k;

	if (!tilde) {
		if (n == 0 || n > KEY_NAME_MAX)
			return 0;
		for (p = s;; p = comma + 1) {
			comma = memchr(p, ',', (size_t)(end - p));
			if (!valid_key_component(p, (size_t)((comma ? comma : end) - p)))
				return 0;
			if (!comma)
				return 1;
		}
	}

	/* a cut name: a prefix of the full name, '~', its blob id */
	cut = (size_t)(tilde - s);
	if (cut < KEY_NAME_CUT - 2 || cut > KEY_NAME_CUT || n != cut + 1 + KEY_NAME_ID_LEN)
		return 0;
	for (k = cut + 1; k < n; k++)
		if (lower_hex_value((unsigned char)s[k]) < 0)
			return 0;
	if (s[0] == '.')
		return 0;
	for (k = 0; k < cut; k++)
		if (!key_byte_kept((unsigned char)s[k]) && !strchr("%#,+", s[k]))
			return 0;
	/* the cut is at 150 unless a %HH would be split, and only then */
	if (cut == KEY_NAME_CUT)
		return s[cut - 2] != '%' && s[cut - 1] != '%';
	if (cut == KEY_NAME_CUT - 1)
		return s[cut - 1] != '%';
	return 1;
}

int ts_rowcodec__path_split(ts_buf *table, const char **name, const char *path)
{
	const char *slash, *fan, *leaf;
	size_t leaf_len;
	uint64_t hash;
	int level;

	*name = NULL;
	ts_buf__clear(table);
	if (!path)
		return ts_error_set(TS_ECORRUPT, "no path");
	if (!(slash = strchr(path, '/')) || !plain_identifier(path, (size_t)(slash - path)))
		return ts_error_set(TS_ECORRUPT, "path \"%s\" does not start with a table name", path);
	fan = slash + 1;
	for (level = 0; level < 4; level++)
		if (lower_hex_value((unsigned char)fan[2 * level]) < 0 || fan[2 * level + 1] != '/')
			return ts_error_set(TS_ECORRUPT, "path \"%s\" does not have four fan-out levels", path);
	leaf = fan + 8;
	leaf_len = strlen(leaf);
	if (!valid_key_name(leaf, leaf_len))
		return ts_error_set(TS_ECORRUPT, "path \"%s\" does not end in a key name", path);
	hash = fan_hash(leaf, leaf_len);
	for (level = 0; level < 4; level++)
		if (fan[2 * level] != lower_hex[(hash >> (60 - 4 * level)) & 15])
			return ts_error_set(TS_ECORRUPT, "path \"%s\" has the wrong fan-out for its name", path);
	ts_buf__put(table, path, (size_t)(slash - path));
	if (ts_buf__oom(table))
		return TS_ERROR;
	*name = leaf;
	return 0;
}

/*
 * Appends the readable form of an encoded key name (rowcodec.h): each
 * component as a report shows a value, joined by ", ". Returns 0 when the
 * name cannot be read back (a cut name ends in a hash, not the key).
 */
int ts_rowcodec__key_name_readable(ts_buf *out, const char *name)
{
	const char *p = name;
	size_t start = out->size;

	if (strchr(name, '~'))
		return 0;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (p != name)
			ts_buf__puts(out, ", ");
		if (n == 5 && !memcmp(p, "#null", 5))
			ts_buf__puts(out, "NULL");
		else if (n >= 2 && p[0] == '#' && p[1] == 'x') {
			ts_buf__puts(out, "x'");
			ts_buf__put(out, p + 2, n - 2);
			ts_buf__putc(out, '\'');
		} else if (n >= 2 && p[0] == '#' && p[1] == 'r')
			ts_buf__put(out, p + 2, n - 2);
		else if (n >= 1 && p[0] == '#')
			ts_buf__put(out, p + 1, n - 1);
		else if (!(n == 1 && p[0] == '%')) {
			size_t k;
			for (k = 0; k < n; k++) {
				int hi, lo;
				if (p[k] == '%' && k + 2 < n && (hi = upper_hex_value((unsigned char)p[k + 1])) >= 0 &&
				    (lo = upper_hex_value((unsigned char)p[k + 2])) >= 0) {
					ts_buf__putc(out, (char)(hi * 16 + lo));
					k += 2;
				} else if (p[k] == '%') {
					out->size = start;   /* not a name rowcodec wrote */
					if (out->ptr)
						out->ptr[start] = '\0';
					return 0;
				} else
					ts_buf__putc(out, p[k]);
			}
		}
		if (!end)
			break;
		p = end + 1;
	}
	return 1;
}
