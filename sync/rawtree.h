/*
 * Trees as git stores them: entries of "<mode> <name>\0<20-byte id>",
 * read without libgit2's parsed objects, and a small cache of the ones a
 * store read or wrote last. A one-row commit rebuilds the trees on its
 * row's path from the head's; the upper ones are those the commit before
 * it wrote, so most come from the cache instead of a search through the
 * packs.
 */
#ifndef TS_SYNC_RAWTREE_H
#define TS_SYNC_RAWTREE_H

#include <stddef.h>
#include <git2.h>

/* One entry of a raw tree; `name` points into the tree's bytes. */
typedef struct {
	const char *name;
	size_t len;
	int is_tree;          /* mode 40000 */
	unsigned mode;        /* the mode, as git_tree_entry_filemode_raw() gives it */
	const unsigned char *id;   /* GIT_OID_RAWSZ bytes */
} ts_rawtree_entry;

/*
 * The entry of `raw` at *pos, moving *pos past it: 1, 0 at the end, or
 * TS_ECORRUPT for bytes that are no tree entry.
 */
int ts_rawtree__next(ts_rawtree_entry *out, const unsigned char *raw, size_t len, size_t *pos);

/* Raw trees by id, at most 128 of them (a node's fan-out keeps its trees
 * small: a few megabytes at the very most). */
typedef struct ts_rawtree_cache ts_rawtree_cache;

ts_rawtree_cache *ts_rawtree__cache_new(void);
void ts_rawtree__cache_free(ts_rawtree_cache *c);

/*
 * The bytes of tree `id`: from the cache, else read from `odb` and kept.
 * Valid until the next call on the cache. TS_ECORRUPT when `odb` lacks
 * it or it is no tree.
 */
int ts_rawtree__get(const unsigned char **raw, size_t *len, ts_rawtree_cache *c, git_odb *odb,
	const git_oid *id);

/* Keeps a tree just written (a failure to keep it is no error). */
void ts_rawtree__keep(ts_rawtree_cache *c, const git_oid *id, const void *raw, size_t len);

/*
 * The id of the entry at `path` ("a/b/c") under tree `root`, and its mode
 * when `mode` is not NULL: 0, or TS_ENOTFOUND when there is none.
 */
int ts_rawtree__entry_at(git_oid *out, unsigned *mode, ts_rawtree_cache *c, git_odb *odb,
	const git_oid *root, const char *path);

#endif
