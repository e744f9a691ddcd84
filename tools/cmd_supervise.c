/*
 * tiersync supervise: supervision items (督办): issue down, answer up,
 * close, list with their three-level feedback.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "tiersync.h"

/* The items that concern this node (?1): issued by it or below it, aimed at
 * it or below it, or aimed at a node above it (its street's, for a device).
 * ?2 1 for open (not closed) items only; ?3 now, for an item whose answer
 * is overdue. */
#define ITEMS_SQL \
	"SELECT i.id, i.status, i.level, i.issued_by_node, i.issuer, i.target_node, i.case_id, i.subject, " \
	"  i.detail, i.issued_at, i.due_at, i.closed_at, " \
	"  (i.status = 'open' AND i.due_at IS NOT NULL AND i.due_at < ?3) AS overdue " \
	"FROM supervision_items i " \
	"WHERE (i.target_node = ?1 OR substr(i.target_node, 1, length(?1) + 1) = ?1 || '.' " \
	"    OR substr(?1, 1, length(i.target_node) + 1) = i.target_node || '.' " \
	"    OR i.issued_by_node = ?1 OR substr(i.issued_by_node, 1, length(?1) + 1) = ?1 || '.') " \
	"  AND (NOT ?2 OR i.status <> 'closed') " \
	"ORDER BY i.issued_at, i.id"

#define FEEDBACK_SQL \
	"SELECT level, node, at, author, text FROM supervision_feedback WHERE item_id = ?1 ORDER BY at, id"

static int supervise_list(ts_cli *cli, int open_only, int json)
{
	sqlite3 *db = ts_node_db(cli->node);
	sqlite3_stmt *st = NULL, *fb = NULL;
	const char *sql = json ?
		"SELECT json_group_array(json_object('id', id, 'status', status, 'level', level, "
		"  'issued_by_node', issued_by_node, 'issuer', issuer, 'target_node', target_node, 'case_id', case_id, "
		"  'subject', subject, 'detail', detail, 'issued_at', issued_at, 'due_at', due_at, "
		"  'closed_at', closed_at, 'overdue', json(CASE overdue WHEN 1 THEN 'true' ELSE 'false' END), 'feedback', (SELECT json_group_array(json_object('level', level, "
		"    'node', node, 'at', at, 'author', author, 'text', text)) "
		"    FROM (SELECT * FROM supervision_feedback f WHERE f.item_id = items.id ORDER BY at, id)))) "
		"FROM (" ITEMS_SQL ") AS items" : ITEMS_SQL;
	char now[32];
	int n = 0, status = 1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, FEEDBACK_SQL, -1, &fb, NULL) != SQLITE_OK) {
		fprintf(stderr, "tiersync: %s\n", sqlite3_errmsg(db));
		goto done;
	}
	sqlite3_bind_text(st, 1, ts_node_id(cli->node), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, open_only);
	ts_time_now(now);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (json) {
			puts((const char *)sqlite3_column_text(st, 0));
			continue;
		}
		printf("%s  %-8s %s -> %s  %s\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
			sqlite3_column_text(st, 3), sqlite3_column_text(st, 5), sqlite3_column_text(st, 7));
		printf("    issued %.16s by %s", sqlite3_column_text(st, 9),
			sqlite3_column_type(st, 4) == SQLITE_NULL ? "-" : (const char *)sqlite3_column_text(st, 4));
		if (sqlite3_column_type(st, 10) != SQLITE_NULL)
			printf(", due %.16s", sqlite3_column_text(st, 10));
		if (sqlite3_column_type(st, 6) != SQLITE_NULL)
			printf(", case %s", sqlite3_column_text(st, 6));
		if (sqlite3_column_type(st, 11) != SQLITE_NULL)
			printf(", closed %.16s", sqlite3_column_text(st, 11));
		if (sqlite3_column_int(st, 12))
			fputs(", OVERDUE", stdout);
		putchar('\n');
		sqlite3_reset(fb);
		sqlite3_bind_text(fb, 1, (const char *)sqlite3_column_text(st, 0), -1, SQLITE_TRANSIENT);
		while (sqlite3_step(fb) == SQLITE_ROW)
			printf("    %-8s %s %.16s %s: %s\n", sqlite3_column_text(fb, 0), sqlite3_column_text(fb, 1),
				sqlite3_column_text(fb, 2), sqlite3_column_text(fb, 3), sqlite3_column_text(fb, 4));
		n++;
	}
	if (!json && n == 0)
		printf("no %ssupervision items\n", open_only ? "open " : "");
	status = 0;
done:
	sqlite3_finalize(st);
	sqlite3_finalize(fb);
	return status;
}

int cmd_supervise(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "subject", required_argument, NULL, 's' },
		{ "detail", required_argument, NULL, 'd' },
		{ "case", required_argument, NULL, 'c' },
		{ "due", required_argument, NULL, 'D' },
		{ "text", required_argument, NULL, 'x' },
		{ "author", required_argument, NULL, 'a' },
		{ "open", no_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ 0, 0, 0, 0 }
	};
	ts_supervise_options o;
	const char *author = NULL, *text = NULL, *verb;
	int c, help = 0, json = 0, open_only = 0;
	char *id = NULL;

	memset(&o, 0, sizeof(o));
	if (argc < 2 || argv[1][0] == '-')
		return ts_cli_usage(cli, "name a verb: issue, answer, close or list");
	verb = argv[1];
	argc--;
	argv++;
	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 't': o.target = optarg; break;
		case 's': o.subject = optarg; break;
		case 'd': o.detail = optarg; break;
		case 'c': o.case_id = optarg; break;
		case 'D': o.due = optarg; break;
		case 'x': text = optarg; break;
		case 'a': author = optarg; break;
		case 'o': open_only = 1; break;
		case 'j': json = 1; break;
		default: return 2;
		}
	}
	if (!strcmp(verb, "issue")) {
		if (optind != argc)
			return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
		if (!o.target || !o.subject)
			return ts_cli_usage(cli, "an item needs --to NODE and --subject S");
		if (ts_supervise_issue(&id, cli->node, ts_cli_author(cli, author), &o) < 0)
			return ts_cli_fail();
		ts_cli_staged(json, id, NULL);
		free(id);
		return 0;
	}
	if (!strcmp(verb, "answer")) {
		if (optind != argc - 1)
			return ts_cli_usage(cli, "name one supervision item");
		if (!text)
			return ts_cli_usage(cli, "an answer needs --text");
		if (ts_supervise_answer(&id, cli->node, ts_cli_author(cli, author), argv[optind], text) < 0)
			return ts_cli_fail();
		if (json) {
			printf("{\"id\":\"%s\",\"item\":", id);
			ts_json_str(stdout, argv[optind]);
			puts(",\"staged\":true}");
		} else
			printf("%s\n", id);
		free(id);
		return 0;
	}
	if (!strcmp(verb, "close")) {
		if (optind != argc - 1)
			return ts_cli_usage(cli, "name one supervision item");
		if (ts_supervise_close(cli->node, ts_cli_author(cli, author), argv[optind]) < 0)
			return ts_cli_fail();
		if (json) {
			fputs("{\"id\":", stdout);
			ts_json_str(stdout, argv[optind]);
			puts(",\"status\":\"closed\",\"staged\":true}");
		} else
			printf("closed %s (staged)\n", argv[optind]);
		return 0;
	}
	if (!strcmp(verb, "list")) {
		if (optind != argc)
			return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
		return supervise_list(cli, open_only, json);
	}
	return ts_cli_usage(cli, "unknown verb '%s': issue, answer, close or list", verb);
}
