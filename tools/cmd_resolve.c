/*
 * tiersync resolve: settle one conflict of the review queue.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

int cmd_resolve(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "take", required_argument, NULL, 't' },
		{ "value", required_argument, NULL, 'v' },
		{ "author", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ 0, 0, 0, 0 }
	};
	const char *take = NULL, *value = NULL, *author = NULL;
	char id[41];
	int c, help = 0, json = 0;

	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 't': take = optarg; break;
		case 'v': value = optarg; break;
		case 'a': author = optarg; break;
		case 'j': json = 1; break;
		default: return 2;
		}
	}
	if (optind != argc - 1)
		return ts_cli_usage(cli, "name one conflict id");
	if ((!take) == (!value))
		return ts_cli_usage(cli, "give --take ours, --take theirs or --value V");
	if (take && strcmp(take, "ours") && strcmp(take, "theirs"))
		return ts_cli_usage(cli, "--take takes ours or theirs, not '%s'", take);
	if (ts_node_resolve(id, cli->node, argv[optind], take, value, ts_cli_author(cli, author)) < 0)
		return ts_error_last_code() == TS_ENOTFOUND ?
			ts_cli_fail_hint(cli, TS_ENOTFOUND, "'tiersync conflicts' lists the open ones") :
			ts_cli_fail_hint(cli, TS_EINVALID, "--take ours|theirs takes a side, --value V sets the column");
	if (json)
		printf("{\"conflict\":\"%s\",\"commit\":\"%s\"}\n", argv[optind], id);
	else
		printf("resolved %s in commit %.12s\n", argv[optind], id);
	return 0;
}
