/*
 * History: staged writes -> one commit, with crash and power-loss safety.
 *
 * Engine tables (never synced):
 *
 *   ts_meta(key, value)             "head" = the commit the data equals (meta.h)
 *   ts_journal(seq, commit_id, raw) commits whose objects may not be
 *                                   durable yet, with their exact bytes
 *   ts_journal_rows(seq, path, data) the row blobs each of them wrote
 *                                   (data NULL for a removed row)
 *   ts_journal_packs(name)          the packs those commits were written
 *                                   in, unsynced ("pack-<id>")
 *
 * A journal entry plus its parent's tree is enough to write the commit's
 * objects again, byte for byte: trees are a function of their entries and
 * the commit's bytes are kept whole.
 */
#include "history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "conflicts.h"
#include "error.h"
#include "files.h"
#include "meta.h"
#include "rowcodec.h"
#include "statements.h"
#include "tiersync.h"

int ts_history__setup(sqlite3 *db)
{
	static const char sql[] =
		"CREATE TABLE IF NOT EXISTS ts_journal ("
		"  seq INTEGER PRIMARY KEY, commit_id TEXT NOT NULL UNIQUE, raw BLOB NOT NULL);"
		"CREATE TABLE IF NOT EXISTS ts_journal_rows ("
		"  seq INTEGER NOT NULL, path TEXT NOT NULL, data BLOB,"
		"  PRIMARY KEY (seq, path)) WITHOUT ROWID;"
		"CREATE TABLE IF NOT EXISTS ts_journal_packs (name TEXT PRIMARY KEY) WITHOUT ROWID;";
	int error;
	if ((error = ts_meta__setup(db)) < 0)
		return error;
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return ts_sqlite__error(db, "creating engine tables");
	if ((error = ts_capture__setup(db)) < 0 || (error = ts_files__setup(db)) < 0)
		return error;
	return ts_conflicts__setup(db);
}

void ts_history__schema_blob(ts_buf *out, sqlite3 *db)
{
	sqlite3_int64 version = ts_meta__pragma(db, "PRAGMA user_version");

	ts_buf__clear(out);
	ts_buf__printf(out, "%lld\n", version < 0 ? 0LL : (long long)version);
}

/* The row changes of a commit, collected from the staged changesets. */
typedef struct {
	char *path;
	ts_table *table;
	ts_value *key;
	char *data;       /* the row blob, or NULL when removed */
	size_t len;
} change;

typedef struct {
	change *v;
	size_t n, alloc;
	ts_tables *tables;
	ts_buf path;
} changes;

static void changes_dispose(changes *c)
{
	size_t i;
	int k;
	for (i = 0; i < c->n; i++) {
		for (k = 0; k < c->v[i].table->npk; k++)
			ts_value__dispose(&c->v[i].key[k]);
		free(c->v[i].key);
		free(c->v[i].path);
		free(c->v[i].data);
	}
	free(c->v);
	ts_buf__dispose(&c->path);
}

/* Adds the key of the changeset's current operation. */
static int collect_op(sqlite3_changeset_iter *it, void *payload)
{
	changes *c = payload;
	sqlite3_value *vals[64];
	int op, k, error;
	ts_table *t;
	change *ch;

	if ((error = ts_staged__op_key(&t, &op, vals, &c->path, c->tables, it)) < 0)
		return error;
	if (c->n == c->alloc) {
		size_t na = c->alloc ? c->alloc * 2 : 64;
		change *nv = realloc(c->v, na * sizeof(*nv));
		if (!nv)
			return ts_error_set(TS_ERROR, "out of memory");
		c->v = nv;
		c->alloc = na;
	}
	ch = &c->v[c->n];
	memset(ch, 0, sizeof(*ch));
	ch->table = t;
	if (!(ch->path = strdup(ts_buf__cstr(&c->path))) || !(ch->key = calloc(t->npk, sizeof(ts_value)))) {
		free(ch->path);
		return ts_error_set(TS_ERROR, "out of memory");
	}
	c->n++;
	for (k = 0; k < t->npk; k++)
		if ((error = ts_value__from_sqlite(&ch->key[k], vals[k])) < 0)
			return error;
	return 0;
}

static int change_cmp(const void *a, const void *b)
{
	return strcmp(((const change *)a)->path, ((const change *)b)->path);
}

/* Sorts by path and drops repeated keys. */
static int sort_changes(changes *c)
{
	size_t i, j = 0;
	int k;

	if (c->n == 0)
		return 0;
	qsort(c->v, c->n, sizeof(*c->v), change_cmp);
	for (i = 0; i < c->n; i++) {
		if (j > 0 && !strcmp(c->v[j - 1].path, c->v[i].path)) {
			for (k = 0; k < c->v[i].table->npk; k++)
				ts_value__dispose(&c->v[i].key[k]);
			free(c->v[i].key);
			free(c->v[i].path);
			continue;
		}
		c->v[j++] = c->v[i];
	}
	c->n = j;
	return 0;
}

/* Reads the current blob of changes [from, to) (none for a row removed). */
static int read_blobs(changes *c, size_t from, size_t to, sqlite3 *db)
{
	ts_buf blob = TS_BUF_INIT;
	size_t i;
	int found, error = 0;

	for (i = from; i < to; i++) {
		ts_buf__clear(&blob);
		if ((found = ts_table__read_values(&blob, db, c->v[i].table, c->v[i].key)) < 0) {
			error = found;
			break;
		}
		if (found) {
			c->v[i].len = blob.size;
			c->v[i].data = ts_buf__detach(&blob);
		}
	}
	ts_buf__dispose(&blob);
	return error;
}

static int exec(sqlite3 *db, const char *sql)
{
	if (ts_statements__exec(db, sql) != SQLITE_OK)
		return ts_sqlite__error(db, "%s", sql);
	return 0;
}

/* Records a journal entry for a commit whose objects are not yet durable. */
static int journal_add(sqlite3 *db, const git_oid *commit, const ts_buf *raw,
	const ts_store_update *updates, size_t n, const ts_file *files, size_t nfiles)
{
	sqlite3_stmt *ins = NULL, *row = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	sqlite3_int64 seq;
	size_t i;
	int error = 0;

	git_oid_tostr(hex, sizeof(hex), commit);
	if (ts_statements__prepare(db, "INSERT INTO ts_journal (commit_id, raw) VALUES (?1, ?2)", &ins) != SQLITE_OK ||
	    ts_statements__prepare(db, "INSERT INTO ts_journal_rows (seq, path, data) VALUES (?1, ?2, ?3)", &row) != SQLITE_OK) {
		error = ts_sqlite__error(db, "writing the journal");
		goto done;
	}
	sqlite3_bind_text(ins, 1, hex, -1, SQLITE_STATIC);
	sqlite3_bind_blob(ins, 2, raw->ptr, (int)raw->size, SQLITE_STATIC);
	if (sqlite3_step(ins) != SQLITE_DONE) {
		error = ts_sqlite__error(db, "writing the journal");
		goto done;
	}
	seq = sqlite3_last_insert_rowid(db);
	for (i = 0; i < n; i++) {
		if (updates[i].len == TS_STORE_LINK)
			continue;   /* a file: journalled by its blob id below */
		sqlite3_bind_int64(row, 1, seq);
		sqlite3_bind_text(row, 2, updates[i].path, -1, SQLITE_STATIC);
		if (updates[i].data)
			sqlite3_bind_blob(row, 3, updates[i].data, (int)updates[i].len, SQLITE_STATIC);
		else
			sqlite3_bind_null(row, 3);
		if (sqlite3_step(row) != SQLITE_DONE) {
			error = ts_sqlite__error(db, "writing the journal");
			goto done;
		}
		sqlite3_reset(row);
	}
	error = ts_files__journal_add(db, seq, files, nfiles);
done:
	ts_statements__done(ins);
	ts_statements__done(row);
	return error;
}

/* Empties the journal: its commits' objects are durable. */
static int journal_clear(sqlite3 *db)
{
	int error;
	if ((error = exec(db, "DELETE FROM ts_journal")) < 0 ||
	    (error = exec(db, "DELETE FROM ts_journal_rows")) < 0 ||
	    (error = exec(db, "DELETE FROM ts_journal_packs")) < 0)
		return error;
	return ts_files__journal_clear(db);
}

/* The commits the journal holds, and the rows they wrote (counted: a
 * checkpoint empties the journal long before counting it costs much). */
static int journal_size(sqlite3 *db, int *commits, sqlite3_int64 *rows)
{
	sqlite3_stmt *st = NULL;
	int error = 0;

	if (ts_statements__prepare(db, "SELECT (SELECT count(*) FROM ts_journal), "
			"(SELECT count(*) FROM ts_journal_rows)", &st) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
		error = ts_sqlite__error(db, "reading the journal's size");
	else {
		*commits = sqlite3_column_int(st, 0);
		*rows = sqlite3_column_int64(st, 1);
	}
	ts_statements__done(st);
	return error;
}

/* Names packs ("pack-<id>") as written for the journal's commits. */
static int journal_packs_insert(sqlite3 *db, char *const *names, size_t n)
{
	sqlite3_stmt *ins = NULL;
	size_t i;
	int error = 0;

	if (n && ts_statements__prepare(db, "INSERT OR IGNORE INTO ts_journal_packs (name) VALUES (?1)", &ins) != SQLITE_OK)
		return ts_sqlite__error(db, "writing the journal");
	for (i = 0; i < n && error == 0; i++) {
		sqlite3_bind_text(ins, 1, names[i], -1, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			error = ts_sqlite__error(db, "writing the journal");
		sqlite3_reset(ins);
	}
	ts_statements__done(ins);
	return error;
}

/* Records the packs this commit was written in (ts_store__flushed()). */
static int journal_packs_add(sqlite3 *db, ts_store *store)
{
	char *const *names;
	size_t n = ts_store__flushed(store, &names);
	int error = journal_packs_insert(db, names, n);

	ts_store__flushed_forget(store);
	return error;
}

/*
 * Combines the packs the journal's commits were written in into one,
 * without a sync: a power cut that loses it loses only what the journal
 * writes again, as it would have lost those packs. Any process's commits
 * count (the table is the database's), and a checkpoint empties the table
 * with the journal, so a pack synced since is never taken.
 */
static int journal_packs_combine(sqlite3 *db, ts_store *store)
{
	sqlite3_stmt *st = NULL;
	char **names = NULL, combined[64];
	size_t n = 0, alloc = 0, i;
	int error = 0;

	if (ts_statements__prepare(db, "SELECT name FROM ts_journal_packs", &st) != SQLITE_OK)
		return ts_sqlite__error(db, "reading the journal");
	while (error == 0 && sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		if (n == alloc) {
			char **grown = realloc(names, (alloc = alloc ? alloc * 2 : 64) * sizeof(*grown));
			if (!grown) {
				error = ts_error_set(TS_ERROR, "out of memory");
				break;
			}
			names = grown;
		}
		if (!name || !(names[n] = strdup(name)))
			error = ts_error_set(TS_ERROR, "out of memory");
		else
			n++;
	}
	ts_statements__done(st);
	if (error == 0 && (error = ts_store__combine_unsynced(combined, store, names, n)) == 0 && combined[0] &&
	    (error = exec(db, "DELETE FROM ts_journal_packs")) == 0) {
		char *one = combined;
		error = journal_packs_insert(db, &one, 1);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return error;
}

/* 1 when the schema version differs from the one in `tree`. */
static int schema_changed(ts_store *store, const git_oid *tree_id, const ts_buf *schema)
{
	git_oid want, have;

	git_odb_hash(&want, schema->ptr, schema->size, GIT_OBJECT_BLOB);
	return ts_store__entry_at(&have, store, tree_id, TS_STORE_SCHEMA_PATH) < 0 || !git_oid_equal(&have, &want);
}

/* Large commits sync their pack at once: a journal is not worth its bytes. */
#define BULK_THRESHOLD 2000

/*
 * The common tail of a commit: write trees and the commit object from
 * `updates` on top of the recorded head (or of `rows_tree`, the head's
 * tree with a bulk commit's rows already in it), then record everything in
 * the open transaction, commit it, and move the ref.
 */
static int commit_updates(git_oid *out, sqlite3 *db, ts_store *store, const git_oid *rows_tree,
	const ts_store_update *updates, size_t n, const ts_file *files, size_t nfiles,
	const ts_store_who *author, const ts_store_who *committer, const char *message)
{
	ts_buf raw = TS_BUF_INIT, schema = TS_BUF_INIT;
	ts_store_update *all = NULL;
	char (*paths)[TS_FILES_PATH_SIZE] = NULL;
	git_oid head, base_tree, tree;
	size_t i;
	char hex[GIT_OID_HEXSZ + 1];
	sqlite3_int64 journal_rows = 0;
	int has_head, bulk = rows_tree || n >= BULK_THRESHOLD, synced = 0, defer = 0, journaled = 0, combine, error;

	/* from here, the packs written are this commit's (journal_packs_add()) */
	ts_store__flushed_forget(store);
	has_head = ts_history__head(&head, db) == 0;
	if (has_head && (error = ts_store__commit_tree(&base_tree, store, &head)) < 0)
		return error;
	if (rows_tree)
		base_tree = *rows_tree;
	/* every tree also records the schema version; staged files join the
	 * tree by their blob ids (their blobs are on disk already) */
	if (!(all = malloc((n + 1 + nfiles) * sizeof(*all))) ||
	    (nfiles && !(paths = malloc(nfiles * sizeof(*paths))))) {
		free(all);
		return ts_error_set(TS_ERROR, "out of memory");
	}
	if (n)
		memcpy(all, updates, n * sizeof(*all));
	ts_history__schema_blob(&schema, db);
	if (!has_head || schema_changed(store, &base_tree, &schema)) {
		all[n].path = TS_STORE_SCHEMA_PATH;
		all[n].data = schema.ptr;
		all[n].len = schema.size;
		n++;
	}
	for (i = 0; i < nfiles; i++)
		ts_files__link(&all[n++], paths[i], &files[i]);
	updates = all;

	if ((error = ts_store__tree_update(&tree, store, has_head || rows_tree ? &base_tree : NULL, all, n)) < 0 ||
	    (error = ts_store__commit(out, &raw, store, &tree, has_head ? &head : NULL,
			has_head ? 1 : 0, author, committer, message)) < 0)
		goto done;

	if ((error = journal_size(db, &journaled, &journal_rows)) < 0)
		goto done;
	/* this commit makes journaled + 1: every TS_HISTORY_COMBINE-th combines
	 * the packs since the last sync (and publishes what waits) */
	combine = (journaled + 1) % TS_HISTORY_COMBINE == 0;
	if (bulk || journaled >= TS_HISTORY_CHECKPOINT || journal_rows >= TS_HISTORY_JOURNAL_ROWS) {
		/* everything written so far becomes durable: the journal can go */
		char now[24];
		ts_store__clean_debris(store);
		if ((error = ts_store__flush(store)) < 0 ||
		    (error = ts_store__maintain(store, bulk)) < 0 ||
		    (error = ts_store__sync(store)) < 0)
			goto done;
		snprintf(now, sizeof(now), "%lld", (long long)ts_store__now_ns());
		if ((error = ts_meta__set(db, "checkpoint_ns", now)) < 0 || (error = journal_clear(db)) < 0)
			goto done;
		synced = 1;   /* this commit's pack too: it was written before the sync */
	}
	if (!synced) {
		/* where the store defers commits, a journalled commit's objects
		 * and ref wait for the next checkpoint, ts_store__publish() or
		 * a bulk commit */
		if ((error = journal_add(db, out, &raw, updates, n, files, nfiles)) < 0)
			goto done;
		defer = ts_store__defers_commits(store) && !combine;
		if ((!defer && (error = ts_store__flush(store)) < 0) ||
		    (error = journal_packs_add(db, store)) < 0 ||
		    (combine && (error = journal_packs_combine(db, store)) < 0))
			goto done;
	}
	git_oid_tostr(hex, sizeof(hex), out);
	if ((error = ts_meta__set(db, "head", hex)) < 0 ||
	    (error = exec(db, "DELETE FROM ts_staged")) < 0 ||
	    (error = ts_files__unstage(db)) < 0 ||
	    (error = exec(db, "COMMIT")) < 0)
		goto done;
	/* From here the commit is durable; a failure below is repaired on open. */
	if (defer)
		ts_store__defer(store, out);   /* its objects wait with the ref */
	else
		error = ts_store__ref_set(store, TS_STORE_MAIN, out, message);
	if (error == 0)
		ts_history__trim(db);
done:
	if (error < 0)
		ts_store__discard(store);
	free(all);
	free(paths);
	ts_buf__dispose(&raw);
	ts_buf__dispose(&schema);
	return error;
}

static int replay_journal(sqlite3 *db, ts_store *store, const ts_store_whole *whole, int *repaired);

/*
 * The head's objects may wait in another process's memory (a deferred
 * commit, ts_store__defer()): the journal has them, and a writer that
 * cannot read the head writes them from there first. With the lock held.
 */
static int catch_up(sqlite3 *db, ts_store *store)
{
	git_oid head;
	int repaired = 0;

	if (ts_history__head(&head, db) < 0 || ts_store__readable(store, &head))
		return 0;
	return replay_journal(db, store, NULL, &repaired);
}

/*
 * A commit holds the store's lock from its first object to the ref, and the
 * database's write lock until its transaction ends. A ref's lock file a
 * killed writer left goes as the lock is taken (ts_store__lock()); its
 * other leftovers when the node is opened and at the checkpoint.
 */
int ts_history__begin(sqlite3 *db, ts_store *store)
{
	int error;
	char *applying;
	if ((error = ts_store__lock(store)) < 0)
		return error;
	/* the rows of an interrupted pull are not history's to commit */
	if ((applying = ts_meta__get(db, TS_META_APPLYING))) {
		free(applying);
		ts_store__unlock(store);
		return ts_error_set(TS_EBUSY, "a pull that was interrupted is still to be undone; "
			"open the node again");
	}
	if ((error = exec(db, "BEGIN IMMEDIATE")) < 0 || (error = catch_up(db, store)) < 0)
		ts_history__release(db, store);
	return error;
}

void ts_history__release(sqlite3 *db, ts_store *store)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	ts_store__unlock(store);
}

int ts_history__finish(sqlite3 *db, ts_store *store, const git_oid *head, const char *why)
{
	int error;

	/* objects first, made durable at once: no journal for these commits */
	if ((error = ts_store__flush(store)) < 0 || (error = ts_store__sync(store)) < 0)
		return error;
	return ts_history__finish_durable(db, store, head, why);
}

int ts_history__finish_durable(sqlite3 *db, ts_store *store, const git_oid *head, const char *why)
{
	char hex[GIT_OID_HEXSZ + 1], now[24];
	int error;

	snprintf(now, sizeof(now), "%lld", (long long)ts_store__now_ns());
	git_oid_tostr(hex, sizeof(hex), head);
	if ((error = ts_meta__set(db, "checkpoint_ns", now)) < 0 ||
	    (error = journal_clear(db)) < 0 ||
	    (error = ts_meta__set(db, "head", hex)) < 0 ||
	    (error = exec(db, "COMMIT")) < 0 ||
	    (error = ts_store__ref_set(store, TS_STORE_MAIN, head, why)) < 0)
		return error;
	ts_history__trim(db);
	return 0;
}

/* Free pages past this many bytes go back to the file system. */
#define TRIM_BYTES (4 * 1024 * 1024)

void ts_history__trim(sqlite3 *db)
{
	/* the free pages first: after most commits there are few */
	if (!sqlite3_get_autocommit(db) ||
	    ts_meta__pragma(db, "PRAGMA freelist_count") * ts_meta__pragma(db, "PRAGMA page_size") < TRIM_BYTES ||
	    ts_meta__pragma(db, "PRAGMA auto_vacuum") != 2)
		return;
	/* a failure keeps the pages free, to be used again: nothing is lost */
	sqlite3_exec(db, "PRAGMA incremental_vacuum", NULL, NULL, NULL);
}

/* The row blobs a bulk commit holds in memory at once. */
#define BULK_CHUNK_BYTES (2 * 1024 * 1024)

/*
 * Puts the rows of `c` into `*tree` (on `base`, or the empty tree),
 * reading about BULK_CHUNK_BYTES of their blobs at a time, each chunk's
 * freed before the next is read. The changes are in path order, so each
 * chunk rewrites leaf trees of its own: only the few trees above the edges
 * of a chunk are written twice.
 */
static int rows_into_tree(git_oid *tree, ts_store_update *updates, changes *c, sqlite3 *db, ts_store *store,
	const git_oid *base)
{
	size_t i = 0, j, k;
	int error;

	while (i < c->n) {
		size_t bytes = 0;
		for (j = i; j < c->n && bytes < BULK_CHUNK_BYTES; j++) {
			if ((error = read_blobs(c, j, j + 1, db)) < 0)
				return error;
			bytes += c->v[j].len;
			updates[j - i] = (ts_store_update){ c->v[j].path, c->v[j].data, c->v[j].len };
		}
		if ((error = ts_store__tree_update(tree, store, base, updates, j - i)) < 0)
			return error;
		base = tree;
		for (k = i; k < j; k++) {
			free(c->v[k].data);
			c->v[k].data = NULL;
		}
		i = j;
	}
	return 0;
}

int ts_history__commit(git_oid *out, sqlite3 *db, ts_store *store, ts_tables *tables,
	const ts_store_who *author, const ts_store_who *committer, const char *message)
{
	changes c = { 0 };
	ts_tables *loaded = NULL;
	ts_store_update *updates = NULL;
	ts_file *files = NULL;
	size_t nfiles = 0, i;
	git_oid head, rows;
	int error;

	if ((error = ts_history__begin(db, store)) < 0)
		return error;
	if (!tables && (error = ts_tables__load(&loaded, db)) < 0)
		goto done;
	c.tables = tables ? tables : loaded;
	if ((error = ts_capture__foreach_staged_op(db, collect_op, &c)) < 0 ||
	    (error = sort_changes(&c)) < 0 ||
	    (error = ts_files__staged_list(&files, &nfiles, db)) < 0)
		goto done;
	if (c.n == 0 && nfiles == 0) {
		error = ts_error_set(TS_ENOTFOUND, "nothing staged to commit");
		goto done;
	}
	if (!(updates = calloc(c.n ? c.n : 1, sizeof(*updates)))) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	if (c.n >= BULK_THRESHOLD) {
		/* a bulk commit: its rows go into the tree a chunk at a time */
		const git_oid *base = NULL;
		if (ts_history__head(&head, db) == 0) {
			if ((error = ts_store__commit_tree(&rows, store, &head)) < 0)
				goto done;
			base = &rows;
		}
		if ((error = rows_into_tree(&rows, updates, &c, db, store, base)) < 0)
			goto done;
		error = commit_updates(out, db, store, &rows, NULL, 0, files, nfiles, author, committer, message);
		goto done;
	}
	if ((error = read_blobs(&c, 0, c.n, db)) < 0)
		goto done;
	for (i = 0; i < c.n; i++)
		updates[i] = (ts_store_update){ c.v[i].path, c.v[i].data, c.v[i].len };
	error = commit_updates(out, db, store, NULL, updates, c.n, files, nfiles, author, committer, message);
done:
	ts_history__release(db, store);
	free(updates);
	free(files);
	changes_dispose(&c);
	ts_tables__free(loaded);
	return error;
}

int ts_history__commit_all(git_oid *out, sqlite3 *db, ts_store *store,
	const ts_store_who *author, const ts_store_who *committer, const char *message)
{
	ts_tables *tables = NULL;
	ts_store_update *updates = NULL;
	size_t n = 0, alloc = 0, i;
	ts_buf path = TS_BUF_INIT, blob = TS_BUF_INIT;
	sqlite3_stmt *all = NULL;
	int t, k, error;

	if ((error = ts_history__begin(db, store)) < 0)
		return error;
	if ((error = ts_tables__load(&tables, db)) < 0)
		goto done;
	for (t = 0; t < tables->n; t++) {
		ts_table *tb = &tables->list[t];
		if ((error = ts_table__scan(&all, db, tb)) < 0)
			goto done;
		while (sqlite3_step(all) == SQLITE_ROW) {
			sqlite3_value *key[64];
			if (tb->npk > 64) {
				error = ts_error_set(TS_EINVALID, "table %s has too many key columns", tb->name);
				goto done;
			}
			for (k = 0; k < tb->npk; k++)
				key[k] = sqlite3_column_value(all, tb->pk[k]);
			ts_buf__clear(&path);
			if ((error = ts_rowcodec__key_path(&path, tb->name, tb->npk, key)) < 0 ||
			    (error = ts_rowcodec__encode_stmt(&blob, all)) < 0)
				goto done;
			if ((error = ts_store__update_reserve(&updates, n, &alloc)) < 0)
				goto done;
			updates[n].len = blob.size;
			updates[n].data = ts_buf__detach(&blob);
			updates[n].path = ts_buf__detach(&path);
			n++;
		}
		sqlite3_finalize(all);
		all = NULL;
	}
	if (!updates && !(updates = calloc(1, sizeof(*updates)))) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	error = commit_updates(out, db, store, NULL, updates, n, NULL, 0, author, committer, message);
done:
	ts_history__release(db, store);
	sqlite3_finalize(all);
	for (i = 0; i < n; i++) {
		free((char *)updates[i].path);
		free((char *)updates[i].data);
	}
	free(updates);
	ts_buf__dispose(&path);
	ts_buf__dispose(&blob);
	ts_tables__free(tables);
	return error;
}

/* Writes the objects of one journal entry again on top of its parent. */
static int replay_entry(ts_store *store, sqlite3 *db, sqlite3_int64 seq, const git_oid *want,
	const void *raw, int rawlen)
{
	sqlite3_stmt *rows = NULL;
	ts_store_update *updates = NULL;
	ts_file *files = NULL;
	size_t n = 0, alloc = 0, nfiles = 0, i;
	git_commit *probe = NULL;
	git_oid tree, got, parent, parent_tree;
	const char *p;
	int error = 0;

	/* the raw commit names its tree and first parent in its header */
	if (rawlen < 46 + 48 || memcmp(raw, "tree ", 5) || git_oid_fromstrn(&tree, (const char *)raw + 5, 40) < 0)
		return ts_error_set(TS_ECORRUPT, "journal entry %lld is damaged", (long long)seq);
	p = (const char *)raw + 46;
	if (!memcmp(p, "parent ", 7)) {
		if (git_oid_fromstrn(&parent, p + 7, 40) < 0)
			return ts_error_set(TS_ECORRUPT, "journal entry %lld is damaged", (long long)seq);
		if ((error = ts_store__commit_tree(&parent_tree, store, &parent)) < 0)
			return ts_error_set(TS_ECORRUPT, "history lost beyond repair: the parent of %s is missing",
				git_oid_tostr_s(want));
	}
	if (sqlite3_prepare_v2(db, "SELECT path, data FROM ts_journal_rows WHERE seq = ?1", -1, &rows, NULL) != SQLITE_OK) {
		error = ts_sqlite__error(db, "reading the journal");
		goto done;
	}
	sqlite3_bind_int64(rows, 1, seq);
	while (sqlite3_step(rows) == SQLITE_ROW) {
		if ((error = ts_store__update_reserve(&updates, n, &alloc)) < 0)
			goto done;
		updates[n].path = strdup((const char *)sqlite3_column_text(rows, 0));
		updates[n].len = (size_t)sqlite3_column_bytes(rows, 1);
		updates[n].data = NULL;
		if (sqlite3_column_type(rows, 1) != SQLITE_NULL) {
			char *d = malloc(updates[n].len + 1);
			if (d)
				memcpy(d, sqlite3_column_blob(rows, 1), updates[n].len);
			updates[n].data = d;
			if (!d) {
				free((char *)updates[n].path);
				error = ts_error_set(TS_ERROR, "out of memory");
				goto done;
			}
		}
		n++;
	}
	if ((error = ts_files__journal_load(&files, &nfiles, db, seq)) < 0)
		goto done;
	for (i = 0; i < nfiles; i++) {
		char path[TS_FILES_PATH_SIZE];
		if ((error = ts_store__update_reserve(&updates, n, &alloc)) < 0)
			goto done;
		ts_files__link(&updates[n], path, &files[i]);
		if (!(updates[n].path = strdup(path))) {
			error = ts_error_set(TS_ERROR, "out of memory");
			goto done;
		}
		n++;
	}
	if ((error = ts_store__tree_update(&got, store, memcmp(p, "parent ", 7) ? NULL : &parent_tree,
			updates, n)) < 0)
		goto done;
	if (!git_oid_equal(&got, &tree)) {
		error = ts_error_set(TS_ECORRUPT, "journal entry %lld rebuilds tree %s, not %s",
			(long long)seq, git_oid_tostr_s(&got), git_oid_tostr_s(&tree));
		goto done;
	}
	if ((error = ts_store__write_raw_commit(&got, store, raw, (size_t)rawlen)) < 0)
		goto done;
	if (!git_oid_equal(&got, want))
		error = ts_error_set(TS_ECORRUPT, "journal entry %lld rebuilds the wrong commit", (long long)seq);
done:
	git_commit_free(probe);
	free(files);
	sqlite3_finalize(rows);
	for (i = 0; i < n; i++) {
		free((char *)updates[i].path);
		if (updates[i].len != TS_STORE_LINK)
			free((char *)updates[i].data);
	}
	free(updates);
	return error;
}

/* The time of the last checkpoint: packs written before it are durable. */
static int64_t checkpoint_ns(sqlite3 *db)
{
	char *v = ts_meta__get(db, "checkpoint_ns");
	int64_t t = v ? strtoll(v, NULL, 10) : 0;
	free(v);
	return t;
}

/* The tree named on the first line of a commit's bytes, when the bytes
 * are those of commit `id` (they hash to it); -1 when they are not. */
static int raw_tree(git_oid *tree, const git_oid *id, const void *raw, int len)
{
	git_oid check;

	if (len < 46 || git_odb_hash(&check, raw, (size_t)len, GIT_OBJECT_COMMIT) < 0 ||
	    !git_oid_equal(&check, id) || memcmp(raw, "tree ", 5) ||
	    git_oid_fromstrn(tree, (const char *)raw + 5, GIT_OID_HEXSZ) < 0)
		return -1;
	return 0;
}

/*
 * 1 when a journal entry's commit and its tree can be read back. An
 * object in a pack the repair just found whole is there as it was written
 * (every byte of the pack and its index checked against their checksums);
 * any other is read back through libgit2 and hashed.
 */
static int entry_intact(ts_store *store, const ts_store_whole *whole, const git_oid *id,
	const void *raw, int len)
{
	git_oid tree;

	if (ts_store__whole_has(whole, id) && raw_tree(&tree, id, raw, len) == 0 &&
	    ts_store__whole_has(whole, &tree))
		return 1;
	return ts_store__readable(store, id) && ts_store__commit_tree(&tree, store, id) == 0 &&
		ts_store__readable(store, &tree);
}

/* Every journal entry whose commit cannot be read back is written again, in order. */
static int replay_journal(sqlite3 *db, ts_store *store, const ts_store_whole *whole, int *repaired)
{
	sqlite3_stmt *st = NULL;
	int rc, error = 0;

	if (sqlite3_prepare_v2(db, "SELECT seq, commit_id, raw FROM ts_journal ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
		return ts_sqlite__error(db, "reading the journal");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		git_oid id;
		if (git_oid_fromstr(&id, (const char *)sqlite3_column_text(st, 1)) < 0) {
			error = ts_error_set(TS_ECORRUPT, "the journal holds a malformed commit id");
			break;
		}
		if (entry_intact(store, whole, &id, sqlite3_column_blob(st, 2), sqlite3_column_bytes(st, 2)))
			continue;
		if ((error = replay_entry(store, db, sqlite3_column_int64(st, 0), &id,
				sqlite3_column_blob(st, 2), sqlite3_column_bytes(st, 2))) < 0 ||
		    (error = ts_store__flush(store)) < 0)
			break;
		*repaired = 1;
	}
	sqlite3_finalize(st);
	if (error < 0)
		ts_store__discard(store);
	return error;
}

int ts_history__repair(sqlite3 *db, ts_store *store, int *repaired)
{
	ts_store_whole *whole = NULL;
	git_oid head, ref;
	int dropped = 0, error;

	*repaired = 0;
	if ((error = ts_history__head(&head, db)) < 0)
		return error;
	/* a live writer holding the lock (a commit, a pull) owns history for
	 * now: opening the node does not wait for it; the next open checks.
	 * Unless the head cannot be read here: its objects wait in another
	 * process (a deferred commit), and the journal has them */
	if ((error = ts_store__trylock(store)) < 0)
		return error;
	if (error == 0) {
		if (ts_store__readable(store, &head))
			return 0;
		if ((error = ts_store__lock(store)) < 0)
			return error;
	}
	error = 0;
	/* a killed writer's leftovers, and packs a power loss tore */
	ts_store__clean_debris(store);
	if ((error = ts_store__drop_torn_packs(store, checkpoint_ns(db), &dropped, &whole)) < 0 ||
	    (error = replay_journal(db, store, whole, repaired)) < 0)
		goto done;
	if (dropped)
		*repaired = 1;
	if (!ts_store__whole_has(whole, &head) && !ts_store__readable(store, &head)) {
		error = ts_error_set(TS_ECORRUPT, "history damaged beyond repair: the head commit %s "
			"cannot be read back, and the journal cannot restore it", git_oid_tostr_s(&head));
		goto done;
	}
	if (ts_store__ref_get(&ref, store, TS_STORE_MAIN) < 0 || !git_oid_equal(&ref, &head)) {
		if ((error = ts_store__flush(store)) < 0 ||
		    (error = ts_store__ref_reset(store, TS_STORE_MAIN, &head)) < 0)
			goto done;
		*repaired = 1;
	}
done:
	ts_store__whole_free(whole);
	ts_store__unlock(store);
	return error;
}
