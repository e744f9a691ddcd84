/*
 * Progress: how a long step of the engine (a merge's walk, an apply's
 * rows, the checks after it) tells its caller where it stands, in bounded
 * steps: once when a phase begins, at most every TS_PROGRESS_INTERVAL
 * seconds while it runs, and once more, marked done, when it ends
 * (ts_progress and its callback are public: include/tiersync/merge.h).
 *
 * A meter without a callback, or none at all (NULL), reports nothing and
 * reads no clock, so the steps count into it unconditionally.
 */
#ifndef TS_SYNC_PROGRESS_H
#define TS_SYNC_PROGRESS_H

#include <stddef.h>

#include "tiersync.h"

#define TS_PROGRESS_INTERVAL 0.1

typedef struct {
	ts_progress_cb cb;     /* NULL: nothing is reported */
	void *payload;
	ts_progress state;     /* the phase as last counted */
	double started;        /* when the phase began, seconds on a monotonic clock */
	double reported;       /* when it was last reported */
	int open;              /* a phase began and has not ended */
} ts_progress_meter;

/* A meter that reports to `cb` (may be NULL). */
void ts_progress__init(ts_progress_meter *m, ts_progress_cb cb, void *payload);

/* 1 when `m` reports to someone: a step may skip work done only for it. */
int ts_progress__wanted(const ts_progress_meter *m);

/* Begins phase `phase` (a static string) of `total` steps (0: unknown),
 * ending the one still open, and reports it. */
void ts_progress__begin(ts_progress_meter *m, const char *phase, size_t total);

/* `current` steps of the open phase are done; reported when the last
 * report is TS_PROGRESS_INTERVAL old. */
void ts_progress__update(ts_progress_meter *m, size_t current);

/* Ends the open phase, if any, with its last report (done = 1). Called on
 * the way out of a step whether it succeeded or not. */
void ts_progress__end(ts_progress_meter *m);

#endif
