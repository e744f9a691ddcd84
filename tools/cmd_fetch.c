/*
 * tiersync fetch: bring the upper node's main to refs/remotes/<REMOTE>/main
 * and print the commit fetched. Merging it is another step.
 */
#include "commands.h"

int cmd_fetch(ts_cli *cli, int argc, char **argv)
{
	ts_transfer_options o;
	ts_transfer_stats stats;
	const char *remote;
	char id[41], ref[128];
	int json, rc;

	if ((rc = ts_cli_transfer_args(cli, argc, argv, "fetch", &remote, &json, &o)) != 0)
		return rc;
	if (ts_node_fetch(id, &stats, cli->node, remote, &o) < 0)
		return ts_cli_fail_remote(cli, remote);
	if (json) {
		printf("{\"remote\":");
		ts_json_str(stdout, remote);
		snprintf(ref, sizeof(ref), "refs/remotes/%s/main", remote);
		printf(",\"ref\":");
		ts_json_str(stdout, ref);
		printf(",\"commit\":\"%s\",\"updated\":%s,\"commits\":%zu,\"objects\":%zu,\"bytes\":%llu}\n", id,
			stats.updated ? "true" : "false", stats.commits, stats.objects, (unsigned long long)stats.bytes);
	} else
		printf("%s\n", id);
	return 0;
}
