/*
 * Files kept in the history, content-addressed by SHA-256.
 *
 * A file is one git blob at
 *
 *     _tiersync/files/<first two hex digits>/<64 hex digits of its SHA-256>
 *
 * in every tree from the commit that added it on, so it travels with
 * push, fetch, merge and pull exactly as rows do. The engine knows nothing
 * of what a file means; a table column that holds the SHA-256 of a file is
 * declared in the synced table sync_file_columns (table_name, column_name),
 * and verify checks that every such value names a file history holds.
 *
 * Large files never pass through memory whole: put streams the file into
 * a loose object while hashing it (SHA-256 for the name, SHA-1 by libgit2
 * for the blob id), and read streams a loose or packed blob back in chunks,
 * checking its SHA-256 at the end. Trees, merges, diffs and verify handle a
 * file by its blob id and never load it.
 *
 * Durability: put syncs the blob to disk before it returns, so that the
 * database transaction that stages it (ts_files__stage) may reference it;
 * a commit adds the staged files to its tree and journals their (path,
 * blob id), from which a lost tree is rebuilt like any other.
 *
 * Merges take the union of both sides' files: a file is never removed, and
 * the same name always means the same bytes (two different blobs under
 * one name are TS_ECORRUPT).
 */
#ifndef TS_SYNC_FILES_H
#define TS_SYNC_FILES_H

#include <stdint.h>
#include <git2.h>
#include <sqlite3.h>

#include "store.h"
#include "tiersync.h"

/* Where files live in every tree. */
#define TS_FILES_DIR TS_STORE_META_DIR "/files"

/* "_tiersync/files/ab/<64 hex>" + NUL */
#define TS_FILES_PATH_SIZE (sizeof(TS_FILES_DIR) + 3 + 64 + 1)

/* The table that declares which columns hold file hashes. */
#define TS_FILES_COLUMNS_TABLE "sync_file_columns"

/* One file: its name (SHA-256), its blob and its length. */
typedef struct {
	char sha256[65];
	git_oid blob;
	uint64_t size;
} ts_file;

/*
 * Creates the engine's file tables if missing: ts_files_staged (files put
 * and staged, not yet committed) and ts_journal_files (the files each
 * journalled commit added).
 */
int ts_files__setup(sqlite3 *db);

/* Writes the tree path of the file named `sha256` into `out`. */
void ts_files__path(char out[TS_FILES_PATH_SIZE], const char *sha256);

/* 1 if `s` can name a file: exactly 64 lowercase hex digits. */
int ts_files__name_valid(const char *s);

/*
 * Stores the content of the regular file at `path` as a blob of the
 * store, streaming, and syncs it to disk. Fills *out. TS_ENOTFOUND if the
 * file cannot be opened, TS_EINVALID if it is not a regular file, TS_ERROR
 * if it changed size while being read.
 */
int ts_files__put(ts_file *out, ts_store *store, const char *path);

/* Stages a stored file for the next commit. Call inside the write
 * transaction of the rows that refer to it. Staging a file twice is fine. */
int ts_files__stage(sqlite3 *db, const ts_file *file);

/*
 * Finds the file named `sha256` in the tree of the recorded head, or among
 * the staged files. TS_ENOTFOUND when neither has it.
 */
int ts_files__find(ts_file *out, sqlite3 *db, ts_store *store, const char *sha256);

/*
 * Streams the content of `file` to `sink` in chunks (at most 64 KiB each)
 * and checks, at the end, that its length and SHA-256 are the file's.
 * TS_ECORRUPT on a mismatch or a damaged object, naming the file; the sink
 * has then seen bytes that must not be trusted. A non-zero return from
 * `sink` stops and is returned. `sink` may be NULL (check only).
 */
int ts_files__read(ts_store *store, const ts_file *file,
	int (*sink)(const void *data, size_t len, void *payload), void *payload);

/* For history.c: the staged files, in name order. Free *out with free(). */
int ts_files__staged_list(ts_file **out, size_t *n, sqlite3 *db);

/* Forgets the staged files (their commit is recorded). */
int ts_files__unstage(sqlite3 *db);

/* Fills `u` to put the file's blob at its path (a TS_STORE_LINK update);
 * `path` and `file` must outlive the update. */
void ts_files__link(ts_store_update *u, char path[TS_FILES_PATH_SIZE], const ts_file *file);

/* Journals the files commit `seq` of ts_journal added; loads them back. */
int ts_files__journal_add(sqlite3 *db, sqlite3_int64 seq, const ts_file *files, size_t n);
int ts_files__journal_load(ts_file **out, size_t *n, sqlite3 *db, sqlite3_int64 seq);

/* Empties ts_journal_files (with the rest of the journal). */
int ts_files__journal_clear(sqlite3 *db);

/*
 * The files the tree `side` holds and the tree `have` lacks (what a merge
 * adds: the union of files), in path order; free *out with free().
 * TS_ECORRUPT for a path under the files directory of `side` that is not
 * a well-formed file entry, and for one name holding different blobs in
 * the two trees.
 */
int ts_files__missing(ts_file **out, size_t *n, ts_store *store, const git_oid *have,
	const git_oid *side);

/*
 * Checks the files of `tree` and the staged ones: every entry under the
 * files directory is well formed, every blob is there and its content has
 * the SHA-256 its name says (read streaming); and every value of a column
 * declared in sync_file_columns names a file of the tree or a staged one.
 * Calls `cb` for each problem (a non-zero return stops). Sets *problems.
 */
int ts_files__verify(int *problems, sqlite3 *db, ts_store *store, const git_oid *tree,
	int (*cb)(const ts_verify_problem *p, void *payload), void *payload);

/* 1 when `path` (a tree path, a directory ending in '/') is the files
 * directory, which walks over rows must pass by. */
int ts_files__is_dir(const char *path);

/* Makes the file `name` in the folder `dir` durable, as a rename over an
 * old one left it: its bytes, then the folder's entry. */
int ts_files__durable(const char *dir, const char *name);

#endif
