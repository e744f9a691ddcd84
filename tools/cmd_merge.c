/*
 * tiersync merge: bring other nodes' work into this node's main. Also the
 * progress line that every command merging at a node shares (merge, pull,
 * sync, bundle import).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "commands.h"

/* Seconds a phase runs before its line appears, as git's GIT_PROGRESS_DELAY:
 * TIERSYNC_PROGRESS_DELAY, else 1, so that a small merge prints nothing. */
static double progress_delay(void)
{
	const char *s = getenv("TIERSYNC_PROGRESS_DELAY");
	char *end;
	double d;

	if (!s || !*s)
		return 1.0;
	d = strtod(s, &end);
	return *end || d < 0 ? 1.0 : d;
}

void ts_cli_merge_progress(const ts_progress *p, void *label)
{
	static int shown;

	if (p->current == 0 && !p->done)
		shown = 0;   /* a phase begins */
	if (!shown && p->seconds < progress_delay())
		return;
	shown = !p->done;
	fprintf(stderr, "\r%s: %s: %zu", (const char *)label, p->phase, p->current);
	if (p->total)
		fprintf(stderr, "/%zu rows (%d%%)", p->total, (int)(p->current * 100 / p->total));
	else
		fputs(" rows", stderr);
	/* clear what a longer earlier line left, then end the line when done */
	fputs(p->done ? ", done\033[K\n" : "\033[K", stderr);
	fflush(stderr);
}

void ts_cli_merge_progress_setup(ts_node *node, const char *label)
{
	static char copy[128];

	if (!isatty(STDERR_FILENO))
		return;
	snprintf(copy, sizeof(copy), "%s", label);
	ts_node_set_progress(node, ts_cli_merge_progress, copy);
}

static void print_result(const char *who, const char *commit, const ts_node_merge_stats *s, int json, int first,
	int urgent)
{
	if (json) {
		printf("%s{\"node\":", first ? "" : ",");
		ts_json_str(stdout, who);
		if (urgent)
			fputs(",\"urgent\":true", stdout);
		printf(",\"result\":\"%s\",\"commit\":\"%s\",\"rows_written\":%zu,\"rows_deleted\":%zu,"
			"\"conflicts\":%zu,\"settled\":%zu,\"constraint_conflicts\":%zu}",
			ts_merge_result_name(s->result), commit, s->rows_written, s->rows_deleted, s->conflicts,
			s->settled, s->constraint_conflicts);
		return;
	}
	printf("%-24s %-12s %.12s  %zu rows written, %zu deleted", who, ts_merge_result_name(s->result), commit,
		s->rows_written, s->rows_deleted);
	if (s->conflicts || s->constraint_conflicts)
		printf(", %zu conflict%s (%zu settled by policy)", s->conflicts + s->constraint_conflicts,
			s->conflicts + s->constraint_conflicts == 1 ? "" : "s", s->settled);
	putchar('\n');
}

typedef struct {
	int json, n, failed;
} merge_out;

static int print_submission(const ts_submission_result *r, void *payload)
{
	merge_out *o = payload;
	char who[160];

	snprintf(who, sizeof(who), "%s%s", r->node, r->urgent && !o->json ? " (urgent)" : "");
	if (r->error < 0) {
		o->failed++;
		if (o->json) {
			printf("%s{\"node\":", o->n ? "," : "");
			ts_json_str(stdout, r->node);
			printf(",\"urgent\":%s,\"error\":", r->urgent ? "true" : "false");
			ts_json_str_or_null(stdout, r->message);
			putchar('}');
		} else
			fprintf(stderr, "tiersync: %s of %s not merged: %s\n", r->urgent ? "urgent reports" : "submission",
				r->node, r->message);
	} else
		print_result(who, r->commit, &r->stats, o->json, o->n == 0, r->urgent);
	o->n++;
	return 0;
}

int cmd_merge(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "submissions", no_argument, NULL, 's' },
		{ "author", required_argument, NULL, 'a' },
		{ "message", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ 0, 0, 0, 0 }
	};
	const char *author = NULL, *message = NULL;
	merge_out o = { 0, 0, 0 };
	int c, help = 0, submissions = 0;

	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 's': submissions = 1; break;
		case 'a': author = optarg; break;
		case 'm': message = optarg; break;
		case 'j': o.json = 1; break;
		default: return 2;
		}
	}
	/* merges are the node's own unless someone is named */
	author = ts_cli_merge_author(cli, author);
	ts_cli_merge_progress_setup(cli->node, "merge");
	if (submissions) {
		if (optind != argc)
			return ts_cli_usage(cli, "--submissions takes no revision");
		if (o.json)
			putchar('[');
		ts_node_merge_submissions(cli->node, author, print_submission, &o);
		if (o.json)
			puts("]");
		else if (o.n == 0)
			printf("no submissions to merge\n");
		return o.failed ? 1 : 0;
	}
	if (optind != argc - 1)
		return ts_cli_usage(cli, "name one revision to merge, or --submissions");
	{
		ts_node_merge_stats stats;
		char id[41], *line = NULL;
		int rc;
		/* -m is one line of the commit message; without it the library's
		 * default, "merge REV" */
		if (message && asprintf(&line, "%s\n", message) < 0) {
			ts_error_set(TS_ERROR, "out of memory");
			return ts_cli_fail(cli);
		}
		rc = ts_node_merge(id, &stats, cli->node, argv[optind], author, line);
		free(line);
		if (rc < 0)
			return ts_cli_fail(cli);
		if (o.json)
			putchar('[');
		print_result(argv[optind], id, &stats, o.json, 1, 0);
		if (o.json)
			puts("]");
	}
	return 0;
}
