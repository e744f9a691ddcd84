/*
 * Remotes: the parsing of remote URLs, and push and fetch. libgit2 speaks
 * the pack protocol: over its own local transport for a path, over ours
 * (ssh.c) for SSH. Trusting an SSH host key (ts_remote__trust()) connects
 * with ssh.c and writes with known_hosts.c.
 *
 * URLs
 *   /path, file:///path                 a repository on this machine
 *                                       (libgit2's local transport)
 *   ssh://[user@]host[:port]/path       a repository on an SSH host, where
 *                                       sshd runs git-upload-pack or
 *                                       git-receive-pack '<path>'; %XX in the
 *                                       path is decoded, /~/x means ~/x
 *
 * A transfer reports progress at most every 0.1 s, and turns a failed
 * libgit2 call into one line naming the remote, with what the remote or the
 * SSH transport found when they found something.
 */
#include "remote.h"

#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "exchange.h"
#include "known_hosts.h"
#include "quarantine.h"
#include "ssh.h"

/* How often, at most, a transfer reports progress. */
#define PROGRESS_INTERVAL 0.1

/* ------------------------------------------------------------------ URLs */

void ts_remote__url_dispose(ts_remote_url *url)
{
	if (!url)
		return;
	free(url->user);
	free(url->host);
	free(url->path);
	memset(url, 0, sizeof(*url));
}

static int parse_ssh(ts_remote_url *out, const char *url, const char *rest)
{
	const char *at, *slash, *hostend, *port = NULL;

	if (!(slash = strchr(rest, '/')) || !slash[1])
		return ts_error_set(TS_EINVALID, "invalid URL '%s': name the repository's path, "
			"ssh://[user@]host[:port]/path", url);
	at = memchr(rest, '@', (size_t)(slash - rest));
	if (at) {
		if (at == rest)
			return ts_error_set(TS_EINVALID, "invalid URL '%s': empty user name", url);
		if (memchr(rest, ':', (size_t)(at - rest)))
			return ts_error_set(TS_EINVALID, "invalid URL: a password in the URL is not supported; "
				"log in with a key (an identity file or ssh-agent)");
		if (!(out->user = strndup(rest, (size_t)(at - rest))))
			return ts_error_set(TS_ERROR, "out of memory");
		rest = at + 1;
	}
	if (*rest == '[') {                       /* [v6 address]:port */
		if (!(hostend = memchr(rest, ']', (size_t)(slash - rest))))
			return ts_error_set(TS_EINVALID, "invalid URL '%s': unclosed '['", url);
		out->host = strndup(rest + 1, (size_t)(hostend - rest - 1));
		hostend++;
		if (hostend < slash && *hostend != ':')
			return ts_error_set(TS_EINVALID, "invalid URL '%s': junk after ']'", url);
	} else {
		hostend = memchr(rest, ':', (size_t)(slash - rest));
		if (!hostend)
			hostend = slash;
		out->host = strndup(rest, (size_t)(hostend - rest));
	}
	if (!out->host)
		return ts_error_set(TS_ERROR, "out of memory");
	if (!*out->host)
		return ts_error_set(TS_EINVALID, "invalid URL '%s': no host", url);
	out->port = 22;
	if (hostend < slash && *hostend == ':')
		port = hostend + 1;
	if (port && port < slash) {
		long n = 0;
		const char *p;
		for (p = port; p < slash; p++) {
			if (*p < '0' || *p > '9' || (n = n * 10 + (*p - '0')) > 65535)
				return ts_error_set(TS_EINVALID, "invalid URL '%s': bad port", url);
		}
		if (n == 0)
			return ts_error_set(TS_EINVALID, "invalid URL '%s': bad port", url);
		out->port = (int)n;
	}
	if (!(out->path = strdup(slash)))
		return ts_error_set(TS_ERROR, "out of memory");
	out->ssh = 1;
	return 0;
}

int ts_remote__url_parse(ts_remote_url *out, const char *url)
{
	int error = 0;

	memset(out, 0, sizeof(*out));
	if (!url || !*url)
		return ts_error_set(TS_EINVALID, "empty remote URL");
	if (strchr(url, '\n') || strchr(url, '\r'))
		return ts_error_set(TS_EINVALID, "invalid URL: it holds a line break");
	if (!strncmp(url, "ssh://", 6))
		error = parse_ssh(out, url, url + 6);
	else if (!strncmp(url, "file://", 7)) {
		if (url[7] != '/')
			error = ts_error_set(TS_EINVALID, "invalid URL '%s': a file:// URL names an absolute "
				"path on this machine, file:///path", url);
		else if (!(out->path = strdup(url + 7)))
			error = ts_error_set(TS_ERROR, "out of memory");
	} else if (strstr(url, "://"))
		error = ts_error_set(TS_EINVALID, "unsupported URL '%s': use a path, file:// or ssh://", url);
	else if (!(out->path = strdup(url)))
		error = ts_error_set(TS_ERROR, "out of memory");
	if (error < 0)
		ts_remote__url_dispose(out);
	return error;
}

void ts_remote__url_known_name(char *out, size_t size, const ts_remote_url *url)
{
	if (url->port == 22)
		snprintf(out, size, "%s", url->host);
	else
		snprintf(out, size, "[%s]:%d", url->host, url->port);
}

/* ------------------------------------------------------------- transfers */

static const char *current_user(void)
{
	struct passwd *pw = getpwuid(geteuid());
	const char *env = getenv("USER");
	return pw && pw->pw_name ? pw->pw_name : env && *env ? env : NULL;
}

/* The state of one push or fetch, shared with libgit2's callbacks; its
 * `ssh` part is the SSH subtransport's. */
typedef struct {
	const ts_remote_options *opts;
	const char *name;           /* the remote, for messages */
	ts_remote_url url;
	char known_name[300];       /* the host as known_hosts names it */
	ts_buf remote_says;         /* what the remote printed (sideband) */
	char *refused;              /* a ref the remote refused, with why */
	ts_transfer_stats stats;
	double started, reported;
	int progress_shown;
	int up_to_date;             /* a push found the remote already there */
	ts_ssh_target ssh;          /* over SSH: where, how, and what failed below libgit2 */
} transfer;

/* -------------------------------------------------- transfer callbacks */

static void report(transfer *t, int done)
{
	double now = ts_ssh__now();

	if (!t->opts || !t->opts->progress)
		return;
	if (done) {
		if (!t->progress_shown)
			return;
	} else if (t->progress_shown && now - t->reported < PROGRESS_INTERVAL)
		return;
	t->stats.seconds = now - t->started;
	t->stats.done = done;
	t->reported = now;
	t->progress_shown = 1;
	t->opts->progress(&t->stats, t->opts->payload);
}

static int on_fetch_progress(const git_indexer_progress *p, void *payload)
{
	transfer *t = payload;
	t->stats.objects = p->received_objects;
	t->stats.total_objects = p->total_objects;
	t->stats.bytes = p->received_bytes;
	report(t, 0);
	return 0;
}

static int on_push_progress(unsigned int current, unsigned int total, size_t bytes, void *payload)
{
	transfer *t = payload;
	t->stats.objects = current;
	t->stats.total_objects = total;
	/* a push to a local path writes the pack itself, and libgit2's count of
	 * its bytes is meaningless there: say none rather than a wrong number */
	t->stats.bytes = t->url.ssh ? bytes : 0;
	report(t, 0);
	return 0;
}

static int on_sideband(const char *text, int len, void *payload)
{
	transfer *t = payload;
	if (len > 0 && t->remote_says.size < 4096)
		ts_buf__put(&t->remote_says, text, (size_t)len);
	return 0;
}

static int on_push_ref(const char *refname, const char *status, void *payload)
{
	transfer *t = payload;
	if (status && !t->refused) {
		ts_buf b = TS_BUF_INIT;
		ts_buf__printf(&b, "%s (%s)", refname, status);
		t->refused = ts_buf__detach(&b);
	}
	return 0;
}

static int on_push_negotiation(const git_push_update **updates, size_t n, void *payload)
{
	transfer *t = payload;
	size_t i;
	for (i = 0; i < n; i++)
		if (!git_oid_equal(&updates[i]->src, &updates[i]->dst))
			t->stats.updated = 1;
	/* nothing to change: stop here rather than send an empty pack (which
	 * a local push would leave in the remote as a file of its own) */
	t->up_to_date = !t->stats.updated;
	return t->up_to_date ? GIT_EUSER : 0;
}

/* libgit2's transport callback: its smart protocol over ssh.c's subtransport. */
static int ssh_transport(git_transport **out, git_remote *owner, void *payload)
{
	transfer *t = payload;
	return ts_ssh__transport(out, owner, &t->ssh);
}

static void set_callbacks(git_remote_callbacks *cb, transfer *t)
{
	cb->payload = t;
	cb->sideband_progress = on_sideband;
	cb->transfer_progress = on_fetch_progress;
	cb->push_transfer_progress = on_push_progress;
	cb->push_update_reference = on_push_ref;
	cb->push_negotiation = on_push_negotiation;
	if (t->url.ssh)
		cb->transport = ssh_transport;
}

static void transfer_end(transfer *t)
{
	ts_remote__url_dispose(&t->url);
	ts_buf__dispose(&t->remote_says);
	free(t->refused);
	t->refused = NULL;
}

/* Parses the URL and checks what can be checked before connecting. */
static int transfer_begin(transfer *t, const ts_remote_options *opts)
{
	struct stat st;
	int error;

	memset(t, 0, sizeof(*t));
	t->opts = opts;
	t->name = opts->name ? opts->name : opts->url;
	t->started = t->reported = ts_ssh__now();
	t->ssh.connect_timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : TS_REMOTE_TIMEOUT_MS;
	t->ssh.io_timeout_ms = opts->io_timeout_ms > 0 ? opts->io_timeout_ms : TS_REMOTE_IO_TIMEOUT_MS;
	if ((error = ts_remote__url_parse(&t->url, opts->url)) < 0)
		return ts_error_set(error, "remote %s: %s", t->name, ts_error_last());
	if (!t->url.ssh) {
		if (stat(t->url.path, &st) < 0 || !S_ISDIR(st.st_mode))
			return ts_error_set(TS_ENOTFOUND, "remote %s: no repository at %s (%s)", t->name,
				t->url.path, stat(t->url.path, &st) < 0 ? strerror(errno) : "not a directory");
		return 0;
	}
	if (!opts->known_hosts)
		return ts_error_set(TS_EINVALID, "remote %s: no known_hosts file to check the host key against", t->name);
	ts_remote__url_known_name(t->known_name, sizeof(t->known_name), &t->url);
	t->ssh.remote = t->name;
	t->ssh.host = t->url.host;
	t->ssh.port = t->url.port;
	t->ssh.path = t->url.path;
	t->ssh.known_name = t->known_name;
	t->ssh.known_hosts = opts->known_hosts;
	t->ssh.user = t->url.user ? t->url.user : current_user();
	t->ssh.identity = opts->identity;
	return 0;
}

/* The URL handed to libgit2: a local repository by its plain path. */
static const char *git_url(const transfer *t)
{
	return t->url.ssh ? t->opts->url : t->url.path;
}

/* The last line the remote printed on the sideband, or "". */
static void remote_last_line(char *out, size_t size, transfer *t)
{
	const char *s = t->remote_says.ptr, *end, *start;

	out[0] = '\0';
	if (!s)
		return;
	for (end = s + t->remote_says.size; end > s && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '); end--)
		;
	for (start = end; start > s && start[-1] != '\n' && start[-1] != '\r'; start--)
		;
	ts_ssh__one_line(out, size, start, (size_t)(end - start));
}

/* Converts a failed libgit2 call into one line naming the remote and the
 * cause: the subtransport's own finding when it made one. */
static int transfer_fail(transfer *t, int git_code, const char *doing)
{
	const git_error *e = git_error_last();
	const char *text = e && e->message ? e->message : "unknown error";
	char msg[700];
	int code = TS_ERROR;

	if (t->ssh.code)
		return ts_error_set(t->ssh.code, "%s", t->ssh.message);
	ts_ssh__one_line(msg, sizeof(msg), text, strlen(text));
	if (git_code == GIT_EAUTH || git_code == GIT_ECERTIFICATE)
		code = TS_EAUTH;
	else if (e && (e->klass == GIT_ERROR_NET || e->klass == GIT_ERROR_SSH || e->klass == GIT_ERROR_OS))
		code = TS_ENET;
	return ts_error_set(code, "remote %s: %s %s: %s", t->name, doing,
		t->url.ssh ? t->known_name : t->url.path, msg);
}

int ts_remote__push(ts_transfer_stats *stats, git_repository *repo, const char *refspec,
	const ts_remote_options *opts)
{
	git_push_options po;
	git_remote *remote = NULL;
	char *specs[1];
	git_strarray arr;
	transfer t;
	int error, rc;

	if (stats)
		memset(stats, 0, sizeof(*stats));
	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	specs[0] = (char *)refspec;
	arr.strings = specs;
	arr.count = 1;
	if ((error = transfer_begin(&t, opts)) < 0)
		goto done;
	if ((rc = git_remote_create_anonymous(&remote, repo, git_url(&t))) < 0) {
		error = transfer_fail(&t, rc, "setting up the transfer with");
		goto done;
	}
	set_callbacks(&po.callbacks, &t);
	po.pb_parallelism = 1;
	if ((rc = git_remote_push(remote, &arr, &po)) < 0 && !t.up_to_date) {
		error = transfer_fail(&t, rc, "pushing to");
		goto done;
	}
	if (t.refused) {
		char said[300];
		remote_last_line(said, sizeof(said), &t);
		error = ts_error_set(TS_EDENIED, "remote %s refused %s%s%s", t.name, t.refused,
			*said ? ": " : "", said);
		goto done;
	}
done:
	report(&t, 1);
	if (stats)
		*stats = t.stats;
	git_remote_free(remote);
	transfer_end(&t);
	return error;
}

int ts_remote__fetch(git_oid *id, ts_transfer_stats *stats, git_repository *repo,
	const char *src_ref, const char *dst_ref, const ts_remote_options *opts)
{
	git_fetch_options fo;
	git_remote *remote = NULL;
	const git_remote_head **heads = NULL;
	git_oid before, after;
	ts_buf spec = TS_BUF_INIT;
	char *specs[1];
	git_strarray arr;
	size_t n = 0, i;
	transfer t;
	int error, rc, had_before, found = 0;

	memset(id, 0, sizeof(*id));
	if (stats)
		memset(stats, 0, sizeof(*stats));
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	had_before = git_reference_name_to_id(&before, repo, dst_ref) == 0;
	ts_buf__printf(&spec, "+%s:%s", src_ref, dst_ref);
	if ((error = transfer_begin(&t, opts)) < 0)
		goto done;
	if (ts_buf__oom(&spec)) {
		error = TS_ERROR;
		goto done;
	}
	specs[0] = spec.ptr;
	arr.strings = specs;
	arr.count = 1;
	set_callbacks(&fo.callbacks, &t);
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo.update_fetchhead = 0;
	fo.prune = GIT_FETCH_NO_PRUNE;
	if ((rc = git_remote_create_anonymous(&remote, repo, git_url(&t))) < 0) {
		error = transfer_fail(&t, rc, "setting up the transfer with");
		goto done;
	}
	if ((rc = git_remote_connect(remote, GIT_DIRECTION_FETCH, &fo.callbacks, NULL, NULL)) < 0 ||
	    (rc = git_remote_ls(&heads, &n, remote)) < 0) {
		error = transfer_fail(&t, rc, "fetching from");
		goto done;
	}
	for (i = 0; i < n && !found; i++)
		if (!strcmp(heads[i]->name, src_ref)) {
			git_oid_cpy(id, &heads[i]->oid);
			found = 1;
		}
	if (!found) {
		error = ts_error_set(TS_ENOTFOUND, "remote %s has no %s (no history to fetch)", t.name, src_ref);
		goto done;
	}
	if ((rc = git_remote_download(remote, &arr, &fo)) < 0 ||
	    (rc = git_remote_update_tips(remote, &fo.callbacks, 0, GIT_REMOTE_DOWNLOAD_TAGS_NONE, "fetch")) < 0) {
		error = transfer_fail(&t, rc, "fetching from");
		goto done;
	}
	if (git_reference_name_to_id(&after, repo, dst_ref) < 0 || !git_oid_equal(&after, id)) {
		error = ts_error_set(TS_ERROR, "remote %s: fetched %s, but %s does not point at it",
			t.name, git_oid_tostr_s(id), dst_ref);
		goto done;
	}
	t.stats.updated = !had_before || !git_oid_equal(&before, &after);
done:
	if (remote)
		git_remote_disconnect(remote);
	report(&t, 1);
	if (stats)
		*stats = t.stats;
	git_remote_free(remote);
	ts_buf__dispose(&spec);
	transfer_end(&t);
	if (error < 0)
		memset(id, 0, sizeof(*id));
	return error;
}

/* ------------------------------------------------------- the exchange */

/*
 * The exchange with a remote (exchange.h): over SSH a channel to the
 * gate's tiersync-upload-changes or tiersync-receive-changes; for a
 * history on this machine, the serving side runs in a thread of this
 * process, joined to this one by a socket pair.
 */
typedef struct {
	transfer t;
	ts_ssh_channel *ch;
	int fd;                      /* local: our end of the socket pair */
	ts_exchange__io io;
	/* local: the serving thread and what it is given */
	int peer_fd;
	pthread_t thread;
	int thread_started;
	git_repository *served;      /* the history served */
	ts_store *upper;             /* a push: its store, locked by the caller */
	const char *dst_ref;
	ts_quarantine q;
	int served_error;
	char served_message[1024];
} exchange_conn;

static void served_keep(exchange_conn *c, int error)
{
	c->served_error = error;
	snprintf(c->served_message, sizeof(c->served_message), "%s",
		error < 0 && ts_error_last() ? ts_error_last() : "");
}

static void *serve_fetch_thread(void *arg)
{
	exchange_conn *c = arg;
	ts_exchange__io io = { ts_exchange__fd_read, ts_exchange__fd_write, &c->peer_fd, NULL, Z_BEST_SPEED };
	ts_exchange__ref main_ref;
	ts_changes__stats st;
	int error;

	memset(&main_ref, 0, sizeof(main_ref));
	snprintf(main_ref.name, sizeof(main_ref.name), "%s", TS_STORE_MAIN);
	error = git_reference_name_to_id(&main_ref.id, c->served, TS_STORE_MAIN) == 0 ?
		ts_exchange__serve_fetch(&st, c->served, &main_ref, 1, &io) :
		ts_exchange__serve_fetch(&st, c->served, NULL, 0, &io);
	served_keep(c, error);
	shutdown(c->peer_fd, SHUT_RDWR);
	return NULL;
}

static int local_check(const char *ref, void *payload)
{
	exchange_conn *c = payload;
	return strcmp(ref, c->dst_ref) ? ts_error_set(TS_EDENIED, "this push moves only %s", c->dst_ref) : 0;
}

static int local_accept(const ts_exchange__ref *updates, size_t n, void *payload)
{
	exchange_conn *c = payload;
	git_odb *odb = NULL;
	size_t i;
	int error;

	if ((error = ts_quarantine__move(&c->q, git_repository_path(c->served))) < 0 ||
	    (error = ts_store__sync(c->upper)) < 0)
		return error;
	if (git_repository_odb(&odb, ts_store__repo(c->upper)) < 0 || git_odb_refresh(odb) < 0)
		error = ts_store__git_error(TS_ERROR, "reading the pushed objects");
	git_odb_free(odb);
	for (i = 0; i < n && !error; i++)
		error = ts_store__ref_set(c->upper, updates[i].name, &updates[i].id, "push");
	return error;
}

static void *serve_push_thread(void *arg)
{
	exchange_conn *c = arg;
	ts_exchange__io io = { ts_exchange__fd_read, ts_exchange__fd_write, &c->peer_fd, NULL, Z_BEST_SPEED };
	ts_exchange__push_rules rules = { local_check, local_accept, c };
	ts_exchange__ref refs[2];
	ts_changes__stats st;
	ts_store *into = NULL;
	size_t n = 0;
	int error;

	memset(refs, 0, sizeof(refs));
	snprintf(refs[n].name, sizeof(refs[n].name), "%s", TS_STORE_MAIN);
	if (git_reference_name_to_id(&refs[n].id, c->served, TS_STORE_MAIN) == 0)
		n++;
	snprintf(refs[n].name, sizeof(refs[n].name), "%s", c->dst_ref);
	if (git_reference_name_to_id(&refs[n].id, c->served, c->dst_ref) == 0)
		n++;
	git_error_clear();
	if ((error = ts_quarantine__open(&c->q, c->served, NULL)) == 0 &&
	    (error = ts_store__open(&into, c->q.dir, 0)) == 0)
		error = ts_exchange__serve_push(&st, into, refs, n, &rules, &io);
	served_keep(c, error);
	ts_store__free(into);
	ts_quarantine__close(&c->q);
	shutdown(c->peer_fd, SHUT_RDWR);
	return NULL;
}

/*
 * Opens the exchange: `service` over SSH, or a thread running `serve` on
 * the history at the URL's path. 1 (nothing set up) when the SSH remote
 * does not speak the exchange: the caller uses git's protocol.
 */
static int exchange_open(exchange_conn *c, const ts_remote_options *opts, const char *service,
	void *(*serve)(void *), ts_store *upper, const char *dst_ref)
{
	int fds[2], error;

	memset(c, 0, sizeof(*c));
	c->fd = c->peer_fd = -1;
	c->q.lock_fd = -1;
	c->upper = upper;
	c->dst_ref = dst_ref;
	if ((error = transfer_begin(&c->t, opts)) < 0)
		return error;
	if (c->t.url.ssh) {
		if ((error = ts_ssh__channel_open(&c->ch, &c->t.ssh, service)) < 0)
			return error;
		c->io.read = ts_ssh__channel_read;
		c->io.write = ts_ssh__channel_write;
		c->io.payload = c->ch;
		c->io.level = TS_CHANGES_LEVEL;
		return 0;
	}
	if (dst_ref && !upper)
		return ts_error_set(TS_EINVALID, "remote %s: a push to a history on this machine needs its lock",
			c->t.name);
	if (git_repository_open_bare(&c->served, c->t.url.path) < 0)
		return ts_store__git_error(TS_ENOTFOUND, c->t.url.path);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
		return ts_error_set(TS_ERROR, "remote %s: %s", c->t.name, strerror(errno));
	c->fd = fds[0];
	c->peer_fd = fds[1];
	c->io.read = ts_exchange__fd_read;
	c->io.write = ts_exchange__fd_write;
	c->io.payload = &c->fd;
	c->io.level = Z_BEST_SPEED;   /* both ends are on this machine */
	if ((error = pthread_create(&c->thread, NULL, serve, c)) != 0)
		return ts_error_set(TS_ERROR, "remote %s: cannot start serving: %s", c->t.name, strerror(error));
	c->thread_started = 1;
	return 0;
}

/* Ends the exchange; `error` (the client's) as the caller returns it,
 * naming the remote, with what the other side said when it said why. */
static int exchange_close(exchange_conn *c, int error)
{
	char said[1100] = "";

	if (c->fd >= 0)
		shutdown(c->fd, SHUT_RDWR);
	if (c->thread_started)
		pthread_join(c->thread, NULL);
	if (error < 0 && c->ch)
		ts_ssh__channel_stderr(c->ch, said, sizeof(said));
	if (error == TS_ENET && !said[0] && c->served_error < 0 && c->served_message[0])
		snprintf(said, sizeof(said), "%s", c->served_message);
	if (error < 0) {
		char why[700];
		snprintf(why, sizeof(why), "%s", ts_error_last() ? ts_error_last() : "failed");
		if (error == TS_EDENIED)
			error = ts_error_set(error, "remote %s refused: %s", c->t.name, why);
		else if (said[0])
			error = ts_error_set(error, "remote %s: %s says: %s", c->t.name,
				c->t.url.ssh ? c->t.known_name : c->t.url.path, said);
		else if (strncmp(why, "remote ", 7))
			error = ts_error_set(error, "remote %s: %s", c->t.name, why);
	}
	ts_ssh__channel_close(c->ch);
	if (c->fd >= 0)
		close(c->fd);
	if (c->peer_fd >= 0)
		close(c->peer_fd);
	git_repository_free(c->served);
	transfer_end(&c->t);
	return error;
}

static void on_changes(const ts_changes__stats *st, void *payload)
{
	transfer *t = payload;
	ts_changes__transfer_stats(&t->stats, st);
	report(t, 0);
}

/*
 * Ends an exchange that ran (or failed to open) with `error`: what it
 * moved into the stats, reported; 1, the connection closed, when the SSH
 * remote does not speak the exchange (the caller uses git's protocol).
 */
static int exchange_finish(exchange_conn *c, const ts_changes__stats *st, int error, ts_transfer_stats *stats)
{
	ts_changes__transfer_stats(&c->t.stats, st);
	if (error == 1 && c->t.url.ssh) {
		exchange_close(c, 0);
		return 1;
	}
	if (error == 1)
		error = ts_error_set(TS_ERROR, "%s", ts_error_last());
	report(&c->t, 1);
	if (stats)
		*stats = c->t.stats;
	return exchange_close(c, error);
}

int ts_remote__fetch_changes(git_oid *id, ts_transfer_stats *stats, int *cut, ts_store *into,
	const char *src_ref, const git_oid *haves, size_t nhaves, const ts_remote_options *opts)
{
	exchange_conn c;
	ts_changes__stats st;
	int error;

	memset(id, 0, sizeof(*id));
	memset(&st, 0, sizeof(st));
	*cut = 0;
	if ((error = exchange_open(&c, opts, "tiersync-upload-changes", serve_fetch_thread, NULL, NULL)) == 0) {
		error = ts_exchange__fetch(id, &st, into, src_ref, haves, nhaves, &c.io, on_changes, &c.t);
		*cut = st.cut;
		if (st.cut)
			git_oid_cpy(id, &st.last);
		if (error == TS_ENOTFOUND)
			error = ts_error_set(TS_ENOTFOUND, "remote %s has no %s (no history to fetch)", c.t.name, src_ref);
	}
	return exchange_finish(&c, &st, error, stats);
}

int ts_remote__push_changes(ts_transfer_stats *stats, git_repository *repo, const git_oid *tip,
	const char *dst_ref, const git_oid *haves, size_t nhaves, ts_store *local_upper,
	const ts_remote_options *opts)
{
	exchange_conn c;
	ts_changes__stats st;
	int error, updated = 0;

	memset(&st, 0, sizeof(st));
	if (stats)
		memset(stats, 0, sizeof(*stats));
	if ((error = exchange_open(&c, opts, "tiersync-receive-changes", serve_push_thread, local_upper, dst_ref)) == 0) {
		error = ts_exchange__push(&st, &updated, repo, tip, dst_ref, haves, nhaves, &c.io, on_changes, &c.t);
		c.t.stats.updated = updated;
	}
	return exchange_finish(&c, &st, error, stats);
}

/* ----------------------------------------------------------------- trust */

int ts_remote__trust(ts_host_key *out, const ts_remote_options *opts, const char *expect, int replace)
{
	const char *name = opts->name ? opts->name : opts->url;
	int timeout = opts->timeout_ms > 0 ? opts->timeout_ms : TS_REMOTE_TIMEOUT_MS;
	ts_remote_url url;
	ts_ssh_target to;
	ts_server_key hk;
	ts_ssh_conn c;
	int error;

	memset(out, 0, sizeof(*out));
	memset(&to, 0, sizeof(to));
	memset(&c, 0, sizeof(c));
	c.fd = -1;
	git_libgit2_init();    /* libssh2 is initialised with libgit2 */
	if ((error = ts_remote__url_parse(&url, opts->url)) < 0) {
		error = ts_error_set(error, "remote %s: %s", name, ts_error_last());
		goto done;
	}
	if (!url.ssh) {
		error = ts_error_set(TS_EINVALID, "remote %s is a path on this machine (%s): there is no "
			"host key to trust", name, opts->url);
		goto done;
	}
	if (!opts->known_hosts) {
		error = ts_error_set(TS_EINVALID, "remote %s: no known_hosts file to record the key in", name);
		goto done;
	}
	ts_remote__url_known_name(out->host, sizeof(out->host), &url);
	to.remote = name;
	to.host = url.host;
	to.port = url.port;
	to.path = url.path;
	to.known_name = out->host;
	to.known_hosts = opts->known_hosts;
	to.connect_timeout_ms = to.io_timeout_ms = timeout;
	if ((error = ts_ssh__open(&c, &to)) < 0 ||
	    (error = ts_ssh__host_key(&hk, &c, out->host)) < 0)
		goto done;
	snprintf(out->fingerprint, sizeof(out->fingerprint), "%s", hk.print);
	snprintf(out->type, sizeof(out->type), "%s", hk.kind->name);
	if (expect && strcmp(expect, hk.print)) {
		error = ts_error_set(TS_EAUTH, "remote %s: the host key of %s is %s %s, not the expected %s; "
			"not trusted", name, out->host, hk.kind->name, hk.print, expect);
		goto done;
	}
	error = ts_known_hosts__record(&out->status, opts->known_hosts, name, out->host, &hk, replace);
done:
	ts_ssh__close(&c);    /* after the last use of the key it owns */
	ts_remote__url_dispose(&url);
	git_libgit2_shutdown();
	return error;
}
