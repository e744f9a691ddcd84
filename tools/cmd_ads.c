/*
 * tiersync ads: the phone numbers found on small ads (非法小广告) and the
 * warning call to each (违法电话号码警示), with the warning rate.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "tiersync.h"

/* One line per number found in this node's jurisdiction (?1): its state
 * (see node/small_ads.c), on how many cases, the last call and who made
 * it. ?2 1 to keep only the numbers not warned. */
#define NUMBERS_SQL \
	"WITH s AS (SELECT p.* FROM small_ad_phones p JOIN cases c ON c.id = p.case_id " \
	"  WHERE c.jurisdiction = ?1 OR substr(c.jurisdiction, 1, length(?1) + 1) = ?1 || '.'), " \
	"n AS (SELECT phone, " \
	"  CASE WHEN count(*) FILTER (WHERE outcome IS NOT 'warned') = 0 THEN 'warned' " \
	"       WHEN count(*) FILTER (WHERE outcome IS NULL) > 0 THEN 'untried' " \
	"       WHEN count(*) FILTER (WHERE outcome = 'suspended') > 0 THEN 'suspended' " \
	"       ELSE 'unreachable' END AS state, " \
	"  count(*) AS cases, max(warned_at) AS last_call, " \
	"  (SELECT warned_by FROM s s2 WHERE s2.phone = s.phone AND s2.warned_at IS NOT NULL " \
	"   ORDER BY s2.warned_at DESC, s2.id DESC LIMIT 1) AS last_caller " \
	"  FROM s GROUP BY phone) " \
	"SELECT phone, state, cases, last_call, last_caller FROM n " \
	"WHERE NOT ?2 OR state <> 'warned' ORDER BY phone"

#define NUMBERS_SQL_JSON_HEAD \
	"SELECT json_group_array(json_object('phone', phone, 'state', state, 'cases', cases, " \
	"  'last_call', last_call, 'last_caller', last_caller)) FROM ("
#define NUMBERS_SQL_JSON_TAIL ")"

static int ads_list(ts_cli *cli, int unwarned, int json)
{
	sqlite3 *db = ts_node_db(cli->node);
	sqlite3_stmt *st = NULL;
	ts_ads_figures f;
	int n = 0;

	if (ts_ads_figures_get(&f, cli->node) < 0)
		return ts_cli_fail();
	if (sqlite3_prepare_v2(db, json ?
			NUMBERS_SQL_JSON_HEAD NUMBERS_SQL NUMBERS_SQL_JSON_TAIL : NUMBERS_SQL, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "tiersync: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	sqlite3_bind_text(st, 1, ts_node_id(cli->node), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, unwarned);
	if (json) {
		if (sqlite3_step(st) == SQLITE_ROW)
			printf("{\"found\":%lld,\"warned\":%lld,\"unreachable\":%lld,\"suspended\":%lld,\"untried\":%lld,"
				"\"rate\":%.4f,\"numbers\":%s}\n", f.found, f.warned, f.unreachable, f.suspended,
				f.untried, f.rate, sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		return 0;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		printf("%-14s %-11s on %lld case%s", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
			(long long)sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 2) == 1 ? "" : "s");
		if (sqlite3_column_type(st, 3) != SQLITE_NULL)
			printf(", last call %.16s by %s", sqlite3_column_text(st, 3), sqlite3_column_text(st, 4));
		putchar('\n');
		n++;
	}
	sqlite3_finalize(st);
	if (n == 0)
		printf("no %snumbers\n", unwarned ? "unwarned " : "");
	printf("warning rate: %lld of %lld numbers warned = %.1f%% (unreachable %lld, suspended %lld, not yet called %lld)\n",
		f.warned, f.found, f.rate * 100.0, f.unreachable, f.suspended, f.untried);
	return 0;
}

int cmd_ads(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "outcome", required_argument, NULL, 'o' },
		{ "author", required_argument, NULL, 'a' },
		{ "unwarned", no_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ 0, 0, 0, 0 }
	};
	const char *outcome = NULL, *author = NULL, *verb;
	int c, help = 0, json = 0, unwarned = 0;
	size_t rows = 0;

	if (argc < 2 || argv[1][0] == '-')
		return ts_cli_usage(cli, "name a verb: add, warn or list");
	verb = argv[1];
	argc--;
	argv++;
	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'o': outcome = optarg; break;
		case 'a': author = optarg; break;
		case 'u': unwarned = 1; break;
		case 'j': json = 1; break;
		default: return 2;
		}
	}
	if (!strcmp(verb, "add")) {
		if (optind > argc - 2)
			return ts_cli_usage(cli, "name the case and at least one number: ads add CASE PHONE...");
		if (ts_ads_add(cli->node, ts_cli_author(cli, author), argv[optind],
				(const char *const *)argv + optind + 1, (size_t)(argc - optind - 1)) < 0)
			return ts_cli_fail();
		if (json) {
			fputs("{\"case\":", stdout);
			ts_json_str(stdout, argv[optind]);
			printf(",\"numbers\":%d,\"staged\":true}\n", argc - optind - 1);
		} else
			printf("recorded %d number%s on %s (staged)\n", argc - optind - 1,
				argc - optind - 1 == 1 ? "" : "s", argv[optind]);
		return 0;
	}
	if (!strcmp(verb, "warn")) {
		if (optind != argc - 1)
			return ts_cli_usage(cli, "name one phone number");
		if (!outcome)
			return ts_cli_usage(cli, "say how the call went: --outcome warned|unreachable|suspended");
		if (ts_ads_warn(&rows, cli->node, ts_cli_author(cli, author), argv[optind], outcome) < 0)
			return ts_cli_fail();
		if (json)
			printf("{\"outcome\":\"%s\",\"cases\":%zu,\"staged\":true}\n", outcome, rows);
		else
			printf("%s: %s on %zu case%s (staged)\n", argv[optind], outcome, rows, rows == 1 ? "" : "s");
		return 0;
	}
	if (!strcmp(verb, "list")) {
		if (optind != argc)
			return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
		return ads_list(cli, unwarned, json);
	}
	return ts_cli_usage(cli, "unknown verb '%s': add, warn or list", verb);
}
