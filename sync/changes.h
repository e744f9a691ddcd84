/*
 * The changes stream (sync/changes.c): history sent as what each commit
 * changed, not as packs of whole blobs and trees. docs/FORMAT.md
 * ("Changes stream") has the exact format.
 *
 * Per commit the sender writes the commit's own bytes (header, message,
 * signature) and the entries of its tree that differ from its first
 * parent's: a removed path, a whole blob, or, for a row that was there
 * before, only the columns that changed. The receiver rebuilds the blobs
 * (the canonical row encoding) and the trees (the deterministic tree
 * builder, ts_store__tree_update()) on top of the parent it holds, writes
 * the commit's bytes, and checks that the rebuilt tree is the one the
 * commit names and the commit's id the one the sender named. The ids,
 * signatures and history are the ones the sender holds, byte for byte.
 *
 * The records go through one zlib stream, flushed after each commit, so a
 * receiver holds every commit that arrived whole when the link is cut.
 *
 * Generic: it knows commits, trees and row blobs, nothing of nodes.
 */
#ifndef TS_SYNC_CHANGES_H
#define TS_SYNC_CHANGES_H

#include <stddef.h>
#include <stdint.h>
#include <git2.h>
#include <zlib.h>

#include "store.h"
#include "tiersync.h"

/* The first line of a stream, before its zlib data. */
#define TS_CHANGES_MAGIC "tiersync-changes 1\n"

/* Writes `len` bytes of the stream to where it goes; < 0 stops the send. */
typedef int (*ts_changes__write_fn)(const void *data, size_t len, void *payload);

/* Reads at most `size` bytes; *got = 0 at the end of the input. < 0: failed. */
typedef int (*ts_changes__read_fn)(void *data, size_t size, size_t *got, void *payload);

typedef struct {
	size_t commits;       /* commits sent or taken whole */
	size_t entries;       /* their changed tree entries (paths gone, blobs, rows) */
	size_t total;         /* commits to send, when known, else 0 */
	uint64_t bytes;       /* stream bytes written or read */
	git_oid last;         /* the last commit sent or taken whole */
	int cut;              /* receive: the input ended before the stream's end */
} ts_changes__stats;

/* What a transfer's callers report of it (commits, objects as commits and
 * entries, bytes), into `out`. */
void ts_changes__transfer_stats(ts_transfer_stats *out, const ts_changes__stats *st);

/* 40 lowercase hex digits (exactly `len` == 40 of them) into *out; -1 if not. */
int ts_changes__parse_id(git_oid *out, const char *s, size_t len);

/* Called after each whole commit, sent or taken. */
typedef void (*ts_changes__progress_fn)(const ts_changes__stats *stats, void *payload);

/*
 * Sends the commits reachable from the `ntips` commits `tips` and from none
 * of the `nhaves` commits `haves` (ids `repo` does not hold are passed by),
 * parents before children, as a changes stream: TS_CHANGES_MAGIC, then the
 * records, deflated at zlib's `level` (TS_CHANGES_LEVEL where the bytes
 * travel; Z_BEST_SPEED where they cost nothing, between two ends on one
 * machine: about 40 % more bytes, the send in half the time). *stats (may
 * be NULL) says what was sent.
 */
#define TS_CHANGES_LEVEL Z_DEFAULT_COMPRESSION

int ts_changes__send(ts_changes__stats *stats, git_repository *repo, const git_oid *tips, size_t ntips,
	const git_oid *haves, size_t nhaves, int level, ts_changes__write_fn write, void *payload,
	ts_changes__progress_fn progress, void *progress_payload);

/*
 * Takes a changes stream into `store` (whose repository must hold the first
 * parent of the first commit sent, and of every commit whose parent was not
 * sent): each commit rebuilt and checked as above, its objects written to
 * the store's batch and flushed as packs. A commit that does not rebuild to
 * its id, or anything malformed, is TS_ECORRUPT naming it, and the caller
 * must throw away everything the store received. An input that ends before
 * the stream's end is TS_ENET with stats->cut set: the commits that arrived
 * whole are flushed (stats->commits of them, the last stats->last), and a
 * later transfer can go on from there.
 */
int ts_changes__receive(ts_changes__stats *stats, ts_store *store,
	ts_changes__read_fn read, void *payload, ts_changes__progress_fn progress, void *progress_payload);

#endif
