/*
 * tiersync/urgent.h — urgent information reports (信息报送).
 * Part of the public API; include "tiersync.h" for all of it.
 */
#ifndef TIERSYNC_URGENT_H
#define TIERSYNC_URGENT_H

#include <stddef.h>
#include "tiersync/node.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Urgent reports (node/urgent.c; docs/TIERS.md, "Urgent reports"): events
 * that must reach the city at once. A street, a device acting for its
 * street, or a district records one; its next push sends it to the upper
 * node ahead of any backlog (ts_node_push(), refs/urgent/<node id>), as
 * does a submission bundle (ts_bundle_create()), and a node above the
 * reporting unit acknowledges it (receives it).
 *
 * Writes go through ts_node_write() with the author's real name, and are
 * staged like every write: commit them (ts_node_commit()) for a push to
 * send them. A refused operation returns TS_EDENIED (the tier or
 * jurisdiction forbids it), TS_EINVALID (bad input) or TS_ENOTFOUND (no
 * such report or case), with one clear message, and writes nothing. Times
 * are in the schema's form, "YYYY-MM-DDTHH:MM:SS+08:00".
 */

typedef struct {
	const char *subject;      /* one line */
	const char *detail;       /* or NULL */
	const char *case_id;      /* the case it is about, or NULL */
	const char *occurred_at;  /* when it happened (ts_time_parse()); NULL: now */
} ts_urgent_options;

/*
 * Records an urgent report of this node's unit (a device reports for its
 * street; the city, with no node above it, is refused). A case it names
 * must exist here and lie in the unit's jurisdiction; the case gets a
 * 'note' event in its whole-process record, in the same write. The time
 * it occurred must not lie in the future. The report's id goes to *id_out
 * (free() it).
 */
int ts_urgent_create(char **id_out, ts_node *node, const char *author, const ts_urgent_options *opts);

/*
 * Takes in (acknowledges) urgent report `id`: received_at is now,
 * received_by the author. Only a node above the reporting unit may
 * (TS_EDENIED otherwise); a report already received is TS_EINVALID.
 */
int ts_urgent_receive(ts_node *node, const char *author, const char *id);

/* One urgent report, as ts_urgent_list() reports it. */
typedef struct {
	const char *id;
	const char *jurisdiction;  /* the unit reporting */
	const char *case_id;       /* or NULL */
	const char *subject;
	const char *detail;        /* or NULL */
	const char *occurred_at;
	const char *reported_at;
	const char *reporter;      /* the real name of who reported it */
	const char *node;          /* the node that recorded it */
	const char *received_at;   /* NULL while pending */
	const char *received_by;   /* NULL while pending */
} ts_urgent_info;

#define TS_URGENT_FILTER_VERSION 1

typedef struct {
	unsigned int version;      /* TS_URGENT_FILTER_VERSION */
	int pending_only;          /* 1: only the reports not yet received */
	int received_only;         /* 1: only the received ones (not with pending_only) */
} ts_urgent_filter;

#define TS_URGENT_FILTER_INIT { TS_URGENT_FILTER_VERSION, 0, 0 }

/*
 * Calls `cb` for each urgent report of this node's jurisdiction (a
 * device's: its street's), in order of the time it was reported, then id.
 * A report's strings live until the callback returns: copy what is kept.
 * A non-zero return from the callback stops the list and is returned as
 * it is. A NULL filter lists every report; a filter's `version` must be
 * TS_URGENT_FILTER_VERSION, else TS_EINVALID before any report.
 */
int ts_urgent_list(ts_node *node, const ts_urgent_filter *filter,
	int (*cb)(const ts_urgent_info *report, void *payload), void *payload);

/*
 * Admission of an urgent commit (node/admit_node.c): whether this node may
 * take commit `commit_hex` (40 hex digits), offered by the lower node
 * `from` as refs/urgent/<from>. It must be one commit whose parent this
 * node's main holds, and add, against that parent, only urgent_reports
 * rows and the cases rows those reports name; then it is admitted as
 * ts_node_admit() admits a submission (ownership, rows, signatures).
 * `objects_dir` as there. 0 when admissible, else TS_EDENIED (or
 * TS_ECORRUPT) with one line naming the commit and what is wrong.
 */
int ts_node_admit_urgent(ts_node *node, const char *from, const char *commit_hex, const char *objects_dir);

#ifdef __cplusplus
}
#endif

#endif
