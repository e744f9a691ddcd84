/*
 * tiersync case: record cases, take them through their lifecycle (dispatch,
 * the three steps, filing, decision, review, filing-up, execution,
 * transfer, feedback, return visit, closing), edit, show and list them, and
 * read or set the case rules. The rules themselves live in
 * node/lifecycle.c; this file parses and prints.
 */
#include <stdio.h>
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

/*
 * A real as `case show` has always written it for people, the way SQLite
 * turns a REAL into text ("%!.15g"): 15 significant digits, always a
 * decimal point ("120.0", "1.0e-05"), and no sign on zero. The rounding is
 * the C library's, exact; SQLite's own (3.40) may round the 15th digit of a
 * value of 16 or 17 significant digits the other way when it lies within
 * a hair of a tie, about once in 100,000 such values.
 */
static void real_text(char out[48], double v)
{
	char digits[40], *e;

	snprintf(digits, sizeof(digits), "%.15g", v == 0 ? 0.0 : v);
	if (strpbrk(digits, ".ni")) {   /* a point already, or inf / nan */
		snprintf(out, 48, "%s", digits);
		return;
	}
	if ((e = strchr(digits, 'e')))
		snprintf(out, 48, "%.*s.0%s", (int)(e - digits), digits, e);
	else
		snprintf(out, 48, "%s.0", digits);
}

/* One column of a case, for `case show`: text, an integer or a real. */
typedef struct {
	const char *name;
	enum { COL_TEXT, COL_INTEGER, COL_REAL } type;
	int is_null;
	const char *text;
	long long integer;
	double real;
} case_column;

#define NCOLUMNS 35

static void text_column(case_column *col, const char *name, const char *text)
{
	col->name = name;
	col->type = COL_TEXT;
	col->is_null = !text;
	col->text = text;
}

static void integer_column(case_column *col, const char *name, int is_set, int64_t value)
{
	col->name = name;
	col->type = COL_INTEGER;
	col->is_null = !is_set;
	col->integer = (long long)value;
}

static void real_column(case_column *col, const char *name, int is_set, double value)
{
	col->name = name;
	col->type = COL_REAL;
	col->is_null = !is_set;
	col->real = value;
}

/* The columns of a case, in the table's order (ts_case_info's). */
static void case_columns(case_column col[NCOLUMNS], const ts_case_info *c)
{
	memset(col, 0, NCOLUMNS * sizeof(*col));
	text_column(col++, "id", c->id);
	text_column(col++, "source", c->source);
	text_column(col++, "category", c->category);
	text_column(col++, "address", c->address);
	real_column(col++, "lng", c->has_lng, c->lng);
	real_column(col++, "lat", c->has_lat, c->lat);
	text_column(col++, "jurisdiction", c->jurisdiction);
	text_column(col++, "description", c->description);
	text_column(col++, "status", c->status);
	text_column(col++, "officer", c->officer);
	text_column(col++, "reported_at", c->reported_at);
	text_column(col++, "deadline", c->deadline);
	text_column(col++, "stage", c->stage);
	text_column(col++, "filed_at", c->filed_at);
	text_column(col++, "legal_basis", c->legal_basis);
	integer_column(col++, "penalty_amount", c->penalty_amount >= 0, c->penalty_amount);
	text_column(col++, "decided_at", c->decided_at);
	integer_column(col++, "major", 1, c->major);
	text_column(col++, "review_status", c->review_status);
	text_column(col++, "reviewer", c->reviewer);
	text_column(col++, "reviewed_at", c->reviewed_at);
	text_column(col++, "filed_up_at", c->filed_up_at);
	text_column(col++, "executed_at", c->executed_at);
	text_column(col++, "transfer_to", c->transfer_to);
	text_column(col++, "transferred_at", c->transferred_at);
	text_column(col++, "complainant_name", c->complainant_name);
	text_column(col++, "complainant_phone", c->complainant_phone);
	text_column(col++, "visited_at", c->visited_at);
	text_column(col++, "satisfaction", c->satisfaction);
	text_column(col++, "key_area_id", c->key_area_id);
	text_column(col++, "event_id", c->event_id);
	text_column(col++, "created_by_node", c->created_by_node);
	text_column(col++, "closed_at", c->closed_at);
	text_column(col++, "patrol_id", c->patrol_id);
	text_column(col++, "first_officer", c->first_officer);
}

static void print_case_json(const ts_case_info *c)
{
	case_column col[NCOLUMNS];
	int i;

	case_columns(col, c);
	putchar('{');
	for (i = 0; i < NCOLUMNS; i++) {
		if (i)
			putchar(',');
		ts_json_str(stdout, col[i].name);
		putchar(':');
		if (col[i].is_null)
			fputs("null", stdout);
		else if (col[i].type == COL_INTEGER)
			printf("%lld", col[i].integer);
		else if (col[i].type == COL_REAL)
			printf("%.17g", col[i].real);
		else
			ts_json_str(stdout, col[i].text);
	}
	putchar('}');
}

static void print_case_text(const ts_case_info *c)
{
	case_column col[NCOLUMNS];
	char real[48];
	int i;

	case_columns(col, c);
	for (i = 0; i < NCOLUMNS; i++) {
		if (col[i].is_null)
			continue;
		if (col[i].type == COL_INTEGER)
			printf("%-18s %lld\n", col[i].name, col[i].integer);
		else if (col[i].type == COL_REAL) {
			real_text(real, col[i].real);
			printf("%-18s %s\n", col[i].name, real);
		} else
			printf("%-18s %s\n", col[i].name, col[i].text);
	}
}

typedef struct {
	int json;
	int n;
} printing;

static int show_case(const ts_case_info *c, void *payload)
{
	printing *p = payload;
	if (p->json) {
		fputs("{\"case\":", stdout);
		print_case_json(c);
		fputs(",\"events\":[", stdout);
	} else {
		print_case_text(c);
		printf("\nevents:\n");
	}
	return 0;
}

static int show_event(const ts_case_event_info *e, void *payload)
{
	printing *p = payload;
	if (p->json) {
		if (p->n++)
			putchar(',');
		fputs("{\"at\":", stdout);
		ts_json_str(stdout, e->at);
		fputs(",\"kind\":", stdout);
		ts_json_str(stdout, e->kind);
		fputs(",\"officer\":", stdout);
		ts_json_str(stdout, e->officer);
		fputs(",\"node\":", stdout);
		ts_json_str(stdout, e->node);
		fputs(",\"detail\":", stdout);
		ts_json_str_or_null(stdout, e->detail);
		putchar('}');
	} else
		printf("  %s  %-12s %-8s %s  %s\n", e->at, e->kind, e->officer, e->node, e->detail ? e->detail : "");
	return 0;
}

static int case_show(ts_cli *cli, const char *id, int json)
{
	printing p = { json, 0 };

	if (ts_case_get(cli->node, id, show_case, &p) < 0 || ts_case_events(cli->node, id, show_event, &p) < 0)
		return ts_cli_fail(cli);
	if (json)
		puts("]}");
	return 0;
}

static int list_case(const ts_case_info *c, void *payload)
{
	printing *p = payload;
	if (p->json) {
		putchar(p->n ? ',' : '[');
		fputs("{\"id\":", stdout);
		ts_json_str(stdout, c->id);
		fputs(",\"status\":", stdout);
		ts_json_str(stdout, c->status);
		fputs(",\"category\":", stdout);
		ts_json_str(stdout, c->category);
		fputs(",\"source\":", stdout);
		ts_json_str(stdout, c->source);
		fputs(",\"officer\":", stdout);
		ts_json_str_or_null(stdout, c->officer);
		fputs(",\"first_officer\":", stdout);
		ts_json_str_or_null(stdout, c->first_officer);
		fputs(",\"deadline\":", stdout);
		ts_json_str(stdout, c->deadline);
		fputs(",\"address\":", stdout);
		ts_json_str(stdout, c->address);
		putchar('}');
	} else
		printf("%s  %-11s %-18s %-8s %s  %s\n", c->id, c->status, c->category,
			c->officer ? c->officer : "-", c->deadline, c->address);
	p->n++;
	return 0;
}

static int case_list(ts_cli *cli, const char *status_filter, int overdue, int json)
{
	ts_case_filter filter = TS_CASE_FILTER_INIT;
	printing p = { json, 0 };

	filter.status = status_filter;
	filter.overdue_only = overdue;
	if (ts_case_list(cli->node, &filter, list_case, &p) < 0)
		return ts_cli_fail(cli);
	if (json)
		puts(p.n ? "]" : "[]");
	return 0;
}

static int print_rules(const ts_case_rules_info *r, void *payload)
{
	int json = *(int *)payload;
	char yuan[32];
	size_t i;

	if (r->major_threshold >= 0)
		ts_case_yuan_format(yuan, r->major_threshold);
	if (json) {
		fputs("{\"jurisdiction\":", stdout);
		ts_json_str(stdout, r->jurisdiction);
		if (r->major_threshold >= 0) {
			printf(",\"major_threshold\":{\"fen\":%lld,\"yuan\":\"%s\",\"scope\":",
				(long long)r->major_threshold, yuan);
			ts_json_str(stdout, r->major_threshold_scope);
			putchar('}');
		} else
			fputs(",\"major_threshold\":null", stdout);
		printf(",\"review_tier\":{\"tier\":\"%s\",\"scope\":", r->review_tier == 1 ? "city" : "district");
		ts_json_str_or_null(stdout, r->review_tier_scope);
		putchar('}');
		fputs(",\"categories\":[", stdout);
	} else {
		printf("case rules in force for %s:\n", r->jurisdiction);
		if (r->major_threshold >= 0)
			printf("major_threshold  %s yuan  (%s)\n", yuan,
				*r->major_threshold_scope ? r->major_threshold_scope : "default");
		else
			printf("major_threshold  none: only cases marked major are major\n");
		printf("review_tier      %s  (%s)\n", r->review_tier == 1 ? "city" : "district",
			!r->review_tier_scope ? "default" : *r->review_tier_scope ? r->review_tier_scope : "default");
		printf("\n%-20s %5s  %-12s %-9s %s\n", "category", "days", "set by", "at once", "set by");
	}
	for (i = 0; i < r->ncategories; i++) {
		const ts_case_category_rules *c = &r->categories[i];
		/* a deadline without a rule is the category's own: "categories" */
		const char *dscope = c->deadline_scope ? c->deadline_scope : "categories";
		const char *iscope = c->immediate_penalty_scope;
		if (json) {
			if (i)
				putchar(',');
			fputs("{\"category\":", stdout);
			ts_json_str(stdout, c->category);
			printf(",\"deadline_days\":%lld,\"deadline_scope\":", (long long)c->deadline_days);
			ts_json_str(stdout, dscope);
			printf(",\"immediate_penalty\":%s,\"immediate_penalty_scope\":",
				c->immediate_penalty ? "true" : "false");
			ts_json_str_or_null(stdout, iscope);
			putchar('}');
		} else
			printf("%-20s %5lld  %-12s %-9s %s\n", c->category, (long long)c->deadline_days,
				*dscope ? dscope : "default", c->immediate_penalty ? "yes" : "no",
				iscope ? (*iscope ? iscope : "default") : "");
	}
	if (json)
		puts("]}");
	return 0;
}

/* The case rules in force at this node: per category its deadline and
 * whether it may be penalized at once, and the major-case threshold, each
 * with the scope it comes from ('' = the shipped default). */
static int rules_show(ts_cli *cli, int json)
{
	return ts_case_rules_in_force(cli->node, print_rules, &json) < 0 ? ts_cli_fail(cli) : 0;
}

#define MAX_RULES 64

/* "CATEGORY=VALUE" into a rule: VALUE is days, or yes|no for immediate_penalty. */
static int parse_rule(ts_case_rule *r, char *arg, const char *rule)
{
	char *eq = strchr(arg, '='), *end;
	if (!eq || eq == arg || !eq[1])
		return -1;
	*eq = '\0';
	r->rule = rule;
	r->category = arg;
	if (!strcmp(rule, "immediate_penalty")) {
		if (!strcmp(eq + 1, "yes"))
			r->value = 1;
		else if (!strcmp(eq + 1, "no"))
			r->value = 0;
		else
			return -1;
		return 0;
	}
	r->value = strtoll(eq + 1, &end, 10);
	return *end || eq[1] == '-' ? -1 : 0;
}

static int print_filing(const ts_case_filing_info *f, void *payload)
{
	printing *p = payload;
	char yuan[32] = "-";

	if (f->penalty_amount >= 0)
		ts_case_yuan_format(yuan, f->penalty_amount);
	if (p->json) {
		putchar(p->n ? ',' : '[');
		fputs("{\"case\":", stdout);
		ts_json_str(stdout, f->case_id);
		ts_cli_json_member("category", f->category);
		ts_cli_json_member("jurisdiction", f->jurisdiction);
		ts_cli_json_member("legal_basis", f->legal_basis);
		if (f->penalty_amount >= 0)
			printf(",\"penalty_fen\":%lld", (long long)f->penalty_amount);
		else
			fputs(",\"penalty_fen\":null", stdout);
		ts_cli_json_member("reviewer", f->reviewer);
		ts_cli_json_member("filed_at", f->filed_at);
		ts_cli_json_member("filed_by", f->filed_by);
		ts_cli_json_member("node", f->node);
		ts_cli_json_member("filed_with", f->filed_with);
		ts_cli_json_member("acked_at", f->acked_at);
		ts_cli_json_member("acked_by", f->acked_by);
		ts_cli_json_member("ack_note", f->ack_note);
		putchar('}');
	} else {
		printf("%s  %-18s %12s  filed %s by %s at %s with %s  ", f->case_id, f->category, yuan,
			f->filed_at, f->filed_by, f->node, f->filed_with);
		if (f->acked_at)
			printf("acknowledged %s by %s\n", f->acked_at, f->acked_by ? f->acked_by : "-");
		else
			puts("pending");
	}
	p->n++;
	return 0;
}

static int filings_list(ts_cli *cli, int pending, int json)
{
	ts_case_filing_filter filter = TS_CASE_FILING_FILTER_INIT;
	printing p = { json, 0 };

	filter.pending_only = pending;
	if (ts_case_filings(cli->node, &filter, print_filing, &p) < 0)
		return ts_cli_fail(cli);
	if (json)
		puts(p.n ? "]" : "[]");
	return 0;
}

/* What a step did, read back from the case. */
typedef struct {
	const char *verb;
	int json;
} step_report;

static int print_step(const ts_case_info *c, void *payload)
{
	const step_report *r = payload;
	if (r->json) {
		fputs("{\"id\":", stdout);
		ts_json_str(stdout, c->id);
		fputs(",\"step\":", stdout);
		ts_json_str(stdout, r->verb);
		fputs(",\"status\":", stdout);
		ts_json_str(stdout, c->status);
		fputs(",\"stage\":", stdout);
		ts_json_str_or_null(stdout, c->stage);
		puts(",\"staged\":true}");
	} else
		printf("%s %s: now %s%s%s (staged)\n", r->verb, c->id, c->status, c->stage ? ", stage " : "",
			c->stage ? c->stage : "");
	return 0;
}

static int step_done(ts_cli *cli, const char *verb, const char *id, int json)
{
	step_report r = { verb, json };

	if (ts_case_get(cli->node, id, print_step, &r) < 0) {
		fprintf(stderr, "tiersync: reading case %s back: %s\n", id,
			ts_error_last() ? ts_error_last() : "failed");
		return 1;
	}
	return 0;
}

/* Each verb and the options it takes (their getopt letters). */
static const ts_cli_verb verbs[] = {
	{ "new", "csdSPaj" }, { "update", "Saj" }, { "show", "j" }, { "list", "tOj" }, { "rules", "HVDIaj" },
	{ "filings", "Gj" }, { "file-up-ack", "naj" },
	{ "dispatch", "onaj" }, { "educate", "naj" }, { "warn", "naj" }, { "penalize", "naj" },
	{ "file", "naj" }, { "decide", "bmMnaj" }, { "review", "ARrnaj" }, { "file-up", "naj" },
	{ "execute", "naj" }, { "transfer", "Tnaj" }, { "feedback", "naj" }, { "visit", "fnaj" },
	{ "close", "naj" },
};

int cmd_case(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "category", required_argument, NULL, 'c' },
		{ "source", required_argument, NULL, 's' },
		{ "address", required_argument, NULL, 'd' },
		{ "set", required_argument, NULL, 'S' },
		{ "author", required_argument, NULL, 'a' },
		{ "status", required_argument, NULL, 't' },
		{ "overdue", no_argument, NULL, 'O' },
		{ "json", no_argument, NULL, 'j' },
		{ "officer", required_argument, NULL, 'o' },
		{ "note", required_argument, NULL, 'n' },
		{ "basis", required_argument, NULL, 'b' },
		{ "amount", required_argument, NULL, 'm' },
		{ "major", no_argument, NULL, 'M' },
		{ "approve", no_argument, NULL, 'A' },
		{ "reject", no_argument, NULL, 'R' },
		{ "reviewer", required_argument, NULL, 'r' },
		{ "to", required_argument, NULL, 'T' },
		{ "satisfaction", required_argument, NULL, 'f' },
		{ "major-threshold", required_argument, NULL, 'H' },
		{ "deadline", required_argument, NULL, 'D' },
		{ "immediate-penalty", required_argument, NULL, 'I' },
		{ "patrol", required_argument, NULL, 'P' },
		{ "review-tier", required_argument, NULL, 'V' },
		{ "pending", no_argument, NULL, 'G' },
		{ 0, 0, 0, 0 }
	};
	const char *category = NULL, *source = NULL, *address = NULL, *author = NULL, *status = NULL, *verb;
	const char *officer = NULL, *note = NULL, *basis = NULL, *amount = NULL, *reviewer = NULL, *to = NULL;
	const char *satisfaction = NULL, *patrol = NULL, *id;
	ts_field sets[MAX_SETS + 1];
	ts_case_rule rules[MAX_RULES];
	size_t nsets = 0, nrules = 0, i;
	int c, help = 0, json = 0, overdue = 0, major = 0, approve = 0, reject = 0, pending = 0, error;
	int64_t fen = 0;
	char *new_id = NULL;
	const ts_cli_verb *which;

	if (argc < 2 || argv[1][0] == '-')
		return ts_cli_usage(cli, "name a verb: new, update, show, list, rules, filings, file-up-ack "
			"or a step (%s)", "dispatch, educate, warn, penalize, file, decide, review, file-up, execute, "
			"transfer, feedback, visit, close");
	verb = argv[1];
	if (!(which = ts_cli_verb_find(verbs, sizeof(verbs) / sizeof(verbs[0]), verb)))
		return ts_cli_usage(cli, "unknown verb '%s': new, update, show, list, rules, filings, file-up-ack, "
			"dispatch, educate, warn, penalize, file, decide, review, file-up, execute, transfer, feedback, "
			"visit or close", verb);
	argc--;
	argv++;
	while ((c = ts_cli_verb_getopt(cli, which, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'c': category = optarg; break;
		case 's': source = optarg; break;
		case 'd': address = optarg; break;
		case 'a': author = optarg; break;
		case 't': status = optarg; break;
		case 'O': overdue = 1; break;
		case 'j': json = 1; break;
		case 'o': officer = optarg; break;
		case 'n': note = optarg; break;
		case 'b': basis = optarg; break;
		case 'm': amount = optarg; break;
		case 'M': major = 1; break;
		case 'A': approve = 1; break;
		case 'R': reject = 1; break;
		case 'r': reviewer = optarg; break;
		case 'T': to = optarg; break;
		case 'f': satisfaction = optarg; break;
		case 'P': patrol = optarg; break;
		case 'G': pending = 1; break;
		case 'V':
			if (nrules == MAX_RULES)
				return ts_cli_usage(cli, "too many rules at once");
			rules[nrules].rule = "review_tier";
			rules[nrules].category = NULL;
			if (!strcmp(optarg, "city"))
				rules[nrules].value = 1;
			else if (!strcmp(optarg, "district"))
				rules[nrules].value = 2;
			else
				return ts_cli_usage(cli, "--review-tier takes city or district, not '%s'", optarg);
			nrules++;
			break;
		case 'S':
			if (nsets == MAX_SETS)
				return ts_cli_usage(cli, "too many --set");
			if (parse_set(&sets[nsets], optarg) < 0)
				return ts_cli_usage(cli, "--set takes COLUMN=VALUE, not '%s'", optarg);
			nsets++;
			break;
		case 'H': case 'D': case 'I':
			if (nrules == MAX_RULES)
				return ts_cli_usage(cli, "too many rules at once");
			if (c == 'H') {
				rules[nrules].rule = "major_threshold";
				rules[nrules].category = NULL;
				if (ts_case_yuan_parse(&rules[nrules].value, optarg) < 0)
					return ts_cli_usage(cli, "--major-threshold takes an amount of yuan, not '%s'", optarg);
			} else if (parse_rule(&rules[nrules], optarg, c == 'D' ? "deadline_days" : "immediate_penalty") < 0)
				return ts_cli_usage(cli, "%s takes CATEGORY=%s, not '%s'",
					c == 'D' ? "--deadline" : "--immediate-penalty", c == 'D' ? "DAYS" : "yes|no", optarg);
			nrules++;
			break;
		default: return 2;
		}
	}
	if (!strcmp(verb, "new")) {
		if (optind != argc)
			return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
		/* a case found on a patrol came from the patrol (巡查发现) */
		if (patrol && !source)
			source = "patrol";
		if (!category || !source || !address || !*address)
			return ts_cli_usage(cli, "a new case needs --category, --source and --address");
		for (i = 0; i < nsets; i++) {
			if (sets[i].value && (!strcmp(sets[i].column, "category") || !strcmp(sets[i].column, "source")))
				return ts_cli_usage(cli, "a new case takes its %s from --%s, not --set", sets[i].column,
					sets[i].column);
			if (!strcmp(sets[i].column, "patrol_id"))
				return ts_cli_usage(cli, "a new case takes its patrol from --patrol, not --set");
		}
		if (patrol) {
			sets[nsets].column = "patrol_id";
			sets[nsets].value = patrol;
			nsets++;
		}
		if (ts_case_new(&new_id, cli->node, ts_cli_author(cli, author), category, source, address, sets, nsets) < 0)
			return patrol ? ts_cli_fail_hint(cli, TS_ENOTFOUND, "see 'tiersync patrol list'") : ts_cli_fail(cli);
		if (json)
			printf("{\"id\":\"%s\"}\n", new_id);
		else
			printf("%s\n", new_id);
		free(new_id);
		return 0;
	}
	if (!strcmp(verb, "update")) {
		if (optind != argc - 1)
			return ts_cli_usage(cli, "name one case id");
		if (nsets == 0)
			return ts_cli_usage(cli, "nothing to change: give --set COLUMN=VALUE");
		if (ts_case_edit(cli->node, ts_cli_author(cli, author), argv[optind], sets, nsets) < 0)
			return ts_cli_fail(cli);
		ts_cli_staged(json, argv[optind], "updated");
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
		return case_list(cli, status, overdue, json);
	}
	if (!strcmp(verb, "rules")) {
		if (optind != argc)
			return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
		if (nrules == 0)
			return rules_show(cli, json);
		if (ts_case_rules_set(cli->node, ts_cli_author(cli, author), rules, nrules) < 0)
			return ts_cli_fail(cli);
		if (json)
			printf("{\"rules\":%zu,\"staged\":true}\n", nrules);
		else
			printf("set %zu rule%s for %s (staged)\n", nrules, nrules == 1 ? "" : "s", ts_node_id(cli->node));
		return 0;
	}
	if (!strcmp(verb, "filings")) {
		if (optind != argc)
			return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
		return filings_list(cli, pending, json);
	}
	if (optind != argc - 1)
		return ts_cli_usage(cli, "name one case id");
	id = argv[optind];
	author = ts_cli_author(cli, author);
	if (!strcmp(verb, "file-up-ack")) {
		if (ts_case_file_up_ack(cli->node, author, id, note) < 0)
			return ts_cli_fail(cli);
		if (json) {
			fputs("{\"id\":", stdout);
			ts_json_str(stdout, id);
			puts(",\"step\":\"file-up-ack\",\"staged\":true}");
		} else
			printf("file-up-ack %s: the filing is acknowledged (staged)\n", id);
		return 0;
	}
	if (!strcmp(verb, "dispatch")) {
		if (!officer || !*officer)
			return ts_cli_usage(cli, "dispatching a case needs --officer NAME: the officer's real name");
		error = ts_case_dispatch(cli->node, author, id, officer, note);
	}
	else if (!strcmp(verb, "educate"))
		error = ts_case_educate(cli->node, author, id, note);
	else if (!strcmp(verb, "warn"))
		error = ts_case_warn(cli->node, author, id, note);
	else if (!strcmp(verb, "penalize"))
		error = ts_case_penalize(cli->node, author, id, note);
	else if (!strcmp(verb, "file"))
		error = ts_case_file(cli->node, author, id, note);
	else if (!strcmp(verb, "decide")) {
		if (!basis || !*basis)
			return ts_cli_usage(cli, "a penalty decision needs --basis TEXT: its legal basis");
		if (!amount)
			return ts_cli_usage(cli, "a penalty decision needs --amount YUAN (0 for none)");
		if (ts_case_yuan_parse(&fen, amount) < 0)
			return ts_cli_fail(cli);
		error = ts_case_decide(cli->node, author, id, basis, fen, major, note);
	} else if (!strcmp(verb, "review")) {
		if (approve == reject)
			return ts_cli_usage(cli, "a review takes --approve or --reject");
		error = ts_case_review(cli->node, author, id, approve, reviewer, note);
	} else if (!strcmp(verb, "file-up"))
		error = ts_case_file_up(cli->node, author, id, note);
	else if (!strcmp(verb, "execute"))
		error = ts_case_execute(cli->node, author, id, note);
	else if (!strcmp(verb, "transfer")) {
		if (!to || !*to)
			return ts_cli_usage(cli, "a transfer needs --to DEPARTMENT: the department it goes to");
		error = ts_case_transfer(cli->node, author, id, to, note);
	}
	else if (!strcmp(verb, "feedback"))
		error = ts_case_feedback(cli->node, author, id, note);
	else if (!strcmp(verb, "visit")) {
		if (!satisfaction)
			return ts_cli_usage(cli, "a return visit needs --satisfaction "
				"satisfied|basically_satisfied|dissatisfied");
		error = ts_case_visit(cli->node, author, id, satisfaction, note);
	}
	else
		error = ts_case_close(cli->node, author, id, note);
	if (error < 0)
		return ts_cli_fail(cli);
	return step_done(cli, verb, id, json);
}
