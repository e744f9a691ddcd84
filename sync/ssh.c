/*
 * The SSH transport: libgit2 speaks the pack protocol, and for SSH it runs
 * over a smart subtransport of ours on a libssh2 session we drive
 * ourselves, so that the connection, the handshake and every read and
 * write are bounded by timeouts, and the host key is checked (known_hosts.c)
 * before any credential is offered.
 *
 * Authentication
 *   The identity file (KEYFILE, with KEYFILE.pub when present), else the
 *   keys of ssh-agent ($SSH_AUTH_SOCK). The user is the one remote.c
 *   gives: the URL's, else the current user. A refused key ends the attempt.
 *
 * Timeouts
 *   The TCP connect and the SSH handshake are bounded by the connect timeout
 *   (default 10 s); once connected, each read or write that makes no
 *   progress for the I/O timeout (default 60 s) fails the transfer, and a
 *   keepalive goes out every 15 s so that idle links stay open. What the
 *   other end writes to stderr before it closes (git's "fatal: ..." or the
 *   gate's refusal) becomes the error message.
 */
#include "ssh.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

/* Seconds between SSH keepalives on an open connection. */
#define KEEPALIVE_SECONDS 15

/* ------------------------------------------------------------ connecting */

double ts_ssh__now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits for a non-blocking connect until `deadline`; 0 when connected,
 * else the errno (ETIMEDOUT when the deadline passed). */
static int connect_wait(int fd, double deadline)
{
	struct pollfd p = { fd, POLLOUT, 0 };
	socklen_t len = sizeof(int);
	int n, soerr = 0;

	for (;;) {
		double left = deadline - ts_ssh__now();
		if (left <= 0)
			return ETIMEDOUT;
		n = poll(&p, 1, (int)(left * 1000) + 1);
		if (n > 0)
			break;
		if (n == 0)
			return ETIMEDOUT;
		if (errno != EINTR)
			return errno;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return errno;
	return soerr;
}

/* A blocking TCP connection to `host` and `port`, bounded by `timeout_ms`
 * across all of the host's addresses. */
static int tcp_connect(int *out, const char *remote, const char *host, int port, int timeout_ms)
{
	struct addrinfo hints, *found = NULL, *ai;
	double deadline = ts_ssh__now() + timeout_ms / 1000.0;
	char service[16];
	int fd = -1, why = 0, rc, flags;

	*out = -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(service, sizeof(service), "%d", port);
	if ((rc = getaddrinfo(host, service, &hints, &found)) != 0)
		return ts_error_set(TS_ENET, "remote %s: cannot resolve host %s: %s", remote, host,
			gai_strerror(rc));
	for (ai = found; ai; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol)) < 0) {
			why = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		why = errno == EINPROGRESS ? connect_wait(fd, deadline) : errno;
		if (why == 0)
			break;
		close(fd);
		fd = -1;
		if (why == ETIMEDOUT)
			break;
	}
	freeaddrinfo(found);
	if (fd < 0) {
		if (why == ETIMEDOUT)
			return ts_error_set(TS_ENET, "remote %s: cannot connect to %s port %d: no answer within %d s",
				remote, host, port, (timeout_ms + 999) / 1000);
		return ts_error_set(TS_ENET, "remote %s: cannot connect to %s port %d: %s", remote,
			host, port, strerror(why));
	}
	if ((flags = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
		close(fd);
		return ts_error_set(TS_ENET, "remote %s: socket: %s", remote, strerror(errno));
	}
	*out = fd;
	return 0;
}

void ts_ssh__one_line(char *out, size_t size, const char *text, size_t len)
{
	size_t n = 0, i;
	int pending = 0;

	for (i = 0; i < len && text[i] && n + 3 < size; i++) {
		if (text[i] == '\n' || text[i] == '\r') {
			pending = n > 0;
			continue;
		}
		if (pending) {
			out[n++] = ';';
			out[n++] = ' ';
			pending = 0;
		}
		out[n++] = text[i];
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

/* ---------------------------------------------------------- SSH sessions */

void ts_ssh__close(ts_ssh_conn *c)
{
	if (c->session) {
		if (c->established)
			libssh2_session_disconnect(c->session, "tiersync: done");
		libssh2_session_free(c->session);
	}
	if (c->fd >= 0)
		close(c->fd);
	c->session = NULL;
	c->fd = -1;
	c->established = 0;
}

/* Turns the session's last libssh2 error into a one-line ts error. */
static int ssh_fail(ts_ssh_conn *c, int code, const char *doing, int timeout_ms)
{
	char *msg = NULL;
	int rc = libssh2_session_last_error(c->session, &msg, NULL, 0);

	if (rc == LIBSSH2_ERROR_TIMEOUT)
		return ts_error_set(TS_ENET, "remote %s: %s %s port %d: no answer within %d s", c->remote,
			doing, c->host, c->port, (timeout_ms + 999) / 1000);
	return ts_error_set(code, "remote %s: %s %s port %d failed: %s", c->remote, doing, c->host,
		c->port, msg && *msg ? msg : "the connection closed");
}

int ts_ssh__open(ts_ssh_conn *c, const ts_ssh_target *to)
{
	int connect_ms = to->connect_timeout_ms, io_ms = to->io_timeout_ms;
	int error;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->remote = to->remote;
	c->host = to->host;
	c->port = to->port;
	c->path = to->path;
	c->io_timeout_ms = io_ms;
	if ((error = tcp_connect(&c->fd, c->remote, c->host, c->port, connect_ms)) < 0)
		return error;
	if (!(c->session = libssh2_session_init())) {
		ts_ssh__close(c);
		return ts_error_set(TS_ERROR, "out of memory (libssh2)");
	}
	libssh2_session_set_blocking(c->session, 1);
	libssh2_session_set_timeout(c->session, connect_ms);
	if (libssh2_session_handshake(c->session, c->fd) != 0) {
		error = ssh_fail(c, TS_ENET, "SSH handshake with", connect_ms);
		ts_ssh__close(c);
		return error;
	}
	c->established = 1;
	libssh2_session_set_timeout(c->session, io_ms);
	libssh2_keepalive_config(c->session, 0, KEEPALIVE_SECONDS);
	return 0;
}

int ts_ssh__host_key(ts_server_key *out, ts_ssh_conn *c, const char *name)
{
	const char *hash;
	int type = 0;

	memset(out, 0, sizeof(*out));
	if (!(out->key = libssh2_session_hostkey(c->session, &out->len, &type)) ||
	    !(hash = libssh2_hostkey_hash(c->session, LIBSSH2_HOSTKEY_HASH_SHA256)))
		return ts_error_set(TS_EAUTH, "remote %s: the host %s sent no host key", c->remote, name);
	ts_known_hosts__fingerprint(out->print, (const unsigned char *)hash);
	if (!(out->kind = ts_known_hosts__kind(type)))
		return ts_error_set(TS_EAUTH, "remote %s: the host %s has a host key of an unsupported type (%s)",
			c->remote, name, out->print);
	return 0;
}

/* Refuses the connection unless known_hosts lists the server's key under
 * `name`. */
static int ssh_check_host(ts_ssh_conn *c, const char *name, const char *known_hosts_path)
{
	ts_server_key hk;
	int error;

	if ((error = ts_ssh__host_key(&hk, c, name)) < 0)
		return error;
	return ts_known_hosts__check(known_hosts_path, c->remote, name, &hk);
}

static int auth_with_agent(ts_ssh_conn *c, const char *user, const char *where)
{
	LIBSSH2_AGENT *agent = NULL;
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	const char *sock = getenv("SSH_AUTH_SOCK");
	int error = 0, offered = 0, rc;

	if (!sock || !*sock)
		return ts_error_set(TS_EAUTH, "remote %s: no key to offer: the remote names no identity file "
			"and no ssh-agent is running (SSH_AUTH_SOCK is not set)", c->remote);
	if (!(agent = libssh2_agent_init(c->session)))
		return ts_error_set(TS_ERROR, "out of memory (libssh2)");
	if (libssh2_agent_connect(agent) != 0 || libssh2_agent_list_identities(agent) != 0) {
		error = ts_error_set(TS_EAUTH, "remote %s: cannot ask ssh-agent (%s) for keys", c->remote, sock);
		goto done;
	}
	error = TS_EAUTH;
	while ((rc = libssh2_agent_get_identity(agent, &id, prev)) == 0) {
		offered++;
		if (libssh2_agent_userauth(agent, user, id) == 0) {
			error = 0;
			break;
		}
		prev = id;
	}
	if (error < 0)
		error = ts_error_set(TS_EAUTH, offered ? "remote %s: the upper node refused every key ssh-agent "
			"offered for user %s at %s" : "remote %s: ssh-agent holds no key to offer for user %s at %s",
			c->remote, user, where);
done:
	libssh2_agent_disconnect(agent);
	libssh2_agent_free(agent);
	return error;
}

/* Logs in as `user` with the identity file, or with ssh-agent's keys. */
static int ssh_auth(ts_ssh_conn *c, const char *user, const char *identity, const char *where)
{
	ts_buf pub = TS_BUF_INIT;
	const char *methods;
	int rc, error = 0;

	if (!user)
		return ts_error_set(TS_EAUTH, "remote %s: no user name: name one in the URL, "
			"ssh://USER@host/path", c->remote);
	methods = libssh2_userauth_list(c->session, user, (unsigned)strlen(user));
	if (!methods) {
		if (libssh2_userauth_authenticated(c->session))
			return 0;       /* the server asked for nothing */
		return ssh_fail(c, TS_ENET, "asking how to log in at", c->io_timeout_ms);
	}
	if (!strstr(methods, "publickey"))
		return ts_error_set(TS_EAUTH, "remote %s: the upper node at %s accepts no key authentication "
			"for user %s (only %s)", c->remote, where, user, methods);
	if (!identity)
		return auth_with_agent(c, user, where);
	if (access(identity, R_OK) < 0)
		return ts_error_set(TS_EAUTH, "remote %s: cannot read this node's key %s: %s", c->remote,
			identity, strerror(errno));
	ts_buf__printf(&pub, "%s.pub", identity);
	if (ts_buf__oom(&pub))
		return TS_ERROR;
	rc = libssh2_userauth_publickey_fromfile_ex(c->session, user, (unsigned)strlen(user),
		access(pub.ptr, R_OK) == 0 ? pub.ptr : NULL, identity, NULL);
	if (rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED || rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED)
		error = ts_error_set(TS_EAUTH, "remote %s: the upper node refused this node's key (%s) for "
			"user %s at %s; its public key must be in that user's authorized_keys there",
			c->remote, identity, user, where);
	else if (rc == LIBSSH2_ERROR_FILE)
		error = ts_error_set(TS_EAUTH, "remote %s: cannot use this node's key %s (a passphrase-protected "
			"key needs ssh-agent)", c->remote, identity);
	else if (rc != 0)
		error = ssh_fail(c, TS_EAUTH, "logging in at", c->io_timeout_ms);
	ts_buf__dispose(&pub);
	return error;
}

/* Starts `service` (git-upload-pack, git-receive-pack) on the repository
 * at the URL's path: quoted for the remote shell, %XX decoded, and a
 * leading "/~" read as the home directory, as git does. */
static int ssh_exec(LIBSSH2_CHANNEL **out, ts_ssh_conn *c, const char *service)
{
	const char *p = c->path;
	ts_buf cmd = TS_BUF_INIT;
	int error = 0;

	*out = NULL;
	if (p[0] == '/' && p[1] == '~')
		p++;
	ts_buf__printf(&cmd, "%s '", service);
	for (; *p; p++) {
		char c1 = p[0];
		if (c1 == '%' && p[1] && p[2] && strchr("0123456789abcdefABCDEF", p[1]) &&
		    strchr("0123456789abcdefABCDEF", p[2])) {
			char hex[3] = { p[1], p[2], '\0' };
			c1 = (char)strtol(hex, NULL, 16);
			p += 2;
		}
		if (c1 == '\0' || c1 == '\n') {
			ts_buf__dispose(&cmd);
			return ts_error_set(TS_EINVALID, "remote %s: the URL's path holds a NUL or a line break",
				c->remote);
		}
		if (c1 == '\'')
			ts_buf__puts(&cmd, "'\\''");
		else
			ts_buf__putc(&cmd, c1);
	}
	ts_buf__putc(&cmd, '\'');
	if (ts_buf__oom(&cmd))
		return TS_ERROR;
	if (!(*out = libssh2_channel_open_session(c->session)))
		error = ssh_fail(c, TS_ENET, "opening a channel to", c->io_timeout_ms);
	else if (libssh2_channel_exec(*out, cmd.ptr) != 0) {
		error = ssh_fail(c, TS_ENET, "starting git at", c->io_timeout_ms);
		libssh2_channel_free(*out);
		*out = NULL;
	}
	ts_buf__dispose(&cmd);
	return error;
}

/* ---------------------------------------------------- SSH subtransport */

/* Keeps the ts error just set as the transfer's cause (the first one
 * wins), and hands libgit2 the same text; returns -1 for libgit2. */
static int transfer_keep(ts_ssh_target *t, int code)
{
	const char *msg = ts_error_last();
	if (!t->code) {
		t->code = code < 0 ? code : TS_ERROR;
		snprintf(t->message, sizeof(t->message), "%s", msg ? msg : "failed");
	}
	git_error_set_str(GIT_ERROR_SSH, t->message);
	return -1;
}

typedef struct ssh_sub ssh_sub;

/* One running git-upload-pack or git-receive-pack; owns its connection. */
typedef struct {
	git_smart_subtransport_stream parent;
	ssh_sub *owner;
	ts_ssh_conn conn;
	LIBSSH2_CHANNEL *channel;
} ssh_stream;

struct ssh_sub {
	git_smart_subtransport parent;
	ts_ssh_target *t;
	ssh_stream *current;
};

/* A read or write that failed: why, in the transfer's words. */
static int stream_fail(ssh_stream *s, const char *doing)
{
	ts_ssh_target *t = s->owner->t;
	return transfer_keep(t, ssh_fail(&s->conn, TS_ENET, doing, t->io_timeout_ms));
}

static int stream_read(git_smart_subtransport_stream *stream, char *buffer, size_t size, size_t *bytes_read)
{
	ssh_stream *s = (ssh_stream *)stream;
	ts_ssh_target *t = s->owner->t;
	char err[1024], line[700];
	ssize_t rc;
	int next;

	*bytes_read = 0;
	libssh2_keepalive_send(s->conn.session, &next);
	if ((rc = libssh2_channel_read(s->channel, buffer, size)) < 0)
		return stream_fail(s, "reading from");
	if (rc == 0) {
		/* the other end closed while git still expected more: what it
		 * wrote to stderr says why ("fatal: ...", the gate's refusal) */
		ssize_t n = libssh2_channel_read_stderr(s->channel, err, sizeof(err));
		if (n > 0) {
			ts_ssh__one_line(line, sizeof(line), err, (size_t)n);
			return transfer_keep(t, ts_error_set(strstr(line, "does not appear to be a git repository") ?
				TS_ENOTFOUND : TS_ENET, "remote %s: %s says: %s", t->remote, t->known_name, line));
		}
	}
	*bytes_read = (size_t)rc;
	return 0;
}

/* Writes all `len` bytes to `channel`; < 0 (libssh2's error) on failure. */
static int write_all(ts_ssh_conn *conn, LIBSSH2_CHANNEL *channel, const char *data, size_t len)
{
	size_t done = 0;
	int next;

	libssh2_keepalive_send(conn->session, &next);
	while (done < len) {
		ssize_t rc = libssh2_channel_write(channel, data + done, len - done);
		if (rc < 0)
			return -1;
		done += (size_t)rc;
	}
	return 0;
}

static int stream_write(git_smart_subtransport_stream *stream, const char *buffer, size_t len)
{
	ssh_stream *s = (ssh_stream *)stream;
	return write_all(&s->conn, s->channel, buffer, len) < 0 ? stream_fail(s, "writing to") : 0;
}

static void stream_free(git_smart_subtransport_stream *stream)
{
	ssh_stream *s = (ssh_stream *)stream;

	if (!s)
		return;
	if (s->owner && s->owner->current == s)
		s->owner->current = NULL;
	if (s->channel) {
		libssh2_channel_close(s->channel);
		libssh2_channel_free(s->channel);
	}
	ts_ssh__close(&s->conn);
	free(s);
}

/* Connects `conn`, checks the host key, logs in and starts `service` on `*channel`. */
static int connect_exec(ts_ssh_conn *conn, LIBSSH2_CHANNEL **channel, ts_ssh_target *t, const char *service)
{
	int error;

	conn->fd = -1;
	if ((error = ts_ssh__open(conn, t)) < 0 ||
	    (error = ssh_check_host(conn, t->known_name, t->known_hosts)) < 0 ||
	    (error = ssh_auth(conn, t->user, t->identity, t->known_name)) < 0)
		return error;
	return ssh_exec(channel, conn, service);
}

/* Connects, checks the host key, logs in and starts `service`. */
static int stream_open(git_smart_subtransport_stream **out, ssh_sub *sub, const char *service)
{
	ts_ssh_target *t = sub->t;
	ssh_stream *s;
	int error;

	*out = NULL;
	if (sub->current) {
		git_error_set_str(GIT_ERROR_NET, "tiersync: an SSH stream is already open");
		return -1;
	}
	if (!(s = calloc(1, sizeof(*s))))
		return transfer_keep(t, ts_error_set(TS_ERROR, "out of memory"));
	s->parent.subtransport = &sub->parent;
	s->parent.read = stream_read;
	s->parent.write = stream_write;
	s->parent.free = stream_free;
	s->owner = sub;
	if ((error = connect_exec(&s->conn, &s->channel, t, service)) < 0) {
		stream_free(&s->parent);
		return transfer_keep(t, error);
	}
	sub->current = s;
	*out = &s->parent;
	return 0;
}

static int sub_action(git_smart_subtransport_stream **out, git_smart_subtransport *subtransport,
	const char *url, git_smart_service_t action)
{
	ssh_sub *sub = (ssh_sub *)subtransport;

	(void)url;    /* the transfer parsed it already */
	switch (action) {
	case GIT_SERVICE_UPLOADPACK_LS:
		return stream_open(out, sub, "git-upload-pack");
	case GIT_SERVICE_RECEIVEPACK_LS:
		return stream_open(out, sub, "git-receive-pack");
	case GIT_SERVICE_UPLOADPACK:
	case GIT_SERVICE_RECEIVEPACK:
		/* the second step of a conversation goes on the first's stream */
		if (sub->current) {
			*out = &sub->current->parent;
			return 0;
		}
		break;
	}
	*out = NULL;
	git_error_set_str(GIT_ERROR_NET, "tiersync: no SSH stream open");
	return -1;
}

static int sub_close(git_smart_subtransport *subtransport)
{
	(void)subtransport;    /* libgit2 frees the stream itself */
	return 0;
}

static void sub_free(git_smart_subtransport *subtransport)
{
	free(subtransport);
}

static int sub_new(git_smart_subtransport **out, git_transport *owner, void *param)
{
	ssh_sub *sub;

	(void)owner;
	*out = NULL;
	if (!(sub = calloc(1, sizeof(*sub)))) {
		git_error_set_oom();
		return -1;
	}
	sub->t = param;
	sub->parent.action = sub_action;
	sub->parent.close = sub_close;
	sub->parent.free = sub_free;
	*out = &sub->parent;
	return 0;
}

int ts_ssh__transport(git_transport **out, git_remote *owner, ts_ssh_target *t)
{
	t->definition.callback = sub_new;
	t->definition.rpc = 0;        /* one stream carries the conversation */
	t->definition.param = t;
	return git_transport_smart(out, owner, &t->definition);
}

/* ---------------------------------------------------- a plain channel */

struct ts_ssh_channel {
	ts_ssh_target *t;
	ts_ssh_conn conn;
	LIBSSH2_CHANNEL *channel;
};

int ts_ssh__channel_open(ts_ssh_channel **out, ts_ssh_target *t, const char *service)
{
	ts_ssh_channel *ch;
	int error;

	*out = NULL;
	if (!(ch = calloc(1, sizeof(*ch))))
		return ts_error_set(TS_ERROR, "out of memory");
	ch->t = t;
	if ((error = connect_exec(&ch->conn, &ch->channel, t, service)) < 0) {
		ts_ssh__channel_close(ch);
		return error;
	}
	*out = ch;
	return 0;
}

int ts_ssh__channel_read(void *data, size_t size, size_t *got, void *payload)
{
	ts_ssh_channel *ch = payload;
	ssize_t rc;
	int next;

	*got = 0;
	libssh2_keepalive_send(ch->conn.session, &next);
	if ((rc = libssh2_channel_read(ch->channel, data, size)) < 0)
		return ssh_fail(&ch->conn, TS_ENET, "reading from", ch->t->io_timeout_ms);
	*got = (size_t)rc;
	return 0;
}

int ts_ssh__channel_write(const void *data, size_t len, void *payload)
{
	ts_ssh_channel *ch = payload;
	return write_all(&ch->conn, ch->channel, data, len) < 0 ?
		ssh_fail(&ch->conn, TS_ENET, "writing to", ch->t->io_timeout_ms) : 0;
}

void ts_ssh__channel_stderr(ts_ssh_channel *ch, char *out, size_t size)
{
	char err[1024];
	ssize_t n;

	out[0] = '\0';
	if (ch && ch->channel && (n = libssh2_channel_read_stderr(ch->channel, err, sizeof(err))) > 0)
		ts_ssh__one_line(out, size, err, (size_t)n);
}

void ts_ssh__channel_close(ts_ssh_channel *ch)
{
	if (!ch)
		return;
	if (ch->channel) {
		libssh2_channel_close(ch->channel);
		libssh2_channel_free(ch->channel);
	}
	ts_ssh__close(&ch->conn);
	free(ch);
}
