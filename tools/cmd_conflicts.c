/*
 * tiersync conflicts: the review queue.
 */
#include <sqlite3.h>

#include "commands.h"

int cmd_conflicts(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ 0, 0, 0, 0 }
	};
	static const char *cols[] = { "id", "status", "kind", "table_name", "row_key", "column_name", "base",
		"ours", "theirs", "provisional", "ours_node", "ours_commit", "theirs_node", "theirs_commit",
		"resolution", "resolved_value", "resolved_by", "resolved_at" };
	sqlite3 *db = ts_node_db(cli->node);
	sqlite3_stmt *st = NULL;
	int c, help = 0, json = 0, all = 0, n = 0, k;

	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'a': all = 1; break;
		case 'j': json = 1; break;
		default: return 2;
		}
	}
	if (optind != argc)
		return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
	if (sqlite3_prepare_v2(db, "SELECT id, status, kind, table_name, row_key, column_name, base, ours, theirs, "
			"provisional, ours_node, ours_commit, theirs_node, theirs_commit, resolution, resolved_value, "
			"resolved_by, resolved_at FROM sync_conflicts WHERE ?1 OR status = 'open' "
			"ORDER BY table_name, row_key, column_name, id", -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "tiersync: reading conflicts: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	sqlite3_bind_int(st, 1, all);
	if (json)
		putchar('[');
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (json) {
			printf("%s{", n ? "," : "");
			for (k = 0; k < (int)(sizeof(cols) / sizeof(cols[0])); k++) {
				printf("%s\"%s\":", k ? "," : "", cols[k]);
				ts_json_strn(stdout, (const char *)sqlite3_column_text(st, k));
			}
			putchar('}');
		} else {
#define T(i) (sqlite3_column_text(st, i) ? (const char *)sqlite3_column_text(st, i) : "-")
			printf("%s  %-8s %s %s%s%s\n", T(0), T(1), T(3), T(4),
				sqlite3_column_text(st, 5) ? " column " : "", sqlite3_column_text(st, 5) ? T(5) : "");
			printf("    kind %s\n    base   %s\n    ours   %s  (%s %.12s)\n    theirs %s  (%s %.12s)\n"
				"    merged %s (the value the merge put in)\n", T(2), T(6), T(7), T(10), T(11), T(8), T(12), T(13), T(9));
			if (sqlite3_column_text(st, 14))
				printf("    resolved: %s %s by %s at %s\n", T(14), T(15), T(16), T(17));
#undef T
		}
		n++;
	}
	sqlite3_finalize(st);
	if (json)
		puts("]");
	else if (n == 0)
		printf(all ? "no conflicts recorded\n" : "no open conflicts\n");
	else if (!all)
		printf("%d open conflict%s; settle each with 'tiersync resolve ID --take ours|theirs' or --value V\n",
			n, n == 1 ? "" : "s");
	return 0;
}
