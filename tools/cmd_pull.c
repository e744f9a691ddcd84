/*
 * tiersync pull: fetch the upper node's main and merge it into this node's.
 * tiersync sync: pull, then push, retrying with backoff while the link fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

typedef struct {
	const char *remote;
	const char *author;
	ts_transfer_options transfer;
	int json;
} pull_options;

static int parse(ts_cli *cli, int argc, char **argv, pull_options *p, int *retries)
{
	static const struct option opts[] = {
		{ "author", required_argument, NULL, 'a' },
		{ "timeout", required_argument, NULL, 't' },
		{ "retries", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ 0, 0, 0, 0 }
	};
	char label[128];
	int c, help = 0;

	memset(p, 0, sizeof(*p));
	p->remote = TS_REMOTE_DEFAULT;
	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'a': p->author = optarg; break;
		case 'j': p->json = 1; break;
		case 't': if (ts_cli_timeout(cli, optarg, &p->transfer.timeout_ms)) return 2; break;
		case 'r':
			if (!retries || (*retries = atoi(optarg)) < 0 || *retries > 20)
				return ts_cli_usage(cli, "--retries takes a number from 0 to 20");
			break;
		default: return 2;
		}
	}
	if (optind < argc)
		p->remote = argv[optind++];
	if (optind != argc)
		return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
	/* merges made by a pull are the node's unless someone is named */
	p->author = ts_cli_merge_author(cli, p->author);
	ts_cli_transfer_setup(&p->transfer, cli->cmd->name, p->remote);
	snprintf(label, sizeof(label), "%s %s", cli->cmd->name, p->remote);
	ts_cli_merge_progress_setup(cli->node, label);
	return 0;
}

typedef struct {
	const char *name;
	int nothing_new;
} remote_lack;

static int remote_lack_cb(const ts_remote_status *r, void *payload)
{
	remote_lack *l = payload;

	if (strcmp(r->name, l->name))
		return 0;
	l->nothing_new = r->fetched && r->to_take == 0;
	return 1;
}

/* 1 when the remote's main as just fetched holds no commit this node's
 * main lacks. */
static int remote_has_nothing_new(ts_node *node, const char *remote)
{
	remote_lack l = { remote, 0 };

	if (ts_node_remote_status(node, remote_lack_cb, &l) < 0)
		return 0;
	return l.nothing_new;
}

int ts_cli_pull(char head[41], ts_node_merge_stats *stats, ts_node *node, const char *remote, const char *author,
	const ts_transfer_options *transfer, int only_new)
{
	ts_transfer_stats fetched;
	char id[41], *ref = NULL, *msg = NULL;
	int error;

	if ((error = ts_node_fetch(id, &fetched, node, remote, transfer)) < 0)
		return error;
	if (only_new && remote_has_nothing_new(node, remote)) {
		memset(stats, 0, sizeof(*stats));
		stats->result = TS_MERGE_UP_TO_DATE;
		return ts_node_head(head, node);
	}
	if (asprintf(&ref, "refs/remotes/%s/main", remote) < 0)
		ref = NULL;
	if (asprintf(&msg, "merge %s's main (pull)\n", remote) < 0)
		msg = NULL;
	if (!ref || !msg)
		error = ts_error_set(TS_ERROR, "out of memory");
	else
		error = ts_node_merge(head, stats, node, ref, author, msg);
	free(ref);
	free(msg);
	return error;
}

/* Fetches and merges; fills *stats and the new head. */
static int pull(char head[41], ts_node_merge_stats *stats, ts_cli *cli, const pull_options *p)
{
	return ts_cli_pull(head, stats, cli->node, p->remote, p->author, &p->transfer, 0);
}

static void report_pull(const pull_options *p, const char *head, const ts_node_merge_stats *s)
{
	if (p->json)
		printf("\"pull\":{\"result\":\"%s\",\"head\":\"%s\",\"rows_written\":%zu,\"rows_deleted\":%zu,"
			"\"conflicts\":%zu,\"settled\":%zu}", ts_merge_result_name(s->result), head, s->rows_written,
			s->rows_deleted, s->conflicts + s->constraint_conflicts, s->settled);
	else {
		printf("pull %s: %s, head %.12s, %zu rows written, %zu deleted", p->remote,
			ts_merge_result_name(s->result), head, s->rows_written, s->rows_deleted);
		if (s->conflicts + s->constraint_conflicts)
			printf(", %zu conflicts (%zu settled by policy; see 'tiersync conflicts')",
				s->conflicts + s->constraint_conflicts, s->settled);
		putchar('\n');
	}
}

int cmd_pull(ts_cli *cli, int argc, char **argv)
{
	pull_options p;
	ts_node_merge_stats stats;
	char head[41];
	int rc;

	if ((rc = parse(cli, argc, argv, &p, NULL)) != 0)
		return rc;
	if (pull(head, &stats, cli, &p) < 0)
		return ts_cli_fail_remote(cli, p.remote);
	if (p.json)
		putchar('{');
	report_pull(&p, head, &stats);
	if (p.json)
		puts("}");
	return 0;
}

int cmd_sync(ts_cli *cli, int argc, char **argv)
{
	pull_options p;
	ts_node_merge_stats stats;
	ts_transfer_stats pushed;
	char head[41], sent[41];
	int retries = 3, attempt, rc, delay = 1;

	if ((rc = parse(cli, argc, argv, &p, &retries)) != 0)
		return rc;
	for (attempt = 0;; attempt++) {
		rc = pull(head, &stats, cli, &p);
		if (rc == 0)
			rc = ts_node_push(sent, &pushed, cli->node, p.remote, &p.transfer);
		if (rc != TS_ENET || attempt >= retries)
			break;
		/* the link failed: wait and try again, longer each time */
		fprintf(stderr, "tiersync: %s; retrying in %d s (%d of %d)\n", ts_error_last(), delay,
			attempt + 1, retries);
		sleep((unsigned)delay);
		delay *= 2;
	}
	if (rc < 0)
		return ts_cli_fail_remote(cli, p.remote);
	if (p.json) {
		putchar('{');
		report_pull(&p, head, &stats);
		printf(",\"push\":{\"commit\":\"%s\",\"updated\":%s}}\n", sent, pushed.updated ? "true" : "false");
	} else {
		report_pull(&p, head, &stats);
		printf("push %s: %s %.12s\n", p.remote, pushed.updated ? "sent" : "already there", sent);
	}
	return 0;
}
