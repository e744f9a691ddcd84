/*
 * tiersync supervise: supervision items (督办): issue down, answer up,
 * close, list with their three-level feedback.
 */
#include <stdlib.h>
#include <string.h>

#include "commands.h"

typedef struct {
	int json;
	size_t n;
} item_out;

static void print_item_json(const ts_supervise_info *i, int first)
{
	size_t k;

	fputs(first ? "[{\"id\":" : ",{\"id\":", stdout);
	ts_json_str_or_null(stdout, i->id);
	ts_cli_json_member("status", i->status);
	ts_cli_json_member("level", i->level);
	ts_cli_json_member("issued_by_node", i->issued_by_node);
	ts_cli_json_member("issuer", i->issuer);
	ts_cli_json_member("target_node", i->target_node);
	ts_cli_json_member("case_id", i->case_id);
	ts_cli_json_member("subject", i->subject);
	ts_cli_json_member("detail", i->detail);
	ts_cli_json_member("issued_at", i->issued_at);
	ts_cli_json_member("due_at", i->due_at);
	ts_cli_json_member("closed_at", i->closed_at);
	printf(",\"overdue\":%s,\"feedback\":[", i->overdue ? "true" : "false");
	for (k = 0; k < i->nfeedback; k++) {
		const ts_supervise_feedback *f = &i->feedback[k];
		fputs(k ? ",{\"level\":" : "{\"level\":", stdout);
		ts_json_str_or_null(stdout, f->level);
		ts_cli_json_member("node", f->node);
		ts_cli_json_member("at", f->at);
		ts_cli_json_member("author", f->author);
		ts_cli_json_member("text", f->text);
		putchar('}');
	}
	fputs("]}", stdout);
}

static void print_item_text(const ts_supervise_info *i)
{
	size_t k;

	printf("%s  %-8s %s -> %s  %s\n", i->id, i->status, i->issued_by_node, i->target_node, i->subject);
	printf("    issued %.16s by %s", i->issued_at, i->issuer ? i->issuer : "-");
	if (i->due_at)
		printf(", due %.16s", i->due_at);
	if (i->case_id)
		printf(", case %s", i->case_id);
	if (i->closed_at)
		printf(", closed %.16s", i->closed_at);
	if (i->overdue)
		fputs(", OVERDUE", stdout);
	putchar('\n');
	for (k = 0; k < i->nfeedback; k++)
		printf("    %-8s %s %.16s %s: %s\n", i->feedback[k].level, i->feedback[k].node, i->feedback[k].at,
			i->feedback[k].author, i->feedback[k].text);
}

static int print_item(const ts_supervise_info *i, void *payload)
{
	item_out *out = payload;

	if (out->json)
		print_item_json(i, out->n == 0);
	else
		print_item_text(i);
	out->n++;
	return 0;
}

static int supervise_list(ts_cli *cli, int open_only, int json)
{
	ts_supervise_filter filter = TS_SUPERVISE_FILTER_INIT;
	item_out out = { json, 0 };

	filter.open_only = open_only;
	if (ts_supervise_list(cli->node, &filter, print_item, &out) < 0)
		return ts_cli_fail(cli);
	if (json)
		puts(out.n ? "]" : "[]");
	else if (out.n == 0)
		printf("no %ssupervision items\n", open_only ? "open " : "");
	return 0;
}

int cmd_supervise(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "subject", required_argument, NULL, 's' },
		{ "detail", required_argument, NULL, 'd' },
		{ "case", required_argument, NULL, 'c' },
		{ "due", required_argument, NULL, 'D' },
		{ "text", required_argument, NULL, 'x' },
		{ "author", required_argument, NULL, 'a' },
		{ "open", no_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ 0, 0, 0, 0 }
	};
	ts_supervise_options o;
	const char *author = NULL, *text = NULL, *verb;
	int c, help = 0, json = 0, open_only = 0;
	char *id = NULL, due[32];

	memset(&o, 0, sizeof(o));
	if (argc < 2 || argv[1][0] == '-')
		return ts_cli_usage(cli, "name a verb: issue, answer, close or list");
	verb = argv[1];
	argc--;
	argv++;
	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 't': o.target = optarg; break;
		case 's': o.subject = optarg; break;
		case 'd': o.detail = optarg; break;
		case 'c': o.case_id = optarg; break;
		case 'D': o.due = optarg; break;
		case 'x': text = optarg; break;
		case 'a': author = optarg; break;
		case 'o': open_only = 1; break;
		case 'j': json = 1; break;
		default: return 2;
		}
	}
	if (!strcmp(verb, "issue")) {
		if (optind != argc)
			return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
		if (!o.target || !o.subject)
			return ts_cli_usage(cli, "an item needs --to NODE and --subject S");
		/* a date that is not one, named by its flag */
		if (o.due && ts_time_parse(due, o.due, 1, "--due") < 0)
			return ts_cli_fail(cli);
		if (ts_supervise_issue(&id, cli->node, ts_cli_author(cli, author), &o) < 0)
			return ts_cli_fail(cli);
		ts_cli_staged(json, id, NULL);
		free(id);
		return 0;
	}
	if (!strcmp(verb, "answer")) {
		if (optind != argc - 1)
			return ts_cli_usage(cli, "name one supervision item");
		if (!text || !*text)
			return ts_cli_usage(cli, "an answer needs --text TEXT: what was done");
		if (ts_supervise_answer(&id, cli->node, ts_cli_author(cli, author), argv[optind], text) < 0)
			return ts_cli_fail(cli);
		if (json) {
			printf("{\"id\":\"%s\",\"item\":", id);
			ts_json_str(stdout, argv[optind]);
			puts(",\"staged\":true}");
		} else
			printf("%s\n", id);
		free(id);
		return 0;
	}
	if (!strcmp(verb, "close")) {
		if (optind != argc - 1)
			return ts_cli_usage(cli, "name one supervision item");
		if (ts_supervise_close(cli->node, ts_cli_author(cli, author), argv[optind]) < 0)
			return ts_cli_fail(cli);
		if (json) {
			fputs("{\"id\":", stdout);
			ts_json_str(stdout, argv[optind]);
			puts(",\"status\":\"closed\",\"staged\":true}");
		} else
			printf("closed %s (staged)\n", argv[optind]);
		return 0;
	}
	if (!strcmp(verb, "list")) {
		if (optind != argc)
			return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
		return supervise_list(cli, open_only, json);
	}
	return ts_cli_usage(cli, "unknown verb '%s': issue, answer, close or list", verb);
}
