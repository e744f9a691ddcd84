/*
 * tiersync party: the parties of a case (当事人): add, edit, list, and the
 * repeat offenders (屡查屡犯) of a period. Identity numbers are shown masked
 * unless --show-id asks for them whole.
 */
#include <stdlib.h>
#include <string.h>

#include "commands.h"

typedef struct {
	int json;
	size_t n;
} party_out;

static int print_party(const ts_party_info *p, void *payload)
{
	party_out *out = payload;

	if (out->json) {
		fputs(out->n ? ",{\"id\":" : "[{\"id\":", stdout);
		ts_json_str_or_null(stdout, p->id);
		ts_cli_json_member("case_id", p->case_id);
		ts_cli_json_member("kind", p->kind);
		ts_cli_json_member("name", p->name);
		ts_cli_json_member("id_number", p->id_number);
		ts_cli_json_member("phone", p->phone);
		ts_cli_json_member("address", p->address);
		putchar('}');
	} else
		printf("%s  %-8s %s  %s  %s  %s\n", p->id, p->kind, p->name, p->id_number ? p->id_number : "-",
			p->phone ? p->phone : "-", p->address ? p->address : "-");
	out->n++;
	return 0;
}

static int print_offender(const ts_party_repeat_info *r, void *payload)
{
	party_out *out = payload;
	int64_t i;

	if (out->json) {
		fputs(out->n ? ",{\"kind\":" : "{\"kind\":", stdout);
		ts_json_str_or_null(stdout, r->kind);
		ts_cli_json_member("matched_by", r->matched_by);
		ts_cli_json_member("name", r->name);
		ts_cli_json_member("id_number", r->id_number);
		ts_cli_json_member("phone", r->phone);
		ts_cli_json_member("address", r->address);
		printf(",\"ncases\":%lld,\"cases\":[", (long long)r->ncases);
		for (i = 0; i < r->ncases; i++) {
			fputs(i ? ",{\"case_id\":" : "{\"case_id\":", stdout);
			ts_json_str_or_null(stdout, r->cases[i].case_id);
			ts_cli_json_member("reported_at", r->cases[i].reported_at);
			ts_cli_json_member("category", r->cases[i].category);
			ts_cli_json_member("party_id", r->cases[i].party_id);
			putchar('}');
		}
		fputs("]}", stdout);
	} else {
		printf("%lld cases  %-8s %s  %s  (matched by %s)\n", (long long)r->ncases, r->kind, r->name,
			!strcmp(r->matched_by, "id_number") ? r->id_number :
			!strcmp(r->matched_by, "name_phone") ? r->phone : r->address, r->matched_by);
		for (i = 0; i < r->ncases; i++)
			printf("    %s  %.10s  %s  (party %s)\n", r->cases[i].case_id, r->cases[i].reported_at,
				r->cases[i].category, r->cases[i].party_id);
	}
	out->n++;
	return 0;
}

static int party_list(ts_cli *cli, const char *case_id, int show_id, int json)
{
	ts_party_filter filter = TS_PARTY_FILTER_INIT;
	party_out out = { json, 0 };

	filter.reveal_id_numbers = show_id;
	if (ts_party_list(cli->node, case_id, &filter, print_party, &out) < 0)
		return ts_cli_fail(cli);
	if (json)
		puts(out.n ? "]" : "[]");
	else if (out.n == 0)
		printf("no parties recorded on %s\n", case_id);
	return 0;
}

static int party_repeats(ts_cli *cli, const char *period, long long min_cases, int show_id, int json)
{
	ts_party_repeat_filter filter = TS_PARTY_REPEAT_FILTER_INIT;
	party_out out = { json, 0 };
	char from[32], to[32];

	/* the period as `report --period` reads it */
	if (period) {
		if (ts_report_period(from, to, period) < 0)
			return ts_cli_usage(cli, "%s", ts_error_last());
	} else
		ts_report_this_year(from, to);
	filter.from = from;
	filter.to = to;
	filter.reveal_id_numbers = show_id;
	filter.min_cases = min_cases;
	if (json) {
		fputs("{\"period\":{\"from\":", stdout);
		ts_json_str(stdout, from);
		fputs(",\"to\":", stdout);
		ts_json_str(stdout, to);
		fputs("},\"offenders\":[", stdout);
	}
	if (ts_party_repeats(cli->node, &filter, print_offender, &out) < 0) {
		if (json)
			puts("]}");
		return ts_cli_fail(cli);
	}
	if (json)
		puts("]}");
	else if (out.n == 0)
		printf("no repeat offenders in cases reported %.10s .. before %.10s\n", from, to);
	return 0;
}

static int stage_is_penalize(const ts_case_info *c, void *payload)
{
	return c->stage && !strcmp(c->stage, "penalize");
}

/* 1 when the case is at the penalize step. Keeps the last error as it was. */
static int at_penalize(ts_cli *cli, const char *case_id)
{
	char *msg = ts_error_last() ? strdup(ts_error_last()) : NULL;
	int code = ts_error_last_code(), at = ts_case_get(cli->node, case_id, stage_is_penalize, NULL) == 1;

	ts_error_set(code, "%s", msg ? msg : "failed");
	free(msg);
	return at;
}

int cmd_party(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kind", required_argument, NULL, 'k' },
		{ "name", required_argument, NULL, 'N' },
		{ "id-number", required_argument, NULL, 'i' },
		{ "phone", required_argument, NULL, 'p' },
		{ "address", required_argument, NULL, 'd' },
		{ "author", required_argument, NULL, 'a' },
		{ "repeat", no_argument, NULL, 'r' },
		{ "period", required_argument, NULL, 'P' },
		{ "min-cases", required_argument, NULL, 'M' },
		{ "show-id", no_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ 0, 0, 0, 0 }
	};
	ts_party_options party;
	ts_field sets[3];
	size_t nsets = 0;
	const char *author = NULL, *period = NULL, *verb;
	int c, help = 0, json = 0, repeat = 0, show_id = 0, id_given = 0, phone_given = 0, address_given = 0;
	long long min_cases = 0;
	char *id = NULL, *end;

	memset(&party, 0, sizeof(party));
	if (argc < 2 || argv[1][0] == '-')
		return ts_cli_usage(cli, "name a verb: add, edit or list");
	verb = argv[1];
	argc--;
	argv++;
	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'k': party.kind = optarg; break;
		case 'N': party.name = optarg; break;
		case 'i': party.id_number = optarg; id_given = 1; break;
		case 'p': party.phone = optarg; phone_given = 1; break;
		case 'd': party.address = optarg; address_given = 1; break;
		case 'a': author = optarg; break;
		case 'r': repeat = 1; break;
		case 'P': period = optarg; break;
		case 's': show_id = 1; break;
		case 'j': json = 1; break;
		case 'M':
			min_cases = strtoll(optarg, &end, 10);
			if (*end || end == optarg || min_cases < 2)
				return ts_cli_usage(cli, "--min-cases takes a number of cases, 2 or more");
			break;
		default: return 2;
		}
	}
	if (!strcmp(verb, "add")) {
		if (optind != argc - 1)
			return ts_cli_usage(cli, "name one case: party add CASE --kind person|business --name NAME");
		if (!party.kind || (strcmp(party.kind, "person") && strcmp(party.kind, "business")))
			return ts_cli_usage(cli, "a party needs --kind person or --kind business");
		if (!party.name || !*party.name)
			return ts_cli_usage(cli, "a party needs --name NAME");
		if (ts_party_add(&id, cli->node, ts_cli_author(cli, author), argv[optind], &party) < 0) {
			/* a case at the penalize step needs the party's number: name the flag */
			if (!id_given && ts_error_last_code() == TS_EINVALID && at_penalize(cli, argv[optind]))
				return ts_cli_fail_hint(cli, TS_EINVALID, "give it with --id-number");
			return ts_cli_fail(cli);
		}
		ts_cli_staged(json, id, NULL);
		free(id);
		return 0;
	}
	if (!strcmp(verb, "edit")) {
		if (optind != argc - 1)
			return ts_cli_usage(cli, "name one party id");
		if (party.kind || party.name)
			return ts_cli_usage(cli, "a party's kind and name do not change (a different party is a "
				"new party); edit takes --phone, --address and --id-number");
		if (phone_given)
			sets[nsets++] = (ts_field){ "phone", party.phone };
		if (address_given)
			sets[nsets++] = (ts_field){ "address", party.address };
		if (id_given)
			sets[nsets++] = (ts_field){ "id_number", party.id_number };
		if (nsets == 0)
			return ts_cli_usage(cli, "name what changes: --phone, --address or --id-number (\"\" clears it)");
		if (ts_party_edit(cli->node, ts_cli_author(cli, author), argv[optind], sets, nsets) < 0)
			return ts_cli_fail(cli);
		ts_cli_staged(json, argv[optind], "edited");
		return 0;
	}
	if (!strcmp(verb, "list")) {
		if (repeat) {
			if (optind != argc)
				return ts_cli_usage(cli, "--repeat lists the repeat offenders of the jurisdiction: "
					"no case is named (unexpected %s)", argv[optind]);
			return party_repeats(cli, period, min_cases, show_id, json);
		}
		if (period || min_cases)
			return ts_cli_usage(cli, "--period and --min-cases go with --repeat");
		if (optind != argc - 1)
			return ts_cli_usage(cli, "name one case, or give --repeat");
		return party_list(cli, argv[optind], show_id, json);
	}
	return ts_cli_usage(cli, "unknown verb '%s': add, edit or list", verb);
}
