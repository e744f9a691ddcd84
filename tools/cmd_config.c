/*
 * tiersync config: the node's settings, as `git config` shows and changes
 * them (--list, KEY, KEY VALUE, --unset KEY).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands.h"

typedef struct {
	int json, n;
} list_out;

static int print_entry(const ts_config_entry *e, void *payload)
{
	list_out *o = payload;

	if (o->json) {
		printf("%s{\"key\":", o->n ? "," : "");
		ts_json_str(stdout, e->key);
		ts_cli_json_member("value", e->value);
		printf(",\"settable\":%s}", e->settable ? "true" : "false");
	} else
		printf("%s=%s\n", e->key, e->value);
	o->n++;
	return 0;
}

static void print_pair(int json, const char *key, const char *value)
{
	if (!json) {
		if (value)
			printf("%s\n", value);
		return;
	}
	printf("{\"key\":");
	ts_json_str(stdout, key);
	ts_cli_json_member("value", value);
	printf("}\n");
}

/* 1 when `key` names a remote's url (any case of section and name). */
static int is_remote_url(const char *key)
{
	const char *dot = strrchr(key, '.');
	return !strncasecmp(key, "remote.", 7) && dot && dot > key + 6 && !strcasecmp(dot, ".url");
}

int cmd_config(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "list", no_argument, NULL, 'l' },
		{ "unset", no_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ 0, 0, 0, 0 }
	};
	list_out lo = { 0, 0 };
	int c, help = 0, list = 0, unset = 0, nargs, rc;
	const char *key;
	char *value = NULL;

	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'l': list = 1; break;
		case 'u': unset = 1; break;
		case 'j': lo.json = 1; break;
		default: return 2;
		}
	}
	if (help) {
		ts_cli_help(cli->cmd, stdout);
		return 0;
	}
	nargs = argc - optind;
	if (list + unset > 1)
		return ts_cli_usage(cli, "--list and --unset do not go together");
	if (list) {
		if (nargs)
			return ts_cli_usage(cli, "--list takes no KEY");
		if (lo.json)
			printf("[");
		if (ts_node_config_list(cli->node, print_entry, &lo) < 0)
			return ts_cli_fail(cli);
		if (lo.json)
			printf("]\n");
		return 0;
	}
	if (nargs < 1)
		return ts_cli_usage(cli, "name a KEY, or give --list");
	key = argv[optind];
	if (unset) {
		if (nargs != 1)
			return ts_cli_usage(cli, "--unset takes one KEY");
		if (ts_node_config_unset(cli->node, key) < 0)
			return is_remote_url(key) ? ts_cli_fail_hint(cli, TS_EDENIED, "use 'tiersync remote remove NAME'")
				: ts_cli_fail(cli);
		if (lo.json)
			print_pair(1, key, NULL);
		return 0;
	}
	if (nargs > 2)
		return ts_cli_usage(cli, "one KEY and at most one VALUE (quote a value with spaces)");
	if (nargs == 1) {
		if (ts_node_config_get(&value, cli->node, key) < 0)
			return ts_cli_fail(cli);
		print_pair(lo.json, key, value);
		free(value);
		return 0;
	}
	/* a relative path is where the person typing it sees it, as for 'remote add' */
	if (is_remote_url(key) || (!strncasecmp(key, "remote.", 7) && strrchr(key, '.') &&
	    !strcasecmp(strrchr(key, '.'), ".identity"))) {
		if (!(value = ts_cli_url_absolute(argv[optind + 1]))) {
			fprintf(stderr, "tiersync: the current directory: %s\n", strerror(errno));
			return 1;
		}
	} else if (!(value = strdup(argv[optind + 1]))) {
		fprintf(stderr, "tiersync: out of memory\n");
		return 1;
	}
	rc = ts_node_config_set(cli->node, key, value);
	if (rc < 0)
		rc = ts_cli_fail(cli);
	else {
		if (lo.json) {
			free(value);
			value = NULL;
			if (ts_node_config_get(&value, cli->node, key) < 0)
				rc = ts_cli_fail(cli);
			else
				print_pair(1, key, value);
		}
	}
	free(value);
	return rc;
}
