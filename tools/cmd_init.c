/*
 * tiersync init: create a node.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

int cmd_init(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tier", required_argument, NULL, 't' },
		{ "id", required_argument, NULL, 'i' },
		{ "upstream", required_argument, NULL, 'u' },
		{ "author", required_argument, NULL, 'a' },
		{ "identity", required_argument, NULL, 'k' },
		{ 0, 0, 0, 0 }
	};
	ts_init_options o = { TS_INIT_OPTIONS_VERSION, TS_TIER_STREET, NULL, NULL, NULL, NULL };
	const char *tier = NULL, *dir, *keyfile = NULL;
	ts_node *node = NULL;
	char head[41], *upstream = NULL;
	int c, help = 0, rc;

	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 't': tier = optarg; break;
		case 'i': o.id = optarg; break;
		case 'u': o.upstream = optarg; break;
		case 'a': o.identity = optarg; break;
		case 'k': o.key = keyfile = optarg; break;
		default: return 2;
		}
	}
	if (help) {
		ts_cli_help(cli->cmd, stdout);
		return 0;
	}
	if (optind != argc - 1)
		return ts_cli_usage(cli, "name one directory for the new node");
	dir = argv[optind];
	if (!tier || !o.id)
		return ts_cli_usage(cli, "--tier and --id are required");
	if (ts_tier_parse(&o.tier, tier) < 0)
		return ts_cli_usage(cli, "%s", ts_error_last());
	if (!ts_node_id_valid(o.id))
		return ts_cli_usage(cli, "invalid node id '%s': use dot-separated lowercase labels, e.g. bj.dc.jingshan", o.id);
	if (keyfile && access(keyfile, R_OK) < 0)
		return ts_cli_usage(cli, "cannot read the key file %s", keyfile);
	/* the key signs the node's commits and, for an ssh:// upstream, is its
	 * SSH identity (without --identity, the node's new key is both) */
	/* a relative upstream is where the person typing it sees it, not a path
	 * inside the new node's directory, where the library would look */
	if (o.upstream) {
		if (!(upstream = ts_cli_url_absolute(o.upstream))) {
			fprintf(stderr, "tiersync: the current directory: %s\n", strerror(errno));
			return 1;
		}
		o.upstream = upstream;
	}
	if (ts_node_init(&node, dir, &o) < 0) {
		rc = ts_cli_fail(cli);
		free(upstream);
		return rc;
	}
	free(upstream);
	ts_node_head(head, node);
	printf("initialised %s node %s in %s (history %.12s)\n", tier, o.id, dir, head);
	ts_node_free(node);
	return 0;
}
