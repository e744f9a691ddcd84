/*
 * tiersync commit: staged writes -> one history commit.
 */
#include "commands.h"

int cmd_commit(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "message", required_argument, NULL, 'm' },
		{ "author", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ 0, 0, 0, 0 }
	};
	const char *message = NULL, *author = NULL;
	char id[41];
	int c, help = 0, json = 0;

	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'm': message = optarg; break;
		case 'a': author = optarg; break;
		case 'j': json = 1; break;
		default: return 2;
		}
	}
	if (optind != argc)
		return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
	if (!message)
		return ts_cli_usage(cli, "a commit needs a message: -m MESSAGE");
	if (ts_node_commit(id, cli->node, message, author) < 0)
		return ts_cli_fail(cli);
	if (json)
		printf("{\"commit\":\"%s\"}\n", id);
	else
		printf("committed %s\n", id);
	return 0;
}
