/*
 * Unit tests of the row encoding (sync/rowcodec.c): blobs are canonical
 * and round-trip every SQLite value exactly, decoding refuses anything
 * else, and key names and paths are unique and safe for git trees.
 */
#include "harness.h"

#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include <git2.h>
#include <sqlite3.h>

#include "rowcodec.h"
#include "schema.h"
#include "tiersync.h"

/* Values that borrow their bytes; never ts_value__dispose() them. */
static ts_value v_null(void)
{
	ts_value v = { SQLITE_NULL, 0, 0, NULL, 0 };
	return v;
}

static ts_value v_int(int64_t i)
{
	ts_value v = { SQLITE_INTEGER, i, 0, NULL, 0 };
	return v;
}

static ts_value v_real(double r)
{
	ts_value v = { SQLITE_FLOAT, 0, r, NULL, 0 };
	return v;
}

static ts_value v_text_n(const char *p, size_t n)
{
	ts_value v = { SQLITE_TEXT, 0, 0, (char *)p, n };
	return v;
}

static ts_value v_text(const char *p)
{
	return v_text_n(p, strlen(p));
}

static ts_value v_blob(const void *p, size_t n)
{
	ts_value v = { SQLITE_BLOB, 0, 0, (char *)p, n };
	return v;
}

/* The encoding of one value, or NULL when it is refused. Caller frees. */
static char *encode_one(ts_value v)
{
	ts_buf out = TS_BUF_INIT;
	if (ts_rowcodec__put_value(&out, v.type, v.i, v.r, v.p, v.n) < 0) {
		ts_buf__dispose(&out);
		return NULL;
	}
	return ts_buf__detach(&out);
}

static int encoded_as(ts_value v, const char *expected)
{
	char *got = encode_one(v);
	int same = got && !strcmp(got, expected);
	if (!same)
		fprintf(stderr, "    encoded \"%s\", expected \"%s\"\n", got ? got : "(refused)", expected);
	free(got);
	return same;
}

/* Decodes the bytes from an exact-size copy, so ASan sees any over-read. */
static int decode_exact(ts_row **row, const char *data, size_t len)
{
	char *copy = malloc(len ? len : 1);
	int rc;
	if (!copy)
		return TS_ERROR;
	if (len)
		memcpy(copy, data, len);
	rc = ts_rowcodec__decode(row, copy, len);
	free(copy);
	return rc;
}

/* encode -> decode -> equal values -> encode again gives the same bytes. */
static int round_trips(int ncol, const char *const *names, const ts_value *values)
{
	ts_buf first = TS_BUF_INIT, second = TS_BUF_INIT;
	ts_row *row = NULL;
	int ok = 0, col;

	if (ts_rowcodec__encode_values(&first, ncol, names, values) < 0 ||
	    decode_exact(&row, first.ptr, first.size) < 0 || row->ncol != ncol)
		goto done;
	for (col = 0; col < ncol; col++)
		if (strcmp(row->names[col], names[col]) || !ts_value__equal(&row->values[col], &values[col]))
			goto done;
	if (ts_rowcodec__encode_values(&second, row->ncol, (const char *const *)row->names, row->values) < 0)
		goto done;
	ok = first.size == second.size && !memcmp(first.ptr, second.ptr, first.size);
done:
	ts_row__free(row);
	ts_buf__dispose(&first);
	ts_buf__dispose(&second);
	return ok;
}

static int round_trips_one(ts_value v)
{
	const char *name = "v";
	return round_trips(1, &name, &v);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	/* xorshift64*: deterministic, so a failure reproduces */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static sqlite3 *open_memory_db(void)
{
	sqlite3 *db = NULL;
	if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

/*
 * Encoding.
 */

void test_rowcodec__exact_values(void)
{
	static const unsigned char blob[] = { 0x0a, 0xff, 0x00 };

	test_assert(encoded_as(v_null(), "null"));
	test_assert(encoded_as(v_int(0), "0"));
	test_assert(encoded_as(v_int(-1), "-1"));
	test_assert(encoded_as(v_int(-42), "-42"));
	test_assert(encoded_as(v_int(INT64_MAX), "9223372036854775807"));
	test_assert(encoded_as(v_int(INT64_MIN), "-9223372036854775808"));
	test_assert(encoded_as(v_text(""), "\"\""));
	test_assert(encoded_as(v_text_n(NULL, 0), "\"\""));
	test_assert(encoded_as(v_blob(NULL, 0), "x''"));
	test_assert(encoded_as(v_blob(blob, 3), "x'0aff00'"));
	test_assert(encoded_as(v_text("a\"b\\c\nd\te\rf"), "\"a\\\"b\\\\c\\nd\\te\\rf\""));
	test_assert(encoded_as(v_text_n("a\0b\x01\x1f\x7f", 6), "\"a\\x00b\\x01\\x1f\\x7f\""));
	test_assert(encoded_as(v_text("景山前街 4号"), "\"景山前街 4号\""));
}

void test_rowcodec__exact_reals(void)
{
	test_assert(encoded_as(v_real(0.0), "0.0"));
	test_assert(encoded_as(v_real(-0.0), "-0.0"));
	test_assert(encoded_as(v_real(0.1), "0.1"));
	test_assert(encoded_as(v_real(0.3), "0.3"));
	test_assert(encoded_as(v_real(3.5), "3.5"));
	test_assert(encoded_as(v_real(-1.5), "-1.5"));
	test_assert(encoded_as(v_real(100.0), "100.0"));
	test_assert(encoded_as(v_real(1e14), "100000000000000.0"));
	test_assert(encoded_as(v_real(1e15), "1e+15"));
	test_assert(encoded_as(v_real(1e-5), "1e-05"));
	test_assert(encoded_as(v_real(1.0 / 3.0), "0.3333333333333333"));
	test_assert(encoded_as(v_real(9007199254740992.0), "9007199254740992.0"));
	test_assert(encoded_as(v_real(1e300), "1e+300"));
	test_assert(encoded_as(v_real(5e-324), "4.94065645841247e-324"));
	test_assert(encoded_as(v_real(DBL_MAX), "1.7976931348623157e+308"));
	test_assert(encoded_as(v_real(INFINITY), "inf"));
	test_assert(encoded_as(v_real(-INFINITY), "-inf"));
}

void test_rowcodec__nan_refused(void)
{
	ts_buf out = TS_BUF_INIT;
	const char *names[] = { "a", "b" };
	ts_value values[2];

	values[0] = v_int(1);
	values[1] = v_real(NAN);
	test_equal_i(ts_rowcodec__put_value(&out, SQLITE_FLOAT, 0, NAN, NULL, 0), TS_EINVALID);
	test_equal_i(ts_rowcodec__put_value(&out, SQLITE_FLOAT, 0, -NAN, NULL, 0), TS_EINVALID);
	test_equal_i(ts_rowcodec__encode_values(&out, 2, names, values), TS_EINVALID);
	test_equal_i(out.size, 0);
	test_equal_i(ts_rowcodec__key_name_values(&out, 1, &values[1]), TS_EINVALID);
	test_equal_i(out.size, 0);
	test_equal_i(ts_rowcodec__put_value(&out, 99, 0, 0, NULL, 0), TS_EINVALID);
	ts_buf__dispose(&out);
}

void test_rowcodec__deterministic_values(void)
{
	const char *names[] = { "id", "n", "r", "t", "b", "z", "odd name", "" };
	ts_value values[8];
	ts_buf a = TS_BUF_INIT, b = TS_BUF_INIT;

	values[0] = v_text("bj.dc.jingshan-C20240315-7");
	values[1] = v_int(-7);
	values[2] = v_real(2.5);
	values[3] = v_text("扬尘\n\"x\"");
	values[4] = v_blob("\x01\x02", 2);
	values[5] = v_null();
	values[6] = v_int(1);
	values[7] = v_int(2);
	test_ok(ts_rowcodec__encode_values(&a, 8, names, values));
	test_ok(ts_rowcodec__encode_values(&b, 8, names, values));
	test_equal_i(a.size, b.size);
	test_assert(!memcmp(a.ptr, b.ptr, a.size));
	test_equal_s(a.ptr,
		"id \"bj.dc.jingshan-C20240315-7\"\n"
		"n -7\n"
		"r 2.5\n"
		"t \"扬尘\\n\\\"x\\\"\"\n"
		"b x'0102'\n"
		"z null\n"
		"\"odd name\" 1\n"
		"\"\" 2\n");
	/* the output buffer is cleared first */
	test_ok(ts_rowcodec__encode_values(&b, 1, names, values));
	test_equal_s(b.ptr, "id \"bj.dc.jingshan-C20240315-7\"\n");
	ts_buf__dispose(&a);
	ts_buf__dispose(&b);
}

void test_rowcodec__deterministic_stmt(void)
{
	static const char *names[] = { "id", "n", "r", "t", "b", "z", "e", "x" };
	sqlite3 *db = open_memory_db();
	sqlite3_stmt *stmt = NULL;
	ts_buf first = TS_BUF_INIT, second = TS_BUF_INIT, from_values = TS_BUF_INIT;
	ts_value values[8];

	test_assert(db);
	test_equal_i(sqlite3_exec(db,
		"CREATE TABLE cases (id TEXT PRIMARY KEY, n INTEGER, r REAL, t TEXT, b BLOB, z, e TEXT, x BLOB);"
		"INSERT INTO cases VALUES ('k1', -7, 2.5, '扬尘', x'0102', NULL, '', x'');",
		NULL, NULL, NULL), SQLITE_OK);
	test_equal_i(sqlite3_prepare_v2(db, "SELECT * FROM cases", -1, &stmt, NULL), SQLITE_OK);
	test_equal_i(sqlite3_step(stmt), SQLITE_ROW);
	test_ok(ts_rowcodec__encode_stmt(&first, stmt));
	test_ok(ts_rowcodec__encode_stmt(&second, stmt));
	test_equal_i(first.size, second.size);
	test_assert(!memcmp(first.ptr, second.ptr, first.size));
	test_equal_s(first.ptr, "id \"k1\"\nn -7\nr 2.5\nt \"扬尘\"\nb x'0102'\nz null\ne \"\"\nx x''\n");

	values[0] = v_text("k1");
	values[1] = v_int(-7);
	values[2] = v_real(2.5);
	values[3] = v_text("扬尘");
	values[4] = v_blob("\x01\x02", 2);
	values[5] = v_null();
	values[6] = v_text("");
	values[7] = v_blob(NULL, 0);
	test_ok(ts_rowcodec__encode_values(&from_values, 8, names, values));
	test_equal_s(from_values.ptr, first.ptr);

	sqlite3_finalize(stmt);
	sqlite3_close(db);
	ts_buf__dispose(&first);
	ts_buf__dispose(&second);
	ts_buf__dispose(&from_values);
}

/*
 * Round trips.
 */

void test_rowcodec__null_empty_text_empty_blob_distinct(void)
{
	const char *names[] = { "a", "b", "c" };
	ts_value values[3];
	ts_buf out = TS_BUF_INIT;
	ts_row *row = NULL;

	values[0] = v_null();
	values[1] = v_text("");
	values[2] = v_blob(NULL, 0);
	test_assert(round_trips(3, names, values));
	test_ok(ts_rowcodec__encode_values(&out, 3, names, values));
	test_equal_s(out.ptr, "a null\nb \"\"\nc x''\n");
	test_ok(ts_rowcodec__decode(&row, out.ptr, out.size));
	test_equal_i(row->values[0].type, SQLITE_NULL);
	test_equal_i(row->values[1].type, SQLITE_TEXT);
	test_equal_i(row->values[1].n, 0);
	test_equal_s(row->values[1].p, "");
	test_equal_i(row->values[2].type, SQLITE_BLOB);
	test_equal_i(row->values[2].n, 0);
	test_assert(!ts_value__equal(&row->values[0], &row->values[1]));
	test_assert(!ts_value__equal(&row->values[1], &row->values[2]));
	test_assert(!ts_value__equal(&row->values[0], &row->values[2]));
	ts_row__free(row);
	ts_buf__dispose(&out);
}

void test_rowcodec__integers_round_trip(void)
{
	static const int64_t cases[] = {
		0, 1, -1, 9, 10, -10, 255, 65536, INT32_MAX, INT32_MIN,
		(int64_t)INT32_MAX + 1, INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1,
	};
	size_t k;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
		test_assert(round_trips_one(v_int(cases[k])));
	for (k = 0; k < 2000; k++)
		test_assert(round_trips_one(v_int((int64_t)rng())));
}

void test_rowcodec__reals_round_trip(void)
{
	static const double cases[] = {
		0.0, -0.0, 0.1, -0.1, 1.0, -1.0, 1e300, -1e300, 5e-324, -5e-324, DBL_MAX, -DBL_MAX,
		DBL_MIN, 2.2250738585072009e-308, 1.0 / 3.0, 2.0 / 3.0, 9007199254740993.0, 1e15, 1e16,
		123456789.125, 4.35, 0.30000000000000004, INFINITY, -INFINITY,
	};
	ts_buf out = TS_BUF_INIT;
	ts_row *row = NULL;
	size_t k;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
		test_assert(round_trips_one(v_real(cases[k])));
	/* random bit patterns cover every exponent and the 17-digit cases */
	for (k = 0; k < 20000; k++) {
		uint64_t bits = rng();
		double r;
		memcpy(&r, &bits, sizeof(r));
		if (isnan(r))
			continue;
		test_assert(round_trips_one(v_real(r)));
	}

	/* the sign of zero survives decoding */
	test_ok(ts_rowcodec__decode(&row, "z -0.0\n", 7));
	test_equal_i(row->values[0].type, SQLITE_FLOAT);
	test_assert(signbit(row->values[0].r));
	test_assert(row->values[0].r == 0.0);
	ts_row__free(row);
	ts_buf__dispose(&out);
}

void test_rowcodec__blob_all_bytes(void)
{
	unsigned char bytes[256];
	ts_buf out = TS_BUF_INIT;
	int k;

	for (k = 0; k < 256; k++)
		bytes[k] = (unsigned char)k;
	test_assert(round_trips_one(v_blob(bytes, 256)));
	test_ok(ts_rowcodec__put_value(&out, SQLITE_BLOB, 0, 0, bytes, 256));
	test_equal_i(out.size, 2 + 512 + 1);
	test_assert(!memcmp(out.ptr, "x'000102", 8));
	test_assert(!memcmp(out.ptr + out.size - 5, "feff'", 5));
	ts_buf__dispose(&out);
}

void test_rowcodec__text_round_trip(void)
{
	static const struct { const char *p; size_t n; const char *encoded; } cases[] = {
		{ "景山前街 4号", 17, "\"景山前街 4号\"" },
		{ "a\0b", 3, "\"a\\x00b\"" },
		{ "\0", 1, "\"\\x00\"" },
		{ "line1\nline2\r\n", 13, "\"line1\\nline2\\r\\n\"" },
		{ "say \"hi\" \\o/", 12, "\"say \\\"hi\\\" \\\\o/\"" },
		{ "\xc3", 1, "\"\\xc3\"" },                       /* truncated sequence */
		{ "\xc3\xa9", 2, "\"\xc3\xa9\"" },                  /* é, kept */
		{ "\xc0\x80", 2, "\"\\xc0\\x80\"" },                /* overlong NUL */
		{ "\xc1\xbf", 2, "\"\\xc1\\xbf\"" },                /* overlong */
		{ "\xe0\x80\xaf", 3, "\"\\xe0\\x80\\xaf\"" },       /* overlong '/' */
		{ "\xed\xa0\x80", 3, "\"\\xed\\xa0\\x80\"" },       /* surrogate U+D800 */
		{ "\xed\x9f\xbf", 3, "\"\xed\x9f\xbf\"" },          /* U+D7FF, kept */
		{ "\xf4\x8f\xbf\xbf", 4, "\"\xf4\x8f\xbf\xbf\"" },  /* U+10FFFF, kept */
		{ "\xf4\x90\x80\x80", 4, "\"\\xf4\\x90\\x80\\x80\"" }, /* above U+10FFFF */
		{ "\xf5\x80\x80\x80", 4, "\"\\xf5\\x80\\x80\\x80\"" },
		{ "\xf0\x80\x80\x80", 4, "\"\\xf0\\x80\\x80\\x80\"" }, /* overlong 4-byte */
		{ "\x80z", 2, "\"\\x80z\"" },                       /* lone continuation */
		{ "\xe6\x99", 2, "\"\\xe6\\x99\"" },                /* cut-off 景 */
		{ "\xe6\x99\xaf\xe6", 4, "\"\xe6\x99\xaf\\xe6\"" },
		{ "\xff\xfe", 2, "\"\\xff\\xfe\"" },
		{ "\x7f\x1b[0m", 5, "\"\\x7f\\x1b[0m\"" },
	};
	size_t k;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		ts_value v = v_text_n(cases[k].p, cases[k].n);
		test_assert(round_trips_one(v));
		test_assert(encoded_as(v, cases[k].encoded));
	}
}

void test_rowcodec__random_text_round_trip(void)
{
	/* bytes biased to the interesting ones: UTF-8 leads, continuations, escapes */
	static const unsigned char pool[] = {
		0x00, 0x01, '\n', '\r', '\t', '"', '\\', 'x', 'a', ' ', 0x7f, 0x80, 0x9f, 0xa0, 0xbf,
		0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff,
	};
	unsigned char text[24];
	int round, k;

	for (round = 0; round < 20000; round++) {
		int n = (int)(rng() % sizeof(text));
		for (k = 0; k < n; k++)
			text[k] = (rng() & 1) ? pool[rng() % sizeof(pool)] : (unsigned char)rng();
		test_assert(round_trips_one(v_text_n((const char *)text, (size_t)n)));
	}
}

void test_rowcodec__column_names(void)
{
	const char *names[] = { "plain_Name9", "_x", "null", "two words", "", "1st", "名字", "q\"uo\\te", "nl\nx", "é\xff" };
	ts_value values[10];
	ts_buf out = TS_BUF_INIT;
	ts_row *row = NULL;
	int k;

	for (k = 0; k < 10; k++)
		values[k] = v_int(k);
	test_assert(round_trips(10, names, values));
	test_ok(ts_rowcodec__encode_values(&out, 10, names, values));
	test_equal_s(out.ptr,
		"plain_Name9 0\n_x 1\nnull 2\n\"two words\" 3\n\"\" 4\n\"1st\" 5\n\"名字\" 6\n"
		"\"q\\\"uo\\\\te\" 7\n\"nl\\nx\" 8\n\"é\\xff\" 9\n");
	test_ok(ts_rowcodec__decode(&row, out.ptr, out.size));
	test_equal_i(row->ncol, 10);
	test_assert(ts_row__get(row, "two words") && ts_row__get(row, "two words")->i == 3);
	test_assert(ts_row__get(row, "") && ts_row__get(row, "")->i == 4);
	test_assert(ts_row__get(row, "nope") == NULL);
	ts_row__free(row);
	ts_buf__dispose(&out);
}

/* Decodes `data` expecting TS_ECORRUPT, no row, and `why` in the message. */
static int refused_as(const char *data, size_t len, const char *why)
{
	ts_row *row = NULL;
	int rc = decode_exact(&row, data, len);
	int ok = rc == TS_ECORRUPT && row == NULL && strstr(ts_error_last(), why) != NULL;
	if (!ok)
		fprintf(stderr, "    decoding gave %d: %s\n", rc, rc < 0 ? ts_error_last() : "(accepted)");
	ts_row__free(row);
	return ok;
}

/* A name given twice makes a blob corrupt: no reader can say which value is the column's. */
void test_rowcodec__repeated_names_refused(void)
{
	const char *twice[] = { "a", "b", "a" }, *quoted_twice[] = { "x y", "x y" };
	ts_value values[3] = { v_int(1), v_int(2), v_int(3) };
	sqlite3 *db = open_memory_db();
	sqlite3_stmt *stmt = NULL;
	ts_buf out = TS_BUF_INIT;
	ts_row *row = NULL;

	test_assert(refused_as("a 1\nb 2\na 3\n", 12, "column name a given twice (columns 1 and 3)"));
	test_assert(refused_as("a 1\na 1\n", 8, "given twice"));
	test_assert(refused_as("\"x y\" 1\n\"x y\" null\n", 19, "column name \"x y\" given twice"));
	test_assert(refused_as("\"\" 1\nb 2\n\"\" x''\n", 16, "column name \"\" given twice"));

	/* names are bytes: case, prefixes and quoting of other names do not make a repeat */
	test_ok(ts_rowcodec__decode(&row, "a 1\nA 2\naa 3\n\"a \" 4\n", 20));
	test_equal_i(row->ncol, 4);
	test_equal_i(ts_row__get(row, "A")->i, 2);
	test_equal_i(ts_row__get(row, "a ")->i, 4);
	ts_row__free(row);
	row = NULL;

	/* the encoder refuses what the decoder would, so decode(encode(row)) always works */
	test_equal_i(ts_rowcodec__encode_values(&out, 3, twice, values), TS_EINVALID);
	test_assert(strstr(ts_error_last(), "column name a given twice (columns 1 and 3)") != NULL);
	test_equal_i(out.size, 0);
	test_equal_i(ts_rowcodec__encode_values(&out, 2, quoted_twice, values), TS_EINVALID);
	test_assert(db);
	test_equal_i(sqlite3_prepare_v2(db, "SELECT 1 AS id, 2 AS n, 3 AS id", -1, &stmt, NULL), SQLITE_OK);
	test_equal_i(sqlite3_step(stmt), SQLITE_ROW);
	test_equal_i(ts_rowcodec__encode_stmt(&out, stmt), TS_EINVALID);
	test_equal_i(out.size, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	ts_buf__dispose(&out);
}

/*
 * Wide blobs: past 64 columns the names are sorted instead of compared
 * pair by pair, so that a hostile blob of many thousands of same-length
 * names costs n log n comparisons, not n^2. Both ways report the same pair.
 */
void test_rowcodec__repeated_names_in_wide_rows(void)
{
	enum { WIDE = 60000 };
	static const char want[] = "column name c00010 given twice (columns 11 and 51)";
	ts_buf blob = TS_BUF_INIT;
	ts_row *row = NULL;
	int k;

	for (k = 0; k < WIDE; k++)
		ts_buf__printf(&blob, "c%05d %d\n", k, k % 10);   /* 9 bytes a line */
	test_assert(!ts_buf__oom(&blob));
	test_ok(ts_rowcodec__decode(&row, blob.ptr, blob.size));
	test_equal_i(row->ncol, WIDE);
	test_equal_i(ts_row__get(row, "c59998")->i, 8);
	ts_row__free(row);
	row = NULL;

	/* column 30001 repeats column 11, column 40001 repeats column 6: the
	 * first repeat in blob order is reported, as for a narrow row */
	memcpy(blob.ptr + 30000 * 9, "c00010", 6);
	memcpy(blob.ptr + 40000 * 9, "c00005", 6);
	test_assert(refused_as(blob.ptr, blob.size, "column name c00010 given twice (columns 11 and 30001)"));

	/* the same two repeats in a row of 64 columns, checked pair by pair */
	ts_buf__clear(&blob);
	for (k = 0; k < 64; k++)
		ts_buf__printf(&blob, "c%05d %d\n", k == 50 ? 10 : k == 60 ? 5 : k, k % 10);
	test_assert(refused_as(blob.ptr, blob.size, want));
	/* and in 65, sorted */
	ts_buf__printf(&blob, "c%05d 4\n", 64);
	test_assert(refused_as(blob.ptr, blob.size, want));
	ts_buf__dispose(&blob);
}

/* A name the reader's table lacks is kept: the decoder knows no table. */
void test_rowcodec__unknown_names_kept(void)
{
	static const char data[] = "code \"outdoor_bbq\"\nretired_column 7\n\"not an identifier\" null\n";
	ts_row *row = NULL;

	test_ok(ts_rowcodec__decode(&row, data, sizeof(data) - 1));
	test_equal_i(row->ncol, 3);
	test_equal_s(row->names[1], "retired_column");
	test_equal_i(ts_row__get(row, "retired_column")->i, 7);
	test_equal_i(ts_row__get(row, "not an identifier")->type, SQLITE_NULL);
	ts_row__free(row);
}

void test_rowcodec__empty_row(void)
{
	ts_buf out = TS_BUF_INIT;
	ts_row *row = NULL;

	test_ok(ts_rowcodec__encode_values(&out, 0, NULL, NULL));
	test_equal_i(out.size, 0);
	test_ok(ts_rowcodec__decode(&row, "", 0));
	test_equal_i(row->ncol, 0);
	ts_row__free(row);
	ts_row__free(NULL);
	ts_buf__dispose(&out);
}

/* Decoded values go back into SQLite, come out again and encode the same. */
void test_rowcodec__round_trip_through_sqlite(void)
{
	unsigned char bytes[256];
	const char *names[] = { "id", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m" };
	ts_value values[14];
	ts_buf original = TS_BUF_INIT, again = TS_BUF_INIT;
	sqlite3 *db = open_memory_db();
	sqlite3_stmt *insert = NULL, *select = NULL;
	ts_row *row = NULL;
	int k;

	for (k = 0; k < 256; k++)
		bytes[k] = (unsigned char)k;
	values[0] = v_int(1);
	values[1] = v_null();
	values[2] = v_text("");
	values[3] = v_blob(NULL, 0);
	values[4] = v_int(INT64_MIN);
	values[5] = v_int(INT64_MAX);
	values[6] = v_real(-0.0);
	values[7] = v_real(5e-324);
	values[8] = v_real(-INFINITY);
	values[9] = v_text_n("a\0b\n\"\\\xc3(\xed\xa0\x80", 11);
	values[10] = v_text("景山前街 4号");
	values[11] = v_blob(bytes, 256);
	values[12] = v_real(DBL_MAX);
	values[13] = v_real(0.1);
	test_ok(ts_rowcodec__encode_values(&original, 14, names, values));

	test_assert(db);
	/* untyped columns: no affinity, so SQLite keeps each value's type */
	test_equal_i(sqlite3_exec(db, "CREATE TABLE t (id PRIMARY KEY, a, b, c, d, e, f, g, h, i, j, k, l, m)",
		NULL, NULL, NULL), SQLITE_OK);
	test_ok(ts_rowcodec__decode(&row, original.ptr, original.size));
	test_equal_i(sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &insert, NULL), SQLITE_OK);
	for (k = 0; k < row->ncol; k++)
		test_equal_i(ts_value__bind(insert, k + 1, &row->values[k]), SQLITE_OK);
	test_equal_i(sqlite3_step(insert), SQLITE_DONE);

	test_equal_i(sqlite3_prepare_v2(db, "SELECT * FROM t", -1, &select, NULL), SQLITE_OK);
	test_equal_i(sqlite3_step(select), SQLITE_ROW);
	test_ok(ts_rowcodec__encode_stmt(&again, select));
	test_equal_i(again.size, original.size);
	test_assert(!memcmp(again.ptr, original.ptr, original.size));

	/* and SQLite itself agrees on the types and bytes */
	test_equal_i(sqlite3_column_type(select, 1), SQLITE_NULL);
	test_equal_i(sqlite3_column_type(select, 2), SQLITE_TEXT);
	test_equal_i(sqlite3_column_type(select, 3), SQLITE_BLOB);
	test_equal_i(sqlite3_column_bytes(select, 9), 11);
	test_assert(signbit(sqlite3_column_double(select, 6)));

	sqlite3_finalize(insert);
	sqlite3_finalize(select);
	sqlite3_close(db);
	ts_row__free(row);
	ts_buf__dispose(&original);
	ts_buf__dispose(&again);
}

/*
 * Strict decoding.
 */

#define BAD(s) { s, sizeof(s) - 1 }

void test_rowcodec__malformed_refused(void)
{
	static const struct { const char *data; size_t len; } bad[] = {
		BAD("a 1"),                      /* missing newline */
		BAD("a  1\n"),                   /* two spaces */
		BAD("a\t1\n"),
		BAD("a\n"),                      /* no value */
		BAD("a \n"),
		BAD("a"),
		BAD(" 1\n"),                     /* no name */
		BAD("1a 1\n"),                   /* bare name must be an identifier */
		BAD("a-b 1\n"),
		BAD("\"a\" 1\n"),                /* quoted name that should be bare */
		BAD("\"a\\x00b\" 1\n"),          /* name with a NUL */
		BAD("a 01\n"),                   /* leading zero */
		BAD("a -0\n"),
		BAD("a +1\n"),
		BAD("a -\n"),
		BAD("a 9223372036854775808\n"),  /* out of range */
		BAD("a -9223372036854775809\n"),
		BAD("a 99999999999999999999999\n"),
		BAD("a 1.50\n"),                 /* reals not in their one form */
		BAD("a 1e300\n"),
		BAD("a 1.0e+300\n"),
		BAD("a 100.00\n"),
		BAD("a 4.9406564584124654e-324\n"),
		BAD("a .5\n"),
		BAD("a 5.\n"),
		BAD("a 0x10\n"),
		BAD("a 1e+999\n"),
		BAD("a nan\n"),
		BAD("a -nan\n"),
		BAD("a NaN\n"),
		BAD("a infinity\n"),
		BAD("a inf.0\n"),
		BAD("a INF\n"),
		BAD("a 1.0 \n"),
		BAD("a NULL\n"),
		BAD("a nul\n"),
		BAD("a true\n"),
		BAD("a \"abc\n"),                /* unterminated text */
		BAD("a \"abc"),
		BAD("a \""),
		BAD("a \"\\"),
		BAD("a \"\\x4"),
		BAD("a \"\\x4\"\n"),
		BAD("a \"\\q\"\n"),              /* unknown escape */
		BAD("a \"\\u0041\"\n"),
		BAD("a \"\\0\"\n"),
		BAD("a \"\\x0A\"\n"),            /* uppercase hex */
		BAD("a \"\\x0a\"\n"),            /* \n has its own escape */
		BAD("a \"\\x41\"\n"),            /* needless escape */
		BAD("a \"\\xc3\\xa9\"\n"),       /* valid UTF-8 must be raw */
		BAD("a \"\n\"\n"),               /* raw newline */
		BAD("a \"\t\"\n"),
		BAD("a \"x\0y\"\n"),             /* raw NUL */
		BAD("a \"\x7f\"\n"),
		BAD("a \"\xc3\"\n"),             /* raw invalid UTF-8 */
		BAD("a \"\xc0\x80\"\n"),
		BAD("a \"\xed\xa0\x80\"\n"),
		BAD("a \"\xf4\x90\x80\x80\"\n"),
		BAD("a \"\\xc3\xa9\"\n"),        /* half escaped */
		BAD("a \"x\"y\n"),               /* junk after the value */
		BAD("a \"x\" \n"),
		BAD("a x'0A'\n"),                /* uppercase blob hex */
		BAD("a x'abc'\n"),               /* odd digits */
		BAD("a x'zz'\n"),
		BAD("a x'00\n"),                 /* unterminated blob */
		BAD("a x'00"),
		BAD("a x\n"),
		BAD("a x"),
		BAD("a x'"),
		BAD("a n"),
		BAD("a \"\\x"),
		BAD("a x\"00\"\n"),
		BAD("a x'00'y\n"),
		BAD("a X'00'\n"),
		BAD("a 1\nb"),                   /* trailing bytes */
		BAD("a 1\n\n"),                  /* empty line */
		BAD("a 1\r\n"),                  /* CRLF */
		BAD("\n"),
		BAD(" "),
		BAD("\xef\xbb\xbf" "a 1\n"),     /* byte order mark */
		BAD("a 1\0\n"),
		BAD("\0"),
	};
	size_t k;

	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		ts_row *row = (ts_row *)&row;  /* must be reset to NULL */
		int rc = decode_exact(&row, bad[k].data, bad[k].len);
		if (rc != TS_ECORRUPT || row != NULL)
			fprintf(stderr, "    bad blob #%zu was accepted (rc %d)\n", k, rc);
		test_equal_i(rc, TS_ECORRUPT);
		test_assert(row == NULL);
		test_assert(ts_error_last() != NULL);
	}
}

/*
 * Every prefix and every one-byte change of a valid blob: decoding never
 * crashes or reads past the end, and whatever it accepts is canonical.
 */
void test_rowcodec__mutations_are_canonical_or_corrupt(void)
{
	static const unsigned char replacements[] = {
		0x00, '\n', ' ', '"', '\\', 'x', '\'', '0', '1', '9', '-', '.', 'e', 'a', 'n', 'i',
		0x80, 0xc3, 0xe6, 0xff,
	};
	const char *names[] = { "id", "n", "r", "t", "b", "z", "two words" };
	ts_value values[7];
	ts_buf blob = TS_BUF_INIT, again = TS_BUF_INIT;
	size_t pos, k, accepted = 0;

	values[0] = v_text("k\"1\\");
	values[1] = v_int(-120);
	values[2] = v_real(1e-7);
	values[3] = v_text_n("景\n\0\xff", 6);
	values[4] = v_blob("\x0a\xff", 2);
	values[5] = v_null();
	values[6] = v_real(-0.0);
	test_ok(ts_rowcodec__encode_values(&blob, 7, names, values));

	for (pos = 0; pos <= blob.size; pos++) {
		ts_row *row = NULL;
		int rc = decode_exact(&row, blob.ptr, pos);
		int line_end = pos == 0 || blob.ptr[pos - 1] == '\n';
		test_assert(rc == 0 || rc == TS_ECORRUPT);
		test_equal_i(rc == 0, line_end);
		ts_row__free(row);
	}

	for (pos = 0; pos < blob.size; pos++)
		for (k = 0; k < sizeof(replacements); k++) {
			char *copy;
			ts_row *row = NULL;
			int rc;

			if (blob.ptr[pos] == (char)replacements[k])
				continue;
			test_assert((copy = malloc(blob.size)) != NULL);
			memcpy(copy, blob.ptr, blob.size);
			copy[pos] = (char)replacements[k];
			rc = ts_rowcodec__decode(&row, copy, blob.size);
			test_assert(rc == 0 || rc == TS_ECORRUPT);
			if (rc == 0) {
				accepted++;
				test_ok(ts_rowcodec__encode_values(&again, row->ncol, (const char *const *)row->names, row->values));
				test_equal_i(again.size, blob.size);
				test_assert(!memcmp(again.ptr, copy, blob.size));
			}
			ts_row__free(row);
			free(copy);
		}
	/* some changes are legitimate other rows (a digit, a name letter) */
	test_assert(accepted > 0);
	ts_buf__dispose(&blob);
	ts_buf__dispose(&again);
}

/*
 * Value helpers.
 */

void test_rowcodec__value_helpers(void)
{
	sqlite3 *db = open_memory_db();
	sqlite3_stmt *stmt = NULL;
	ts_value got[6], expected[6];
	ts_buf out = TS_BUF_INIT;
	int k;

	test_assert(ts_value__equal(&(ts_value){ SQLITE_NULL, 0, 0, NULL, 0 }, &(ts_value){ SQLITE_NULL, 0, 0, NULL, 0 }));
	expected[0] = v_int(1);
	expected[1] = v_real(1.0);
	test_assert(!ts_value__equal(&expected[0], &expected[1]));
	expected[0] = v_real(0.0);
	expected[1] = v_real(-0.0);
	test_assert(!ts_value__equal(&expected[0], &expected[1]));
	expected[0] = v_text("ab");
	expected[1] = v_blob("ab", 2);
	test_assert(!ts_value__equal(&expected[0], &expected[1]));
	expected[1] = v_text_n("ab\0", 3);
	test_assert(!ts_value__equal(&expected[0], &expected[1]));
	expected[1] = v_text("ab");
	test_assert(ts_value__equal(&expected[0], &expected[1]));
	expected[0] = v_text("");
	expected[1] = v_text_n(NULL, 0);
	test_assert(ts_value__equal(&expected[0], &expected[1]));

	test_assert(db);
	test_equal_i(sqlite3_prepare_v2(db, "SELECT NULL, -5, -0.0, 'a' || char(0) || 'b', x'00ff', ''",
		-1, &stmt, NULL), SQLITE_OK);
	test_equal_i(sqlite3_step(stmt), SQLITE_ROW);
	expected[0] = v_null();
	expected[1] = v_int(-5);
	expected[2] = v_real(-0.0);
	expected[3] = v_text_n("a\0b", 3);
	expected[4] = v_blob("\x00\xff", 2);
	expected[5] = v_text("");
	for (k = 0; k < 6; k++) {
		char *direct;
		test_ok(ts_value__from_sqlite(&got[k], sqlite3_column_value(stmt, k)));
		test_assert(ts_value__equal(&got[k], &expected[k]));
		ts_buf__clear(&out);
		test_ok(ts_rowcodec__put_sqlite_value(&out, sqlite3_column_value(stmt, k)));
		direct = encode_one(expected[k]);
		test_equal_s(out.ptr, direct);
		free(direct);
	}
	test_assert(got[3].p[3] == '\0');  /* text stays NUL-terminated */
	test_assert(got[5].p && got[5].p[0] == '\0');

	ts_buf__clear(&out);
	for (k = 0; k < 6; k++) {
		ts_value__put_display(&out, &got[k]);
		ts_buf__putc(&out, '|');
	}
	test_equal_i(out.size, strlen("NULL|-5|-0.0|a") + 1 + strlen("b|x'00ff'||"));
	test_assert(!memcmp(out.ptr, "NULL|-5|-0.0|a\0b|x'00ff'||", out.size));
	ts_buf__clear(&out);
	expected[0] = v_text("扬尘 \"raw\"\n");
	ts_value__put_display(&out, &expected[0]);
	test_equal_s(out.ptr, "扬尘 \"raw\"\n");

	for (k = 0; k < 6; k++)
		ts_value__dispose(&got[k]);
	ts_value__dispose(&got[0]);  /* clearing twice is harmless */
	test_equal_i(got[0].type, SQLITE_NULL);
	ts_value__dispose(NULL);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	ts_buf__dispose(&out);
}

/*
 * Key names.
 */

static char *key_name(int n, const ts_value *keys)
{
	ts_buf out = TS_BUF_INIT;
	if (ts_rowcodec__key_name_values(&out, n, keys) < 0) {
		ts_buf__dispose(&out);
		return NULL;
	}
	return ts_buf__detach(&out);
}

static char *text_key_name(const char *text)
{
	ts_value key = v_text(text);
	return key_name(1, &key);
}

static int named(ts_value key, const char *expected)
{
	char *got = key_name(1, &key);
	int same = got && !strcmp(got, expected);
	if (!same)
		fprintf(stderr, "    key name \"%s\", expected \"%s\"\n", got ? got : "(refused)", expected);
	free(got);
	return same;
}

/* What every name must be: short, printable ASCII, no separators, no leading dot. */
static int name_safe(const char *name)
{
	size_t n = strlen(name), k;
	if (n == 0 || n > 191 || name[0] == '.' || !strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	for (k = 0; k < n; k++) {
		unsigned char c = (unsigned char)name[k];
		if (c <= 0x20 || c >= 0x7f || c == '/' || c == '\\' || c == ':')
			return 0;
	}
	return 1;
}

void test_rowcodec__key_names_exact(void)
{
	ts_value pair[3];
	char *name;

	test_assert(named(v_int(5), "#5"));
	test_assert(named(v_int(-5), "#-5"));
	test_assert(named(v_int(INT64_MIN), "#-9223372036854775808"));
	test_assert(named(v_text("5"), "5"));
	test_assert(named(v_text("#5"), "%235"));
	test_assert(named(v_text(""), "%"));
	test_assert(named(v_text("%"), "%25"));
	test_assert(named(v_null(), "#null"));
	test_assert(named(v_text("#null"), "%23null"));
	test_assert(named(v_text("null"), "null"));
	test_assert(named(v_real(1.5), "#r1.5"));
	test_assert(named(v_real(-0.0), "#r-0.0"));
	test_assert(named(v_real(1e300), "#r1e+300"));
	test_assert(named(v_real(-INFINITY), "#r-inf"));
	test_assert(named(v_blob("\x0a\xff", 2), "#x0aff"));
	test_assert(named(v_blob(NULL, 0), "#x"));
	test_assert(named(v_text("bj.dc.jingshan-C20240315-7"), "bj.dc.jingshan-C20240315-7"));
	test_assert(named(v_text("a/b"), "a%2Fb"));
	test_assert(named(v_text("."), "%2E"));
	test_assert(named(v_text(".."), "%2E."));
	test_assert(named(v_text(".git"), "%2Egit"));
	test_assert(named(v_text("a.b."), "a.b."));
	test_assert(named(v_text("a,b"), "a%2Cb"));
	test_assert(named(v_text("~"), "%7E"));
	test_assert(named(v_text("line\n"), "line%0A"));
	test_assert(named(v_text_n("\0", 1), "%00"));
	test_assert(named(v_text("景"), "%E6%99%AF"));
	test_assert(named(v_text("A b"), "A%20b"));

	pair[0] = v_text("a");
	pair[1] = v_text("b");
	test_assert((name = key_name(2, pair)) != NULL);
	test_equal_s(name, "a,b");
	free(name);
	pair[0] = v_int(5);
	pair[1] = v_text("");
	pair[2] = v_null();
	test_assert((name = key_name(3, pair)) != NULL);
	test_equal_s(name, "#5,%,#null");
	free(name);

	/* key_name appends, and leaves the buffer as it was on failure */
	{
		ts_buf out = TS_BUF_INIT;
		ts_buf__puts(&out, "x:");
		test_ok(ts_rowcodec__key_name_values(&out, 1, &pair[0]));
		test_equal_s(out.ptr, "x:#5");
		pair[1] = v_real(NAN);
		test_equal_i(ts_rowcodec__key_name_values(&out, 2, pair), TS_EINVALID);
		test_equal_s(out.ptr, "x:#5");
		test_equal_i(ts_rowcodec__key_name_values(&out, 0, pair), TS_EINVALID);
		ts_buf__dispose(&out);
	}
}

/* One key of up to three values, kept with its name. */
struct named_key {
	int n;
	ts_value v[3];
	char *name;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct named_key *)a)->name, ((const struct named_key *)b)->name);
}

static int same_key(const struct named_key *a, const struct named_key *b)
{
	int k;
	if (a->n != b->n)
		return 0;
	for (k = 0; k < a->n; k++)
		if (!ts_value__equal(&a->v[k], &b->v[k]))
			return 0;
	return 1;
}

/*
 * Different keys give different names: hand-picked look-alikes plus random
 * keys built from the bytes that matter to the encoding (',', '%', '#',
 * '.', hex digits), sorted by name and compared with their neighbours.
 */
void test_rowcodec__key_names_injective(void)
{
	static const char alphabet[] = { 'a', 'A', '2', 'C', 'E', ',', '%', '#', '.', '-', '_', 'r', 'x', '~', '\0', '\xff', '/' };
	static char single[256][2];
	static char texts[4000][6];
	static struct named_key keys[6000];
	static const char *const look_alikes[] = {
		"", "5", "#5", "-5", "#-5", "null", "#null", "#r5.0", "r5.0", "#x", "#x05", "x05", "%", "%25", "%2E",
		"%2e", ".", "..", "...", ".git", ".a", "%2Ea", "a", "A", "a,b", "a%2Cb", "a b", "a,", ",a", ",", "~",
		"a~0123456789012345678901234567890123456789",
	};
	int n = 0, k, j;

	for (k = 0; k < (int)(sizeof(look_alikes) / sizeof(look_alikes[0])); k++) {
		keys[n].n = 1;
		keys[n].v[0] = v_text(look_alikes[k]);
		n++;
	}
	for (k = 0; k < 256; k++) {          /* every single byte, NUL included */
		single[k][0] = (char)k;
		keys[n].n = 1;
		keys[n++].v[0] = v_text_n(single[k], 1);
	}
	keys[n].n = 1; keys[n++].v[0] = v_null();
	keys[n].n = 1; keys[n++].v[0] = v_int(5);
	keys[n].n = 1; keys[n++].v[0] = v_int(-5);
	keys[n].n = 1; keys[n++].v[0] = v_int(0);
	keys[n].n = 1; keys[n++].v[0] = v_real(5.0);
	keys[n].n = 1; keys[n++].v[0] = v_real(0.0);
	keys[n].n = 1; keys[n++].v[0] = v_real(-0.0);
	keys[n].n = 1; keys[n++].v[0] = v_real(INFINITY);
	keys[n].n = 1; keys[n++].v[0] = v_blob(NULL, 0);
	keys[n].n = 1; keys[n++].v[0] = v_blob("\x05", 1);
	keys[n].n = 1; keys[n++].v[0] = v_blob("5", 1);
	keys[n].n = 2; keys[n].v[0] = v_text("a"); keys[n++].v[1] = v_text("b");
	keys[n].n = 2; keys[n].v[0] = v_text("a"); keys[n++].v[1] = v_text("");
	keys[n].n = 2; keys[n].v[0] = v_text(""); keys[n++].v[1] = v_text("a");
	keys[n].n = 2; keys[n].v[0] = v_text(""); keys[n++].v[1] = v_text("");
	keys[n].n = 2; keys[n].v[0] = v_null(); keys[n++].v[1] = v_null();
	keys[n].n = 2; keys[n].v[0] = v_int(5); keys[n++].v[1] = v_text("a");
	keys[n].n = 2; keys[n].v[0] = v_text("5"); keys[n++].v[1] = v_text("a");
	keys[n].n = 2; keys[n].v[0] = v_text("a,b"); keys[n++].v[1] = v_text("c");
	keys[n].n = 2; keys[n].v[0] = v_text("a"); keys[n++].v[1] = v_text("b,c");
	keys[n].n = 3; keys[n].v[0] = v_text("a"); keys[n].v[1] = v_text("b"); keys[n++].v[2] = v_text("c");
	keys[n].n = 3; keys[n].v[0] = v_text(""); keys[n].v[1] = v_text(""); keys[n++].v[2] = v_text("");

	/* random texts, each component of a random key */
	for (k = 0; k < 4000; k++) {
		int len = (int)(rng() % 6);
		for (j = 0; j < len; j++)
			texts[k][j] = alphabet[rng() % sizeof(alphabet)];
		keys[n].n = 1 + (int)(rng() % 3);
		keys[n].v[0] = v_text_n(texts[k], (size_t)len);
		for (j = 1; j < keys[n].n; j++) {
			int other = (int)(rng() % (unsigned)(k + 1));
			keys[n].v[j] = (rng() % 4) ? v_text_n(texts[other], strlen(texts[other])) : v_int((int64_t)(rng() % 3));
		}
		n++;
	}

	for (k = 0; k < n; k++) {
		test_assert((keys[k].name = key_name(keys[k].n, keys[k].v)) != NULL);
		if (!name_safe(keys[k].name))
			fprintf(stderr, "    unsafe name \"%s\"\n", keys[k].name);
		test_assert(name_safe(keys[k].name));
	}
	qsort(keys, (size_t)n, sizeof(keys[0]), by_name);
	for (k = 1; k < n; k++)
		if (!strcmp(keys[k - 1].name, keys[k].name)) {
			if (!same_key(&keys[k - 1], &keys[k]))
				fprintf(stderr, "    two keys named \"%s\"\n", keys[k].name);
			test_assert(same_key(&keys[k - 1], &keys[k]));
		}
	for (k = 0; k < n; k++)
		free(keys[k].name);
}

void test_rowcodec__key_names_from_sqlite_values(void)
{
	sqlite3 *db = open_memory_db();
	sqlite3_stmt *stmt = NULL;
	sqlite3_value *keys[5];
	ts_value values[5];
	ts_buf from_sqlite = TS_BUF_INIT, from_values = TS_BUF_INIT;
	int k;

	test_assert(db);
	test_equal_i(sqlite3_prepare_v2(db, "SELECT 'a/b', 7, NULL, 2.5, x'00ff'", -1, &stmt, NULL), SQLITE_OK);
	test_equal_i(sqlite3_step(stmt), SQLITE_ROW);
	for (k = 0; k < 5; k++)
		test_ok(ts_value__from_sqlite(&values[k], sqlite3_column_value(stmt, k)));
	/* sqlite3_value_dup gives protected values, as a changeset iterator does */
	for (k = 0; k < 5; k++)
		test_assert((keys[k] = sqlite3_value_dup(sqlite3_column_value(stmt, k))) != NULL);
	test_ok(ts_rowcodec__key_name(&from_sqlite, 5, keys));
	test_ok(ts_rowcodec__key_name_values(&from_values, 5, values));
	test_equal_s(from_sqlite.ptr, "a%2Fb,#7,#null,#r2.5,#x00ff");
	test_equal_s(from_values.ptr, from_sqlite.ptr);

	ts_buf__clear(&from_sqlite);
	ts_buf__clear(&from_values);
	test_ok(ts_rowcodec__key_path(&from_sqlite, "cases", 5, keys));
	test_ok(ts_rowcodec__key_path_values(&from_values, "cases", 5, values));
	test_equal_s(from_values.ptr, from_sqlite.ptr);

	for (k = 0; k < 5; k++) {
		sqlite3_value_free(keys[k]);
		ts_value__dispose(&values[k]);
	}
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	ts_buf__dispose(&from_sqlite);
	ts_buf__dispose(&from_values);
}

/* The git blob id of `data`, as `git hash-object` prints it. */
static void blob_id(char hex[41], const char *data, size_t len)
{
	git_oid id;
	git_odb_hash(&id, data, len, GIT_OBJECT_BLOB);
	git_oid_tostr(hex, 41, &id);
}

void test_rowcodec__long_keys(void)
{
	char a[1025], b[1025], odd[1025], odd2[1025], full[3100], hex[41], *name_a, *name_b, *name_odd, *name_odd2;
	int k;

	memset(a, 'a', 1024);
	a[1024] = '\0';
	memcpy(b, a, sizeof(a));
	b[1023] = 'b';
	test_assert((name_a = text_key_name(a)) != NULL);
	test_assert((name_b = text_key_name(b)) != NULL);
	test_assert(strcmp(name_a, name_b) != 0);
	test_equal_i(strlen(name_a), 191);
	test_assert(name_safe(name_a) && name_safe(name_b));
	/* the cut keeps 150 bytes, then '~' and the id git itself gives the full name */
	test_assert(!strncmp(name_a, a, 150));
	test_equal_s(name_a + 150, "~15e3a1f8653d339db819f58b2071506b95890046");
	blob_id(hex, b, 1024);
	test_assert(name_b[150] == '~');
	test_equal_s(name_b + 151, hex);

	/* bytes that are all escaped: a 3 KB name, still two distinct safe names */
	for (k = 0; k < 1024; k++)
		odd[k] = (char)(0x80 + k % 128);
	odd[1024] = '\0';
	memcpy(odd2, odd, sizeof(odd));
	odd2[1023] = (char)0x80;
	test_assert((name_odd = text_key_name(odd)) != NULL);
	test_assert((name_odd2 = text_key_name(odd2)) != NULL);
	test_assert(strcmp(name_odd, name_odd2) != 0);
	test_assert(name_safe(name_odd) && name_safe(name_odd2));
	/* the id is that of the full name, rebuilt here by hand */
	for (k = 0; k < 1024; k++)
		snprintf(full + 3 * k, 4, "%%%02X", (unsigned char)odd[k]);
	blob_id(hex, full, 3 * 1024);
	test_assert(strchr(name_odd, '~') != NULL);
	test_equal_s(strchr(name_odd, '~') + 1, hex);

	free(name_a);
	free(name_b);
	free(name_odd);
	free(name_odd2);
}

/* Names just under, at and over the limit, and cuts next to a %HH. */
void test_rowcodec__key_name_cut_points(void)
{
	char text[400], *name;
	int len, at;

	for (len = 185; len <= 205; len++) {
		memset(text, 'k', (size_t)len);
		text[len] = '\0';
		test_assert((name = text_key_name(text)) != NULL);
		test_assert(strlen(name) <= 191);
		if (len <= 191) {
			test_equal_s(name, text);
		} else {
			test_equal_i(strlen(name), 191);
			test_assert(name[150] == '~');
		}
		free(name);
	}

	/* a '/' at byte `at` becomes %2F there; the cut never splits it */
	for (at = 145; at <= 152; at++) {
		size_t cut;
		memset(text, 'k', 300);
		text[300] = '\0';
		text[at] = '/';
		test_assert((name = text_key_name(text)) != NULL);
		test_equal_i(strlen(name) - 41, (cut = (size_t)(strchr(name, '~') - name)));
		if (at == 148 || at == 149)
			test_equal_i(cut, at);
		else
			test_equal_i(cut, 150);
		if (at < 148)
			test_assert(!strncmp(name + at, "%2F", 3));
		test_assert(name_safe(name));
		free(name);
	}
}

/*
 * Paths.
 */

static uint64_t reference_fnv1a64(const char *s, size_t n)
{
	uint64_t hash = 0xcbf29ce484222325ULL;
	size_t k;
	for (k = 0; k < n; k++) {
		hash ^= (unsigned char)s[k];
		hash *= 0x100000001b3ULL;
	}
	return hash;
}

/* "<table>/<f1>/<f2>/<f3>/<f4>/<name>" with the fan-out computed here. */
static void make_path(ts_buf *out, const char *table, const char *name)
{
	uint64_t hash = reference_fnv1a64(name, strlen(name)) * 0x9e3779b97f4a7c15ULL;
	ts_buf__clear(out);
	ts_buf__printf(out, "%s/%x/%x/%x/%x/%s", table, (unsigned)(hash >> 60) & 15, (unsigned)(hash >> 56) & 15,
		(unsigned)(hash >> 52) & 15, (unsigned)(hash >> 48) & 15, name);
}

/* Checks a path's six components and that path_split gives back its parts. */
static int path_well_formed(const char *path, const char *table, const char *name)
{
	ts_buf expected = TS_BUF_INIT, split_table = TS_BUF_INIT;
	const char *split_name = NULL, *p;
	int slashes = 0, ok;

	for (p = path; *p; p++)
		slashes += *p == '/';
	make_path(&expected, table, name);
	ok = slashes == 5 && !strcmp(path, expected.ptr) &&
		ts_rowcodec__path_split(&split_table, &split_name, path) == 0 &&
		!strcmp(ts_buf__cstr(&split_table), table) && split_name == path + strlen(path) - strlen(name) &&
		!strcmp(split_name, name);
	ts_buf__dispose(&expected);
	ts_buf__dispose(&split_table);
	return ok;
}

void test_rowcodec__key_paths(void)
{
	static const char *const texts[] = {
		"bj.dc.jingshan-C20240315-7", "a/b", "..", ".", ".git", "", "line\nbreak", "../../etc/passwd",
		"C:\\x", "名字", "#5", "%", "~1", "GIT~1", ".git ", " ",
	};
	ts_buf path = TS_BUF_INIT, name = TS_BUF_INIT;
	char big[1100];
	size_t k;
	int byte;

	for (k = 0; k < sizeof(texts) / sizeof(texts[0]); k++) {
		ts_value key = v_text(texts[k]);
		ts_buf__clear(&path);
		ts_buf__clear(&name);
		test_ok(ts_rowcodec__key_path_values(&path, "cases", 1, &key));
		test_ok(ts_rowcodec__key_name_values(&name, 1, &key));
		test_assert(name_safe(name.ptr));
		test_assert(path_well_formed(path.ptr, "cases", name.ptr));
	}
	for (byte = 1; byte < 256; byte++) {
		char text[3] = { (char)byte, (char)byte, '\0' };
		ts_value key = v_text(text);
		ts_buf__clear(&path);
		ts_buf__clear(&name);
		test_ok(ts_rowcodec__key_path_values(&path, "t", 1, &key));
		test_ok(ts_rowcodec__key_name_values(&name, 1, &key));
		test_assert(name_safe(name.ptr));
		test_assert(path_well_formed(path.ptr, "t", name.ptr));
	}
	memset(big, '/', 1024);
	big[1024] = '\0';
	{
		ts_value keys[2] = { v_text(big), v_int(INT64_MIN) };
		ts_buf__clear(&path);
		ts_buf__clear(&name);
		test_ok(ts_rowcodec__key_path_values(&path, "long_keys", 2, keys));
		test_ok(ts_rowcodec__key_name_values(&name, 2, keys));
		test_assert(name_safe(name.ptr));
		test_assert(path_well_formed(path.ptr, "long_keys", name.ptr));
	}
	/* appends, like key_name */
	{
		ts_value key = v_int(1);
		ts_buf__clear(&path);
		ts_buf__puts(&path, "prefix:");
		test_ok(ts_rowcodec__key_path_values(&path, "t", 1, &key));
		test_assert(!strncmp(path.ptr, "prefix:t/", 9));
	}
	ts_buf__dispose(&path);
	ts_buf__dispose(&name);
}

void test_rowcodec__key_path_refuses_bad_tables(void)
{
	static const char *const tables[] = { "", ".", "..", ".git", "a/b", "a b", "1cases", "cases\n", "é" };
	ts_buf path = TS_BUF_INIT;
	ts_value key = v_int(1);
	size_t k;

	for (k = 0; k < sizeof(tables) / sizeof(tables[0]); k++) {
		test_equal_i(ts_rowcodec__key_path_values(&path, tables[k], 1, &key), TS_EINVALID);
		test_equal_i(path.size, 0);
	}
	test_equal_i(ts_rowcodec__key_path_values(&path, NULL, 1, &key), TS_EINVALID);
	test_equal_i(ts_rowcodec__key_path_values(&path, "t", 0, &key), TS_EINVALID);
	ts_buf__dispose(&path);
}

void test_rowcodec__path_split_refuses_bad_paths(void)
{
	static const char *const bad[] = {
		"", "cases", "cases/", "/0/0/0/0/x", "cases/0/0/0/x", "cases/0/0/0/0", "cases/0/0/0/0/",
		"cases/00/0/0/0/x", "cases/g/0/0/0/x", "cases/0/0/0/0/x/y", "cases//0/0/0/0/x",
	};
	/* names with the right fan-out that no key produces */
	static const char *const bad_names[] = {
		".", "..", ".git", "a%41", "%2e", "a%2Eb", "%2", "%G0", "a b", "a/b", "a,", ",a", "a,,b", "#", "#01", "#-0",
		"#+1", "#r", "#r1.50", "#rnan", "#x0", "#x0A", "#nul", "#null,", "~", "a~b",
		"aaaa~15e3a1f8653d339db819f58b2071506b95890046",
	};
	ts_buf table = TS_BUF_INIT, path = TS_BUF_INIT;
	const char *name = "not reset";
	char long_name[200];
	size_t k;

	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		test_equal_i(ts_rowcodec__path_split(&table, &name, bad[k]), TS_ECORRUPT);
		test_assert(name == NULL);
	}
	for (k = 0; k < sizeof(bad_names) / sizeof(bad_names[0]); k++) {
		make_path(&path, "cases", bad_names[k]);
		if (ts_rowcodec__path_split(&table, &name, path.ptr) != TS_ECORRUPT)
			fprintf(stderr, "    accepted \"%s\"\n", path.ptr);
		test_equal_i(ts_rowcodec__path_split(&table, &name, path.ptr), TS_ECORRUPT);
	}
	/* a good name under a bad table, or with its fan-out changed */
	make_path(&path, ".git", "a");
	test_equal_i(ts_rowcodec__path_split(&table, &name, path.ptr), TS_ECORRUPT);
	make_path(&path, "cases", "a");
	test_ok(ts_rowcodec__path_split(&table, &name, path.ptr));
	path.ptr[6] = path.ptr[6] == '0' ? '1' : '0';
	test_equal_i(ts_rowcodec__path_split(&table, &name, path.ptr), TS_ECORRUPT);
	/* an uncut name over the limit */
	memset(long_name, 'k', 192);
	long_name[192] = '\0';
	make_path(&path, "cases", long_name);
	test_equal_i(ts_rowcodec__path_split(&table, &name, path.ptr), TS_ECORRUPT);
	long_name[191] = '\0';
	make_path(&path, "cases", long_name);
	test_ok(ts_rowcodec__path_split(&table, &name, path.ptr));
	test_equal_s(name, long_name);
	ts_buf__dispose(&table);
	ts_buf__dispose(&path);
}

/* Every piece of a produced path is a name libgit2 takes into a tree. */
void test_rowcodec__paths_are_git_tree_entries(void)
{
	static const char *const texts[] = { ".git", "..", ".", "a/b", "", "~1", "GIT~1", ".gitmodules", "\\", "con" };
	git_repository *repo = NULL;
	git_treebuilder *builder = NULL;
	git_tree *root = NULL;
	git_tree_entry *entry = NULL;
	git_oid blob, tree;
	ts_buf path = TS_BUF_INIT, row = TS_BUF_INIT;
	char big[1100];
	ts_value keys[24];
	int nkeys = 0, k, level;

	git_libgit2_init();
	test_ok(git_repository_init(&repo, "history.git", 1));
	memset(big, 'x', 1024);
	big[1023] = '/';
	big[1024] = '\0';
	keys[nkeys++] = v_text(big);
	for (k = 0; k < (int)(sizeof(texts) / sizeof(texts[0])); k++)
		keys[nkeys++] = v_text(texts[k]);
	keys[nkeys++] = v_text_n("\0\x01\xff", 3);
	keys[nkeys++] = v_int(-1);
	keys[nkeys++] = v_real(-INFINITY);
	keys[nkeys++] = v_blob("\xff", 1);
	keys[nkeys++] = v_null();

	for (k = 0; k < nkeys; k++) {
		char *parts[6], *p;
		int n = 0;

		ts_buf__clear(&path);
		test_ok(ts_rowcodec__key_path_values(&path, "cases", 1, &keys[k]));
		test_ok(ts_rowcodec__encode_values(&row, 1, (const char *const[]){ "id" }, &keys[k]));
		test_ok(git_blob_create_from_buffer(&blob, repo, row.ptr, row.size));
		for (p = path.ptr, parts[n++] = p; *p; p++)
			if (*p == '/') {
				*p = '\0';
				test_assert(n < 6);
				parts[n++] = p + 1;
			}
		test_equal_i(n, 6);
		/* build the six trees bottom up, each insert checked by libgit2 */
		test_ok(git_treebuilder_new(&builder, repo, NULL));
		test_ok(git_treebuilder_insert(NULL, builder, parts[5], &blob, GIT_FILEMODE_BLOB));
		test_ok(git_treebuilder_write(&tree, builder));
		git_treebuilder_free(builder);
		builder = NULL;
		for (level = 4; level >= 0; level--) {
			test_ok(git_treebuilder_new(&builder, repo, NULL));
			test_ok(git_treebuilder_insert(NULL, builder, parts[level], &tree, GIT_FILEMODE_TREE));
			test_ok(git_treebuilder_write(&tree, builder));
			git_treebuilder_free(builder);
			builder = NULL;
		}
		/* and the whole path finds the row again */
		for (level = 1; level < 6; level++)
			parts[level][-1] = '/';
		test_ok(git_tree_lookup(&root, repo, &tree));
		test_ok(git_tree_entry_bypath(&entry, root, path.ptr));
		test_assert(git_oid_equal(git_tree_entry_id(entry), &blob));
		git_tree_entry_free(entry);
		entry = NULL;
		git_tree_free(root);
		root = NULL;
	}
	git_repository_free(repo);
	ts_buf__dispose(&path);
	ts_buf__dispose(&row);
	git_libgit2_shutdown();
}

/*
 * A program may call setlocale(); reals must still be written with '.' and
 * read back. Only checkable where a comma-decimal locale is installed.
 */
void test_rowcodec__reals_ignore_locale(void)
{
	static const char *const locales[] = { "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "ru_RU.UTF-8", "C.UTF-8" };
	char *saved = NULL;
	const char *name = "r";
	ts_value v;
	ts_row *row = NULL;
	size_t k;

	test_assert((saved = strdup(setlocale(LC_NUMERIC, NULL))) != NULL);
	for (k = 0; k < sizeof(locales) / sizeof(locales[0]); k++)
		if (setlocale(LC_NUMERIC, locales[k]) && strcmp(localeconv()->decimal_point, "."))
			break;
	if (k == sizeof(locales) / sizeof(locales[0]))
		fprintf(stderr, "    (no comma-decimal locale installed: only the C locale was checked)\n");
	else {
		int ok = encoded_as(v_real(2.5), "2.5") && encoded_as(v_real(-0.0), "-0.0") &&
			encoded_as(v_real(1e-7), "1e-07") && round_trips_one(v_real(0.1)) &&
			round_trips_one(v_real(DBL_MAX)) && ts_rowcodec__decode(&row, "r 2.5\n", 6) == 0 &&
			row->values[0].r == 2.5 && named(v_real(0.5), "#r0.5");
		ts_row__free(row);
		row = NULL;
		v = v_real(3.25);
		ok = ok && round_trips(1, &name, &v);
		setlocale(LC_NUMERIC, saved);
		test_assert(ok);
	}
	setlocale(LC_NUMERIC, saved);
	free(saved);
}

/* The paths docs/FORMAT.md gives as examples: the format is fixed. */
void test_rowcodec__documented_paths(void)
{
	ts_value one = { SQLITE_TEXT, 0, 0, "bj.dc.jingshan.d07-c20150522-3", 30 };
	ts_value two[2] = { { SQLITE_TEXT, 0, 0, "bj.dc.jingshan", 14 }, { SQLITE_INTEGER, 42, 0, NULL, 0 } };
	ts_buf path = TS_BUF_INIT;
	char ks[301], *name;

	test_ok(ts_rowcodec__key_path_values(&path, "cases", 1, &one));
	test_equal_s(path.ptr, "cases/8/9/0/b/bj.dc.jingshan.d07-c20150522-3");
	ts_buf__clear(&path);
	test_ok(ts_rowcodec__key_path_values(&path, "patrols", 2, two));
	test_equal_s(path.ptr, "patrols/7/b/0/2/bj.dc.jingshan,#42");
	ts_buf__dispose(&path);
	memset(ks, 'k', 300);
	ks[300] = '\0';
	test_assert((name = text_key_name(ks)) != NULL);
	test_equal_i(strlen(name), 191);
	test_assert(!strncmp(name, ks, 150));
	test_equal_s(name + 150, "~27bbcc58a32288b8c1dde8c35176700210c0c09b");
	free(name);
}

/*
 * Encodes the first row `select` gives from a database made by the real
 * migrations of schema/ after `setup`, and checks it against the bytes,
 * the blob id and the path docs/FORMAT.md shows for it.
 */
static int documented_row(const char *setup, const char *select, const char *table, const char *key,
	const char *bytes, size_t len, const char *id, const char *path)
{
	sqlite3 *db = open_memory_db();
	sqlite3_stmt *stmt = NULL;
	ts_buf blob = TS_BUF_INIT, where = TS_BUF_INIT;
	ts_value key_value = v_text(key);
	ts_row *row = NULL;
	char hex[41] = "";
	int ok = 0;

	if (!db || ts_schema__migrate(db, NULL) < 0 || (setup && sqlite3_exec(db, setup, NULL, NULL, NULL) != SQLITE_OK) ||
	    sqlite3_prepare_v2(db, select, -1, &stmt, NULL) != SQLITE_OK || sqlite3_step(stmt) != SQLITE_ROW ||
	    ts_rowcodec__encode_stmt(&blob, stmt) < 0 || ts_rowcodec__key_path_values(&where, table, 1, &key_value) < 0) {
		fprintf(stderr, "    %s: %s\n", table, db ? sqlite3_errmsg(db) : "no database");
		goto done;
	}
	blob_id(hex, blob.ptr, blob.size);
	if (blob.size != len || memcmp(blob.ptr, bytes, len))
		fprintf(stderr, "    %s encodes as (%zu bytes):\n%s", table, blob.size, blob.ptr);
	else if (strcmp(hex, id))
		fprintf(stderr, "    %s: blob id %s, documented %s\n", table, hex, id);
	else if (strcmp(where.ptr, path))
		fprintf(stderr, "    %s: path %s, documented %s\n", table, where.ptr, path);
	else
		ok = ts_rowcodec__decode(&row, blob.ptr, blob.size) == 0;
done:
	ts_row__free(row);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	ts_buf__dispose(&blob);
	ts_buf__dispose(&where);
	return ok;
}

/* The worked example of docs/FORMAT.md: a category as the schema seeds it. */
void test_rowcodec__documented_example(void)
{
	static const char bytes[] =
		"code \"outdoor_bbq\"\n"
		"campaign \"air_pollution\"\n"
		"name_zh \"露天烧烤\"\n"
		"deadline_days 1\n";

	test_equal_i(sizeof(bytes) - 1, 83);
	test_assert(documented_row(NULL, "SELECT * FROM categories WHERE code = 'outdoor_bbq'", "categories",
		"outdoor_bbq", bytes, sizeof(bytes) - 1, "2bd31e7708b10ea6e75815da9ff8ee0f19116212",
		"categories/d/3/b/a/outdoor_bbq"));
}

/* Its second example: a case as an officer records it, a real, escapes, NULLs. */
void test_rowcodec__documented_case(void)
{
	static const char bytes[] =
		"id \"bj.dc.jingshan.d07-c20150522-3\"\n"
		"source \"patrol\"\n"
		"category \"outdoor_bbq\"\n"
		"address \"景山前街 4号\"\n"
		"lng 116.3975\n"
		"lat 39.9245\n"
		"jurisdiction \"bj.dc.jingshan\"\n"
		"description \"露天烧烤, 2 grills\\nowner said \\\"closing soon\\\"\"\n"
		"status \"discovered\"\n"
		"officer null\n"
		"reported_at \"2015-05-22T21:40:00+08:00\"\n"
		"deadline \"2015-05-23T21:40:00+08:00\"\n"
		"stage null\n"
		"filed_at null\n"
		"legal_basis null\n"
		"penalty_amount null\n"
		"decided_at null\n"
		"major 0\n"
		"review_status null\n"
		"reviewer null\n"
		"reviewed_at null\n"
		"filed_up_at null\n"
		"executed_at null\n"
		"transfer_to null\n"
		"transferred_at null\n"
		"complainant_name null\n"
		"complainant_phone null\n"
		"visited_at null\n"
		"satisfaction null\n"
		"key_area_id null\n"
		"event_id null\n"
		"created_by_node \"bj.dc.jingshan.d07\"\n"
		"closed_at null\n"
		"patrol_id null\n"
		"first_officer null\n";

	test_equal_i(sizeof(bytes) - 1, 737);
	test_assert(documented_row(
		"INSERT INTO cases (id, source, category, address, lng, lat, jurisdiction, description, "
		"reported_at, deadline, created_by_node) VALUES ('bj.dc.jingshan.d07-c20150522-3', 'patrol', "
		"'outdoor_bbq', '景山前街 4号', 116.3975, 39.9245, 'bj.dc.jingshan', "
		"'露天烧烤, 2 grills' || char(10) || 'owner said \"closing soon\"', '2015-05-22T21:40:00+08:00', "
		"'2015-05-23T21:40:00+08:00', 'bj.dc.jingshan.d07')",
		"SELECT * FROM cases", "cases", "bj.dc.jingshan.d07-c20150522-3", bytes, sizeof(bytes) - 1,
		"09b2f8fe32c5ecc0114b913bc89229e8749455a9", "cases/8/9/0/b/bj.dc.jingshan.d07-c20150522-3"));
}
