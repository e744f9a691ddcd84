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
#include "history.h"
#include "tables.h"
#include "tiersync.h"

typedef struct {
	sqlite3 *db;
	ts_conflict_origin origin;
	ts_integrate_stats *stats;
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
	error = ts_conflicts_record(id, r->db, c, &r->origin);
	if (error < 0)
		return error;
	r->stats->conflicts++;
	if (c->settled)
		r->stats->settled++;
	return 0;
}

static int record_table_constraints(recorder *r, ts_tables *tables, const char *table);

/* 1 when table `t` must be checked: rows of it were written, or it refers
 * to a table whose rows were (a deleted parent breaks its children). */
static int needs_check(sqlite3 *db, ts_tables *tables, const ts_apply_stats *applied, int t)
{
	sqlite3_stmt *st = NULL;
	int check = applied->touched[t];

	if (!check && sqlite3_prepare_v2(db, "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?1)",
			-1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, tables->t[t].name, -1, SQLITE_STATIC);
		while (!check && sqlite3_step(st) == SQLITE_ROW) {
			ts_table *parent = ts_tables_find(tables, (const char *)sqlite3_column_text(st, 0));
			check = parent && applied->touched[parent - tables->t];
		}
	}
	sqlite3_finalize(st);
	return check;
}

/* Rows breaking a foreign key after the merge: kept, and recorded. Only the
 * tables the merge could have broken are checked, so the cost follows the
 * merge, not the size of the database. */
static int record_constraints(recorder *r, ts_tables *tables, const ts_apply_stats *applied)
{
	int t, error;
	for (t = 0; t < tables->n; t++)
		if (needs_check(r->db, tables, applied, t) &&
		    (error = record_table_constraints(r, tables, tables->t[t].name)) < 0)
			return error;
	return 0;
}

static int record_table_constraints(recorder *r, ts_tables *tables, const char *table)
{
	sqlite3_stmt *check = NULL, *fk = NULL;
	ts_buf path = TS_BUF_INIT, key = TS_BUF_INIT, blob = TS_BUF_INIT, sql = TS_BUF_INIT;
	int error = 0, rc;

	if (sqlite3_prepare_v2(r->db, "SELECT \"table\", rowid, parent, fkid FROM pragma_foreign_key_check(?1)",
			-1, &check, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db, "SELECT \"from\" FROM pragma_foreign_key_list(?1) WHERE id = ?2",
			-1, &fk, NULL) != SQLITE_OK) {
		error = ts_error_set(TS_ERROR, "checking foreign keys: %s", sqlite3_errmsg(r->db));
		goto done;
	}
	sqlite3_bind_text(check, 1, table, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(check)) == SQLITE_ROW) {
		const char *tname = (const char *)sqlite3_column_text(check, 0);
		ts_table *t = ts_tables_find(tables, tname);
		sqlite3_stmt *row = NULL;
		ts_row *decoded = NULL;
		char id[20];
		int k;

		if (!t)
			continue;
		sqlite3_bind_text(fk, 1, tname, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(fk, 2, sqlite3_column_int(check, 3));
		rc = sqlite3_step(fk);
		/* the row, read as the history encodes it */
		ts_buf_clear(&sql);
		ts_buf_puts(&sql, "SELECT ");
		for (k = 0; k < t->ncol; k++)
			ts_buf_printf(&sql, "%s\"%s\"", k ? ", " : "", t->cols[k]);
		ts_buf_printf(&sql, " FROM \"%s\" WHERE rowid = ?1", tname);
		if (sqlite3_prepare_v2(r->db, sql.ptr, -1, &row, NULL) != SQLITE_OK) {
			error = ts_error_set(TS_ERROR, "reading %s: %s", tname, sqlite3_errmsg(r->db));
			goto done;
		}
		sqlite3_bind_int64(row, 1, sqlite3_column_int64(check, 1));
		if (sqlite3_step(row) == SQLITE_ROW) {
			sqlite3_value *kv[64];
			for (k = 0; k < t->npk && k < 64; k++)
				kv[k] = sqlite3_column_value(row, t->pk[k]);
			ts_buf_clear(&path);
			ts_buf_clear(&key);
			if ((error = ts_rowcodec_key_path(&path, tname, t->npk, kv)) == 0 &&
			    (error = ts_rowcodec_encode_stmt(&blob, row)) == 0 &&
			    (error = ts_rowcodec_decode(&decoded, blob.ptr, blob.size)) == 0) {
				ts_table_put_key(&key, t, decoded);
				error = ts_conflicts_record_constraint(id, r->db, tname, path.ptr, key.ptr,
					rc == SQLITE_ROW ? (const char *)sqlite3_column_text(fk, 0) : NULL,
					(const char *)sqlite3_column_text(check, 2), &r->origin);
				r->stats->constraint_conflicts++;
			}
			ts_row_free(decoded);
		}
		sqlite3_finalize(row);
		sqlite3_reset(fk);
		if (error < 0)
			goto done;
	}
done:
	sqlite3_finalize(check);
	sqlite3_finalize(fk);
	ts_buf_dispose(&path);
	ts_buf_dispose(&key);
	ts_buf_dispose(&blob);
	ts_buf_dispose(&sql);
	return error;
}

/* The review queue's rows as tree updates, so that history carries them. */
static int conflict_updates(git_oid *out, ts_store *store, sqlite3 *db, ts_tables *tables,
	const git_oid *tree)
{
	ts_table *t = ts_tables_find(tables, TS_CONFLICTS_TABLE);
	ts_store_update *u = NULL;
	sqlite3_stmt *all = NULL;
	ts_buf path = TS_BUF_INIT, blob = TS_BUF_INIT;
	size_t n = 0, alloc = 0, i;
	int error = 0;

	if (!t)
		return ts_error_set(TS_ERROR, "the database has no %s table", TS_CONFLICTS_TABLE);
	if ((error = ts_table_scan(&all, db, t)) < 0)
		return error;
	while (sqlite3_step(all) == SQLITE_ROW) {
		sqlite3_value *key = sqlite3_column_value(all, t->pk[0]);
		if ((error = ts_store_update_reserve(&u, n, &alloc)) < 0)
			goto done;
		ts_buf_clear(&path);
		if ((error = ts_rowcodec_key_path(&path, t->name, 1, &key)) < 0 ||
		    (error = ts_rowcodec_encode_stmt(&blob, all)) < 0)
			goto done;
		u[n].path = ts_buf_detach(&path);
		u[n].len = blob.size;
		u[n].data = ts_buf_detach(&blob);
		n++;
	}
	error = ts_store_tree_update(out, store, tree, u, n);
done:
	sqlite3_finalize(all);
	for (i = 0; i < n; i++) {
		free((char *)u[i].path);
		free((char *)u[i].data);
	}
	free(u);
	ts_buf_dispose(&path);
	ts_buf_dispose(&blob);
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
static int merge_base_tree(git_oid *out, int *found, ts_store *store, const git_oid *ours, const git_oid *theirs)
{
	git_repository *repo = ts_store_repo(store);
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
	if ((error = ts_store_commit_tree(&tree, store, &bases.ids[0])) < 0)
		goto done;
	for (i = 1; i < bases.count; i++) {
		int has_pair = git_merge_base(&pair_base, repo, &bases.ids[0], &bases.ids[i]) == 0;
		if ((error = ts_store_commit_tree(&next, store, &bases.ids[i])) < 0 ||
		    (has_pair && (error = ts_store_commit_tree(&pair_tree, store, &pair_base)) < 0) ||
		    (error = ts_merge_trees(&merged, NULL, store, has_pair ? &pair_tree : NULL, &tree, &next, NULL)) < 0)
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

int ts_integrate(git_oid *out, ts_integrate_stats *stats, sqlite3 *db, ts_store *store,
	const git_oid *theirs, const ts_store_who *author, const ts_store_who *committer,
	const char *message, ts_merge_policy policy, void *policy_payload)
{
	git_repository *repo = ts_store_repo(store);
	ts_integrate_stats none;
	ts_tables *tables = NULL;
	ts_apply_stats applied;
	ts_merge_options opts;
	git_oid ours, base_tree, ours_tree, theirs_tree, merged, final;
	git_oid parents[2];
	char ours_hex[GIT_OID_HEXSZ + 1], theirs_hex[GIT_OID_HEXSZ + 1], ours_node[128], theirs_node[128];
	recorder rec;
	int has_base, error;

	if (!stats)
		stats = &none;
	memset(stats, 0, sizeof(*stats));
	/* foreign keys are checked by hand below; the pragma is a no-op inside
	 * a transaction, so it goes first */
	sqlite3_exec(db, "PRAGMA foreign_keys = OFF", NULL, NULL, NULL);
	if ((error = ts_history_begin(db, store)) < 0)
		goto done;
	if ((error = ts_history_head(&ours, db)) < 0)
		goto done;
	git_oid_cpy(out, &ours);
	if (ts_capture_count(db) > 0) {
		error = ts_error_set(TS_ECONFLICT, "there are staged writes; commit them before merging");
		goto done;
	}
	if (git_oid_equal(&ours, theirs) || git_graph_descendant_of(repo, &ours, theirs) == 1) {
		stats->result = TS_INTEGRATE_UP_TO_DATE;
		goto done;
	}
	if ((error = ts_tables_load(&tables, db)) < 0 ||
	    (error = ts_store_commit_tree(&ours_tree, store, &ours)) < 0 ||
	    (error = ts_store_commit_tree(&theirs_tree, store, theirs)) < 0)
		goto done;

	if (git_graph_descendant_of(repo, theirs, &ours) == 1) {
		/* fast-forward: their history already holds ours */
		if ((error = ts_apply(&applied, db, repo, tables, &ours_tree, &theirs_tree)) < 0)
			goto done;
		stats->result = TS_INTEGRATE_FAST_FORWARD;
		stats->upserts = applied.upserts;
		stats->deletes = applied.deletes;
		git_oid_cpy(out, theirs);
		error = ts_history_finish(db, store, theirs, "fast-forward");
		goto done;
	}

	if ((error = merge_base_tree(&base_tree, &has_base, store, &ours, theirs)) < 0)
		goto done;
	git_oid_tostr(ours_hex, sizeof(ours_hex), &ours);
	git_oid_tostr(theirs_hex, sizeof(theirs_hex), theirs);
	rec.db = db;
	rec.stats = stats;
	rec.origin.ours_commit = ours_hex;
	rec.origin.theirs_commit = theirs_hex;
	rec.origin.ours_node = committer_node(repo, &ours, ours_node, sizeof(ours_node));
	rec.origin.theirs_node = committer_node(repo, theirs, theirs_node, sizeof(theirs_node));
	memset(&opts, 0, sizeof(opts));
	opts.policy = policy;
	opts.policy_payload = policy_payload;
	opts.on_conflict = record_conflict;
	opts.conflict_payload = &rec;
	opts.tables = tables;
	if ((error = ts_merge_trees(&merged, NULL, store, has_base ? &base_tree : NULL, &ours_tree,
			&theirs_tree, &opts)) < 0 ||
	    (error = ts_apply(&applied, db, repo, tables, &ours_tree, &merged)) < 0 ||
	    (error = record_constraints(&rec, tables, &applied)) < 0)
		goto done;
	stats->upserts = applied.upserts;
	stats->deletes = applied.deletes;
	if (stats->conflicts || stats->constraint_conflicts) {
		if ((error = conflict_updates(&final, store, db, tables, &merged)) < 0)
			goto done;
	} else
		git_oid_cpy(&final, &merged);
	git_oid_cpy(&parents[0], &ours);
	git_oid_cpy(&parents[1], theirs);
	if ((error = ts_store_commit(out, NULL, store, &final, parents, 2, author, committer, message)) < 0)
		goto done;
	stats->result = TS_INTEGRATE_MERGED;
	error = ts_history_finish(db, store, out, message);
done:
	if (error < 0)
		ts_store_discard(store);
	ts_history_end(db, store);
	sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	ts_tables_free(tables);
	return error;
}
