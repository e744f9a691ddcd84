/*
 * tiersync case: record cases, take them through their lifecycle (dispatch,
 * the three steps, filing, decision, review, filing-up, execution,
 * transfer, feedback, return visit, closing), edit, show and list them, and
 * read or set the case rules. The rules themselves live in
 * node/lifecycle.c; this file parses and prints.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "tiersync.h"
#include "node.h"

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

static int case_list(ts_cli *cli, const char *status_filter, int overdue, int json)
{
	sqlite3 *db = ts_node_db(cli->node);
	sqlite3_stmt *st = NULL;
	char now[32];
	int n = 0;

	/* overdue: open (neither closed nor transferred) and past its deadline;
	 * times are one fixed text form, so text order is time order */
	if (sqlite3_prepare_v2(db, "SELECT id, status, category, source, officer, deadline, address FROM cases "
			"WHERE (?1 IS NULL OR status = ?1) "
			"AND (?2 IS NULL OR (status NOT IN ('closed', 'transferred') AND deadline < ?2)) "
			"ORDER BY reported_at, id", -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "tiersync: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	ts_time_format(now, ts_node__now());
	sqlite3_bind_text(st, 1, status_filter, -1, SQLITE_STATIC);
	if (overdue)
		sqlite3_bind_text(st, 2, now, -1, SQLITE_TRANSIENT);
	if (json)
		putchar('[');
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (json) {
			if (n)
				putchar(',');
			print_row_json(st);
		} else
			printf("%s  %-11s %-18s %-8s %s  %s\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
				sqlite3_column_text(st, 2), sqlite3_column_type(st, 4) == SQLITE_NULL ? "-" :
				(const char *)sqlite3_column_text(st, 4), sqlite3_column_text(st, 5),
				sqlite3_column_text(st, 6));
		n++;
	}
	if (json)
		puts("]");
	sqlite3_finalize(st);
	return 0;
}

/* The case rules in force at this node: per category its deadline and
 * whether it may be penalized at once, and the major-case threshold, each
 * with the scope it comes from ('' = the shipped default). */
static int rules_show(ts_cli *cli, int json)
{
	sqlite3 *db = ts_node_db(cli->node);
	sqlite3_stmt *st = NULL;
	char *jurisdiction = ts_case_jurisdiction(cli->node), yuan[32];
	int64_t threshold = -1;
	int status = 1, n = 0;

	if (!jurisdiction) {
		fprintf(stderr, "tiersync: out of memory\n");
		return 1;
	}
	if (sqlite3_prepare_v2(db,
			"WITH r AS (SELECT * FROM case_rules WHERE scope = '' OR scope = ?1 "
			"  OR substr(?1, 1, length(scope) + 1) = scope || '.') "
			"SELECT c.code, "
			"  coalesce((SELECT value FROM r WHERE rule = 'deadline_days' AND category = c.code "
			"    ORDER BY length(scope) DESC LIMIT 1), c.deadline_days), "
			"  coalesce((SELECT scope FROM r WHERE rule = 'deadline_days' AND category = c.code "
			"    ORDER BY length(scope) DESC LIMIT 1), 'categories'), "
			"  coalesce((SELECT value FROM r WHERE rule = 'immediate_penalty' AND category = c.code "
			"    ORDER BY length(scope) DESC LIMIT 1), 0), "
			"  (SELECT scope FROM r WHERE rule = 'immediate_penalty' AND category = c.code "
			"    ORDER BY length(scope) DESC LIMIT 1), "
			"  (SELECT value FROM r WHERE rule = 'major_threshold' ORDER BY length(scope) DESC LIMIT 1), "
			"  (SELECT scope FROM r WHERE rule = 'major_threshold' ORDER BY length(scope) DESC LIMIT 1) "
			"FROM categories c ORDER BY c.code", -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "tiersync: %s\n", sqlite3_errmsg(db));
		goto done;
	}
	sqlite3_bind_text(st, 1, jurisdiction, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *code = (const char *)sqlite3_column_text(st, 0);
		const char *dscope = (const char *)sqlite3_column_text(st, 2);
		const char *iscope = (const char *)sqlite3_column_text(st, 4);
		int immediate = sqlite3_column_int(st, 3);
		if (n == 0) {
			const char *tscope = (const char *)sqlite3_column_text(st, 6);
			threshold = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 5);
			if (threshold >= 0)
				snprintf(yuan, sizeof(yuan), "%lld.%02lld", (long long)(threshold / 100),
					(long long)(threshold % 100));
			if (json) {
				fputs("{\"jurisdiction\":", stdout);
				ts_json_str(stdout, jurisdiction);
				if (threshold >= 0) {
					printf(",\"major_threshold\":{\"fen\":%lld,\"yuan\":\"%s\",\"scope\":",
						(long long)threshold, yuan);
					ts_json_str(stdout, tscope);
					putchar('}');
				} else
					fputs(",\"major_threshold\":null", stdout);
				fputs(",\"categories\":[", stdout);
			} else {
				printf("case rules in force for %s:\n", jurisdiction);
				if (threshold >= 0)
					printf("major_threshold  %s yuan  (%s)\n", yuan, *tscope ? tscope : "default");
				else
					printf("major_threshold  none: only cases marked major are major\n");
				printf("\n%-20s %5s  %-12s %-9s %s\n", "category", "days", "set by", "at once", "set by");
			}
		}
		if (json) {
			if (n)
				putchar(',');
			fputs("{\"category\":", stdout);
			ts_json_str(stdout, code);
			printf(",\"deadline_days\":%lld,\"deadline_scope\":", (long long)sqlite3_column_int64(st, 1));
			ts_json_str(stdout, dscope);
			printf(",\"immediate_penalty\":%s,\"immediate_penalty_scope\":", immediate ? "true" : "false");
			ts_json_strn(stdout, iscope);
			putchar('}');
		} else
			printf("%-20s %5lld  %-12s %-9s %s\n", code, (long long)sqlite3_column_int64(st, 1),
				*dscope ? dscope : "default", immediate ? "yes" : "no",
				iscope ? (*iscope ? iscope : "default") : "");
		n++;
	}
	if (json)
		puts("]}");
	status = 0;
done:
	sqlite3_finalize(st);
	free(jurisdiction);
	return status;
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

/* What a step did, read back from the case. */
static int step_done(ts_cli *cli, const char *verb, const char *id, int json)
{
	sqlite3 *db = ts_node_db(cli->node);
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, "SELECT status, stage FROM cases WHERE id = ?1", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		fprintf(stderr, "tiersync: reading case %s back: %s\n", id, sqlite3_errmsg(db));
		return 1;
	}
	if (json) {
		fputs("{\"id\":", stdout);
		ts_json_str(stdout, id);
		fputs(",\"step\":", stdout);
		ts_json_str(stdout, verb);
		fputs(",\"status\":", stdout);
		ts_json_str(stdout, (const char *)sqlite3_column_text(st, 0));
		fputs(",\"stage\":", stdout);
		ts_json_strn(stdout, (const char *)sqlite3_column_text(st, 1));
		puts(",\"staged\":true}");
	} else
		printf("%s %s: now %s%s%s (staged)\n", verb, id, sqlite3_column_text(st, 0),
			sqlite3_column_type(st, 1) == SQLITE_NULL ? "" : ", stage ",
			sqlite3_column_type(st, 1) == SQLITE_NULL ? "" : (const char *)sqlite3_column_text(st, 1));
	sqlite3_finalize(st);
	return 0;
}

/* Each verb and the options it takes (their getopt letters). */
static const struct { const char *verb, *options; } verbs[] = {
	{ "new", "csdSaj" }, { "update", "Saj" }, { "show", "j" }, { "list", "tOj" }, { "rules", "HDIaj" },
	{ "dispatch", "onaj" }, { "educate", "naj" }, { "warn", "naj" }, { "penalize", "naj" },
	{ "file", "naj" }, { "decide", "bmMnaj" }, { "review", "ARrnaj" }, { "file-up", "naj" },
	{ "execute", "naj" }, { "transfer", "Tnaj" }, { "feedback", "naj" }, { "visit", "fnaj" },
	{ "close", "naj" },
};

/* The index of the verb's entry, or -1. */
static int find_verb(const char *verb)
{
	size_t i;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(verb, verbs[i].verb))
			return (int)i;
	return -1;
}

/* The long name of an option letter. */
static const char *option_name(const struct option *opts, int c)
{
	for (; opts->name; opts++)
		if (opts->val == c)
			return opts->name;
	return "?";
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
		{ 0, 0, 0, 0 }
	};
	const char *category = NULL, *source = NULL, *address = NULL, *author = NULL, *status = NULL, *verb;
	const char *officer = NULL, *note = NULL, *basis = NULL, *amount = NULL, *reviewer = NULL, *to = NULL;
	const char *satisfaction = NULL, *id;
	ts_field sets[MAX_SETS];
	ts_case_rule rules[MAX_RULES];
	size_t nsets = 0, nrules = 0;
	int c, help = 0, json = 0, overdue = 0, major = 0, approve = 0, reject = 0, error;
	int64_t fen = 0;
	char *new_id = NULL;
	int which;

	if (argc < 2 || argv[1][0] == '-')
		return ts_cli_usage(cli, "name a verb: new, update, show, list, rules or a step (%s)",
			"dispatch, educate, warn, penalize, file, decide, review, file-up, execute, transfer, "
			"feedback, visit, close");
	verb = argv[1];
	if ((which = find_verb(verb)) < 0)
		return ts_cli_usage(cli, "unknown verb '%s': new, update, show, list, rules, dispatch, educate, "
			"warn, penalize, file, decide, review, file-up, execute, transfer, feedback, visit or close", verb);
	argc--;
	argv++;
	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		if (c != '?' && !strchr(verbs[which].options, c))
			return ts_cli_usage(cli, "case %s does not take --%s", verb, option_name(opts, c));
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
		if (!category || !source || !address)
			return ts_cli_usage(cli, "a new case needs --category, --source and --address");
		if (ts_case_new(&new_id, cli->node, ts_cli_author(cli, author), category, source, address, sets, nsets) < 0)
			return ts_cli_fail();
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
			return ts_cli_fail();
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
			return ts_cli_fail();
		if (json)
			printf("{\"rules\":%zu,\"staged\":true}\n", nrules);
		else
			printf("set %zu rule%s for %s (staged)\n", nrules, nrules == 1 ? "" : "s", ts_node_id(cli->node));
		return 0;
	}
	if (optind != argc - 1)
		return ts_cli_usage(cli, "name one case id");
	id = argv[optind];
	author = ts_cli_author(cli, author);
	if (!strcmp(verb, "dispatch"))
		error = ts_case_dispatch(cli->node, author, id, officer, note);
	else if (!strcmp(verb, "educate"))
		error = ts_case_educate(cli->node, author, id, note);
	else if (!strcmp(verb, "warn"))
		error = ts_case_warn(cli->node, author, id, note);
	else if (!strcmp(verb, "penalize"))
		error = ts_case_penalize(cli->node, author, id, note);
	else if (!strcmp(verb, "file"))
		error = ts_case_file(cli->node, author, id, note);
	else if (!strcmp(verb, "decide")) {
		if (!amount)
			return ts_cli_usage(cli, "a penalty decision needs --amount YUAN (0 for none)");
		if (ts_case_yuan_parse(&fen, amount) < 0)
			return ts_cli_fail();
		error = ts_case_decide(cli->node, author, id, basis, fen, major, note);
	} else if (!strcmp(verb, "review")) {
		if (approve == reject)
			return ts_cli_usage(cli, "a review takes --approve or --reject");
		error = ts_case_review(cli->node, author, id, approve, reviewer, note);
	} else if (!strcmp(verb, "file-up"))
		error = ts_case_file_up(cli->node, author, id, note);
	else if (!strcmp(verb, "execute"))
		error = ts_case_execute(cli->node, author, id, note);
	else if (!strcmp(verb, "transfer"))
		error = ts_case_transfer(cli->node, author, id, to, note);
	else if (!strcmp(verb, "feedback"))
		error = ts_case_feedback(cli->node, author, id, note);
	else if (!strcmp(verb, "visit"))
		error = ts_case_visit(cli->node, author, id, satisfaction, note);
	else
		error = ts_case_close(cli->node, author, id, note);
	if (error < 0)
		return ts_cli_fail();
	return step_done(cli, verb, id, json);
}
