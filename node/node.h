/*
 * The node's private parts, shared by the files of node/.
 */
#ifndef TS_NODE_NODE_H
#define TS_NODE_NODE_H

#include <git2.h>
#include <sqlite3.h>

#include "store.h"
#include "tiersync.h"

struct ts_node {
	char *path;
	char *id;
	ts_tier tier;
	char *identity;       /* user.name, or NULL */
	git_config *config;
	sqlite3 *db;
	ts_store *store;
	int repaired;         /* open had to repair history */
};

/* The service keeps Beijing time: case times and commit times carry +08:00. */
#define TS_UTC_OFFSET_SECONDS (8 * 3600)

/* Fills `who` for a change made now-ish at this node. */
void ts_node__who(ts_store_who *who, const char *node_id, const char *name, int64_t when);

/* The current time (TIERSYNC_NOW overrides it, for reproducible runs). */
int64_t ts_node__now(void);

#endif
