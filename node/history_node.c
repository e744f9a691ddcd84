/*
 * History read back through the public API (tiersync/history.h): the log,
 * diff and blame of sync/audit.c, with commit ids as hex, times as ISO-8601
 * text and values as ts_cell. What a callback receives is built here, in
 * memory this file owns and releases once the callback has returned.
 */
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "error.h"
#include "node.h"

static int out_of_memory(void)
{
	return ts_error_set(TS_ERROR, "out of memory");
}

const char *ts_change_op_name(ts_change_op op)
{
	switch (op) {
	case TS_CHANGE_INSERT: return "insert";
	case TS_CHANGE_UPDATE: return "update";
	case TS_CHANGE_DELETE: return "delete";
	}
	return "?";
}

static ts_change_op change_op(ts_audit_op op)
{
	switch (op) {
	case TS_AUDIT_INSERT: return TS_CHANGE_INSERT;
	case TS_AUDIT_UPDATE: return TS_CHANGE_UPDATE;
	case TS_AUDIT_DELETE: return TS_CHANGE_DELETE;
	}
	return (ts_change_op)0;
}

/* Fills `cell` from `v`, pointing into its bytes; all but `display`. */
static void cell_fill(ts_cell *cell, const ts_value *v)
{
	memset(cell, 0, sizeof(*cell));
	switch (v->type) {
	case SQLITE_INTEGER:
		cell->type = TS_CELL_INTEGER;
		cell->integer = v->i;
		break;
	case SQLITE_FLOAT:
		cell->type = TS_CELL_FLOAT;
		cell->real = v->r;
		break;
	case SQLITE_TEXT:
	case SQLITE_BLOB:
		cell->type = v->type == SQLITE_TEXT ? TS_CELL_TEXT : TS_CELL_BLOB;
		cell->bytes = v->p ? v->p : "";
		cell->len = v->p ? v->n : 0;
		break;
	default:
		cell->type = TS_CELL_NULL;
		break;
	}
}

/*
 * A change in its public form and the memory it points into: the values'
 * bytes and the column names stay in the audit change's rows, which live
 * as long as the change; the cells and their display text are here.
 */
typedef struct {
	ts_change pub;
	ts_column_change *columns;
	ts_cell *cells;          /* two per column: old, new */
	size_t *display_at;      /* each cell's display text: an offset into `display` */
	size_t ncolumns;
	ts_buf display;          /* NUL-separated; grows, so pointers are set at the end */
	ts_buf old_text, new_text;
	size_t room;             /* columns allocated */
} change_view;

static void change_view_dispose(change_view *v)
{
	free(v->columns);
	free(v->cells);
	free(v->display_at);
	ts_buf__dispose(&v->display);
	ts_buf__dispose(&v->old_text);
	ts_buf__dispose(&v->new_text);
	memset(v, 0, sizeof(*v));
}

static int count_column(const ts_audit_column *column, void *payload)
{
	(void)column;
	(*(size_t *)payload)++;
	return 0;
}

/* Takes the cell `k` of the view from `value` (NULL: absent on that side). */
static const ts_cell *put_cell(change_view *v, size_t k, const ts_value *value)
{
	if (!value)
		return NULL;
	cell_fill(&v->cells[k], value);
	v->display_at[k] = v->display.size;
	ts_audit__put_value(&v->display, value);
	ts_buf__putc(&v->display, '\0');
	return &v->cells[k];
}

static int fill_column(const ts_audit_column *column, void *payload)
{
	change_view *v = payload;
	ts_column_change *c;

	if (v->ncolumns == v->room)
		return ts_error_set(TS_ERROR, "the columns of %s changed while being read", v->pub.key);
	c = &v->columns[v->ncolumns];
	c->column = column->column;
	c->old_value = put_cell(v, 2 * v->ncolumns, column->old_value);
	c->new_value = put_cell(v, 2 * v->ncolumns + 1, column->new_value);
	v->ncolumns++;
	return 0;
}

/* Builds the public form of `change` (its rows loaded, for a row) into `v`;
 * dispose of `v` whatever this returns. */
static int change_view_build(change_view *v, const ts_audit_change *change)
{
	size_t n = 0, k;
	int error;

	memset(v, 0, sizeof(*v));
	v->pub.op = change_op(change->op);
	v->pub.table = change->table;
	v->pub.key = change->key;
	if (!change->table) {
		if (change->old_data) {
			ts_buf__put(&v->old_text, change->old_data, change->old_len);
			v->pub.old_len = change->old_len;
		}
		if (change->new_data) {
			ts_buf__put(&v->new_text, change->new_data, change->new_len);
			v->pub.new_len = change->new_len;
		}
		if (ts_buf__oom(&v->old_text) || ts_buf__oom(&v->new_text))
			return TS_ERROR;
		v->pub.old_text = change->old_data ? ts_buf__cstr(&v->old_text) : NULL;
		v->pub.new_text = change->new_data ? ts_buf__cstr(&v->new_text) : NULL;
		return 0;
	}
	if ((error = ts_audit__columns(change, count_column, &n)) != 0 || n == 0)
		return error;
	v->columns = calloc(n, sizeof(*v->columns));
	v->cells = calloc(2 * n, sizeof(*v->cells));
	v->display_at = calloc(2 * n, sizeof(*v->display_at));
	if (!v->columns || !v->cells || !v->display_at)
		return out_of_memory();
	v->room = n;
	if ((error = ts_audit__columns(change, fill_column, v)) != 0)
		return error;
	if (ts_buf__oom(&v->display))
		return TS_ERROR;
	for (k = 0; k < v->ncolumns; k++) {
		if (v->columns[k].old_value)
			v->cells[2 * k].display = v->display.ptr + v->display_at[2 * k];
		if (v->columns[k].new_value)
			v->cells[2 * k + 1].display = v->display.ptr + v->display_at[2 * k + 1];
	}
	v->pub.columns = v->columns;
	v->pub.ncolumns = v->ncolumns;
	return 0;
}

/*
 * Diff.
 */

typedef struct {
	int (*cb)(const ts_change *change, void *payload);
	void *payload;
} diff_run;

static int diff_one(const ts_audit_change *change, void *payload)
{
	diff_run *run = payload;
	change_view view;
	int error;

	if ((error = change_view_build(&view, change)) == 0)
		error = run->cb(&view.pub, run->payload);
	change_view_dispose(&view);
	return error;
}

int ts_node_diff(char from_id[41], char to_id[41], ts_node *node, const char *from_rev,
	const char *to_rev, int (*cb)(const ts_change *change, void *payload), void *payload)
{
	git_repository *repo = ts_store__repo(node->store);
	git_commit *from = NULL, *to = NULL;
	git_tree *from_tree = NULL, *to_tree = NULL;
	ts_tables *tables = NULL;
	diff_run run = { cb, payload };
	int error;

	from_id[0] = to_id[0] = '\0';
	if ((error = ts_store__publish(node->store)) < 0)
		return error;
	if (!cb)
		return ts_error_set(TS_EINVALID, "a diff needs a callback");
	if (!to_rev)
		to_rev = "HEAD";
	if ((from_rev && (error = ts_audit__resolve(&from, repo, from_rev)) < 0) ||
	    (error = ts_audit__resolve(&to, repo, to_rev)) < 0 ||
	    (error = ts_node__tables(&tables, node)) < 0)
		goto done;
	if ((from && git_commit_tree(&from_tree, from) < 0) || git_commit_tree(&to_tree, to) < 0) {
		error = ts_error_set(TS_ECORRUPT, "reading the trees of %s and %s",
			from_rev ? from_rev : "the empty state", to_rev);
		goto done;
	}
	if (from)
		git_oid_tostr(from_id, 41, git_commit_id(from));
	git_oid_tostr(to_id, 41, git_commit_id(to));
	error = ts_audit__diff(repo, from_tree, to_tree, tables, TS_AUDIT_ROWS, NULL, diff_one, &run);
done:
	git_tree_free(from_tree);
	git_tree_free(to_tree);
	git_commit_free(from);
	git_commit_free(to);
	return error;
}

/*
 * Log.
 */

typedef struct {
	const ts_log_options *opts;
	int (*cb)(const ts_log_entry *entry, void *payload);
	void *payload;
} log_run;

static int concerns_record(const ts_audit_change *change, void *payload)
{
	const log_run *run = payload;
	return ts_audit__change_concerns(change, run->opts->table, run->opts->column, run->opts->key);
}

static int log_one(const ts_audit_entry *e, void *payload)
{
	log_run *run = payload;
	ts_log_entry entry;
	char (*parent_ids)[41] = NULL;
	const char **parents = NULL;
	change_view *views = NULL;
	ts_change *changes = NULL;
	size_t k;
	int error = 0;

	memset(&entry, 0, sizeof(entry));
	if (e->nparents) {
		parent_ids = calloc(e->nparents, sizeof(*parent_ids));
		parents = calloc(e->nparents, sizeof(*parents));
		if (!parent_ids || !parents) {
			error = out_of_memory();
			goto done;
		}
		for (k = 0; k < e->nparents; k++) {
			git_oid_tostr(parent_ids[k], sizeof(parent_ids[k]), git_commit_parent_id(e->commit, (unsigned)k));
			parents[k] = parent_ids[k];
		}
	}
	if (e->nchanges) {
		views = calloc(e->nchanges, sizeof(*views));
		changes = calloc(e->nchanges, sizeof(*changes));
		if (!views || !changes) {
			error = out_of_memory();
			goto done;
		}
		for (k = 0; k < e->nchanges; k++) {
			if ((error = change_view_build(&views[k], &e->changes[k])) != 0)
				goto done;
			changes[k] = views[k].pub;
		}
	}
	git_oid_tostr(entry.id, sizeof(entry.id), e->id);
	entry.parents = parents;
	entry.nparents = e->nparents;
	entry.author = e->author;
	entry.node = e->node;
	entry.committer = e->committer;
	entry.time = e->time;
	entry.offset = e->offset;
	ts_audit__time_format(entry.when, e->time, e->offset);
	entry.summary = e->summary;
	entry.inserts = e->inserts;
	entry.updates = e->updates;
	entry.deletes = e->deletes;
	entry.changes = changes;
	entry.nchanges = e->nchanges;
	error = run->cb(&entry, run->payload);
done:
	for (k = 0; views && k < e->nchanges; k++)
		change_view_dispose(&views[k]);   /* zeroed ones too */
	free(views);
	free(changes);
	free(parents);
	free(parent_ids);
	return error;
}

int ts_node_log(ts_node *node, const ts_log_options *opts,
	int (*cb)(const ts_log_entry *entry, void *payload), void *payload)
{
	static const ts_log_options defaults = TS_LOG_OPTIONS_INIT;
	ts_tables *tables = NULL;
	log_run run;
	int error;

	if ((error = ts_store__publish(node->store)) < 0)
		return error;
	if (!opts)
		opts = &defaults;
	if ((error = ts_error__version(opts->version, TS_LOG_OPTIONS_VERSION, "log options")) < 0)
		return error;
	if (!cb)
		return ts_error_set(TS_EINVALID, "a log needs a callback");
	if (opts->key && !opts->table && !opts->column)
		return ts_error_set(TS_EINVALID, "a log's record filter needs a table or a column to look in");
	if (!opts->key && (opts->table || opts->column))
		return ts_error_set(TS_EINVALID, "a log's record filter needs the record's key");
	if ((error = ts_node__tables(&tables, node)) < 0)
		return error;
	run.opts = opts;
	run.cb = cb;
	run.payload = payload;
	return ts_audit__log(ts_store__repo(node->store), opts->start, tables,
		opts->key ? concerns_record : NULL, log_one, &run);
}

/*
 * Blame.
 */

typedef struct {
	int (*cb)(const ts_blame_line *line, void *payload);
	void *payload;
	size_t nlines;
	ts_buf display;
} blame_run;

static int blame_one(const ts_audit_blame_line *l, void *payload)
{
	blame_run *run = payload;
	ts_blame_line line;

	memset(&line, 0, sizeof(line));
	line.column = l->column;
	cell_fill(&line.value, l->value);
	ts_buf__clear(&run->display);
	ts_audit__put_value(&run->display, l->value);
	if (ts_buf__oom(&run->display))
		return TS_ERROR;
	line.value.display = ts_buf__cstr(&run->display);
	git_oid_tostr(line.commit, sizeof(line.commit), l->commit);
	line.author = l->author;
	line.node = l->node;
	line.time = l->time;
	line.offset = l->offset;
	ts_audit__time_format(line.when, l->time, l->offset);
	line.summary = l->summary;
	run->nlines++;
	return run->cb(&line, run->payload);
}

int ts_node_blame(char head_out[41], ts_node *node, const char *rev, const char *table,
	const char *key, int (*cb)(const ts_blame_line *line, void *payload), void *payload)
{
	git_repository *repo = ts_store__repo(node->store);
	git_commit *commit = NULL;
	ts_tables *tables = NULL;
	ts_buf path = TS_BUF_INIT;
	blame_run run = { cb, payload, 0, TS_BUF_INIT };
	char head[41];
	int error;

	head_out[0] = '\0';
	if ((error = ts_store__publish(node->store)) < 0)
		return error;
	if (!table || !key)
		return ts_error_set(TS_EINVALID, "blame needs a table and a key");
	if (!cb)
		return ts_error_set(TS_EINVALID, "blame needs a callback");
	if ((error = ts_node__tables(&tables, node)) < 0 ||
	    (error = ts_audit__row_path(&path, node->db, tables, table, key)) < 0)
		goto done;
	if (!rev)
		error = ts_node_head(head, node);
	else if ((error = ts_audit__resolve(&commit, repo, rev)) == 0)
		git_oid_tostr(head, sizeof(head), git_commit_id(commit));
	if (error < 0)
		goto done;
	memcpy(head_out, head, sizeof(head));
	error = ts_audit__blame(repo, head, path.ptr, blame_one, &run);
	/* the row is looked for before any line is reported */
	if (error == TS_ENOTFOUND && run.nlines == 0)
		error = ts_error_set(TS_ENOTFOUND, "table %s has no row '%s' at %s (%.12s)", table, key,
			rev ? rev : "HEAD", head);
done:
	git_commit_free(commit);
	ts_buf__dispose(&path);
	ts_buf__dispose(&run.display);
	return error;
}
