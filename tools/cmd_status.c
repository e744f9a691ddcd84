/*
 * tiersync status: the staged writes not yet committed.
 */
#include "commands.h"

typedef struct {
	int json, n;
} status_out;

static int print_one(const ts_staged_info *w, void *payload)
{
	status_out *o = payload;
	char when[32];

	ts_time_format(when, w->time);
	if (o->json) {
		printf("%s{\"seq\":%lld,\"author\":", o->n ? "," : "", (long long)w->seq);
		ts_json_str(stdout, w->author);
		printf(",\"time\":\"%s\",\"summary\":", when);
		ts_json_str(stdout, w->summary);
		printf(",\"inserts\":%d,\"updates\":%d,\"deletes\":%d}", w->inserts, w->updates, w->deletes);
	} else {
		printf("  %-4lld %s  %-10s %s (+%d ~%d -%d)\n", (long long)w->seq, when, w->author,
			w->summary, w->inserts, w->updates, w->deletes);
	}
	o->n++;
	return 0;
}

int cmd_status(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0, 0, 0, 0 } };
	status_out o = { 0, 0 };
	char head[41];
	int c, help = 0;

	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1)
		if (c == 'j') o.json = 1; else return 2;
	if (optind != argc)
		return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
	if (ts_node_head(head, cli->node) < 0)
		return ts_cli_fail(cli);
	if (o.json)
		printf("{\"node\":\"%s\",\"tier\":\"%s\",\"head\":\"%s\",\"staged\":[",
			ts_node_id(cli->node), ts_tier_name(ts_node_tier(cli->node)), head);
	else
		printf("node %s (%s), head %.12s\n", ts_node_id(cli->node), ts_tier_name(ts_node_tier(cli->node)), head);
	if (ts_node_staged(cli->node, print_one, &o) < 0)
		return ts_cli_fail(cli);
	if (o.json)
		printf("]}\n");
	else if (o.n == 0)
		printf("nothing staged\n");
	else
		printf("%d staged write%s; 'tiersync commit -m MESSAGE' records them in history\n", o.n, o.n == 1 ? "" : "s");
	return 0;
}
