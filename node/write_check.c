/*
 * The check of a local write: what a command writes passes the same
 * ownership rules as what arrives from another node (node/admit_node.c),
 * before anything of it is staged. Also the two readings it rests on: the
 * node's synced tables, and a row of the head commit by its path.
 */
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "history.h"
#include "ownership.h"
#include "rowcodec.h"
#include "node.h"

int ts_node__tables(ts_tables **out, ts_node *node)
{
	int error = 0;

	if (!node->tables)
		error = ts_tables__load(&node->tables, node->db);
	*out = node->tables;
	return error;
}

int ts_node__head_row(ts_row **out, ts_node *node, const char *path)
{
	git_oid head, tree;
	git_tree *t = NULL;
	git_tree_entry *e = NULL;
	git_blob *blob = NULL;
	int error;

	*out = NULL;
	if ((error = ts_history__head(&head, node->db)) < 0 ||
	    (error = ts_store__commit_tree(&tree, node->store, &head)) < 0)
		return error;
	if (git_tree_lookup(&t, ts_store__repo(node->store), &tree) < 0 ||
	    git_tree_entry_bypath(&e, t, path) < 0 ||
	    git_blob_lookup(&blob, ts_store__repo(node->store), git_tree_entry_id(e)) < 0)
		error = ts_error_set(TS_ENOTFOUND, "the row %s is no longer in history", path);
	else
		error = ts_rowcodec__decode(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	git_blob_free(blob);
	git_tree_entry_free(e);
	git_tree_free(t);
	return error;
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
	found = keys ? ts_table__read(&blob, db, t, keys) : ts_table__read_values(&blob, db, t, key_values);
	if (found > 0 && ts_rowcodec__decode(out, blob.ptr, blob.size) < 0)
		found = TS_ECORRUPT;
	ts_buf__dispose(&blob);
	return found;
}

/* ts_ownership_lookup over the database as it is now, or, for a row named
 * by its path only, over the head commit. */
static int local_lookup(ts_row **out, const char *table, const ts_value *key, const char *path, void *payload)
{
	local_write *w = payload;
	ts_table *t = ts_tables__find(w->tables, table);
	int found;

	if (!key) {
		found = ts_node__head_row(out, w->node, path);
		return found == TS_ENOTFOUND ? 0 : found < 0 ? found : 1;
	}
	return t && t->npk == 1 ? db_row(out, w->node->db, t, NULL, key) : 0;
}

/* A row of `t` from the operation: an insert's new values (`inserted`),
 * else from `now` with the columns the operation changed taken from their
 * old values (or, with now NULL, the old values of a delete). */
static int row_of_op(ts_row **out, ts_table *t, const ts_row *now, sqlite3_changeset_iter *it, int inserted)
{
	ts_value *values = NULL;
	int i, error = 0;

	*out = NULL;
	if (!(values = calloc((size_t)t->ncol, sizeof(*values))))
		return ts_error_set(TS_ERROR, "out of memory");
	for (i = 0; i < t->ncol && !error; i++) {
		sqlite3_value *old = NULL;
		if ((inserted ? sqlite3changeset_new(it, i, &old) : sqlite3changeset_old(it, i, &old)) == SQLITE_OK && old)
			error = ts_value__from_sqlite(&values[i], old);
		else if (now)
			error = ts_value__copy(&values[i], &now->values[i]);
		else
			values[i].type = SQLITE_NULL;
	}
	if (!error)
		error = ts_row__take(out, t->ncol, (const char *const *)t->cols, values);
	for (i = 0; i < t->ncol; i++)
		ts_value__dispose(&values[i]);
	free(values);
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

	if ((error = ts_staged__op_key(&t, &op, keys, NULL, w->tables, it)) < 0)
		return error;
	if (!ts_ownership__covers(w->rules, t->name))
		return 0;
	/* an insert's row is whole in the changeset; an update's only in part */
	if ((op == SQLITE_INSERT && (error = row_of_op(&after, t, NULL, it, 1)) < 0) ||
	    (op == SQLITE_UPDATE && (error = db_row(&after, w->node->db, t, keys, NULL)) < 0))
		goto done;
	if (op != SQLITE_INSERT && (error = row_of_op(&before, t, op == SQLITE_UPDATE ? after : NULL, it, 0)) < 0)
		goto done;
	ts_table__put_key(&key, t, after ? after : before);
	error = ts_ownership__check(w->rules, w->writer, t->name, ts_buf__cstr(&key), before, after, NULL,
		local_lookup, w);
done:
	ts_row__free(before);
	ts_row__free(after);
	ts_buf__dispose(&key);
	return error > 0 ? 0 : error;
}

/* The rules as the head commit holds them: they change only by a merge
 * or migration, never by a local write (they are the migrations' alone). */
static int head_rules(ts_ownership **out, ts_node *node)
{
	git_oid head;
	int error = ts_history__head(&head, node->db);

	if (error == TS_ENOTFOUND)
		memset(&head, 0, sizeof(head));
	else if (error < 0)
		return error;
	if (!node->rules || !git_oid_equal(&head, &node->rules_head)) {
		ts_ownership__free(node->rules);
		node->rules = NULL;
		if ((error = ts_ownership__load(&node->rules, node->db)) < 0)
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
	return ts_capture__foreach_op(cap, check_local_op, &w);
}
