/*
 * tiersync report: the plan's figures for the node's jurisdiction, in total
 * and per child unit. The library computes them (ts_report_compute,
 * node/report.c; definitions in docs/REPORT.md); this file writes them out,
 * as one JSON object with --json (the form docs/REPORT.md describes) or as
 * a table for people.
 */
#include <string.h>

#include "commands.h"
#include "json.h"
#include "tiersync.h"

/* ---- JSON ---- */

/* num/den to four places, or null when there is nothing to divide by. */
static void json_ratio(FILE *out, int64_t num, int64_t den)
{
	if (den > 0)
		fprintf(out, "%.4f", (double)num / (double)den);
	else
		fputs("null", out);
}

/* ,"NAME":{"CODE":{"found":N,...},...}: codes come from reference tables a
 * tier may extend, so they go through the JSON writer like any text. */
static void json_groups(FILE *out, const char *name, const ts_report_group *g, size_t n)
{
	size_t i;
	fputc(',', out);
	ts_json_write_text(out, name);
	fputs(":{", out);
	for (i = 0; i < n; i++) {
		fputs(i ? "," : "", out);
		ts_json_write_text(out, g[i].code);
		fprintf(out, ":{\"found\":%lld,\"filed\":%lld,\"penalised\":%lld,\"transferred\":%lld,"
			"\"closed\":%lld}", (long long)g[i].found, (long long)g[i].filed,
			(long long)g[i].penalised, (long long)g[i].transferred, (long long)g[i].closed);
	}
	fputc('}', out);
}

/* One figure's value: a count is a number; a count with the goal zero, a
 * rate or a drop an object with its parts, its ratio and, when it has a
 * goal, the goal and the verdict; a drop with a baseline also the baseline,
 * how far below it the count is, and that verdict. */
static void json_value(FILE *out, const ts_report_figure *f, const ts_report_value *v, const ts_report_unit *u)
{
	size_t i;

	if (f->kind == TS_FIGURE_COUNT) {
		fprintf(out, "%lld", (long long)v->value);
		return;
	}
	if (f->kind == TS_FIGURE_ZERO) {
		/* the only such figure is major_event_cases: its cases per event */
		fprintf(out, "{\"count\":%lld,\"goal\":0,\"met\":%s,\"events\":[", (long long)v->value,
			v->met ? "true" : "false");
		for (i = 0; i < u->nevents; i++) {
			fputs(i ? ",{\"id\":" : "{\"id\":", out);
			ts_json_write_text(out, u->events[i].id);
			fputs(",\"name\":", out);
			ts_json_write_text(out, u->events[i].name);
			fprintf(out, ",\"cases\":%lld}", (long long)u->events[i].cases);
		}
		fputs("]}", out);
		return;
	}
	if (f->kind == TS_FIGURE_RATE) {
		fprintf(out, "{\"count\":%lld,\"of\":%lld,\"rate\":", (long long)v->value, (long long)v->base);
		json_ratio(out, v->value, v->base);
	} else {
		fprintf(out, "{\"count\":%lld,\"last_year\":%lld,\"drop\":", (long long)v->value,
			(long long)v->base);
		json_ratio(out, v->base - v->value, v->base);
	}
	if (f->goal_percent)
		fprintf(out, ",\"goal\":%.2f,\"met\":%s", f->goal_percent / 100.0,
			v->met < 0 ? "null" : v->met ? "true" : "false");
	if (f->baseline_sql) {
		if (!v->has_baseline)
			fputs(",\"baseline\":null,\"below_baseline\":null,\"met_baseline\":null", out);
		else {
			fprintf(out, ",\"baseline\":%.4f,\"below_baseline\":", v->baseline);
			if (v->baseline > 0)
				fprintf(out, "%.4f", (v->baseline - (double)v->value) / v->baseline);
			else
				fputs("null", out);
			fprintf(out, ",\"met_baseline\":%s", v->met_baseline < 0 ? "null" : v->met_baseline ? "true" : "false");
		}
	}
	fputc('}', out);
}

static void json_unit(FILE *out, const ts_report_unit *u)
{
	size_t i;
	fputs("{\"unit\":", out);
	ts_json_write_text(out, u->unit);
	fputs(",\"figures\":{", out);
	for (i = 0; i < ts_report_nfigures; i++) {
		fputs(i ? "," : "", out);
		ts_json_write_text(out, ts_report_figures[i].name);
		fputc(':', out);
		json_value(out, &ts_report_figures[i], &u->values[i], u);
	}
	fputc('}', out);
	json_groups(out, "by_category", u->categories, u->ncategories);
	json_groups(out, "by_source", u->sources, u->nsources);
	fputc('}', out);
}

/* The report as one JSON object and a newline. */
static void write_json(FILE *out, const ts_report *r)
{
	size_t i;
	fputs("{\"unit\":", out);
	ts_json_write_text(out, r->total.unit);
	fputs(",\"period\":{\"from\":", out);
	ts_json_write_text(out, r->from);
	fputs(",\"to\":", out);
	ts_json_write_text(out, r->to);
	fputs("},\"last_year\":{\"from\":", out);
	ts_json_write_text(out, r->last_from);
	fputs(",\"to\":", out);
	ts_json_write_text(out, r->last_to);
	fputs("},\"total\":", out);
	json_unit(out, &r->total);
	fputs(",\"children\":[", out);
	for (i = 0; i < r->nchildren; i++) {
		fputs(i ? "," : "", out);
		json_unit(out, &r->children[i]);
	}
	fputs("]}\n", out);
}

/* ---- text ---- */

/* One cell of the table: a count, "95.0%", or "-12.5%" for a drop, marked
 * "+" for a goal met and "!" for one missed. */
static void text_cell(char *buf, size_t len, const ts_report_figure *f, const ts_report_value *v)
{
	const char *mark = v->met < 0 ? " " : v->met ? "+" : "!";

	if (f->kind == TS_FIGURE_COUNT)
		snprintf(buf, len, "%lld ", (long long)v->value);
	else if (f->kind == TS_FIGURE_ZERO)
		snprintf(buf, len, "%lld%s", (long long)v->value, mark);
	else if (v->base <= 0)
		snprintf(buf, len, "%lld/- ", (long long)v->value);
	else if (f->kind == TS_FIGURE_RATE)
		snprintf(buf, len, "%.1f%%%s", 100.0 * (double)v->value / (double)v->base, mark);
	else
		snprintf(buf, len, "%lld/%lld %+.1f%%%s", (long long)v->value, (long long)v->base,
			100.0 * (double)(v->value - v->base) / (double)v->base, mark);
}

/* The cell of a figure's baseline: "80/110.5 -27.6%+", "-" without one. */
static void baseline_cell(char *buf, size_t len, const ts_report_value *v)
{
	const char *mark = v->met_baseline < 0 ? " " : v->met_baseline ? "+" : "!";

	if (!v->has_baseline)
		snprintf(buf, len, "- ");
	else if (v->baseline <= 0)
		snprintf(buf, len, "%lld/0 ", (long long)v->value);
	else
		snprintf(buf, len, "%lld/%.1f %+.1f%%%s", (long long)v->value, v->baseline,
			100.0 * ((double)v->value - v->baseline) / v->baseline, mark);
}

/* A unit's short name for a column head: its last id label. */
static const char *short_name(const char *unit)
{
	const char *dot = strrchr(unit, '.');
	return dot ? dot + 1 : unit;
}

/* Writes `s` left-aligned in `width` terminal columns: a CJK character
 * (a UTF-8 sequence of three or four bytes) takes two. */
static void put_padded(FILE *out, const char *s, int width)
{
	const unsigned char *p;
	int used = 0;
	for (p = (const unsigned char *)s; *p; p++)
		if (*p < 0x80 || (*p >= 0xc0 && *p < 0xe0))
			used++;
		else if (*p >= 0xe0)
			used += 2;
	fputs(s, out);
	for (; used < width; used++)
		fputc(' ', out);
}

/* The per category or per source table of the total. */
static void text_groups(FILE *out, const char *title, const ts_report_group *g, size_t n, int skip_empty)
{
	size_t i;
	put_padded(out, title, 36);
	fprintf(out, " %9s %9s %9s %9s %9s\n", "found", "filed", "penalised", "transfer", "closed");
	for (i = 0; i < n; i++)
		if (g[i].found || !skip_empty)
			fprintf(out, "%-36s %9lld %9lld %9lld %9lld %9lld\n", g[i].code, (long long)g[i].found,
				(long long)g[i].filed, (long long)g[i].penalised, (long long)g[i].transferred,
				(long long)g[i].closed);
}

/* The report as a table for people: a row per figure, a column for the
 * total and one per child unit; then the total per category and per source. */
static void write_text(FILE *out, const ts_report *r)
{
	char cell[64];
	size_t i, c;

	fprintf(out, "report for %s: cases reported %.10s .. before %.10s (last year: %.10s .. before %.10s)\n\n",
		r->total.unit, r->from, r->to, r->last_from, r->last_to);
	put_padded(out, "", 62);
	fprintf(out, " %16s", short_name(r->total.unit));
	for (c = 0; c < r->nchildren; c++)
		fprintf(out, " %16s", short_name(r->children[c].unit));
	fputc('\n', out);
	for (i = 0; i < ts_report_nfigures; i++) {
		const ts_report_figure *f = &ts_report_figures[i];
		char name[128];
		snprintf(name, sizeof(name), "%s", f->label);
		if (f->kind == TS_FIGURE_ZERO)
			snprintf(name, sizeof(name), "%s (=0)", f->label);
		else if (f->goal_percent)
			snprintf(name, sizeof(name), "%s (%s%d%%)", f->label, f->kind == TS_FIGURE_DROP ? "-" : ">=",
				f->goal_percent);
		put_padded(out, name, 62);
		text_cell(cell, sizeof(cell), f, &r->total.values[i]);
		fprintf(out, " %16s", cell);
		for (c = 0; c < r->nchildren; c++) {
			text_cell(cell, sizeof(cell), f, &r->children[c].values[i]);
			fprintf(out, " %16s", cell);
		}
		fputc('\n', out);
		if (!f->baseline_sql)
			continue;
		/* the same complaints against the unit's baseline (常量) */
		snprintf(name, sizeof(name), "  vs baseline 常量 (-%d%%)", f->goal_percent);
		put_padded(out, name, 62);
		baseline_cell(cell, sizeof(cell), &r->total.values[i]);
		fprintf(out, " %16s", cell);
		for (c = 0; c < r->nchildren; c++) {
			baseline_cell(cell, sizeof(cell), &r->children[c].values[i]);
			fprintf(out, " %16s", cell);
		}
		fputc('\n', out);
	}
	fputc('\n', out);
	/* categories nobody was found for are left out; every source is listed */
	text_groups(out, "per category 违法形态", r->total.categories, r->total.ncategories, 1);
	fputc('\n', out);
	text_groups(out, "per source 发现渠道", r->total.sources, r->total.nsources, 0);
	if (r->total.nevents) {
		fputs("\nper major event 重大活动                cases\n", out);
		for (i = 0; i < r->total.nevents; i++) {
			char line[160];
			snprintf(line, sizeof(line), "%s %s", r->total.events[i].id, r->total.events[i].name);
			put_padded(out, line, 36);
			fprintf(out, " %9lld\n", (long long)r->total.events[i].cases);
		}
	}
	fputs("\n+ goal met, ! goal missed\n", out);
}

int cmd_report(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "period", required_argument, NULL, 'p' },
		{ "unit", required_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ 0, 0, 0, 0 }
	};
	const char *period = NULL, *unit = NULL;
	char from[32], to[32];
	ts_report *report = NULL;
	int c, help = 0, json = 0;

	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'p': period = optarg; break;
		case 'u': unit = optarg; break;
		case 'j': json = 1; break;
		default: return 2;
		}
	}
	if (optind != argc)
		return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
	if (period) {
		if (ts_report_period(from, to, period) < 0)
			return ts_cli_usage(cli, "%s", ts_error_last());
	} else
		ts_report_this_year(from, to);
	if (ts_report_compute(&report, cli->node, unit, from, to) < 0)
		return ts_cli_fail(cli);
	if (json)
		write_json(stdout, report);
	else
		write_text(stdout, report);
	ts_report_free(report);
	return 0;
}
