/*
 * Verify: compares a database with the head of its history, row by row and
 * column by column, with staged writes laid over the head.
 */
#ifndef TS_SYNC_VERIFY_H
#define TS_SYNC_VERIFY_H

#include <sqlite3.h>

#include "store.h"
#include "tiersync.h"

/* Calls `cb` for every difference (a non-zero return stops early).
 * Returns 0 when equal, TS_ECORRUPT when not, another code on failure. */
int ts_history__verify(sqlite3 *db, ts_store *store,
	int (*cb)(const ts_verify_problem *p, void *payload), void *payload);

#endif
