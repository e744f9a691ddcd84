/*
 * Git bundles, version 2 (sync/bundle.c): a file that carries history
 * where no link does, in the format stock git reads (`git bundle verify`,
 * `git bundle list-heads`, `git fetch FILE`):
 *
 *   # v2 git bundle\n
 *   -<oid>[ <comment>]\n     a prerequisite: a commit the receiver must hold
 *   <oid> <refname>\n        a ref the bundle carries
 *   \n
 *   <packfile>               the objects reachable from the refs and not
 *                            from the prerequisites
 *
 * libgit2 has no bundles: the header is written and parsed here, the pack
 * made by git_packbuilder and taken in by git_odb_write_pack (its
 * indexer checks every object and the pack's trailing checksum).
 *
 * Generic: it knows repositories, refs and commits, nothing of nodes.
 */
#ifndef TS_SYNC_BUNDLE_H
#define TS_SYNC_BUNDLE_H

#include <stddef.h>
#include <stdint.h>
#include <git2.h>

#include "tiersync.h"

#define TS_BUNDLE_SIGNATURE "# v2 git bundle\n"
/*
 * The compact form: the same header under its own first line, then a
 * changes stream (changes.h) of the commits instead of a pack: each commit
 * as its changes, rebuilt and checked to its id when taken in. Only
 * tiersync reads it.
 */
#define TS_BUNDLE_CHANGES_SIGNATURE "# tiersync changes bundle 1\n"

/* The most a header may hold before it is taken for something else. */
#define TS_BUNDLE_HEADER_MAX (1024 * 1024)

typedef struct {
	char *name;
	git_oid id;
} ts_bundle__ref;

/* A bundle's header as read. Release with ts_bundle__header_dispose(). */
typedef struct {
	git_oid *prerequisites;
	size_t nprerequisites;
	ts_bundle__ref *refs;
	size_t nrefs;
	uint64_t pack_offset;    /* where the pack (or changes stream) begins in the file */
	uint64_t size;           /* the file's size */
	int changes;             /* 1: the compact form, a changes stream after the header */
} ts_bundle__header;

/*
 * Writes `path` (replaced when it exists; written aside and renamed, made
 * durable) with the `nrefs` refs `refs` (each a name and the commit it
 * names, in that order in the header), the prerequisites `prereqs`
 * (commits of `repo`) and a pack of every object reachable from the refs'
 * commits and not from the prerequisites; with `changes`, the compact form
 * (those commits as a changes stream). *objects, *bytes (may be NULL) say
 * what it holds (the compact form: commits and the tree entries they
 * change). TS_ENOTFOUND when a ref's commit or a prerequisite is not in
 * `repo`.
 */
int ts_bundle__write(size_t *objects, uint64_t *bytes, const char *path, git_repository *repo,
	const ts_bundle__ref *refs, size_t nrefs, const git_oid *prereqs, size_t nprereqs, int changes);

/*
 * Reads and checks the header of the bundle at `path`: the v2 signature,
 * each line well formed (lowercase hex ids, valid ref names), at least
 * one ref, a pack after the blank line. TS_ENOTFOUND when the file
 * cannot be opened, TS_ECORRUPT for anything else wrong with it.
 */
int ts_bundle__read_header(ts_bundle__header *out, const char *path);
void ts_bundle__header_dispose(ts_bundle__header *h);

/*
 * Takes the pack of the bundle at `path` into `repo`'s objects (a
 * quarantine: sync/quarantine.h) through its indexer, which refuses a
 * damaged or truncated pack (TS_ECORRUPT) and fixes a thin one against
 * the objects `repo` already reads. Data after the pack is refused too.
 * The compact form's commits are rebuilt there from their changes, each
 * checked against its id; one that is not, or a stream cut short, is
 * TS_ECORRUPT.
 * *objects: how many objects the pack held. `progress` (may be NULL) as
 * in a transfer.
 */
int ts_bundle__unpack(size_t *objects, git_repository *repo, const char *path, const ts_bundle__header *h,
	ts_transfer_progress_cb progress, void *payload);

#endif
