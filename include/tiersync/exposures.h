/*
 * tiersync/exposures.h — the service's own exposures in the media (主动曝光),
 * that the plan's media figure counts beside the cases the media found.
 * Part of the public API; include "tiersync.h" for all of it. See
 * docs/EXPOSURES.md.
 *
 * Every write goes through ts_node_write() with the author's real name
 * (NULL: the node's identity). A refused operation returns TS_EDENIED (this
 * node may not write the row), TS_EINVALID (bad input) or TS_ENOTFOUND (no
 * such row), with one clear message, and writes nothing. Who may write
 * is what the ownership rules of schema/0012_plan_figures.sql say for sync.
 *
 * The lists read only and call a callback once per record, in a stated
 * order; a record's strings live until the callback returns. A non-zero
 * return from the callback stops the list, which returns it as it is.
 */
#ifndef TIERSYNC_EXPOSURES_H
#define TIERSYNC_EXPOSURES_H

#include <stdint.h>
#include "tiersync/node.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Exposures, 主动曝光 (node/exposures.c).
 *
 * An exposure is made by a unit (a street, a district or the city; a
 * device records for its street) about its own jurisdiction: an outlet,
 * a title, when it was published, and the case exposed if there is one.
 * Cases the media found are cases with the source "media"; these are the
 * ones the service made itself.
 */

typedef struct {
	const char *outlet;       /* the paper, station or account, e.g. "北京日报": required */
	const char *title;        /* the headline or subject, one line: required */
	const char *case_id;      /* the case exposed, or NULL: a case in this node's jurisdiction */
	const char *published;    /* when it was published (ts_time_parse), or NULL: now;
	                             never in the future */
	const char *url;          /* where it can be read (http:// or https://), or NULL */
} ts_exposure_options;

/*
 * Records an exposure made by this node's unit (its jurisdiction: a
 * device's street, else its own id), under `author`'s real name as the
 * one who made it. A case it names gets a 'note' event. The new id goes
 * to *id_out (free() it).
 */
int ts_exposure_add(char **id_out, ts_node *node, const char *author, const ts_exposure_options *opts);

/*
 * Removes an exposure recorded in error. Only the nodes whose jurisdiction
 * covers the exposure's unit may; a case it named gets a 'note' event.
 */
int ts_exposure_remove(ts_node *node, const char *author, const char *exposure_id);

/* One exposure, as ts_exposure_list() reports it. */
typedef struct {
	const char *id;
	const char *jurisdiction;    /* the unit that made it */
	const char *case_id;         /* or NULL */
	const char *outlet;
	const char *title;
	const char *published_at;
	const char *made_by;         /* real name */
	const char *url;             /* or NULL */
} ts_exposure_info;

#define TS_EXPOSURE_FILTER_VERSION 1

typedef struct {
	unsigned int version;        /* TS_EXPOSURE_FILTER_VERSION */
	const char *jurisdiction;    /* only exposures of this node id or below it; NULL: this
	                                node's view. One outside the view is TS_EINVALID */
	const char *from;            /* only those published at or after (ts_time_parse; a
	                                date: its first second), or NULL */
	const char *to;              /* only those published at or before (a date: its last
	                                second), or NULL */
	const char *case_id;         /* only those about this case, or NULL */
} ts_exposure_filter;

#define TS_EXPOSURE_FILTER_INIT { TS_EXPOSURE_FILTER_VERSION, NULL, NULL, NULL, NULL }

/*
 * Calls `cb` for each exposure in this node's view (those of its
 * jurisdiction; a device's: its street's), in order of publication, then
 * id. NULL filter: all of them.
 */
int ts_exposure_list(ts_node *node, const ts_exposure_filter *filter,
	int (*cb)(const ts_exposure_info *exposure, void *payload), void *payload);

#ifdef __cplusplus
}
#endif

#endif
