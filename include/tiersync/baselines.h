/*
 * tiersync/baselines.h — the complaint baselines (常量) the city sets, that
 * the plan's complaint figures measure against. Part of the public API;
 * include "tiersync.h" for all of it. See docs/EXPOSURES.md, "Baselines",
 * and docs/REPORT.md.
 *
 * Writes go through ts_node_write() with the author's real name (NULL: the
 * node's identity); a refused one returns TS_EDENIED, TS_EINVALID or
 * TS_ENOTFOUND with one clear message and writes nothing. The list reads
 * only and calls a callback once per baseline; its strings live until the
 * callback returns, and a non-zero return stops the list, which returns it.
 */
#ifndef TIERSYNC_BASELINES_H
#define TIERSYNC_BASELINES_H

#include <stdint.h>
#include "tiersync/node.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The plan (node/baselines.c implements this) measures complaints in key areas against a baseline
 * ("群众举报低于常量15%以上") and each campaign's against last year; the
 * city sets, for a unit, a subject and a calendar year, the number of
 * complaints of a whole year to measure against (docs/REPORT.md). Only
 * the city writes them; every node reads those of its jurisdiction.
 */

/* The subjects a baseline may be set for, NULL-terminated: "key_areas"
 * (complaints about places in a key area), "dust_muck" (construction dust,
 * muck spills and muck vehicles), "outdoor_bbq", "small_ads". */
extern const char *const ts_baseline_subjects[];

/*
 * Sets (or changes) the baseline of `unit` (the city's id or a node id
 * below it), `subject` (one of ts_baseline_subjects) and `year` ("YYYY")
 * to `complaints` (>= 0) complaints a year. Only the city may.
 */
int ts_baseline_set(ts_node *node, const char *author, const char *unit, const char *subject,
	const char *year, int64_t complaints);

/* Removes a baseline set in error. Only the city may; TS_ENOTFOUND if none. */
int ts_baseline_remove(ts_node *node, const char *author, const char *unit, const char *subject,
	const char *year);

/* One baseline, as ts_baseline_list() reports it. */
typedef struct {
	const char *unit;
	const char *subject;
	const char *year;
	int64_t complaints;
	const char *set_by;          /* real name */
	const char *set_at;
} ts_baseline_info;

#define TS_BASELINE_FILTER_VERSION 1

typedef struct {
	unsigned int version;        /* TS_BASELINE_FILTER_VERSION */
	const char *unit;            /* only baselines of this unit or below it; NULL: this node's
	                                view. One outside the view is TS_EINVALID */
	const char *subject;         /* only this subject, or NULL */
	const char *year;            /* only this year ("YYYY"), or NULL */
} ts_baseline_filter;

#define TS_BASELINE_FILTER_INIT { TS_BASELINE_FILTER_VERSION, NULL, NULL, NULL }

/*
 * Calls `cb` for each baseline of a unit in this node's jurisdiction (a
 * device's: its street's), in order of year, unit, then subject.
 */
int ts_baseline_list(ts_node *node, const ts_baseline_filter *filter,
	int (*cb)(const ts_baseline_info *baseline, void *payload), void *payload);

#ifdef __cplusplus
}
#endif

#endif
