/*
 * What the files of key areas, supervision, major events and small ads
 * share inside node/ (their public API is in include/tiersync.h).
 */
#ifndef TS_NODE_TIERS_H
#define TS_NODE_TIERS_H

#include <sqlite3.h>

#include "tiersync.h"

/* Refuses (TS_EDENIED) unless this node is the city or a district; `what`
 * says what it tried, e.g. "list key areas". */
int ts_tiers__upper_only(ts_node *node, const char *what);

/* Turns the last SQLite failure on `db` into the last error: TS_EINVALID
 * for a constraint, else TS_ERROR; `what` says what was being done. */
int ts_tiers__db_error(sqlite3 *db, const char *what);

/* The first column of a one-row query with up to two text parameters:
 * *out is a malloc'd copy, or NULL (no row, or SQL NULL). Returns 1 when
 * a row was found, 0 when not, < 0 on failure. */
int ts_tiers__query_text(char **out, sqlite3 *db, const char *sql, const char *p1, const char *p2);

/* What a list's filter asks for: *scope the jurisdiction given (NULL:
 * this node's), which must be this node's or below it; `from` and `to`
 * the period given (ts_time_parse(); a date `to` means its last second),
 * "" when not given. TS_EINVALID, saying why, when one is not. */
int ts_tiers__list_range(const char **scope, char from[32], char to[32], const ts_node *node,
	const char *jurisdiction, const char *from_text, const char *to_text);

/* Patrols (node/patrols.c). */

/* A time given for a record (`text`, ts_time_parse; NULL: now) into `out`;
 * TS_EINVALID, naming `what`, when it is not a time or lies in the future. */
int ts_patrols__time_given(char out[32], const char *text, const char *what);

/* For case intake, inside its ts_node_write(): checks that a case of
 * `jurisdiction`, with `source`, reported at `reported_at`, may have been
 * found on the patrol `patrol_id`, and counts it in the patrol's `found`. TS_ENOTFOUND, TS_EDENIED or TS_EINVALID, saying why,
 * when not. */
int ts_patrols__case_found(ts_node *node, const char *patrol_id, const char *jurisdiction,
	const char *source, const char *reported_at);

#endif
