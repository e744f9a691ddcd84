/*
 * tiersync event: major-event periods (重大活动保障): declare, list, and
 * mark the cases inside them.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "tiersync.h"

/* The events that concern this node (?1): declared by it, above it or below
 * it; with the number of cases this node holds that are marked with each. */
#define EVENTS_SQL \
	"SELECT e.id, e.level, e.owner_node, e.name, e.starts_at, e.ends_at, e.zone, " \
	"  (SELECT count(*) FROM cases c WHERE c.event_id = e.id) AS cases " \
	"FROM major_events e " \
	"WHERE e.owner_node = ?1 OR substr(?1, 1, length(e.owner_node) + 1) = e.owner_node || '.' " \
	"   OR substr(e.owner_node, 1, length(?1) + 1) = ?1 || '.' " \
	"ORDER BY e.starts_at, e.id"

static int event_list(ts_cli *cli, int json)
{
	sqlite3 *db = ts_node_db(cli->node);
	sqlite3_stmt *st = NULL;
	const char *sql = json ?
		"SELECT json_group_array(json_object('id', id, 'level', level, 'owner_node', owner_node, 'name', name, "
		"  'starts_at', starts_at, 'ends_at', ends_at, 'zone', zone, 'cases', cases)) FROM (" EVENTS_SQL ")" :
		EVENTS_SQL;
	int n = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "tiersync: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	sqlite3_bind_text(st, 1, ts_node_id(cli->node), -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (json) {
			puts((const char *)sqlite3_column_text(st, 0));
			continue;
		}
		printf("%s  %-8s %-16s %s  %.16s .. %.16s  %s  (%lld cases)\n", sqlite3_column_text(st, 0),
			sqlite3_column_text(st, 1), sqlite3_column_text(st, 2), sqlite3_column_text(st, 3),
			sqlite3_column_text(st, 4), sqlite3_column_text(st, 5),
			sqlite3_column_type(st, 6) == SQLITE_NULL ? "-" : (const char *)sqlite3_column_text(st, 6),
			(long long)sqlite3_column_int64(st, 7));
		n++;
	}
	if (!json && n == 0)
		puts("no major events");
	sqlite3_finalize(st);
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
	char *id = NULL;

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
		if (ts_event_add(&id, &marked, cli->node, ts_cli_author(cli, author), argv[optind], from, to, zone) < 0)
			return ts_cli_fail();
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
			return ts_cli_fail();
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
