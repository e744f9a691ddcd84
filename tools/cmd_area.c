/*
 * tiersync area: the key-area ledger (重点地区): list, delist, show.
 */
#include <stdlib.h>
#include <string.h>

#include "commands.h"

#define MAX_DISTRICTS 64

typedef struct {
	int json;
	size_t n;
} area_out;

static int print_area(const ts_area_info *a, void *payload)
{
	area_out *out = payload;
	const char *state = a->delisted_at ? "delisted" : "listed";

	if (out->json) {
		fputs(out->n ? ",{\"id\":" : "[{\"id\":", stdout);
		ts_json_str_or_null(stdout, a->id);
		ts_cli_json_member("state", state);
		ts_cli_json_member("level", a->level);
		ts_cli_json_member("owner_node", a->owner_node);
		ts_cli_json_member("city_key_area_id", a->city_key_area_id);
		ts_cli_json_member("name", a->name);
		ts_cli_json_member("zone", a->zone);
		ts_cli_json_member("listed_at", a->listed_at);
		ts_cli_json_member("reason", a->reason);
		ts_cli_json_member("delisted_at", a->delisted_at);
		ts_cli_json_member("delist_reason", a->delist_reason);
		putchar('}');
	} else {
		printf("%s  %-8s %-8s %-16s %s  (%s; listed %.10s", a->id, state, a->level, a->owner_node,
			a->name, a->zone, a->listed_at);
		if (a->delisted_at)
			printf(", delisted %.10s", a->delisted_at);
		if (a->city_key_area_id)
			printf(", carries city area %s", a->city_key_area_id);
		puts(")");
	}
	out->n++;
	return 0;
}

static int area_list(ts_cli *cli, int all, int json)
{
	ts_area_filter filter = TS_AREA_FILTER_INIT;
	area_out out = { json, 0 };

	filter.listed_only = !all;
	if (ts_area_list(cli->node, &filter, print_area, &out) < 0)
		return ts_cli_fail(cli);
	if (json)
		puts(out.n ? "]" : "[]");
	else if (out.n == 0)
		printf("no %skey areas\n", all ? "" : "listed ");
	return 0;
}

int cmd_area(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "zone", required_argument, NULL, 'z' },
		{ "reason", required_argument, NULL, 'r' },
		{ "in", required_argument, NULL, 'i' },
		{ "author", required_argument, NULL, 'a' },
		{ "all", no_argument, NULL, 'A' },
		{ "json", no_argument, NULL, 'j' },
		{ 0, 0, 0, 0 }
	};
	const char *zone = NULL, *reason = NULL, *author = NULL, *verb;
	const char *districts[MAX_DISTRICTS];
	size_t ndistricts = 0;
	int c, help = 0, json = 0, all = 0;
	char *id = NULL;

	if (argc < 2 || argv[1][0] == '-')
		return ts_cli_usage(cli, "name a verb: add, delist or list");
	verb = argv[1];
	argc--;
	argv++;
	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'z': zone = optarg; break;
		case 'r': reason = optarg; break;
		case 'a': author = optarg; break;
		case 'A': all = 1; break;
		case 'j': json = 1; break;
		case 'i':
			if (ndistricts == MAX_DISTRICTS)
				return ts_cli_usage(cli, "too many --in");
			districts[ndistricts++] = optarg;
			break;
		default: return 2;
		}
	}
	if (!strcmp(verb, "add")) {
		if (optind != argc - 1)
			return ts_cli_usage(cli, "name one key area: area add NAME --zone Z");
		if (!zone || !*zone)
			return ts_cli_usage(cli, "a key area needs --zone ZONE: where its bounds run");
		/* the city names the districts its area lies in; a district, none */
		if (ts_node_tier(cli->node) == TS_TIER_CITY && ndistricts == 0)
			return ts_cli_usage(cli, "a city's key area needs --in DISTRICT for each district it lies in "
				"(e.g. --in %s.dc)", ts_node_id(cli->node));
		if (ts_node_tier(cli->node) == TS_TIER_DISTRICT && ndistricts > 0)
			return ts_cli_usage(cli, "--in goes with a city's key area: a district lists key areas of its own");
		if (ts_area_add(&id, cli->node, ts_cli_author(cli, author), argv[optind], zone, reason,
				districts, ndistricts) < 0)
			return ts_cli_fail(cli);
		ts_cli_staged(json, id, NULL);
		free(id);
		return 0;
	}
	if (!strcmp(verb, "delist")) {
		if (optind != argc - 1)
			return ts_cli_usage(cli, "name one key area id");
		if (!reason || !*reason)
			return ts_cli_usage(cli, "delisting needs --reason TEXT: why the area is no longer key");
		if (ts_area_delist(cli->node, ts_cli_author(cli, author), argv[optind], reason) < 0)
			return ts_cli_fail(cli);
		ts_cli_staged(json, argv[optind], "delisted");
		return 0;
	}
	if (!strcmp(verb, "list")) {
		if (optind != argc)
			return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
		return area_list(cli, all, json);
	}
	return ts_cli_usage(cli, "unknown verb '%s': add, delist or list", verb);
}
