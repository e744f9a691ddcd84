/*
 * The CLI's JSON string and value writer (see json.h).
 */
#include "json.h"

#include <math.h>
#include <string.h>

/* The length of the valid UTF-8 sequence at s (at most `avail` bytes), or 0
 * for a byte that does not start one: overlong forms, surrogates and code
 * points past U+10FFFF are not valid. */
static size_t utf8_length(const unsigned char *s, size_t avail)
{
	size_t n, k;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n > avail)
		return 0;
	for (k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

void ts_json_write_string(FILE *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t k = 0, len;

	fputc('"', out);
	while (k < n) {
		switch (p[k]) {
		case '"': fputs("\\\"", out); k++; continue;
		case '\\': fputs("\\\\", out); k++; continue;
		case '\n': fputs("\\n", out); k++; continue;
		case '\r': fputs("\\r", out); k++; continue;
		case '\t': fputs("\\t", out); k++; continue;
		}
		if (p[k] < 0x20 || p[k] == 0x7f || !(len = utf8_length(p + k, n - k))) {
			fprintf(out, "\\u%04x", p[k]);
			k++;
			continue;
		}
		fwrite(p + k, 1, len, out);
		k += len;
	}
	fputc('"', out);
}

void ts_json_write_text(FILE *out, const char *s)
{
	ts_json_write_string(out, s ? s : "", s ? strlen(s) : 0);
}

void ts_json_write_cell(FILE *out, const ts_cell *cell)
{
	size_t k;

	if (!cell) {
		fputs("null", out);
		return;
	}
	switch (cell->type) {
	case TS_CELL_INTEGER:
		fprintf(out, "%lld", (long long)cell->integer);
		break;
	case TS_CELL_FLOAT:
		if (isnan(cell->real))
			fputs("\"nan\"", out);
		else if (isinf(cell->real))
			fputs(cell->real > 0 ? "\"inf\"" : "\"-inf\"", out);
		else
			fputs(cell->display, out);   /* the row blob's form is a JSON number */
		break;
	case TS_CELL_TEXT:
		ts_json_write_string(out, cell->bytes ? cell->bytes : "", cell->bytes ? cell->len : 0);
		break;
	case TS_CELL_BLOB:
		fputs("{\"hex\":\"", out);
		for (k = 0; k < cell->len; k++)
			fprintf(out, "%02x", (unsigned char)cell->bytes[k]);
		fputs("\"}", out);
		break;
	default:
		fputs("null", out);
		break;
	}
}
