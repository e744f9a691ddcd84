/*
 * An object batch: a libgit2 object-database backend that keeps newly
 * written objects in memory until they are flushed, all at once, as one
 * pack file. A commit then costs a handful of file operations instead of
 * one file per blob and tree.
 */
#ifndef TS_SYNC_BATCH_H
#define TS_SYNC_BATCH_H

#include <git2.h>

typedef struct ts_batch ts_batch;

/* Adds a batch to `odb`, ahead of its other backends; the odb owns it.
 * Its packs go to `pack_dir` (the repository's objects/pack). */
int ts_batch__attach(ts_batch **out, git_odb *odb, const char *pack_dir);

/*
 * The bytes of objects a batch keeps in memory: past them,
 * ts_batch__put() writes what waits as a pack of its own and goes on, so a
 * commit of any size holds about this much. The packs of one commit are
 * combined later like any others (ts_store__maintain()).
 */
#define TS_BATCH_BYTES (16 * 1024 * 1024)

/*
 * Adds an object to the batch and writes its id to `out`, without asking the
 * other backends whether they have it (a duplicate in a pack is harmless;
 * the question costs a directory scan per new object).
 */
int ts_batch__put(ts_batch *batch, git_oid *out, git_object_t type, const void *data, size_t len);

/* Objects waiting to be flushed. */
size_t ts_batch__count(const ts_batch *batch);

/* With `on`, ts_batch__put() skips an object the database already holds
 * (one look-up per object, worth it when most are known: a merge taking
 * the other side's rows). */
void ts_batch__reuse(ts_batch *batch, int on);

/* Writes the waiting objects as one pack with its index, empties the
 * batch and refreshes its odb. No-op when empty. */
int ts_batch__flush(ts_batch *batch);

/*
 * The packs ts_batch__flush() wrote ("pack-<id>", oldest first) since the
 * last ts_batch__forget_packs(): none of them synced. A flush that cannot
 * note its pack (no memory) forgets them all: they are then left to the
 * next sync.
 */
size_t ts_batch__packs(const ts_batch *batch, char *const **names);
void ts_batch__forget_packs(ts_batch *batch);

/* Forgets the waiting objects (nothing more is written; what a full batch
 * wrote already stays, unreferenced, as any object no ref reaches). */
void ts_batch__discard(ts_batch *batch);

#endif
