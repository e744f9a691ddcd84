/*
 * tiersync area: the key-area ledger (重点地区): list, delist, show.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "tiersync.h"

#define MAX_DISTRICTS 64

/* The areas this node works with: the city sees every row; any other node
 * its district's rows (which carry the city's areas in it). ?1 node id,
 * ?2 1 for the city, ?3 1 to include delisted rows. */
#define AREAS_SQL \
	"SELECT id, CASE WHEN delisted_at IS NULL THEN 'listed' ELSE 'delisted' END AS state, level, " \
	"  owner_node, city_key_area_id, name, zone, listed_at, reason, delisted_at, delist_reason " \
	"FROM key_areas " \
	"WHERE (?2 OR (level = 'district' AND (owner_node = ?1 OR substr(?1, 1, length(owner_node) + 1) = owner_node || '.'))) " \
	"  AND (?3 OR delisted_at IS NULL) " \
	"ORDER BY owner_node, listed_at, id"

static int area_list(ts_cli *cli, int all, int json)
{
	sqlite3 *db = ts_node_db(cli->node);
	sqlite3_stmt *st = NULL;
	const char *sql = json ?
		"SELECT json_group_array(json_object('id', id, 'state', state, 'level', level, 'owner_node', owner_node, "
		"  'city_key_area_id', city_key_area_id, 'name', name, 'zone', zone, 'listed_at', listed_at, "
		"  'reason', reason, 'delisted_at', delisted_at, 'delist_reason', delist_reason)) "
		"FROM (" AREAS_SQL ")" : AREAS_SQL;
	int n = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "tiersync: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	sqlite3_bind_text(st, 1, ts_node_id(cli->node), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, ts_node_tier(cli->node) == TS_TIER_CITY);
	sqlite3_bind_int(st, 3, all);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (json) {
			puts((const char *)sqlite3_column_text(st, 0));
			continue;
		}
		printf("%s  %-8s %-8s %-16s %s  (%s; listed %.10s", sqlite3_column_text(st, 0),
			sqlite3_column_text(st, 1), sqlite3_column_text(st, 2), sqlite3_column_text(st, 3),
			sqlite3_column_text(st, 5), sqlite3_column_text(st, 6), sqlite3_column_text(st, 7));
		if (sqlite3_column_type(st, 9) != SQLITE_NULL)
			printf(", delisted %.10s", sqlite3_column_text(st, 9));
		if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			printf(", carries city area %s", sqlite3_column_text(st, 4));
		puts(")");
		n++;
	}
	if (!json && n == 0)
		printf("no %skey areas\n", all ? "" : "listed ");
	sqlite3_finalize(st);
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
		if (!zone)
			return ts_cli_usage(cli, "a key area needs --zone");
		if (ts_area_add(&id, cli->node, ts_cli_author(cli, author), argv[optind], zone, reason,
				districts, ndistricts) < 0)
			return ts_cli_fail();
		ts_cli_staged(json, id, NULL);
		free(id);
		return 0;
	}
	if (!strcmp(verb, "delist")) {
		if (optind != argc - 1)
			return ts_cli_usage(cli, "name one key area id");
		if (!reason)
			return ts_cli_usage(cli, "delisting needs --reason");
		if (ts_area_delist(cli->node, ts_cli_author(cli, author), argv[optind], reason) < 0)
			return ts_cli_fail();
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
