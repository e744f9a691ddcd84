/*
 * tiersync ads: the phone numbers found on small ads (非法小广告) and the
 * warning call to each (违法电话号码警示), with the warning rate.
 */
#include <stdlib.h>
#include <string.h>

#include "commands.h"

typedef struct {
	int json;
	size_t n;
} number_out;

static int print_number(const ts_ads_info *a, void *payload)
{
	number_out *out = payload;

	if (out->json) {
		fputs(out->n ? ",{\"phone\":" : "{\"phone\":", stdout);
		ts_json_str_or_null(stdout, a->phone);
		ts_cli_json_member("state", a->state);
		printf(",\"cases\":%lld", (long long)a->cases);
		ts_cli_json_member("last_call", a->last_call);
		ts_cli_json_member("last_caller", a->last_caller);
		putchar('}');
	} else {
		printf("%-14s %-11s on %lld case%s", a->phone, a->state, (long long)a->cases,
			a->cases == 1 ? "" : "s");
		if (a->last_call)
			printf(", last call %.16s by %s", a->last_call, a->last_caller);
		putchar('\n');
	}
	out->n++;
	return 0;
}

static int ads_list(ts_cli *cli, int unwarned, int json)
{
	ts_ads_filter filter = TS_ADS_FILTER_INIT;
	number_out out = { json, 0 };
	ts_ads_figures f;

	filter.unwarned_only = unwarned;
	if (ts_ads_figures_get(&f, cli->node) < 0)
		return ts_cli_fail(cli);
	if (json)
		printf("{\"found\":%lld,\"warned\":%lld,\"unreachable\":%lld,\"suspended\":%lld,\"untried\":%lld,"
			"\"rate\":%.4f,\"numbers\":[", f.found, f.warned, f.unreachable, f.suspended, f.untried, f.rate);
	if (ts_ads_list(cli->node, &filter, print_number, &out) < 0)
		return ts_cli_fail(cli);
	if (json) {
		puts("]}");
		return 0;
	}
	if (out.n == 0)
		printf("no %snumbers\n", unwarned ? "unwarned " : "");
	printf("warning rate: %lld of %lld numbers warned = %.1f%% (unreachable %lld, suspended %lld, not yet called %lld)\n",
		f.warned, f.found, f.rate * 100.0, f.unreachable, f.suspended, f.untried);
	return 0;
}

int cmd_ads(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "outcome", required_argument, NULL, 'o' },
		{ "author", required_argument, NULL, 'a' },
		{ "unwarned", no_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ 0, 0, 0, 0 }
	};
	const char *outcome = NULL, *author = NULL, *verb;
	int c, help = 0, json = 0, unwarned = 0;
	size_t rows = 0;

	if (argc < 2 || argv[1][0] == '-')
		return ts_cli_usage(cli, "name a verb: add, warn or list");
	verb = argv[1];
	argc--;
	argv++;
	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'o': outcome = optarg; break;
		case 'a': author = optarg; break;
		case 'u': unwarned = 1; break;
		case 'j': json = 1; break;
		default: return 2;
		}
	}
	if (!strcmp(verb, "add")) {
		if (optind > argc - 2)
			return ts_cli_usage(cli, "name the case and at least one number: ads add CASE PHONE...");
		if (ts_ads_add(cli->node, ts_cli_author(cli, author), argv[optind],
				(const char *const *)argv + optind + 1, (size_t)(argc - optind - 1)) < 0)
			return ts_cli_fail(cli);
		if (json) {
			fputs("{\"case\":", stdout);
			ts_json_str(stdout, argv[optind]);
			printf(",\"numbers\":%d,\"staged\":true}\n", argc - optind - 1);
		} else
			printf("recorded %d number%s on %s (staged)\n", argc - optind - 1,
				argc - optind - 1 == 1 ? "" : "s", argv[optind]);
		return 0;
	}
	if (!strcmp(verb, "warn")) {
		if (optind != argc - 1)
			return ts_cli_usage(cli, "name one phone number");
		if (!outcome)
			return ts_cli_usage(cli, "say how the call went: --outcome warned|unreachable|suspended");
		if (ts_ads_warn(&rows, cli->node, ts_cli_author(cli, author), argv[optind], outcome) < 0)
			return ts_cli_fail(cli);
		if (json)
			printf("{\"outcome\":\"%s\",\"cases\":%zu,\"staged\":true}\n", outcome, rows);
		else
			printf("%s: %s on %zu case%s (staged)\n", argv[optind], outcome, rows, rows == 1 ? "" : "s");
		return 0;
	}
	if (!strcmp(verb, "list")) {
		if (optind != argc)
			return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
		return ads_list(cli, unwarned, json);
	}
	return ts_cli_usage(cli, "unknown verb '%s': add, warn or list", verb);
}
