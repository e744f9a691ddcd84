/*
 * tiersync urgent: urgent information reports (信息报送): record one (and
 * commit it, so that the next push sends it ahead of any backlog), list
 * them, and take one in at a node above the reporting unit.
 */
#include <stdlib.h>
#include <string.h>

#include "commands.h"

typedef struct {
	int json;
	size_t n;
} report_out;

static int print_report(const ts_urgent_info *r, void *payload)
{
	report_out *out = payload;

	if (out->json) {
		fputs(out->n ? ",{\"id\":" : "[{\"id\":", stdout);
		ts_json_str_or_null(stdout, r->id);
		ts_cli_json_member("status", r->received_at ? "received" : "pending");
		ts_cli_json_member("jurisdiction", r->jurisdiction);
		ts_cli_json_member("case_id", r->case_id);
		ts_cli_json_member("subject", r->subject);
		ts_cli_json_member("detail", r->detail);
		ts_cli_json_member("occurred_at", r->occurred_at);
		ts_cli_json_member("reported_at", r->reported_at);
		ts_cli_json_member("reporter", r->reporter);
		ts_cli_json_member("node", r->node);
		ts_cli_json_member("received_at", r->received_at);
		ts_cli_json_member("received_by", r->received_by);
		putchar('}');
	} else {
		printf("%s  %-8s %s  %s\n", r->id, r->received_at ? "received" : "pending", r->jurisdiction,
			r->subject);
		printf("    occurred %.16s, reported %.16s by %s at %s", r->occurred_at, r->reported_at, r->reporter,
			r->node);
		if (r->case_id)
			printf(", case %s", r->case_id);
		if (r->received_at)
			printf(", received %.16s by %s", r->received_at, r->received_by ? r->received_by : "?");
		putchar('\n');
		if (r->detail)
			printf("    %s\n", r->detail);
	}
	out->n++;
	return 0;
}

int cmd_urgent(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "subject", required_argument, NULL, 's' },
		{ "detail", required_argument, NULL, 'd' },
		{ "case", required_argument, NULL, 'c' },
		{ "occurred-at", required_argument, NULL, 'o' },
		{ "author", required_argument, NULL, 'a' },
		{ "pending", no_argument, NULL, 'p' },
		{ "received", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ 0, 0, 0, 0 }
	};
	ts_urgent_options o;
	const char *author = NULL, *verb;
	int c, help = 0, json = 0, pending = 0, received = 0;
	char *id = NULL, when[32], commit[41], message[1024];

	memset(&o, 0, sizeof(o));
	if (argc < 2 || argv[1][0] == '-')
		return ts_cli_usage(cli, "name a verb: new, list or receive");
	verb = argv[1];
	argc--;
	argv++;
	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 's': o.subject = optarg; break;
		case 'd': o.detail = optarg; break;
		case 'c': o.case_id = optarg; break;
		case 'o': o.occurred_at = optarg; break;
		case 'a': author = optarg; break;
		case 'p': pending = 1; break;
		case 'r': received = 1; break;
		case 'j': json = 1; break;
		default: return 2;
		}
	}
	if (!strcmp(verb, "new")) {
		if (optind != argc)
			return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
		if (!o.subject || !*o.subject)
			return ts_cli_usage(cli, "an urgent report needs --subject S");
		if (pending || received)
			return ts_cli_usage(cli, "--pending and --received are for list");
		/* a time that is not one, named by its flag */
		if (o.occurred_at && ts_time_parse(when, o.occurred_at, 0, "--occurred-at") < 0)
			return ts_cli_fail(cli);
		author = ts_cli_author(cli, author);
		if (strpbrk(o.subject, "\r\n"))
			return ts_cli_usage(cli, "--subject is one line");
		if (ts_urgent_create(&id, cli->node, author, &o) < 0)
			return ts_cli_fail(cli);
		/* committed at once: the next push sends what is committed */
		snprintf(message, sizeof(message), "urgent report %s: %s", id, o.subject);
		if (ts_node_commit(commit, cli->node, message, NULL) < 0) {
			free(id);
			return ts_cli_fail(cli);
		}
		if (json) {
			fputs("{\"id\":", stdout);
			ts_json_str(stdout, id);
			printf(",\"commit\":\"%s\"}\n", commit);
		} else
			printf("%s\n", id);
		free(id);
		return 0;
	}
	if (!strcmp(verb, "list")) {
		ts_urgent_filter filter = TS_URGENT_FILTER_INIT;
		report_out out = { json, 0 };
		if (optind != argc)
			return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
		if (pending && received)
			return ts_cli_usage(cli, "--pending or --received, not both");
		filter.pending_only = pending;
		filter.received_only = received;
		if (ts_urgent_list(cli->node, &filter, print_report, &out) < 0)
			return ts_cli_fail(cli);
		if (json)
			puts(out.n ? "]" : "[]");
		else if (out.n == 0)
			printf("no %surgent reports\n", pending ? "pending " : received ? "received " : "");
		return 0;
	}
	if (!strcmp(verb, "receive")) {
		if (optind != argc - 1)
			return ts_cli_usage(cli, "name one urgent report");
		if (o.subject || o.detail || o.case_id || o.occurred_at || pending || received)
			return ts_cli_usage(cli, "receive takes a report's id, --author and --json only");
		if (ts_urgent_receive(cli->node, ts_cli_author(cli, author), argv[optind]) < 0)
			return ts_cli_fail(cli);
		if (json) {
			fputs("{\"id\":", stdout);
			ts_json_str(stdout, argv[optind]);
			puts(",\"status\":\"received\",\"staged\":true}");
		} else
			printf("received %s (staged)\n", argv[optind]);
		return 0;
	}
	return ts_cli_usage(cli, "unknown verb '%s': new, list or receive", verb);
}
