/*
 * tiersync case: record, update, show and list cases.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

#define MAX_SETS 64

/* Splits "COL=VALUE" into a field; the text 'NULL' stands for SQL NULL. */
static int parse_set(ts_field *f, char *arg)
{
	char *eq = strchr(arg, '=');
	if (!eq || eq == arg)
		return -1;
	*eq = '\0';
	f->column = arg;
	f->value = strcmp(eq + 1, "NULL") ? eq + 1 : NULL;
	return 0;
}

static void print_row_json(sqlite3_stmt *st)
{
	int c, n = sqlite3_column_count(st);
	putchar('{');
	for (c = 0; c < n; c++) {
		if (c)
			putchar(',');
		ts_json_str(stdout, sqlite3_column_name(st, c));
		putchar(':');
		switch (sqlite3_column_type(st, c)) {
		case SQLITE_NULL: fputs("null", stdout); break;
		case SQLITE_INTEGER: printf("%lld", (long long)sqlite3_column_int64(st, c)); break;
		case SQLITE_FLOAT: printf("%.17g", sqlite3_column_double(st, c)); break;
		default: ts_json_str(stdout, (const char *)sqlite3_column_text(st, c));
		}
	}
	putchar('}');
}

static int case_show(ts_cli *cli, const char *id, int json)
{
	sqlite3 *db = ts_node_db(cli->node);
	sqlite3_stmt *st = NULL, *ev = NULL;
	int c, n = 0, status = 1;

	if (sqlite3_prepare_v2(db, "SELECT * FROM cases WHERE id = ?1", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT at, kind, officer, node, detail FROM case_events "
			"WHERE case_id = ?1 ORDER BY at, id", -1, &ev, NULL) != SQLITE_OK) {
		fprintf(stderr, "tiersync: %s\n", sqlite3_errmsg(db));
		goto done;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(ev, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		fprintf(stderr, "tiersync: no case %s\n", id);
		goto done;
	}
	if (json) {
		fputs("{\"case\":", stdout);
		print_row_json(st);
		fputs(",\"events\":[", stdout);
		while (sqlite3_step(ev) == SQLITE_ROW) {
			if (n++)
				putchar(',');
			print_row_json(ev);
		}
		puts("]}");
	} else {
		for (c = 0; c < sqlite3_column_count(st); c++)
			if (sqlite3_column_type(st, c) != SQLITE_NULL)
				printf("%-18s %s\n", sqlite3_column_name(st, c), sqlite3_column_text(st, c));
		printf("\nevents:\n");
		while (sqlite3_step(ev) == SQLITE_ROW)
			printf("  %s  %-12s %-8s %s  %s\n", sqlite3_column_text(ev, 0), sqlite3_column_text(ev, 1),
				sqlite3_column_text(ev, 2), sqlite3_column_text(ev, 3),
				sqlite3_column_type(ev, 4) == SQLITE_NULL ? "" : (const char *)sqlite3_column_text(ev, 4));
	}
	status = 0;
done:
	sqlite3_finalize(st);
	sqlite3_finalize(ev);
	return status;
}

static int case_list(ts_cli *cli, const char *status_filter, int json)
{
	sqlite3 *db = ts_node_db(cli->node);
	sqlite3_stmt *st = NULL;
	int n = 0;

	if (sqlite3_prepare_v2(db, "SELECT id, status, category, source, officer, deadline, address FROM cases "
			"WHERE ?1 IS NULL OR status = ?1 ORDER BY reported_at, id", -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "tiersync: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	sqlite3_bind_text(st, 1, status_filter, -1, SQLITE_STATIC);
	if (json)
		putchar('[');
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (json) {
			if (n)
				putchar(',');
			print_row_json(st);
		} else
			printf("%s  %-11s %-18s %-8s %s\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
				sqlite3_column_text(st, 2), sqlite3_column_type(st, 4) == SQLITE_NULL ? "-" :
				(const char *)sqlite3_column_text(st, 4), sqlite3_column_text(st, 6));
		n++;
	}
	if (json)
		puts("]");
	sqlite3_finalize(st);
	return 0;
}

int cmd_case(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "category", required_argument, NULL, 'c' },
		{ "source", required_argument, NULL, 's' },
		{ "address", required_argument, NULL, 'd' },
		{ "set", required_argument, NULL, 'S' },
		{ "author", required_argument, NULL, 'a' },
		{ "status", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ 0, 0, 0, 0 }
	};
	const char *category = NULL, *source = NULL, *address = NULL, *author = NULL, *status = NULL, *verb;
	ts_field sets[MAX_SETS];
	size_t nsets = 0;
	int c, help = 0, json = 0;
	char *id = NULL;

	if (argc < 2 || argv[1][0] == '-')
		return ts_cli_usage(cli, "name a verb: new, update, show or list");
	verb = argv[1];
	argc--;
	argv++;
	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'c': category = optarg; break;
		case 's': source = optarg; break;
		case 'd': address = optarg; break;
		case 'a': author = optarg; break;
		case 't': status = optarg; break;
		case 'j': json = 1; break;
		case 'S':
			if (nsets == MAX_SETS)
				return ts_cli_usage(cli, "too many --set");
			if (parse_set(&sets[nsets], optarg) < 0)
				return ts_cli_usage(cli, "--set takes COLUMN=VALUE, not '%s'", optarg);
			nsets++;
			break;
		default: return 2;
		}
	}
	if (!strcmp(verb, "new")) {
		if (optind != argc)
			return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
		if (!category || !source || !address)
			return ts_cli_usage(cli, "a new case needs --category, --source and --address");
		if (ts_case_new(&id, cli->node, ts_cli_author(cli, author), category, source, address, sets, nsets) < 0)
			return ts_cli_fail();
		if (json)
			printf("{\"id\":\"%s\"}\n", id);
		else
			printf("%s\n", id);
		free(id);
		return 0;
	}
	if (!strcmp(verb, "update")) {
		if (optind != argc - 1)
			return ts_cli_usage(cli, "name one case id");
		if (nsets == 0)
			return ts_cli_usage(cli, "nothing to change: give --set COLUMN=VALUE");
		if (ts_case_update(cli->node, ts_cli_author(cli, author), argv[optind], sets, nsets) < 0)
			return ts_cli_fail();
		if (json)
			printf("{\"id\":\"%s\",\"staged\":true}\n", argv[optind]);
		else
			printf("updated %s (staged)\n", argv[optind]);
		return 0;
	}
	if (!strcmp(verb, "show")) {
		if (optind != argc - 1)
			return ts_cli_usage(cli, "name one case id");
		return case_show(cli, argv[optind], json);
	}
	if (!strcmp(verb, "list")) {
		if (optind != argc)
			return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
		return case_list(cli, status, json);
	}
	return ts_cli_usage(cli, "unknown verb '%s': new, update, show or list", verb);
}
