/*
 * tiersync remote: the upper nodes this node talks to (add, list, remove)
 * and the SSH host keys it trusts for them (trust).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

char *ts_cli_url_absolute(const char *url)
{
	const char *colon = strchr(url, ':'), *slash = strchr(url, '/');
	char *cwd = NULL, *out = NULL;
	const char *rest = url;
	size_t n;

	/* a URL (scheme://...), scp-style host:path, or an absolute path goes as
	 * it is; only a relative path on this machine is resolved */
	if (strstr(url, "://") || (colon && (!slash || colon < slash)) || url[0] == '/' || !url[0])
		return strdup(url);
	if (!(cwd = getcwd(NULL, 0)))
		return NULL;
	while (rest[0] == '.' && rest[1] == '/')
		for (rest += 2; *rest == '/'; rest++)
			;
	if (!strcmp(rest, "."))
		rest = "";
	n = strlen(cwd) + strlen(rest) + 2;
	if ((out = malloc(n)))
		snprintf(out, n, "%s%s%s", cwd, *rest && strcmp(cwd, "/") ? "/" : "", rest);
	free(cwd);
	return out;
}

typedef struct {
	int json, n;
} list_out;

static int print_remote(const ts_remote_info *r, void *payload)
{
	list_out *o = payload;

	if (o->json) {
		printf("%s{\"name\":", o->n ? "," : "");
		ts_json_str(stdout, r->name);
		printf(",\"url\":");
		ts_json_str(stdout, r->url);
		printf(",\"identity\":");
		ts_json_str_or_null(stdout, r->identity);
		printf("}");
	} else if (r->identity)
		printf("%-12s %s (key %s)\n", r->name, r->url, r->identity);
	else
		printf("%-12s %s\n", r->name, r->url);
	o->n++;
	return 0;
}

static const char *status_word(ts_host_key_status s)
{
	return s == TS_HOST_KEY_ADDED ? "added" : s == TS_HOST_KEY_REPLACED ? "replaced" : "known";
}

static int trust(ts_cli *cli, const char *name, const ts_trust_options *to, int json)
{
	ts_host_key key;

	signal(SIGPIPE, SIG_IGN);
	if (ts_node_remote_trust(&key, cli->node, name, to) < 0)
		return ts_cli_fail_remote(cli, name);
	if (json) {
		printf("{\"remote\":");
		ts_json_str(stdout, name);
		printf(",\"host\":");
		ts_json_str(stdout, key.host);
		printf(",\"type\":\"%s\",\"fingerprint\":\"%s\",\"status\":\"%s\"}\n", key.type,
			key.fingerprint, status_word(key.status));
	} else if (key.status == TS_HOST_KEY_KNOWN)
		printf("remote %s: the host key of %s is already trusted: %s %s\n", name, key.host,
			key.type, key.fingerprint);
	else
		printf("remote %s: %s the host key of %s: %s %s\n", name,
			key.status == TS_HOST_KEY_REPLACED ? "replaced" : "trusted", key.host, key.type,
			key.fingerprint);
	return 0;
}

int cmd_remote(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "identity", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "expect", required_argument, NULL, 'e' },
		{ "replace", no_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ 0, 0, 0, 0 }
	};
	ts_trust_options to = { TS_TRUST_OPTIONS_VERSION, NULL, 0, 0 };
	const char *identity = NULL, *sub = "list";
	list_out lo = { 0, 0 };
	int c, help = 0, json = 0, trust_only = 0, nargs;

	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'i': identity = optarg; break;
		case 'j': json = 1; break;
		case 'e': to.expect = optarg; trust_only = 1; break;
		case 'r': to.replace = 1; trust_only = 1; break;
		case 't': if (ts_cli_timeout(cli, optarg, &to.timeout_ms)) return 2; trust_only = 1; break;
		default: return 2;
		}
	}
	if (optind < argc)
		sub = argv[optind++];
	nargs = argc - optind;
	if (trust_only && strcmp(sub, "trust"))
		return ts_cli_usage(cli, "--expect, --replace and --timeout go with 'remote trust'");
	if (identity && strcmp(sub, "add"))
		return ts_cli_usage(cli, "--identity goes with 'remote add'");
	if (json && strcmp(sub, "list") && strcmp(sub, "trust"))
		return ts_cli_usage(cli, "--json goes with 'remote list' and 'remote trust'");

	if (!strcmp(sub, "add")) {
		if (nargs != 2)
			return ts_cli_usage(cli, "remote add takes a NAME and a URL");
		if (!ts_node_remote_name_valid(argv[optind]))
			return ts_cli_usage(cli, "invalid remote name '%s': use letters, digits, '-', '_' and "
				"inner dots", argv[optind]);
		/* the path as the person typed it, where they typed it: the
		 * library would take a relative one from the node's directory */
		char *url = ts_cli_url_absolute(argv[optind + 1]);
		if (!url) {
			fprintf(stderr, "tiersync: the current directory: %s\n", strerror(errno));
			return 1;
		}
		c = ts_node_remote_add(cli->node, argv[optind], url, identity);
		free(url);
		return c < 0 ? ts_cli_fail(cli) : 0;
	}
	if (!strcmp(sub, "remove") || !strcmp(sub, "rm")) {
		if (nargs != 1)
			return ts_cli_usage(cli, "remote remove takes one NAME");
		if (ts_node_remote_remove(cli->node, argv[optind]) < 0)
			return ts_cli_fail(cli);
		return 0;
	}
	if (!strcmp(sub, "trust")) {
		if (nargs > 1)
			return ts_cli_usage(cli, "remote trust takes one NAME");
		return trust(cli, nargs ? argv[optind] : TS_REMOTE_DEFAULT, &to, json);
	}
	if (!strcmp(sub, "list")) {
		if (nargs)
			return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
		lo.json = json;
		if (json)
			printf("[");
		if (ts_node_remote_list(cli->node, print_remote, &lo) < 0)
			return ts_cli_fail(cli);
		if (json)
			printf("]\n");
		return 0;
	}
	return ts_cli_usage(cli, "unknown subcommand '%s': add, list, remove or trust", sub);
}
