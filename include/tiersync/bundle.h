/*
 * tiersync/bundle.h — bundles: a sync carried on a USB stick.
 * Part of the public API; include "tiersync.h" for all of it.
 */
#ifndef TIERSYNC_BUNDLE_H
#define TIERSYNC_BUNDLE_H

#include <stddef.h>
#include <stdint.h>
#include "tiersync/merge.h"
#include "tiersync/node.h"
#include "tiersync/remote.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Bundles (node/bundle_node.c over sync/bundle.c).
 *
 * A bundle is a git bundle (version 2, which stock `git bundle verify`
 * and `git bundle list-heads` read) holding what the other side lacks:
 *
 *   a submission   made by a lower node for its upper node: the ref
 *                  refs/submissions/<this node's id> at this node's main;
 *                  its prerequisites what the upper node is known to hold
 *                  (refs/remotes/upstream/main as last fetched or taken
 *                  from a bundle), or a revision given. When this node's
 *                  main holds urgent reports that prerequisite lacks, the
 *                  urgent commit a push would send first (see
 *                  ts_node_push_urgent(), made on the prerequisite) goes
 *                  too, as a second ref, refs/urgent/<this node's id>.
 *   an update      made by an upper node for one lower node: the ref
 *                  refs/heads/main at this node's main; its prerequisites
 *                  what that node is known to hold (its
 *                  refs/submissions/<id> here), or a revision given; none:
 *                  the whole history.
 *
 * Importing takes a bundle the way a push and `merge --submissions`, or a
 * pull, would take the same commits: its objects go to a quarantine, are
 * admitted there (ownership, signatures, hostile input), only then move
 * in, and the commit is merged. A bundle that is damaged, cut short, of
 * another deployment, built on a commit this node lacks, or carrying a ref
 * this node may not take is refused whole: no ref, row or object moves.
 * Importing a bundle twice, or an older one after a newer, finds nothing
 * new. A submission's urgent commit is taken as a push to
 * refs/urgent/<id> is: its shape checked (ts_node_admit_urgent()), then
 * admitted, recorded as refs/urgent/<id> and merged before the
 * submission; an urgent ref of another node, or an urgent commit of any
 * other shape, refuses the whole bundle.
 */

#define TS_BUNDLE_OPTIONS_VERSION 2

typedef struct {
	unsigned int version;   /* TS_BUNDLE_OPTIONS_VERSION */
	const char *for_node;   /* create: an update for this lower node; NULL: a
	                           submission for this node's upper node */
	const char *since;      /* create: a revision the receiver holds, as the
	                           prerequisite instead of what is known; NULL */
	ts_transfer_progress_cb progress;   /* import: progress, or NULL */
	void *payload;          /* passed to progress */
	int compact;            /* create: the compact form, each commit as its changes
	                           (docs/FORMAT.md, "Bundles"), which only tiersync reads;
	                           0: a git bundle. Import reads either. */
} ts_bundle_options;

/* A git bundle of a submission, the prerequisites known here, no progress. */
#define TS_BUNDLE_OPTIONS_INIT { TS_BUNDLE_OPTIONS_VERSION, NULL, NULL, NULL, NULL, 0 }

/* What a bundle holds or held. A plain struct the caller owns. */
typedef struct {
	char ref[256];          /* refs/submissions/<id> or refs/heads/main */
	char commit[41];        /* the commit the ref names */
	char urgent[41];        /* a submission's urgent commit (refs/urgent/<id>),
	                           or "" when it carries none */
	size_t urgent_reports;  /* create: the urgent reports that commit holds */
	char from[128];         /* import: the node it came from (its id), or
	                           "" for an update from above */
	size_t prerequisites;   /* commits it builds on */
	size_t objects;         /* objects its pack holds */
	uint64_t bytes;         /* the file's size */
} ts_bundle_info;

/*
 * Writes a bundle to `path` (replaced when it exists): a submission for
 * this node's upper node, or with opts->for_node an update for that node,
 * which must lie below this one. Only committed history goes. *out says
 * what it holds (may be NULL). `opts` may be NULL.
 *
 * TS_EINVALID for a city's submission (no node above it), a node id that
 * is not one or options of another version; TS_EDENIED for an update for
 * a node not below this one; TS_ENOTFOUND for an unknown `since`.
 */
int ts_bundle_create(ts_bundle_info *out, ts_node *node, const char *path, const ts_bundle_options *opts);

/* What an import did. */
typedef struct {
	ts_bundle_info bundle;
	int nothing_new;             /* 1: this node held the commit already */
	int submission;              /* 1: a lower node's submission; 0: an update from above */
	char head[41];               /* the node's main after the import */
	ts_node_merge_stats merge;   /* what the merge did (zero when nothing new) */
	int urgent_merged;           /* 1: the bundle's urgent commit was merged first */
	ts_node_merge_stats urgent_merge;   /* what that merge did */
} ts_bundle_import_result;

/*
 * Imports the bundle at `path`. On an upper node a submission of an
 * enrolled node below it is admitted as that node's offer, recorded as
 * refs/submissions/<id> and merged as ts_node_merge_submissions() merges
 * one ("merge submission of <id>"), after its urgent commit when it
 * carries one (recorded as refs/urgent/<id>, "merge urgent reports of
 * <id>"); on a lower node an update (refs/heads/main)
 * is admitted as an offer from above, recorded as refs/remotes/upstream/main
 * and merged as a pull does. `author` names who merges (NULL: the node's
 * identity, as in ts_node_merge()). A ref is never moved back to a commit
 * it already holds. *out says what happened (may be NULL). `opts` may be
 * NULL; only its progress is read.
 *
 * TS_ECORRUPT for a damaged or truncated file, TS_ENOTFOUND when it
 * cannot be read, TS_EDENIED for a bundle this node may not take (a ref
 * not its to take, an urgent ref of another node, a node not enrolled, a
 * prerequisite it lacks, commits admission refuses, an urgent commit of
 * another shape); each with nothing written.
 */
int ts_bundle_import(ts_bundle_import_result *out, ts_node *node, const char *path, const char *author,
	const ts_bundle_options *opts);

#ifdef __cplusplus
}
#endif

#endif
