/*
 * tiersync conflicts: the review queue.
 */
#include <stdio.h>

#include "commands.h"

typedef struct {
	int json, n;
} conflicts_out;

static void print_json(const ts_conflict_info *c)
{
	const struct {
		const char *name, *value;
	} fields[] = {
		{ "id", c->id }, { "status", ts_conflict_status_name(c->status) }, { "kind", c->kind },
		{ "table_name", c->table }, { "row_key", c->key }, { "column_name", c->column },
		{ "base", c->base }, { "ours", c->ours }, { "theirs", c->theirs },
		{ "provisional", c->provisional }, { "ours_node", c->ours_node },
		{ "ours_commit", c->ours_commit }, { "theirs_node", c->theirs_node },
		{ "theirs_commit", c->theirs_commit }, { "resolution", c->resolution },
		{ "resolved_value", c->resolved_value }, { "resolved_by", c->resolved_by },
		{ "resolved_at", c->resolved_at }
	};
	size_t k;

	putchar('{');
	for (k = 0; k < sizeof(fields) / sizeof(fields[0]); k++) {
		printf("%s\"%s\":", k ? "," : "", fields[k].name);
		ts_json_str_or_null(stdout, fields[k].value);
	}
	putchar('}');
}

/* What is missing reads "-". */
static const char *shown(const char *s)
{
	return s ? s : "-";
}

static void print_text(const ts_conflict_info *c)
{
	printf("%s  %-8s %s %s%s%s\n", shown(c->id), ts_conflict_status_name(c->status), shown(c->table),
		shown(c->key), c->column ? " column " : "", c->column ? c->column : "");
	printf("    kind %s\n    base   %s\n    ours   %s  (%s %.12s)\n    theirs %s  (%s %.12s)\n"
		"    merged %s (the value the merge put in)\n", shown(c->kind), shown(c->base), shown(c->ours),
		shown(c->ours_node), shown(c->ours_commit), shown(c->theirs), shown(c->theirs_node),
		shown(c->theirs_commit), shown(c->provisional));
	if (c->resolution)
		printf("    resolved: %s %s by %s at %s\n", c->resolution, shown(c->resolved_value),
			shown(c->resolved_by), shown(c->resolved_at));
}

static int print_conflict(const ts_conflict_info *c, void *payload)
{
	conflicts_out *o = payload;
	if (o->json) {
		/* the array opens with the first record, so that a failed read
		 * leaves nothing on stdout */
		putchar(o->n ? ',' : '[');
		print_json(c);
	} else
		print_text(c);
	o->n++;
	return 0;
}

int cmd_conflicts(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ 0, 0, 0, 0 }
	};
	ts_conflict_filter filter = TS_CONFLICT_FILTER_INIT;
	conflicts_out o = { 0, 0 };
	int c, help = 0, all = 0;

	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'a': all = 1; break;
		case 'j': o.json = 1; break;
		default: return 2;
		}
	}
	if (optind != argc)
		return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
	filter.status = all ? TS_CONFLICT_ALL : TS_CONFLICT_OPEN;
	if (ts_node_conflicts(cli->node, &filter, print_conflict, &o) < 0) {
		if (o.json && o.n)
			puts("]");
		return ts_cli_fail(cli);
	}
	if (o.json)
		puts(o.n ? "]" : "[]");
	else if (o.n == 0)
		printf(all ? "no conflicts recorded\n" : "no open conflicts\n");
	else if (!all)
		printf("%d open conflict%s; settle each with 'tiersync resolve ID --take ours|theirs' or --value V\n",
			o.n, o.n == 1 ? "" : "s");
	return 0;
}
