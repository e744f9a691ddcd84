/*
 * Figures (考核评议): what a tier reports from its own merged database for
 * its own jurisdiction, in total and per child unit (the next tier down).
 * Each figure is one SQL query over the case schema; the queries are in
 * node/report.c and, for anyone to re-run with the sqlite3 shell, in
 * docs/REPORT.md.
 *
 * To move into include/tiersync.h once the case API settles there.
 */
#ifndef TS_NODE_REPORT_H
#define TS_NODE_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "tiersync.h"

/* How a figure reads. */
typedef enum {
	TS_FIGURE_COUNT = 0,   /* a number: value */
	TS_FIGURE_RATE,        /* value of base, e.g. 95 of 100; goal: at least goal_percent */
	TS_FIGURE_DROP         /* value this period against base the same period last year;
	                          goal: down by at least goal_percent */
} ts_figure_kind;

/* One figure's definition. */
typedef struct {
	const char *name;      /* the JSON key, e.g. "rectification_rate" */
	const char *label;     /* for people, e.g. "rectification rate 问题整改率" */
	ts_figure_kind kind;
	int goal_percent;      /* 0: no goal */
	const char *sql;       /* one row: (value, base); base NULL for a count.
	                          Parameters :scope :from :to :last_from :last_to */
} ts_report_figure;

/* The figures, in report order; ts_report_nfigures of them. */
extern const ts_report_figure ts_report_figures[];
extern const size_t ts_report_nfigures;

/* One value of a figure: base is the denominator (rates) or last year's
 * value (drops), 0 for counts. */
typedef struct {
	int64_t value;
	int64_t base;
} ts_report_value;

/* Cases of one category or source in the period. */
typedef struct {
	char *code;
	int64_t found, filed, penalised, transferred, closed;
} ts_report_group;

/* The figures of one unit: the whole jurisdiction or one child of it. */
typedef struct {
	char *unit;                    /* node id */
	ts_report_value *values;       /* one per ts_report_figures[] */
	ts_report_group *categories;   /* every category, in code order */
	size_t ncategories;
	ts_report_group *sources;      /* every source, in code order */
	size_t nsources;
} ts_report_unit;

typedef struct {
	char from[32], to[32];            /* the period: from <= reported_at < to */
	char last_from[32], last_to[32];  /* the same period a year earlier */
	ts_report_unit total;
	ts_report_unit *children;         /* in id order */
	size_t nchildren;
} ts_report;

/*
 * Parses a period "A..B" or "A", each side YYYY, YYYY-MM or YYYY-MM-DD
 * (Beijing time), into the schema's time form: `from` is the first second
 * of A, `to` the first second after B. TS_EINVALID for anything else.
 */
int ts_report_period(char from[32], char to[32], const char *spec);

/* The current calendar year (Beijing time; TIERSYNC_NOW sets the clock). */
void ts_report_this_year(char from[32], char to[32]);

/*
 * Computes the figures for `scope` (NULL: the node's id; otherwise the node
 * itself or a unit below it, TS_EINVALID if not) over [from, to), with a
 * row per child unit that has cases or responsibility zones. Free *out with
 * ts_report_free().
 */
int ts_report_compute(ts_report **out, ts_node *node, const char *scope,
	const char *from, const char *to);

/* Writes the report as one JSON object (see docs/REPORT.md) and a newline. */
void ts_report_write_json(FILE *out, const ts_report *report);

/* Writes the report as a table for people. */
void ts_report_write_text(FILE *out, const ts_report *report);

/* NULL-safe. */
void ts_report_free(ts_report *report);

#endif
