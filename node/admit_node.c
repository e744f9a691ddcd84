/*
 * Admission at a node: what a lower node offers (a submission being
 * merged, a push the gate is receiving) and what a pull brings from above
 * are checked by the engine's admission (sync/admit.h) against this node's
 * tables, ownership rules and limits before anything of it is written.
 */
#include <stdlib.h>
#include <string.h>

#include "admit.h"
#include "capture.h"
#include "history.h"
#include "integrate.h"
#include "ownership.h"
#include "rowcodec.h"
#include "node.h"
#include "tiers.h"

/* Lets the node's repository read an offer's objects from `objects_dir`
 * too (git's quarantine of a push being received). */
static int add_offer_objects(ts_node *node, const char *objects_dir)
{
	git_odb *odb = NULL;
	int error = 0;

	if (git_repository_odb(&odb, ts_store_repo(node->store)) < 0 || git_odb_add_disk_alternate(odb, objects_dir) < 0)
		error = ts_store__git_error(TS_ERROR, "reading the offered objects");
	git_odb_free(odb);
	return error;
}

int ts_node__admit(ts_node *node, git_repository *repo, const char *from, const git_oid *theirs)
{
	ts_admit_options opts;
	ts_node__offer_keys *keys = NULL;
	git_oid head, base;
	int error, has_head, found = 0;

	memset(&opts, 0, sizeof(opts));
	opts.db = node->db;
	opts.writer = from;
	error = ts_history_head(&head, node->db);
	if (error < 0 && error != TS_ENOTFOUND)
		return error;
	has_head = error == 0;
	/* an offer from below is checked against the base its merge uses, so
	 * that what is checked is what the merge takes from it */
	if (!repo && has_head) {
		if ((error = ts_integrate_base(&base, &found, node->store, &head, theirs)) < 0)
			return error;
		opts.base_tree = found ? &base : NULL;
		opts.no_base = !found;
	}
	if (!has_head)
		memset(&head, 0, sizeof(head));
	/* a pull merges what its fetch admitted a moment ago: its commits
	 * (signatures, shapes) are not walked again, only its tree */
	opts.commits_checked = !from && git_oid_equal(theirs, &node->admitted) &&
		git_oid_equal(&head, &node->admitted_head);
	if (!repo)
		repo = ts_store_repo(node->store);
	if ((error = ts_node__offer_keys_load(&keys, node, repo, theirs, from)) < 0)
		return error;
	opts.commit_check = ts_node__offer_commit_check;
	opts.payload = keys;
	error = ts_admit(repo, has_head ? &head : NULL, theirs, &opts);
	ts_node__offer_keys_free(keys);
	if (!error && !from) {
		git_oid_cpy(&node->admitted, theirs);
		git_oid_cpy(&node->admitted_head, &head);
	}
	return error;
}

int ts_node_admit(ts_node *node, const char *from, const char *commit_hex, const char *objects_dir)
{
	git_oid theirs;
	int error;

	if (!node || !from || !ts_node_id_valid(from) || !commit_hex || strlen(commit_hex) != 40 ||
	    git_oid_fromstr(&theirs, commit_hex) < 0)
		return ts_error_set(TS_EINVALID, "admission needs a node id and a commit id");
	if (!ts_jurisdiction_covers(node->id, from) || !strcmp(node->id, from))
		return ts_error_set(TS_EDENIED, "%s is not a node below %s", from, node->id);
	if (objects_dir && (error = add_offer_objects(node, objects_dir)) < 0)
		return error;
	return ts_node__admit(node, NULL, from, &theirs);
}

/*
 * Local writes pass the same ownership rules as what arrives: a write that
 * breaks one (a street changing another street's case) is refused before
 * anything of it is staged.
 */
typedef struct {
	ts_node *node;
	const char *writer;
	ts_tables *tables;
	ts_ownership *rules;
} local_write;

/* The row of `t` with key `keys` as the database holds it now; 0 if none. */
static int db_row(ts_row **out, sqlite3 *db, ts_table *t, sqlite3_value **keys, const ts_value *key_values)
{
	ts_buf blob = TS_BUF_INIT;
	int found;

	*out = NULL;
	found = keys ? ts_table_read(&blob, db, t, keys) : ts_table_read_values(&blob, db, t, key_values);
	if (found > 0 && ts_rowcodec_decode(out, blob.ptr, blob.size) < 0)
		found = TS_ECORRUPT;
	ts_buf_dispose(&blob);
	return found;
}

/* ts_ownership_lookup over the database as it is now, or, for a row named
 * by its path only, over the head commit. */
static int local_lookup(ts_row **out, const char *table, const ts_value *key, const char *path, void *payload)
{
	local_write *w = payload;
	ts_table *t = ts_tables_find(w->tables, table);
	int found;

	if (!key) {
		found = ts_node__head_row(out, w->node, path);
		return found == TS_ENOTFOUND ? 0 : found < 0 ? found : 1;
	}
	return t && t->npk == 1 ? db_row(out, w->node->db, t, NULL, key) : 0;
}

/* A row of `t` from `now` with the columns the operation changed taken
 * from its old values (or, with now NULL, the old values of a delete). */
static int row_before(ts_row **out, ts_table *t, const ts_row *now, sqlite3_changeset_iter *it)
{
	ts_value *values = NULL;
	ts_buf blob = TS_BUF_INIT;
	int i, error = 0;

	*out = NULL;
	if (!(values = calloc((size_t)t->ncol, sizeof(*values))))
		return ts_error_set(TS_ERROR, "out of memory");
	for (i = 0; i < t->ncol && !error; i++) {
		sqlite3_value *old = NULL;
		if (sqlite3changeset_old(it, i, &old) == SQLITE_OK && old)
			error = ts_value_from_sqlite(&values[i], old);
		else if (now)
			error = ts_value_copy(&values[i], &now->values[i]);
		else
			values[i].type = SQLITE_NULL;
	}
	if (!error && ts_rowcodec_encode_values(&blob, t->ncol, (const char *const *)t->cols, values) < 0)
		error = TS_ERROR;
	if (!error)
		error = ts_rowcodec_decode(out, blob.ptr, blob.size);
	for (i = 0; i < t->ncol; i++)
		ts_value_clear(&values[i]);
	free(values);
	ts_buf_dispose(&blob);
	return error;
}

static int check_local_op(sqlite3_changeset_iter *it, void *payload)
{
	local_write *w = payload;
	sqlite3_value *keys[64];
	ts_row *before = NULL, *after = NULL;
	ts_buf key = TS_BUF_INIT;
	ts_table *t;
	int op, error;

	if ((error = ts_staged_op_key(&t, &op, keys, NULL, w->tables, it)) < 0)
		return error;
	if (!ts_ownership_covers(w->rules, t->name))
		return 0;
	if (op != SQLITE_DELETE && (error = db_row(&after, w->node->db, t, keys, NULL)) < 0)
		goto done;
	if (op != SQLITE_INSERT && (error = row_before(&before, t, op == SQLITE_UPDATE ? after : NULL, it)) < 0)
		goto done;
	ts_table_put_key(&key, t, after ? after : before);
	error = ts_ownership_check(w->rules, w->writer, t->name, ts_buf_cstr(&key), before, after, NULL,
		local_lookup, w);
done:
	ts_row_free(before);
	ts_row_free(after);
	ts_buf_dispose(&key);
	return error > 0 ? 0 : error;
}

/* The rules as the head commit holds them: they change only by a merge
 * or migration, never by a local write (they are the migrations' alone). */
static int head_rules(ts_ownership **out, ts_node *node)
{
	git_oid head;
	int error = ts_history_head(&head, node->db);

	if (error == TS_ENOTFOUND)
		memset(&head, 0, sizeof(head));
	else if (error < 0)
		return error;
	if (!node->rules || !git_oid_equal(&head, &node->rules_head)) {
		ts_ownership_free(node->rules);
		node->rules = NULL;
		if ((error = ts_ownership_load(&node->rules, node->db)) < 0)
			return error;
		git_oid_cpy(&node->rules_head, &head);
	}
	*out = node->rules;
	return 0;
}

int ts_node__check_write(ts_node *node, const char *writer, ts_capture *cap)
{
	local_write w = { node, writer, NULL, NULL };
	int error;

	if ((error = ts_node__tables(&w.tables, node)) < 0 || (error = head_rules(&w.rules, node)) < 0)
		return error;
	return ts_capture_foreach_op(cap, check_local_op, &w);
}
