/*
 * tiersync bundle: a sync carried on a USB stick. `create` writes what the
 * other side lacks as a git bundle (or, with --compact, as each commit's
 * changes), `import` takes either in and merges it.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

static const ts_cli_verb verbs[] = {
	{ "create", "fscj" },
	{ "import", "aj" },
};

static void print_info_json(const ts_bundle_info *b)
{
	printf("{\"ref\":");
	ts_json_str(stdout, b->ref);
	ts_cli_json_member("commit", b->commit);
	ts_cli_json_member("urgent", b->urgent[0] ? b->urgent : NULL);
	printf(",\"prerequisites\":%zu,\"objects\":%zu,\"bytes\":%llu}", b->prerequisites, b->objects,
		(unsigned long long)b->bytes);
}

static int bundle_create(ts_cli *cli, const char *file, const char *for_node, const char *since, int compact,
	int json)
{
	ts_bundle_options o = TS_BUNDLE_OPTIONS_INIT;
	ts_bundle_info b;

	o.for_node = for_node;
	o.since = since;
	o.compact = compact;
	if (ts_bundle_create(&b, cli->node, file, &o) < 0) {
		if (!for_node && !since)
			return ts_cli_fail_hint(cli, TS_EINVALID, "name the node below it with --for NODE");
		return ts_cli_fail(cli);
	}
	if (json) {
		printf("{\"file\":");
		ts_json_str(stdout, file);
		printf(",\"bundle\":");
		print_info_json(&b);
		printf(",\"urgent_reports\":%zu}\n", b.urgent_reports);
		return 0;
	}
	if (b.urgent[0])
		printf("%s: %zu urgent report%s first: refs/urgent/%s %.12s\n", file, b.urgent_reports,
			b.urgent_reports == 1 ? "" : "s", b.from, b.urgent);
	printf("%s: %s %.12s, %zu %s, %llu bytes, %s\n", file, b.ref, b.commit, b.objects,
		compact ? "commits and changes" : "objects", (unsigned long long)b.bytes,
		b.prerequisites ? "builds on 1 commit" : "the whole history");
	return 0;
}

static int bundle_import(ts_cli *cli, const char *file, const char *author, int json)
{
	ts_bundle_options o = TS_BUNDLE_OPTIONS_INIT;
	ts_bundle_import_result r;
	const ts_node_merge_stats *s = &r.merge;
	const char *result;

	if (isatty(STDERR_FILENO)) {
		o.progress = ts_cli_transfer_progress;
		o.payload = (void *)"bundle import";
	}
	ts_cli_merge_progress_setup(cli->node, "bundle import");
	if (ts_bundle_import(&r, cli->node, file, author, &o) < 0)
		return ts_cli_fail(cli);
	result = r.nothing_new ? "nothing new" : ts_merge_result_name(s->result);
	if (json) {
		printf("{\"file\":");
		ts_json_str(stdout, file);
		printf(",\"bundle\":");
		print_info_json(&r.bundle);
		printf(",\"kind\":\"%s\"", r.submission ? "submission" : "update");
		ts_cli_json_member("from", r.submission ? r.bundle.from : NULL);
		printf(",\"nothing_new\":%s", r.nothing_new ? "true" : "false");
		printf(",\"urgent_merged\":%s", r.urgent_merged ? "true" : "false");
		ts_cli_json_member("result", result);
		ts_cli_json_member("head", r.head);
		printf(",\"rows_written\":%zu,\"rows_deleted\":%zu,\"conflicts\":%zu,\"settled\":%zu}\n",
			s->rows_written, s->rows_deleted, s->conflicts + s->constraint_conflicts, s->settled);
		return 0;
	}
	if (r.submission)
		printf("bundle %s: submission of %s", file, r.bundle.from);
	else
		printf("bundle %s: update from above", file);
	if (r.nothing_new) {
		printf(": nothing new, head %.12s\n", r.head);
		return 0;
	}
	if (r.urgent_merged)
		printf(", urgent reports first (%.12s: %s)", r.bundle.urgent, ts_merge_result_name(r.urgent_merge.result));
	printf(": %s, head %.12s, %zu rows written, %zu deleted", result, r.head, s->rows_written, s->rows_deleted);
	if (s->conflicts + s->constraint_conflicts)
		printf(", %zu conflicts (%zu settled by policy; see 'tiersync conflicts')",
			s->conflicts + s->constraint_conflicts, s->settled);
	putchar('\n');
	return 0;
}

int cmd_bundle(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "for", required_argument, NULL, 'f' },
		{ "since", required_argument, NULL, 's' },
		{ "compact", no_argument, NULL, 'c' },
		{ "author", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ 0, 0, 0, 0 }
	};
	const ts_cli_verb *verb;
	const char *for_node = NULL, *since = NULL, *author = NULL, *file;
	int c, help = 0, json = 0, compact = 0;

	if (argc < 2 || argv[1][0] == '-')
		return ts_cli_usage(cli, "name a verb: create or import");
	if (!(verb = ts_cli_verb_find(verbs, sizeof(verbs) / sizeof(verbs[0]), argv[1])))
		return ts_cli_usage(cli, "unknown verb '%s': create or import", argv[1]);
	argc--;
	argv++;
	while ((c = ts_cli_verb_getopt(cli, verb, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'f': for_node = optarg; break;
		case 's': since = optarg; break;
		case 'c': compact = 1; break;
		case 'a': author = optarg; break;
		case 'j': json = 1; break;
		default: return 2;
		}
	}
	if (help)
		return 0;
	if (optind >= argc)
		return ts_cli_usage(cli, "name the bundle file");
	file = argv[optind++];
	if (optind != argc)
		return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
	if (!strcmp(verb->verb, "create"))
		return bundle_create(cli, file, for_node, since, compact, json);
	return bundle_import(cli, file, ts_cli_merge_author(cli, author), json);
}
