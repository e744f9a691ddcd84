/*
 * tiersync/status.h — where a node stands with the nodes it syncs with:
 * per remote, the last push and fetch and what waits on either side; on
 * an upper node, the submissions that wait to be merged. Part of the
 * public API; include "tiersync.h" for all of it.
 *
 * Read only. The lists call a callback once per record; its strings live
 * until the callback returns, and a non-zero return stops the list, which
 * returns it as it is.
 */
#ifndef TIERSYNC_STATUS_H
#define TIERSYNC_STATUS_H

#include <stdint.h>
#include "tiersync/node.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One remote, as ts_node_remote_status() reports it. */
typedef struct {
	const char *name;
	const char *url;
	const char *pushed;      /* the main last pushed there whole (hex), or NULL: none yet */
	const char *pushed_at;   /* when (the schema's time form), or NULL */
	const char *fetched;     /* its main as last fetched (hex), or NULL: never fetched */
	const char *fetched_at;  /* when, or NULL (a fetch before this was recorded) */
	int64_t to_push;         /* commits of this node's main the remote is not known to
	                            hold: reachable from neither of the two above */
	int64_t to_take;         /* commits of its main as last fetched that this node's
	                            main lacks */
} ts_remote_status;

/*
 * Calls `cb` for each remote of the node, in config order. What the
 * remote holds is known only from this node's own transfers: a push that
 * went through, a fetch (or pull). Nothing is asked over the network.
 */
int ts_node_remote_status(ts_node *node,
	int (*cb)(const ts_remote_status *remote, void *payload), void *payload);

/* One submission waiting to be merged, as ts_node_submissions_waiting()
 * reports it. */
typedef struct {
	const char *node_id;     /* the lower node that sent it */
	int urgent;              /* 1: its urgent reports (refs/urgent/ID), merged first */
	const char *commit;      /* the commit offered (hex) */
	int64_t commits;         /* its commits this node's main lacks (> 0) */
} ts_submission_waiting;

/*
 * Calls `cb` for each submission (refs/submissions/ID and refs/urgent/ID)
 * holding commits this node's main lacks, urgent ones first, then by node
 * id: what `tiersync merge --submissions` would take.
 */
int ts_node_submissions_waiting(ts_node *node,
	int (*cb)(const ts_submission_waiting *s, void *payload), void *payload);

#ifdef __cplusplus
}
#endif

#endif
