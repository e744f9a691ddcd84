/*
 * tiersync evidence: add files to a case, list them, get them back.
 */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "tiersync.h"

static void print_item_json(const ts_evidence_info *e)
{
	fputs("{\"id\":", stdout);
	ts_json_str(stdout, e->id);
	fputs(",\"case_id\":", stdout);
	ts_json_str(stdout, e->case_id);
	fputs(",\"kind\":", stdout);
	ts_json_str(stdout, e->kind);
	fputs(",\"sha256\":", stdout);
	ts_json_str(stdout, e->sha256);
	printf(",\"size\":%lld,\"media_type\":", (long long)e->size);
	ts_json_str(stdout, e->media_type);
	fputs(",\"captured_by\":", stdout);
	ts_json_str(stdout, e->captured_by);
	fputs(",\"captured_at\":", stdout);
	ts_json_str(stdout, e->captured_at);
	if (e->has_place)
		printf(",\"lng\":%.17g,\"lat\":%.17g", e->lng, e->lat);
	else
		fputs(",\"lng\":null,\"lat\":null", stdout);
	fputs(",\"note\":", stdout);
	ts_json_str_or_null(stdout, e->note);
	printf(",\"stored\":%s}", e->stored ? "true" : "false");
}

typedef struct {
	int json;
	int n;
} lister;

static int list_one(const ts_evidence_info *e, void *payload)
{
	lister *l = payload;
	if (l->json) {
		putchar(l->n ? ',' : '[');
		print_item_json(e);
	} else {
		printf("%s  %s  %-8s %12lld  %-16s %s  %s", e->sha256, e->id, e->kind, (long long)e->size,
			e->media_type, e->captured_at, e->captured_by);
		if (e->has_place)
			printf("  @%.6f,%.6f", e->lng, e->lat);
		if (!e->stored)
			fputs("  (content missing)", stdout);
		if (e->note)
			printf("  %s", e->note);
		putchar('\n');
	}
	l->n++;
	return 0;
}

static int parse_degrees(double *out, const char *s)
{
	char *end;
	*out = strtod(s, &end);
	return *s && !*end ? 0 : -1;
}

int cmd_evidence(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kind", required_argument, NULL, 'k' },
		{ "media-type", required_argument, NULL, 't' },
		{ "lng", required_argument, NULL, 'x' },
		{ "lat", required_argument, NULL, 'y' },
		{ "note", required_argument, NULL, 'N' },
		{ "author", required_argument, NULL, 'a' },
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ 0, 0, 0, 0 }
	};
	ts_evidence_options eo;
	const char *author = NULL, *output = NULL, *lng = NULL, *lat = NULL, *verb;
	char sha[65], *id = NULL;
	int c, i, help = 0, json = 0;

	memset(&eo, 0, sizeof(eo));
	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && !strcmp(argv[1], "--help")) {
			ts_cli_help(cli->cmd, stdout);
			return 0;
		}
		return ts_cli_usage(cli, "name a verb: add, list or get");
	}
	verb = argv[1];
	argc--;
	argv++;
	/* -o FILE, as the usage shows it, is --output FILE (but not the value
	 * of another option, e.g. --note -o) */
	for (i = 1; i < argc; i++) {
		const struct option *o;
		if (!strcmp(argv[i], "-o")) {
			argv[i] = "--output";
			i++;
			continue;
		}
		for (o = opts; o->name && strncmp(argv[i], "--", 2) == 0; o++)
			if (o->has_arg == required_argument && !strcmp(argv[i] + 2, o->name)) {
				i++;
				break;
			}
	}
	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'k': eo.kind = optarg; break;
		case 't': eo.media_type = optarg; break;
		case 'x': lng = optarg; break;
		case 'y': lat = optarg; break;
		case 'N': eo.note = optarg; break;
		case 'a': author = optarg; break;
		case 'o': output = optarg; break;
		case 'j': json = 1; break;
		default: return 2;
		}
	}
	if (help) {
		ts_cli_help(cli->cmd, stdout);
		return 0;
	}
	if (!strcmp(verb, "add")) {
		if (optind != argc - 2)
			return ts_cli_usage(cli, "evidence add takes a case id and one file");
		if (!lng != !lat)
			return ts_cli_usage(cli, "give both --lng and --lat, or neither");
		if (lng) {
			if (parse_degrees(&eo.lng, lng) < 0 || parse_degrees(&eo.lat, lat) < 0)
				return ts_cli_usage(cli, "--lng and --lat take numbers (degrees)");
			eo.has_place = 1;
		}
		if (ts_evidence_add(&id, sha, cli->node, ts_cli_author(cli, author), argv[optind],
				argv[optind + 1], &eo) < 0)
			return ts_cli_fail(cli);
		if (json)
			printf("{\"id\":\"%s\",\"sha256\":\"%s\",\"staged\":true}\n", id, sha);
		else
			printf("%s  %s (staged)\n", sha, id);
		free(id);
		return 0;
	}
	if (!strcmp(verb, "list")) {
		lister l = { json, 0 };
		if (optind != argc - 1)
			return ts_cli_usage(cli, "name one case id");
		if (ts_evidence_list(cli->node, argv[optind], list_one, &l) < 0) {
			if (l.n)
				putchar('\n');
			return ts_cli_fail(cli);
		}
		if (json)
			puts(l.n ? "]" : "[]");
		return 0;
	}
	if (!strcmp(verb, "get")) {
		if (optind != argc - 2)
			return ts_cli_usage(cli, "evidence get takes a case id and a SHA-256");
		if (!output)
			return ts_cli_usage(cli, "name the file to write with -o FILE");
		if (ts_evidence_get(sha, cli->node, argv[optind], argv[optind + 1], output) < 0)
			return ts_cli_fail(cli);
		if (json)
			printf("{\"sha256\":\"%s\",\"output\":", sha);
		if (json) {
			ts_json_str(stdout, output);
			puts("}");
		} else
			printf("%s  %s\n", sha, output);
		return 0;
	}
	return ts_cli_usage(cli, "unknown verb '%s': add, list or get", verb);
}
