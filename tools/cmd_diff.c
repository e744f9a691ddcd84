/*
 * tiersync diff: the rows and columns that differ between two commits,
 * old -> new. No revision: HEAD~1 against HEAD; one: REV against HEAD.
 */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "json.h"

typedef struct {
	int json;
	size_t nrows, nmeta;
	FILE *rows;         /* JSON: the "rows" array's items */
	FILE *meta;         /* JSON: the "metadata" array's items */
} diff_out;

/* Metadata entries are short text ("2\n"): shown without the last newline. */
static size_t meta_len(const char *text, size_t len)
{
	return len && text[len - 1] == '\n' ? len - 1 : len;
}

static void put_meta_text(FILE *out, const char *text, size_t len)
{
	if (text)
		fwrite(text, 1, meta_len(text, len), out);
	else
		fputs("(none)", out);
}

static void put_meta_json(FILE *out, const char *text, size_t len)
{
	if (text)
		ts_json_write_string(out, text, meta_len(text, len));
	else
		fputs("null", out);
}

static void put_columns_json(FILE *out, const ts_change *ch)
{
	size_t k;

	for (k = 0; k < ch->ncolumns; k++) {
		const ts_column_change *col = &ch->columns[k];
		fputs(k ? ",{\"column\":" : "{\"column\":", out);
		ts_json_write_text(out, col->column);
		if (col->old_value) {
			fputs(",\"old\":", out);
			ts_json_write_cell(out, col->old_value);
		}
		if (col->new_value) {
			fputs(",\"new\":", out);
			ts_json_write_cell(out, col->new_value);
		}
		fputc('}', out);
	}
}

static void put_columns_text(FILE *out, const ts_change *ch)
{
	size_t k;

	for (k = 0; k < ch->ncolumns; k++) {
		const ts_column_change *col = &ch->columns[k];
		if (ch->op == TS_CHANGE_UPDATE) {
			fprintf(out, "  %s: %s -> %s\n", col->column,
				col->old_value ? col->old_value->display : "(no such column)",
				col->new_value ? col->new_value->display : "(no such column)");
		} else {
			/* a whole row came or went: its values, leaving out the NULLs */
			const ts_cell *v = col->new_value ? col->new_value : col->old_value;
			if (v->type != TS_CELL_NULL)
				fprintf(out, "  %s: %s\n", col->column, v->display);
		}
	}
}

static int print_change(const ts_change *ch, void *payload)
{
	diff_out *o = payload;

	if (!ch->table) {
		if (o->json) {
			fputs(o->nmeta ? ",{\"name\":" : "{\"name\":", o->meta);
			ts_json_write_text(o->meta, ch->key);
			fputs(",\"old\":", o->meta);
			put_meta_json(o->meta, ch->old_text, ch->old_len);
			fputs(",\"new\":", o->meta);
			put_meta_json(o->meta, ch->new_text, ch->new_len);
			fputc('}', o->meta);
		} else {
			fprintf(stdout, "%s: ", ch->key);
			put_meta_text(stdout, ch->old_text, ch->old_len);
			fputs(" -> ", stdout);
			put_meta_text(stdout, ch->new_text, ch->new_len);
			fputc('\n', stdout);
		}
		o->nmeta++;
	} else if (o->json) {
		fputs(o->nrows ? ",{\"table\":" : "{\"table\":", o->rows);
		ts_json_write_text(o->rows, ch->table);
		fputs(",\"key\":", o->rows);
		ts_json_write_text(o->rows, ch->key);
		fprintf(o->rows, ",\"op\":\"%s\",\"columns\":[", ts_change_op_name(ch->op));
		put_columns_json(o->rows, ch);
		fputs("]}", o->rows);
		o->nrows++;
	} else {
		fprintf(stdout, "%s %s (%s)\n", ch->table, ch->key, ts_change_op_name(ch->op));
		put_columns_text(stdout, ch);
		o->nrows++;
	}
	if (o->json && (ferror(o->rows) || ferror(o->meta)))
		return ts_error_set(TS_ERROR, "out of memory");
	return 0;
}

/* Closes a memory stream; 0, or -1 when writing to it failed. */
static int close_stream(FILE **f)
{
	int failed = 0;

	if (*f) {
		failed = ferror(*f);
		if (fclose(*f) != 0)
			failed = 1;
		*f = NULL;
	}
	return failed ? -1 : 0;
}

int cmd_diff(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0, 0, 0, 0 } };
	const char *from_rev = "HEAD~1", *to_rev = "HEAD";
	char *rows = NULL, *meta = NULL;
	size_t rows_size = 0, meta_size = 0;
	diff_out o;
	char from_id[41], to_id[41];
	int c, help = 0, status = 1;

	memset(&o, 0, sizeof(o));
	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'j': o.json = 1; break;
		case '?': return 2;
		default: return ts_cli_usage(cli, "unknown option -%c", c);
		}
	}
	if (argc - optind > 2)
		return ts_cli_usage(cli, "give at most two revisions");
	if (argc - optind >= 1)
		from_rev = argv[optind];
	if (argc - optind == 2)
		to_rev = argv[optind + 1];

	if (o.json && (!(o.rows = open_memstream(&rows, &rows_size)) ||
	               !(o.meta = open_memstream(&meta, &meta_size)))) {
		ts_error_set(TS_ERROR, "out of memory");
		status = ts_cli_fail(cli);
		goto done;
	}
	if (ts_node_diff(from_id, to_id, cli->node, from_rev, to_rev, print_change, &o) != 0) {
		fflush(stdout);
		status = ts_cli_fail(cli);
		goto done;
	}
	if (close_stream(&o.rows) < 0 || close_stream(&o.meta) < 0) {
		ts_error_set(TS_ERROR, "out of memory");
		status = ts_cli_fail(cli);
		goto done;
	}
	if (o.json)
		printf("{\"from\":\"%s\",\"to\":\"%s\",\"rows\":[%s],\"metadata\":[%s]}\n",
			from_id, to_id, rows, meta);
	status = 0;
done:
	close_stream(&o.rows);
	close_stream(&o.meta);
	free(rows);
	free(meta);
	return status;
}
