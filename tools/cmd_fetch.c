/*
 * tiersync fetch: bring the upper node's main to refs/remotes/<REMOTE>/main
 * and print the commit fetched. Merging it is another step.
 */
#include <signal.h>
#include <unistd.h>

#include "commands.h"

int cmd_fetch(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ 0, 0, 0, 0 }
	};
	ts_transfer_options o = { NULL, NULL, 0 };
	ts_transfer_stats stats;
	const char *remote = TS_REMOTE_DEFAULT;
	char id[41], label[128], ref[128];
	int c, help = 0, json = 0;

	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 't': if (ts_cli_timeout(cli, optarg, &o.timeout_ms)) return 2; break;
		default: return 2;
		}
	}
	if (optind < argc)
		remote = argv[optind++];
	if (optind != argc)
		return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
	/* a connection that drops is an error to report, not a signal to die of */
	signal(SIGPIPE, SIG_IGN);
	if (isatty(STDERR_FILENO)) {
		snprintf(label, sizeof(label), "fetch %s", remote);
		o.progress = ts_cli_transfer_progress;
		o.payload = label;
	}
	if (ts_node_fetch(id, &stats, cli->node, remote, &o) < 0)
		return ts_cli_fail();
	if (json) {
		printf("{\"remote\":");
		ts_json_str(stdout, remote);
		snprintf(ref, sizeof(ref), "refs/remotes/%s/main", remote);
		printf(",\"ref\":");
		ts_json_str(stdout, ref);
		printf(",\"commit\":\"%s\",\"updated\":%s,\"objects\":%zu,\"bytes\":%llu}\n", id,
			stats.updated ? "true" : "false", stats.objects, (unsigned long long)stats.bytes);
	} else
		printf("%s\n", id);
	return 0;
}
