/*
 * tiersync diff: the rows and columns that differ between two commits,
 * old -> new. No revision: HEAD~1 against HEAD; one: REV against HEAD.
 */
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "commands.h"
#include "node.h"

typedef struct {
	int json;
	size_t nrows, nmeta;
	ts_buf rows;        /* JSON: the "rows" array's items */
	ts_buf meta;        /* JSON: the "metadata" array's items */
	ts_buf line;        /* text: one change */
} diff_out;

/* Metadata blobs are short text ("2\n"): shown without the last newline. */
static size_t meta_len(const char *data, size_t len)
{
	return len && data[len - 1] == '\n' ? len - 1 : len;
}

static void put_meta_text(ts_buf *out, const char *data, size_t len)
{
	if (data)
		ts_buf_put(out, data, meta_len(data, len));
	else
		ts_buf_puts(out, "(none)");
}

static void put_meta_json(ts_buf *out, const char *data, size_t len)
{
	if (data)
		ts_audit_put_json_string(out, data, meta_len(data, len));
	else
		ts_buf_puts(out, "null");
}

typedef struct {
	ts_buf *out;
	int n;
} json_columns;

static int put_column_json(const ts_audit_column *col, void *payload)
{
	json_columns *j = payload;
	ts_buf *out = j->out;

	ts_buf_puts(out, j->n++ ? ",{\"column\":" : "{\"column\":");
	ts_audit_put_json_string(out, col->column, strlen(col->column));
	if (col->old_value) {
		ts_buf_puts(out, ",\"old\":");
		ts_audit_put_json_value(out, col->old_value);
	}
	if (col->new_value) {
		ts_buf_puts(out, ",\"new\":");
		ts_audit_put_json_value(out, col->new_value);
	}
	ts_buf_putc(out, '}');
	return 0;
}

typedef struct {
	ts_buf *out;
	ts_audit_op op;
} text_columns;

static int put_column_text(const ts_audit_column *col, void *payload)
{
	text_columns *t = payload;

	if (t->op == TS_AUDIT_UPDATE) {
		ts_buf_printf(t->out, "  %s: ", col->column);
		if (col->old_value)
			ts_audit_put_value(t->out, col->old_value);
		else
			ts_buf_puts(t->out, "(no such column)");
		ts_buf_puts(t->out, " -> ");
		if (col->new_value)
			ts_audit_put_value(t->out, col->new_value);
		else
			ts_buf_puts(t->out, "(no such column)");
	} else {
		/* a whole row came or went: its values, leaving out the NULLs */
		const ts_value *v = col->new_value ? col->new_value : col->old_value;
		if (v->type == SQLITE_NULL)
			return 0;
		ts_buf_printf(t->out, "  %s: ", col->column);
		ts_audit_put_value(t->out, v);
	}
	ts_buf_putc(t->out, '\n');
	return 0;
}

static int print_change(const ts_audit_change *ch, void *payload)
{
	diff_out *o = payload;
	int error;

	if (!ch->table) {
		if (o->json) {
			ts_buf *m = &o->meta;
			ts_buf_puts(m, o->nmeta ? ",{\"name\":" : "{\"name\":");
			ts_audit_put_json_string(m, ch->key, strlen(ch->key));
			ts_buf_puts(m, ",\"old\":");
			put_meta_json(m, ch->old_data, ch->old_len);
			ts_buf_puts(m, ",\"new\":");
			put_meta_json(m, ch->new_data, ch->new_len);
			ts_buf_putc(m, '}');
		} else {
			ts_buf_clear(&o->line);
			ts_buf_printf(&o->line, "%s: ", ch->key);
			put_meta_text(&o->line, ch->old_data, ch->old_len);
			ts_buf_puts(&o->line, " -> ");
			put_meta_text(&o->line, ch->new_data, ch->new_len);
			ts_buf_putc(&o->line, '\n');
		}
		o->nmeta++;
	} else if (o->json) {
		ts_buf *r = &o->rows;
		json_columns j = { r, 0 };
		ts_buf_puts(r, o->nrows ? ",{\"table\":" : "{\"table\":");
		ts_audit_put_json_string(r, ch->table, strlen(ch->table));
		ts_buf_puts(r, ",\"key\":");
		ts_audit_put_json_string(r, ch->key, strlen(ch->key));
		ts_buf_printf(r, ",\"op\":\"%s\",\"columns\":[", ts_audit_op_name(ch->op));
		if ((error = ts_audit_columns(ch, put_column_json, &j)) != 0)
			return error;
		ts_buf_puts(r, "]}");
		o->nrows++;
	} else {
		text_columns t = { &o->line, ch->op };
		ts_buf_clear(&o->line);
		ts_buf_printf(&o->line, "%s %s (%s)\n", ch->table, ch->key, ts_audit_op_name(ch->op));
		if ((error = ts_audit_columns(ch, put_column_text, &t)) != 0)
			return error;
		o->nrows++;
	}
	if (ts_buf_oom(&o->rows) || ts_buf_oom(&o->meta) || ts_buf_oom(&o->line))
		return TS_ERROR;
	if (!o->json)
		fwrite(o->line.ptr, 1, o->line.size, stdout);
	return 0;
}

int cmd_diff(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0, 0, 0, 0 } };
	git_repository *repo = ts_store_repo(cli->node->store);
	git_commit *from = NULL, *to = NULL;
	git_tree *from_tree = NULL, *to_tree = NULL;
	ts_tables *tables = NULL;
	const char *from_rev = "HEAD~1", *to_rev = "HEAD";
	diff_out o;
	char from_id[41], to_id[41];
	int c, help = 0, status = 1;

	memset(&o, 0, sizeof(o));
	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'j': o.json = 1; break;
		case '?': return 2;
		default: return ts_cli_usage(cli, "unknown option -%c", c);
		}
	}
	if (argc - optind > 2)
		return ts_cli_usage(cli, "give at most two revisions");
	if (argc - optind >= 1)
		from_rev = argv[optind];
	if (argc - optind == 2)
		to_rev = argv[optind + 1];

	if (ts_audit_resolve(&from, repo, from_rev) < 0 || ts_audit_resolve(&to, repo, to_rev) < 0 ||
	    ts_tables_load(&tables, ts_node_db(cli->node)) < 0) {
		status = ts_cli_fail();
		goto done;
	}
	if (git_commit_tree(&from_tree, from) < 0 || git_commit_tree(&to_tree, to) < 0) {
		ts_error_set(TS_ECORRUPT, "reading the trees of %s and %s", from_rev, to_rev);
		status = ts_cli_fail();
		goto done;
	}
	git_oid_tostr(from_id, sizeof(from_id), git_commit_id(from));
	git_oid_tostr(to_id, sizeof(to_id), git_commit_id(to));
	if (ts_audit_diff(repo, from_tree, to_tree, tables, TS_AUDIT_ROWS, print_change, &o) != 0) {
		fflush(stdout);
		status = ts_cli_fail();
		goto done;
	}
	if (o.json)
		printf("{\"from\":\"%s\",\"to\":\"%s\",\"rows\":[%s],\"metadata\":[%s]}\n",
			from_id, to_id, ts_buf_cstr(&o.rows), ts_buf_cstr(&o.meta));
	status = 0;
done:
	ts_buf_dispose(&o.rows);
	ts_buf_dispose(&o.meta);
	ts_buf_dispose(&o.line);
	ts_tables_free(tables);
	git_tree_free(from_tree);
	git_tree_free(to_tree);
	git_commit_free(from);
	git_commit_free(to);
	return status;
}
