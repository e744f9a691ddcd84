/*
 * tiersync exposure: the service's own exposures in the media (主动曝光):
 * add, remove (one recorded in error), list. See docs/EXPOSURES.md.
 */
#include <stdlib.h>
#include <string.h>

#include "commands.h"

typedef struct {
	int json;
	size_t n;
} exposure_out;

static int print_exposure(const ts_exposure_info *x, void *payload)
{
	exposure_out *out = payload;

	if (out->json) {
		fputs(out->n ? ",{\"id\":" : "[{\"id\":", stdout);
		ts_json_str(stdout, x->id);
		ts_cli_json_member("jurisdiction", x->jurisdiction);
		ts_cli_json_member("case_id", x->case_id);
		ts_cli_json_member("outlet", x->outlet);
		ts_cli_json_member("title", x->title);
		ts_cli_json_member("published_at", x->published_at);
		ts_cli_json_member("made_by", x->made_by);
		ts_cli_json_member("url", x->url);
		putchar('}');
	} else {
		printf("%s  %.16s  %s  %s  《%s》  %s", x->id, x->published_at, x->jurisdiction, x->outlet, x->title,
			x->made_by);
		if (x->case_id)
			printf("  case %s", x->case_id);
		putchar('\n');
	}
	out->n++;
	return 0;
}

static const ts_cli_verb verbs[] = {
	{ "add", "otcuAaj" }, { "remove", "aj" }, { "list", "ifTcj" },
};

int cmd_exposure(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "outlet", required_argument, NULL, 'o' },
		{ "title", required_argument, NULL, 't' },
		{ "case", required_argument, NULL, 'c' },
		{ "url", required_argument, NULL, 'u' },
		{ "at", required_argument, NULL, 'A' },
		{ "in", required_argument, NULL, 'i' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 'T' },
		{ "author", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ 0, 0, 0, 0 }
	};
	ts_exposure_options o;
	ts_exposure_filter filter = TS_EXPOSURE_FILTER_INIT;
	const ts_cli_verb *which;
	const char *author = NULL, *who;
	char parsed[32], *id = NULL;
	int c, help = 0, json = 0;

	memset(&o, 0, sizeof(o));
	if (argc < 2 || argv[1][0] == '-')
		return ts_cli_usage(cli, "name a verb: add, remove or list");
	if (!(which = ts_cli_verb_find(verbs, sizeof(verbs) / sizeof(verbs[0]), argv[1])))
		return ts_cli_usage(cli, "unknown verb '%s': add, remove or list", argv[1]);
	argc--;
	argv++;
	while ((c = ts_cli_verb_getopt(cli, which, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'o': o.outlet = optarg; break;
		case 't': o.title = optarg; break;
		case 'c': o.case_id = filter.case_id = optarg; break;
		case 'u': o.url = optarg; break;
		case 'A': o.published = optarg; break;
		case 'i': filter.jurisdiction = optarg; break;
		case 'f': filter.from = optarg; break;
		case 'T': filter.to = optarg; break;
		case 'a': author = optarg; break;
		case 'j': json = 1; break;
		default: return 2;
		}
	}
	if (!strcmp(which->verb, "add")) {
		if (optind != argc)
			return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
		if (!o.outlet || !*o.outlet || !o.title || !*o.title)
			return ts_cli_usage(cli, "an exposure needs --outlet NAME and --title TEXT");
		if (o.published && ts_time_parse(parsed, o.published, 0, "--at") < 0)
			return ts_cli_usage(cli, "%s", ts_error_last());
		if (!(who = ts_cli_author(cli, author)))
			return ts_cli_usage(cli, "an exposure needs who made it: --author NAME");
		if (ts_exposure_add(&id, cli->node, who, &o) < 0)
			return ts_cli_fail_hint(cli, TS_ENOTFOUND, "see 'tiersync case list'");
		ts_cli_staged(json, id, NULL);
		free(id);
		return 0;
	}
	if (!strcmp(which->verb, "remove")) {
		if (optind != argc - 1)
			return ts_cli_usage(cli, "name one exposure id");
		if (ts_exposure_remove(cli->node, ts_cli_author(cli, author), argv[optind]) < 0)
			return ts_cli_fail_hint(cli, TS_ENOTFOUND, "see 'tiersync exposure list'");
		ts_cli_staged(json, argv[optind], "removed");
		return 0;
	}
	if (optind != argc)
		return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
	if ((filter.from && ts_time_parse(parsed, filter.from, 0, "--from") < 0) ||
	    (filter.to && ts_time_parse(parsed, filter.to, 1, "--to") < 0))
		return ts_cli_usage(cli, "%s", ts_error_last());
	{
		exposure_out out = { json, 0 };
		if (ts_exposure_list(cli->node, &filter, print_exposure, &out) < 0)
			return ts_cli_fail(cli);
		if (json)
			puts(out.n ? "]" : "[]");
		else if (out.n == 0)
			puts("no exposures");
	}
	return 0;
}
