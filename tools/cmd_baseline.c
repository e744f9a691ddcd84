/*
 * tiersync baseline: the complaint baselines (常量) the city sets, that the
 * report's complaint figures measure against: set, remove, list. See
 * docs/REPORT.md.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

typedef struct {
	int json;
	size_t n;
} baseline_out;

static int print_baseline(const ts_baseline_info *b, void *payload)
{
	baseline_out *out = payload;

	if (out->json) {
		fputs(out->n ? ",{\"unit\":" : "[{\"unit\":", stdout);
		ts_json_str(stdout, b->unit);
		ts_cli_json_member("subject", b->subject);
		ts_cli_json_member("year", b->year);
		printf(",\"complaints\":%lld", (long long)b->complaints);
		ts_cli_json_member("set_by", b->set_by);
		ts_cli_json_member("set_at", b->set_at);
		putchar('}');
	} else
		printf("%s  %-16s %-11s %8lld  set by %s at %.16s\n", b->year, b->unit, b->subject,
			(long long)b->complaints, b->set_by, b->set_at);
	out->n++;
	return 0;
}

static const ts_cli_verb verbs[] = {
	{ "set", "usyCaj" }, { "remove", "usyaj" }, { "list", "usyj" },
};

int cmd_baseline(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "unit", required_argument, NULL, 'u' },
		{ "subject", required_argument, NULL, 's' },
		{ "year", required_argument, NULL, 'y' },
		{ "complaints", required_argument, NULL, 'C' },
		{ "author", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ 0, 0, 0, 0 }
	};
	ts_baseline_filter filter = TS_BASELINE_FILTER_INIT;
	const ts_cli_verb *which;
	const char *author = NULL, *complaints = NULL, *who;
	char *end;
	long long n = 0;
	int c, help = 0, json = 0;

	if (argc < 2 || argv[1][0] == '-')
		return ts_cli_usage(cli, "name a verb: set, remove or list");
	if (!(which = ts_cli_verb_find(verbs, sizeof(verbs) / sizeof(verbs[0]), argv[1])))
		return ts_cli_usage(cli, "unknown verb '%s': set, remove or list", argv[1]);
	argc--;
	argv++;
	while ((c = ts_cli_verb_getopt(cli, which, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'u': filter.unit = optarg; break;
		case 's': filter.subject = optarg; break;
		case 'y': filter.year = optarg; break;
		case 'C': complaints = optarg; break;
		case 'a': author = optarg; break;
		case 'j': json = 1; break;
		default: return 2;
		}
	}
	if (optind != argc)
		return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
	if (!strcmp(which->verb, "list")) {
		baseline_out out = { json, 0 };
		if (ts_baseline_list(cli->node, &filter, print_baseline, &out) < 0)
			return ts_cli_fail(cli);
		if (json)
			puts(out.n ? "]" : "[]");
		else if (out.n == 0)
			puts("no baselines");
		return 0;
	}
	if (!filter.unit || !filter.subject || !filter.year)
		return ts_cli_usage(cli, "a baseline is named by --unit ID, --subject S and --year YYYY");
	if (!strcmp(which->verb, "set")) {
		if (!complaints)
			return ts_cli_usage(cli, "set needs --complaints N: the complaints of a whole year");
		errno = 0;
		n = strtoll(complaints, &end, 10);
		if (errno || end == complaints || *end || n < 0)
			return ts_cli_usage(cli, "--complaints is a count, 0 or more, not '%s'", complaints);
	}
	if (!(who = ts_cli_author(cli, author)))
		return ts_cli_usage(cli, "a baseline needs who sets it: --author NAME");
	if (!strcmp(which->verb, "set") ?
	    ts_baseline_set(cli->node, who, filter.unit, filter.subject, filter.year, n) < 0 :
	    ts_baseline_remove(cli->node, who, filter.unit, filter.subject, filter.year) < 0)
		return ts_cli_fail_hint(cli, TS_ENOTFOUND, "see 'tiersync baseline list'");
	if (json) {
		fputs("{\"unit\":", stdout);
		ts_json_str(stdout, filter.unit);
		ts_cli_json_member("subject", filter.subject);
		ts_cli_json_member("year", filter.year);
		printf(",\"%s\":true,\"staged\":true}\n", which->verb[0] == 's' ? "set" : "removed");
	} else
		printf("baseline %s %s %s %s (staged)\n", filter.unit, filter.subject, filter.year,
			which->verb[0] == 's' ? "set" : "removed");
	return 0;
}
