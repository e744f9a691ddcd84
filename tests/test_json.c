/*
 * The CLI's JSON writer (tools/json.c): every string comes out as valid
 * JSON, and stored values keep their types.
 */
#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/json.h"

/* What `write` printed, as a string (free() it). */
static char *captured(void (*write)(FILE *out, const void *arg), const void *arg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return strdup("(open_memstream failed)");
	write(f, arg);
	fclose(f);
	return text;
}

typedef struct {
	const char *s;
	size_t n;
} bytes;

static void write_bytes(FILE *out, const void *arg)
{
	const bytes *b = arg;
	ts_json_write_string(out, b->s, b->n);
}

static void write_cells(FILE *out, const void *arg)
{
	const ts_cell *cells = arg;
	int i;
	for (i = 0; cells[i].type; i++) {
		if (i)
			fputc(',', out);
		ts_json_write_cell(out, &cells[i]);
	}
	fputc(',', out);
	ts_json_write_cell(out, NULL);
}

void test_json__strings_are_always_valid(void)
{
	bytes b = { "a\0b\xff\x7f\x01\t\n\r\"\\李", 14 };
	char *out = captured(write_bytes, &b);

	/* NUL, a byte outside UTF-8, DEL and control bytes as \u00HH; the
	 * usual escapes; valid UTF-8 as it is */
	test_equal_s(out, "\"a\\u0000b\\u00ff\\u007f\\u0001\\t\\n\\r\\\"\\\\李\"");
	free(out);

	/* a cut UTF-8 sequence is not UTF-8: its bytes are escaped one by one */
	b.s = "\xe6\x9d";
	b.n = 2;
	out = captured(write_bytes, &b);
	test_equal_s(out, "\"\\u00e6\\u009d\"");
	free(out);
}

void test_json__cells_keep_their_types(void)
{
	ts_cell cells[8];
	char *out;

	memset(cells, 0, sizeof(cells));
	cells[0].type = TS_CELL_NULL;
	cells[1].type = TS_CELL_INTEGER;
	cells[1].integer = -42;
	cells[2].type = TS_CELL_FLOAT;
	cells[2].real = 3.5;
	cells[2].display = "3.5";     /* a real is written in its row-blob form */
	cells[3].type = TS_CELL_FLOAT;
	cells[3].real = INFINITY;
	cells[4].type = TS_CELL_BLOB;
	cells[4].bytes = "\x0a\xff";
	cells[4].len = 2;
	cells[5].type = TS_CELL_TEXT;
	cells[5].bytes = "李\t\"\\\x01";
	cells[5].len = strlen(cells[5].bytes);
	cells[6].type = TS_CELL_FLOAT;
	cells[6].real = 1e300;
	cells[6].display = "1e+300";
	out = captured(write_cells, cells);
	test_equal_s(out, "null,-42,3.5,\"inf\",{\"hex\":\"0aff\"},\"李\\t\\\"\\\\\\u0001\",1e+300,null");
	free(out);
}
