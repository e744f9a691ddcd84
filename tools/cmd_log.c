/*
 * tiersync log: the history, newest first: who changed what, when, on
 * which node. With --case, only the commits that touched one case: its row
 * in `cases`, or a row of any table whose case_id is that case.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "json.h"

/* Where the case application keeps a case, and how its records point to it. */
#define CASE_TABLE "cases"
#define CASE_COLUMN "case_id"

typedef struct {
	const char *case_id;   /* --case, or NULL */
	long limit;            /* -n, or -1 */
	long shown;
	int json;
} log_out;

static void put_entry_json(FILE *out, const ts_log_entry *e, int with_rows)
{
	size_t k;

	fprintf(out, "{\"commit\":\"%s\",\"parents\":[", e->id);
	for (k = 0; k < e->nparents; k++)
		fprintf(out, "%s\"%s\"", k ? "," : "", e->parents[k]);
	fputs("],\"author\":", out);
	ts_json_write_text(out, e->author);
	fputs(",\"node\":", out);
	ts_json_write_text(out, e->node);
	fputs(",\"committer\":", out);
	ts_json_write_text(out, e->committer);
	fprintf(out, ",\"time\":\"%s\",\"summary\":", e->when);
	ts_json_write_text(out, e->summary);
	fprintf(out, ",\"inserts\":%zu,\"updates\":%zu,\"deletes\":%zu", e->inserts, e->updates, e->deletes);
	if (with_rows) {
		fputs(",\"rows\":[", out);
		for (k = 0; k < e->nchanges; k++) {
			fputs(k ? ",{\"table\":" : "{\"table\":", out);
			ts_json_write_text(out, e->changes[k].table);
			fputs(",\"key\":", out);
			ts_json_write_text(out, e->changes[k].key);
			fprintf(out, ",\"op\":\"%s\"}", ts_change_op_name(e->changes[k].op));
		}
		fputc(']', out);
	}
	fputc('}', out);
}

static void put_entry_text(FILE *out, const ts_log_entry *e, int with_rows)
{
	size_t k;

	fprintf(out, "commit %s\n", e->id);
	if (e->nparents > 1) {
		fputs("Merge: ", out);
		for (k = 0; k < e->nparents; k++)
			fprintf(out, " %.12s", e->parents[k]);
		fputc('\n', out);
	}
	fprintf(out, "Author: %s\nNode:   %s\nDate:   %s\n", e->author ? e->author : "",
		e->node ? e->node : "", e->when);
	fprintf(out, "Rows:   %zu inserted, %zu updated, %zu deleted\n\n    %s\n",
		e->inserts, e->updates, e->deletes, e->summary);
	if (with_rows) {
		fputc('\n', out);
		for (k = 0; k < e->nchanges; k++)
			fprintf(out, "    %s %s (%s)\n", e->changes[k].table, e->changes[k].key,
				ts_change_op_name(e->changes[k].op));
	}
}

/* Opens the JSON answer; written with the first commit, so that a case no
 * commit touches leaves stdout empty. */
static void put_json_head(FILE *out, const char *case_id)
{
	fputc('{', out);
	if (case_id) {
		fputs("\"case\":", out);
		ts_json_write_text(out, case_id);
		fputc(',', out);
	}
	fputs("\"commits\":[", out);
}

static int print_entry(const ts_log_entry *e, void *payload)
{
	log_out *o = payload;

	if (o->limit >= 0 && o->shown >= o->limit)
		return 1;
	if (o->json) {
		if (o->shown)
			fputc(',', stdout);
		else
			put_json_head(stdout, o->case_id);
		put_entry_json(stdout, e, o->case_id != NULL);
	} else {
		if (o->shown)
			fputc('\n', stdout);
		put_entry_text(stdout, e, o->case_id != NULL);
	}
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
	ts_log_options log_opts = TS_LOG_OPTIONS_INIT;
	log_out o;
	char *end;
	int c, help = 0, rc;

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
			put_json_head(stdout, o.case_id);
			fputs("]}\n", stdout);
		}
		return 0;
	}
	if (o.case_id) {
		log_opts.table = CASE_TABLE;
		log_opts.column = CASE_COLUMN;
		log_opts.key = o.case_id;
	}
	rc = ts_node_log(cli->node, &log_opts, print_entry, &o);
	if (rc < 0) {
		fflush(stdout);
		return ts_cli_fail(cli);
	}
	if (o.case_id && o.shown == 0) {
		ts_error_set(TS_ENOTFOUND, "no commit in history touches case %s", o.case_id);
		return ts_cli_fail(cli);
	}
	if (o.json)
		fputs("]}\n", stdout);
	return 0;
}
