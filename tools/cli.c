/*
 * Shared helpers of the CLI's subcommands.
 */
#include "cli.h"
#include "json.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Starts the line of a refusal, "tiersync: MESSAGE"; returns its code. */
static int fail_start(void)
{
	const char *msg = ts_error_last();
	fprintf(stderr, "tiersync: %s", msg ? msg : "failed");
	return ts_error_last_code();
}

/* Ends the line of a refusal of `code` with the hints every command
 * shares. */
static int fail_end(ts_cli *cli, int code)
{
	if (cli->no_author && code == TS_EINVALID)
		fputs("; this node has no identity: give --author NAME", stderr);
	fputc('\n', stderr);
	return 1;
}

int ts_cli_fail(ts_cli *cli)
{
	return fail_end(cli, fail_start());
}

int ts_cli_fail_hint(ts_cli *cli, int code, const char *fmt, ...)
{
	int last = fail_start();
	va_list ap;

	if (last == code) {
		fputs("; ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	return fail_end(cli, last);
}

static int remote_named(const ts_remote_info *r, void *payload)
{
	return !strcmp(r->name, (const char *)payload);
}

int ts_cli_fail_remote(ts_cli *cli, const char *remote)
{
	char *msg = ts_error_last() ? strdup(ts_error_last()) : NULL;
	const char *name = remote ? remote : TS_REMOTE_DEFAULT;
	int code = ts_error_last_code();

	fprintf(stderr, "tiersync: %s", msg ? msg : "failed");
	free(msg);
	switch (code) {
	case TS_ENOTFOUND:
		if (cli->node && ts_node_remote_name_valid(name) &&
		    ts_node_remote_list(cli->node, remote_named, (void *)name) == 0)
			fprintf(stderr, "; add it with 'tiersync remote add %s URL'", name);
		break;
	case TS_EHOSTKEY:
		fprintf(stderr, "; then run 'tiersync remote trust %s'", name);
		break;
	case TS_EHOSTKEY_CHANGED:
		fprintf(stderr, "; only then run 'tiersync remote trust %s --replace'", name);
		break;
	case TS_EAUTH:
		fprintf(stderr, " (this node's key: 'tiersync remote add %s URL --identity KEYFILE', or "
			"ssh-agent's; the upper node enrolls it)", name);
		break;
	}
	return fail_end(cli, code);
}

int ts_cli_usage(ts_cli *cli, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "tiersync %s: ", cli->cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'tiersync %s --help')\n", cli->cmd->name);
	return 2;
}

void ts_cli_help(const ts_cli_command *cmd, FILE *out)
{
	fprintf(out, "usage: %s\n\n%s\n", cmd->usage, cmd->summary);
	if (cmd->help)
		fprintf(out, "\n%s", cmd->help);
}

int ts_cli_getopt(ts_cli *cli, int argc, char **argv, const struct option *opts, int *help)
{
	static struct option all[32];
	int n = 0, c;

	for (n = 0; opts && opts[n].name && n < 30; n++)
		all[n] = opts[n];
	all[n].name = "help";
	all[n].has_arg = no_argument;
	all[n].flag = NULL;
	all[n].val = 0x100;
	memset(&all[n + 1], 0, sizeof(all[0]));

	opterr = 0;
	c = getopt_long(argc, argv, "m:n:", all, NULL);
	if (c == 0x100) {
		*help = 1;
		return -1;
	}
	if (c == '?') {
		if (optopt)
			ts_cli_usage(cli, "option -%c needs a value or is unknown", optopt);
		else
			ts_cli_usage(cli, "unknown option or missing value: %s", argv[optind - 1]);
	}
	return c;
}

const ts_cli_verb *ts_cli_verb_find(const ts_cli_verb *verbs, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(name, verbs[i].verb))
			return &verbs[i];
	return NULL;
}

int ts_cli_verb_getopt(ts_cli *cli, const ts_cli_verb *verb, int argc, char **argv,
	const struct option *opts, int *help)
{
	const struct option *o;
	int c = ts_cli_getopt(cli, argc, argv, opts, help);

	if (c == -1 || c == '?' || strchr(verb->options, c))
		return c;
	for (o = opts; o->name && o->val != c; o++)
		;
	ts_cli_usage(cli, "%s %s does not take --%s", cli->cmd->name, verb->verb, o->name ? o->name : "?");
	return '?';
}

const char *ts_cli_author(ts_cli *cli, const char *given)
{
	const char *author = given && *given ? given : cli->node ? ts_node_identity(cli->node) : NULL;

	cli->no_author = !author || !*author;
	return cli->no_author ? NULL : author;
}

const char *ts_cli_merge_author(ts_cli *cli, const char *given)
{
	const char *author = ts_cli_author(cli, given);

	if (author || !cli->node)
		return author;
	cli->no_author = 0;
	return ts_node_id(cli->node);
}

void ts_json_str(FILE *out, const char *s)
{
	ts_json_write_text(out, s);
}

void ts_json_str_or_null(FILE *out, const char *s)
{
	if (s)
		ts_json_write_text(out, s);
	else
		fputs("null", out);
}

void ts_cli_staged(int json, const char *id, const char *human)
{
	if (json) {
		fputs("{\"id\":", stdout);
		ts_json_str(stdout, id);
		puts(",\"staged\":true}");
	} else if (human)
		printf("%s %s (staged)\n", human, id);
	else
		printf("%s\n", id);
}

void ts_cli_json_member(const char *key, const char *value)
{
	printf(",\"%s\":", key);
	ts_json_str_or_null(stdout, value);
}
