/*
 * Fuzz target: the row decoder (sync/rowcodec.c), which reads blobs that
 * arrive from other nodes and must be safe on any bytes.
 *
 * Whatever decodes must encode back to exactly the bytes it came from
 * (the encoding is canonical, so decoding accepts only what encoding
 * makes); anything else must be refused as TS_ECORRUPT, never accepted
 * as a different row. The same bytes are also read as a tree path and as
 * a key name, the other two shapes of untrusted input this file parses.
 *
 * Built and run by `make fuzz` (libFuzzer: clang -fsanitize=fuzzer).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "rowcodec.h"
#include "tiersync.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	git_libgit2_init();   /* long key names are hashed as git blobs */
	return 0;
}

static void round_trip(const char *data, size_t size)
{
	ts_row *row = NULL;
	ts_buf again = TS_BUF_INIT;
	int rc = ts_rowcodec__decode(&row, data, size);

	if (rc < 0) {
		if (rc != TS_ECORRUPT || row)
			abort();   /* a refusal says corrupt and hands back nothing */
		return;
	}
	if (ts_rowcodec__encode_values(&again, row->ncol, (const char *const *)row->names, row->values) < 0 ||
	    again.size != size || (size && memcmp(again.ptr, data, size) != 0))
		abort();   /* decoded, yet not the canonical bytes of its row */
	ts_buf__dispose(&again);
	ts_row__free(row);
}

static void as_path_and_name(const char *data, size_t size)
{
	char *text = malloc(size + 1);
	ts_buf table = TS_BUF_INIT, readable = TS_BUF_INIT;
	const char *name = NULL;

	if (!text)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	if (ts_rowcodec__path_split(&table, &name, text) == 0) {
		if (!name || name < text || name > text + size)
			abort();
		ts_rowcodec__key_name_readable(&readable, name);
	}
	ts_rowcodec__key_name_readable(&readable, text);
	ts_buf__dispose(&table);
	ts_buf__dispose(&readable);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	round_trip((const char *)data, size);
	as_path_and_name((const char *)data, size);
	return 0;
}
