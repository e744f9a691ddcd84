/*
 * tiersync patrol: patrols (巡查, 人盯车巡): start, end, list, show with the
 * cases found on them. A case found on a patrol is recorded with
 * `tiersync case new --patrol ID` (tools/cmd_case.c).
 */
#include <stdlib.h>
#include <string.h>

#include "commands.h"

#define MAX_OFFICERS 16

static void print_patrol_json(const ts_patrol_info *p)
{
	fputs("{\"id\":", stdout);
	ts_json_str_or_null(stdout, p->id);
	printf(",\"under_way\":%s", p->ended_at ? "false" : "true");
	ts_cli_json_member("officers", p->officers);
	ts_cli_json_member("jurisdiction", p->jurisdiction);
	ts_cli_json_member("area", p->area);
	ts_cli_json_member("key_area_id", p->key_area_id);
	ts_cli_json_member("started_at", p->started_at);
	ts_cli_json_member("ended_at", p->ended_at);
	ts_cli_json_member("route", p->route);
	ts_cli_json_member("notes", p->notes);
	printf(",\"found\":%lld,\"cases\":%lld}", (long long)p->found, (long long)p->cases);
}

static void print_patrol_line(const ts_patrol_info *p)
{
	printf("%s  %-9s %.16s", p->id, p->ended_at ? "ended" : "under way", p->started_at);
	if (p->ended_at)
		printf(" - %.16s", p->ended_at);
	printf("  %s  %s", p->area ? p->area : "-", p->officers);
	if (p->key_area_id)
		printf("  key area %s", p->key_area_id);
	printf("  found %lld\n", (long long)p->found);
}

typedef struct {
	int json;
	size_t n;
} patrol_out;

static int print_patrol(const ts_patrol_info *p, void *payload)
{
	patrol_out *out = payload;

	if (out->json) {
		fputs(out->n ? "," : "[", stdout);
		print_patrol_json(p);
	} else
		print_patrol_line(p);
	out->n++;
	return 0;
}

static int show_patrol(const ts_patrol_info *p, void *payload)
{
	patrol_out *out = payload;

	if (out->json) {
		fputs("{\"patrol\":", stdout);
		print_patrol_json(p);
		fputs(",\"cases\":[", stdout);
		return 0;
	}
	printf("%-13s %s\n", "id", p->id);
	printf("%-13s %s\n", "officers", p->officers);
	printf("%-13s %s\n", "jurisdiction", p->jurisdiction);
	if (p->area)
		printf("%-13s %s\n", "area", p->area);
	if (p->key_area_id)
		printf("%-13s %s\n", "key area", p->key_area_id);
	printf("%-13s %s\n", "started", p->started_at);
	printf("%-13s %s\n", "ended", p->ended_at ? p->ended_at : "(under way)");
	if (p->route)
		printf("%-13s %s\n", "route", p->route);
	if (p->notes)
		printf("%-13s %s\n", "notes", p->notes);
	printf("%-13s %lld\n", "found", (long long)p->found);
	printf("\ncases found (%lld held here):\n", (long long)p->cases);
	return 0;
}

static int show_case(const ts_patrol_case *c, void *payload)
{
	patrol_out *out = payload;

	if (out->json) {
		fputs(out->n ? ",{\"id\":" : "{\"id\":", stdout);
		ts_json_str(stdout, c->id);
		ts_cli_json_member("category", c->category);
		ts_cli_json_member("status", c->status);
		ts_cli_json_member("address", c->address);
		ts_cli_json_member("reported_at", c->reported_at);
		putchar('}');
	} else
		printf("  %s  %-10s %.16s  %s  %s\n", c->id, c->status, c->reported_at, c->category, c->address);
	out->n++;
	return 0;
}

static int patrol_show(ts_cli *cli, const char *id, int json)
{
	patrol_out out = { json, 0 };

	if (ts_patrol_get(cli->node, id, show_patrol, &out) < 0)
		return ts_cli_fail_hint(cli, TS_ENOTFOUND, "see 'tiersync patrol list'");
	if (ts_patrol_cases(cli->node, id, show_case, &out) < 0) {
		if (json)
			puts("]}");
		return ts_cli_fail(cli);
	}
	if (json)
		puts("]}");
	else if (out.n == 0)
		puts("  (none)");
	return 0;
}

/* Each verb and the options it takes (their getopt letters). */
static const ts_cli_verb verbs[] = {
	{ "start", "AoktTaj" }, { "end", "tTrnaj" }, { "list", "ifkuj" }, { "show", "j" },
};

int cmd_patrol(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "area", required_argument, NULL, 'A' },
		{ "officer", required_argument, NULL, 'o' },
		{ "key-area", required_argument, NULL, 'k' },
		{ "at", required_argument, NULL, 't' },
		{ "route", required_argument, NULL, 'r' },
		{ "notes", required_argument, NULL, 'n' },
		{ "in", required_argument, NULL, 'i' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 'T' },
		{ "under-way", no_argument, NULL, 'u' },
		{ "author", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ 0, 0, 0, 0 }
	};
	ts_patrol_options o;
	ts_patrol_filter filter = TS_PATROL_FILTER_INIT;
	const char *officers[MAX_OFFICERS];
	const char *author = NULL, *at = NULL, *route = NULL, *notes = NULL, *verb, *who;
	char parsed[32], *id = NULL;
	int c, help = 0, json = 0;
	const ts_cli_verb *which;

	memset(&o, 0, sizeof(o));
	if (argc < 2 || argv[1][0] == '-')
		return ts_cli_usage(cli, "name a verb: start, end, list or show");
	verb = argv[1];
	if (!(which = ts_cli_verb_find(verbs, sizeof(verbs) / sizeof(verbs[0]), verb)))
		return ts_cli_usage(cli, "unknown verb '%s': start, end, list or show", verb);
	argc--;
	argv++;
	while ((c = ts_cli_verb_getopt(cli, which, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'A': o.area = optarg; break;
		case 'o':
			if (o.nofficers == MAX_OFFICERS)
				return ts_cli_usage(cli, "too many --officer");
			officers[o.nofficers++] = optarg;
			break;
		case 'k': o.key_area_id = filter.key_area_id = optarg; break;
		case 't': at = optarg; break;
		case 'r': route = optarg; break;
		case 'n': notes = optarg; break;
		case 'i': filter.jurisdiction = optarg; break;
		case 'f': filter.from = optarg; break;
		case 'T': filter.to = optarg; break;
		case 'u': filter.under_way_only = 1; break;
		case 'a': author = optarg; break;
		case 'j': json = 1; break;
		default: return 2;
		}
	}
	/* a time that is not one, named by its flag */
	if (at && ts_time_parse(parsed, at, 0, "--at") < 0)
		return ts_cli_usage(cli, "%s", ts_error_last());
	if (!strcmp(verb, "start")) {
		if (optind != argc)
			return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
		if (!o.area || !*o.area)
			return ts_cli_usage(cli, "a patrol needs --area NAME: the area or route patrolled");
		who = ts_cli_author(cli, author);
		if (o.nofficers == 0 && !who)
			return ts_cli_usage(cli, "a patrol needs its officers: --officer NAME for each (default: --author)");
		o.officers = officers;
		o.started = at;
		if (ts_patrol_start(&id, cli->node, who, &o) < 0)
			return ts_cli_fail_hint(cli, TS_ENOTFOUND, "see 'tiersync area list'");
		ts_cli_staged(json, id, NULL);
		free(id);
		return 0;
	}
	if (!strcmp(verb, "end")) {
		if (optind != argc - 1)
			return ts_cli_usage(cli, "name one patrol id");
		if (ts_patrol_end(cli->node, ts_cli_author(cli, author), argv[optind], at, route, notes) < 0)
			return ts_cli_fail_hint(cli, TS_ENOTFOUND, "see 'tiersync patrol list'");
		ts_cli_staged(json, argv[optind], "ended");
		return 0;
	}
	if (!strcmp(verb, "show")) {
		if (optind != argc - 1)
			return ts_cli_usage(cli, "name one patrol id");
		return patrol_show(cli, argv[optind], json);
	}
	/* list */
	if (optind != argc)
		return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
	if ((filter.from && ts_time_parse(parsed, filter.from, 0, "--from") < 0) ||
	    (filter.to && ts_time_parse(parsed, filter.to, 1, "--to") < 0))
		return ts_cli_usage(cli, "%s", ts_error_last());
	{
		patrol_out out = { json, 0 };
		if (ts_patrol_list(cli->node, &filter, print_patrol, &out) < 0)
			return ts_cli_fail(cli);
		if (json)
			puts(out.n ? "]" : "[]");
		else if (out.n == 0)
			puts("no patrols");
	}
	return 0;
}
