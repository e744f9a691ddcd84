/*
 * The CLI's one JSON string writer: strings of any bytes and stored values
 * (ts_cell), written to a FILE * — stdout, or an open_memstream() where a
 * command assembles its answer before printing. Text from the node or
 * the user in any command's --json output is written with it (ts_json_str()
 * and ts_json_str_or_null() in cli.h are shorthands for it).
 *
 * Strings are counted, not NUL-terminated, and always come out as valid
 * JSON: '"', '\\', \n, \r and \t are escaped as such; NULs, other control
 * bytes, DEL and every byte that is not part of valid UTF-8 as \u00HH;
 * valid UTF-8 is written as it is.
 */
#ifndef TS_TOOLS_JSON_H
#define TS_TOOLS_JSON_H

#include <stddef.h>
#include <stdio.h>

#include "tiersync.h"

/* Writes `n` bytes of `s` as a JSON string, quotes included. */
void ts_json_write_string(FILE *out, const char *s, size_t n);

/* Writes the NUL-terminated `s` as a JSON string; NULL as "". */
void ts_json_write_text(FILE *out, const char *s);

/*
 * Writes a stored value: null (also for a NULL `cell`), an integer, a real
 * in its row-blob form (3.5, 1e+300), text as a string, a blob as
 * {"hex":"0aff"}; the reals JSON cannot hold as the strings "inf", "-inf"
 * and "nan".
 */
void ts_json_write_cell(FILE *out, const ts_cell *cell);

#endif
