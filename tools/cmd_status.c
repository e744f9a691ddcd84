/*
 * tiersync status: where the node stands: per remote, the last push and
 * fetch and what waits on either side; the submissions waiting to be
 * merged; the open conflicts; then the staged writes not yet committed.
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

static int print_remote(const ts_remote_status *r, void *payload)
{
	status_out *o = payload;

	if (o->json) {
		fputs(o->n ? ",{\"name\":" : "{\"name\":", stdout);
		ts_json_str(stdout, r->name);
		ts_cli_json_member("url", r->url);
		ts_cli_json_member("pushed", r->pushed);
		ts_cli_json_member("pushed_at", r->pushed_at);
		ts_cli_json_member("fetched", r->fetched);
		ts_cli_json_member("fetched_at", r->fetched_at);
		printf(",\"to_push\":%lld,\"to_take\":%lld}", (long long)r->to_push, (long long)r->to_take);
	} else {
		printf("remote %s  %s\n", r->name, r->url);
		if (r->pushed)
			printf("  last push   %.12s at %s\n", r->pushed, r->pushed_at);
		else
			printf("  last push   none\n");
		if (r->fetched)
			printf("  last fetch  %.12s%s%s\n", r->fetched, r->fetched_at ? " at " : "",
				r->fetched_at ? r->fetched_at : "");
		else
			printf("  last fetch  none\n");
		printf("  %lld commit%s to push", (long long)r->to_push, r->to_push == 1 ? "" : "s");
		if (r->fetched)
			printf(", %lld to take from it (as of the last fetch)", (long long)r->to_take);
		putchar('\n');
	}
	o->n++;
	return 0;
}

static int print_waiting(const ts_submission_waiting *s, void *payload)
{
	status_out *o = payload;

	if (o->json) {
		fputs(o->n ? ",{\"node\":" : "{\"node\":", stdout);
		ts_json_str(stdout, s->node_id);
		printf(",\"urgent\":%s,\"commit\":\"%s\",\"commits\":%lld}", s->urgent ? "true" : "false", s->commit,
			(long long)s->commits);
	} else {
		if (o->n == 0)
			printf("submissions waiting ('tiersync merge --submissions'):\n");
		printf("  %-24s %.12s  %lld commit%s%s\n", s->node_id, s->commit, (long long)s->commits,
			s->commits == 1 ? "" : "s", s->urgent ? "  (urgent reports)" : "");
	}
	o->n++;
	return 0;
}

static int count_conflict(const ts_conflict_info *c, void *payload)
{
	(void)c;
	(*(int *)payload)++;
	return 0;
}

int cmd_status(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0, 0, 0, 0 } };
	status_out o = { 0, 0 };
	ts_conflict_filter open = TS_CONFLICT_FILTER_INIT;
	char head[41];
	int c, help = 0, conflicts = 0;

	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1)
		if (c == 'j') o.json = 1; else return 2;
	if (optind != argc)
		return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
	if (ts_node_head(head, cli->node) < 0)
		return ts_cli_fail(cli);
	open.status = TS_CONFLICT_OPEN;
	if (ts_node_conflicts(cli->node, &open, count_conflict, &conflicts) < 0)
		return ts_cli_fail(cli);
	if (o.json)
		printf("{\"node\":\"%s\",\"tier\":\"%s\",\"head\":\"%s\",\"remotes\":[",
			ts_node_id(cli->node), ts_tier_name(ts_node_tier(cli->node)), head);
	else
		printf("node %s (%s), head %.12s\n", ts_node_id(cli->node), ts_tier_name(ts_node_tier(cli->node)), head);
	if (ts_node_remote_status(cli->node, print_remote, &o) < 0)
		return ts_cli_fail(cli);
	if (o.json)
		fputs("],\"submissions\":[", stdout);
	o.n = 0;
	if (ts_node_submissions_waiting(cli->node, print_waiting, &o) < 0)
		return ts_cli_fail(cli);
	if (o.json)
		printf("],\"conflicts_open\":%d,\"staged\":[", conflicts);
	else if (conflicts)
		printf("%d conflict%s open for review ('tiersync conflicts')\n", conflicts, conflicts == 1 ? "" : "s");
	o.n = 0;
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
