/*
 * tiersync event: major-event periods (重大活动保障): declare, list, and
 * mark the cases inside them.
 */
#include <stdlib.h>
#include <string.h>

#include "commands.h"

typedef struct {
	int json;
	size_t n;
} event_out;

static int print_event(const ts_event_info *e, void *payload)
{
	event_out *out = payload;

	if (out->json) {
		fputs(out->n ? ",{\"id\":" : "[{\"id\":", stdout);
		ts_json_str_or_null(stdout, e->id);
		ts_cli_json_member("level", e->level);
		ts_cli_json_member("owner_node", e->owner_node);
		ts_cli_json_member("name", e->name);
		ts_cli_json_member("starts_at", e->starts_at);
		ts_cli_json_member("ends_at", e->ends_at);
		ts_cli_json_member("zone", e->zone);
		printf(",\"cases\":%lld}", (long long)e->cases);
	} else
		printf("%s  %-8s %-16s %s  %.16s .. %.16s  %s  (%lld cases)\n", e->id, e->level, e->owner_node,
			e->name, e->starts_at, e->ends_at, e->zone ? e->zone : "-", (long long)e->cases);
	out->n++;
	return 0;
}

static int event_list(ts_cli *cli, int json)
{
	event_out out = { json, 0 };

	if (ts_event_list(cli->node, NULL, print_event, &out) < 0)
		return ts_cli_fail(cli);
	if (json)
		puts(out.n ? "]" : "[]");
	else if (out.n == 0)
		puts("no major events");
	return 0;
}

int cmd_event(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "zone", required_argument, NULL, 'z' },
		{ "author", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ 0, 0, 0, 0 }
	};
	const char *from = NULL, *to = NULL, *zone = NULL, *author = NULL, *verb;
	int c, help = 0, json = 0;
	size_t marked = 0;
	char *id = NULL, when[32];

	if (argc < 2 || argv[1][0] == '-')
		return ts_cli_usage(cli, "name a verb: add, mark or list");
	verb = argv[1];
	argc--;
	argv++;
	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'f': from = optarg; break;
		case 't': to = optarg; break;
		case 'z': zone = optarg; break;
		case 'a': author = optarg; break;
		case 'j': json = 1; break;
		default: return 2;
		}
	}
	if (!strcmp(verb, "add")) {
		if (optind != argc - 1)
			return ts_cli_usage(cli, "name one event: event add NAME --from DATE --to DATE");
		if (!from || !to)
			return ts_cli_usage(cli, "a major event needs --from DATE and --to DATE");
		/* a date that is not one, named by its flag */
		if (ts_time_parse(when, from, 0, "--from") < 0 || ts_time_parse(when, to, 1, "--to") < 0)
			return ts_cli_fail(cli);
		if (ts_event_add(&id, &marked, cli->node, ts_cli_author(cli, author), argv[optind], from, to, zone) < 0)
			return ts_cli_fail(cli);
		if (json)
			printf("{\"id\":\"%s\",\"marked\":%zu,\"staged\":true}\n", id, marked);
		else
			printf("%s\nmarked %zu case%s\n", id, marked, marked == 1 ? "" : "s");
		free(id);
		return 0;
	}
	if (!strcmp(verb, "mark")) {
		if (optind < argc - 1)
			return ts_cli_usage(cli, "name at most one event");
		if (ts_event_mark(&marked, cli->node, ts_cli_author(cli, author),
				optind == argc - 1 ? argv[optind] : NULL) < 0)
			return ts_cli_fail(cli);
		if (json)
			printf("{\"marked\":%zu,\"staged\":%s}\n", marked, marked ? "true" : "false");
		else
			printf("marked %zu case%s%s\n", marked, marked == 1 ? "" : "s", marked ? " (staged)" : "");
		return 0;
	}
	if (!strcmp(verb, "list")) {
		if (optind != argc)
			return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
		return event_list(cli, json);
	}
	return ts_cli_usage(cli, "unknown verb '%s': add, mark or list", verb);
}
