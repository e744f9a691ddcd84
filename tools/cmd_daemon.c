/*
 * tiersync daemon: keeps a node in sync while nobody watches it. With an
 * upper node, every interval and soon after a local commit it pulls and
 * then pushes (as `tiersync sync` does, through ts_cli_pull()); with lower
 * nodes, it merges their submissions as they arrive (as `tiersync merge
 * --submissions` does). While the link is down it backs off; SIGTERM and
 * SIGINT stop it between transfers. One line per event, on stderr or to
 * syslog. The node is opened for each look and each round, never held
 * across a sleep, so that every other command keeps working.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"

#define BACKOFF_CAP 16          /* the longest wait: the interval times this */
#define BACKOFF_CAP_S (15 * 60) /* ...and never more than this, unless the interval is */
#define LOOK_MS 1000            /* how often the node's head and submissions are looked at */

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

/* Between the steps of a round, where the signals are held back: 1 when
 * one came, so that the next transfer is not started. The signal stays
 * pending (and is taken, harmlessly, at the next sleep). */
static int stop_asked(void)
{
	sigset_t pending;

	if (!stopping && sigpending(&pending) == 0 &&
	    (sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1))
		stopping = 1;
	return stopping;
}

typedef struct {
	const char *dir;
	const char *remote;
	const char *author;
	char node_id[128];
	int interval;            /* seconds */
	int use_syslog;
	int once;
	int upstream;            /* the node has the remote */
	ts_transfer_options transfer;

	/* the upper node */
	char synced_head[41];    /* the head after the last round that went through */
	int backoff;             /* the interval's multiple to wait: 1, 2, 4 ... */
	int failures;            /* rounds failed in a row */
	int link_down;           /* the last failure was the link's */
	char *last_refusal;      /* the last refusal logged, so that it is logged once */
	double next_sync;        /* when the next round is due (monotonic seconds) */

	/* the lower nodes */
	char *submissions_seen;  /* what waited after the last merge: "ID:COMMIT:URGENT;..." */
	char *failed_offers;     /* the offers that failed at the last merging, the same way */
} daemon_state;

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* One event: "TIME NODE WHAT" on stderr, or WHAT to syslog. */
static void say(const daemon_state *d, int priority, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(const daemon_state *d, int priority, const char *fmt, ...)
{
	char what[1024], when[32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (d->use_syslog) {
		syslog(priority, "%s %s", d->node_id, what);
		return;
	}
	ts_time_format(when, (int64_t)time(NULL));
	fprintf(stderr, "%s %s %s\n", when, d->node_id, what);
	fflush(stderr);
}

/* Sleeps until `until` (monotonic seconds) or a stop signal, whichever
 * comes first. SIGTERM and SIGINT are blocked everywhere else, so that a
 * transfer is never cut and a signal that came during one ends the next
 * sleep at once. */
static void sleep_until(double until, const sigset_t *open_mask)
{
	double left;
	struct timespec t;

	while (!stopping && (left = until - now_s()) > 0) {
		t.tv_sec = (time_t)left;
		t.tv_nsec = (long)((left - (double)t.tv_sec) * 1e9);
		if (ppoll(NULL, 0, &t, open_mask) < 0 && errno != EINTR)
			break;
	}
}

/* A transfer failed because the link did: the network, or a remote that
 * cannot be reached (a path that is not there now). Anything else is a
 * refusal that trying again soon will not change. */
static int link_failure(int code)
{
	return code == TS_ENET || code == TS_ENOTFOUND || code == TS_ERROR;
}

typedef struct {
	const char *name;
	int found;
} remote_find;

static int has_remote_cb(const ts_remote_info *r, void *payload)
{
	remote_find *f = payload;

	return f->found = !strcmp(r->name, f->name);
}

typedef struct {
	char *text;
	size_t len, cap;
	int n;
} sig_buf;

static int waiting_cb(const ts_submission_waiting *s, void *payload)
{
	sig_buf *b = payload;
	size_t need = strlen(s->node_id) + strlen(s->commit) + 8;
	char *grown;

	if (b->len + need + 1 > b->cap) {
		b->cap = (b->len + need + 1) * 2;
		if (!(grown = realloc(b->text, b->cap)))
			return ts_error_set(TS_ERROR, "out of memory");
		b->text = grown;
	}
	b->len += (size_t)snprintf(b->text + b->len, b->cap - b->len, "%s:%s:%d;", s->node_id, s->commit, s->urgent);
	b->n++;
	return 0;
}

/* What waits to be merged, as one string (malloc'd; "" when nothing), or
 * NULL when it cannot be read. */
static char *submissions_waiting(ts_node *node, int *count)
{
	sig_buf b = { NULL, 0, 0, 0 };

	if (ts_node_submissions_waiting(node, waiting_cb, &b) < 0) {
		free(b.text);
		return NULL;
	}
	*count = b.n;
	return b.text ? b.text : strdup("");
}

/* Replaces *slot with a copy of `text`; 1 when it differs from before. */
static int changed(char **slot, const char *text)
{
	if (*slot && text && !strcmp(*slot, text))
		return 0;
	free(*slot);
	*slot = text ? strdup(text) : NULL;
	return 1;
}

typedef struct {
	daemon_state *d;
	int failed;
	const char *before;      /* what waited before the merging, as submissions_waiting() */
	sig_buf failures;        /* the offers that failed now: ";ID:COMMIT:URGENT;..." */
} merge_log;

/* The entry "ID:COMMIT:URGENT;" of `node` in the list `waiting` (copied
 * to `out`), or "" when it is not there. */
static void offer_of(char *out, size_t size, const char *waiting, const char *node, int urgent)
{
	const char *p = waiting, *end;
	size_t n = strlen(node);
	char tail[8];

	out[0] = '\0';
	snprintf(tail, sizeof(tail), ":%d;", urgent);
	for (; p && *p; p = end + 1) {
		if (!(end = strchr(p, ';')))
			break;
		if (!strncmp(p, node, n) && p[n] == ':' && (size_t)(end + 1 - p) >= strlen(tail) &&
		    !strncmp(end + 1 - strlen(tail), tail, strlen(tail))) {
			snprintf(out, size, "%.*s", (int)(end + 1 - p), p);
			return;
		}
	}
}

static int merged_cb(const ts_submission_result *r, void *payload)
{
	merge_log *m = payload;
	const char *what = r->urgent ? "urgent reports of" : "submission";

	if (r->error < 0) {
		/* logged once per offer: the same commit failing again, when another
		 * node's submission brought the merging round, is no new event */
		char offer[300], *seen = m->d->failed_offers;
		m->failed++;
		offer_of(offer, sizeof(offer), m->before, r->node, r->urgent);
		if (!*offer || !seen || !strstr(seen, offer))
			say(m->d, LOG_WARNING, "%s %s not merged: %s", what, r->node, r->message ? r->message : "failed");
		if (*offer) {
			ts_submission_waiting w = { r->node, r->urgent, offer + strlen(r->node) + 1, 0 };
			/* the commit ends at its ':' */
			char commit[64];
			snprintf(commit, sizeof(commit), "%.*s", (int)strcspn(w.commit, ":"), w.commit);
			w.commit = commit;
			waiting_cb(&w, &m->failures);
		}
		return stop_asked();
	}
	/* merge --submissions takes up every ref; one already held is no event */
	if (r->stats.result == TS_MERGE_UP_TO_DATE)
		return stop_asked();
	say(m->d, LOG_INFO, "merged %s %s: %s, %zu rows written, %zu deleted%s", what, r->node,
		ts_merge_result_name(r->stats.result), r->stats.rows_written, r->stats.rows_deleted,
		r->stats.conflicts + r->stats.constraint_conflicts ? ", conflicts for review" : "");
	/* a stop asked for during a merge ends the merging after it */
	return stop_asked();
}

/* Merges what the lower nodes sent, when it changed since the last look. */
static int merge_submissions(daemon_state *d, ts_node *node)
{
	merge_log m = { d, 0, NULL, { NULL, 0, 0, 0 } };
	char *waiting;
	int n = 0;

	if (!(waiting = submissions_waiting(node, &n)))
		return ts_error_last_code();
	if (n == 0 || (d->submissions_seen && !strcmp(waiting, d->submissions_seen))) {
		changed(&d->submissions_seen, waiting);
		free(waiting);
		return 0;
	}
	m.before = waiting;
	ts_node_merge_submissions(node, d->author, merged_cb, &m);
	free(waiting);
	changed(&d->failed_offers, m.failures.text);
	free(m.failures.text);
	/* what still waits (the offers that failed) is not tried again until it moves */
	if ((waiting = submissions_waiting(node, &n))) {
		changed(&d->submissions_seen, waiting);
		free(waiting);
	}
	return m.failed ? TS_EDENIED : 0;
}

/* One round with the upper node: pull, then push. */
static int sync_upstream(daemon_state *d, ts_node *node)
{
	ts_node_merge_stats stats;
	ts_transfer_stats pushed;
	char head[41], sent[41];
	int error;
	double wait;

	if ((error = ts_cli_pull(head, &stats, node, d->remote, d->author, &d->transfer, 1)) == 0) {
		if (d->link_down)
			say(d, LOG_INFO, "link back: %s reached after %d failed tr%s", d->remote, d->failures,
				d->failures == 1 ? "y" : "ies");
		d->link_down = 0;
		if (stats.result != TS_MERGE_UP_TO_DATE)
			say(d, LOG_INFO, "pull %s: %s to %.8s, %zu rows written, %zu deleted%s", d->remote,
				ts_merge_result_name(stats.result), head, stats.rows_written, stats.rows_deleted,
				stats.conflicts + stats.constraint_conflicts ? ", conflicts for review" : "");
		/* a stop asked for during the pull: the push waits for the next start */
		if (stop_asked())
			return 0;
		error = ts_node_push(sent, &pushed, node, d->remote, &d->transfer);
		if (error == 0 && pushed.updated)
			say(d, LOG_INFO, "push %s: sent %.8s", d->remote, sent);
	}
	if (error == 0) {
		d->failures = 0;
		d->backoff = 1;
		changed(&d->last_refusal, NULL);
		ts_node_head(d->synced_head, node);
		d->next_sync = now_s() + d->interval;
		return 0;
	}
	/* the interval times 2, 4, 8 ... up to 16, and not past 15 minutes
	 * (unless the interval itself is longer) */
	d->failures++;
	if (d->backoff < BACKOFF_CAP && d->interval * d->backoff * 2 <= BACKOFF_CAP_S)
		d->backoff *= 2;
	wait = (double)d->interval * d->backoff;
	if ((d->link_down = link_failure(error)))
		say(d, LOG_WARNING, "link down: %s; next try in %.0f s", ts_error_last(), wait);
	else if (changed(&d->last_refusal, ts_error_last()))
		say(d, LOG_ERR, "refused: %s; next try in %.0f s (logged once)", ts_error_last(), wait);
	d->next_sync = now_s() + wait;
	/* the head as it stands: a commit made during an outage does not hurry the next try */
	ts_node_head(d->synced_head, node);
	return error;
}

/* Opens the node; a failure is logged once per message. */
static ts_node *open_node(daemon_state *d)
{
	ts_node *node = NULL;

	if (ts_node_open(&node, d->dir) < 0) {
		if (changed(&d->last_refusal, ts_error_last()))
			say(d, LOG_ERR, "cannot open the node: %s", ts_error_last());
		return NULL;
	}
	return node;
}

/* One look at the node, and a round when one is due. Returns the code of
 * what failed, or 0. */
static int look(daemon_state *d, int force)
{
	ts_node *node;
	char head[41];
	int error = 0, e;

	if (!(node = open_node(d)))
		return TS_ERROR;
	if (!stop_asked() && ts_node_tier(node) != TS_TIER_DEVICE &&
	    (e = merge_submissions(d, node)) < 0)
		error = e;
	if (!stop_asked() && d->upstream) {
		int due = force || now_s() >= d->next_sync;
		/* a commit made here since the last round: sync soon, not at the interval,
		 * unless the link is down (the backoff holds) */
		if (!due && d->failures == 0 && ts_node_head(head, node) == 0 && strcmp(head, d->synced_head))
			due = 1;
		if (due && (e = sync_upstream(d, node)) < 0)
			error = e;
	}
	ts_node_free(node);
	return error;
}

/* Takes NODE/daemon.lock for the life of the process; 1 with the PID of
 * the daemon holding it, when another does. */
static int take_lock(ts_cli *cli, const char *dir, int *fd_out)
{
	char *path = NULL, pid[32];
	ssize_t n;
	int fd, err;

	if (asprintf(&path, "%s/daemon.lock", dir) < 0)
		return ts_error_set(TS_ERROR, "out of memory"), ts_cli_fail(cli);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
		ts_error_set(TS_ERROR, "cannot open %s: %s", path, strerror(errno));
		free(path);
		return ts_cli_fail(cli);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		err = errno;
		n = read(fd, pid, sizeof(pid) - 1);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		if (err == EWOULDBLOCK)
			ts_error_set(TS_EDENIED, "a daemon already runs on this node (PID %s; it holds %s)",
				*pid ? pid : "unknown", path);
		else
			ts_error_set(TS_ERROR, "cannot lock %s: %s", path, strerror(err));
		close(fd);
		free(path);
		return ts_cli_fail(cli);
	}
	free(path);
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, strlen(pid), 0) != (ssize_t)strlen(pid)) {
		ts_error_set(TS_ERROR, "cannot write the daemon's PID to its lock file: %s", strerror(errno));
		close(fd);
		return ts_cli_fail(cli);
	}
	*fd_out = fd;
	return 0;
}

static int parse_interval(ts_cli *cli, const char *s, int *out)
{
	char *end;
	long n = strtol(s, &end, 10);

	if (!*s || *end || n < 1 || n > 86400)
		return ts_cli_usage(cli, "--interval takes whole seconds, 1 to 86400");
	*out = (int)n;
	return 0;
}

int cmd_daemon(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "remote", required_argument, NULL, 'r' },
		{ "author", required_argument, NULL, 'a' },
		{ "timeout", required_argument, NULL, 't' },
		{ "syslog", no_argument, NULL, 's' },
		{ "once", no_argument, NULL, 'o' },
		{ 0, 0, 0, 0 }
	};
	daemon_state d;
	struct sigaction sa;
	sigset_t stop_mask, open_mask;
	ts_node *node = NULL;
	const char *given_author = NULL;
	int c, help = 0, remote_given = 0, lock_fd = -1, error;

	memset(&d, 0, sizeof(d));
	d.dir = cli->dir;
	d.remote = TS_REMOTE_DEFAULT;
	d.interval = 60;
	d.backoff = 1;
	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'i': if (parse_interval(cli, optarg, &d.interval)) return 2; break;
		case 'r':
			if (!ts_node_remote_name_valid(optarg))
				return ts_cli_usage(cli, "--remote takes a remote's name, as 'tiersync remote list' shows it");
			d.remote = optarg;
			remote_given = 1;
			break;
		case 'a': given_author = optarg; break;
		case 't': if (ts_cli_timeout(cli, optarg, &d.transfer.timeout_ms)) return 2; break;
		case 's': d.use_syslog = 1; break;
		case 'o': d.once = 1; break;
		default: return 2;
		}
	}
	if (optind != argc)
		return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
	d.transfer.version = TS_TRANSFER_OPTIONS_VERSION;
	/* a connection that drops is an error to log, not a signal to die of;
	 * no progress line: the log has one line per event */
	signal(SIGPIPE, SIG_IGN);

	if (ts_node_open(&node, d.dir) < 0)
		return ts_cli_fail(cli);
	cli->node = node;
	snprintf(d.node_id, sizeof(d.node_id), "%s", ts_node_id(node));
	d.author = ts_cli_merge_author(cli, given_author);
	d.author = d.author ? strdup(d.author) : NULL;
	{
		remote_find f = { d.remote, 0 };
		ts_node_remote_list(node, has_remote_cb, &f);
		d.upstream = f.found;
	}
	cli->node = NULL;
	ts_node_free(node);
	if (remote_given && !d.upstream) {
		free((char *)d.author);
		ts_error_set(TS_ENOTFOUND, "no remote named '%s' in this node's config", d.remote);
		return ts_cli_fail_remote(cli, d.remote);
	}
	if (take_lock(cli, d.dir, &lock_fd)) {
		free((char *)d.author);
		return 1;
	}

	/* SIGTERM and SIGINT only set a flag; they are let in during sleeps alone */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&stop_mask);
	sigaddset(&stop_mask, SIGTERM);
	sigaddset(&stop_mask, SIGINT);
	sigprocmask(SIG_BLOCK, &stop_mask, &open_mask);
	sigdelset(&open_mask, SIGTERM);
	sigdelset(&open_mask, SIGINT);

	if (d.use_syslog)
		openlog("tiersync", LOG_PID, LOG_DAEMON);
	if (d.upstream)
		say(&d, LOG_INFO, "starting: sync with %s every %d s (PID %ld)", d.remote, d.interval, (long)getpid());
	else
		say(&d, LOG_INFO, "starting: no remote %s; merging submissions only (PID %ld)", d.remote,
			(long)getpid());
	error = look(&d, 1);
	while (!d.once && !stopping) {
		double next = now_s() + LOOK_MS / 1000.0;
		if (d.upstream && d.next_sync < next && d.next_sync > now_s())
			next = d.next_sync;
		sleep_until(next, &open_mask);
		if (stopping)
			break;
		look(&d, 0);
	}
	say(&d, LOG_INFO, "stopping");
	if (d.use_syslog)
		closelog();
	free(d.last_refusal);
	free(d.submissions_seen);
	free(d.failed_offers);
	free((char *)d.author);
	close(lock_fd);
	return d.once && error < 0 ? 1 : 0;
}
