/*
 * tiersync log: the history, newest first: who changed what, when, on
 * which node. With --case, only the commits that touched one case: its row
 * in `cases`, or a row of any table whose case_id is that case.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "commands.h"
#include "node.h"

/* Where the case application keeps a case, and how its records point to it. */
#define CASE_TABLE "cases"
#define CASE_COLUMN "case_id"

typedef struct {
	const char *case_id;   /* --case, or NULL */
	long limit;            /* -n, or -1 */
	long shown;
	int json;
	ts_buf out;
} log_out;

static int concerns_case(const ts_audit_change *change, void *payload)
{
	log_out *o = payload;
	return ts_audit_change_concerns(change, CASE_TABLE, CASE_COLUMN, o->case_id);
}

static void put_json_text(ts_buf *out, const char *s)
{
	ts_audit_put_json_string(out, s ? s : "", s ? strlen(s) : 0);
}

static void put_entry_json(ts_buf *out, const ts_audit_entry *e, const char *when, int with_rows)
{
	unsigned k;
	size_t r;

	ts_buf_printf(out, "{\"commit\":\"%s\",\"parents\":[", git_oid_tostr_s(e->id));
	for (k = 0; k < e->nparents; k++)
		ts_buf_printf(out, "%s\"%s\"", k ? "," : "",
			git_oid_tostr_s(git_commit_parent_id(e->commit, k)));
	ts_buf_puts(out, "],\"author\":");
	put_json_text(out, e->author);
	ts_buf_puts(out, ",\"node\":");
	put_json_text(out, e->node);
	ts_buf_puts(out, ",\"committer\":");
	put_json_text(out, e->committer);
	ts_buf_printf(out, ",\"time\":\"%s\",\"summary\":", when);
	put_json_text(out, e->summary);
	ts_buf_printf(out, ",\"inserts\":%zu,\"updates\":%zu,\"deletes\":%zu", e->inserts, e->updates, e->deletes);
	if (with_rows) {
		ts_buf_puts(out, ",\"rows\":[");
		for (r = 0; r < e->nchanges; r++) {
			ts_buf_puts(out, r ? ",{\"table\":" : "{\"table\":");
			put_json_text(out, e->changes[r].table);
			ts_buf_puts(out, ",\"key\":");
			put_json_text(out, e->changes[r].key);
			ts_buf_printf(out, ",\"op\":\"%s\"}", ts_audit_op_name(e->changes[r].op));
		}
		ts_buf_putc(out, ']');
	}
	ts_buf_putc(out, '}');
}

static void put_entry_text(ts_buf *out, const ts_audit_entry *e, const char *when, int with_rows)
{
	unsigned k;
	size_t r;

	ts_buf_printf(out, "commit %s\n", git_oid_tostr_s(e->id));
	if (e->nparents > 1) {
		ts_buf_puts(out, "Merge: ");
		for (k = 0; k < e->nparents; k++)
			ts_buf_printf(out, " %.12s", git_oid_tostr_s(git_commit_parent_id(e->commit, k)));
		ts_buf_putc(out, '\n');
	}
	ts_buf_printf(out, "Author: %s\nNode:   %s\nDate:   %s\n", e->author ? e->author : "",
		e->node ? e->node : "", when);
	ts_buf_printf(out, "Rows:   %zu inserted, %zu updated, %zu deleted\n\n    %s\n",
		e->inserts, e->updates, e->deletes, e->summary);
	if (with_rows) {
		ts_buf_putc(out, '\n');
		for (r = 0; r < e->nchanges; r++)
			ts_buf_printf(out, "    %s %s (%s)\n", e->changes[r].table, e->changes[r].key,
				ts_audit_op_name(e->changes[r].op));
	}
}

/* Opens the JSON answer; written with the first commit, so that a case no
 * commit touches leaves stdout empty. */
static void put_json_head(ts_buf *out, const char *case_id)
{
	ts_buf_putc(out, '{');
	if (case_id) {
		ts_buf_puts(out, "\"case\":");
		put_json_text(out, case_id);
		ts_buf_putc(out, ',');
	}
	ts_buf_puts(out, "\"commits\":[");
}

static int print_entry(const ts_audit_entry *e, void *payload)
{
	log_out *o = payload;
	char when[32];

	if (o->limit >= 0 && o->shown >= o->limit)
		return 1;
	ts_audit_time_format(when, e->time, e->offset);
	ts_buf_clear(&o->out);
	if (o->json) {
		if (o->shown)
			ts_buf_putc(&o->out, ',');
		else
			put_json_head(&o->out, o->case_id);
		put_entry_json(&o->out, e, when, o->case_id != NULL);
	} else {
		if (o->shown)
			ts_buf_putc(&o->out, '\n');
		put_entry_text(&o->out, e, when, o->case_id != NULL);
	}
	if (ts_buf_oom(&o->out))
		return TS_ERROR;
	fwrite(o->out.ptr, 1, o->out.size, stdout);
	o->shown++;
	return o->limit >= 0 && o->shown >= o->limit ? 1 : 0;
}

int cmd_log(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "case", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ 0, 0, 0, 0 }
	};
	log_out o;
	ts_tables *tables = NULL;
	char *end;
	int c, help = 0, rc, status = 1;

	memset(&o, 0, sizeof(o));
	o.limit = -1;
	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'c': o.case_id = optarg; break;
		case 'j': o.json = 1; break;
		case 'n':
			errno = 0;
			o.limit = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || o.limit < 0)
				return ts_cli_usage(cli, "-n takes a count of commits, not '%s'", optarg);
			break;
		case '?': return 2;
		default: return ts_cli_usage(cli, "unknown option -%c", c);
		}
	}
	if (optind != argc)
		return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
	if (o.case_id && !*o.case_id)
		return ts_cli_usage(cli, "--case needs a case id");
	if (o.limit == 0) {
		/* nothing asked for; still a well-formed answer */
		if (o.json) {
			put_json_head(&o.out, o.case_id);
			printf("%s]}\n", ts_buf_cstr(&o.out));
		}
		status = 0;
		goto done;
	}
	if (ts_tables_load(&tables, ts_node_db(cli->node)) < 0) {
		status = ts_cli_fail();
		goto done;
	}
	rc = ts_audit_log(ts_store_repo(cli->node->store), "HEAD", tables,
		o.case_id ? concerns_case : NULL, print_entry, &o);
	if (rc < 0) {
		fflush(stdout);
		status = ts_cli_fail();
		goto done;
	}
	if (o.case_id && o.shown == 0) {
		ts_error_set(TS_ENOTFOUND, "no commit in history touches case %s", o.case_id);
		status = ts_cli_fail();
		goto done;
	}
	if (o.json)
		printf("]}\n");
	status = 0;
done:
	ts_buf_dispose(&o.out);
	ts_tables_free(tables);
	return status;
}
