/*
 * tiersync zone: responsibility zones (市容环境卫生责任区, 门前三包): add a
 * shop's or unit's zone, issue its notice (告知书), check its duties
 * (责任落实), list the zones with their notice and last check, list the
 * checks.
 */
#include <stdlib.h>
#include <string.h>

#include "commands.h"

typedef struct {
	int json;
	size_t n, notices;
} zone_out;

static int print_zone(const ts_zone_info *z, void *payload)
{
	zone_out *out = payload;

	if (out->json) {
		fputs(out->n ? ",{\"id\":" : "[{\"id\":", stdout);
		ts_json_str(stdout, z->id);
		ts_cli_json_member("unit", z->unit);
		ts_cli_json_member("address", z->address);
		ts_cli_json_member("jurisdiction", z->jurisdiction);
		ts_cli_json_member("key_area_id", z->key_area_id);
		ts_cli_json_member("notice_issued_at", z->notice_issued_at);
		ts_cli_json_member("notice_issued_by", z->notice_issued_by);
		printf(",\"checks\":%lld,\"last_check\":", (long long)z->checks);
		if (z->last_met < 0)
			fputs("null", stdout);
		else {
			fputs("{\"checked_at\":", stdout);
			ts_json_str_or_null(stdout, z->last_checked_at);
			printf(",\"met\":%s", z->last_met ? "true" : "false");
			ts_cli_json_member("checker", z->last_checker);
			ts_cli_json_member("note", z->last_note);
			putchar('}');
		}
		putchar('}');
	} else {
		printf("%s  %s  %s  (%s%s%s)\n", z->id, z->unit, z->address, z->jurisdiction,
			z->key_area_id ? ", key area " : "", z->key_area_id ? z->key_area_id : "");
		if (z->notice_issued_at)
			printf("    notice   %.16s by %s\n", z->notice_issued_at, z->notice_issued_by ? z->notice_issued_by : "-");
		else
			puts("    notice   NOT ISSUED");
		if (z->last_met >= 0)
			printf("    checked  %.16s by %s: %s%s%s (%lld check%s)\n", z->last_checked_at, z->last_checker,
				z->last_met ? "met" : "NOT MET", z->last_note ? ": " : "", z->last_note ? z->last_note : "",
				(long long)z->checks, z->checks == 1 ? "" : "s");
		else
			puts("    checked  never");
	}
	out->n++;
	out->notices += z->notice_issued_at != NULL;
	return 0;
}

static int print_check(const ts_zone_check_info *k, void *payload)
{
	zone_out *out = payload;

	if (out->json) {
		fputs(out->n ? ",{\"id\":" : "[{\"id\":", stdout);
		ts_json_str(stdout, k->id);
		ts_cli_json_member("zone_id", k->zone_id);
		ts_cli_json_member("unit", k->unit);
		ts_cli_json_member("checked_at", k->checked_at);
		printf(",\"met\":%s", k->met ? "true" : "false");
		ts_cli_json_member("checker", k->checker);
		ts_cli_json_member("note", k->note);
		putchar('}');
	} else
		printf("%s  %.16s  %-7s %s (%s) by %s%s%s\n", k->id, k->checked_at, k->met ? "met" : "NOT MET",
			k->unit, k->zone_id, k->checker, k->note ? ": " : "", k->note ? k->note : "");
	out->n++;
	return 0;
}

/* Each verb and the options it takes (their getopt letters). */
static const ts_cli_verb verbs[] = {
	{ "add", "dkaj" }, { "notice", "taj" }, { "check", "MNnaj" }, { "list", "kwj" }, { "checks", "fTj" },
};

int cmd_zone(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "address", required_argument, NULL, 'd' },
		{ "key-area", required_argument, NULL, 'k' },
		{ "at", required_argument, NULL, 't' },
		{ "met", no_argument, NULL, 'M' },
		{ "not-met", no_argument, NULL, 'N' },
		{ "note", required_argument, NULL, 'n' },
		{ "no-notice", no_argument, NULL, 'w' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 'T' },
		{ "author", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ 0, 0, 0, 0 }
	};
	ts_zone_filter filter = TS_ZONE_FILTER_INIT;
	ts_zone_check_filter checks = TS_ZONE_CHECK_FILTER_INIT;
	const char *address = NULL, *at = NULL, *note = NULL, *author = NULL, *verb;
	char parsed[32], *id = NULL;
	int c, help = 0, json = 0, met = 0, not_met = 0;
	const ts_cli_verb *which;

	if (argc < 2 || argv[1][0] == '-')
		return ts_cli_usage(cli, "name a verb: add, notice, check, list or checks");
	verb = argv[1];
	if (!(which = ts_cli_verb_find(verbs, sizeof(verbs) / sizeof(verbs[0]), verb)))
		return ts_cli_usage(cli, "unknown verb '%s': add, notice, check, list or checks", verb);
	argc--;
	argv++;
	while ((c = ts_cli_verb_getopt(cli, which, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'd': address = optarg; break;
		case 'k': filter.key_area_id = optarg; break;
		case 't': at = optarg; break;
		case 'M': met = 1; break;
		case 'N': not_met = 1; break;
		case 'n': note = optarg; break;
		case 'w': filter.without_notice_only = 1; break;
		case 'f': checks.from = optarg; break;
		case 'T': checks.to = optarg; break;
		case 'a': author = optarg; break;
		case 'j': json = 1; break;
		default: return 2;
		}
	}
	if (!strcmp(verb, "add")) {
		if (optind != argc - 1)
			return ts_cli_usage(cli, "name one shop or unit: zone add UNIT --address A");
		if (!address || !*address)
			return ts_cli_usage(cli, "a zone needs --address A: where the shop or unit is");
		if (ts_zone_add(&id, cli->node, ts_cli_author(cli, author), argv[optind], address,
				filter.key_area_id) < 0)
			return ts_cli_fail_hint(cli, TS_ENOTFOUND, "see 'tiersync area list'");
		ts_cli_staged(json, id, NULL);
		free(id);
		return 0;
	}
	if (!strcmp(verb, "notice")) {
		if (optind != argc - 1)
			return ts_cli_usage(cli, "name one zone id");
		/* a time that is not one, named by its flag */
		if (at && ts_time_parse(parsed, at, 0, "--at") < 0)
			return ts_cli_usage(cli, "%s", ts_error_last());
		if (ts_zone_notice(cli->node, ts_cli_author(cli, author), argv[optind], at) < 0)
			return ts_cli_fail_hint(cli, TS_ENOTFOUND, "see 'tiersync zone list'");
		ts_cli_staged(json, argv[optind], "notice issued for");
		return 0;
	}
	if (!strcmp(verb, "check")) {
		if (optind != argc - 1)
			return ts_cli_usage(cli, "name one zone id");
		if (met == not_met)
			return ts_cli_usage(cli, "a check gives its verdict: --met or --not-met");
		if (not_met && (!note || !*note))
			return ts_cli_usage(cli, "--not-met needs --note TEXT: what was wrong");
		if (ts_zone_check(&id, cli->node, ts_cli_author(cli, author), argv[optind], met, note) < 0)
			return ts_cli_fail_hint(cli, TS_ENOTFOUND, "see 'tiersync zone list'");
		if (json) {
			fputs("{\"id\":", stdout);
			ts_json_str(stdout, id);
			fputs(",\"zone\":", stdout);
			ts_json_str(stdout, argv[optind]);
			printf(",\"met\":%s,\"staged\":true}\n", met ? "true" : "false");
		} else
			printf("%s\n", id);
		free(id);
		return 0;
	}
	if (!strcmp(verb, "list")) {
		zone_out out = { json, 0, 0 };
		if (optind != argc)
			return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
		if (ts_zone_list(cli->node, &filter, print_zone, &out) < 0)
			return ts_cli_fail(cli);
		if (json)
			puts(out.n ? "]" : "[]");
		else if (out.n == 0)
			printf("no responsibility zones%s\n", filter.without_notice_only ? " without their notice" : "");
		else
			printf("%zu zone%s, %zu with their notice issued\n", out.n, out.n == 1 ? "" : "s", out.notices);
		return 0;
	}
	/* checks */
	if (optind < argc - 1)
		return ts_cli_usage(cli, "name at most one zone id");
	checks.zone_id = optind == argc - 1 ? argv[optind] : NULL;
	if ((checks.from && ts_time_parse(parsed, checks.from, 0, "--from") < 0) ||
	    (checks.to && ts_time_parse(parsed, checks.to, 1, "--to") < 0))
		return ts_cli_usage(cli, "%s", ts_error_last());
	{
		zone_out out = { json, 0, 0 };
		if (ts_zone_checks(cli->node, &checks, print_check, &out) < 0)
			return ts_cli_fail_hint(cli, TS_ENOTFOUND, "see 'tiersync zone list'");
		if (json)
			puts(out.n ? "]" : "[]");
		else if (out.n == 0)
			puts("no responsibility checks");
	}
	return 0;
}
