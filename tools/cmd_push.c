/*
 * tiersync push: send this node's main to the upper node, where it waits
 * as refs/submissions/<this node's id> to be merged. Also the progress line
 * that push and fetch share.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

/* "1.2 MiB" and the like. */
static void human(char out[32], double bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (bytes >= 1024 && u < 4) {
		bytes /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, 32, "%.0f %s", bytes, units[u]);
	else
		snprintf(out, 32, "%.1f %s", bytes, units[u]);
}

void ts_cli_transfer_progress(const ts_transfer_stats *s, void *label)
{
	char bytes[32], rate[32];

	if (s->commits)
		fprintf(stderr, "\r%s: %zu commit%s", (const char *)label, s->commits, s->commits == 1 ? "" : "s");
	else if (s->total_objects)
		fprintf(stderr, "\r%s: %zu/%zu objects", (const char *)label, s->objects, s->total_objects);
	else
		fprintf(stderr, "\r%s: %zu objects", (const char *)label, s->objects);
	if (s->bytes) {
		human(bytes, (double)s->bytes);
		human(rate, s->seconds > 0 ? (double)s->bytes / s->seconds : 0);
		fprintf(stderr, ", %s, %s/s", bytes, rate);
	}
	/* clear what a longer earlier line left, then end the line when done */
	fputs(s->done ? "\033[K\n" : "\033[K", stderr);
	fflush(stderr);
}

int ts_cli_timeout(ts_cli *cli, const char *seconds, int *ms_out)
{
	char *end;
	long n = strtol(seconds, &end, 10);

	if (!*seconds || *end || n < 1 || n > 3600)
		return ts_cli_usage(cli, "--timeout takes whole seconds, 1 to 3600");
	*ms_out = (int)n * 1000;
	return 0;
}

void ts_cli_transfer_setup(ts_transfer_options *o, const char *verb, const char *remote)
{
	static char label[128];

	o->version = TS_TRANSFER_OPTIONS_VERSION;
	/* a connection that drops is an error to report, not a signal to die of */
	signal(SIGPIPE, SIG_IGN);
	if (isatty(STDERR_FILENO)) {
		snprintf(label, sizeof(label), "%s %s", verb, remote);
		o->progress = ts_cli_transfer_progress;
		o->payload = label;
	}
}

int ts_cli_transfer_args(ts_cli *cli, int argc, char **argv, const char *verb, const char **remote,
	int *json, ts_transfer_options *o)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ 0, 0, 0, 0 }
	};
	int c, help = 0;

	memset(o, 0, sizeof(*o));
	*remote = TS_REMOTE_DEFAULT;
	*json = 0;
	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'j': *json = 1; break;
		case 't': if (ts_cli_timeout(cli, optarg, &o->timeout_ms)) return 2; break;
		default: return 2;
		}
	}
	if (optind < argc)
		*remote = argv[optind++];
	if (optind != argc)
		return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
	ts_cli_transfer_setup(o, verb, *remote);
	return 0;
}

/* What went ahead of main, as the JSON member "urgent". */
static void print_urgent_json(const ts_urgent_push_stats *u, const char *node_id)
{
	printf("\"urgent\":{\"reports\":%zu,\"commit\":", u->reports);
	ts_json_str_or_null(stdout, u->commit[0] ? u->commit : NULL);
	fputs(",\"parent\":", stdout);
	ts_json_str_or_null(stdout, u->parent[0] ? u->parent : NULL);
	printf(",\"ref\":\"refs/urgent/%s\",\"updated\":%s,\"objects\":%zu,\"bytes\":%llu,\"no_base\":%s}",
		node_id, u->updated ? "true" : "false", u->objects, (unsigned long long)u->bytes,
		u->no_base ? "true" : "false");
}

int cmd_push(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "urgent-only", no_argument, NULL, 'u' },
		{ 0, 0, 0, 0 }
	};
	ts_transfer_options o;
	ts_transfer_stats stats;
	ts_urgent_push_stats urgent;
	const char *remote = TS_REMOTE_DEFAULT, *node_id = ts_node_id(cli->node);
	char id[41], size[32];
	int c, help = 0, json = 0, urgent_only = 0;

	memset(&o, 0, sizeof(o));
	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 't': if (ts_cli_timeout(cli, optarg, &o.timeout_ms)) return 2; break;
		case 'u': urgent_only = 1; break;
		default: return 2;
		}
	}
	if (optind < argc)
		remote = argv[optind++];
	if (optind != argc)
		return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
	ts_cli_transfer_setup(&o, "push", remote);
	if (ts_node_push_urgent(id, &stats, &urgent, cli->node, remote, &o,
			urgent_only ? TS_PUSH_URGENT_ONLY : 0) < 0) {
		if (urgent_only && urgent.no_base)
			return ts_cli_fail_hint(cli, TS_ENOTFOUND, "run 'tiersync fetch %s' first", remote);
		return ts_cli_fail_remote(cli, remote);
	}
	if (json) {
		printf("{\"remote\":");
		ts_json_str(stdout, remote);
		putchar(',');
		print_urgent_json(&urgent, node_id);
		if (!urgent_only)
			printf(",\"ref\":\"refs/submissions/%s\",\"commit\":\"%s\",\"updated\":%s,"
				"\"commits\":%zu,\"objects\":%zu,\"bytes\":%llu", node_id, id, stats.updated ? "true" : "false",
				stats.commits, stats.objects, (unsigned long long)stats.bytes);
		puts("}");
		return 0;
	}
	if (urgent.commit[0])
		printf("%s %zu urgent report%s first: %.12s to %s as refs/urgent/%s (on %.12s)\n",
			urgent.updated ? "pushed" : "already there:", urgent.reports, urgent.reports == 1 ? "" : "s",
			urgent.commit, remote, node_id, urgent.parent);
	else if (urgent_only)
		printf("no urgent reports to send to %s\n", remote);
	if (urgent_only)
		return 0;
	human(size, (double)stats.bytes);
	if (stats.updated)
		printf("pushed main %.12s to %s as refs/submissions/%s (%zu %s%s%s)\n", id, remote,
			node_id, stats.commits ? stats.commits : stats.objects,
			stats.commits ? (stats.commits == 1 ? "commit" : "commits") : "objects",
			stats.bytes ? ", " : "", stats.bytes ? size : "");
	else
		printf("%s already has main %.12s as refs/submissions/%s\n", remote, id, node_id);
	return 0;
}
