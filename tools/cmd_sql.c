/*
 * tiersync sql: one read-only query on the node's database. The query runs
 * on a separate read-only connection, so it cannot write whatever it says.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

static void print_value(sqlite3_stmt *st, int c, int json)
{
	switch (sqlite3_column_type(st, c)) {
	case SQLITE_NULL:
		fputs(json ? "null" : "NULL", stdout);
		break;
	case SQLITE_INTEGER:
		printf("%lld", (long long)sqlite3_column_int64(st, c));
		break;
	case SQLITE_FLOAT:
		printf("%.17g", sqlite3_column_double(st, c));
		break;
	case SQLITE_BLOB: {
		const unsigned char *p = sqlite3_column_blob(st, c);
		int i, n = sqlite3_column_bytes(st, c);
		fputs(json ? "\"x'" : "x'", stdout);
		for (i = 0; i < n; i++)
			printf("%02x", p[i]);
		fputs(json ? "'\"" : "'", stdout);
		break;
	}
	default:
		if (json)
			ts_json_str(stdout, (const char *)sqlite3_column_text(st, c));
		else
			fputs((const char *)sqlite3_column_text(st, c), stdout);
	}
}

/* Read-only is not enough: ATTACH counts as read-only yet creates files. */
static int deny_attach(void *payload, int action, const char *a, const char *b, const char *c, const char *d)
{
	(void)payload; (void)a; (void)b; (void)c; (void)d;
	return action == SQLITE_ATTACH || action == SQLITE_DETACH ? SQLITE_DENY : SQLITE_OK;
}

int cmd_sql(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0, 0, 0, 0 } };
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	const char *tail = NULL;
	char *path = NULL;
	int c, help = 0, json = 0, rc, n = 0, ncol, status = 1;

	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1)
		if (c == 'j') json = 1; else return 2;
	if (optind != argc - 1)
		return ts_cli_usage(cli, "give one query, quoted");
	if (!(path = malloc(strlen(ts_node_path(cli->node)) + 16)))
		return ts_cli_fail(cli);
	sprintf(path, "%s/tiersync.db", ts_node_path(cli->node));
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA query_only = 1", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "tiersync: opening %s: %s\n", path, sqlite3_errmsg(db));
		goto done;
	}
	sqlite3_busy_timeout(db, 5000);
	sqlite3_set_authorizer(db, deny_attach, NULL);
	if (sqlite3_prepare_v2(db, argv[optind], -1, &st, &tail) != SQLITE_OK) {
		fprintf(stderr, "tiersync: sql: %s\n", sqlite3_errmsg(db));
		goto done;
	}
	if (!st) {
		fprintf(stderr, "tiersync: sql: the query is empty\n");
		goto done;
	}
	while (tail && (*tail == ' ' || *tail == '\n' || *tail == '\t' || *tail == ';'))
		tail++;
	if (tail && *tail) {
		fprintf(stderr, "tiersync: sql: give one statement only\n");
		goto done;
	}
	if (!sqlite3_stmt_readonly(st)) {
		fprintf(stderr, "tiersync: sql: only read-only queries are allowed; writes go through tiersync commands\n");
		goto done;
	}
	ncol = sqlite3_column_count(st);
	if (json)
		putchar('[');
	else
		for (c = 0; c < ncol; c++)
			printf("%s%s", sqlite3_column_name(st, c), c + 1 < ncol ? "\t" : "\n");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (json) {
			printf("%s{", n ? "," : "");
			for (c = 0; c < ncol; c++) {
				if (c)
					putchar(',');
				ts_json_str(stdout, sqlite3_column_name(st, c));
				putchar(':');
				print_value(st, c, 1);
			}
			putchar('}');
		} else
			for (c = 0; c < ncol; c++) {
				print_value(st, c, 0);
				putchar(c + 1 < ncol ? '\t' : '\n');
			}
		n++;
	}
	if (json)
		puts("]");
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "tiersync: sql: %s\n", sqlite3_errmsg(db));
		goto done;
	}
	status = 0;
done:
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(path);
	return status;
}
