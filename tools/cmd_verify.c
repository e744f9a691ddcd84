/*
 * tiersync verify: does the database equal its history?
 */
#include "commands.h"

/* A tampered node can differ in every row: show this many, then count. */
#define SHOWN 50

typedef struct {
	int json, n;
} verify_out;

static int print_problem(const ts_verify_problem *p, void *payload)
{
	verify_out *o = payload;
	if (o->json) {
		printf("%s{\"table\":", o->n ? "," : "");
		ts_json_str_or_null(stdout, p->table);
		printf(",\"key\":");
		ts_json_str_or_null(stdout, p->key);
		printf(",\"column\":");
		ts_json_str_or_null(stdout, p->column);
		printf(",\"problem\":");
		ts_json_str_or_null(stdout, p->problem);
		printf(",\"expected\":");
		ts_json_str_or_null(stdout, p->expected);
		printf(",\"actual\":");
		ts_json_str_or_null(stdout, p->actual);
		printf("}");
	} else if (o->n < SHOWN) {
		printf("%s%s%s%s%s%s: %s", p->table ? p->table : "", p->table ? " " : "", p->key ? p->key : "",
			p->column ? " column " : "", p->column ? p->column : "", "", p->problem);
		if (p->expected || p->actual)
			printf(" (history: %s, database: %s)", p->expected ? p->expected : "none",
				p->actual ? p->actual : "none");
		printf("\n");
	}
	o->n++;
	return 0;
}

int cmd_verify(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0, 0, 0, 0 } };
	verify_out o = { 0, 0 };
	char head[41];
	int c, help = 0, rc;

	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1)
		if (c == 'j') o.json = 1; else return 2;
	if (optind != argc)
		return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
	if (o.json)
		printf("{\"problems\":[");
	rc = ts_node_verify(cli->node, print_problem, &o);
	if (rc < 0 && rc != TS_ECORRUPT) {
		if (o.json)
			printf("]}\n");
		return ts_cli_fail(cli);
	}
	ts_node_head(head, cli->node);
	if (o.json)
		printf("],\"head\":\"%s\",\"ok\":%s}\n", head, rc == 0 ? "true" : "false");
	else if (rc == 0)
		printf("ok: the database equals history %.12s plus its staged writes\n", head);
	if (rc < 0 && !o.json && o.n > SHOWN)
		printf("... and %d more\n", o.n - SHOWN);
	if (rc < 0) {
		fprintf(stderr, "tiersync: verify failed: %d difference%s between the database and its history\n",
			o.n, o.n == 1 ? "" : "s");
		return 1;
	}
	return 0;
}
