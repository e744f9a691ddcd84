/*
 * The history store: a bare git repository holding one blob per row at
 * the paths of rowcodec.h, one tree per state, one commit per change.
 */
#ifndef TS_SYNC_STORE_H
#define TS_SYNC_STORE_H

#include <stdint.h>
#include <git2.h>

#include "buf.h"

typedef struct ts_store ts_store;

/* The branch that holds a node's state. */
#define TS_STORE_MAIN "refs/heads/main"

/* Where engine metadata lives in every tree. */
#define TS_STORE_META_DIR "_tiersync"
#define TS_STORE_SCHEMA_PATH "_tiersync/schema-version"

/* Opens (or with `create`, creates) the bare repository at `gitdir`. */
int ts_store__open(ts_store **out, const char *gitdir, int create);
void ts_store__free(ts_store *store);

git_repository *ts_store__repo(ts_store *store);

/* One change to a tree: put `data` at `path`, or remove `path` when data is NULL.
 * With `len` TS_STORE_LINK, `data` points to the git_oid of a blob already in
 * the store, which goes at `path` unread (files.h: large files); with
 * TS_STORE_LINK_TREE, of a tree the store holds, put whole at `path`. */
typedef struct {
	const char *path;
	const char *data;
	size_t len;
} ts_store_update;

#define TS_STORE_LINK ((size_t)-1)
#define TS_STORE_LINK_TREE ((size_t)-2)

/* Makes room in a growing array of updates for one more after the first `n`. */
int ts_store__update_reserve(ts_store_update **v, size_t n, size_t *alloc);

/*
 * Writes the blobs of `updates` and the trees above them, starting from
 * `base` (NULL for the empty tree). Cost follows the number of updates.
 * The updates array is sorted in place.
 */
int ts_store__tree_update(git_oid *out, ts_store *store, const git_oid *base,
	ts_store_update *updates, size_t n);

/*
 * New objects wait in memory until ts_store__flush() writes them as one
 * pack (past TS_BATCH_BYTES they go out on their own, a pack at a time);
 * ts_store__discard() drops those still waiting (after a failed commit).
 * Reads see waiting objects as if they were written.
 */
int ts_store__flush(ts_store *store);
void ts_store__discard(ts_store *store);

/*
 * A commit published later: its objects (and those of the commits deferred
 * before it) stay waiting in the batch, and TS_STORE_MAIN stays where it
 * is on disk, until ts_store__publish(). Meanwhile this store's reads see
 * the objects and ts_store__ref_get() of TS_STORE_MAIN gives `head`; other
 * processes see the ref as it was (their database's journal lets them
 * write the objects). ts_store__discard() keeps what is deferred.
 */
void ts_store__defer(ts_store *store, const git_oid *head);

/* Whether history may defer its commits (off when the store is opened);
 * turning it off publishes what is deferred. */
int ts_store__defer_commits(ts_store *store, int on);
int ts_store__defers_commits(const ts_store *store);

/*
 * Writes what waits as one pack and moves TS_STORE_MAIN to the deferred
 * head, unless another writer has moved it since to a commit that is not
 * among the deferred head's ancestors (a later head, which holds this
 * one). Takes the store's lock if it is not held. 0 at once when nothing
 * is deferred.
 */
int ts_store__publish(ts_store *store);

/* With `on`, objects the repository already holds are not written again
 * (a merge, whose result is mostly rows the other side brought). */
void ts_store__reuse_objects(ts_store *store, int on);

/* Who made a change: a real name and the node where it was recorded. */
typedef struct {
	const char *name;
	const char *node;    /* written as the e-mail part: "name <node>" */
	int64_t time;        /* seconds since the epoch */
	int offset;          /* minutes east of UTC */
} ts_store_who;

/*
 * Creates a commit object. Its exact bytes are appended to `raw` (when not
 * NULL) so that it can be written again identically after a power loss.
 */
int ts_store__commit(git_oid *out, ts_buf *raw, ts_store *store, const git_oid *tree,
	const git_oid *parents, size_t nparents, const ts_store_who *author,
	const ts_store_who *committer, const char *message);

/*
 * Signs every commit ts_store__commit() makes from now on with `key` (not
 * owned; NULL stops signing): the signed bytes are what is written and
 * what `raw` receives (sshsig.h).
 */
typedef struct ts_sshsig_key ts_sshsig_key;
void ts_store__set_signer(ts_store *store, const ts_sshsig_key *key);

/*
 * Calls `fn` each time ts_store__ref_set() has moved TS_STORE_MAIN (not on
 * a repair's ts_store__ref_reset()); NULL removes it. Its failure does
 * not undo the move and is not returned: it keeps files derived from the
 * head up to date.
 */
void ts_store__on_head(ts_store *store, void (*fn)(void *payload), void *payload);

/*
 * A blob written as it comes, in bounded memory: a loose object of the
 * store (zlib level 1), for a file too large to hold whole (an evidence
 * file taken in, or arriving). `size` is the blob's exact size;
 * ts_store__blob_finish() writes its id and frees the writer, and
 * ts_store__blob_free() drops one not finished (NULL-safe).
 */
typedef struct ts_store_blob_writer ts_store_blob_writer;
int ts_store__blob_open(ts_store_blob_writer **out, ts_store *store, uint64_t size);
int ts_store__blob_write(ts_store_blob_writer *w, const void *data, size_t len);
int ts_store__blob_finish(git_oid *out, ts_store_blob_writer *w);
void ts_store__blob_free(ts_store_blob_writer *w);
/* Writes a blob (to the batch, as ts_store__tree_update() does). */
int ts_store__put_blob(git_oid *out, ts_store *store, const void *data, size_t len);
/* Writes raw commit bytes (from ts_store__commit) as a commit object. */
int ts_store__write_raw_commit(git_oid *out, ts_store *store, const char *raw, size_t len);

/* The commit `ref` points at (TS_STORE_MAIN: as this store sees it, its
 * deferred head if any); TS_ENOTFOUND when it does not exist. */
int ts_store__ref_get(git_oid *out, ts_store *store, const char *ref);

/* Points `ref` at `commit` (forced), with a reflog message. Moving
 * TS_STORE_MAIN ends a deferral: what waits must have been written. */
int ts_store__ref_set(ts_store *store, const char *ref, const git_oid *commit, const char *why);

/* 1 if the object exists, 0 if not. */
int ts_store__has(ts_store *store, const git_oid *id);

/* 1 if the object can be read back whole and hashes to its id; known
 * without reading again for the last commit this store wrote or found so. */
int ts_store__readable(ts_store *store, const git_oid *id);

/* The id of the entry at `path` ("dir/name") under `tree`: 0, or
 * TS_ENOTFOUND when there is none (reads through the store's tree cache). */
int ts_store__entry_at(git_oid *out, ts_store *store, const git_oid *tree, const char *path);

/* The tree of a commit (of the last one this store made: from memory, unread). */
int ts_store__commit_tree(git_oid *out, ts_store *store, const git_oid *commit);

/*
 * Makes written objects durable (fsync of every file under objects/ and of
 * the directories naming them), so that records kept to rewrite them can be
 * dropped.
 */
int ts_store__sync(ts_store *store);

/*
 * The packs this store wrote ("pack-<id>", oldest first) since the last
 * ts_store__flushed_forget() or ts_store__sync(): none of them synced.
 */
size_t ts_store__flushed(ts_store *store, char *const **names);
void ts_store__flushed_forget(ts_store *store);

/*
 * Combines the packs `names` of the store into one, not synced either, and
 * deletes them, skipping any already gone; names the new one in `out`
 * ("" when fewer than two were there). For a caller whose journal can write
 * every object they hold again (history.h), so that a power cut that loses
 * the new pack loses nothing the journal cannot restore.
 */
int ts_store__combine_unsynced(char out[64], ts_store *store, char *const *names, size_t n);

/*
 * One writer at a time: commits and repairs hold an exclusive lock on
 * history.git/tiersync.lock from their first object to the ref. Readers
 * need no lock. ts_store__trylock() takes it only if no one holds it:
 * 1 taken, 0 held by another writer.
 */
int ts_store__lock(ts_store *store);
int ts_store__trylock(ts_store *store);
void ts_store__unlock(ts_store *store);

/*
 * A writer killed while it holds a ref's lock file (REF.lock) leaves it
 * behind, and every later write of that ref would fail on it. So the
 * holder of the store lock names the ref it is about to write, in
 * tiersync.lock (ts_store__ref_intent(), one ref; ts_store__ref_set() does
 * it itself), and says when the write is over (ts_store__ref_intent_done());
 * taking the lock removes the lock files of the refs a dead holder named.
 * A push into another node's history on this machine names the refs it
 * moves there, holding that node's lock. Without the lock, nothing is named.
 */
int ts_store__ref_intent(ts_store *store, const char *ref);
void ts_store__ref_intent_done(ts_store *store);

/*
 * What a killed writer leaves behind, removed (call with the lock held):
 * a stale refs/heads/main.lock, and temporary pack files and packs whose
 * index was never written once they are older than TS_STORE_DEBRIS_AGE
 * seconds (younger ones may belong to a push stock git is receiving).
 * Such files are never read, so leaving them a while is harmless.
 */
#define TS_STORE_DEBRIS_AGE 3600
void ts_store__clean_debris(ts_store *store);

/*
 * Removes the packs written after `since_ns` (nanoseconds since the epoch,
 * as a file's mtime) whose checksums do not hold: what a power loss leaves
 * of a pack that was never synced. Sets *dropped to how many went.
 *
 * Each pack and index is read once, here. With `whole` not NULL, the
 * indexes of the packs found whole (those of at most TS_STORE_KEEP_INDEX
 * bytes) are kept in *whole, which the caller frees with
 * ts_store__whole_free(): ts_store__whole_has() then says whether an
 * object is in one of them, which holds it exactly as written (every
 * byte of the pack and its index checked), without libgit2 opening the
 * same files again to read it.
 */
typedef struct ts_store_whole ts_store_whole;
#define TS_STORE_KEEP_INDEX (4 << 20)
int ts_store__drop_torn_packs(ts_store *store, int64_t since_ns, int *dropped, ts_store_whole **whole);
int ts_store__whole_has(const ts_store_whole *whole, const git_oid *id);
void ts_store__whole_free(ts_store_whole *whole);

/* Points `ref` at `commit` even if the ref file is damaged (lock held). */
int ts_store__ref_reset(ts_store *store, const char *ref, const git_oid *commit);

/* The current time in nanoseconds since the epoch, comparable with mtimes. */
int64_t ts_store__now_ns(void);

/*
 * Keeps the number of packs small: once TS_STORE_PACK_LIMIT packs have
 * gathered (one per commit, several per bulk commit or fetch), combines
 * the smallest of them geometrically (each next pack while it is at most
 * twice the size taken so far) by copying their entries
 * (ts_pack__combine(): nothing is compressed again), makes the result
 * durable and deletes the parts. Every byte is copied a logarithmic number
 * of times. Packs of TS_STORE_BULK_PACK bytes or more take part only with
 * `bulk` (after a bulk commit, whose own cost a copy of tens of megabytes
 * matches; a one-row commit or a merge would stall on it), and the result
 * stays within TS_STORE_COMBINED_MAX: a node built of a million cases keeps
 * a handful of packs, where a lookup that misses searches each index in
 * turn.
 */
#define TS_STORE_PACK_LIMIT 16
/* A pack this large is a bulk commit's or a fetch's (a full batch of rows,
 * most of them deltas, deflates to under half of TS_BATCH_BYTES). */
#define TS_STORE_BULK_PACK (TS_BATCH_BYTES / 4)
/* The largest pack combining makes: combining holds the parts' indexes in
 * memory (about 50 bytes an object; a pack this size holds some 250,000). */
#define TS_STORE_COMBINED_MAX (96 * 1024 * 1024)
int ts_store__maintain(ts_store *store, int bulk);

/*
 * Lets go of every pack the store has read: libgit2 keeps each one mapped,
 * and the pages read stay counted against the process, while its
 * repository is open. A bulk commit reads the trees the previous one wrote
 * and writes packs of its own; a node built by many of them would keep
 * every earlier commit's trees mapped. What is deferred is published
 * first; nothing else may wait in the batch, and
 * no object, tree or repository pointer of the store may be held across
 * it (ts_store__repo() is a new handle after). On a failure, reading fails
 * until the store is opened again; nothing is lost.
 */
int ts_store__unmap(ts_store *store);

/* Converts the last libgit2 error into ts_error_set(code, "<what>: <git message>"). */
int ts_store__git_error(int code, const char *what);

#endif
