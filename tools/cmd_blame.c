/*
 * tiersync blame: for each column of one row at HEAD, the commit that set
 * its current value, with that commit's author, node and time.
 */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "json.h"

typedef struct {
	int json, n;
	FILE *out;      /* the lines, printed once every column is settled */
} blame_out;

static int print_line(const ts_blame_line *l, void *payload)
{
	blame_out *o = payload;
	FILE *out = o->out;

	if (o->json) {
		fputs(o->n ? ",{\"column\":" : "{\"column\":", out);
		ts_json_write_text(out, l->column);
		fputs(",\"value\":", out);
		ts_json_write_cell(out, &l->value);
		fprintf(out, ",\"commit\":\"%s\",\"author\":", l->commit);
		ts_json_write_text(out, l->author);
		fputs(",\"node\":", out);
		ts_json_write_text(out, l->node);
		fprintf(out, ",\"time\":\"%s\",\"summary\":", l->when);
		ts_json_write_text(out, l->summary);
		fputc('}', out);
	} else {
		fprintf(out, "%.12s  %s  %s  %s  %s = %s\n", l->commit, l->author ? l->author : "",
			l->node ? l->node : "", l->when, l->column, l->value.display);
	}
	o->n++;
	return ferror(out) ? ts_error_set(TS_ERROR, "out of memory") : 0;
}

int cmd_blame(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0, 0, 0, 0 } };
	blame_out o;
	const char *table, *key;
	char head[41], *lines = NULL;
	size_t size = 0;
	int c, help = 0, rc, failed, status = 1;

	memset(&o, 0, sizeof(o));
	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'j': o.json = 1; break;
		case '?': return 2;
		default: return ts_cli_usage(cli, "unknown option -%c", c);
		}
	}
	if (argc - optind != 2)
		return ts_cli_usage(cli, "give a table and the key of one row");
	table = argv[optind];
	key = argv[optind + 1];

	if (!(o.out = open_memstream(&lines, &size))) {
		ts_error_set(TS_ERROR, "out of memory");
		return ts_cli_fail(cli);
	}
	rc = ts_node_blame(head, cli->node, NULL, table, key, print_line, &o);
	failed = ferror(o.out);
	if (fclose(o.out) != 0)
		failed = 1;
	/* a missing row at a known head: say why a row just written is not there */
	if (rc == TS_ENOTFOUND && *head)
		ts_error_set(rc, "table %s has no row '%s' at HEAD (%.12s); staged writes are blamed "
			"once committed", table, key, head);
	if (rc == 0 && failed)
		rc = ts_error_set(TS_ERROR, "out of memory");
	if (rc < 0) {
		status = ts_cli_fail(cli);
		goto done;
	}
	if (o.json) {
		fputs("{\"table\":", stdout);
		ts_json_write_text(stdout, table);
		fputs(",\"key\":", stdout);
		ts_json_write_text(stdout, key);
		printf(",\"head\":\"%s\",\"columns\":[%s]}\n", head, lines);
	} else
		fputs(lines, stdout);
	status = 0;
done:
	free(lines);
	return status;
}
