/*
 * tiersync enroll: the lower nodes whose keys sign their history and may
 * reach this node's gate over SSH (enroll, revoke, list); --signing-only
 * leaves SSH out, for nodes that come by path remote or bundle.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

/* The key file's text: one line is expected; more is refused by the parser. */
static int read_key(ts_cli *cli, char *out, size_t size, const char *path)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		fprintf(stderr, "tiersync: cannot read the key %s: %s\n", path, strerror(errno));
		return 1;
	}
	n = fread(out, 1, size - 1, f);
	out[n] = '\0';
	if (ferror(f) || !feof(f) || memchr(out, '\0', n)) {
		fclose(f);
		fprintf(stderr, "tiersync: %s is not an OpenSSH public key file (one line, ssh-ed25519 ...)\n", path);
		return 1;
	}
	fclose(f);
	return 0;
}

typedef struct {
	int json, n;
} list_out;

static int print_signer(const ts_enrolled_info *s, void *payload)
{
	list_out *o = payload;

	if (o->json) {
		printf("%s{\"node\":", o->n ? "," : "");
		ts_json_str(stdout, s->node_id);
		printf(",\"public_key\":");
		ts_json_str(stdout, s->public_key);
		printf(",\"enrolled_by\":");
		ts_json_str(stdout, s->enrolled_by);
		printf(",\"enrolled_at\":");
		ts_json_str(stdout, s->enrolled_at);
		printf(",\"revoked_at\":");
		ts_json_str_or_null(stdout, s->revoked_at);
		/* the column is a JSON array (its CHECK says so): passed through as it is */
		printf(",\"retired_keys\":%s}", s->retired_keys ? s->retired_keys : "[]");
	} else {
		printf("%-28s %s  by %s at %s%s%s", s->node_id, s->revoked_at ? "revoked" : "enrolled",
			s->enrolled_by, s->enrolled_at, s->revoked_at ? ", revoked at " : "",
			s->revoked_at ? s->revoked_at : "");
		if (s->retired)
			printf(", %d earlier key%s retired", s->retired, s->retired == 1 ? "" : "s");
		putchar('\n');
	}
	o->n++;
	return 0;
}

static void print_result(int json, const char *verb, const char *id, const char *commit,
	const ts_enroll_options *eo)
{
	if (json) {
		printf("{\"node\":");
		ts_json_str(stdout, id);
		printf(",\"%s\":true,\"commit\":\"%s\",\"authorized_keys\":", verb, commit);
		ts_json_str_or_null(stdout, eo->authorized_keys);
		printf(",\"signing_only\":%s}\n", eo->signing_only ? "true" : "false");
	} else
		printf("%s %s%s (commit %.12s)\n", verb, id, eo->signing_only ? ", signing only" : "", commit);
}

int cmd_enroll(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "node", required_argument, NULL, 'n' },
		{ "key", required_argument, NULL, 'k' },
		{ "revoke", required_argument, NULL, 'r' },
		{ "list", no_argument, NULL, 'l' },
		{ "authorized-keys", required_argument, NULL, 'a' },
		{ "signing-only", no_argument, NULL, 's' },
		{ "author", required_argument, NULL, 'A' },
		{ "json", no_argument, NULL, 'j' },
		{ 0, 0, 0, 0 }
	};
	ts_enroll_options eo = { TS_ENROLL_OPTIONS_VERSION, NULL, NULL, NULL, 0 };
	const char *id = NULL, *key_file = NULL, *revoke = NULL, *author = NULL;
	char key[16384], program[PATH_MAX], commit[41];
	int c, help = 0, json = 0, list = 0;
	list_out lo = { 0, 0 };
	ssize_t n;

	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'n': id = optarg; break;
		case 'k': key_file = optarg; break;
		case 'r': revoke = optarg; break;
		case 'l': list = 1; break;
		case 'a': eo.authorized_keys = optarg; break;
		case 's': eo.signing_only = 1; break;
		case 'A': author = optarg; break;
		case 'j': json = 1; break;
		default: return 2;
		}
	}
	if (help) {
		ts_cli_help(cli->cmd, stdout);
		return 0;
	}
	if (optind < argc)
		return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
	if ((id != NULL) + (revoke != NULL) + list != 1)
		return ts_cli_usage(cli, "name one of --node ID --key FILE.pub, --revoke ID or --list");
	if (list) {
		if (key_file || eo.authorized_keys || eo.signing_only || author)
			return ts_cli_usage(cli, "--list takes only --json");
		lo.json = json;
		if (json)
			printf("[");
		if (ts_node_enrolled(cli->node, print_signer, &lo) < 0)
			return ts_cli_fail(cli);
		if (json)
			printf("]\n");
		return 0;
	}
	if (eo.signing_only && eo.authorized_keys)
		return ts_cli_usage(cli, "--signing-only writes no authorized_keys: leave out --authorized-keys");
	eo.author = ts_cli_author(cli, author);
	if (revoke) {
		if (key_file)
			return ts_cli_usage(cli, "--key goes with --node, not --revoke");
		if (ts_node_revoke(commit, cli->node, revoke, &eo) < 0)
			return ts_cli_fail(cli);
		print_result(json, "revoked", revoke, commit, &eo);
		return 0;
	}
	if (!key_file)
		return ts_cli_usage(cli, "--node needs --key FILE.pub, the node's public key");
	if (!ts_node_id_valid(id))
		return ts_cli_usage(cli, "'%s' is not a node id (dot-separated lowercase labels)", id);
	if (read_key(cli, key, sizeof(key), key_file))
		return 1;
	/* the forced command names this very binary */
	if (!eo.signing_only) {
		if ((n = readlink("/proc/self/exe", program, sizeof(program) - 1)) < 0) {
			fprintf(stderr, "tiersync: cannot find this program's path: %s\n", strerror(errno));
			return 1;
		}
		program[n] = '\0';
		eo.program = program;
	}
	if (ts_node_enroll(commit, cli->node, id, key, &eo) < 0)
		return ts_cli_fail(cli);
	print_result(json, "enrolled", id, commit, &eo);
	return 0;
}
