/*
 * tiersync restore: take back staged writes before they are committed, and
 * list those taken back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

typedef struct {
	int json, n, list;
} restore_out;

static int print_one(const ts_restored_info *r, void *payload)
{
	restore_out *o = payload;
	char when[32], made[32];

	ts_time_format(when, r->restored_at);
	ts_time_format(made, r->time);
	if (o->json) {
		printf("%s{\"seq\":%lld", o->n ? "," : "[", (long long)r->seq);
		ts_cli_json_member("author", r->author);
		ts_cli_json_member("time", made);
		ts_cli_json_member("summary", r->summary);
		printf(",\"inserts\":%d,\"updates\":%d,\"deletes\":%d", r->inserts, r->updates, r->deletes);
		ts_cli_json_member("restored_by", r->restored_by);
		ts_cli_json_member("restored_at", when);
		printf("}");
	} else if (o->list)
		printf("  %-4lld %s  %-10s %s (+%d ~%d -%d), taken back %s by %s\n", (long long)r->seq, made,
			r->author, r->summary, r->inserts, r->updates, r->deletes, when, r->restored_by);
	else
		printf("took back %lld: %s (+%d ~%d -%d, by %s)\n", (long long)r->seq, r->summary, r->inserts,
			r->updates, r->deletes, r->author);
	o->n++;
	return 0;
}

/* A staged write's number, as status shows it. */
static int parse_seq(int64_t *out, const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (!*s || *end || errno || v <= 0)
		return -1;
	*out = v;
	return 0;
}

int cmd_restore(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'A' },
		{ "list", no_argument, NULL, 'l' },
		{ "author", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ 0, 0, 0, 0 }
	};
	restore_out o = { 0, 0, 0 };
	const char *given = NULL, *author;
	int64_t *seqs = NULL;
	int c, help = 0, all = 0, nargs, i, rc;

	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'A': all = 1; break;
		case 'l': o.list = 1; break;
		case 'a': given = optarg; break;
		case 'j': o.json = 1; break;
		default: return 2;
		}
	}
	if (help) {
		ts_cli_help(cli->cmd, stdout);
		return 0;
	}
	nargs = argc - optind;
	if (o.list) {
		if (all || nargs || given)
			return ts_cli_usage(cli, "--list takes no ID, --all or --author");
		if (ts_node_restored(cli->node, print_one, &o) < 0)
			return ts_cli_fail(cli);
		if (o.json)
			printf("%s]\n", o.n ? "" : "[");
		else if (o.n == 0)
			printf("no staged write was taken back\n");
		return 0;
	}
	if (all && nargs)
		return ts_cli_usage(cli, "give the staged writes' IDs or --all, not both");
	if (!all && !nargs)
		return ts_cli_usage(cli, "name the staged writes to take back (their IDs, as 'tiersync status' "
			"shows them), or give --all");
	if (nargs && !(seqs = calloc((size_t)nargs, sizeof(*seqs)))) {
		fprintf(stderr, "tiersync: out of memory\n");
		return 1;
	}
	for (i = 0; i < nargs; i++)
		if (parse_seq(&seqs[i], argv[optind + i]) < 0) {
			free(seqs);
			return ts_cli_usage(cli, "'%s' is not a staged write's ID (a number, as 'tiersync status' "
				"shows it)", argv[optind + i]);
		}
	author = ts_cli_author(cli, given);
	/* what was taken back is printed once it is done, nothing before */
	rc = ts_node_restore(cli->node, seqs, (size_t)nargs, author, print_one, &o);
	free(seqs);
	if (rc < 0)
		return ts_cli_fail_hint(cli, TS_EDENIED, "name the later write too, or give --all");
	if (o.json)
		printf("%s]\n", o.n ? "" : "[");
	return 0;
}
