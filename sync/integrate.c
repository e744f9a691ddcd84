/*
 * Integrate: fast-forward or merge another node's commit, durably.
 *
 * Order, as for a plain commit: the database's write transaction and the
 * store's lock are taken; the merged tree is computed and applied to the
 * database inside the transaction, with foreign keys off so that a merge
 * is never refused for one; rows left breaking a foreign key and every
 * merge conflict become records of the review queue, written to the
 * database and added to the tree; the commit object is written and synced;
 * then the transaction commits and the branch moves.
 */
#include "integrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "capture.h"
#include "conflicts.h"
#include "error.h"
#include "history.h"
#include "meta.h"
#include "tables.h"
#include "tiersync.h"

typedef struct {
	sqlite3 *db;
	ts_conflict_origin origin;
	ts_integrate_stats *stats;
	ts_progress_meter *progress;   /* phase "checking foreign keys", or NULL */
	size_t checked;                /* rows whose checks are done */
} recorder;

static int record_conflict(const ts_merge_conflict *c, void *payload)
{
	recorder *r = payload;
	char id[20];
	int error;

	/* two records of one dispute differ only in how they were met or how far
	 * review went: no new dispute, and no record about a record */
	if (!strcmp(c->table, TS_CONFLICTS_TABLE))
		return 0;
	error = ts_conflicts__record(id, r->db, c, &r->origin);
	if (error < 0)
		return error;
	r->stats->conflicts++;
	if (c->settled)
		r->stats->settled++;
	return 0;
}

/*
 * Rows left breaking a foreign key after the merge are kept, and recorded.
 * Only what the apply did is checked, by key, so the cost follows the merge,
 * not the size of the database: each row written against its parents, and
 * the children of each row deleted. (The merge runs with foreign keys off:
 * SQLite would refuse the rows, and a merge is never refused.)
 */

/* One row breaking foreign key `fkid` of `table`: read back, recorded. */
static int record_violation(recorder *r, ts_tables *tables, const char *table, sqlite3_int64 rowid,
	const char *parent, int fkid)
{
	ts_table *t = ts_tables__find(tables, table);
	sqlite3_stmt *fk = NULL, *row = NULL;
	ts_buf path = TS_BUF_INIT, key = TS_BUF_INIT, blob = TS_BUF_INIT, sql = TS_BUF_INIT;
	ts_row *decoded = NULL;
	char id[20];
	int k, error = 0;

	if (!t)
		return 0;
	if (sqlite3_prepare_v2(r->db, "SELECT \"from\" FROM pragma_foreign_key_list(?1) WHERE id = ?2",
			-1, &fk, NULL) != SQLITE_OK) {
		error = ts_sqlite__error(r->db, "checking foreign keys");
		goto done;
	}
	sqlite3_bind_text(fk, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_int(fk, 2, fkid);
	/* the row, read as the history encodes it */
	ts_buf__puts(&sql, "SELECT ");
	for (k = 0; k < t->ncol; k++)
		ts_buf__printf(&sql, "%s\"%s\"", k ? ", " : "", t->cols[k]);
	ts_buf__printf(&sql, " FROM \"%s\" WHERE rowid = ?1", table);
	if (ts_buf__oom(&sql) || sqlite3_prepare_v2(r->db, sql.ptr, -1, &row, NULL) != SQLITE_OK) {
		error = ts_sqlite__error(r->db, "reading %s", table);
		goto done;
	}
	sqlite3_bind_int64(row, 1, rowid);
	if (sqlite3_step(row) == SQLITE_ROW) {
		sqlite3_value *kv[64];
		int has_column = sqlite3_step(fk) == SQLITE_ROW;
		for (k = 0; k < t->npk && k < 64; k++)
			kv[k] = sqlite3_column_value(row, t->pk[k]);
		if ((error = ts_rowcodec__key_path(&path, table, t->npk, kv)) == 0 &&
		    (error = ts_rowcodec__encode_stmt(&blob, row)) == 0 &&
		    (error = ts_rowcodec__decode(&decoded, blob.ptr, blob.size)) == 0) {
			ts_table__put_key(&key, t, decoded);
			error = ts_conflicts__record_constraint(id, r->db, table, path.ptr, key.ptr,
				has_column ? (const char *)sqlite3_column_text(fk, 0) : NULL, parent, &r->origin);
			r->stats->constraint_conflicts++;
		}
	}
done:
	ts_row__free(decoded);
	sqlite3_finalize(fk);
	sqlite3_finalize(row);
	ts_buf__dispose(&path);
	ts_buf__dispose(&key);
	ts_buf__dispose(&blob);
	ts_buf__dispose(&sql);
	return error;
}

/* One foreign key of a table: its id, parent and column pairs. */
typedef struct {
	int id;
	char parent[256];
	int n;
	char from[16][128], to[16][128];   /* child column, parent column */
} foreign_key;

/* Reads the foreign keys of `table` (at most `max`); returns how many. */
static int foreign_keys(foreign_key *fks, int max, sqlite3 *db, const char *table)
{
	sqlite3_stmt *st = NULL;
	int n = 0, i;

	if (sqlite3_prepare_v2(db, "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1) "
			"ORDER BY id, seq", -1, &st, NULL) != SQLITE_OK)
		return ts_sqlite__error(db, "reading the foreign keys of %s", table);
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int id = sqlite3_column_int(st, 0);
		foreign_key *f;
		if (n == 0 || fks[n - 1].id != id) {
			if (n == max)
				break;
			f = &fks[n++];
			memset(f, 0, sizeof(*f));
			f->id = id;
			snprintf(f->parent, sizeof(f->parent), "%s", (const char *)sqlite3_column_text(st, 1));
		}
		f = &fks[n - 1];
		if (f->n < 16) {
			snprintf(f->from[f->n], sizeof(f->from[0]), "%s", (const char *)sqlite3_column_text(st, 2));
			snprintf(f->to[f->n], sizeof(f->to[0]), "%s",
				sqlite3_column_text(st, 3) ? (const char *)sqlite3_column_text(st, 3) : "");
			f->n++;
		}
	}
	sqlite3_finalize(st);
	/* a key that names no parent columns means the parent's primary key */
	for (i = 0; i < n; i++) {
		int k = 0;
		if (fks[i].to[0][0] || sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info(?1) "
				"WHERE pk > 0 ORDER BY pk", -1, &st, NULL) != SQLITE_OK)
			continue;
		sqlite3_bind_text(st, 1, fks[i].parent, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW && k < fks[i].n)
			snprintf(fks[i].to[k++], sizeof(fks[i].to[0]), "%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	return n;
}

/* "and no row of the parent has the values of the child (aliased c)"; the
 * parent is aliased p, as it may be the child's own table. */
static void put_parent_missing(ts_buf *sql, const foreign_key *f)
{
	int i;
	for (i = 0; i < f->n; i++)
		ts_buf__printf(sql, " AND c.\"%s\" IS NOT NULL", f->from[i]);
	ts_buf__printf(sql, " AND NOT EXISTS (SELECT 1 FROM \"%s\" AS p WHERE ", f->parent);
	for (i = 0; i < f->n; i++)
		ts_buf__printf(sql, "%sp.\"%s\" = c.\"%s\"", i ? " AND " : "", f->to[i], f->from[i]);
	ts_buf__puts(sql, ")");
}

/* Records each row the statement finds breaking `f` of `table`. */
static int record_found(recorder *r, ts_tables *tables, sqlite3_stmt *st, const char *table,
	const foreign_key *f)
{
	int rc, error = 0;
	while (error == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		error = record_violation(r, tables, table, sqlite3_column_int64(st, 0), f->parent, f->id);
	sqlite3_reset(st);
	return error;
}

/* The rows written to `t`: does each still find its parents? One read of
 * the row answers for every foreign key of it: a column per key, 1 where
 * the row names a parent that is missing. */
static int check_written(recorder *r, ts_tables *tables, ts_table *t, const ts_apply_keys *keys)
{
	foreign_key fks[32];
	int nfk = foreign_keys(fks, 32, r->db, t->name), i, k, rc, error = 0;
	sqlite3_stmt *st = NULL;
	ts_buf sql = TS_BUF_INIT;
	size_t row;

	if (nfk <= 0)
		return nfk;
	ts_buf__puts(&sql, "SELECT c.rowid");
	for (i = 0; i < nfk; i++) {
		ts_buf__puts(&sql, ", (1");
		put_parent_missing(&sql, &fks[i]);
		ts_buf__puts(&sql, ")");
	}
	ts_buf__printf(&sql, " FROM \"%s\" AS c WHERE ", t->name);
	for (k = 0; k < t->npk; k++)
		ts_buf__printf(&sql, "%sc.\"%s\" = ?%d", k ? " AND " : "", t->cols[t->pk[k]], k + 1);
	if (ts_buf__oom(&sql) || sqlite3_prepare_v2(r->db, sql.ptr, -1, &st, NULL) != SQLITE_OK)
		error = ts_sqlite__error(r->db, "checking foreign keys of %s", t->name);
	for (row = 0; error == 0 && row < keys->n; row++) {
		for (k = 0; k < t->npk; k++)
			ts_value__bind(st, k + 1, &keys->v[row * t->npk + k]);
		while (error == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
			for (i = 0; i < nfk && error == 0; i++)
				if (sqlite3_column_int(st, i + 1))
					error = record_violation(r, tables, t->name, sqlite3_column_int64(st, 0),
						fks[i].parent, fks[i].id);
		sqlite3_reset(st);
		ts_progress__update(r->progress, r->checked + row + 1);
	}
	sqlite3_finalize(st);
	ts_buf__dispose(&sql);
	return error;
}

/* The rows deleted from `parent`: does a row of `child` still name one? */
static int check_removed(recorder *r, ts_tables *tables, ts_table *child, ts_table *parent,
	const ts_apply_keys *keys)
{
	foreign_key fks[32];
	int nfk = foreign_keys(fks, 32, r->db, child->name), i, j, k, error = 0;
	size_t row;

	for (i = 0; i < nfk && error == 0; i++) {
		foreign_key *f = &fks[i];
		sqlite3_stmt *st = NULL;
		ts_buf sql = TS_BUF_INIT;
		int key_of[16];

		if (strcmp(f->parent, parent->name))
			continue;
		/* which of the deleted row's key values each column pair compares */
		for (j = 0; j < f->n; j++) {
			key_of[j] = -1;
			for (k = 0; k < parent->npk; k++)
				if (!strcmp(f->to[j], parent->cols[parent->pk[k]]))
					key_of[j] = k;
			if (key_of[j] < 0)
				break;
		}
		if (j < f->n || f->n != parent->npk)
			continue;   /* names a column other than the key: not changed by a delete alone */
		ts_buf__printf(&sql, "SELECT c.rowid FROM \"%s\" AS c WHERE ", child->name);
		for (j = 0; j < f->n; j++)
			ts_buf__printf(&sql, "%sc.\"%s\" = ?%d", j ? " AND " : "", f->from[j], j + 1);
		put_parent_missing(&sql, f);
		if (ts_buf__oom(&sql) || sqlite3_prepare_v2(r->db, sql.ptr, -1, &st, NULL) != SQLITE_OK)
			error = ts_sqlite__error(r->db, "checking foreign keys of %s", child->name);
		for (row = 0; error == 0 && row < keys->n; row++) {
			for (j = 0; j < f->n; j++)
				ts_value__bind(st, j + 1, &keys->v[row * parent->npk + key_of[j]]);
			error = record_found(r, tables, st, child->name, f);
		}
		sqlite3_finalize(st);
		ts_buf__dispose(&sql);
	}
	return nfk < 0 ? nfk : error;
}

static int exec(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return ts_sqlite__error(db, "%s", sql);
	return 0;
}

/* The rows the apply wrote or deleted, checked in one read transaction: a
 * read apiece would each look for changes by other writers first, and
 * after any drop every page the database had cached. */
static int record_constraints(recorder *r, ts_tables *tables, const ts_apply_stats *applied)
{
	size_t total = 0;
	int t, c, error = 0;

	for (t = 0; t < tables->n && t < applied->ntables; t++)
		total += applied->written[t].n + applied->removed[t].n;
	if (total == 0)
		return 0;
	if ((error = exec(r->db, "BEGIN")) < 0)
		return error;
	ts_progress__begin(r->progress, "checking foreign keys", total);
	for (t = 0; t < tables->n && t < applied->ntables && error == 0; t++) {
		if (applied->written[t].n)
			error = check_written(r, tables, &tables->list[t], &applied->written[t]);
		r->checked += applied->written[t].n;
		ts_progress__update(r->progress, r->checked);
		/* a deleted row is checked against every table that may name it */
		for (c = 0; c < tables->n && applied->removed[t].n && error == 0; c++)
			error = check_removed(r, tables, &tables->list[c], &tables->list[t], &applied->removed[t]);
		r->checked += applied->removed[t].n;
		ts_progress__update(r->progress, r->checked);
	}
	ts_progress__end(r->progress);
	if (error == 0)
		return exec(r->db, "COMMIT");
	sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
	return error;
}

/*
 * The pending conflict records as rows of `tree`, so that history carries
 * them; a record the tree holds already (the same dispute met before) is
 * left as it is there, as ts_conflicts__pending_keep() leaves it in the
 * database. *out is `tree` when there is nothing to add.
 */
static int pending_updates(git_oid *out, ts_store *store, sqlite3 *db, ts_tables *tables,
	const git_oid *tree)
{
	ts_table *t = ts_tables__find(tables, TS_CONFLICTS_TABLE);
	git_tree *have = NULL;
	ts_store_update *u = NULL;
	sqlite3_stmt *all = NULL;
	ts_buf path = TS_BUF_INIT, blob = TS_BUF_INIT, sql = TS_BUF_INIT;
	size_t n = 0, alloc = 0, i;
	int k, error = 0;

	git_oid_cpy(out, tree);
	if (!t)
		return ts_error_set(TS_ERROR, "the database has no %s table", TS_CONFLICTS_TABLE);
	if (git_tree_lookup(&have, ts_store__repo(store), tree) < 0)
		return ts_error_set(TS_ECORRUPT, "reading the merged tree: %s", git_error_last()->message);
	ts_buf__puts(&sql, "SELECT ");
	for (k = 0; k < t->ncol; k++)
		ts_buf__printf(&sql, "%s\"%s\"", k ? ", " : "", t->cols[k]);
	ts_buf__puts(&sql, " FROM temp.ts_conflicts_pending");
	if (ts_buf__oom(&sql) || sqlite3_prepare_v2(db, sql.ptr, -1, &all, NULL) != SQLITE_OK) {
		error = ts_sqlite__error(db, "reading the conflict records");
		goto done;
	}
	while (sqlite3_step(all) == SQLITE_ROW) {
		sqlite3_value *key = sqlite3_column_value(all, t->pk[0]);
		git_tree_entry *e = NULL;
		ts_buf__clear(&path);
		if ((error = ts_rowcodec__key_path(&path, t->name, 1, &key)) < 0)
			goto done;
		if (git_tree_entry_bypath(&e, have, path.ptr) == 0) {
			git_tree_entry_free(e);
			continue;
		}
		if ((error = ts_store__update_reserve(&u, n, &alloc)) < 0 ||
		    (error = ts_rowcodec__encode_stmt(&blob, all)) < 0)
			goto done;
		u[n].path = ts_buf__detach(&path);
		u[n].len = blob.size;
		u[n].data = ts_buf__detach(&blob);
		n++;
	}
	if (n > 0)
		error = ts_store__tree_update(out, store, tree, u, n);
done:
	sqlite3_finalize(all);
	git_tree_free(have);
	for (i = 0; i < n; i++) {
		free((char *)u[i].path);
		free((char *)u[i].data);
	}
	free(u);
	ts_buf__dispose(&path);
	ts_buf__dispose(&blob);
	ts_buf__dispose(&sql);
	return error;
}

/*
 * The tree to merge against. With one best common ancestor, its tree. With
 * several (criss-cross merges), a virtual one: their trees merged into each
 * other in order, each pair against its own merge base, as git's recursive
 * strategy does; otherwise a change both sides already share could come
 * back as a conflict, or a row one side deleted could return. Conflicts
 * inside the virtual base take the default policy and are not recorded.
 */
int ts_integrate__base(git_oid *out, int *found, ts_store *store, const git_oid *ours, const git_oid *theirs)
{
	git_repository *repo = ts_store__repo(store);
	git_oidarray bases = { NULL, 0 };
	git_oid tree, next, merged, pair_base, pair_tree;
	size_t i;
	int error = 0;

	*found = 0;
	if (git_merge_bases(&bases, repo, ours, theirs) < 0 || bases.count == 0) {
		git_oidarray_dispose(&bases);
		return 0;   /* no common ancestor: the empty tree */
	}
	*found = 1;
	if ((error = ts_store__commit_tree(&tree, store, &bases.ids[0])) < 0)
		goto done;
	for (i = 1; i < bases.count; i++) {
		int has_pair = git_merge_base(&pair_base, repo, &bases.ids[0], &bases.ids[i]) == 0;
		if ((error = ts_store__commit_tree(&next, store, &bases.ids[i])) < 0 ||
		    (has_pair && (error = ts_store__commit_tree(&pair_tree, store, &pair_base)) < 0) ||
		    (error = ts_merge__trees(&merged, NULL, store, has_pair ? &pair_tree : NULL, &tree, &next, NULL)) < 0)
			goto done;
		git_oid_cpy(&tree, &merged);
	}
	git_oid_cpy(out, &tree);
done:
	git_oidarray_dispose(&bases);
	return error;
}

static const char *committer_node(git_repository *repo, const git_oid *id, char *buf, size_t size)
{
	git_commit *c = NULL;
	buf[0] = '\0';
	if (git_commit_lookup(&c, repo, id) == 0) {
		snprintf(buf, size, "%s", git_commit_committer(c)->name);
		git_commit_free(c);
	}
	return buf;
}

/* How long a local write may wait for a transaction of a long apply. */
#define BATCH_MS 30

/* The most a merge keeps of its walks for the apply (diffmemo.h): some
 * 30,000 changed rows; past it, the apply reads the rest again. */
#define KEPT_WALK_BYTES (4 * 1024 * 1024)

/* ts_meta: the tree the database is on its way to, while an apply runs. */
#define APPLYING TS_META_APPLYING

/*
 * Undoes an apply toward `target` that did not finish: the database goes
 * back to its head's tree, with the staged writes laid over it again. Takes
 * its own write transaction.
 */
static int roll_back(sqlite3 *db, ts_store *store, ts_tables *tables, const git_oid *target)
{
	git_repository *repo = ts_store__repo(store);
	ts_apply_stats undone;
	git_oid head, head_tree;
	int error;

	memset(&undone, 0, sizeof(undone));
	if ((error = ts_history__head(&head, db)) < 0 ||
	    (error = ts_store__commit_tree(&head_tree, store, &head)) < 0 ||
	    (error = exec(db, "BEGIN IMMEDIATE")) < 0)
		return error;
	/* taking back rows of append-only tables is what their triggers refuse;
	 * here it restores the node's own committed state */
	sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
	if ((error = ts_apply__batched(&undone, db, repo, tables, target, &head_tree, NULL, BATCH_MS, NULL, 0)) < 0 ||
	    (error = ts_apply__staged(db, repo, tables, &head_tree, &undone)) < 0 ||
	    (error = ts_meta__set(db, APPLYING, NULL)) < 0 ||
	    (error = exec(db, "COMMIT")) < 0)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 1, NULL);
	ts_apply__stats_dispose(&undone);
	return error;
}

static int still_marked(sqlite3 *db)
{
	char *hex = ts_meta__get(db, APPLYING);
	free(hex);
	return hex != NULL;
}

/* Undoes the apply ts_meta names, if any; the store's lock is held. */
static int undo_marked(sqlite3 *db, ts_store *store, ts_tables *tables)
{
	char *hex = ts_meta__get(db, APPLYING);
	git_oid target;
	int error = 0;

	if (!hex)
		return 0;
	if (git_oid_fromstr(&target, hex) < 0)
		error = ts_error_set(TS_ECORRUPT, "ts_meta names an apply toward '%s', which is no tree id", hex);
	free(hex);
	if (error == 0) {
		sqlite3_exec(db, "PRAGMA foreign_keys = OFF", NULL, NULL, NULL);
		error = roll_back(db, store, tables, &target);
		sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	}
	return error;
}

int ts_integrate__recover(sqlite3 *db, ts_store *store, int *recovered)
{
	ts_tables *tables = NULL;
	int locked, error = 0;

	*recovered = 0;
	if (!still_marked(db))
		return 0;
	/* a live pull holds the lock and owns the mark: leave it to it */
	if ((locked = ts_store__trylock(store)) <= 0)
		return locked;
	if (still_marked(db) && (error = ts_tables__load(&tables, db)) == 0 &&
	    (error = undo_marked(db, store, tables)) == 0)
		*recovered = 1;
	ts_store__unlock(store);
	ts_tables__free(tables);
	return error;
}

/*
 * The order of an integration. The store's lock is held throughout (no
 * commit can move the head meanwhile), the database's write lock only in
 * short stretches, so local writes go on:
 *   1. the target tree is computed without the database's lock: their tree
 *      for a fast-forward; else the merge, with the records of its
 *      conflicts added as rows of sync_conflicts; its objects are made
 *      durable;
 *   2. ts_meta records the target, and the rows are applied in
 *      transactions a local write waits for no longer than BATCH_MS;
 *      rows of staged local writes are left;
 *   3. rows left breaking a foreign key are looked for (a read), recorded
 *      in the tree too, and the merge commit is written; every object is
 *      made durable (so the last step may empty the journal);
 *   4. one short transaction lays the staged writes over the rows left in
 *      2, keeps the records of 3, clears the mark and moves the head.
 * If the process dies between 2 and 4, open undoes the partial apply
 * (ts_integrate__recover); an error does the same at once.
 */
int ts_integrate(git_oid *out, ts_integrate_stats *stats, sqlite3 *db, ts_store *store,
	const git_oid *theirs, const ts_store_who *author, const ts_store_who *committer,
	const char *message, ts_merge_policy policy, void *policy_payload, ts_progress_meter *progress)
{
	git_repository *repo = ts_store__repo(store);
	ts_integrate_stats none;
	ts_tables *tables = NULL;
	ts_apply_stats applied;
	ts_merge_options opts;
	ts_diffmemo *memo = NULL;
	const git_oid *target = NULL;
	git_oid ours, base_tree, ours_tree, theirs_tree, merged, recorded, final, head;
	git_oid parents[2];
	char ours_hex[GIT_OID_HEXSZ + 1], theirs_hex[GIT_OID_HEXSZ + 1], target_hex[GIT_OID_HEXSZ + 1];
	char ours_node[128], theirs_node[128];
	char sql[64];
	recorder rec;
	size_t rows = 0;
	int has_base, fast, marked = 0, synchronous, error;

	memset(&applied, 0, sizeof(applied));
	if (!stats)
		stats = &none;
	memset(stats, 0, sizeof(*stats));
	if ((error = ts_store__lock(store)) < 0)
		return error;
	ts_store__clean_debris(store);
	/* foreign keys are checked by hand below; the pragma is a no-op inside
	 * a transaction, so it goes first */
	sqlite3_exec(db, "PRAGMA foreign_keys = OFF", NULL, NULL, NULL);
	if ((error = ts_history__head(&ours, db)) < 0)
		goto done;
	git_oid_cpy(out, &ours);
	if (git_oid_equal(&ours, theirs) || git_graph_descendant_of(repo, &ours, theirs) == 1) {
		stats->result = TS_INTEGRATE_UP_TO_DATE;
		goto done;
	}
	if ((error = ts_tables__load(&tables, db)) < 0)
		goto done;
	/* an earlier apply this process could not undo is undone first */
	if (still_marked(db) && (error = undo_marked(db, store, tables)) < 0)
		goto done;
	if ((error = ts_store__commit_tree(&ours_tree, store, &ours)) < 0 ||
	    (error = ts_store__commit_tree(&theirs_tree, store, theirs)) < 0)
		goto done;

	/* 1. what the database becomes */
	fast = git_graph_descendant_of(repo, theirs, &ours) == 1;
	git_oid_tostr(ours_hex, sizeof(ours_hex), &ours);
	git_oid_tostr(theirs_hex, sizeof(theirs_hex), theirs);
	memset(&rec, 0, sizeof(rec));
	rec.db = db;
	rec.stats = stats;
	rec.progress = progress;
	rec.origin.ours_commit = ours_hex;
	rec.origin.theirs_commit = theirs_hex;
	rec.origin.ours_node = committer_node(repo, &ours, ours_node, sizeof(ours_node));
	rec.origin.theirs_node = committer_node(repo, theirs, theirs_node, sizeof(theirs_node));
	if ((error = ts_conflicts__pending_begin(db)) < 0)
		goto done;
	if (fast) {
		/* the objects the fetch wrote, and the recent commits the journal
		 * still covers, are made durable before the database refers to them */
		target = &theirs_tree;
		if ((error = ts_store__sync(store)) < 0)
			goto done;
	} else {
		memset(&opts, 0, sizeof(opts));
		opts.policy = policy;
		opts.policy_payload = policy_payload;
		opts.on_conflict = record_conflict;
		opts.conflict_payload = &rec;
		opts.tables = tables;
		opts.progress = progress;
		/* the apply below walks what the merge walked: kept, not read again
		 * (a memo that cannot be had only costs that second reading) */
		opts.memo = memo = ts_diffmemo__new(KEPT_WALK_BYTES);
		/* most of the result is rows and trees the fetch brought: not again */
		ts_store__reuse_objects(store, 1);
		error = ts_integrate__base(&base_tree, &has_base, store, &ours, theirs);
		if (error == 0)
			error = ts_merge__trees(&merged, NULL, store, has_base ? &base_tree : NULL, &ours_tree,
				&theirs_tree, &opts);
		ts_store__reuse_objects(store, 0);
		if (error < 0 ||
		    (error = pending_updates(&recorded, store, db, tables, &merged)) < 0 ||
		    (error = ts_conflicts__pending_begin(db)) < 0 ||
		    (error = ts_store__flush(store)) < 0 ||
		    (error = ts_store__sync(store)) < 0)
			goto done;
		target = &recorded;
	}

	/* 2. the rows, in short transactions. They need not be durable one by
	 * one: a crash undoes them all, and the last transaction's sync makes
	 * them durable with it (a write-ahead log is replayed in order, so the
	 * mark always survives with any batch after it). */
	git_oid_tostr(target_hex, sizeof(target_hex), target);
	/* the total for the progress, counted before the write lock is taken */
	if (ts_progress__wanted(progress) &&
	    (error = ts_apply__count(&rows, repo, tables, &ours_tree, target, memo, progress)) < 0)
		goto done;
	if ((error = exec(db, "BEGIN IMMEDIATE")) < 0 ||
	    (error = ts_meta__set(db, APPLYING, target_hex)) < 0)
		goto done;
	marked = 1;
	synchronous = (int)ts_meta__pragma(db, "PRAGMA synchronous");
	if (synchronous > 1)
		sqlite3_exec(db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
	/* the last batch lays the staged writes over the rows the apply left,
	 * so that from its commit on every row is final: what step 3 checks,
	 * and what later local writes change */
	error = ts_apply__batched(&applied, db, repo, tables, &ours_tree, target, memo, BATCH_MS, progress, rows);
	if (error == 0)
		error = ts_apply__staged(db, repo, tables, target, &applied);
	if (error == 0)
		error = exec(db, "COMMIT");
	if (synchronous > 1) {
		snprintf(sql, sizeof(sql), "PRAGMA synchronous = %d", synchronous);
		sqlite3_exec(db, sql, NULL, NULL, NULL);
	}
	if (error < 0)
		goto done;
	stats->upserts = applied.upserts;
	stats->deletes = applied.deletes;

	/* 3. what the merge left breaking a foreign key, and the commit */
	if (fast) {
		/* a fast-forward is checked as a merge is: rows it leaves breaking
		 * a foreign key are recorded, in a commit on top of theirs */
		stats->result = TS_INTEGRATE_FAST_FORWARD;
		if ((error = record_constraints(&rec, tables, &applied)) < 0 ||
		    (error = pending_updates(&final, store, db, tables, target)) < 0)
			goto done;
		if (git_oid_equal(&final, target))
			git_oid_cpy(&head, theirs);
		else if ((error = ts_store__commit(&head, NULL, store, &final, theirs, 1, author, committer,
				"record the rows a fast-forward left breaking a foreign key\n")) < 0 ||
		         (error = ts_store__flush(store)) < 0 ||
		         (error = ts_store__sync(store)) < 0)
			goto done;
	} else {
		if ((error = record_constraints(&rec, tables, &applied)) < 0 ||
		    (error = pending_updates(&final, store, db, tables, target)) < 0)
			goto done;
		git_oid_cpy(&parents[0], &ours);
		git_oid_cpy(&parents[1], theirs);
		if ((error = ts_store__commit(&head, NULL, store, &final, parents, 2, author, committer, message)) < 0 ||
		    (error = ts_store__flush(store)) < 0 ||
		    (error = ts_store__sync(store)) < 0)
			goto done;
		stats->result = TS_INTEGRATE_MERGED;
	}

	/* 4. one short transaction to the new head */
	if ((error = exec(db, "BEGIN IMMEDIATE")) < 0 ||
	    (error = ts_conflicts__pending_keep(db)) < 0 ||
	    (error = ts_meta__set(db, APPLYING, NULL)) < 0 ||
	    (error = ts_history__finish_durable(db, store, &head, fast ? "fast-forward" : message)) < 0)
		goto done;
	/* the packs that fetches and merges bring in are combined as commits'
	 * are (a node that mostly pulls seldom reaches a commit checkpoint);
	 * the merge is recorded by now, and a combining that fails leaves the
	 * packs as they were */
	ts_store__maintain(store, 0);
	git_oid_cpy(out, &head);
done:
	ts_progress__end(progress);
	if (error < 0) {
		ts_store__discard(store);
		if (!sqlite3_get_autocommit(db))
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		/* a partial apply is undone now; if that fails too, at the next open */
		if (marked && (marked = still_marked(db))) {
			char why[1024];
			snprintf(why, sizeof(why), "%s", ts_error_last() ? ts_error_last() : "the apply failed");
			roll_back(db, store, tables, target);
			ts_error_set(error, "%s", why);
		}
	}
	sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	ts_store__unlock(store);
	ts_apply__stats_dispose(&applied);
	ts_diffmemo__free(memo);
	ts_tables__free(tables);
	return error;
}
