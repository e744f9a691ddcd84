/*
 * tiersync blame: for each column of one row at HEAD, the commit that set
 * its current value, with that commit's author, node and time.
 */
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "commands.h"
#include "node.h"

typedef struct {
	int json, n;
	ts_buf out;
} blame_out;

static int print_line(const ts_audit_blame_line *l, void *payload)
{
	blame_out *o = payload;
	ts_buf *out = &o->out;
	char when[32];

	ts_audit_time_format(when, l->time, l->offset);
	if (o->json) {
		ts_buf_puts(out, o->n ? ",{\"column\":" : "{\"column\":");
		ts_audit_put_json_string(out, l->column, strlen(l->column));
		ts_buf_puts(out, ",\"value\":");
		ts_audit_put_json_value(out, l->value);
		ts_buf_printf(out, ",\"commit\":\"%s\",\"author\":", git_oid_tostr_s(l->commit));
		ts_audit_put_json_string(out, l->author ? l->author : "", l->author ? strlen(l->author) : 0);
		ts_buf_puts(out, ",\"node\":");
		ts_audit_put_json_string(out, l->node ? l->node : "", l->node ? strlen(l->node) : 0);
		ts_buf_printf(out, ",\"time\":\"%s\",\"summary\":", when);
		ts_audit_put_json_string(out, l->summary, strlen(l->summary));
		ts_buf_putc(out, '}');
	} else {
		ts_buf_printf(out, "%.12s  %s  %s  %s  %s = ", git_oid_tostr_s(l->commit),
			l->author ? l->author : "", l->node ? l->node : "", when, l->column);
		ts_audit_put_value(out, l->value);
		ts_buf_putc(out, '\n');
	}
	o->n++;
	return ts_buf_oom(out) ? TS_ERROR : 0;
}

int cmd_blame(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0, 0, 0, 0 } };
	ts_tables *tables = NULL;
	ts_buf path = TS_BUF_INIT;
	blame_out o;
	const char *table, *key;
	char head[41];
	int c, help = 0, rc, status = 1;

	memset(&o, 0, sizeof(o));
	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'j': o.json = 1; break;
		case '?': return 2;
		default: return ts_cli_usage(cli, "unknown option -%c", c);
		}
	}
	if (argc - optind != 2)
		return ts_cli_usage(cli, "give a table and the key of one row");
	table = argv[optind];
	key = argv[optind + 1];

	if (ts_node_head(head, cli->node) < 0 ||
	    ts_tables_load(&tables, ts_node_db(cli->node)) < 0 ||
	    ts_audit_row_path(&path, ts_node_db(cli->node), tables, table, key) < 0) {
		status = ts_cli_fail();
		goto done;
	}
	if (o.json) {
		ts_buf_puts(&o.out, "{\"table\":");
		ts_audit_put_json_string(&o.out, table, strlen(table));
		ts_buf_puts(&o.out, ",\"key\":");
		ts_audit_put_json_string(&o.out, key, strlen(key));
		ts_buf_printf(&o.out, ",\"head\":\"%s\",\"columns\":[", head);
	}
	rc = ts_audit_blame(ts_store_repo(cli->node->store), head, path.ptr, print_line, &o);
	if (rc == TS_ENOTFOUND)
		ts_error_set(rc, "table %s has no row '%s' at HEAD (%.12s); staged writes are blamed "
			"once committed", table, key, head);
	if (rc < 0) {
		status = ts_cli_fail();
		goto done;
	}
	if (o.json)
		ts_buf_puts(&o.out, "]}\n");
	if (ts_buf_oom(&o.out)) {
		status = ts_cli_fail();
		goto done;
	}
	fputs(ts_buf_cstr(&o.out), stdout);
	status = 0;
done:
	ts_buf_dispose(&o.out);
	ts_buf_dispose(&path);
	ts_tables_free(tables);
	return status;
}
