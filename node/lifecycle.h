/*
 * The case lifecycle's parts shared inside node/ (the public steps are in
 * include/tiersync.h).
 */
#ifndef TS_NODE_LIFECYCLE_H
#define TS_NODE_LIFECYCLE_H

#include <stdint.h>

#include "tiersync.h"

/* The value of `rule` for `category` ("" for none) in `jurisdiction`: the
 * longest matching scope wins. 0 when found, TS_ENOTFOUND when no row. */
int ts_case__rule(int64_t *out, sqlite3 *db, const char *jurisdiction, const char *rule,
	const char *category);

/* 0 when a case of `jurisdiction` is this node's to work on (its own or
 * below it; a device works on its street's); TS_EDENIED, saying so, if not. */
int ts_case__in_reach(const ts_node *node, const char *case_id, const char *jurisdiction);

/* Appends one case event, inside a ts_node_write(). */
int ts_case__event(ts_node *node, const char *case_id, const char *kind, const char *officer,
	const char *detail, const char *at);

#endif
