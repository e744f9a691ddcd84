/*
 * A quarantine for incoming objects (sync/quarantine.c): they land in a
 * bare repository inside the receiving repository's git directory, which
 * reads the receiver's objects through objects/info/alternates, are
 * checked there, and move in only when admitted. Used by a fetch
 * (node/remote_node.c) and a bundle import (node/bundle_node.c).
 */
#ifndef TS_SYNC_QUARANTINE_H
#define TS_SYNC_QUARANTINE_H

#include <git2.h>

typedef struct {
	char *dir;             /* with a trailing '/' */
	int lock_fd;           /* owner.lock, held while the quarantine is open */
	git_repository *repo;  /* the quarantine, reading the receiver's objects too */
} ts_quarantine;

#define TS_QUARANTINE_INIT { NULL, -1, NULL }

/*
 * Makes a quarantine in `repo`'s git directory (first removing those of
 * owners no longer running), its refs seeded with `repo`'s main and
 * `dst_ref` when `repo` has them (NULL: main alone), so that a fetch into
 * it asks only for the rest.
 */
int ts_quarantine__open(ts_quarantine *q, git_repository *repo, const char *dst_ref);

/*
 * A quarantine that outlives a cut transfer: history.git/tiersync-kept-NAME
 * (NAME names the transfer: the remote fetched from, the node pushing),
 * made when missing, reused with what an earlier transfer left in it.
 * TS_EBUSY while another transfer of the same name holds it.
 * ts_quarantine__keep() records `tip`, the last commit that came whole, and
 * leaves it for the next transfer (ts_quarantine__kept_tip() reads it back,
 * TS_ENOTFOUND when none); ts_quarantine__close() removes it as any other.
 */
int ts_quarantine__open_kept(ts_quarantine *q, git_repository *repo, const char *name);
int ts_quarantine__kept_tip(git_oid *out, ts_quarantine *q);
int ts_quarantine__keep(ts_quarantine *q, const git_oid *tip);

/*
 * Ends a transfer into a kept quarantine that failed with `error`: when
 * the link failed (TS_ENET), the quarantine is kept with `last` (the last
 * of the `commits` that came whole; NULL when none did) or else the tip an
 * earlier transfer kept, and the error's message says so, ending with
 * `next` ("the next fetch goes on from there"); on any other error, or
 * with nothing whole to keep, it is removed. Returns `error`.
 */
int ts_quarantine__end_cut(ts_quarantine *q, int error, const git_oid *last, size_t commits, const char *next);

/* Moves the objects of the quarantine into the git directory `gitdir`
 * (with its trailing '/'): packs (each .pack before its .idx, so that no
 * reader sees an index without its pack) and loose objects. Call with the
 * receiver's store lock held, and make them durable before a ref names
 * them. */
int ts_quarantine__move(ts_quarantine *q, const char *gitdir);

/* Removes the quarantine and what is left in it; leaves *q reusable
 * (TS_QUARANTINE_INIT). NULL-safe on a quarantine never opened. */
void ts_quarantine__close(ts_quarantine *q);

#endif
